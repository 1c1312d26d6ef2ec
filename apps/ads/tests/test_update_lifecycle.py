"""PUT/PATCH/DELETE <slug>/, the owner's status requests, the whole transition table, counts
that follow every move, and the expiry sweeps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from apps.ads import services, tasks
from apps.ads.models import Ad, AdStatus
from apps.ads.services import InvalidTransition
from apps.ads.status import TRANSITIONS, Actor
from apps.ads.tests.factories import (
    AD_KEYS,
    ADS,
    MY_ADS,
    active_ads_count,
    category_url,
    detail_url,
    live_count,
    make_ad,
    nothing_changes,
    profile_url,
    reload,
)
from apps.common.models import AuditEntry
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(seller, catalog, places):
    return make_ad(owner=seller, category=catalog.phones, title="Samsung Galaxy A54",
                   description="Barely used.", price="38500", location=places.westlands,
                   attributes={"brand": "Samsung", "storage": 128})


def audit_actions(ad, since=0):
    return list(AuditEntry.objects.filter(target_id=str(ad.pk), pk__gt=since).order_by("pk")
                .values_list("action", flat=True))


def last_audit_pk():
    entry = AuditEntry.objects.order_by("-pk").first()
    return entry.pk if entry else 0


def put_body(ad, **changes):
    body = {"title": ad.title, "description": ad.description, "category": ad.category_id,
            "location": ad.location_id, "price": str(ad.price), "currency": ad.currency,
            "negotiable": ad.negotiable, "condition": ad.condition,
            "attributes": ad.attributes}
    return {**body, **changes}


# --- who may edit -----------------------------------------------------------------------------


def test_owner_patches(seller_client, phone):
    response = seller_client.patch(detail_url(phone.slug), {"negotiable": True,
                                                             "condition": "used"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == AD_KEYS
    assert (body["negotiable"], body["condition"], body["status"]) == (True, "used", "active")
    phone = reload(phone)
    assert (phone.negotiable, phone.condition) == (True, "used")
    assert body["slug"] == phone.slug  # the slug survives edits


def test_owner_puts(seller_client, phone, places):
    body = put_body(phone, location=places.nyali.pk, negotiable=True,
                    attributes={"brand": "Tecno", "storage": 256, "dual_sim": True})

    response = seller_client.put(detail_url(phone.slug), body)

    assert response.status_code == 200, response.json()
    phone = reload(phone)
    assert phone.location_id == places.nyali.pk
    assert phone.attributes == {"brand": "Tecno", "storage": 256, "dual_sim": True}
    assert response.json()["status"] == "active"


def test_put_needs_the_whole_body(seller_client, phone):
    with nothing_changes():
        response = seller_client.put(detail_url(phone.slug), {"title": "Only a title here"})

    assert response.status_code == 400
    assert sorted(error_codes(response)) == [("required", "category"), ("required", "location"),
                                             ("required", "price")]


def test_owner_edits_a_draft_without_publishing_it(seller_client, seller, catalog):
    draft = make_ad(owner=seller, category=catalog.phones, status="draft")

    response = seller_client.patch(detail_url(draft.slug), {"title": "A better title",
                                                            "price": "999"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "draft"
    draft = reload(draft)
    assert (draft.title, draft.price, draft.status) == ("A better title", Decimal("999.00"),
                                                        AdStatus.DRAFT)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_another_user_gets_403_on_an_active_ad(buyer_client, phone, method):
    with nothing_changes():
        response = getattr(buyer_client, method)(detail_url(phone.slug), put_body(phone))

    assert response.status_code == 403
    assert error_codes(response) == [("permission_denied", None)]


def test_another_user_gets_403_before_validation(buyer_client, phone):
    with nothing_changes():
        response = buyer_client.patch(detail_url(phone.slug), {"price": "-1"})

    assert response.status_code == 403


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "sold", "expired", "hidden"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_another_users_non_active_ad_is_404(buyer_client, seller, catalog, status, method):
    ad = make_ad(owner=seller, category=catalog.phones, status=status)

    with nothing_changes():
        response = getattr(buyer_client, method)(detail_url(ad.slug), {"price": "1"})

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_anonymous_gets_401(api, phone, method):
    with nothing_changes():
        response = getattr(api, method)(detail_url(phone.slug), {"price": "1"})
        unknown = getattr(api, method)(detail_url("no-such-ad-abc123"), {"price": "1"})

    assert response.status_code == unknown.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_slug_is_404_for_a_user(seller_client):
    assert seller_client.patch(detail_url("no-such-ad-abc123"), {}).status_code == 404


@pytest.mark.parametrize(("changes", "expected"), [
    ({"title": "abc"}, [("min_length", "title")]),
    ({"price": "0"}, [("min_value", "price")]),
    ({"price": "lots"}, [("invalid", "price")]),
    ({"description": "d" * 5001}, [("max_length", "description")]),
    ({"location": 987654321}, [("does_not_exist", "location")]),
    ({"category": 987654321}, [("does_not_exist", "category")]),
    ({"attributes": {"brand": "Nokia"}}, [("invalid_choice", "attributes.brand")]),
    ({"attributes": {"storage": "lots"}}, [("invalid", "attributes.storage")]),
    ({"attributes": {"colour": "red"}}, [("invalid", "attributes.colour")]),
])
def test_owner_validation_errors_change_nothing(seller_client, phone, changes, expected):
    with nothing_changes():
        response = seller_client.patch(detail_url(phone.slug), changes)

    assert response.status_code == 400, response.json()
    assert error_codes(response) == expected


def test_read_only_fields_are_ignored_on_edit(seller_client, phone, buyer):
    response = seller_client.patch(detail_url(phone.slug), {
        "id": "00000000-0000-0000-0000-000000000001", "owner": str(buyer.pk),
        "views_count": 5, "favorites_count": 9, "slug": "hijacked", "published_at": None,
        "promotion": {"tier": "vip"}, "moderation_reason": "staff"})

    assert response.status_code == 200
    after = reload(phone)
    assert (after.pk, after.owner_id, after.slug, after.views_count, after.favorites_count,
            after.published_at, after.promotion_tier, after.moderation_reason) == (
        phone.pk, phone.owner_id, phone.slug, 0, 0, phone.published_at, 0, None)


# --- re-moderation ----------------------------------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"title": "Samsung Galaxy A54 like new"},
    {"description": "Barely used, box included."},
    {"price": "35000"},
])
def test_editing_what_buyers_judge_goes_back_through_moderation(seller_client, phone, changes):
    since = last_audit_pk()

    response = seller_client.patch(detail_url(phone.slug), changes)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    after = reload(phone)
    assert after.status == AdStatus.ACTIVE  # the automatic checks passed on commit
    assert after.published_at == phone.published_at  # an edit is no renewal
    assert after.expires_at == phone.expires_at
    assert audit_actions(phone, since) == ["ads.status.pending", "ads.edited",
                                           "ads.status.active"]


def test_category_change_goes_back_through_moderation_and_moves_the_counts(
        seller_client, phone, catalog, api):
    response = seller_client.patch(detail_url(phone.slug), {"category": catalog.laptops.pk,
                                                            "attributes": {}})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["category"]["slug"] == "laptops"
    assert body["attributes"] == {}
    assert reload(phone).status == AdStatus.ACTIVE
    assert api.get(category_url("mobile-phones")).json()["ad_count"] == 0
    assert api.get(category_url("laptops")).json()["ad_count"] == 1
    assert api.get(category_url("electronics")).json()["ad_count"] == 1


@pytest.mark.parametrize("changes", [
    {"location": "nyali"},
    {"negotiable": True},
    {"condition": "refurbished"},
    {"attributes": {"brand": "Apple", "storage": 64}},
    {"title": "Samsung Galaxy A54", "price": "38500.00"},  # unchanged values
])
def test_other_edits_do_not_re_moderate(seller_client, phone, places, changes):
    if changes.get("location") == "nyali":
        changes = {"location": places.nyali.pk}
    since = last_audit_pk()

    response = seller_client.patch(detail_url(phone.slug), changes)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "active"
    assert not [a for a in audit_actions(phone, since) if a.startswith("ads.status.")]


def test_an_edit_held_by_moderation_stays_pending_and_leaves_the_counts(
        seller_client, seller, phone, api, monkeypatch):
    from apps.moderation import checks

    monkeypatch.setattr(checks, "first_problem", lambda ad: "banned_word")

    response = seller_client.patch(detail_url(phone.slug), {"title": "Samsung Galaxy A54 cheap"})

    assert response.json()["status"] == "pending"
    after = reload(phone)
    assert (after.status, after.moderation_reason) == (AdStatus.PENDING, "banned_word")
    assert seller_client.get(detail_url(phone.slug)).json()["moderation_reason"] == "banned_word"
    assert api.get(detail_url(phone.slug)).status_code == 404
    assert api.get(ADS).json()["count"] == 0
    assert api.get(category_url("mobile-phones")).json()["ad_count"] == 0
    assert api.get(profile_url(seller.pk)).json()["active_ads_count"] == 0


def test_category_change_revalidates_the_attributes(seller_client, phone, catalog):
    with nothing_changes():
        # Samsung's `brand` and `storage` mean nothing in Laptops.
        response = seller_client.patch(detail_url(phone.slug), {"category": catalog.laptops.pk})
    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "attributes.brand"),
                                     ("invalid", "attributes.storage")]

    with nothing_changes():
        response = seller_client.patch(detail_url(phone.slug), {"category": catalog.cars.pk,
                                                                "attributes": {"year": 2015}})
    assert response.status_code == 400
    assert error_codes(response) == [("required", "attributes.make")]

    with nothing_changes():
        response = seller_client.patch(detail_url(phone.slug), {"category": catalog.vehicles.pk,
                                                                "attributes": {}})
    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "category")]

    response = seller_client.patch(detail_url(phone.slug), {
        "category": catalog.cars.pk, "attributes": {"make": "Mazda", "year": 2012}})
    assert response.status_code == 200, response.json()
    assert reload(phone).attributes == {"make": "Mazda", "year": 2012}


def test_attributes_are_checked_against_the_current_category_on_every_edit(seller_client,
                                                                           phone):
    response = seller_client.patch(detail_url(phone.slug), {"attributes": {"year": 2015}})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "attributes.year")]


# --- the owner's status requests --------------------------------------------------------------


def request_status(client, ad, status, **extra):
    return client.patch(detail_url(ad.slug), {"status": status, **extra})


def test_draft_to_active_publishes_through_moderation(seller_client, seller, catalog, api):
    draft = make_ad(owner=seller, category=catalog.phones, status="draft")

    response = request_status(seller_client, draft, "active")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    after = reload(draft)
    assert after.status == AdStatus.ACTIVE
    assert after.expires_at == after.published_at + timedelta(days=30)
    assert api.get(detail_url(draft.slug)).status_code == 200


def test_rejected_to_active_goes_through_moderation_again(seller_client, seller, catalog):
    rejected = make_ad(owner=seller, category=catalog.phones, status="rejected")

    response = request_status(seller_client, rejected, "active")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    after = reload(rejected)
    assert (after.status, after.moderation_reason) == (AdStatus.ACTIVE, None)


def test_active_to_sold(seller_client, phone, catalog, seller, api):
    response = request_status(seller_client, phone, "sold")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "sold"
    assert reload(phone).status == AdStatus.SOLD
    assert api.get(detail_url(phone.slug)).status_code == 404
    assert live_count(catalog.phones) == 0
    assert active_ads_count(seller) == 0


def test_active_to_draft(seller_client, phone, catalog):
    response = request_status(seller_client, phone, "draft")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "draft"
    assert reload(phone).status == AdStatus.DRAFT
    assert live_count(catalog.phones) == 0


def test_ending_an_ad_ends_its_promotion(seller_client, phone):
    Ad.objects.filter(pk=phone.pk).update(promotion_tier=3,
                                          promotion_until=timezone.now() + timedelta(days=3))

    response = request_status(seller_client, phone, "sold")

    assert response.json()["promotion"] is None
    after = reload(phone)
    assert (after.promotion_tier, after.promotion_until) == (0, None)


@pytest.mark.parametrize(("current", "requested"), [
    ("sold", "active"),
    ("sold", "draft"),
    ("draft", "sold"),
    ("pending", "sold"),
    ("pending", "draft"),
    ("pending", "active"),
    ("expired", "sold"),
    ("expired", "draft"),
    ("rejected", "sold"),
    ("hidden", "active"),
    ("hidden", "draft"),
    ("hidden", "sold"),
])
def test_a_listed_status_from_the_wrong_state_is_409(seller_client, seller, catalog, current,
                                                     requested):
    ad = make_ad(owner=seller, category=catalog.phones, status=current)

    with nothing_changes():
        response = request_status(seller_client, ad, requested)

    assert response.status_code == 409
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("ad_invalid_transition", None)]


@pytest.mark.parametrize("status", ["active", "draft", "sold", "pending", "expired", "hidden",
                                    "rejected"])
def test_the_current_status_is_a_no_op(seller_client, seller, catalog, status):
    ad = make_ad(owner=seller, category=catalog.phones, status=status)

    with nothing_changes():
        response = request_status(seller_client, ad, status)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == status


@pytest.mark.parametrize("requested", ["pending", "hidden", "rejected", "expired", "banana",
                                       "ACTIVE"])
def test_statuses_the_owner_cannot_ask_for_are_400(seller_client, phone, requested):
    with nothing_changes():
        response = request_status(seller_client, phone, requested)

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "status")]


def test_status_and_edits_are_all_or_nothing(seller_client, phone):
    # The title edit sends the ad to pending, from where "sold" is no move: nothing is kept.
    with nothing_changes():
        response = request_status(seller_client, phone, "sold", title="Sold already, sorry")

    assert response.status_code == 409


def test_edit_and_status_together(seller_client, phone):
    response = request_status(seller_client, phone, "sold", negotiable=True)

    assert response.status_code == 200, response.json()
    after = reload(phone)
    assert (after.status, after.negotiable) == (AdStatus.SOLD, True)


def test_expired_to_active_renews(seller_client, seller, catalog):
    published = timezone.now() - timedelta(days=40)
    ad = make_ad(owner=seller, category=catalog.phones, status="expired",
                 published_at=published, expires_at=published + timedelta(days=30))

    response = request_status(seller_client, ad, "active")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    after = reload(ad)
    assert after.status == AdStatus.ACTIVE
    assert after.published_at > timezone.now() - timedelta(minutes=1)
    assert after.expires_at == after.published_at + timedelta(days=30)
    assert after.expiry_warned_at is None


def test_active_to_draft_and_back_keeps_the_publication_dates(seller_client, phone):
    request_status(seller_client, phone, "draft")
    request_status(seller_client, phone, "active")

    after = reload(phone)
    assert after.status == AdStatus.ACTIVE
    assert (after.published_at, after.expires_at) == (phone.published_at, phone.expires_at)


# --- counts follow every move -----------------------------------------------------------------


def test_counts_follow_every_move(api, seller_client, seller, catalog, places):
    def counts():
        return (api.get(category_url("mobile-phones")).json()["ad_count"],
                api.get(category_url("electronics")).json()["ad_count"],
                api.get(category_url("laptops")).json()["ad_count"],
                api.get(profile_url(seller.pk)).json()["active_ads_count"])

    body = {"title": "Samsung Galaxy A54", "category": catalog.phones.pk,
            "location": places.westlands.pk, "price": "38500"}
    first = seller_client.post(ADS, body).json()["slug"]
    assert counts() == (1, 1, 0, 1)
    # Another title: the same title and description as a live ad of the owner is held.
    draft = seller_client.post(ADS, {**body, "title": "Tecno Camon 20 Pro", "draft": True}
                               ).json()["slug"]
    assert counts() == (1, 1, 0, 1)
    seller_client.patch(detail_url(draft), {"status": "active"})
    assert counts() == (2, 2, 0, 2)
    seller_client.patch(detail_url(first), {"status": "sold"})
    assert counts() == (1, 1, 0, 1)
    seller_client.patch(detail_url(draft), {"status": "draft"})
    assert counts() == (0, 0, 0, 0)
    seller_client.patch(detail_url(draft), {"status": "active"})
    assert counts() == (1, 1, 0, 1)
    seller_client.patch(detail_url(draft), {"title": "Tecno Camon 20 Pro 256GB"})
    assert counts() == (1, 1, 0, 1)
    seller_client.patch(detail_url(draft), {"category": catalog.laptops.pk})
    assert counts() == (0, 1, 1, 1)
    assert seller_client.delete(detail_url(draft)).status_code == 204
    assert counts() == (0, 0, 0, 0)
    assert seller_client.delete(detail_url(first)).status_code == 204  # a sold one
    assert counts() == (0, 0, 0, 0)
    assert live_count(catalog.vehicles) == 0


# --- the transition table ---------------------------------------------------------------------

STATUSES = list(AdStatus)
ACTORS = list(Actor)
MOVES = [(current, target, actor) for current in STATUSES for target in STATUSES
         for actor in ACTORS]


@pytest.mark.parametrize(("current", "target", "actor"), MOVES,
                         ids=[f"{c.value}-{t.value}-{a.value}" for c, t, a in MOVES])
def test_transition_table(seller, staff, catalog, current, target, actor):
    ad = make_ad(owner=seller, category=catalog.phones, status=current)
    by = {Actor.OWNER: seller, Actor.STAFF: staff, Actor.SYSTEM: None}[actor]
    since = last_audit_pk()

    if actor in TRANSITIONS.get((current, target), frozenset()):
        with TestCase.captureOnCommitCallbacks(execute=False):
            moved = services.change_ad_status(ad_id=ad.pk, to=target, actor=actor, by=by)
        assert moved.status == target
        assert reload(ad).status == target
        [entry] = AuditEntry.objects.filter(pk__gt=since)
        assert entry.action == f"ads.status.{target.value}"
        assert entry.target_id == str(ad.pk)
        assert entry.actor_id == (by.pk if by else None)
        assert (entry.data["from"], entry.data["actor"]) == (current.value, actor.value)
        live = 1 if target == AdStatus.ACTIVE else 0
        assert live_count(catalog.phones) == live_count(catalog.electronics) == live
        assert active_ads_count(seller) == live
    else:
        with nothing_changes(), pytest.raises(InvalidTransition):
            services.change_ad_status(ad_id=ad.pk, to=target, actor=actor, by=by)


def test_the_table_has_the_documented_lifecycle():
    S = AdStatus  # noqa: N806 - reads like the table
    assert {(c, t) for (c, t) in TRANSITIONS} == {
        (S.DRAFT, S.PENDING), (S.REJECTED, S.PENDING), (S.EXPIRED, S.PENDING),
        (S.PENDING, S.ACTIVE), (S.PENDING, S.REJECTED), (S.ACTIVE, S.PENDING),
        (S.ACTIVE, S.SOLD), (S.ACTIVE, S.DRAFT), (S.ACTIVE, S.EXPIRED), (S.ACTIVE, S.HIDDEN),
        (S.HIDDEN, S.ACTIVE), (S.PENDING, S.HIDDEN)}
    assert TRANSITIONS[(S.ACTIVE, S.HIDDEN)] >= {Actor.STAFF}
    assert Actor.OWNER not in TRANSITIONS[(S.PENDING, S.ACTIVE)]


@pytest.mark.parametrize("target", list(AdStatus))
def test_a_deleted_ad_makes_no_move(seller, catalog, target):
    ad = make_ad(owner=seller, category=catalog.phones, deleted=True)

    for actor in Actor:
        with nothing_changes(), pytest.raises(InvalidTransition):
            services.change_ad_status(ad_id=ad.pk, to=target, actor=actor)


# --- delete -----------------------------------------------------------------------------------


def test_owner_deletes(seller_client, buyer_client, api, seller, phone, catalog):
    since = last_audit_pk()

    response = seller_client.delete(detail_url(phone.slug))

    assert response.status_code == 204
    assert response.content == b""
    for client in (seller_client, buyer_client, api):
        assert client.get(detail_url(phone.slug)).status_code == 404
    assert seller_client.delete(detail_url(phone.slug)).status_code == 404
    assert seller_client.patch(detail_url(phone.slug), {"title": "Back again?"}).status_code == 404
    assert seller_client.get(MY_ADS).json()["count"] == 0
    assert api.get(ADS).json()["count"] == 0
    row = reload(phone)
    assert row.deleted_at is not None  # soft: conversations and reports keep their ad
    assert audit_actions(phone, since) == ["ads.deleted"]
    assert live_count(catalog.phones) == 0
    assert active_ads_count(seller) == 0


@pytest.mark.parametrize("status", ["draft", "pending", "sold", "expired", "rejected", "hidden"])
def test_owner_deletes_in_any_status(seller_client, seller, catalog, status):
    ad = make_ad(owner=seller, category=catalog.phones, status=status)

    assert seller_client.delete(detail_url(ad.slug)).status_code == 204
    assert seller_client.get(detail_url(ad.slug)).status_code == 404


# --- expiry -----------------------------------------------------------------------------------


def test_expire_due_ads(seller, catalog, api):
    now = timezone.now()
    due = make_ad(owner=seller, category=catalog.phones, expires_at=now - timedelta(minutes=1))
    fresh = make_ad(owner=seller, category=catalog.phones, expires_at=now + timedelta(days=1))
    sold = make_ad(owner=seller, category=catalog.phones, status="sold",
                   expires_at=now - timedelta(days=1))
    assert live_count(catalog.phones) == 2

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.expire_due_ads() == 1

    assert reload(due).status == AdStatus.EXPIRED
    assert reload(fresh).status == AdStatus.ACTIVE
    assert reload(sold).status == AdStatus.SOLD
    assert live_count(catalog.phones) == 1
    assert active_ads_count(seller) == 1
    assert api.get(detail_url(due.slug)).status_code == 404
    assert audit_actions(due)[-1] == "ads.status.expired"
    assert services.expire_due_ads() == 0


def test_warn_expiring_ads_emails_the_owner_once(seller, buyer, catalog):
    now = timezone.now()
    soon = make_ad(owner=seller, category=catalog.phones, title="Samsung Galaxy A54",
                   expires_at=now + timedelta(days=2, hours=12))
    make_ad(owner=buyer, category=catalog.phones, expires_at=now + timedelta(days=10))
    make_ad(owner=buyer, category=catalog.phones, status="sold",
            expires_at=now + timedelta(days=1))

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.warn_expiring_ads() == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.warn_expiring_ads() == 0

    assert [message.to for message in mail.outbox] == [[seller.email]]
    assert "Samsung Galaxy A54" in mail.outbox[0].subject
    assert reload(soon).expiry_warned_at is not None


def test_a_renewed_ad_is_warned_again(seller_client, seller, catalog):
    published = timezone.now() - timedelta(days=31)
    ad = make_ad(owner=seller, category=catalog.phones, status="expired",
                 published_at=published, expires_at=published + timedelta(days=30),
                 expiry_warned_at=published + timedelta(days=27))

    request_status(seller_client, ad, "active")
    Ad.objects.filter(pk=ad.pk).update(expires_at=timezone.now() + timedelta(days=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.warn_expiring_ads() == 1
    assert len(mail.outbox) == 1
