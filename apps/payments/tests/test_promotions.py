"""What a successful payment buys (API.md section 6, Boost): the ad's promotion {tier, until},
extended by later purchases, first in the default listing, ended on time, by the ad leaving
`active`, or by a staff refund."""

from __future__ import annotations

from datetime import UTC, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus
from apps.ads.status import Actor
from apps.common.errors import Conflict
from apps.payments import services, tasks
from apps.payments.models import Payment, PaymentEvent, Promotion
from apps.payments.providers.base import Outcome
from apps.payments.tests.helpers import ad_url, make_ad, make_payment, reload

pytestmark = pytest.mark.django_db

ADS = "/api/ads/"


def pay(user: Any, ad: Ad, plan: Any) -> Payment:
    """A payment that succeeds through the same path a provider's answer takes."""
    payment = make_payment(user=user, ad=ad, plan=plan)
    assert services.settle(payment_id=payment.pk, outcome=Outcome(
        reference=payment.provider_reference, succeeded=True, receipt="R1"), source="test")
    return reload(payment)


def promotion_of(client: Any, ad: Ad) -> Any:
    response = client.get(ad_url(ad.slug))
    assert response.status_code == 200
    return response.json()["promotion"]


def iso(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- what a payment buys --------------------------------------------------------------------


def test_success_sets_the_tier_and_until_now_plus_duration(api: Any, seller: Any, ad: Any,
                                                           plans: SimpleNamespace) -> None:
    assert promotion_of(api, ad) is None
    before = timezone.now()
    payment = pay(seller, ad, plans.featured)
    after = timezone.now()

    ad = reload(ad)
    assert ad.promotion_tier == 2
    assert before + timedelta(days=7) <= ad.promotion_until <= after + timedelta(days=7)
    promotion = Promotion.objects.get(payment=payment)
    assert (promotion.tier, promotion.ad_id, promotion.ends_at) == (
        "featured", ad.pk, ad.promotion_until)
    assert promotion.ends_at - promotion.starts_at == timedelta(days=7)
    assert promotion_of(api, ad) == {"tier": "featured", "until": iso(ad.promotion_until)}


def test_a_second_purchase_extends_from_the_current_until(seller: Any, ad: Any,
                                                          plans: SimpleNamespace) -> None:
    pay(seller, ad, plans.boost)
    first_until = reload(ad).promotion_until

    second = pay(seller, ad, plans.boost30)

    ad = reload(ad)
    assert ad.promotion_tier == 1
    assert ad.promotion_until == first_until + timedelta(days=30)
    assert Promotion.objects.get(payment=second).starts_at == first_until


def test_a_lower_tier_purchase_keeps_the_higher_tier(api: Any, seller: Any, ad: Any,
                                                     plans: SimpleNamespace) -> None:
    pay(seller, ad, plans.vip)
    vip_until = reload(ad).promotion_until

    pay(seller, ad, plans.boost)

    ad = reload(ad)
    assert ad.promotion_tier == 3
    assert ad.promotion_until == vip_until + timedelta(days=7)
    assert promotion_of(api, ad) == {"tier": "vip", "until": iso(ad.promotion_until)}


def test_a_higher_tier_purchase_raises_the_tier_and_still_extends(seller: Any, ad: Any,
                                                                  plans: SimpleNamespace
                                                                  ) -> None:
    pay(seller, ad, plans.boost)
    boost_until = reload(ad).promotion_until

    pay(seller, ad, plans.featured)

    ad = reload(ad)
    assert ad.promotion_tier == 2
    assert ad.promotion_until == boost_until + timedelta(days=7)


def test_a_purchase_after_the_promotion_ended_starts_from_now(seller: Any, ad: Any,
                                                              plans: SimpleNamespace) -> None:
    """until = max(now, until) + duration; a tier whose until has passed no longer counts."""
    Ad.objects.filter(pk=ad.pk).update(promotion_tier=3,
                                       promotion_until=timezone.now() - timedelta(days=2))
    before = timezone.now()

    pay(seller, ad, plans.boost)

    ad = reload(ad)
    assert ad.promotion_tier == 1
    assert ad.promotion_until >= before + timedelta(days=7)
    assert ad.promotion_until <= timezone.now() + timedelta(days=7)


def test_a_failed_payment_buys_nothing(seller: Any, ad: Any, plans: SimpleNamespace) -> None:
    payment = make_payment(user=seller, ad=ad, plan=plans.vip)
    services.settle(payment_id=payment.pk, outcome=Outcome(reference="", succeeded=False),
                    source="test")
    assert reload(ad).promotion_tier == 0
    assert Promotion.objects.count() == 0


def test_a_payment_settled_after_the_ad_was_sold_promotes_nothing(
        seller: Any, ad: Any, plans: SimpleNamespace, api: Any) -> None:
    payment = make_payment(user=seller, ad=ad, plan=plans.vip)
    ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.SOLD, actor=Actor.OWNER, by=seller)

    services.settle(payment_id=payment.pk, outcome=Outcome(reference="", succeeded=True),
                    source="test")

    assert reload(payment).status == "succeeded"
    ad = reload(ad)
    assert (ad.promotion_tier, ad.promotion_until) == (0, None)


