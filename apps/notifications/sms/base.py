"""The SMS interface: one method; settings.SMS_BACKEND picks the implementation."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsDeliveryError(Exception):
    """The provider could not take the message now; the task retries with backoff."""


class SmsSender(Protocol):
    def send(self, *, to: str, body: str) -> str:
        """Send one SMS to an E.164 number; return the provider's message id."""
        ...


@lru_cache(maxsize=1)
def get_sms_sender() -> SmsSender:
    sender: SmsSender = import_string(settings.SMS_BACKEND)()
    return sender
