"""Reports (API.md section 8): filing them, the staff queue, resolving them with actions, and
REPORT_HIDE_THRESHOLD."""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from apps.ads.models import Ad, AdStatus
from apps.ads.services import approve_after_checks
from apps.ads.tasks import moderate_stuck_ads
from apps.moderation import services
from apps.moderation.models import Report, ReportStatus
from apps.moderation.tests.helpers import (
    LOGIN,
    MY_ADS,
    PAGE_KEYS,
    PROFILE,
    REPORT_KEYS,
    REPORTS,
    TIMESTAMP,
    ad_url,
    nothing_changes,
    public_ids,
    reload,
    report_url,
)
from apps.users import services as user_services
from apps.users.models import Block, User
from conftest import PASSWORD, error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ad(active_ad: Any, seller: User) -> Ad:
    return active_ad(seller, title="Samsung Galaxy A54 128GB")


@pytest.fixture
def reporter_client(buyer: User, client_for: Any) -> Any:
    return client_for(buyer)


@pytest.fixture
def staff_client(moderator: User, client_for: Any) -> Any:
    return client_for(moderator)


@pytest.fixture
def message(buyer: User, seller: User, ad: Ad, converse: Any, say: Any) -> Any:
    """A message from the seller to the buyer, in the buyer's conversation about the ad."""
    conversation = converse(buyer, ad, "Is it still available?")
    return say(seller, conversation, "Yes. Pay a deposit by M-Pesa first.")


def report_body(target_type: str, target_id: Any, reason: str = "scam", **extra: Any
                ) -> dict[str, Any]:
    return {"target_type": target_type, "target_id": str(target_id), "reason": reason,
            **extra}


def file_report(client: Any, target_type: str, target_id: Any, reason: str = "scam") -> Any:
    response = client.post(REPORTS, report_body(target_type, target_id, reason))
    assert response.status_code == 201, response.json()
    return response.json()


def reporters(make_user: Any, client_for: Any, count: int) -> list[Any]:
    return [client_for(make_user()) for _ in range(count)]


# --- POST reports/ ----------------------------------------------------------------------------


def test_report_an_ad_answers_the_open_report(reporter_client, buyer, ad):
    response = reporter_client.post(REPORTS, report_body(
        "ad", ad.pk, "scam", details="Asked for a deposit before viewing."))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == REPORT_KEYS
    report = Report.objects.get()
    assert body["id"] == report.pk
    assert (body["target_type"], body["target_id"], body["reason"]) == ("ad", str(ad.pk),
                                                                        "scam")
    assert body["details"] == "Asked for a deposit before viewing."
    assert (body["status"], body["action"], body["resolution_note"]) == ("open", "none", "")
    assert body["resolved_at"] is None
    assert re.fullmatch(TIMESTAMP, body["created_at"])
    assert report.reporter_id == buyer.pk
    # A report alone does not take the ad down.
    assert reload(ad).status == AdStatus.ACTIVE


def test_report_a_user_and_a_message(reporter_client, seller, message):
    user_report = file_report(reporter_client, "user", seller.pk, "offensive")
    message_report = file_report(reporter_client, "message", message.pk, "spam")

    assert (user_report["target_type"], user_report["target_id"]) == ("user", str(seller.pk))
    assert user_report["details"] == ""
    assert (message_report["target_type"], message_report["target_id"]) == (
        "message", str(message.pk))


@pytest.mark.parametrize("reason", ["scam", "prohibited", "wrong_category", "duplicate",
                                    "offensive", "spam", "other"])
def test_every_listed_reason_is_accepted(reporter_client, ad, reason):
    assert file_report(reporter_client, "ad", ad.pk, reason)["reason"] == reason


def test_target_id_is_stored_in_its_canonical_form(reporter_client, ad):
    body = file_report(reporter_client, "ad", str(ad.pk).upper())

    assert body["target_id"] == str(ad.pk)
    # ...so the same ad spelled another way is the same target.
    response = reporter_client.post(REPORTS, report_body("ad", str(ad.pk)))
    assert response.status_code == 409


