"""Helpers to drive /ws/messages/ in-process with channels' WebsocketCommunicator.

pytest-asyncio is not used: a test is a coroutine run by `asgiref.sync.async_to_sync` (see
`run_async`), so `database_sync_to_async` calls run on the test's own thread and connection."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.chat import tickets
from marketplace.asgi import application

WAIT = 5  # seconds for anything that should arrive
QUIET = 0.5  # seconds of silence that count as "nothing arrived"
# After websocket.disconnect the consumer has done its own work (group_discard, presence) at
# once, but cancelling its pending channel-layer read sometimes lingers until the Redis socket
# timeout (channels_redis 4.3 with redis-py 8); tests do not wait for that, they cancel it.
CLOSE_WAIT = 1


def run_async(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test body in a fresh event loop (pytest-asyncio is not installed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        async_to_sync(test)(*args, **kwargs)

    return wrapper


async def issue_ticket(user: Any) -> str:
    return str(await database_sync_to_async(tickets.issue_ticket)(user_id=user.pk))


def communicator(ticket: str | None, origin: str | None = None) -> WebsocketCommunicator:
    path = "/ws/messages/" if ticket is None else f"/ws/messages/?ticket={ticket}"
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def expect_close(socket: WebsocketCommunicator, code: int) -> None:
    """Accepted, then closed with `code` and nothing sent before."""
    connected, _ = await socket.connect(timeout=WAIT)
    assert connected, "the handshake should be accepted before the ticket is checked"
    output = await socket.receive_output(timeout=WAIT)
    assert output == {"type": "websocket.close", "code": code}, output
    await socket.disconnect(code=code, timeout=CLOSE_WAIT)  # as a server does after a close


async def receive(socket: WebsocketCommunicator) -> dict[str, Any]:
    frame = await socket.receive_json_from(timeout=WAIT)
    assert isinstance(frame, dict)
    return frame


async def silent(*sockets: WebsocketCommunicator) -> None:
    """None of the sockets receives anything for a while."""
    quiet = await asyncio.gather(*(socket.receive_nothing(timeout=QUIET) for socket in sockets))
    for socket, nothing in zip(sockets, quiet, strict=True):
        assert nothing, await socket.receive_output()


async def send(socket: WebsocketCommunicator, frame: Any) -> None:
    await socket.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))


async def http(
    client_for: Callable[[Any], Any], user: Any, method: str, url: str, data: Any = None
) -> Any:
    """A REST call by `user` (its token made and its request run off the event loop)."""

    def call() -> Any:
        return getattr(client_for(user), method)(url, data)

    return await sync_to_async(call)()


@contextlib.asynccontextmanager
async def sockets() -> AsyncIterator[Callable[..., Awaitable[WebsocketCommunicator]]]:
    """`open(user)` gives a socket past `ready`; every socket is closed at the end."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(user: Any, origin: str | None = None) -> WebsocketCommunicator:
        socket = communicator(await issue_ticket(user), origin)
        opened.append(socket)
        connected, _ = await socket.connect(timeout=WAIT)
        assert connected
        assert await receive(socket) == {"type": "ready", "user": str(user.pk)}
        return socket

    try:
        yield open_socket
    finally:
        await asyncio.gather(
            *(socket.disconnect(timeout=CLOSE_WAIT) for socket in opened), return_exceptions=True
        )
