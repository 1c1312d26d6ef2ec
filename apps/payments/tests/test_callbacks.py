"""POST /api/payments/callback/<provider>/ (API.md section 9): verified by signature (sandbox)
or shared secret (M-Pesa); unknown provider 404; unverified or not configured 403 and nothing
changes; idempotent, whatever the order.

Payments here are started through `services.start_boost` outside any request, so the
sandbox's own confirmation (queued on commit) never runs: each test sends the callbacks itself.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail

from apps.payments import services
from apps.payments.models import Payment, PaymentEvent, Promotion
from apps.payments.providers import sandbox as sandbox_provider
from apps.payments.tests.helpers import (
    PAYMENTS,
    SANDBOX_CALLBACK,
    daraja_cancelled,
    daraja_success,
    make_payment,
    mpesa_callback,
    payment_state,
    reload,
    sandbox_callback,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


def receipts(to: str) -> list[Any]:
    return [m for m in mail.outbox if to in m.to and m.subject.startswith("Receipt:")]


def assert_rejected(response: Any) -> None:
    assert response.status_code == 403
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("permission_denied", None)]


@pytest.fixture
def pending(seller: Any, ad: Any, plans: SimpleNamespace, sandbox: Any) -> Payment:
    payment = services.start_boost(user=seller, ad=ad, plan_code="boost-7")
    assert payment.status == "pending"
    assert payment.provider_reference == f"sbx-{payment.pk}"
    return payment


@pytest.fixture
def mpesa_pending(seller: Any, ad: Any, plans: SimpleNamespace, daraja: SimpleNamespace
                  ) -> Payment:
    payment = services.start_boost(user=seller, ad=ad, plan_code="boost-7")
    assert (payment.provider, payment.status, payment.provider_reference) == (
        "mpesa", "pending", "ws_CO_1")
    return payment


# --- sandbox ----------------------------------------------------------------------------------


def test_a_signed_sandbox_callback_settles_the_payment(api: Any, seller: Any, ad: Any,
                                                       pending: Payment) -> None:
    response = sandbox_callback(api, pending)

    assert response.status_code == 200
    assert response.json() == ACCEPTED
    payment = reload(pending)
    assert payment.status == "succeeded"
    assert payment.receipt == f"SBX{payment.provider_reference[:8].upper()}"
    assert list(payment.events.values_list("from_status", "to_status", "source")) == [
        ("", "pending", "boost"), ("pending", "succeeded", "callback:sandbox")]
    assert Promotion.objects.filter(payment=payment, tier="boost").count() == 1
    assert reload(ad).promotion_tier == 1
    assert len(receipts(seller.email)) == 1


def test_a_repeated_sandbox_callback_changes_nothing(api: Any, seller: Any, pending: Payment
                                                     ) -> None:
    assert sandbox_callback(api, pending).status_code == 200
    state = payment_state()

    again = sandbox_callback(api, pending)

    assert again.status_code == 200
    assert payment_state() == state
    assert PaymentEvent.objects.filter(payment=pending, to_status="succeeded").count() == 1
    assert Promotion.objects.count() == 1
    assert len(receipts(seller.email)) == 1


def test_a_failed_sandbox_callback_fails_the_payment(api: Any, seller: Any, ad: Any,
                                                     pending: Payment) -> None:
    assert sandbox_callback(api, pending, succeeded=False).status_code == 200

    assert reload(pending).status == "failed"
    assert Promotion.objects.count() == 0
    assert reload(ad).promotion_tier == 0
    assert receipts(seller.email) == []


@pytest.mark.parametrize("signature", ["", "0" * 64, "not-hex", sandbox_provider.sign(b"{}")])
def test_a_bad_or_missing_signature_is_403_and_changes_nothing(api: Any, seller: Any,
                                                               pending: Payment,
                                                               signature: str) -> None:
    state = payment_state()

    assert_rejected(sandbox_callback(api, pending, signature=signature))

    assert payment_state() == state
    assert reload(pending).status == "pending"
    assert receipts(seller.email) == []


def test_a_signature_with_another_secret_is_403(api: Any, pending: Payment, settings: Any
                                                ) -> None:
    body = sandbox_provider.callback_body(reference=pending.provider_reference,
                                          amount=pending.amount)
    signature = sandbox_provider.sign(body)
    settings.PAYMENT_SANDBOX_SECRET = "rotated-secret"

    assert_rejected(sandbox_callback(api, pending, body=body, signature=signature))
    assert reload(pending).status == "pending"


def test_without_a_sandbox_secret_nothing_is_accepted(api: Any, pending: Payment, settings: Any
                                                      ) -> None:
    settings.PAYMENT_SANDBOX_SECRET = ""
    assert_rejected(sandbox_callback(api, pending))  # signed with the empty secret
    assert reload(pending).status == "pending"


def test_a_signed_callback_with_another_amount_is_403(api: Any, pending: Payment) -> None:
    state = payment_state()
    assert_rejected(sandbox_callback(api, pending, amount=Decimal("1.00")))
    assert payment_state() == state
    assert reload(pending).status == "pending"


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"reference": "x"}',
                                  b'{"reference": "x", "amount": "lots"}', b"[]"])
def test_a_signed_but_malformed_callback_is_403(api: Any, pending: Payment, body: bytes) -> None:
    state = payment_state()
    response = sandbox_callback(api, pending, body=body)
    assert_rejected(response)
    assert payment_state() == state


def test_a_signed_callback_for_an_unknown_payment_is_200_and_changes_nothing(
        api: Any, pending: Payment) -> None:
    state = payment_state()
    body = sandbox_provider.callback_body(reference="sbx-unknown", amount=Decimal("299.00"))
    response = sandbox_callback(api, pending, body=body)
    assert response.status_code == 200
    assert payment_state() == state


@pytest.mark.parametrize("name", ["paypal", "stripe", "SANDBOX", "card", "mpesa2"])
def test_an_unknown_provider_is_404(api: Any, pending: Payment, name: str) -> None:
    state = payment_state()
    response = api.post(f"{PAYMENTS}callback/{name}/", data=b"{}",
                        content_type="application/json")
    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
    assert payment_state() == state


def test_the_sandbox_not_configured_here_is_403(api: Any, pending: Payment, settings: Any
                                                ) -> None:
    settings.PAYMENT_PROVIDERS = ["mpesa"]
    state = payment_state()
    assert_rejected(sandbox_callback(api, pending))
    assert payment_state() == state


def test_callbacks_need_no_user_and_ignore_a_bad_bearer_token(api: Any, pending: Payment
                                                              ) -> None:
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert sandbox_callback(api, pending).status_code == 200
    assert reload(pending).status == "succeeded"


def test_callbacks_are_post_only(api: Any, pending: Payment) -> None:
    assert api.get(SANDBOX_CALLBACK).status_code == 405


def test_a_callback_for_a_refunded_payment_changes_nothing(api: Any, staff: Any,
                                                           pending: Payment) -> None:
    assert sandbox_callback(api, pending).status_code == 200
    services.refund(payment=reload(pending), staff=staff)
    state = payment_state()

    assert sandbox_callback(api, pending).status_code == 200

    assert payment_state() == state
    assert reload(pending).status == "refunded"


# --- M-Pesa -----------------------------------------------------------------------------------


def test_mpesa_not_configured_here_is_403(api: Any, seller: Any, ad: Any,
                                          plans: SimpleNamespace, mpesa: Any) -> None:
    mpesa.PAYMENT_PROVIDERS = ["sandbox"]
    payment = make_payment(user=seller, ad=ad, plan=plans.boost, provider="mpesa",
                           reference="ws_CO_9")
    state = payment_state()

    assert_rejected(mpesa_callback(api, daraja_success("ws_CO_9")))

    assert payment_state() == state
    assert reload(payment).status == "pending"


def test_a_daraja_success_callback_settles_the_payment(api: Any, seller: Any, ad: Any,
                                                       mpesa_pending: Payment) -> None:
    response = mpesa_callback(api, daraja_success("ws_CO_1", amount=299))

    assert response.status_code == 200
    assert response.json() == ACCEPTED
    payment = reload(mpesa_pending)
    assert payment.status == "succeeded"
    assert payment.receipt == "NLJ7RT61SV"
    event = PaymentEvent.objects.get(payment=payment, to_status="succeeded")
    assert (event.from_status, event.source) == ("pending", "callback:mpesa")
    assert event.data["receipt"] == "NLJ7RT61SV"
    promotion = Promotion.objects.get(payment=payment)
    assert promotion.tier == "boost"
    assert reload(ad).promotion_tier == 1
    [message] = receipts(seller.email)
    assert message.subject == "Receipt: Boost, 7 days"
    assert "KES 299.00" in message.body
    assert "NLJ7RT61SV" in message.body


def test_a_daraja_amount_with_decimals_matches(api: Any, mpesa_pending: Payment) -> None:
    assert mpesa_callback(api, daraja_success("ws_CO_1", amount=299.0)).status_code == 200
    assert reload(mpesa_pending).status == "succeeded"


def test_a_daraja_cancelled_callback_fails_the_payment(api: Any, seller: Any, ad: Any,
                                                       mpesa_pending: Payment) -> None:
    response = mpesa_callback(api, daraja_cancelled("ws_CO_1"))

    assert response.status_code == 200
    payment = reload(mpesa_pending)
    assert payment.status == "failed"
    event = PaymentEvent.objects.get(payment=payment, to_status="failed")
    assert event.source == "callback:mpesa"
    assert event.data["detail"] == "Request cancelled by user"
    assert Promotion.objects.count() == 0
    assert reload(ad).promotion_tier == 0
    assert receipts(seller.email) == []


@pytest.mark.parametrize("token", ["wrong", "", None, "cb-token-12", "cb-token-1234"])
def test_a_wrong_or_missing_token_is_403(api: Any, mpesa_pending: Payment,
                                         token: str | None) -> None:
    state = payment_state()
    assert_rejected(mpesa_callback(api, daraja_success("ws_CO_1"), token=token))
    assert payment_state() == state


def test_without_a_configured_token_nothing_is_accepted(api: Any, mpesa_pending: Payment,
                                                        mpesa: Any) -> None:
    mpesa.MPESA_CALLBACK_TOKEN = ""
    assert_rejected(mpesa_callback(api, daraja_success("ws_CO_1"), token=""))
    assert reload(mpesa_pending).status == "pending"


def test_an_amount_mismatch_is_403_and_the_payment_stays_pending(api: Any, seller: Any,
                                                                 mpesa_pending: Payment
                                                                 ) -> None:
    state = payment_state()

    assert_rejected(mpesa_callback(api, daraja_success("ws_CO_1", amount=1)))

    assert payment_state() == state
    assert reload(mpesa_pending).status == "pending"
    assert receipts(seller.email) == []
    # The real answer still settles it afterwards.
    assert mpesa_callback(api, daraja_success("ws_CO_1")).status_code == 200
    assert reload(mpesa_pending).status == "succeeded"


def test_an_unknown_checkout_request_is_200_and_changes_nothing(api: Any,
                                                                mpesa_pending: Payment) -> None:
    state = payment_state()
    for payload in (daraja_success("ws_CO_unknown"), daraja_cancelled("ws_CO_unknown")):
        response = mpesa_callback(api, payload)
        assert response.status_code == 200
        assert response.json() == ACCEPTED
    assert payment_state() == state


def test_a_sandbox_reference_sent_to_mpesa_matches_nothing(api: Any, seller: Any, ad: Any,
                                                           plans: SimpleNamespace, mpesa: Any
                                                           ) -> None:
    payment = make_payment(user=seller, ad=ad, plan=plans.boost, provider="sandbox")
    state = payment_state()
    assert mpesa_callback(api, daraja_success(payment.provider_reference)).status_code == 200
    assert payment_state() == state


@pytest.mark.parametrize("body", ["not json", "{}", '{"Body": {}}',
                                  '{"Body": {"stkCallback": {"ResultCode": 0}}}',
                                  '{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1",'
                                  ' "ResultCode": "zero"}}}', "[]", '{"Body": []}',
                                  '{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1",'
                                  ' "ResultCode": 0, "CallbackMetadata": []}}}',
                                  '{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1",'
                                  ' "ResultCode": 0, "CallbackMetadata": {"Item": ["Amount"]}}}}',
                                  '{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1",'
                                  ' "ResultCode": 0, "CallbackMetadata": {"Item": [{"Name":'
                                  ' "Amount", "Value": "lots"}]}}}}'])
def test_a_malformed_daraja_callback_is_403(api: Any, mpesa_pending: Payment, body: str) -> None:
    state = payment_state()
    response = api.post("/api/payments/callback/mpesa/?token=cb-token-123", data=body,
                        content_type="application/json")
    assert_rejected(response)
    assert payment_state() == state


def test_the_same_daraja_callback_twice_applies_once(api: Any, seller: Any, ad: Any,
                                                     mpesa_pending: Payment) -> None:
    assert mpesa_callback(api, daraja_success("ws_CO_1")).status_code == 200
    state = payment_state()
    until = reload(ad).promotion_until

    again = mpesa_callback(api, daraja_success("ws_CO_1"))

    assert again.status_code == 200
    assert again.json() == ACCEPTED
    assert payment_state() == state
    assert PaymentEvent.objects.filter(payment=mpesa_pending, to_status="succeeded").count() == 1
    assert Promotion.objects.filter(payment=mpesa_pending).count() == 1
    assert reload(ad).promotion_until == until
    assert len(receipts(seller.email)) == 1


def test_a_failure_after_a_success_changes_nothing(api: Any, seller: Any, ad: Any,
                                                   mpesa_pending: Payment) -> None:
    assert mpesa_callback(api, daraja_success("ws_CO_1")).status_code == 200
    state = payment_state()

    assert mpesa_callback(api, daraja_cancelled("ws_CO_1")).status_code == 200

    assert payment_state() == state
    assert reload(mpesa_pending).status == "succeeded"
    assert reload(ad).promotion_tier == 1
    assert len(receipts(seller.email)) == 1


def test_a_success_after_a_failure_changes_nothing(api: Any, seller: Any, ad: Any,
                                                   mpesa_pending: Payment) -> None:
    """A final payment is left alone, whichever answer came first."""
    assert mpesa_callback(api, daraja_cancelled("ws_CO_1")).status_code == 200
    state = payment_state()

    assert mpesa_callback(api, daraja_success("ws_CO_1")).status_code == 200

    assert payment_state() == state
    assert reload(mpesa_pending).status == "failed"
    assert Promotion.objects.count() == 0
    assert receipts(seller.email) == []


def test_mpesa_callbacks_from_the_allowed_addresses(api: Any, mpesa_pending: Payment,
                                                    mpesa: Any) -> None:
    mpesa.MPESA_CALLBACK_IPS = ["196.201.214.200"]
    state = payment_state()

    assert_rejected(mpesa_callback(api, daraja_success("ws_CO_1")))  # from 127.0.0.1
    assert payment_state() == state

    response = api.post("/api/payments/callback/mpesa/?token=cb-token-123",
                        data=daraja_success("ws_CO_1"), format="json",
                        REMOTE_ADDR="196.201.214.200")
    assert response.status_code == 200
    assert reload(mpesa_pending).status == "succeeded"


def test_a_forged_x_real_ip_does_not_pass_the_address_check(api: Any, mpesa_pending: Payment,
                                                            mpesa: Any) -> None:
    """X-Real-IP counts only behind the proxy that sets it (TRUST_X_REAL_IP)."""
    mpesa.MPESA_CALLBACK_IPS = ["196.201.214.200"]
    mpesa.TRUST_X_REAL_IP = False
    state = payment_state()

    response = api.post("/api/payments/callback/mpesa/?token=cb-token-123",
                        data=daraja_success("ws_CO_1"), format="json",
                        HTTP_X_REAL_IP="196.201.214.200")

    assert_rejected(response)
    assert payment_state() == state


def test_behind_the_proxy_x_real_ip_is_the_callers_address(api: Any, mpesa_pending: Payment,
                                                           mpesa: Any) -> None:
    mpesa.MPESA_CALLBACK_IPS = ["196.201.214.200"]
    mpesa.TRUST_X_REAL_IP = True

    forged = api.post("/api/payments/callback/mpesa/?token=cb-token-123",
                      data=daraja_success("ws_CO_1"), format="json",
                      REMOTE_ADDR="196.201.214.200", HTTP_X_REAL_IP="10.9.8.7")
    assert_rejected(forged)

    response = api.post("/api/payments/callback/mpesa/?token=cb-token-123",
                        data=daraja_success("ws_CO_1"), format="json",
                        HTTP_X_REAL_IP="196.201.214.200")
    assert response.status_code == 200
    assert reload(mpesa_pending).status == "succeeded"
