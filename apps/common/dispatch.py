"""Side effects leave services here: after the transaction commits, carrying IDs only.

Callbacks are named functions (not functools.partial): Django's robust on_commit logs a failing
callback by its __qualname__, which a partial lacks."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction


def enqueue(task: Any, *ids: UUID | int | str, countdown: int = 0) -> None:
    args = tuple(str(i) for i in ids)

    def send_task() -> None:
        task.apply_async(args=args, countdown=countdown)

    transaction.on_commit(send_task, robust=True)


def publish(group: str, event: dict[str, Any]) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return

    def send_event() -> None:
        async_to_sync(layer.group_send)(group, event)

    transaction.on_commit(send_event, robust=True)
