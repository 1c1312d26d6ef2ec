"""The /ws/messages/ socket (API.md section 7): one socket serves all of a user's conversations.

Handshake: an Origin naming a host that is neither allowed nor a CORS origin is refused (HTTP
403) before the ticket is looked at; no Origin (mobile apps) is fine. Then the socket is
accepted and the ticket consumed; a bad one closes with 4401. Frames that arrive meanwhile wait:
Channels hands a consumer one event at a time.
"""

from __future__ import annotations

import json
import logging
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from apps.chat import events, presence, selectors, services, tickets
from apps.common.errors import Blocked
from apps.common.throttles import consume
from apps.users.models import User

logger = logging.getLogger(__name__)
BAD_TICKET = 4401
MAX_FRAME_CHARS = 16_384
MAX_BODY = 5000


def origin_allowed(scope: dict[str, Any]) -> bool:
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin")
    if not origin:
        return True
    parts = urlsplit(origin.decode("latin-1"))
    try:
        parts.port  # noqa: B018  a malformed port ("localhost:3000.evil.example") is no origin
    except ValueError:
        return False
    host = parts.hostname or ""
    allowed_hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS]
    cors_hosts = [urlsplit(o).hostname for o in settings.CORS_ALLOWED_ORIGINS]
    return host in cors_hosts or any(
        pattern == "*" or host == pattern or host.endswith("." + pattern)
        for pattern in allowed_hosts
    )


def active_user(user_id: str | None) -> User | None:
    if not user_id:
        return None
    return User.objects.filter(pk=user_id, is_active=True, is_suspended=False).first()


class MessagesConsumer(AsyncWebsocketConsumer):
    user: User | None = None

    @property
    def me(self) -> User:
        """The signed-in user; frames are only handled once the ticket named one."""
        return cast(User, self.user)

    async def connect(self) -> None:
        if not origin_allowed(self.scope):
            await self.close()  # before accept: the handshake answers 403
            return
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ticket = (query.get("ticket") or [""])[0]
        user_id = await database_sync_to_async(tickets.consume_ticket)(ticket)
        user = await database_sync_to_async(active_user)(user_id)
        if user is None:
            await self.close(code=BAD_TICKET)
            return
        self.user = user
        self.acked: set[int] = set()
        await self.channel_layer.group_add(events.user_group(user.pk), self.channel_name)
        await database_sync_to_async(presence.connected)(user.pk)
        await self.send_json({"type": "ready", "user": str(user.pk)})

    async def disconnect(self, code: int) -> None:
        if self.user is not None:
            await self.channel_layer.group_discard(events.user_group(self.user.pk),
                                                   self.channel_name)
            await database_sync_to_async(presence.disconnected)(self.user.pk)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def error(self, code: str, detail: str, client_id: Any = None) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail,
                              "client_id": client_id})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.user is None:
            return
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.error("invalid", "Send JSON text frames of at most 16 KiB.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("invalid", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict):
            await self.error("invalid", "A frame is a JSON object.")
            return
        kind = frame.get("type")
        handler = {"message.send": self.on_send, "typing": self.on_typing,
                   "read": self.on_read}.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.error("invalid", "Unknown frame type.", frame.get("client_id"))
            return
        await handler(frame)

    async def conversation(self, frame: dict[str, Any]) -> Any:
        return await database_sync_to_async(selectors.get_conversation_for)(
            user=self.me, conversation_id=frame.get("conversation"))

    async def on_send(self, frame: dict[str, Any]) -> None:
        client_id, body = frame.get("client_id"), frame.get("body")
        if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
            await self.error("invalid", "client_id is a string of at most 64 characters.")
            return
        if not isinstance(body, str) or not body.strip() or len(body) > MAX_BODY:
            await self.error("invalid", "body: 1 to 5,000 characters, not blank.", client_id)
            return
        conversation = await self.conversation(frame)
        if conversation is None:
            await self.error("not_found", "No such conversation.", client_id)
            return
        wait = await database_sync_to_async(consume)(
            "message_send", str(self.me.pk), settings.THROTTLE_RATES.get("message_send"))
        if wait > 0:
            await self.error("throttled", f"Slow down; try again in {int(wait) + 1} s.",
                             client_id)
            return
        try:
            sent = await database_sync_to_async(services.send_message)(
                sender=self.me, conversation=conversation, body=body, client_id=client_id)
        except Blocked:
            await self.error("blocked", "You cannot message this user.", client_id)
            return
        self.acked.add(sent.message.id)
        await self.send_json({"type": "message.ack", "client_id": client_id,
                              "message": events.message_payload(sent.message)})

    async def on_typing(self, frame: dict[str, Any]) -> None:
        conversation = await self.conversation(frame)
        if conversation is None:
            await self.error("not_found", "No such conversation.")
            return
        other = conversation.other_party_id(self.me.pk)
        await self.channel_layer.group_send(
            events.user_group(other), events.typing(conversation.pk, user=self.me.pk))

    async def on_read(self, frame: dict[str, Any]) -> None:
        conversation = await self.conversation(frame)
        if conversation is None:
            await self.error("not_found", "No such conversation.")
            return
        await database_sync_to_async(services.mark_read)(user=self.me,
                                                         conversation=conversation)

    async def chat_close(self, event: dict[str, Any]) -> None:
        """The account was suspended: its sockets close."""
        await self.close(code=event.get("code", 4403))

    async def chat_event(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        if frame.get("type") == "message.new" and frame["message"]["id"] in self.acked:
            return  # this socket sent it and got the ack
        await self.send_json(frame)
