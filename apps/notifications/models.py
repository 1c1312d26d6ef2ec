"""Every email and SMS the platform sends, as a row first: the task that delivers it reloads the
row by id, so a retried or repeated task never sends twice, and nothing is lost between commit
and delivery (a periodic sweep re-drives rows still pending)."""

from __future__ import annotations

from django.db import models

from apps.common.models import TimeStampedModel


class Channel(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


REDACTED = "[redacted after delivery]"


class OutboundMessage(TimeStampedModel):
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # Bodies carrying one-time codes are blanked once delivered: codes are stored hashed only.
    sensitive = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="outbound_pending_idx",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to} ({self.status})"
