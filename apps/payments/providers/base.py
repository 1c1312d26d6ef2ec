"""The payment provider interface: start a payment, verify and read a callback, ask for a
status. Adding a provider (card, another wallet) is one module implementing this."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ProviderError(Exception):
    """The provider could not be reached or refused for now (retryable)."""


class CallbackRejected(Exception):
    """A callback that fails verification: answered 403, nothing changes."""


@dataclass(frozen=True)
class Outcome:
    """What a provider says about a payment."""

    reference: str  # our handle for the payment at the provider
    succeeded: bool | None  # None: still pending
    amount: Decimal | None = None
    receipt: str = ""
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str

    def start(self, *, payment: Any) -> str:
        """Ask the provider to collect the payment; return its reference."""
        ...

    def parse_callback(self, *, body: bytes, headers: dict[str, str],
                       query: dict[str, str]) -> Outcome:
        """Verify the callback (raise CallbackRejected) and read the outcome."""
        ...

    def query_status(self, *, payment: Any) -> Outcome: ...


PROVIDERS = {
    "sandbox": "apps.payments.providers.sandbox.SandboxProvider",
    "mpesa": "apps.payments.providers.mpesa.MpesaProvider",
}


def configured_providers() -> set[str]:
    return set(settings.PAYMENT_PROVIDERS)


def get_provider(name: str) -> PaymentProvider:
    provider: PaymentProvider = import_string(PROVIDERS[name])()
    return provider