@pytest.mark.parametrize(("change", "attr", "code"), [
    ({"target_type": "listing"}, "target_type", "invalid_choice"),
    ({"target_type": "AD"}, "target_type", "invalid_choice"),
    ({"target_type": None}, "target_type", "null"),
    ({"reason": "ugly"}, "reason", "invalid_choice"),
    ({"reason": ""}, "reason", "invalid_choice"),
    ({"reason": 3}, "reason", "invalid_choice"),
    ({"target_id": ""}, "target_id", "blank"),
    ({"details": "x" * 2001}, "details", "max_length"),
])
def test_bad_fields_are_400(reporter_client, ad, change, attr, code):
    with nothing_changes():
        response = reporter_client.post(REPORTS, {**report_body("ad", ad.pk), **change})

    assert response.status_code == 400
    assert error_codes(response) == [(code, attr)]


@pytest.mark.parametrize("missing", ["target_type", "target_id", "reason"])
def test_missing_fields_are_400_required(reporter_client, ad, missing):
    body = report_body("ad", ad.pk)
    del body[missing]

    with nothing_changes():
        response = reporter_client.post(REPORTS, body)

    assert response.status_code == 400
    assert error_codes(response) == [("required", missing)]


def test_anonymous_is_401(api, ad):
    with nothing_changes():
        response = api.post(REPORTS, report_body("ad", ad.pk))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("target_id", [
    str(uuid.uuid4()), "garbage", "1", "-1", "²", "9" * 40, "' OR 1=1 --", "🙂",
])
@pytest.mark.parametrize("target_type", ["ad", "user", "message"])
def test_unknown_or_garbage_target_is_400_on_target_id(reporter_client, target_type,
                                                       target_id):
    with nothing_changes():
        response = reporter_client.post(REPORTS, report_body(target_type, target_id))

    assert response.status_code == 400, response.content
    assert [attr for _, attr in error_codes(response)] == ["target_id"]


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "hidden", "sold",
                                    "expired"])
def test_an_ad_that_is_not_public_is_400(reporter_client, ad_in, seller, status):
    hidden = ad_in(status, seller)

    with nothing_changes():
        response = reporter_client.post(REPORTS, report_body("ad", hidden.pk))

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["target_id"]


def test_a_deleted_ad_is_400(reporter_client, ad_in, seller):
    deleted = ad_in("active", seller, deleted=True)

    response = reporter_client.post(REPORTS, report_body("ad", deleted.pk))

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["target_id"]


def test_an_ad_across_a_block_is_not_visible_so_400(reporter_client, buyer, seller, ad):
    Block.objects.create(blocker=seller, blocked=buyer)

    response = reporter_client.post(REPORTS, report_body("ad", ad.pk))

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["target_id"]


def test_a_user_you_blocked_can_still_be_reported(reporter_client, buyer, seller):
    Block.objects.create(blocker=buyer, blocked=seller)

    assert file_report(reporter_client, "user", seller.pk)["status"] == "open"


@pytest.mark.parametrize("change", [{"is_suspended": True}, {"is_active": False}])
def test_a_suspended_or_deactivated_user_is_400(reporter_client, seller, change):
    User.objects.filter(pk=seller.pk).update(**change)

    response = reporter_client.post(REPORTS, report_body("user", seller.pk))

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["target_id"]


def test_your_own_ad_is_400(client_for, seller, ad):
    with nothing_changes():
        response = client_for(seller).post(REPORTS, report_body("ad", ad.pk))

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["target_id"]


def test_yourself_is_400(reporter_client, buyer):
    with nothing_changes():
        response = reporter_client.post(REPORTS, report_body("user", buyer.pk))

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["target_id"]


