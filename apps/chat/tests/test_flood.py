"""Bad input on /ws/messages/ beyond single bad frames (test_socket.py has those: malformed
JSON, unknown types, oversized frames, non-participants): a flood of frames meets the per-user
send limit with error frames, the socket stays up and nothing is stored twice."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async

from apps.chat.models import Message
from apps.chat.tests.sockets import receive, run_async, send, silent, sockets

pytestmark = pytest.mark.django_db(transaction=True)


@run_async
async def test_a_flood_of_sends_gets_throttled_frames_and_the_socket_stays_up(
    buyer, seller, conversation, throttle_rates
):
    throttle_rates(message_send="5/m")
    async with sockets() as open_socket:
        socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        before = await database_sync_to_async(Message.objects.count)()
        ids = [str(uuid.uuid4()) for _ in range(25)]

        await asyncio.gather(
            *(
                send(
                    socket,
                    {
                        "type": "message.send",
                        "conversation": str(conversation.pk),
                        "body": f"Flood {n}",
                        "client_id": client_id,
                    },
                )
                for n, client_id in enumerate(ids)
            )
        )
        frames = [await receive(socket) for _ in ids]

        acked = [f["client_id"] for f in frames if f["type"] == "message.ack"]
        throttled = [
            f["client_id"] for f in frames if f["type"] == "error" and f["code"] == "throttled"
        ]
        assert len(acked) == 5 and len(throttled) == 20, frames
        assert sorted(acked + throttled) == sorted(ids)  # every frame answered, once
        stored = await database_sync_to_async(
            lambda: sorted(
                Message.objects.filter(client_id__in=ids).values_list("client_id", flat=True)
            )
        )()
        assert stored == sorted(acked)
        assert await database_sync_to_async(Message.objects.count)() == before + 5
        delivered = [(await receive(seller_socket))["message"]["client_id"] for _ in acked]
        assert sorted(delivered) == sorted(acked)
        await silent(seller_socket)

        # still up: frames that the send limit does not cover work at once
        await send(socket, {"type": "typing", "conversation": str(conversation.pk)})
        assert (await receive(seller_socket))["type"] == "typing"


@run_async
async def test_a_flood_of_resends_stores_one_message(buyer, seller, conversation):
    async with sockets() as open_socket:
        socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        frame = {
            "type": "message.send",
            "conversation": str(conversation.pk),
            "body": "Once",
            "client_id": "the-same",
        }

        await asyncio.gather(*(send(socket, frame) for _ in range(10)))
        acks = [await receive(socket) for _ in range(10)]

        assert {a["type"] for a in acks} == {"message.ack"}
        assert len({a["message"]["id"] for a in acks}) == 1
        assert (
            await database_sync_to_async(Message.objects.filter(client_id="the-same").count)() == 1
        )
        assert (await receive(seller_socket))["message"]["client_id"] == "the-same"
        await silent(seller_socket)


@run_async
async def test_a_flood_of_garbage_keeps_the_socket_and_stores_nothing(buyer, seller, conversation):
    async with sockets() as open_socket:
        socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        before = await database_sync_to_async(Message.objects.count)()
        garbage = ["{", "[]", '{"type": "nope"}', "x" * 70_000, '{"type": "message.send"}'] * 10

        await asyncio.gather(*(send(socket, raw) for raw in garbage))
        frames = [await receive(socket) for _ in garbage]

        assert {(f["type"], f["code"]) for f in frames} == {("error", "invalid")}
        assert await database_sync_to_async(Message.objects.count)() == before
        await silent(seller_socket)
        await send(
            socket,
            {
                "type": "message.send",
                "conversation": str(conversation.pk),
                "body": "Still here",
                "client_id": "after",
            },
        )
        assert (await receive(socket))["type"] == "message.ack"


@run_async
async def test_a_conversation_gone_since_the_last_send_is_not_found(buyer, seller, conversation):
    """The socket remembers the conversations it sent to (no lookup per message): one deleted
    meanwhile (its ad was deleted) answers not_found, not a crash."""
    async with sockets() as open_socket:
        socket = await open_socket(buyer)
        frame = {"type": "message.send", "conversation": str(conversation.pk), "body": "First"}
        await send(socket, {**frame, "client_id": "first"})
        assert (await receive(socket))["type"] == "message.ack"

        await database_sync_to_async(conversation.ad.delete)()
        await send(socket, {**frame, "client_id": "second"})

        error = await receive(socket)
        assert (error["type"], error["code"], error["client_id"]) == (
            "error",
            "not_found",
            "second",
        )
        assert not await database_sync_to_async(Message.objects.filter(client_id="second").exists)()
        await send(socket, {**frame, "client_id": "third"})
        assert (await receive(socket))["code"] == "not_found"
