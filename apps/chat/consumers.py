"""The /ws/messages/ socket (API.md section 7): one socket serves all of a user's conversations.

Handshake: an Origin naming a host that is neither allowed nor a CORS origin is refused (HTTP
403) before the ticket is looked at; no Origin (mobile apps) is fine. Then the socket is
accepted and the ticket consumed; a bad one closes with 4401. Frames that arrive meanwhile wait:
Channels hands a consumer one event at a time.

Blocking work (ORM, Redis) runs on threads of the chat's own (socket_threads(): how many calls
at once), one call per frame, and `dispatch` skips Channels' per-event connection cleanup.
Before, every thread-sensitive call of the process went through asgiref's one shared thread,
also used by Channels before every event of every socket: the frames and forwarded events of
all sockets queued there. Each call is self-contained (its own transaction; the connection goes
back to the pool when it ends), and a consumer still handles its own frames one at a time, so
one socket's messages keep their order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import IntegrityError
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.chat import events, presence, selectors, services, tickets
from apps.chat.models import Conversation
from apps.common.errors import Blocked
from apps.common.throttles import consume
from apps.users.models import User

logger = logging.getLogger(__name__)
# The GIL's hand-over interval for the process that serves sockets: 0.5 ms instead of 5 ms.
BAD_TICKET = 4401
MAX_FRAME_CHARS = 16_384
MAX_BODY = 5000
PUBSUB_LAYER = "channels_redis.pubsub.RedisPubSubChannelLayer"
KNOWN_CONVERSATIONS = 64  # per socket: those it sent to lately, not looked up again
_executors: dict[int, ThreadPoolExecutor] = {}

P = ParamSpec("P")
R = TypeVar("R")


def socket_threads() -> int:
    """How many of a process's socket calls run at once (each holds a database connection; the
    pool's DB_POOL_MAX is 16): settings.CHAT_SOCKET_THREADS, else by the channel layer.

    channels_redis' core layer drops an event (logged "over capacity") once `capacity` events
    wait for the process, and its receive path, one Redis round trip after another, falls
    behind as soon as the sends outrun it: bench/ws_bench.py at 75 messages/s over 1,000
    sockets lost 810 of 1,500 with 8 threads and none with 1 (latency grew instead). With the
    pub/sub layer nothing queues: 8 threads took the same load at p95 226 ms against 831 ms."""
    configured = getattr(settings, "CHAT_SOCKET_THREADS", None)
    if configured:
        return int(configured)
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    return 8 if backend == PUBSUB_LAYER else 1


def executor() -> ThreadPoolExecutor:
    threads = socket_threads()
    if threads not in _executors:
        _executors[threads] = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="chat-socket"
        )
    return _executors[threads]


def blocking(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` run on the chat's own threads, its database connection closed after the call."""
    return cast(
        Callable[P, Awaitable[R]],
        database_sync_to_async(func, thread_sensitive=False, executor=executor()),
    )


LAYER_ATTEMPTS = 4


async def with_retries(call: Callable[[], Awaitable[None]]) -> None:
    """A group join or leave, tried again after a jittered pause when Redis refuses it.

    redis-py's pool (100 connections per process) answers "Too many connections" at once rather
    than waiting, which a thousand sockets closing together (a deploy, a network blip) meets:
    bench/ws_bench.py saw ~400 failed leaves, each a membership left behind for a day."""
    for attempt in range(1, LAYER_ATTEMPTS + 1):
        try:
            await call()
            return
        except RedisConnectionError:
            if attempt == LAYER_ATTEMPTS:
                raise
            await asyncio.sleep(random.uniform(0.05, 0.25) * attempt)  # noqa: S311


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


def sign_in(ticket: str) -> User | None:
    """Consume the ticket; its user, counted online, if the ticket and the account are good."""
    user = active_user(tickets.consume_ticket(ticket))
    if user is not None:
        presence.connected(user.pk)
    return user


class FrameError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


NOT_FOUND = ("not_found", "No such conversation.")


def send_from_socket(
    user: User,
    conversation_id: Any,
    body: str,
    client_id: str | None,
    known: Conversation | None = None,
) -> tuple[services.Sent, Conversation]:
    """A message.send frame's blocking part, in one call: find (unless the socket knows the
    conversation already), throttle, store. The message.new events are left to the caller
    (announce=False): the consumer publishes them on its own event loop, after the commit."""
    conversation = known or selectors.get_conversation_for(
        user=user, conversation_id=conversation_id
    )
    if conversation is None:
        raise FrameError(*NOT_FOUND)
    wait = consume("message_send", str(user.pk), settings.THROTTLE_RATES.get("message_send"))
    if wait > 0:
        raise FrameError("throttled", f"Slow down; try again in {int(wait) + 1} s.")
    try:
        sent = services.send_message(
            sender=user, conversation=conversation, body=body, client_id=client_id, announce=False
        )
    except Blocked:
        raise FrameError("blocked", "You cannot message this user.") from None
    except IntegrityError:  # the conversation went away (its ad was deleted) meanwhile
        raise FrameError(*NOT_FOUND) from None
    return sent, conversation


