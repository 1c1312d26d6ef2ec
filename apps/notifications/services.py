"""Queue an email or SMS: a row now, delivery by a Celery task once the transaction commits."""

from __future__ import annotations

from datetime import timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.common import dispatch
from apps.notifications import tasks
from apps.notifications.models import (
    REDACTED,
    Channel,
    DeliveryStatus,
    OutboundMessage,
)
from apps.notifications.sms.base import get_sms_sender


def queue_email(*, to: str, subject: str, body: str, sensitive: bool = False) -> OutboundMessage:
    message = OutboundMessage.objects.create(
        channel=Channel.EMAIL, to=to, subject=subject, body=body, sensitive=sensitive
    )
    dispatch.enqueue(tasks.deliver_message, message.pk)
    return message


def queue_sms(*, to: str, body: str, sensitive: bool = False) -> OutboundMessage:
    message = OutboundMessage.objects.create(
        channel=Channel.SMS, to=to, body=body, sensitive=sensitive
    )
    dispatch.enqueue(tasks.deliver_message, message.pk)
    return message


def deliver(*, message_id: int) -> bool:
    """Send one queued message unless already sent; safe to run twice. True if sent now."""
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if message is None:
            return False  # sent already, or another worker holds it
        message.attempts += 1
        if message.channel == Channel.EMAIL:
            EmailMessage(subject=message.subject, body=message.body, to=[message.to]).send()
        else:
            get_sms_sender().send(to=message.to, body=message.body)
        message.status = DeliveryStatus.SENT
        message.sent_at = timezone.now()
        if message.sensitive:
            message.body = REDACTED
        message.save(update_fields=["attempts", "status", "sent_at", "body", "updated_at"])
    return True


def record_failure(*, message_id: int, error: str, final: bool) -> None:
    updates: dict[str, object] = {"last_error": error[:500], "attempts": F("attempts") + 1}
    if final:
        updates["status"] = DeliveryStatus.FAILED
    OutboundMessage.objects.filter(pk=message_id).update(**updates)


def pending_message_ids(*, older_than_seconds: int = 60, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        OutboundMessage.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
