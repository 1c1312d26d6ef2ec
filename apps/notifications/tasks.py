"""Delivery tasks: thin, idempotent, retried with backoff on provider errors only."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from apps.notifications.sms.base import SmsDeliveryError

logger = logging.getLogger(__name__)
RETRYABLE = (SmsDeliveryError, smtplib.SMTPException, ConnectionError, TimeoutError)
MAX_RETRIES = 6


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def deliver_message(self, message_id: str) -> bool:  # type: ignore[no-untyped-def]
    from apps.notifications import services

    try:
        return services.deliver(message_id=int(message_id))
    except RETRYABLE as exc:
        final = self.request.retries >= MAX_RETRIES
        services.record_failure(message_id=int(message_id), error=repr(exc), final=final)
        raise
    except Exception as exc:  # refused for good (bad number, rejected address): do not retry
        logger.exception("message %s could not be delivered", message_id)
        services.record_failure(message_id=int(message_id), error=repr(exc), final=True)
        return False


@shared_task(acks_late=True)
def redeliver_pending_messages() -> int:
    """Beat sweep: messages whose task was lost (crash after commit, broker down) go again."""
    from apps.notifications import services

    ids = services.pending_message_ids()
    for message_id in ids:
        deliver_message.apply_async(args=(str(message_id),))
    return len(ids)
