"""The socket frames of API.md section 7, and the channel-layer events that carry them.

Every event goes to the group `user.<id>` of a participant; the consumer forwards `frame`."""

from __future__ import annotations

from typing import Any

from apps.chat.models import Message

EVENT_TYPE = "chat.event"  # handled by MessagesConsumer.chat_event


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def iso(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation": str(message.conversation_id),
        "sender": str(message.sender_id),
        "body": message.body,
        "created_at": iso(message.created_at),
        "read_at": iso(message.read_at),
        "client_id": message.client_id,
        "warning": message.warning,
    }


def wrap(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": EVENT_TYPE, "frame": frame}


def message_new(conversation_id: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return wrap({"type": "message.new", "conversation": str(conversation_id), "message": payload})


def message_read(conversation_id: Any, *, reader: Any, up_to: int) -> dict[str, Any]:
    return wrap({"type": "message.read", "conversation": str(conversation_id),
                 "reader": str(reader), "up_to": up_to})


def typing(conversation_id: Any, *, user: Any) -> dict[str, Any]:
    return wrap({"type": "typing", "conversation": str(conversation_id), "user": str(user)})