def test_a_message_is_reportable_only_by_the_participant_who_received_it(
        client_for, buyer, seller, stranger, moderator, message):
    # The sender cannot report their own message...
    assert client_for(seller).post(
        REPORTS, report_body("message", message.pk)).status_code == 400
    # ...nor can anyone outside the conversation, staff included (they use the admin).
    for outsider in (stranger, moderator):
        response = client_for(outsider).post(REPORTS, report_body("message", message.pk))
        assert response.status_code == 400
        assert [attr for _, attr in error_codes(response)] == ["target_id"]
    assert not Report.objects.exists()
    # The recipient can, even after blocking the sender.
    Block.objects.create(blocker=buyer, blocked=seller)
    assert file_report(client_for(buyer), "message", message.pk)["target_id"] == str(message.pk)


def test_the_buyer_message_can_be_reported_by_the_seller(client_for, buyer, seller, ad,
                                                         converse):
    conversation = converse(buyer, ad, "Send me your number, I pay outside the app")
    first = conversation.messages.get()

    assert file_report(client_for(seller), "message", first.pk, "spam")["status"] == "open"


def test_an_open_report_on_the_same_target_is_409_duplicate(reporter_client, ad, seller):
    file_report(reporter_client, "ad", ad.pk, "scam")

    with nothing_changes():
        again = reporter_client.post(REPORTS, report_body("ad", ad.pk, "spam"))

    assert again.status_code == 409
    assert error_codes(again) == [("duplicate", None)]
    # Other targets, and other reporters on this one, are not affected.
    assert file_report(reporter_client, "user", seller.pk)["status"] == "open"


@pytest.mark.parametrize("closing", ["resolved", "dismissed"])
def test_you_may_report_again_once_your_report_is_closed(reporter_client, staff_client, ad,
                                                         closing):
    first = file_report(reporter_client, "ad", ad.pk)
    assert staff_client.patch(report_url(first["id"]), {"status": closing}).status_code == 200

    second = file_report(reporter_client, "ad", ad.pk)

    assert second["id"] != first["id"]
    assert second["status"] == "open"


# --- GET reports/ (staff queue) ---------------------------------------------------------------


def test_the_queue_is_staff_only(api, reporter_client, ad):
    file_report(reporter_client, "ad", ad.pk)

    anonymous = api.get(REPORTS)
    assert anonymous.status_code == 401
    forbidden = reporter_client.get(REPORTS)
    assert forbidden.status_code == 403
    assert error_codes(forbidden) == [("permission_denied", None)]


