"""GET plans/ (bare array, anyone), GET payments/ (page of mine, newest first) and
GET payments/<id>/ (mine only; anything else 404)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from apps.payments.models import Payment
from apps.payments.tests.helpers import (
    PAGE_KEYS,
    PAYMENT_KEYS,
    PAYMENTS,
    PLAN_KEYS,
    PLANS,
    TIMESTAMP,
    make_ad,
    make_payment,
    make_plan,
    payment_url,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db


# --- plans ------------------------------------------------------------------------------------


def test_plans_are_a_bare_array_of_active_plans_cheapest_first(api: Any, plans: SimpleNamespace
                                                                ) -> None:
    response = api.get(PLANS)

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert body == [
        {"code": "boost-7", "name": "Boost, 7 days", "tier": "boost", "duration_days": 7,
         "price": "299.00", "currency": "KES"},
        {"code": "featured-7", "name": "Featured, 7 days", "tier": "featured",
         "duration_days": 7, "price": "699.00", "currency": "KES"},
        {"code": "boost-30", "name": "Boost, 30 days", "tier": "boost", "duration_days": 30,
         "price": "899.00", "currency": "KES"},
        {"code": "vip-30", "name": "VIP, 30 days", "tier": "vip", "duration_days": 30,
         "price": "3999.00", "currency": "KES"},
    ]
    assert all(set(plan) == PLAN_KEYS for plan in body)


def test_inactive_plans_are_hidden(api: Any, plans: SimpleNamespace) -> None:
    codes = [plan["code"] for plan in api.get(PLANS).json()]
    assert "old-boost" not in codes

    plans.vip.is_active = False
    plans.vip.save()
    plans.retired.is_active = True
    plans.retired.save()

    codes = [plan["code"] for plan in api.get(PLANS).json()]
    assert "vip-30" not in codes
    assert codes[0] == "old-boost"


def test_plans_without_any_plan_is_an_empty_array(api: Any, db: Any) -> None:
    response = api.get(PLANS)
    assert response.status_code == 200
    assert response.json() == []


def test_plans_keep_their_currency_and_two_decimal_places(api: Any, db: Any) -> None:
    make_plan("usd-boost", "USD boost", "boost", 5, "2.5", currency="USD")

    assert api.get(PLANS).json() == [
        {"code": "usd-boost", "name": "USD boost", "tier": "boost", "duration_days": 5,
         "price": "2.50", "currency": "USD"},
    ]


def test_plans_are_the_same_for_a_signed_in_user(seller_client: Any, api: Any,
                                                  plans: SimpleNamespace) -> None:
    assert seller_client.get(PLANS).json() == api.get(PLANS).json()


# --- payments ---------------------------------------------------------------------------------


@pytest.fixture
def history(seller: Any, other: Any, ad: Any, plans: SimpleNamespace, catalog: SimpleNamespace
            ) -> SimpleNamespace:
    """Three payments of the seller (oldest first) and one of another user."""
    now = timezone.now()
    first = make_payment(user=seller, ad=ad, plan=plans.boost, status="succeeded")
    second = make_payment(user=seller, ad=ad, plan=plans.vip, status="failed")
    third = make_payment(user=seller, ad=ad, plan=plans.featured)
    for age, payment in ((3, first), (2, second), (1, third)):
        Payment.objects.filter(pk=payment.pk).update(created_at=now - timedelta(hours=age))
    other_ad = make_ad(owner=other, category=catalog.phones)
    theirs = make_payment(user=other, ad=other_ad, plan=plans.boost)
    return SimpleNamespace(first=first, second=second, third=third, theirs=theirs)


def test_payments_is_a_page_of_mine_newest_first(seller_client: Any, history: SimpleNamespace,
                                                 ad: Any) -> None:
    response = seller_client.get(PAYMENTS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    assert [p["id"] for p in body["results"]] == [
        str(history.third.pk), str(history.second.pk), str(history.first.pk)]
    newest = body["results"][0]
    assert set(newest) == PAYMENT_KEYS
    assert newest["ad"] == str(ad.pk)
    assert newest["plan"] == "featured-7"
    assert newest["amount"] == "699.00"
    assert newest["currency"] == "KES"
    assert newest["provider"] == "sandbox"
    assert newest["status"] == "pending"
    assert re.match(TIMESTAMP, newest["created_at"])
    assert re.match(TIMESTAMP, newest["updated_at"])
    assert [p["status"] for p in body["results"]] == ["pending", "failed", "succeeded"]


def test_payments_pages(seller_client: Any, history: SimpleNamespace) -> None:
    first_page = seller_client.get(PAYMENTS, {"page_size": 2}).json()
    assert first_page["count"] == 3
    assert len(first_page["results"]) == 2
    assert first_page["next"].startswith("http://testserver/api/payments/?")
    assert first_page["previous"] is None

    second_page = seller_client.get(first_page["next"]).json()
    assert [p["id"] for p in second_page["results"]] == [str(history.first.pk)]
    assert second_page["next"] is None

    assert seller_client.get(PAYMENTS, {"page": 3, "page_size": 2}).status_code == 404


def test_payments_of_someone_without_any_is_an_empty_page(client_for: Any, make_user: Any,
                                                          history: SimpleNamespace) -> None:
    body = client_for(make_user()).get(PAYMENTS).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_other_users_payments_are_never_listed(other_client: Any, history: SimpleNamespace
                                               ) -> None:
    body = other_client.get(PAYMENTS).json()
    assert [p["id"] for p in body["results"]] == [str(history.theirs.pk)]


def test_my_payment_by_id(seller_client: Any, history: SimpleNamespace) -> None:
    response = seller_client.get(payment_url(history.first.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAYMENT_KEYS
    assert body["id"] == str(history.first.pk)
    assert body["plan"] == "boost-7"
    assert body["amount"] == "299.00"
    assert body["status"] == "succeeded"
    # Same representation as in the list.
    listed = {p["id"]: p for p in seller_client.get(PAYMENTS).json()["results"]}
    assert listed[body["id"]] == body


def test_another_users_payment_is_not_found(seller_client: Any, other_client: Any,
                                            history: SimpleNamespace) -> None:
    response = seller_client.get(payment_url(history.theirs.pk))
    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
    assert other_client.get(payment_url(history.first.pk)).status_code == 404


@pytest.mark.parametrize("garbage", ["not-a-uuid", "123", "0", uuid.uuid4().hex[:31],
                                     "%27%20OR%201%3D1", str(uuid.UUID(int=0))])
def test_unknown_or_malformed_payment_ids_are_not_found(seller_client: Any,
                                                        history: SimpleNamespace,
                                                        garbage: str) -> None:
    response = seller_client.get(payment_url(garbage))
    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_a_random_uuid_is_not_found(seller_client: Any, history: SimpleNamespace) -> None:
    assert seller_client.get(payment_url(uuid.uuid4())).status_code == 404


def test_anonymous_gets_401(api: Any, history: SimpleNamespace) -> None:
    for url in (PAYMENTS, payment_url(history.first.pk)):
        response = api.get(url)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert error_codes(response) == [("not_authenticated", None)]


def test_payments_are_read_only(seller_client: Any, history: SimpleNamespace,
                                plans: SimpleNamespace) -> None:
    assert seller_client.post(PAYMENTS, {"plan": "boost-7"}, format="json").status_code == 405
    assert seller_client.delete(payment_url(history.first.pk)).status_code == 405
    assert seller_client.post(PLANS, {}, format="json").status_code == 405
    assert Payment.objects.count() == 4
