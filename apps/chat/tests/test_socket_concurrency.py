"""Sockets do not queue behind each other: a consumer's blocking work runs on the chat's own
threads (several at once with the pub/sub channel layer or CHAT_SOCKET_THREADS), and nothing in
the message path waits for asgiref's one shared thread (bench/ws_bench.py measured what that
queue cost under load)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError

from apps.chat import consumers, presence, services
from apps.chat.models import Message
from apps.chat.tests.conftest import start
from apps.chat.tests.sockets import CLOSE_WAIT, receive, run_async, send, silent, sockets

pytestmark = pytest.mark.django_db(transaction=True)
HOLD = 10  # seconds a blocked call waits at most (longer than a receive's WAIT)


def send_frame(conversation: Any, body: str) -> dict[str, Any]:
    return {
        "type": "message.send",
        "conversation": str(conversation.pk),
        "body": body,
        "client_id": str(uuid.uuid4()),
    }


async def acked(socket: Any) -> dict[str, Any]:
    frame = await receive(socket)
    assert frame["type"] == "message.ack", frame
    return dict(frame["message"])


@run_async
async def test_messages_flow_while_the_shared_thread_is_busy(buyer, seller, conversation):
    release = threading.Event()
    async with sockets() as open_socket:
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        # Occupy asgiref's thread for thread-sensitive calls (here: the test's main thread).
        hog = asyncio.ensure_future(sync_to_async(release.wait)(HOLD))
        try:
            await send(buyer_socket, send_frame(conversation, "While the thread is busy"))
            message = await acked(buyer_socket)
            assert await receive(seller_socket) == {
                "type": "message.new",
                "conversation": str(conversation.pk),
                "message": message,
            }
            await send(seller_socket, {"type": "typing", "conversation": str(conversation.pk)})
            assert (await receive(buyer_socket))["type"] == "typing"
            await send(seller_socket, {"type": "read", "conversation": str(conversation.pk)})
            assert (await receive(buyer_socket))["type"] == "message.read"
            assert not hog.done()
        finally:
            release.set()
            await hog


@pytest.fixture
def four_threads(settings: Any) -> None:
    settings.CHAT_SOCKET_THREADS = 4


@run_async
async def test_a_slow_send_does_not_hold_up_other_sockets(
    four_threads, buyer, seller, stranger, ad, conversation, monkeypatch
):
    other = await database_sync_to_async(start)(stranger, ad, "Me too")
    release, entered = threading.Event(), threading.Event()
    send_message = services.send_message

    def slow_for_one(**kwargs: Any) -> Any:
        if kwargs["body"] == "slow":
            entered.set()
            release.wait(HOLD)
        return send_message(**kwargs)

    monkeypatch.setattr(services, "send_message", slow_for_one)
    async with sockets() as open_socket:
        buyer_socket, stranger_socket = await open_socket(buyer), await open_socket(stranger)
        seller_socket = await open_socket(seller)
        try:
            await send(buyer_socket, send_frame(conversation, "slow"))
            assert await asyncio.to_thread(entered.wait, HOLD)

            # the stranger's message is stored, acked and delivered meanwhile
            await send(stranger_socket, send_frame(other, "fast"))
            quick = await acked(stranger_socket)
            assert (await receive(seller_socket))["message"] == quick
            assert (
                await database_sync_to_async(Message.objects.filter(body="slow").exists)() is False
            )
        finally:
            release.set()
        slow = await acked(buyer_socket)
        assert slow["body"] == "slow" and slow["id"] > quick["id"]
        assert (await receive(seller_socket))["message"] == slow
        await silent(buyer_socket, stranger_socket, seller_socket)


@run_async
async def test_one_sockets_messages_keep_their_order(buyer, seller, conversation):
    async with sockets() as open_socket:
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        frames = [send_frame(conversation, f"In order {n}") for n in range(20)]
        for frame in frames:
            await send(buyer_socket, frame)

        acks = [await acked(buyer_socket) for _ in frames]
        delivered = [(await receive(seller_socket))["message"] for _ in frames]

        assert [m["body"] for m in acks] == [f["body"] for f in frames]
        assert delivered == acks
        assert [m["id"] for m in acks] == sorted(m["id"] for m in acks)
        await silent(buyer_socket, seller_socket)


@run_async
async def test_a_refused_group_leave_is_tried_again(buyer, monkeypatch):
    calls = []
    async with sockets() as open_socket:
        socket = await open_socket(buyer)
        layer = get_channel_layer()
        discard = layer.group_discard

        async def busy_twice(*args: Any, **kwargs: Any) -> None:
            calls.append(args)
            if len(calls) <= 2:
                raise MaxConnectionsError("Too many connections")
            await discard(*args, **kwargs)

        monkeypatch.setattr(layer, "group_discard", busy_twice)
        await socket.disconnect(timeout=CLOSE_WAIT + 2)
    assert len(calls) == 3
    assert await database_sync_to_async(presence.is_online)(buyer.pk) is False
    assert await group_members(layer, f"user.{buyer.pk}") == 0


async def group_members(layer: Any, group: str) -> int:
    """How many channels the layer holds in `group`: in Redis (core layer) or in the process
    (pub/sub layer, whose membership lives in the process that subscribed)."""
    if hasattr(layer, "_get_layer"):
        loop_layer = layer._get_layer()
        return len(loop_layer.groups.get(loop_layer._get_group_channel_name(group), ()))
    return int(await layer.connection(0).zcard(layer._group_key(group)))


@run_async
async def test_a_failed_group_leave_still_counts_the_socket_out(buyer, monkeypatch):
    calls = []
    async with sockets() as open_socket:
        socket = await open_socket(buyer)
        assert await database_sync_to_async(presence.is_online)(buyer.pk) is True

        async def gone(*args: Any, **kwargs: Any) -> None:
            calls.append(args)
            raise RedisConnectionError("Redis is gone")

        monkeypatch.setattr(get_channel_layer(), "group_discard", gone)
        with pytest.raises(RedisConnectionError):
            await socket.disconnect(timeout=CLOSE_WAIT + 3)
    assert len(calls) == consumers.LAYER_ATTEMPTS
    assert await database_sync_to_async(presence.is_online)(buyer.pk) is False


PUBSUB = {"default": {"BACKEND": consumers.PUBSUB_LAYER, "CONFIG": {}}}
CORE = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {}}}


@pytest.mark.parametrize(
    ("layers", "configured", "expected"),
    [
        (CORE, None, 1),  # its capacity drops events once sends outrun its receive path
        (PUBSUB, None, 8),
        (CORE, 6, 6),
        (PUBSUB, 2, 2),
    ],
)
def test_how_many_socket_calls_run_at_once(layers, configured, expected, settings):
    settings.CHANNEL_LAYERS = layers
    settings.CHAT_SOCKET_THREADS = configured

    assert consumers.socket_threads() == expected
    assert consumers.executor()._max_workers == expected