def test_staff_see_a_page_newest_first(staff_client, reporter_client, client_for, stranger,
                                       seller, ad, message):
    a = file_report(reporter_client, "ad", ad.pk, "scam")
    b = file_report(reporter_client, "user", seller.pk, "offensive")
    c = file_report(client_for(stranger), "ad", ad.pk, "spam")
    d = file_report(reporter_client, "message", message.pk, "spam")

    response = staff_client.get(REPORTS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 4
    assert (body["next"], body["previous"]) == (None, None)
    assert [r["id"] for r in body["results"]] == [d["id"], c["id"], b["id"], a["id"]]
    assert all(set(r) == REPORT_KEYS for r in body["results"])
    assert body["results"][-1] == a


def test_staff_filter_by_status_target_type_and_reason(staff_client, reporter_client,
                                                       client_for, stranger, seller, ad):
    scam = file_report(reporter_client, "ad", ad.pk, "scam")
    rude = file_report(reporter_client, "user", seller.pk, "offensive")
    spam = file_report(client_for(stranger), "ad", ad.pk, "spam")
    staff_client.patch(report_url(scam["id"]), {"status": "dismissed"})

    def ids(**params: str) -> list[int]:
        response = staff_client.get(REPORTS, params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(status="open") == [spam["id"], rude["id"]]
    assert ids(status="dismissed") == [scam["id"]]
    assert ids(status="resolved") == []
    assert ids(target_type="ad") == [spam["id"], scam["id"]]
    assert ids(target_type="user") == [rude["id"]]
    assert ids(target_type="message") == []
    assert ids(reason="offensive") == [rude["id"]]
    assert ids(target_type="ad", status="open", reason="spam") == [spam["id"]]
    assert ids(target_type="ad", reason="offensive") == []


@pytest.mark.parametrize(("param", "value"), [
    ("status", "closed"), ("status", "OPEN"), ("status", ""), ("target_type", "listing"),
    ("reason", "ugly"), ("reason", "%00"),
])
def test_a_bad_filter_value_is_400_on_that_parameter(staff_client, param, value):
    response = staff_client.get(REPORTS, {param: value})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", param)]


def test_the_queue_pages(staff_client, make_user, client_for, ad):
    for client in reporters(make_user, client_for, 2):
        file_report(client, "ad", ad.pk)
    # (Two reporters: the ad stays public; the threshold is 3.)

    first = staff_client.get(REPORTS, {"page_size": 1}).json()
    assert first["count"] == 2
    assert first["next"].startswith("http://testserver/api/moderation/reports/?")
    assert staff_client.get(REPORTS, {"page": 3}).status_code == 404


# --- PATCH reports/<id>/ ----------------------------------------------------------------------


@pytest.mark.parametrize("closing", ["resolved", "dismissed"])
def test_staff_close_a_report_with_a_note(staff_client, reporter_client, moderator, ad,
                                          closing):
    report = file_report(reporter_client, "ad", ad.pk)

    response = staff_client.patch(report_url(report["id"]),
                                  {"status": closing, "resolution_note": "Checked the ad."})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == REPORT_KEYS
    assert (body["status"], body["resolution_note"], body["action"]) == (
        closing, "Checked the ad.", "none")
    assert re.fullmatch(TIMESTAMP, body["resolved_at"])
    row = Report.objects.get(pk=report["id"])
    assert (row.status, row.resolved_by_id) == (closing, moderator.pk)
    # No action: the ad is untouched.
    assert reload(ad).status == AdStatus.ACTIVE


@pytest.mark.parametrize(("payload", "attr", "code"), [
    ({}, "status", "required"),
    ({"status": "open"}, "status", "invalid_choice"),
    ({"status": "closed"}, "status", "invalid_choice"),
    ({"status": "resolved", "action": "ban"}, "action", "invalid_choice"),
    ({"status": "resolved", "resolution_note": "x" * 2001}, "resolution_note", "max_length"),
])
def test_bad_resolution_is_400(staff_client, reporter_client, ad, payload, attr, code):
    report = file_report(reporter_client, "ad", ad.pk)

    with nothing_changes():
        response = staff_client.patch(report_url(report["id"]), payload)

    assert response.status_code == 400
    assert error_codes(response) == [(code, attr)]


def test_patch_is_staff_only_and_unknown_ids_are_404(api, reporter_client, staff_client, ad):
    report = file_report(reporter_client, "ad", ad.pk)

    with nothing_changes():
        assert api.patch(report_url(report["id"]), {"status": "dismissed"}).status_code == 401
        assert reporter_client.patch(report_url(report["id"]),
                                     {"status": "dismissed"}).status_code == 403
        for unknown in (report["id"] + 1000, "abc", "²", "9" * 40, str(uuid.uuid4())):
            response = staff_client.patch(report_url(unknown), {"status": "dismissed"})
            assert response.status_code == 404, (unknown, response.content)


def test_hide_ad_hides_the_reported_ad(staff_client, reporter_client, client_for, seller, ad,
                                       api):
    assert str(ad.pk) in public_ids(api)
    report = file_report(reporter_client, "ad", ad.pk)

    response = staff_client.patch(report_url(report["id"]), {
        "status": "resolved", "action": "hide_ad", "resolution_note": "Scam confirmed."})

    assert response.status_code == 200, response.json()
    assert response.json()["action"] == "hide_ad"
    hidden = reload(ad)
    assert (hidden.status, hidden.moderation_reason) == (AdStatus.HIDDEN, "staff")
    assert str(ad.pk) not in public_ids(api)
    assert api.get(ad_url(ad.slug)).status_code == 404
    owner_view = client_for(seller).get(ad_url(ad.slug)).json()
    assert (owner_view["status"], owner_view["moderation_reason"]) == ("hidden", "staff")
    assert User.objects.get(pk=seller.pk).active_ads_count == 0


@pytest.mark.parametrize("target", ["user", "message"])
def test_hide_ad_on_a_report_that_is_not_about_an_ad_is_400(staff_client, reporter_client,
                                                           seller, message, target):
    target_id = seller.pk if target == "user" else message.pk
    report = file_report(reporter_client, target, target_id)

    with nothing_changes():
        response = staff_client.patch(report_url(report["id"]),
                                      {"status": "resolved", "action": "hide_ad"})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "action")]
    assert Report.objects.get(pk=report["id"]).status == ReportStatus.OPEN


