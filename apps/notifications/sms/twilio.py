"""Twilio's Messages API over HTTPS (no SDK needed for one call)."""

from __future__ import annotations

import httpx
from django.conf import settings

from apps.notifications.sms.base import SmsDeliveryError

API = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"


class TwilioSmsSender:
    def send(self, *, to: str, body: str) -> str:
        sid = settings.TWILIO_ACCOUNT_SID
        try:
            response = httpx.post(
                API.format(sid=sid),
                data={"To": to, "From": settings.TWILIO_FROM_NUMBER, "Body": body},
                auth=(sid, settings.TWILIO_AUTH_TOKEN),
                timeout=10,
            )
        except httpx.HTTPError as exc:
            raise SmsDeliveryError(f"twilio unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SmsDeliveryError(f"twilio answered {response.status_code}")
        if response.status_code >= 400:
            raise ValueError(f"twilio refused the message: {response.status_code}")
        return str(response.json()["sid"])
