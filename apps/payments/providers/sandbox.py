"""Sandbox provider (local profile): confirms every payment by itself after a short delay,
through the same callback handling a real provider's callback goes through. Callbacks carry an
HMAC of the body keyed by PAYMENT_SANDBOX_SECRET."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.payments.providers.base import CallbackRejected, Outcome

SIGNATURE_HEADER = "x-sandbox-signature"


def sign(body: bytes) -> str:
    return hmac.new(settings.PAYMENT_SANDBOX_SECRET.encode(), body, hashlib.sha256).hexdigest()


def callback_body(*, reference: str, amount: Decimal, succeeded: bool = True) -> bytes:
    return json.dumps({"reference": reference, "amount": str(amount),
                       "status": "succeeded" if succeeded else "failed",
                       "receipt": f"SBX{reference[:8].upper()}"}).encode()


class SandboxProvider:
    name = "sandbox"

    def start(self, *, payment: Any) -> str:
        from apps.common import dispatch
        from apps.payments import tasks

        reference = f"sbx-{payment.pk}"
        dispatch.enqueue(tasks.sandbox_confirm, payment.pk,
                         countdown=settings.PAYMENT_SANDBOX_DELAY)
        return reference

    def parse_callback(self, *, body: bytes, headers: dict[str, str],
                       query: dict[str, str]) -> Outcome:
        given = headers.get(SIGNATURE_HEADER, "")
        if not settings.PAYMENT_SANDBOX_SECRET or not given or not hmac.compare_digest(
            given, sign(body)
        ):
            raise CallbackRejected("bad sandbox signature")
        try:
            data = json.loads(body)
            amount = Decimal(str(data["amount"]))
            reference = str(data["reference"])
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise CallbackRejected("malformed sandbox callback") from exc
        return Outcome(reference=reference, succeeded=data.get("status") == "succeeded",
                       amount=amount, receipt=str(data.get("receipt", "")), raw=data)

    def query_status(self, *, payment: Any) -> Outcome:
        return Outcome(reference=payment.provider_reference, succeeded=None)