# --- the listing ------------------------------------------------------------------------------


def test_the_listing_orders_vip_featured_boost_none_then_newest(
        api: Any, seller: Any, other: Any, catalog: SimpleNamespace,
        plans: SimpleNamespace) -> None:
    now = timezone.now()

    def ad_published(hours_ago: int, owner: Any = seller) -> Ad:
        return make_ad(owner=owner, category=catalog.cars,
                       published_at=now - timedelta(hours=hours_ago))

    plain_new = ad_published(1)
    plain_old = ad_published(50)
    boost_old = ad_published(40)
    boost_new = ad_published(2, other)
    featured = ad_published(30)
    vip_old = ad_published(60, other)
    vip_new = ad_published(20)
    pay(seller, boost_old, plans.boost)
    pay(other, boost_new, plans.boost30)
    pay(seller, featured, plans.featured)
    pay(other, vip_old, plans.vip)
    pay(seller, vip_new, plans.vip)

    body = api.get(ADS).json()

    assert [a["id"] for a in body["results"]] == [
        str(a.pk) for a in (vip_new, vip_old, featured, boost_new, boost_old, plain_new,
                            plain_old)]
    assert [(a["promotion"] or {}).get("tier") for a in body["results"]] == [
        "vip", "vip", "featured", "boost", "boost", None, None]
    # An explicit ordering ignores promotion.
    newest = api.get(ADS, {"ordering": "-published_at"}).json()["results"]
    assert [a["id"] for a in newest] == [
        str(a.pk) for a in (plain_new, boost_new, vip_new, featured, boost_old, plain_old,
                            vip_old)]


# --- promotions end ---------------------------------------------------------------------------


def test_end_expired_promotions_clears_the_tier_once_until_passes(
        api: Any, seller: Any, ad: Any, catalog: SimpleNamespace,
        plans: SimpleNamespace) -> None:
    payment = pay(seller, ad, plans.vip)
    running = make_ad(owner=seller, category=catalog.cars)
    pay(seller, running, plans.boost)
    past = timezone.now() - timedelta(seconds=1)
    Ad.objects.filter(pk=ad.pk).update(promotion_until=past)
    Promotion.objects.filter(payment=payment).update(ends_at=past)

    # Null in the payload as soon as until passes, before the job runs.
    assert promotion_of(api, ad) is None

    assert tasks.end_expired_promotions() == 1

    ad = reload(ad)
    assert (ad.promotion_tier, ad.promotion_until) == (0, None)
    assert promotion_of(api, ad) is None
    assert reload(running).promotion_tier == 1
    assert promotion_of(api, running)["tier"] == "boost"
    assert tasks.end_expired_promotions() == 0
    # The listing no longer puts it first.
    ids = [a["id"] for a in api.get(ADS).json()["results"]]
    assert ids.index(str(running.pk)) < ids.index(str(ad.pk))


@pytest.mark.parametrize("how", ["sold", "draft", "hidden", "expired", "deleted"])
def test_an_ad_leaving_active_loses_its_promotion(api: Any, seller: Any, staff: Any, ad: Any,
                                                  plans: SimpleNamespace, how: str) -> None:
    pay(seller, ad, plans.vip)
    assert reload(ad).promotion_tier == 3

    if how == "deleted":
        ad_services.delete_ad(ad=ad, by=seller)
    else:
        actor = {"sold": Actor.OWNER, "draft": Actor.OWNER, "hidden": Actor.STAFF,
                 "expired": Actor.SYSTEM}[how]
        ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus(how), actor=actor,
                                     by=staff if actor == Actor.STAFF else seller)

    ad = reload(ad)
    assert (ad.promotion_tier, ad.promotion_until) == (0, None)
    if how in ("sold", "draft"):  # still visible to the owner
        assert promotion_of(_client(seller), ad) is None


def _client(user: Any) -> Any:
    from conftest import bearer_client

    return bearer_client(user)


