"""Common background work: the outbox relay (see apps/common/outbox.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Beat sweep: publish outbox rows whose on-commit publish failed (broker down)."""
    from apps.common import outbox

    return outbox.relay()