def assert_suspended(user: User, token_client: Any, api: Any, ad: Ad) -> None:
    assert User.objects.get(pk=user.pk).is_suspended
    login = api.post(LOGIN, {"email": user.email, "password": PASSWORD})
    assert login.status_code == 403
    assert error_codes(login) == [("account_suspended", None)]
    assert token_client.get(PROFILE).status_code == 401
    assert reload(ad).status == AdStatus.HIDDEN
    assert str(ad.pk) not in public_ids(api)


@pytest.mark.parametrize("target", ["ad", "user", "message"])
def test_suspend_user_suspends_the_offender(staff_client, reporter_client, client_for, buyer,
                                            seller, ad, message, api, target):
    seller_client = client_for(seller)
    assert seller_client.get(PROFILE).status_code == 200
    target_id = {"ad": ad.pk, "user": seller.pk, "message": message.pk}[target]
    report = file_report(reporter_client, target, target_id)

    response = staff_client.patch(report_url(report["id"]), {
        "status": "resolved", "action": "suspend_user", "resolution_note": "Repeat scammer."})

    assert response.status_code == 200, response.json()
    assert response.json()["action"] == "suspend_user"
    assert_suspended(seller, seller_client, api, ad)
    # The reporter is untouched.
    assert not User.objects.get(pk=buyer.pk).is_suspended
    assert reporter_client.get(PROFILE).status_code == 200


def test_the_buyer_message_report_suspends_the_buyer(staff_client, client_for, buyer, seller,
                                                     ad, converse, active_ad, api):
    buyers_ad = active_ad(buyer, title="Buyer's own listing")
    conversation = converse(buyer, ad, "Pay me outside the app")
    report = file_report(client_for(seller), "message", conversation.messages.get().pk)
    buyer_client = client_for(buyer)

    staff_client.patch(report_url(report["id"]), {"status": "resolved",
                                                  "action": "suspend_user"})

    assert_suspended(buyer, buyer_client, api, buyers_ad)
    assert not User.objects.get(pk=seller.pk).is_suspended
    assert reload(ad).status == AdStatus.ACTIVE


# --- REPORT_HIDE_THRESHOLD --------------------------------------------------------------------


def test_two_reporters_leave_the_ad_public_the_third_holds_it(make_user, client_for, seller,
                                                              ad, api, settings):
    assert settings.REPORT_HIDE_THRESHOLD == 3
    first, second, third = reporters(make_user, client_for, 3)
    file_report(first, "ad", ad.pk, "scam")
    file_report(second, "ad", ad.pk, "spam")

    assert reload(ad).status == AdStatus.ACTIVE
    assert str(ad.pk) in public_ids(api)

    file_report(third, "ad", ad.pk, "prohibited")

    held = reload(ad)
    assert (held.status, held.moderation_reason) == (AdStatus.PENDING, "reported")
    assert str(ad.pk) not in public_ids(api)
    assert api.get(ad_url(ad.slug)).status_code == 404
    mine = client_for(seller).get(MY_ADS).json()["results"]
    assert [(a["status"], a["moderation_reason"]) for a in mine] == [("pending", "reported")]
    assert User.objects.get(pk=seller.pk).active_ads_count == 0


