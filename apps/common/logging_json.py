"""Structured logs: one JSON object per line, each carrying the request id, with secrets redacted.

The request id lives in a context variable: RequestIdMiddleware sets it for an HTTP request,
the Celery signals in marketplace/celery.py for a task (it travels in the task's headers), and
the WebSocket consumer's events inherit it from the handshake's scope (see `bind_request_id`).
`RedactFilter` runs on every record before any handler formats it: passwords, one-time codes,
tokens, secrets and phone numbers never reach a log line (a phone keeps its last 3 digits)."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def get_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token[str | None]:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


def clean_request_id(value: str | None) -> str:
    """A caller's id if it is a sane token (letters, digits, ._:-; at most 128), else a new one:
    a log line must not be forgeable through the header."""
    if value and _VALID_ID.match(value):
        return value
    return uuid.uuid4().hex


@contextmanager
def bind_request_id(value: str | None) -> Iterator[str]:
    token = set_request_id(clean_request_id(value))
    try:
        yield str(get_request_id())
    finally:
        reset_request_id(token)


# --- redaction ---------------------------------------------------------------------------------

REDACTED = "[redacted]"
SENSITIVE_KEYS = re.compile(
    r"(pass(word)?|passwd|secret|token|access|refresh|authorization|api[_-]?key|code|otp|pin|"
    r"ticket|cookie|session|signature|phone|msisdn|phone_?number)",
    re.IGNORECASE,
)
# key=value / "key": "value" pairs whose key looks sensitive
_PAIR = re.compile(
    r"""(?P<key>["']?[\w-]*(?:pass(?:word)?|passwd|secret|token|access|refresh|api[_-]?key|"""
    r"""code|otp|pin|ticket|signature|cookie)[\w-]*["']?\s*[:=]\s*)"""
    r"""(?P<quote>["']?)(?P<value>[^"',&\s}]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# "code is 123456", "code: 123456", "OTP 123456"
_CODE_PHRASE = re.compile(r"((?:code|otp|pin)\D{0,12})\d{4,8}\b", re.IGNORECASE)
# phone numbers: +254712345678, 254712345678, 0712 345 678, 0712-345-678 (keep the last 3)
_PHONE = re.compile(r"(?<![\w/])(\+?\d[\d \-]{7,16})(\d{3})(?![\w])")


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(1))
    if len(digits) + 3 < 9:  # too short to be a phone number (a price, an id)
        return match.group(0)
    return "***" + match.group(2)


def _redact_pair(match: re.Match[str]) -> str:
    name = re.sub(r"[^\w-]", "", match.group("key").split("=")[0].split(":")[0])
    if name.lower() in SAFE_KEYS:
        return match.group(0)
    return f"{match.group('key')}{match.group('quote')}{REDACTED}"


def redact_text(text: str) -> str:
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _PAIR.sub(_redact_pair, text)
    text = _CODE_PHRASE.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _PHONE.sub(_mask_phone, text)


# keys that merely contain a sensitive word
SAFE_KEYS = {
    "status_code",
    "error_code",
    "codes",
    "country_code",
    "currency_code",
    "exit_code",
    "access_log",
    "tokens_revoked",
    "session_id_hash",
}


def _is_sensitive_key(key: str) -> bool:
    return key.lower() not in SAFE_KEYS and SENSITIVE_KEYS.search(key) is not None


def redact_value(key: str | None, value: Any, depth: int = 0) -> Any:
    if key is not None and _is_sensitive_key(key) and value not in (None, ""):
        if "phone" in key.lower() or "msisdn" in key.lower():
            if str(value).startswith("***"):
                return value  # masked already
            text = re.sub(r"\D", "", str(value))
            return "***" + text[-3:] if len(text) > 3 else REDACTED
        return REDACTED
    if depth > 4:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(None, v, depth + 1) for v in value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))  # a request, an exception...: only its redacted text


_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class RedactFilter(logging.Filter):
    """Rewrites the record in place: message (formatted with its args), extra fields and the
    exception text. Attach it to handlers so records from every logger pass through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log it as it came
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for name, value in list(vars(record).items()):
            # objects (Django puts the request here) are left to the formatter, which redacts
            # their text: other handlers may still need the object itself
            if name not in _STANDARD_ATTRS and isinstance(value, str | dict | list | tuple):
                setattr(record, name, redact_value(name, value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = get_request_id()
        return True


class JsonLogFormatter(JsonFormatter):
    """`{"time", "level", "logger", "message", "request_id", ...extra}` on one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: redact_value(key, value) for key, value in log_data.items()}
