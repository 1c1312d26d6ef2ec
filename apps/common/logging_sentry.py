"""Sentry, only when SENTRY_DSN is set (marketplace/settings/base.py calls `init_sentry`).

Django and Celery integrations; no personal data sent (send_default_pii off), and every event
passes through the same redaction as the logs before it leaves the process."""

from __future__ import annotations

from typing import Any


def scrub_event(event: Any, hint: Any) -> Any:
    from apps.common.logging_json import redact_value

    return redact_value(None, event)


def init_sentry(
    dsn: str,
    *,
    environment: str = "production",
    release: str | None = None,
    traces_sample_rate: float = 0.0,
) -> bool:
    """Start Sentry; False (and nothing started) without a DSN."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(monitor_beat_tasks=False),
            LoggingIntegration(),
        ],
        before_send=scrub_event,
    )
    return True
