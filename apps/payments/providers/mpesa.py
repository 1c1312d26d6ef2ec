"""M-Pesa Daraja, Lipa na M-Pesa Online (STK push).

- OAuth: client-credentials token, cached in Redis until shortly before it expires.
- start(): STK push to the buyer's phone; the CheckoutRequestID is our reference.
- Callbacks: Daraja does not sign them, so the callback URL carries a secret token
  (MPESA_CALLBACK_TOKEN) compared in constant time; optionally the source IP must be one of
  MPESA_CALLBACK_IPS. The amount in CallbackMetadata must equal the payment's.
- query_status(): STK push query, for payments whose callback never came (beat job).
"""

from __future__ import annotations

import base64
import hmac
import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings
from django.core.cache import cache

from apps.payments.providers.base import CallbackRejected, Outcome, ProviderError

TOKEN_CACHE_KEY = "mpesa:oauth-token"  # noqa: S105  (a cache key, not a secret)
NAIROBI = ZoneInfo("Africa/Nairobi")
PENDING_RESULT_CODES = frozenset({"4999", "500.001.1001"})  # "still under processing"


def timestamp() -> str:
    return datetime.now(NAIROBI).strftime("%Y%m%d%H%M%S")


def password(stamp: str) -> str:
    raw = f"{settings.MPESA_SHORTCODE}{settings.MPESA_PASSKEY}{stamp}"
    return base64.b64encode(raw.encode()).decode()


def msisdn(phone: str) -> str:
    """+254712345678 -> 254712345678 (Daraja's format)."""
    return phone.lstrip("+")


class MpesaProvider:
    name = "mpesa"

    def __init__(self) -> None:
        self.base_url = settings.MPESA_BASE_URL.rstrip("/")

    def token(self) -> str:
        cached = cache.get(TOKEN_CACHE_KEY)
        if cached:
            return str(cached)
        try:
            response = httpx.get(
                f"{self.base_url}/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                auth=(settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET),
                timeout=10,
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"daraja oauth unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise ProviderError(f"daraja oauth answered {response.status_code}")
        data = response.json()
        token = str(data["access_token"])
        cache.set(TOKEN_CACHE_KEY, token, timeout=max(60, int(data.get("expires_in", 3599)) - 60))
        return token

    def post(self, path: str, payload: dict[str, Any],
             answers: frozenset[str] = frozenset()) -> dict[str, Any]:
        """POST to Daraja; a 5xx or 429 is a ProviderError unless its errorCode is one of
        `answers` (the STK query says "still being processed" with an HTTP 500)."""
        try:
            response = httpx.post(f"{self.base_url}{path}", json=payload, timeout=15,
                                  headers={"Authorization": f"Bearer {self.token()}"})
        except httpx.HTTPError as exc:
            raise ProviderError(f"daraja unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            try:
                error: Any = response.json()
            except ValueError:
                error = None
            if isinstance(error, dict) and str(error.get("errorCode", "")) in answers:
                return error
            raise ProviderError(f"daraja answered {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderError(f"daraja answered {response.status_code}, not JSON") from exc
        if not isinstance(data, dict):
            raise ProviderError(f"daraja answered {response.status_code}, not an object")
        return data

    def start(self, *, payment: Any) -> str:
        stamp = timestamp()
        callback = (f"{settings.MPESA_CALLBACK_BASE_URL.rstrip('/')}/api/payments/callback/"
                    f"mpesa/?token={settings.MPESA_CALLBACK_TOKEN}")
        data = self.post("/mpesa/stkpush/v1/processrequest", {
            "BusinessShortCode": settings.MPESA_SHORTCODE,
            "Password": password(stamp),
            "Timestamp": stamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": int(payment.amount),
            "PartyA": msisdn(payment.phone),
            "PartyB": settings.MPESA_SHORTCODE,
            "PhoneNumber": msisdn(payment.phone),
            "CallBackURL": callback,
            "AccountReference": f"AD{str(payment.ad_id)[:8].upper()}",
            "TransactionDesc": f"Promote ad ({payment.plan.code})",
        })
        if str(data.get("ResponseCode")) != "0" or not data.get("CheckoutRequestID"):
            raise ValueError(f"STK push refused: {data.get('errorMessage') or data}")
        return str(data["CheckoutRequestID"])

    def parse_callback(self, *, body: bytes, headers: dict[str, str],
                       query: dict[str, str]) -> Outcome:
        expected = settings.MPESA_CALLBACK_TOKEN
        if not expected or not hmac.compare_digest(query.get("token", ""), expected):
            raise CallbackRejected("bad callback token")
        allowed_ips = settings.MPESA_CALLBACK_IPS
        # "remote-addr" is the caller's address as the view resolved it (X-Real-IP only behind
        # the proxy, TRUST_X_REAL_IP): a header the caller sets itself never counts.
        if allowed_ips and headers.get("remote-addr") not in allowed_ips:
            raise CallbackRejected("callback from an unknown address")
        try:
            callback = json.loads(body)["Body"]["stkCallback"]
            reference = str(callback["CheckoutRequestID"])
            code = int(callback["ResultCode"])
            items = {item.get("Name"): item.get("Value")
                     for item in callback.get("CallbackMetadata", {}).get("Item", [])}
            amount = Decimal(str(items["Amount"])) if "Amount" in items else None
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
            raise CallbackRejected("malformed M-Pesa callback") from exc
        return Outcome(reference=reference, succeeded=code == 0, amount=amount,
                       receipt=str(items.get("MpesaReceiptNumber", "")),
                       detail=str(callback.get("ResultDesc", "")), raw=callback)

    def query_status(self, *, payment: Any) -> Outcome:
        stamp = timestamp()
        data = self.post("/mpesa/stkpushquery/v1/query", {
            "BusinessShortCode": settings.MPESA_SHORTCODE, "Password": password(stamp),
            "Timestamp": stamp, "CheckoutRequestID": payment.provider_reference,
        }, answers=PENDING_RESULT_CODES)
        code = str(data.get("ResultCode", data.get("errorCode", "")))
        if code in PENDING_RESULT_CODES or code == "":
            return Outcome(reference=payment.provider_reference, succeeded=None, raw=data)
        return Outcome(reference=payment.provider_reference, succeeded=code == "0",
                       detail=str(data.get("ResultDesc", "")), raw=data)
