"""Sentry starts only when SENTRY_DSN is set, with the Django and Celery integrations, and what
it would send is redacted like the logs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sentry_sdk
from django.conf import settings

from apps.common.logging_sentry import init_sentry, scrub_event

BASE_DIR = Path(__file__).resolve().parents[2]


def test_without_a_dsn_nothing_starts() -> None:
    assert settings.SENTRY_DSN == ""
    assert init_sentry("") is False
    assert not sentry_sdk.get_client().is_active()


def test_with_a_dsn_the_settings_start_it_with_django_and_celery() -> None:
    # a fresh process: sentry patches Django and Celery for good once started
    env = dict(
        os.environ,
        SENTRY_DSN="http://publickey@127.0.0.1:9/42",
        DJANGO_SETTINGS_MODULE="marketplace.settings.test",
    )
    script = (
        "import django, sentry_sdk; django.setup(); c = sentry_sdk.get_client(); "
        "print(c.is_active(), sorted(c.integrations), c.options['send_default_pii'])"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    active, _, rest = out.strip().partition(" ")
    assert active == "True"
    assert "'django'" in rest and "'celery'" in rest
    assert rest.endswith("False")  # no personal data


def test_events_are_redacted_before_they_leave() -> None:
    event = {
        "message": "login failed password=hunter2 for +254712345678",
        "request": {
            "headers": {"Authorization": "Bearer abc.def.ghi"},
            "data": {"email": "a@b.co", "password": "hunter2", "code": "493817"},
        },
    }
    scrubbed = scrub_event(event, None)
    text = str(scrubbed)
    assert "hunter2" not in text and "493817" not in text and "abc.def.ghi" not in text
    assert "712345678" not in text and scrubbed["request"]["data"]["email"] == "a@b.co"
