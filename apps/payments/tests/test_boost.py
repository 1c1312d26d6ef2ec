"""POST /api/ads/<slug>/boost/ (API.md section 6): 202 {"payment"}, the checks in the
contract's order, M-Pesa phone numbers, and Idempotency-Key semantics.

In tests Celery is eager and the `api`/`client_for` clients run on_commit hooks when a request
ends, so the sandbox's own confirmation runs at the boost's commit: the 202 body says `pending`
(the answer is built before the commit) and the payment is `succeeded` right after.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from apps.ads.models import AdStatus
from apps.common import idempotency
from apps.common.models import IdempotencyRecord
from apps.notifications.models import OutboundMessage
from apps.payments.models import Payment, PaymentEvent, Promotion
from apps.payments.tests.helpers import (
    PAYMENT_KEYS,
    TIMESTAMP,
    boost_url,
    make_ad,
    make_plan,
    payment_url,
    reload,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db


def boost(client: Any, ad: Any, body: Any = None, *, key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(boost_url(ad.slug), {"plan": "boost-7"} if body is None else body,
                       format="json", **headers)


def nothing_created() -> dict[str, int]:
    return {"payments": Payment.objects.count(), "events": PaymentEvent.objects.count(),
            "promotions": Promotion.objects.count(),
            "keys": IdempotencyRecord.objects.count()}


EMPTY = {"payments": 0, "events": 0, "promotions": 0, "keys": 0}


# --- the happy path ---------------------------------------------------------------------------


def test_boost_answers_202_with_the_pending_payment(seller_client: Any, seller: Any, ad: Any,
                                                    plans: SimpleNamespace, sandbox: Any
                                                    ) -> None:
    response = boost(seller_client, ad, {"plan": "featured-7"})

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"payment"}
    payment = body["payment"]
    assert set(payment) == PAYMENT_KEYS
    row = Payment.objects.get()
    assert payment["id"] == str(row.pk)
    assert payment["ad"] == str(ad.pk)
    assert payment["plan"] == "featured-7"
    assert payment["amount"] == "699.00"
    assert payment["currency"] == "KES"
    assert payment["provider"] == "sandbox"
    assert payment["status"] == "pending"
    assert re.match(TIMESTAMP, payment["created_at"])
    assert re.match(TIMESTAMP, payment["updated_at"])
    assert row.user_id == seller.pk
    assert row.amount == Decimal("699.00")
    assert row.provider_reference == f"sbx-{row.pk}"


def test_the_sandbox_confirms_the_boost_at_commit(seller_client: Any, ad: Any,
                                                  plans: SimpleNamespace, sandbox: Any) -> None:
    """What really happens in tests: the confirmation task runs when the request commits."""
    response = boost(seller_client, ad)
    assert response.json()["payment"]["status"] == "pending"

    row = Payment.objects.get()
    assert row.status == "succeeded"
    assert row.receipt == f"SBX{row.provider_reference[:8].upper()}"
    assert list(row.events.values_list("from_status", "to_status", "source")) == [
        ("", "pending", "boost"), ("pending", "succeeded", "callback:sandbox")]
    assert Promotion.objects.filter(payment=row).count() == 1
    assert reload(ad).promotion_tier == 1
    detail = seller_client.get(payment_url(row.pk)).json()
    assert detail["status"] == "succeeded"
    assert OutboundMessage.objects.filter(subject="Receipt: Boost, 7 days").count() == 1


def test_amount_and_currency_are_the_plans_at_purchase(seller_client: Any, ad: Any,
                                                       plans: SimpleNamespace, sandbox: Any
                                                       ) -> None:
    make_plan("usd-vip", "USD VIP", "vip", 3, "12.50", currency="USD")
    payment = boost(seller_client, ad, {"plan": "usd-vip"}).json()["payment"]
    assert (payment["amount"], payment["currency"]) == ("12.50", "USD")

    plans.boost.price = Decimal("999.00")
    plans.boost.save()
    first = Payment.objects.get()
    assert seller_client.get(payment_url(first.pk)).json()["amount"] == "12.50"
    second = boost(seller_client, ad, {"plan": "boost-7"}).json()["payment"]
    assert second["amount"] == "999.00"


def test_read_only_fields_in_the_body_are_ignored(seller_client: Any, ad: Any,
                                                  plans: SimpleNamespace, sandbox: Any) -> None:
    response = boost(seller_client, ad, {"plan": "boost-7", "amount": "1.00", "status":
                                         "succeeded", "provider": "mpesa", "currency": "USD"})
    assert response.status_code == 202
    payment = response.json()["payment"]
    assert (payment["amount"], payment["currency"], payment["provider"], payment["status"]) == (
        "299.00", "KES", "sandbox", "pending")


def test_a_plan_limited_to_a_parent_category_is_offered_in_its_children(
        seller_client: Any, seller: Any, catalog: SimpleNamespace, plans: SimpleNamespace,
        sandbox: Any) -> None:
    make_plan("phones-vip", "Phones VIP", "vip", 7, "500.00", categories=[catalog.electronics])
    phone_ad = make_ad(owner=seller, category=catalog.phones)

    assert boost(seller_client, phone_ad, {"plan": "phones-vip"}).status_code == 202


# --- refusals, in the contract's order ----------------------------------------------------------


def test_anonymous_gets_401(api: Any, ad: Any, plans: SimpleNamespace) -> None:
    response = boost(api, ad)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_codes(response) == [("not_authenticated", None)]
    assert nothing_created() == EMPTY


def test_another_users_active_ad_is_403(other_client: Any, ad: Any, plans: SimpleNamespace,
                                        sandbox: Any) -> None:
    response = boost(other_client, ad, key="k-403")
    assert response.status_code == 403
    assert error_codes(response) == [("permission_denied", None)]
    assert nothing_created() == EMPTY


def test_someone_elses_draft_is_404(other_client: Any, seller: Any, catalog: SimpleNamespace,
                                    plans: SimpleNamespace) -> None:
    draft = make_ad(owner=seller, category=catalog.cars, status=AdStatus.DRAFT)
    response = boost(other_client, draft)
    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
    assert nothing_created() == EMPTY


def test_unknown_or_deleted_ads_are_404(seller_client: Any, seller: Any, ad: Any,
                                        plans: SimpleNamespace) -> None:
    from apps.ads import services as ad_services

    response = seller_client.post("/api/ads/no-such-ad/boost/", {"plan": "boost-7"},
                                  format="json")
    assert response.status_code == 404
    ad_services.delete_ad(ad=ad, by=seller)
    assert boost(seller_client, ad).status_code == 404
    assert nothing_created() == EMPTY


def test_only_post(seller_client: Any, ad: Any) -> None:
    assert seller_client.get(boost_url(ad.slug)).status_code == 405


@pytest.mark.parametrize("body", [{"plan": "gold-forever"}, {"plan": "old-boost"},
                                  {"plan": 12}, {"plan": ""}, {}, {"plan": None},
                                  {"plan": "x" * 51}, {"plan": ["boost-7"]}])
def test_unknown_or_missing_plan_is_400_on_plan(seller_client: Any, ad: Any,
                                                plans: SimpleNamespace, sandbox: Any,
                                                body: dict[str, Any]) -> None:
    response = boost(seller_client, ad, body)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [attr for _, attr in error_codes(response)] == ["plan"]
    assert nothing_created() == EMPTY


def test_unknown_plan_code(seller_client: Any, ad: Any, plans: SimpleNamespace) -> None:
    response = boost(seller_client, ad, {"plan": "gold-forever"})
    assert error_codes(response) == [("invalid_choice", "plan")]


def test_a_plan_not_offered_in_the_ads_category_is_400(seller_client: Any, ad: Any,
                                                       catalog: SimpleNamespace,
                                                       plans: SimpleNamespace) -> None:
    make_plan("phones-vip", "Phones VIP", "vip", 7, "500.00", categories=[catalog.electronics])

    response = boost(seller_client, ad, {"plan": "phones-vip"})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "plan")]
    assert nothing_created() == EMPTY


@pytest.mark.parametrize("status", [AdStatus.DRAFT, AdStatus.PENDING, AdStatus.SOLD,
                                    AdStatus.HIDDEN, AdStatus.EXPIRED])
def test_an_ad_that_is_not_active_is_400(seller_client: Any, seller: Any,
                                         catalog: SimpleNamespace, plans: SimpleNamespace,
                                         status: str) -> None:
    mine = make_ad(owner=seller, category=catalog.cars, status=status)

    response = boost(seller_client, mine)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [("invalid", "ad")]
    assert nothing_created() == EMPTY


def test_invalid_json_is_a_parse_error(seller_client: Any, ad: Any, plans: SimpleNamespace
                                       ) -> None:
    response = seller_client.post(boost_url(ad.slug), data="{plan:", content_type=
                                  "application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("parse_error", None)]
    assert nothing_created() == EMPTY


# --- M-Pesa phone numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["0201234567", "+255712345678", "12345", "not a phone",
                                   "+254712345", "0712 345 678 9"])
def test_mpesa_needs_a_kenyan_mpesa_number(seller_client: Any, ad: Any, plans: SimpleNamespace,
                                           daraja: SimpleNamespace, phone: str) -> None:
    response = boost(seller_client, ad, {"plan": "boost-7", "phone": phone})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "phone")]
    assert nothing_created() == EMPTY
    assert not daraja.stk.called


def test_mpesa_without_a_phone_and_none_on_the_account_is_400(
        client_for: Any, make_user: Any, catalog: SimpleNamespace, plans: SimpleNamespace,
        daraja: SimpleNamespace) -> None:
    owner = make_user()
    mine = make_ad(owner=owner, category=catalog.cars)
    response = boost(client_for(owner), mine)
    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "phone")]
    assert nothing_created() == EMPTY


@pytest.mark.parametrize(("phone", "e164"), [("0712 345 678", "+254712345678"),
                                             ("+254-722-000-111", "+254722000111"),
                                             ("0110123456", "+254110123456"),
                                             ("254799888777", "+254799888777")])
def test_mpesa_accepts_kenyan_mpesa_numbers_however_spelled(
        seller_client: Any, ad: Any, plans: SimpleNamespace, daraja: SimpleNamespace,
        phone: str, e164: str) -> None:
    response = boost(seller_client, ad, {"plan": "boost-7", "phone": phone})

    assert response.status_code == 202
    payment = response.json()["payment"]
    assert (payment["provider"], payment["status"]) == ("mpesa", "pending")
    row = Payment.objects.get()
    assert row.phone == e164
    assert row.provider_reference == "ws_CO_1"
    sent = json.loads(daraja.stk.calls.last.request.content)
    assert sent["PhoneNumber"] == sent["PartyA"] == e164.lstrip("+")


def test_mpesa_uses_the_accounts_phone_when_none_is_given(seller_client: Any, ad: Any,
                                                          plans: SimpleNamespace,
                                                          daraja: SimpleNamespace) -> None:
    assert boost(seller_client, ad).status_code == 202
    assert Payment.objects.get().phone == "+254712345678"


@pytest.mark.parametrize(("currency", "price"), [("USD", "12.00"), ("KES", "299.50")])
def test_mpesa_refuses_a_plan_it_cannot_bill_exactly(seller_client: Any, ad: Any,
                                                     plans: SimpleNamespace,
                                                     daraja: SimpleNamespace, currency: str,
                                                     price: str) -> None:
    """M-Pesa bills whole Kenyan shillings: a USD plan or one with cents would be charged
    something else than its price (int(12.00 USD) = KES 12), so it is refused, on `plan`."""
    make_plan("odd-plan", "Odd plan", "boost", 7, price, currency=currency)

    response = boost(seller_client, ad, {"plan": "odd-plan"})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "plan")]
    assert nothing_created() == EMPTY
    assert not daraja.stk.called


def test_the_sandbox_ignores_the_phone_check(seller_client: Any, ad: Any, plans: SimpleNamespace,
                                             sandbox: Any) -> None:
    assert boost(seller_client, ad, {"plan": "boost-7", "phone": "12345"}).status_code == 202


# --- Idempotency-Key --------------------------------------------------------------------------


def test_same_key_and_body_get_the_same_answer_and_one_payment(
        seller_client: Any, ad: Any, plans: SimpleNamespace, sandbox: Any) -> None:
    first = boost(seller_client, ad, key="retry-1")
    assert first.status_code == 202
    state = nothing_created()

    for _ in range(3):
        again = boost(seller_client, ad, key="retry-1")
        assert again.status_code == 202
        assert again.json() == first.json()

    assert nothing_created() == state
    assert Payment.objects.count() == 1
    # The replay is the first answer, even though the payment has moved on since.
    assert Payment.objects.get().status == "succeeded"
    assert again.json()["payment"]["status"] == "pending"


def test_the_order_of_body_keys_does_not_matter(seller_client: Any, ad: Any,
                                                plans: SimpleNamespace, sandbox: Any) -> None:
    first = seller_client.post(boost_url(ad.slug), data='{"plan": "boost-7", "phone": ""}',
                               content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    again = seller_client.post(boost_url(ad.slug), data='{"phone": "", "plan": "boost-7"}',
                               content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("other_body", [{"plan": "vip-30"}, {"plan": "boost-7", "phone": "0712"},
                                        {"plan": "boost-7", "extra": 1}])
def test_same_key_with_another_body_is_422(seller_client: Any, ad: Any, plans: SimpleNamespace,
                                           sandbox: Any, other_body: dict[str, Any]) -> None:
    assert boost(seller_client, ad, key="k1").status_code == 202
    state = nothing_created()

    response = boost(seller_client, ad, other_body, key="k1")

    assert response.status_code == 422
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("idempotency_key_reused", None)]
    assert nothing_created() == state


def test_same_key_on_another_ad_is_422(seller_client: Any, seller: Any, ad: Any,
                                       catalog: SimpleNamespace, plans: SimpleNamespace,
                                       sandbox: Any) -> None:
    second_ad = make_ad(owner=seller, category=catalog.phones)
    assert boost(seller_client, ad, key="k1").status_code == 202

    response = boost(seller_client, second_ad, key="k1")

    assert response.status_code == 422
    assert error_codes(response) == [("idempotency_key_reused", None)]
    assert Payment.objects.filter(ad=second_ad).count() == 0


def test_keys_belong_to_one_user(seller_client: Any, other: Any, other_client: Any, ad: Any,
                                 catalog: SimpleNamespace, plans: SimpleNamespace,
                                 sandbox: Any) -> None:
    theirs = make_ad(owner=other, category=catalog.cars)
    mine = boost(seller_client, ad, key="shared").json()
    response = boost(other_client, theirs, key="shared")

    assert response.status_code == 202
    assert response.json()["payment"]["id"] != mine["payment"]["id"]
    assert Payment.objects.count() == 2


def test_a_key_over_255_characters_is_400(seller_client: Any, ad: Any, plans: SimpleNamespace,
                                          sandbox: Any) -> None:
    response = boost(seller_client, ad, key="k" * 256)
    assert response.status_code == 400
    assert error_codes(response) == [("max_length", "Idempotency-Key")]
    assert nothing_created() == EMPTY

    assert boost(seller_client, ad, key="k" * 255).status_code == 202


def test_while_the_first_request_holds_the_key_409(seller_client: Any, seller: Any, ad: Any,
                                                   plans: SimpleNamespace, sandbox: Any) -> None:
    body = {"plan": "boost-7"}
    IdempotencyRecord.objects.create(
        user=seller, scope="boost", key="busy",
        fingerprint=idempotency.fingerprint({"ad": str(ad.pk), **body}))

    response = boost(seller_client, ad, body, key="busy")

    assert response.status_code == 409
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("idempotency_key_in_use", None)]
    assert Payment.objects.count() == 0
    assert IdempotencyRecord.objects.get().status_code is None  # still the first request's


def test_another_body_while_the_key_is_held_is_422(seller_client: Any, seller: Any, ad: Any,
                                                   plans: SimpleNamespace) -> None:
    IdempotencyRecord.objects.create(
        user=seller, scope="boost", key="busy",
        fingerprint=idempotency.fingerprint({"ad": str(ad.pk), "plan": "boost-7"}))

    response = boost(seller_client, ad, {"plan": "vip-30"}, key="busy")

    assert response.status_code == 422
    assert error_codes(response) == [("idempotency_key_reused", None)]


def test_without_a_key_every_request_is_a_new_payment(seller_client: Any, ad: Any,
                                                      plans: SimpleNamespace, sandbox: Any
                                                      ) -> None:
    ids = {boost(seller_client, ad).json()["payment"]["id"] for _ in range(3)}
    ids.add(boost(seller_client, ad, key="").json()["payment"]["id"])  # empty: no key

    assert len(ids) == 4
    assert Payment.objects.count() == 4
    assert IdempotencyRecord.objects.count() == 0


def test_a_key_lasts_24_hours(seller_client: Any, ad: Any, plans: SimpleNamespace,
                              sandbox: Any) -> None:
    first = boost(seller_client, ad, key="daily").json()
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=23))
    assert boost(seller_client, ad, key="daily").json() == first

    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    response = boost(seller_client, ad, {"plan": "vip-30"}, key="daily")

    assert response.status_code == 202
    assert response.json()["payment"]["plan"] == "vip-30"
    assert Payment.objects.count() == 2


def test_a_4xx_is_not_stored_against_the_key(seller_client: Any, seller: Any,
                                             catalog: SimpleNamespace, plans: SimpleNamespace,
                                             sandbox: Any) -> None:
    """Decided from the code: a refused request (400) stores nothing, so the same key and body
    get the same 400 while the cause lasts, and go through once it is gone."""
    draft = make_ad(owner=seller, category=catalog.cars, status=AdStatus.DRAFT)

    first = boost(seller_client, draft, key="fix-and-retry")
    again = boost(seller_client, draft, key="fix-and-retry")

    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert nothing_created() == EMPTY

    unknown = boost(seller_client, draft, {"plan": "nope"}, key="fix-and-retry")
    assert error_codes(unknown) == [("invalid_choice", "plan")]  # not 422: nothing was stored

    from apps.ads import services as ad_services
    from apps.ads.status import Actor

    ad_services.change_ad_status(ad_id=draft.pk, to=AdStatus.PENDING, actor=Actor.OWNER,
                                 by=seller)
    ad_services.change_ad_status(ad_id=draft.pk, to=AdStatus.ACTIVE, actor=Actor.SYSTEM)
    done = boost(seller_client, draft, key="fix-and-retry")

    assert done.status_code == 202
    assert boost(seller_client, draft, key="fix-and-retry").json() == done.json()
    assert error_codes(boost(seller_client, draft, {"plan": "nope"}, key="fix-and-retry")) == [
        ("idempotency_key_reused", None)]
    assert Payment.objects.count() == 1


def test_a_403_with_a_key_stores_nothing(other_client: Any, other: Any, ad: Any,
                                         catalog: SimpleNamespace, plans: SimpleNamespace,
                                         sandbox: Any) -> None:
    assert boost(other_client, ad, key="k").status_code == 403
    theirs = make_ad(owner=other, category=catalog.cars)
    assert boost(other_client, theirs, key="k").status_code == 202


def test_a_failed_mpesa_start_is_replayed_as_answered(seller_client: Any, ad: Any,
                                                      plans: SimpleNamespace,
                                                      daraja: SimpleNamespace) -> None:
    """The 202 with a failed payment is an answer like any other: replayed, not retried."""
    daraja.stk.mock(side_effect=None)
    daraja.stk.respond(200, json={"ResponseCode": "1", "ResponseDescription": "Rejected",
                                  "errorMessage": "Invalid PhoneNumber"})

    first = boost(seller_client, ad, key="k")
    again = boost(seller_client, ad, key="k")

    assert first.status_code == again.status_code == 202
    assert first.json()["payment"]["status"] == "failed"
    assert again.json() == first.json()
    assert daraja.stk.call_count == 1
    assert Payment.objects.count() == 1
