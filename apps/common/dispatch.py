"""Side effects leave services here: after the transaction commits, carrying IDs only.

Tasks go through the transactional outbox (apps/common/outbox.py): a row in the caller's
transaction, published on commit, or later by the relay if the broker was down. Channel-layer
events are best effort (a client that missed one catches up over REST after reconnecting).

Callbacks are named functions (not functools.partial): Django's robust on_commit logs a failing
callback by its __qualname__, which a partial lacks."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction


def enqueue(task: Any, *ids: UUID | int | str, countdown: int = 0) -> None:
    from apps.common import outbox

    outbox.add(task, tuple(str(i) for i in ids), countdown=countdown)


def publish(group: str, event: dict[str, Any]) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return

    def send_event() -> None:
        async_to_sync(layer.group_send)(group, event)

    transaction.on_commit(send_event, robust=True)
