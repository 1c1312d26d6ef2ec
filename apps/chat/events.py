"""The socket frames of API.md section 7, and the channel-layer events that carry them.

Every event goes to the group `user.<id>` of a participant. An event carries its frame already
encoded (`text`: JSON, encoded once for every socket it reaches) and, for message.new, the
message id (`message`), so that the sending socket can skip the copy of what it was acked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from apps.chat.models import Message

EVENT_TYPE = "chat.event"  # handled by MessagesConsumer.chat_event


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def iso(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def image_payload(
    message: Message, absolute: Callable[[str], str] | None = None
) -> dict[str, Any] | None:
    """`{url, width, height}` of the message's photo, or None. `absolute` turns the storage's
    URL (relative with the file system storage: /media/...) into an absolute one."""
    if not message.image:
        return None
    url = message.image.url
    return {
        "url": absolute(url) if absolute else url,
        "width": message.image_width,
        "height": message.image_height,
    }


def message_payload(
    message: Message, absolute: Callable[[str], str] | None = None
) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation": str(message.conversation_id),
        "sender": str(message.sender_id),
        "body": message.body,
        "created_at": iso(message.created_at),
        "read_at": iso(message.read_at),
        "client_id": message.client_id,
        "warning": message.warning,
        "image": image_payload(message, absolute),
    }


def wrap(frame: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
    return {"type": EVENT_TYPE, "text": json.dumps(frame), "message": message_id}


def message_new(conversation_id: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return wrap(
        {"type": "message.new", "conversation": str(conversation_id), "message": payload},
        payload["id"],
    )


def message_read(conversation_id: Any, *, reader: Any, up_to: int) -> dict[str, Any]:
    return wrap(
        {
            "type": "message.read",
            "conversation": str(conversation_id),
            "reader": str(reader),
            "up_to": up_to,
        }
    )


def typing(conversation_id: Any, *, user: Any) -> dict[str, Any]:
    return wrap({"type": "typing", "conversation": str(conversation_id), "user": str(user)})
