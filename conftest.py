"""Shared fixtures: real PostgreSQL and Redis, API clients that behave like production."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import TestCase
from rest_framework.test import APIClient

from apps.common.redis import get_redis

_counter = itertools.count(1)
PASSWORD = "a-long-demo-passphrase"


class CommittingAPIClient(APIClient):
    """Each request's on_commit callbacks run when it ends, as after a real commit."""

    def request(self, **kwargs: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Tests own a Redis database (REDIS_TEST_DB, default 15): throttles start empty."""
    get_redis().flushdb()


@pytest.fixture(autouse=True)
def _sms_folder(tmp_path: Path, settings: Any) -> Path:
    settings.SMS_FILE_PATH = tmp_path / "sms"
    return settings.SMS_FILE_PATH


@pytest.fixture
def sms_folder(_sms_folder: Path) -> Path:
    return _sms_folder


@pytest.fixture
def api() -> CommittingAPIClient:
    return CommittingAPIClient()


@pytest.fixture
def make_user(db: Any) -> Any:
    from apps.users.models import User

    def make(**fields: Any) -> User:
        n = next(_counter)
        fields.setdefault("email", f"user{n}@example.com")
        fields.setdefault("first_name", f"First{n}")
        fields.setdefault("last_name", f"Last{n}")
        fields.setdefault("email_verified", True)
        password = fields.pop("password", PASSWORD)
        return User.objects.create_user(password=password, **fields)

    return make


@pytest.fixture
def user(make_user: Any) -> Any:
    return make_user()


@pytest.fixture
def staff(make_user: Any) -> Any:
    return make_user(is_staff=True)


def bearer_client(user: Any) -> CommittingAPIClient:
    from apps.users.services import issue_tokens

    client = CommittingAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user=user).access}")
    return client


@pytest.fixture
def auth_client(user: Any) -> CommittingAPIClient:
    return bearer_client(user)


@pytest.fixture
def client_for() -> Any:
    return bearer_client


@pytest.fixture
def throttle_rates(settings: Any) -> Any:
    """Set some throttle rates for one test: throttle_rates(login="3/h")."""

    def set_rates(**rates: str | None) -> None:
        settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, **rates}

    return set_rates


CODE_RE = re.compile(r"code\D*(\d{6})", re.IGNORECASE)


def code_in(text: str) -> str:
    match = CODE_RE.search(text)
    assert match, f"no code in {text!r}"
    return match.group(1)


@pytest.fixture
def last_email_code() -> Any:
    def read(to: str) -> str:
        messages = [m for m in mail.outbox if to in m.to]
        assert messages, f"no email to {to}"
        return code_in(str(messages[-1].body))

    return read


@pytest.fixture
def last_sms_code(sms_folder: Path) -> Any:
    def read(to: str) -> str:
        files = sorted(sms_folder.glob("*.txt"))
        texts = [f.read_text() for f in files]
        texts = [t for t in texts if t.startswith(f"To: {to}\n")]
        assert texts, f"no SMS to {to}"
        return code_in(texts[-1])

    return read


def error_codes(response: Any) -> list[tuple[str, str | None]]:
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    return [(e["code"], e["attr"]) for e in body["errors"]]


__all__ = ["PASSWORD", "code_in", "error_codes", "settings"]
