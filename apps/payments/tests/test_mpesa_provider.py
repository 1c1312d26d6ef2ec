"""The M-Pesa Daraja provider with Daraja's HTTP mocked (respx): OAuth, STK push, STK query,
and the beat job that settles payments whose callback never came."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.payments import services, tasks
from apps.payments.models import Payment, PaymentEvent, Promotion
from apps.payments.providers.base import ProviderError
from apps.payments.providers.mpesa import TOKEN_CACHE_KEY, MpesaProvider
from apps.payments.tests.helpers import boost_url, make_payment, reload

pytestmark = pytest.mark.django_db

NAIROBI = ZoneInfo("Africa/Nairobi")


def sent(route: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls.last.request.content)
    return body


def expected_password(stamp: str) -> str:
    return base64.b64encode(f"174379test-passkey{stamp}".encode()).decode()


# --- OAuth ------------------------------------------------------------------------------------


def test_the_token_is_fetched_with_basic_auth_and_cached(daraja: SimpleNamespace) -> None:
    provider = MpesaProvider()

    assert provider.token() == "daraja-token-1"
    assert provider.token() == "daraja-token-1"
    assert MpesaProvider().token() == "daraja-token-1"

    assert daraja.oauth.call_count == 1
    request = daraja.oauth.calls.last.request
    assert request.url.params["grant_type"] == "client_credentials"
    credentials = base64.b64encode(b"consumer-key:consumer-secret").decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert cache.get(TOKEN_CACHE_KEY) == "daraja-token-1"
    # Kept until a minute before Daraja's expiry (3599 s).
    assert 3400 < cache.ttl(TOKEN_CACHE_KEY) <= 3539  # type: ignore[attr-defined]


def test_a_cached_token_serves_every_call(daraja: SimpleNamespace, seller: Any, ad: Any,
                                          plans: SimpleNamespace) -> None:
    services.start_boost(user=seller, ad=ad, plan_code="boost-7")
    services.start_boost(user=seller, ad=ad, plan_code="vip-30")

    assert daraja.oauth.call_count == 1
    assert daraja.stk.call_count == 2
    for call in daraja.stk.calls:
        assert call.request.headers["Authorization"] == "Bearer daraja-token-1"


def test_an_expired_token_is_fetched_again(daraja: SimpleNamespace) -> None:
    MpesaProvider().token()
    cache.delete(TOKEN_CACHE_KEY)
    daraja.oauth.respond(200, json={"access_token": "daraja-token-2", "expires_in": "3599"})

    assert MpesaProvider().token() == "daraja-token-2"
    assert daraja.oauth.call_count == 2


@pytest.mark.parametrize("answer", [httpx.Response(400, json={"errorMessage": "Bad creds"}),
                                    httpx.Response(503, text="down"),
                                    httpx.ConnectError("no route")])
def test_oauth_failures_are_provider_errors(daraja: SimpleNamespace, answer: Any) -> None:
    daraja.oauth.mock(side_effect=[answer])
    with pytest.raises(ProviderError):
        MpesaProvider().token()
    assert cache.get(TOKEN_CACHE_KEY) is None


# --- STK push ---------------------------------------------------------------------------------


def test_the_stk_push_request(daraja: SimpleNamespace, seller: Any, ad: Any,
                              plans: SimpleNamespace) -> None:
    before = datetime.now(NAIROBI).replace(microsecond=0)
    payment = services.start_boost(user=seller, ad=ad, plan_code="boost-7", phone="0722 000 111")
    after = datetime.now(NAIROBI)

    body = sent(daraja.stk)
    assert set(body) == {"BusinessShortCode", "Password", "Timestamp", "TransactionType",
                         "Amount", "PartyA", "PartyB", "PhoneNumber", "CallBackURL",
                         "AccountReference", "TransactionDesc"}
    assert body["BusinessShortCode"] == "174379"
    stamp = body["Timestamp"]
    assert re.fullmatch(r"\d{14}", stamp)
    local = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=NAIROBI)
    assert before <= local <= after  # Nairobi time, not UTC
    assert body["Password"] == expected_password(stamp)
    assert body["TransactionType"] == "CustomerPayBillOnline"
    assert body["Amount"] == 299
    assert isinstance(body["Amount"], int)
    assert body["PartyA"] == body["PhoneNumber"] == "254722000111"
    assert body["PartyB"] == "174379"
    assert body["CallBackURL"] == (
        "https://api.example.test/api/payments/callback/mpesa/?token=cb-token-123")
    assert body["AccountReference"] == f"AD{str(ad.pk)[:8].upper()}"
    assert len(body["AccountReference"]) <= 12
    assert "boost-7" in body["TransactionDesc"]
    assert daraja.stk.calls.last.request.headers["Authorization"] == "Bearer daraja-token-1"
    assert (payment.status, payment.provider_reference, payment.phone) == (
        "pending", "ws_CO_1", "+254722000111")
    assert reload(payment).provider_reference == "ws_CO_1"


def test_a_refused_stk_push_fails_the_payment_at_once(daraja: SimpleNamespace, seller: Any,
                                                      ad: Any, plans: SimpleNamespace,
                                                      seller_client: Any) -> None:
    daraja.stk.mock(side_effect=None)
    daraja.stk.respond(200, json={"MerchantRequestID": "1", "CheckoutRequestID": "ws_CO_x",
                                  "ResponseCode": "1", "ResponseDescription": "Rejected"})

    response = seller_client.post(boost_url(ad.slug), {"plan": "boost-7"}, format="json")

    assert response.status_code == 202
    assert response.json()["payment"]["status"] == "failed"
    payment = Payment.objects.get()
    assert payment.status == "failed"
    assert payment.provider_reference == ""
    assert list(payment.events.values_list("from_status", "to_status", "source")) == [
        ("", "pending", "boost"), ("pending", "failed", "start")]
    assert Promotion.objects.count() == 0
    assert reload(ad).promotion_tier == 0


@pytest.mark.parametrize("answer", [
    httpx.Response(400, json={"requestId": "1", "errorCode": "400.002.02",
                              "errorMessage": "Bad Request - Invalid PhoneNumber"}),
    httpx.Response(404, json={"requestId": "1", "errorCode": "404.001.03",
                              "errorMessage": "Invalid Access Token"}),
    httpx.Response(200, text="<html>gateway</html>"),
])
def test_a_daraja_error_answer_fails_the_payment_at_once(daraja: SimpleNamespace, seller: Any,
                                                         ad: Any, plans: SimpleNamespace,
                                                         answer: Any) -> None:
    daraja.stk.mock(side_effect=[answer])

    payment = services.start_boost(user=seller, ad=ad, plan_code="boost-7")

    assert payment.status == "failed"
    assert PaymentEvent.objects.filter(payment=payment, to_status="failed",
                                       source="start").count() == 1


@pytest.mark.parametrize("answer", [httpx.Response(500, json={"errorCode": "500.001.1001",
                                                               "errorMessage": "Busy"}),
                                    httpx.Response(503, text="Service Unavailable"),
                                    httpx.Response(429, text="Too many"),
                                    httpx.ConnectTimeout("slow")])
def test_a_5xx_or_unreachable_daraja_fails_the_payment_with_a_ledger_entry(
        daraja: SimpleNamespace, seller: Any, ad: Any, plans: SimpleNamespace,
        seller_client: Any, answer: Any) -> None:
    daraja.stk.mock(side_effect=[answer])

    response = seller_client.post(boost_url(ad.slug), {"plan": "boost-7"}, format="json")

    assert response.status_code == 202
    assert response.json()["payment"]["status"] == "failed"
    payment = Payment.objects.get()
    assert payment.status == "failed"
    event = PaymentEvent.objects.get(payment=payment, to_status="failed")
    assert (event.from_status, event.source) == ("pending", "start")
    assert event.data["detail"].startswith("daraja")
    assert Promotion.objects.count() == 0


def test_an_oauth_failure_at_start_fails_the_payment(daraja: SimpleNamespace, seller: Any,
                                                     ad: Any, plans: SimpleNamespace) -> None:
    daraja.oauth.respond(500, text="down")
    payment = services.start_boost(user=seller, ad=ad, plan_code="boost-7")
    assert payment.status == "failed"
    assert not daraja.stk.called


def test_the_stk_push_bills_whole_shillings(daraja: SimpleNamespace, seller: Any, ad: Any,
                                            plans: SimpleNamespace) -> None:
    services.start_boost(user=seller, ad=ad, plan_code="vip-30")
    assert sent(daraja.stk)["Amount"] == 3999


# --- STK query --------------------------------------------------------------------------------


@pytest.fixture
def mpesa_payment(seller: Any, ad: Any, plans: SimpleNamespace, daraja: SimpleNamespace
                  ) -> Payment:
    return make_payment(user=seller, ad=ad, plan=plans.boost, provider="mpesa",
                        reference="ws_CO_191220191020363925", phone="+254712345678")


def query_answer(code: str, desc: str) -> httpx.Response:
    return httpx.Response(200, json={
        "ResponseCode": "0", "ResponseDescription": "The service request has been accepted "
        "successsfully", "MerchantRequestID": "22205-34066-1",
        "CheckoutRequestID": "ws_CO_191220191020363925", "ResultCode": code, "ResultDesc": desc})


def test_query_status_success(daraja: SimpleNamespace, mpesa_payment: Payment) -> None:
    daraja.query.mock(return_value=query_answer(
        "0", "The service request is processed successfully."))

    outcome = MpesaProvider().query_status(payment=mpesa_payment)

    assert outcome.succeeded is True
    assert outcome.reference == "ws_CO_191220191020363925"
    body = sent(daraja.query)
    assert set(body) == {"BusinessShortCode", "Password", "Timestamp", "CheckoutRequestID"}
    assert body["CheckoutRequestID"] == "ws_CO_191220191020363925"
    assert body["BusinessShortCode"] == "174379"
    assert body["Password"] == expected_password(body["Timestamp"])


@pytest.mark.parametrize(("code", "desc"), [("1032", "Request cancelled by user"),
                                            ("1037", "DS timeout user cannot be reached"),
                                            ("1", "The balance is insufficient")])
def test_query_status_failure(daraja: SimpleNamespace, mpesa_payment: Payment, code: str,
                              desc: str) -> None:
    daraja.query.mock(return_value=query_answer(code, desc))
    outcome = MpesaProvider().query_status(payment=mpesa_payment)
    assert outcome.succeeded is False
    assert outcome.detail == desc


@pytest.mark.parametrize("answer", [
    # What Daraja answers while the buyer has not acted yet: HTTP 500 with this error code.
    httpx.Response(500, json={"requestId": "ws_CO_191220191020363925",
                              "errorCode": "500.001.1001",
                              "errorMessage": "The transaction is being processed"}),
    httpx.Response(200, json={"ResponseCode": "0", "ResultCode": "4999",
                              "ResultDesc": "The transaction is still under processing"}),
    httpx.Response(200, json={"ResponseCode": "0"}),
])
def test_query_status_still_processing(daraja: SimpleNamespace, mpesa_payment: Payment,
                                       answer: httpx.Response) -> None:
    daraja.query.mock(return_value=answer)
    outcome = MpesaProvider().query_status(payment=mpesa_payment)
    assert outcome.succeeded is None


@pytest.mark.parametrize("answer", [httpx.Response(503, text="down"),
                                    httpx.Response(500, json={"errorCode": "500.003.02",
                                                              "errorMessage": "System busy"}),
                                    httpx.ReadTimeout("slow")])
def test_query_status_when_daraja_fails_is_a_provider_error(daraja: SimpleNamespace,
                                                            mpesa_payment: Payment,
                                                            answer: Any) -> None:
    daraja.query.mock(side_effect=[answer])
    with pytest.raises(ProviderError):
        MpesaProvider().query_status(payment=mpesa_payment)


# --- stale payments ---------------------------------------------------------------------------


def age(payment: Payment, minutes: float) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes))


def test_query_stale_payments_settles_and_times_out(daraja: SimpleNamespace, seller: Any,
                                                    ad: Any, plans: SimpleNamespace,
                                                    settings: Any) -> None:
    settings.PAYMENT_PENDING_TIMEOUT_MINUTES = 30

    def mpesa(reference: str, minutes: float, status: str = "pending") -> Payment:
        payment = make_payment(user=seller, ad=ad, plan=plans.boost, provider="mpesa",
                               reference=reference, status=status)
        age(payment, minutes)
        return payment

    paid = mpesa("ws_paid", 5)
    cancelled = mpesa("ws_cancelled", 5)
    processing = mpesa("ws_processing", 5)
    abandoned = mpesa("ws_abandoned", 31)
    unreachable = mpesa("ws_unreachable", 5)
    fresh = mpesa("ws_fresh", 1)
    settled = mpesa("ws_settled", 60, status="failed")

    answers = {
        "ws_paid": query_answer("0", "The service request is processed successfully."),
        "ws_cancelled": query_answer("1032", "Request cancelled by user"),
        "ws_processing": httpx.Response(500, json={"errorCode": "500.001.1001",
                                                   "errorMessage": "The transaction is being "
                                                                   "processed"}),
        "ws_abandoned": httpx.Response(500, json={"errorCode": "500.001.1001",
                                                  "errorMessage": "The transaction is being "
                                                                  "processed"}),
        "ws_unreachable": httpx.Response(503, text="down"),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return answers[json.loads(request.content)["CheckoutRequestID"]]

    daraja.query.mock(side_effect=answer)

    checked = tasks.query_stale_payments()

    assert checked == 5
    asked = {json.loads(call.request.content)["CheckoutRequestID"] for call in
             daraja.query.calls}
    assert asked == {"ws_paid", "ws_cancelled", "ws_processing", "ws_abandoned",
                     "ws_unreachable"}
    assert {p.provider_reference: reload(p).status for p in
            (paid, cancelled, processing, abandoned, unreachable, fresh, settled)} == {
        "ws_paid": "succeeded", "ws_cancelled": "failed", "ws_processing": "pending",
        "ws_abandoned": "failed", "ws_unreachable": "pending", "ws_fresh": "pending",
        "ws_settled": "failed"}
    assert PaymentEvent.objects.get(payment=paid, to_status="succeeded").source == "status_query"
    timed_out = PaymentEvent.objects.get(payment=abandoned, to_status="failed")
    assert timed_out.source == "status_query"
    assert timed_out.data["detail"] == "no answer from the provider in time"
    assert Promotion.objects.filter(payment=paid).count() == 1
    assert Promotion.objects.count() == 1
    assert reload(ad).promotion_tier == 1

    # Run again: the settled ones are left alone, nothing is applied twice.
    tasks.query_stale_payments()
    assert Promotion.objects.count() == 1
    assert PaymentEvent.objects.filter(payment=paid, to_status="succeeded").count() == 1


def test_a_late_callback_after_the_status_query_changes_nothing(
        api: Any, daraja: SimpleNamespace, mpesa_payment: Payment) -> None:
    from apps.payments.tests.helpers import daraja_success, mpesa_callback, payment_state

    age(mpesa_payment, 5)
    daraja.query.mock(return_value=query_answer("0", "ok"))
    services.query_stale_payments()
    state = payment_state()

    assert mpesa_callback(api, daraja_success(mpesa_payment.provider_reference)).status_code == 200
    assert payment_state() == state


def test_stale_sandbox_payments_fail_after_the_timeout(seller: Any, ad: Any,
                                                       plans: SimpleNamespace,
                                                       sandbox: Any) -> None:
    sandbox.PAYMENT_PENDING_TIMEOUT_MINUTES = 30
    waiting = make_payment(user=seller, ad=ad, plan=plans.boost)
    given_up = make_payment(user=seller, ad=ad, plan=plans.boost)
    age(waiting, 10)
    age(given_up, 45)

    assert services.query_stale_payments() == 2

    assert reload(waiting).status == "pending"
    assert reload(given_up).status == "failed"


def test_one_garbled_answer_does_not_stop_the_others(daraja: SimpleNamespace, seller: Any,
                                                     ad: Any, plans: SimpleNamespace) -> None:
    garbled = make_payment(user=seller, ad=ad, plan=plans.boost, provider="mpesa",
                           reference="ws_garbled")
    paid = make_payment(user=seller, ad=ad, plan=plans.boost, provider="mpesa",
                        reference="ws_paid")
    age(garbled, 10)
    age(paid, 5)

    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["CheckoutRequestID"] == "ws_garbled":
            return httpx.Response(200, text="<html>proxy error</html>")
        return query_answer("0", "The service request is processed successfully.")

    daraja.query.mock(side_effect=answer)

    assert services.query_stale_payments() == 2

    assert reload(garbled).status == "pending"
    assert reload(paid).status == "succeeded"