def typing_target(user: User, conversation_id: Any) -> tuple[Any, Any]:
    """(conversation id, the other participant's id) for a typing frame."""
    conversation = selectors.get_conversation_for(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise FrameError(*NOT_FOUND)
    return conversation.pk, conversation.other_party_id(user.pk)


def read_from_socket(user: User, conversation_id: Any) -> None:
    conversation = selectors.get_conversation_for(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise FrameError(*NOT_FOUND)
    services.mark_read(user=user, conversation=conversation)


class MessagesConsumer(AsyncWebsocketConsumer):
    user: User | None = None

    @property
    def me(self) -> User:
        """The signed-in user; frames are only handled once the ticket named one."""
        return cast(User, self.user)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its `aclose_old_connections()` before every event.

        That call is a thread-sensitive hop onto asgiref's one shared thread, for every frame
        and every forwarded event of every socket of the process: a queue all of them wait in.
        This consumer never touches the database on the event loop; its blocking() calls close
        their connection when they end."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        if not origin_allowed(self.scope):
            await self.close()  # before accept: the handshake answers 403
            return
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ticket = (query.get("ticket") or [""])[0]
        user = await blocking(sign_in)(ticket)
        if user is None:
            await self.close(code=BAD_TICKET)
            return
        self.user = user  # from here on, disconnect() counts the socket out again
        self.acked: set[int] = set()
        self.conversations: dict[str, Conversation] = {}
        group = events.user_group(user.pk)
        await with_retries(lambda: self.channel_layer.group_add(group, self.channel_name))
        await self.send_json({"type": "ready", "user": str(user.pk)})

    async def disconnect(self, code: int) -> None:
        if self.user is None:
            return
        group = events.user_group(self.user.pk)
        try:
            await with_retries(lambda: self.channel_layer.group_discard(group, self.channel_name))
        finally:  # a failed discard (Redis busy or gone) must not leave the user "online"
            await blocking(presence.disconnected)(self.user.pk)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def error(self, code: str, detail: str, client_id: Any = None) -> None:
        await self.send_json(
            {"type": "error", "code": code, "detail": detail, "client_id": client_id}
        )

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
        handler = (
            {"message.send": self.on_send, "typing": self.on_typing, "read": self.on_read}.get(kind)
            if isinstance(kind, str)
            else None
        )
        if handler is None:
            await self.error("invalid", "Unknown frame type.", frame.get("client_id"))
            return
        await handler(frame)

    async def on_send(self, frame: dict[str, Any]) -> None:
        client_id, body = frame.get("client_id"), frame.get("body")
        if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
            await self.error("invalid", "client_id is a string of at most 64 characters.")
            return
        if not isinstance(body, str) or not body.strip() or len(body) > MAX_BODY:
            await self.error("invalid", "body: 1 to 5,000 characters, not blank.", client_id)
            return
        raw_id = frame.get("conversation")
        known = self.conversations.get(raw_id) if isinstance(raw_id, str) else None
        try:
            sent, conversation = await blocking(send_from_socket)(
                self.me, raw_id, body, client_id, known
            )
        except FrameError as error:
            if isinstance(raw_id, str):
                self.conversations.pop(raw_id, None)
            await self.error(error.code, error.detail, client_id)
            return
        if known is None and isinstance(raw_id, str):
            if len(self.conversations) >= KNOWN_CONVERSATIONS:
                self.conversations.clear()
            self.conversations[raw_id] = conversation
        message = sent.message
        self.acked.add(message.id)
        await self.send_json(
            {
                "type": "message.ack",
                "client_id": client_id,
                "message": events.message_payload(message, self.absolute),
            }
        )
        await self.announce(sent.events)

    async def announce(self, announced: tuple[tuple[str, dict[str, Any]], ...]) -> None:
        """Publish message.new to both participants (the message is committed by now). A
        failure is logged, not the sender's problem: the message is stored and acked, and the
        recipient gets it by ?after= on its next catch-up."""
        results = await asyncio.gather(
            *(self.channel_layer.group_send(group, event) for group, event in announced),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("message.new not published: %r", result)

    def absolute(self, url: str) -> str:
        """A media URL as an absolute one, on the host (and scheme) this socket came in by."""
        if "://" in url:
            return url
        headers = dict(self.scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1") or "localhost"
        forwarded = headers.get(b"x-forwarded-proto", b"").decode("latin-1")
        secure = forwarded == "https" or (not forwarded and self.scope.get("scheme") == "wss")
        return f"{'https' if secure else 'http'}://{host}{url}"

    async def on_typing(self, frame: dict[str, Any]) -> None:
        try:
            conversation_id, other = await blocking(typing_target)(
                self.me, frame.get("conversation")
            )
        except FrameError as error:
            await self.error(error.code, error.detail)
            return
        await self.channel_layer.group_send(
            events.user_group(other), events.typing(conversation_id, user=self.me.pk)
        )

    async def on_read(self, frame: dict[str, Any]) -> None:
        try:
            await blocking(read_from_socket)(self.me, frame.get("conversation"))
        except FrameError as error:
            await self.error(error.code, error.detail)

    async def chat_close(self, event: dict[str, Any]) -> None:
        """The account was suspended: its sockets close."""
        await self.close(code=event.get("code", 4403))

    async def chat_event(self, event: dict[str, Any]) -> None:
        message_id = event.get("message")
        if message_id is not None and message_id in self.acked:
            # This socket sent it and got the ack. The event comes once, after the ack (it is
            # published after the ack is sent): forget the id, so the set stays small.
            self.acked.discard(message_id)
            return
        await self.send(text_data=event["text"])