def test_marking_the_ad_sold_through_the_api_ends_the_promotion(seller_client: Any,
                                                                seller: Any, ad: Any,
                                                                plans: SimpleNamespace) -> None:
    pay(seller, ad, plans.featured)
    response = seller_client.patch(ad_url(ad.slug), {"status": "sold"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "sold"
    assert response.json()["promotion"] is None


def test_deleting_the_ad_through_the_api_ends_the_promotion(seller_client: Any, seller: Any,
                                                            ad: Any, plans: SimpleNamespace
                                                            ) -> None:
    pay(seller, ad, plans.featured)
    assert seller_client.delete(ad_url(ad.slug)).status_code == 204
    ad = reload(ad)
    assert (ad.promotion_tier, ad.promotion_until) == (0, None)


# --- refunds ----------------------------------------------------------------------------------


def test_a_staff_refund_marks_refunded_and_ends_the_promotion(api: Any, seller: Any,
                                                              staff: Any, ad: Any,
                                                              plans: SimpleNamespace) -> None:
    payment = pay(seller, ad, plans.vip)

    refunded = services.refund(payment=payment, staff=staff, note="duplicate charge")

    assert refunded.status == "refunded"
    assert reload(payment).status == "refunded"
    event = PaymentEvent.objects.get(payment=payment, to_status="refunded")
    assert (event.from_status, event.source) == ("succeeded", "staff")
    assert event.data == {"note": "duplicate charge", "by": str(staff.pk)}
    assert Promotion.objects.get(payment=payment).ends_at <= timezone.now()
    ad = reload(ad)
    assert (ad.promotion_tier, ad.promotion_until) == (0, None)
    assert promotion_of(api, ad) is None
    assert _client(seller).get(f"/api/payments/{payment.pk}/").json()["status"] == "refunded"


def test_a_second_refund_is_409(seller: Any, staff: Any, ad: Any, plans: SimpleNamespace
                                ) -> None:
    payment = pay(seller, ad, plans.vip)
    services.refund(payment=payment, staff=staff)
    events = PaymentEvent.objects.count()

    with pytest.raises(Conflict) as caught:
        services.refund(payment=payment, staff=staff)

    assert caught.value.status_code == 409
    assert PaymentEvent.objects.count() == events
    assert reload(payment).status == "refunded"


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_only_succeeded_payments_can_be_refunded(seller: Any, staff: Any, ad: Any,
                                                 plans: SimpleNamespace, status: str) -> None:
    payment = make_payment(user=seller, ad=ad, plan=plans.vip, status=status)
    with pytest.raises(Conflict):
        services.refund(payment=payment, staff=staff)
    assert reload(payment).status == status


def test_refunding_one_of_two_purchases_keeps_the_other(seller: Any, staff: Any, ad: Any,
                                                        plans: SimpleNamespace) -> None:
    vip = pay(seller, ad, plans.vip)
    boost = pay(seller, ad, plans.boost)
    vip_promotion = Promotion.objects.get(payment=vip)
    boost_promotion = Promotion.objects.get(payment=boost)

    services.refund(payment=boost, staff=staff)

    ad = reload(ad)
    assert ad.promotion_tier == 3
    assert ad.promotion_until == vip_promotion.ends_at

    services.refund(payment=vip, staff=staff)

    ad = reload(ad)
    assert (ad.promotion_tier, ad.promotion_until) == (0, None)
    assert reload(boost_promotion).ends_at <= timezone.now()  # cut short by its refund


def test_the_admin_refund_action(seller: Any, ad: Any, plans: SimpleNamespace,
                                 make_user: Any) -> None:
    admin_user = make_user(is_staff=True, is_superuser=True)
    paid = pay(seller, ad, plans.vip)
    waiting = make_payment(user=seller, ad=ad, plan=plans.boost)
    browser = Client()
    browser.force_login(admin_user)
    url = reverse("admin:payments_payment_changelist")

    response = browser.post(url, {"action": "refund",
                                  "_selected_action": [str(paid.pk), str(waiting.pk)]},
                            follow=True)

    assert response.status_code == 200
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 payment(s) refunded."]
    assert reload(paid).status == "refunded"
    assert reload(waiting).status == "pending"
    assert PaymentEvent.objects.get(payment=paid, to_status="refunded").data["by"] == str(
        admin_user.pk)
    ad = reload(ad)
    assert (ad.promotion_tier, ad.promotion_until) == (0, None)

    # Again: nothing left to refund, nothing changes.
    events = PaymentEvent.objects.count()
    again = browser.post(url, {"action": "refund", "_selected_action": [str(paid.pk)]},
                         follow=True)
    assert [str(m) for m in get_messages(again.wsgi_request)] == ["0 payment(s) refunded."]
    assert PaymentEvent.objects.count() == events