def test_an_ad_held_by_reports_is_not_approved_by_the_moderation_task(make_user, client_for,
                                                                      ad):
    for client in reporters(make_user, client_for, 3):
        file_report(client, "ad", ad.pk)

    approve_after_checks(ad_id=ad.pk)
    moderate_stuck_ads()

    held = reload(ad)
    assert (held.status, held.moderation_reason) == (AdStatus.PENDING, "reported")


def test_the_same_reporter_twice_counts_once(make_user, client_for, staff_client, ad):
    a, b, c = reporters(make_user, client_for, 3)
    first = file_report(a, "ad", ad.pk)
    assert a.post(REPORTS, report_body("ad", ad.pk, "spam")).status_code == 409
    file_report(b, "ad", ad.pk)
    assert reload(ad).status == AdStatus.ACTIVE
    # A closed report and a new one by the same reporter: still one reporter.
    staff_client.patch(report_url(first["id"]), {"status": "dismissed"})
    file_report(a, "ad", ad.pk)
    assert Report.objects.filter(target_id=str(ad.pk)).count() == 3
    assert reload(ad).status == AdStatus.ACTIVE

    file_report(c, "ad", ad.pk)

    assert reload(ad).status == AdStatus.PENDING


def test_closed_reports_do_not_count(make_user, client_for, staff_client, ad):
    a, b, c = reporters(make_user, client_for, 3)
    staff_client.patch(report_url(file_report(a, "ad", ad.pk)["id"]), {"status": "resolved"})
    file_report(b, "ad", ad.pk)
    file_report(c, "ad", ad.pk)

    assert reload(ad).status == AdStatus.ACTIVE


def test_dismissing_all_open_reports_brings_the_ad_back(make_user, client_for, staff_client,
                                                        seller, ad, api):
    published_at = ad.published_at
    opened = [file_report(client, "ad", ad.pk) for client in
              reporters(make_user, client_for, 3)]
    assert reload(ad).status == AdStatus.PENDING

    for report in opened[:2]:
        staff_client.patch(report_url(report["id"]), {"status": "dismissed"})
        assert reload(ad).status == AdStatus.PENDING  # one report still open
    staff_client.patch(report_url(opened[2]["id"]), {"status": "dismissed",
                                                     "resolution_note": "Nothing wrong."})

    back = reload(ad)
    assert (back.status, back.moderation_reason) == (AdStatus.ACTIVE, None)
    assert back.published_at == published_at  # not a new publication
    assert str(ad.pk) in public_ids(api)
    assert User.objects.get(pk=seller.pk).active_ads_count == 1


def test_hide_ad_on_an_ad_held_by_reports_keeps_it_down(make_user, client_for, staff_client,
                                                        ad, api):
    opened = [file_report(client, "ad", ad.pk) for client in
              reporters(make_user, client_for, 3)]

    staff_client.patch(report_url(opened[0]["id"]), {"status": "resolved",
                                                     "action": "hide_ad"})
    for report in opened[1:]:
        staff_client.patch(report_url(report["id"]), {"status": "dismissed"})

    hidden = reload(ad)
    assert (hidden.status, hidden.moderation_reason) == (AdStatus.HIDDEN, "staff")
    assert str(ad.pk) not in public_ids(api)


def test_the_threshold_is_a_setting(reporter_client, ad, settings):
    settings.REPORT_HIDE_THRESHOLD = 1

    file_report(reporter_client, "ad", ad.pk)

    assert reload(ad).status == AdStatus.PENDING


def test_reports_on_the_owner_or_their_messages_do_not_count_toward_the_ad(
        make_user, client_for, seller, ad):
    for client in reporters(make_user, client_for, 3):
        file_report(client, "user", seller.pk)

    assert reload(ad).status == AdStatus.ACTIVE


