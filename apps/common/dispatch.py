"""Side effects leave services here: after the transaction commits, carrying IDs only."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from django.db import transaction


def enqueue(task: Any, *ids: UUID | int | str, countdown: int = 0) -> None:
    args = [str(i) for i in ids]
    send = partial(task.apply_async, args=tuple(args), countdown=countdown)
    transaction.on_commit(send, robust=True)


def publish(group: str, event: dict[str, Any]) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    transaction.on_commit(partial(async_to_sync(layer.group_send), group, event), robust=True)
