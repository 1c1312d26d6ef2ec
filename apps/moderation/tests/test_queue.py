"""The staff moderation queue (issue 7, an addition to API.md section 8): GET queue/ads/ lists
held ads (pending with a moderation_reason) with their open report counts; approve, reject
and hide go through the ad lifecycle and write the audit log. An ad held for `reported` has
its open reports settled by the decision: dismissed on approve, resolved on reject and hide."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.ads.api.serializers import AdOutput
from apps.ads.models import Ad, AdStatus
from apps.ads.tests.factories import add_photo
from apps.common.models import AuditEntry
from apps.moderation.models import Report, ReportStatus
from apps.moderation.tests.helpers import (
    MY_ADS,
    PAGE_KEYS,
    PUBLIC_PROFILE_KEYS,
    QUEUE,
    REPORTS,
    ad_url,
    nothing_changes,
    public_ids,
    queue_action_url,
    reload,
)
from apps.users import services as user_services
from apps.users.models import User
from conftest import error_codes

pytestmark = pytest.mark.django_db

AD_KEYS = set(AdOutput().fields)  # the ad shape, whatever the ads app adds to it
QUEUE_ITEM_KEYS = AD_KEYS | {"open_reports_count"}
ACTIONS = ["approve", "reject", "hide"]


@pytest.fixture
def staff_client(moderator: User, client_for: Any) -> Any:
    return client_for(moderator)


@pytest.fixture
def held(ad_in: Any, seller: User) -> Any:
    """held(reason, owner=seller, minutes_ago=0, **fields): a pending ad held for `reason`,
    held `minutes_ago` minutes ago (its updated_at)."""

    def make(reason: str, owner: User | None = None, minutes_ago: float = 0,
             **fields: Any) -> Ad:
        return ad_in("pending", owner or seller, moderation_reason=reason,
                     updated_at=timezone.now() - timedelta(minutes=minutes_ago), **fields)

    return make


def report(client: Any, ad: Ad, reason: str = "scam") -> dict[str, Any]:
    response = client.post(REPORTS, {"target_type": "ad", "target_id": str(ad.pk),
                                     "reason": reason})
    assert response.status_code == 201, response.json()
    return dict(response.json())


@pytest.fixture
def reported(make_user: Any, client_for: Any, active_ad: Any, seller: User) -> Any:
    """reported(ad=None, reporters=3): an active ad reported by that many distinct users (3,
    the default REPORT_HIDE_THRESHOLD, holds it `reported`); returns (ad, report ids)."""

    def make(ad: Ad | None = None, reporters: int = 3) -> tuple[Ad, list[int]]:
        ad = ad or active_ad(seller, title="iPhone 13 128GB, box and receipt")
        ids = [report(client_for(make_user()), ad)["id"] for _ in range(reporters)]
        return reload(ad), ids

    return make


def queue_ids(client: Any, **params: Any) -> list[str]:
    response = client.get(QUEUE, params)
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def act(client: Any, ad: Any, action: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(queue_action_url(ad.pk, action), body or {})


def actions_on(ad: Ad) -> list[str]:
    return list(AuditEntry.objects.filter(target_type="ads.ad", target_id=str(ad.pk))
                .order_by("id").values_list("action", flat=True))


# --- who may use it ---------------------------------------------------------------------------


def test_anonymous_is_401_and_a_user_403_everywhere(api, auth_client, held):
    ad = held("contact_details")

    with nothing_changes():
        assert api.get(QUEUE).status_code == 401
        assert auth_client.get(QUEUE).status_code == 403
        for action in ACTIONS:
            assert act(api, ad, action).status_code == 401
            response = act(auth_client, ad, action)
            assert response.status_code == 403
            assert error_codes(response) == [("permission_denied", None)]


def test_the_owner_cannot_approve_their_own_held_ad(client_for, seller, held):
    ad = held("contact_details")

    with nothing_changes():
        assert act(client_for(seller), ad, "approve").status_code == 403


# --- GET queue/ads/ ---------------------------------------------------------------------------


def test_lists_held_ads_most_recently_held_first_in_the_full_ad_shape(
        staff_client, held, ad_in, active_ad, seller, stranger):
    oldest = held("banned_word", minutes_ago=30)
    newest = held("contact_details", owner=stranger, minutes_ago=1)
    middle = held("price_out_of_range", minutes_ago=10)
    # Not held: checks still running, live, decided, deleted.
    ad_in("pending", seller)
    active_ad(seller)
    ad_in("rejected", seller, moderation_reason="contact_details")
    ad_in("hidden", seller, moderation_reason="staff")
    held("contact_details", deleted=True)

    response = staff_client.get(QUEUE)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [str(newest.pk), str(middle.pk),
                                                        str(oldest.pk)]
    first = body["results"][0]
    assert set(first) == QUEUE_ITEM_KEYS
    assert (first["status"], first["moderation_reason"]) == ("pending", "contact_details")
    assert first["open_reports_count"] == 0
    assert set(first["owner"]) == PUBLIC_PROFILE_KEYS
    assert first["owner"]["id"] == str(stranger.pk)
    assert first["title"] == newest.title
    assert first["category"]["id"] == newest.category_id


@pytest.mark.parametrize("reason", ["contact_details", "banned_word", "duplicate",
                                    "price_out_of_range", "reported", "staff"])
def test_the_reason_filter(staff_client, held, reason):
    ads = {r: held(r) for r in ["contact_details", "banned_word", "duplicate",
                                "price_out_of_range", "reported", "staff"]}

    assert queue_ids(staff_client, reason=reason) == [str(ads[reason].pk)]


@pytest.mark.parametrize("value", ["nope", "", "CONTACT_DETAILS", "active"])
def test_a_bad_reason_is_400_on_that_parameter(staff_client, value):
    response = staff_client.get(QUEUE, {"reason": value})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "reason")]


def test_open_report_counts(staff_client, reported, held, make_user, client_for,
                            moderator):
    by_reports, _ = reported(reporters=3)
    assert by_reports.moderation_reason == "reported"
    # An ad held for contact details that also has one open and one closed report.
    other = held("contact_details")
    Report.objects.create(reporter=make_user(), target_type="ad", target_id=str(other.pk),
                          reason="spam")
    Report.objects.create(reporter=make_user(), target_type="ad", target_id=str(other.pk),
                          reason="spam", status=ReportStatus.DISMISSED)
    # Reports on the owner (a user target) do not count towards the ad.
    Report.objects.create(reporter=make_user(), target_type="user",
                          target_id=str(other.owner_id), reason="scam")

    results = staff_client.get(QUEUE).json()["results"]

    counts = {item["id"]: item["open_reports_count"] for item in results}
    assert counts == {str(by_reports.pk): 3, str(other.pk): 1}


def test_the_queue_pages(staff_client, held):
    ads = [held("contact_details", minutes_ago=n) for n in range(3)]

    first = staff_client.get(QUEUE, {"page_size": 2}).json()

    assert (first["count"], len(first["results"])) == (3, 2)
    assert first["next"].startswith("http://testserver/api/moderation/queue/ads/")
    second = staff_client.get(first["next"]).json()
    assert [item["id"] for item in second["results"]] == [str(ads[2].pk)]
    assert staff_client.get(QUEUE, {"page": 9}).status_code == 404


# Observed once and pinned: user, count, page, images, favourites, open reports.
QUEUE_QUERIES = 6


@pytest.mark.parametrize("page_size", [1, 20])
def test_a_page_costs_a_fixed_number_of_queries(staff_client, held, make_user, client_for,
                                                django_assert_num_queries, settings,
                                                tmp_path: Path, page_size):
    settings.MEDIA_ROOT = tmp_path / "media"
    owners = [make_user() for _ in range(4)]
    for n in range(25):
        ad = held(["contact_details", "banned_word", "reported"][n % 3], owner=owners[n % 4],
                  minutes_ago=n)
        if n % 2:
            add_photo(ad)
            add_photo(ad)
        for _ in range(n % 3):
            Report.objects.create(reporter=make_user(), target_type="ad", target_id=str(ad.pk),
                                  reason="spam")

    with django_assert_num_queries(QUEUE_QUERIES):
        response = staff_client.get(QUEUE, {"page_size": page_size})

    assert len(response.json()["results"]) == page_size
    with CaptureQueriesContext(connection) as filtered:
        response = staff_client.get(QUEUE, {"page_size": page_size, "reason": "reported"})
    assert len(filtered.captured_queries) == QUEUE_QUERIES
    assert all(item["moderation_reason"] == "reported" for item in response.json()["results"])


# --- approve ----------------------------------------------------------------------------------


def test_approve_puts_a_held_ad_live_and_audits_it(staff_client, moderator, held, seller, api):
    ad = held("contact_details")

    response = act(staff_client, ad, "approve", {"note": "A shop number, allowed here."})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == QUEUE_ITEM_KEYS
    assert (body["id"], body["status"], body["moderation_reason"]) == (str(ad.pk), "active",
                                                                       None)
    assert body["published_at"] is not None and body["expires_at"] is not None
    assert str(ad.pk) in public_ids(api)
    assert User.objects.get(pk=seller.pk).active_ads_count == 1
    assert actions_on(ad)[-2:] == ["ads.status.active", "moderation.queue.approved"]
    entry = AuditEntry.objects.get(target_id=str(ad.pk), action="ads.status.active")
    assert entry.actor_id == moderator.pk
    assert entry.data["actor"] == "staff"
    assert entry.data["note"] == "A shop number, allowed here."
    decision = AuditEntry.objects.get(target_id=str(ad.pk), action="moderation.queue.approved")
    assert decision.actor_id == moderator.pk
    assert decision.data["held_for"] == "contact_details"
    assert staff_client.get(QUEUE).json()["count"] == 0


def test_approve_an_ad_held_for_reports_dismisses_them(staff_client, moderator, reported,
                                                       make_user, client_for, api):
    ad, report_ids = reported()
    assert ad.status == AdStatus.PENDING

    response = act(staff_client, ad, "approve")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["open_reports_count"]) == ("active", 0)
    closed = Report.objects.filter(pk__in=report_ids).order_by("pk")
    assert [(r.status, r.action, r.resolved_by_id) for r in closed] == [
        ("dismissed", "none", moderator.pk)] * 3
    assert all(r.resolved_at is not None and r.resolution_note for r in closed)
    assert AuditEntry.objects.filter(action="moderation.report.dismissed",
                                     target_id__in=[str(i) for i in report_ids]).count() == 3
    assert str(ad.pk) in public_ids(api)
    # Settled: the next report is one reporter again, not a fourth that re-holds the ad.
    report(client_for(make_user()), ad)
    assert reload(ad).status == AdStatus.ACTIVE


def test_approve_for_another_reason_leaves_open_reports_alone(staff_client, held, make_user):
    ad = held("contact_details")
    open_report = Report.objects.create(reporter=make_user(), target_type="ad",
                                        target_id=str(ad.pk), reason="scam")

    response = act(staff_client, ad, "approve")

    assert response.status_code == 200
    assert response.json()["open_reports_count"] == 1
    assert Report.objects.get(pk=open_report.pk).status == ReportStatus.OPEN


def test_a_pending_ad_not_yet_checked_may_be_approved(staff_client, ad_in, seller):
    ad = ad_in("pending", seller)

    assert act(staff_client, ad, "approve").json()["status"] == "active"


@pytest.mark.parametrize("status", ["active", "draft", "sold", "expired", "rejected"])
def test_approve_from_another_status_is_409(staff_client, ad_in, seller, status):
    ad = ad_in(status, seller)

    with nothing_changes():
        response = act(staff_client, ad, "approve")

    assert response.status_code == 409
    assert error_codes(response) == [("ad_invalid_transition", None)]


def test_approve_undoes_a_hide(staff_client, active_ad, seller, api):
    ad = active_ad(seller)
    act(staff_client, ad, "hide")

    response = act(staff_client, ad, "approve")

    assert (response.json()["status"], response.json()["moderation_reason"]) == ("active", None)
    assert str(ad.pk) in public_ids(api)


def test_approve_while_the_owner_is_suspended_is_409(staff_client, moderator, held, seller,
                                                     active_ad):
    ad = held("contact_details")
    live = active_ad(seller)
    user_services.suspend_user(user=seller, by=moderator)  # hides the live ad
    assert reload(live).status == AdStatus.HIDDEN

    for target in (ad, live):
        with nothing_changes():
            response = act(staff_client, target, "approve")
        assert response.status_code == 409
        assert error_codes(response) == [("ad_invalid_transition", None)]


@pytest.mark.parametrize("action", ACTIONS)
def test_unknown_garbage_or_deleted_ads_are_404(staff_client, held, action):
    deleted = held("contact_details", deleted=True)

    for ad_id in (uuid.uuid4(), "garbage", "1", deleted.pk):
        with nothing_changes():
            response = staff_client.post(queue_action_url(ad_id, action), {})
        assert response.status_code == 404
        assert error_codes(response) == [("not_found", None)]


def test_get_on_an_action_is_405(staff_client, held):
    assert staff_client.get(queue_action_url(held("staff").pk, "approve")).status_code == 405


# --- reject -----------------------------------------------------------------------------------


def test_reject_keeps_why_it_was_held_by_default(staff_client, moderator, held, client_for,
                                                 seller):
    ad = held("banned_word")

    response = act(staff_client, ad, "reject", {"note": "Sells bhang."})

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["moderation_reason"]) == (
        "rejected", "banned_word")
    mine = client_for(seller).get(MY_ADS).json()["results"]
    assert [(a["status"], a["moderation_reason"]) for a in mine] == [("rejected", "banned_word")]
    decision = AuditEntry.objects.get(target_id=str(ad.pk), action="moderation.queue.rejected")
    assert (decision.actor_id, decision.data["reason"], decision.data["note"]) == (
        moderator.pk, "banned_word", "Sells bhang.")
    # The owner may edit and resubmit: it goes through the automatic checks again.
    owner = client_for(seller)
    owner.patch(ad_url(ad.slug), {"description": "Gold bangili, 18K."})
    resubmitted = owner.patch(ad_url(ad.slug), {"status": "active"})
    assert resubmitted.status_code == 200, resubmitted.json()
    assert reload(ad).status == AdStatus.ACTIVE


def test_reject_with_a_reason(staff_client, held):
    ad = held("contact_details")

    response = act(staff_client, ad, "reject", {"reason": "price_out_of_range"})

    assert response.json()["moderation_reason"] == "price_out_of_range"
    assert reload(ad).moderation_reason == "price_out_of_range"


def test_reject_of_an_unchecked_pending_ad_defaults_to_staff(staff_client, ad_in, seller):
    ad = ad_in("pending", seller)

    assert act(staff_client, ad, "reject").json()["moderation_reason"] == "staff"


def test_reject_an_ad_held_for_reports_resolves_them(staff_client, reported):
    ad, report_ids = reported()

    response = act(staff_client, ad, "reject")

    assert response.json()["moderation_reason"] == "reported"
    assert set(Report.objects.filter(pk__in=report_ids).values_list("status", "action")) == {
        ("resolved", "none")}


@pytest.mark.parametrize(("body", "attr", "code"), [
    ({"reason": "rude"}, "reason", "invalid_choice"),
    ({"reason": 3}, "reason", "invalid_choice"),
    ({"note": "x" * 2001}, "note", "max_length"),
])
def test_bad_reject_body_is_400(staff_client, held, body, attr, code):
    ad = held("contact_details")

    with nothing_changes():
        response = act(staff_client, ad, "reject", body)

    assert response.status_code == 400
    assert error_codes(response) == [(code, attr)]


def test_validation_comes_before_the_state_check(staff_client, active_ad, seller):
    ad = active_ad(seller)

    response = act(staff_client, ad, "reject", {"reason": "rude"})

    assert response.status_code == 400
    assert act(staff_client, ad, "reject").status_code == 409


# --- hide -------------------------------------------------------------------------------------


def test_hide_a_held_ad(staff_client, moderator, held, client_for, seller):
    ad = held("duplicate")

    response = act(staff_client, ad, "hide", {"note": "Copied from another seller."})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["moderation_reason"]) == ("hidden",
                                                                                "staff")
    assert actions_on(ad)[-2:] == ["ads.status.hidden", "moderation.queue.hidden"]
    assert client_for(seller).get(ad_url(ad.slug)).json()["status"] == "hidden"


def test_hide_a_live_ad(staff_client, active_ad, seller, api):
    ad = active_ad(seller)

    response = act(staff_client, ad, "hide")

    assert response.json()["status"] == "hidden"
    assert str(ad.pk) not in public_ids(api)
    assert User.objects.get(pk=seller.pk).active_ads_count == 0


def test_hide_an_ad_held_for_reports_resolves_them_with_hide_ad(staff_client, reported):
    ad, report_ids = reported()

    act(staff_client, ad, "hide")

    assert set(Report.objects.filter(pk__in=report_ids).values_list("status", "action")) == {
        ("resolved", "hide_ad")}


@pytest.mark.parametrize("status", ["draft", "sold", "expired", "rejected", "hidden"])
def test_hide_from_another_status_is_409(staff_client, ad_in, seller, status):
    ad = ad_in(status, seller)

    with nothing_changes():
        response = act(staff_client, ad, "hide")

    assert response.status_code == 409
    assert error_codes(response) == [("ad_invalid_transition", None)]


# --- documented -------------------------------------------------------------------------------


def test_the_queue_is_in_the_schema():
    schema = Client().get("/api/schema/").json()
    paths = schema["paths"]

    listing = paths["/api/moderation/queue/ads/"]["get"]
    assert {"200", "401", "403", "404", "429"} <= set(listing["responses"])
    assert any(p["name"] == "reason" for p in listing["parameters"])
    for action in ACTIONS:
        operation = paths[f"/api/moderation/queue/ads/{{ad_id}}/{action}/"]["post"]
        assert {"200", "400", "401", "403", "404", "409"} <= set(operation["responses"])
    item = schema["components"]["schemas"]["QueueAdOutput"]
    assert "open_reports_count" in item["properties"]
    assert set(AD_KEYS) <= set(item["properties"])
