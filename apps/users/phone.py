"""Phone numbers in any Kenyan spelling (0712 345 678, 011..., +254-712...) to E.164."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "KE"


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw.strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str) -> str:
    """For logs: +2547******78."""
    return e164[:5] + "*" * max(0, len(e164) - 7) + e164[-2:]