# --- a flood of reports -----------------------------------------------------------------------


def test_a_flood_of_reports_is_throttled(make_user, client_for, catalog, active_ad, seller,
                                         throttle_rates):
    throttle_rates(report="3/m")
    client = client_for(make_user())
    ads = [active_ad(seller, title=f"Flooded ad number {n}") for n in range(4)]
    for target in ads[:3]:
        file_report(client, "ad", target.pk)

    with nothing_changes():
        response = client.post(REPORTS, report_body("ad", ads[3].pk))

    assert response.status_code == 429
    assert error_codes(response) == [("throttled", None)]
    assert int(response["Retry-After"]) > 0
    # Per reporter: someone else may still report.
    assert file_report(client_for(make_user()), "ad", ads[3].pk)["status"] == "open"


def test_the_report_throttle_never_slows_the_staff_queue(staff_client, throttle_rates):
    throttle_rates(report="1/m")

    for _ in range(3):
        assert staff_client.get(REPORTS).status_code == 200


def test_report_throttle_is_off_when_no_rate_is_set(make_user, client_for, active_ad, seller,
                                                    settings):
    settings.THROTTLE_RATES = {k: v for k, v in settings.THROTTLE_RATES.items()
                               if k != "report"}
    client = client_for(make_user())

    for n in range(5):
        file_report(client, "ad", active_ad(seller, title=f"Unthrottled ad {n}").pk)


# --- the threshold under concurrency and suspension -------------------------------------------


def test_an_ad_held_by_reports_of_a_suspended_owner_stays_down_when_they_are_closed(
        make_user, client_for, staff_client, seller, ad, api):
    opened = [file_report(client, "ad", ad.pk) for client in
              reporters(make_user, client_for, 3)]
    staff_client.patch(report_url(opened[0]["id"]), {"status": "resolved",
                                                     "action": "suspend_user"})

    for report in opened[1:]:
        staff_client.patch(report_url(report["id"]), {"status": "dismissed"})

    assert reload(ad).status == AdStatus.PENDING
    assert str(ad.pk) not in public_ids(api)
    # The background moderation leaves it alone while the owner is suspended...
    approve_after_checks(ad_id=ad.pk)
    Ad.objects.filter(pk=ad.pk).update(updated_at=reload(ad).updated_at - timedelta(hours=1))
    assert moderate_stuck_ads() == 0
    assert reload(ad).status == AdStatus.PENDING
    # ...and checks it once the owner is back (the reports are settled).
    user_services.unsuspend_user(user=seller, by=None)
    assert moderate_stuck_ads() == 1
    assert reload(ad).status == AdStatus.ACTIVE
    assert str(ad.pk) in public_ids(api)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_reaching_the_threshold_hold_the_ad(make_user, client_for,
                                                               published_ad, seller,
                                                               monkeypatch):
    """The 2nd and 3rd reports arrive together: each must count the other."""
    ad = published_ad(seller)
    assert ad.status == AdStatus.ACTIVE
    file_report(client_for(make_user()), "ad", ad.pk)
    clients = reporters(make_user, client_for, 2)
    together = threading.Barrier(2, timeout=3)
    original = services.hold_if_reported_enough

    def meet() -> None:
        # A broken barrier: the other request is waiting for this one (the lock).
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()

    def counted_together(*, ad: Ad) -> None:
        # Unless the first report to arrive makes the other wait, both are stored before
        # either counts, and both have counted before either commits.
        meet()
        original(ad=ad)
        meet()

    monkeypatch.setattr(services, "hold_if_reported_enough", counted_together)
    answers: list[int] = []

    def post(client: Any) -> None:
        try:
            answers.append(client.post(REPORTS, report_body("ad", ad.pk)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [201, 201]
    assert Report.objects.filter(status="open").count() == 3
    held = reload(ad)
    assert (held.status, held.moderation_reason) == (AdStatus.PENDING, "reported")
