"""The seller's view of promotions: GET /api/payments/promotions/ (my promotions still to run,
with their remaining time; `?all=true` adds the ended ones), and that `promotions/` is not
taken for a payment id."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus
from apps.ads.status import Actor
from apps.payments import services
from apps.payments.models import Payment, Promotion
from apps.payments.providers.base import Outcome
from apps.payments.tests.helpers import (
    PAGE_KEYS,
    PAYMENTS,
    TIMESTAMP,
    make_ad,
    make_payment,
    reload,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db

PROMOTIONS = PAYMENTS + "promotions/"
ITEM_KEYS = {"ad", "tier", "starts_at", "ends_at", "remaining_seconds", "payment"}
# Observed once and pinned; the same at page sizes 1 and 20: the caller (token), the count,
# the promotions with their ads (joined).
LIST_QUERIES = 3


def pay(user: Any, ad: Ad, plan: Any) -> Payment:
    """A payment that succeeds through the path a provider's answer takes."""
    payment = make_payment(user=user, ad=ad, plan=plan)
    assert services.settle(payment_id=payment.pk, outcome=Outcome(
        reference=payment.provider_reference, succeeded=True, receipt="R1"), source="test")
    return reload(payment)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def listed(client: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get(PROMOTIONS, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PAGE_KEYS
    return body["results"]


# --- what is listed ---------------------------------------------------------------------------


def test_a_bought_promotion_is_listed_with_its_remaining_time(seller_client, seller, ad,
                                                              plans):
    payment = pay(seller, ad, plans.featured)
    promotion = Promotion.objects.get(payment=payment)

    before = timezone.now()
    (item,) = listed(seller_client)
    after = timezone.now()

    assert set(item) == ITEM_KEYS
    assert item["ad"] == {"id": str(ad.pk), "slug": ad.slug, "title": ad.title}
    assert (item["tier"], item["payment"]) == ("featured", str(payment.pk))
    assert item["starts_at"] == iso(promotion.starts_at)
    assert item["ends_at"] == iso(promotion.ends_at)
    assert re.match(TIMESTAMP, item["ends_at"])
    # whole seconds from the request's now to ends_at
    assert (int((promotion.ends_at - after).total_seconds()) <= item["remaining_seconds"]
            <= int((promotion.ends_at - before).total_seconds()))
    assert 7 * 86400 - 5 <= item["remaining_seconds"] <= 7 * 86400


def test_remaining_seconds_of_a_promotion_half_way_through(seller_client, seller, ad, plans):
    pay(seller, ad, plans.boost)
    now = timezone.now()
    Promotion.objects.update(starts_at=now - timedelta(days=3, hours=6),
                             ends_at=now + timedelta(days=3, hours=18))
    Ad.objects.filter(pk=ad.pk).update(promotion_until=now + timedelta(days=3, hours=18))

    (item,) = listed(seller_client)
    expected = 3 * 86400 + 18 * 3600
    assert expected - 5 <= item["remaining_seconds"] <= expected


def test_a_queued_promotion_counts_its_own_time_only(seller_client, seller, ad, plans):
    """Bought while another runs, it starts when that one ends: its remaining time is its
    own duration, not the time until its end."""
    first = pay(seller, ad, plans.boost)  # 7 days from now
    second = pay(seller, ad, plans.featured)  # the 7 days after those

    items = listed(seller_client)
    assert [item["payment"] for item in items] == [str(second.pk), str(first.pk)]  # newest first
    queued, running = items
    assert queued["starts_at"] == running["ends_at"]
    assert queued["remaining_seconds"] == 7 * 86400
    assert 7 * 86400 - 5 <= running["remaining_seconds"] <= 7 * 86400


def test_ended_promotions_only_with_all_true(seller_client, seller, ad, plans):
    ended = pay(seller, ad, plans.boost)
    now = timezone.now()
    Promotion.objects.filter(payment=ended).update(starts_at=now - timedelta(days=9),
                                                   ends_at=now - timedelta(days=2))
    running = pay(seller, ad, plans.featured)

    assert [item["payment"] for item in listed(seller_client)] == [str(running.pk)]
    everything = listed(seller_client, all="true")
    assert [item["payment"] for item in everything] == [str(running.pk), str(ended.pk)]
    assert everything[1]["remaining_seconds"] == 0
    assert [item["payment"] for item in listed(seller_client, all="false")] == [
        str(running.pk)]


def test_a_refunded_promotion_has_ended(seller_client, seller, staff, ad, plans):
    payment = pay(seller, ad, plans.vip)
    services.refund(payment=payment, staff=staff)

    assert listed(seller_client) == []
    (item,) = listed(seller_client, all="true")
    assert item["remaining_seconds"] == 0


@pytest.mark.parametrize(("to", "actor"), [(AdStatus.SOLD, Actor.OWNER),
                                           (AdStatus.HIDDEN, Actor.STAFF)])
def test_a_promotion_stops_with_its_ad(seller_client, seller, ad, plans, to, actor):
    """The ad loses its promotion when it leaves active: nothing is running any more."""
    pay(seller, ad, plans.vip)
    ad_services.change_ad_status(ad_id=ad.pk, to=to, actor=actor,
                                 by=seller if actor == Actor.OWNER else None)

    assert listed(seller_client) == []
    (item,) = listed(seller_client, all="true")
    assert item["remaining_seconds"] == 0


def test_a_deleted_ad_s_promotion_stops(seller_client, seller, ad, plans):
    pay(seller, ad, plans.boost)
    ad_services.delete_ad(ad=ad, by=seller)
    assert listed(seller_client) == []


def test_an_ad_held_for_moderation_after_an_edit_keeps_its_promotion(seller_client, seller,
                                                                      ad, plans):
    pay(seller, ad, plans.boost)
    ad_services.update_ad(ad=ad, by=seller, changes={"title": "Toyota Axio 2016, one owner"})
    assert reload(ad).status == AdStatus.PENDING

    (item,) = listed(seller_client)
    assert item["remaining_seconds"] > 0
    assert item["ad"]["title"] == "Toyota Axio 2016, one owner"


def test_only_my_promotions(seller_client, other_client, seller, other, ad, catalog, plans):
    mine = pay(seller, ad, plans.boost)
    theirs = pay(other, make_ad(owner=other, category=catalog.cars), plans.vip)
    make_payment(user=seller, ad=ad, plan=plans.vip)  # pending: bought nothing yet

    assert [item["payment"] for item in listed(seller_client)] == [str(mine.pk)]
    assert [item["payment"] for item in listed(other_client, all="true")] == [str(theirs.pk)]


def test_pages_follow_the_contract(seller_client, seller, catalog, plans):
    for _ in range(3):
        pay(seller, make_ad(owner=seller, category=catalog.cars), plans.boost)

    response = seller_client.get(PROMOTIONS, {"page_size": 2})
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].startswith("http://testserver/api/payments/promotions/?")
    assert body["previous"] is None
    assert seller_client.get(PROMOTIONS, {"page": 3, "page_size": 2}).status_code == 404


# --- refusals ---------------------------------------------------------------------------------


def test_anonymous_gets_401(api):
    response = api.get(PROMOTIONS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_codes(response) == [("not_authenticated", None)]


@pytest.mark.parametrize("value", ["yes", "1", "True", "maybe"])
def test_all_other_than_true_or_false_is_400(seller_client, value):
    response = seller_client.get(PROMOTIONS, {"all": value})
    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "all")]


def test_promotions_is_not_read_as_a_payment_id(seller_client, seller, ad, plans):
    payment = pay(seller, ad, plans.boost)
    assert seller_client.get(PROMOTIONS).status_code == 200
    assert seller_client.get(f"{PAYMENTS}{payment.pk}/").json()["id"] == str(payment.pk)
    assert seller_client.get(f"{PAYMENTS}promotion/").status_code == 404
    assert seller_client.post(PROMOTIONS).status_code == 405


# --- cost -------------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_the_page(seller_client, seller, catalog, plans,
                                                 django_assert_num_queries):
    for _ in range(12):
        ad = make_ad(owner=seller, category=catalog.cars)
        pay(seller, ad, plans.boost)
        pay(seller, ad, plans.featured)

    for params in ({"page_size": 1}, {"page_size": 20}, {"page_size": 20, "all": "true"}):
        with django_assert_num_queries(LIST_QUERIES):
            response = seller_client.get(PROMOTIONS, params)
        assert len(response.json()["results"]) == params["page_size"]
