"""Africa's Talking bulk SMS API (the common choice for Kenyan numbers)."""

from __future__ import annotations

import httpx
from django.conf import settings

from apps.notifications.sms.base import SmsDeliveryError

# Per-recipient statuses that a retry cannot fix.
PERMANENT_REFUSALS = {"InvalidPhoneNumber", "InvalidSenderId", "UserInBlacklist",
                      "DoNotDisturbRejection", "UnsupportedNumberType"}


class AfricasTalkingSmsSender:
    def send(self, *, to: str, body: str) -> str:
        data = {"username": settings.AFRICASTALKING_USERNAME, "to": to, "message": body}
        if settings.AFRICASTALKING_SENDER_ID:
            data["from"] = settings.AFRICASTALKING_SENDER_ID
        try:
            response = httpx.post(
                f"{settings.AFRICASTALKING_BASE_URL}/messaging",
                data=data,
                headers={"apiKey": settings.AFRICASTALKING_API_KEY, "Accept": "application/json"},
                timeout=10,
            )
        except httpx.HTTPError as exc:
            raise SmsDeliveryError(f"africastalking unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SmsDeliveryError(f"africastalking answered {response.status_code}")
        if response.status_code >= 400:
            raise ValueError(f"africastalking refused the message: {response.status_code}")
        recipients = response.json()["SMSMessageData"]["Recipients"]
        status = recipients[0].get("status") if recipients else None
        if status in PERMANENT_REFUSALS:
            raise ValueError(f"africastalking refused the number: {status}")
        if status != "Success":
            raise SmsDeliveryError(f"africastalking did not accept: {status!r}")
        return str(recipients[0]["messageId"])
