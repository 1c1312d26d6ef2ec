"""Abstract bases every app builds on, and the audit log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """One row per change that matters: who did what to which object, with details."""

    id = models.BigAutoField(primary_key=True)
    action = models.CharField(max_length=100, db_index=True)  # "users.password.changed"
    target_type = models.CharField(max_length=100)  # "users.user"
    target_id = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id", "-created_at"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key (see idempotency.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    scope = models.CharField(max_length=50)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "scope", "key"],
                                               name="unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class OutboxTask(models.Model):
    """A Celery task written in the same transaction as the change that asks for it (see
    apps/common/outbox.py): sent on commit, or by the relay when the broker was unreachable.
    `key` is the Celery task id; a worker that finishes the task stamps `done_at`, so a second
    delivery of the same row is skipped (exactly once in effect)."""

    id = models.BigAutoField(primary_key=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    headers = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["due_at"], name="outbox_pending_idx",
                         condition=models.Q(sent_at__isnull=True)),
            models.Index(fields=["created_at"], name="outbox_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} ({'sent' if self.sent_at else 'pending'})"
