"""record_action(obj, "app.thing.happened", actor=user, data={...}).

Called inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.common.models import AuditEntry


def record_action(
    target: models.Model, action: str, *, actor: Any = None, data: dict[str, Any] | None = None
) -> AuditEntry:
    actor_id = getattr(actor, "pk", None) if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        actor_id=actor_id,
        data=data or {},
    )


def audit_entries(
    target: models.Model,
    entries: list[tuple[str, dict[str, Any] | None]],
    *,
    actor: Any = None,
) -> list[AuditEntry]:
    """Unsaved entries on one target, in the given order (for a writer that inserts them in a
    statement of its own, as apps.ads.services.create_ad does)."""
    actor_id = getattr(actor, "pk", None) if actor is not None and actor.is_authenticated else None
    target_type, target_id = target._meta.label_lower, str(target.pk)
    return [
        AuditEntry(
            action=action,
            target_type=target_type,
            target_id=target_id,
            actor_id=actor_id,
            data=data or {},
        )
        for action, data in entries
    ]
