"""The /ws/messages/ socket on the real ASGI app and the Redis channel layer (API.md section 7)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from apps.chat import tickets
from apps.chat.models import Message
from apps.chat.tests.conftest import (
    MESSAGE_KEYS,
    block,
    message_rows,
    messages_url,
    read_url,
    say,
)
from apps.chat.tests.sockets import (
    CLOSE_WAIT,
    communicator,
    expect_close,
    http,
    issue_ticket,
    receive,
    run_async,
    send,
    silent,
    sockets,
)

pytestmark = pytest.mark.django_db(transaction=True)
BAD_TICKET = 4401


def send_frame(
    conversation: Any, body: str = "Hello", client_id: str | None = None
) -> dict[str, Any]:
    return {
        "type": "message.send",
        "conversation": str(conversation.pk),
        "body": body,
        "client_id": client_id or str(uuid.uuid4()),
    }


async def rows() -> list[Any]:
    return await database_sync_to_async(message_rows)()


async def stored(message_id: int) -> Message:
    return await database_sync_to_async(Message.objects.get)(pk=message_id)


async def ack_for(socket: Any, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a message.send frame and return the acked message."""
    await send(socket, frame)
    ack = await receive(socket)
    assert ack["type"] == "message.ack", ack
    assert set(ack) == {"type", "client_id", "message"}
    assert ack["client_id"] == frame["client_id"]
    assert set(ack["message"]) == MESSAGE_KEYS
    return dict(ack["message"])


async def expect_error(socket: Any, code: str, client_id: Any = None) -> None:
    frame = await receive(socket)
    assert set(frame) == {"type", "code", "detail", "client_id"}, frame
    assert frame["type"] == "error" and frame["code"] == code, frame
    assert frame["client_id"] == client_id
    assert isinstance(frame["detail"], str) and frame["detail"]


# --- the ticket -------------------------------------------------------------------------------


@run_async
async def test_no_ticket_closes_with_4401(buyer):
    await expect_close(communicator(None), BAD_TICKET)
    await expect_close(communicator(""), BAD_TICKET)


@run_async
async def test_an_unknown_ticket_closes_with_4401(buyer):
    await expect_close(communicator("no-such-ticket"), BAD_TICKET)
    await expect_close(communicator("x" * 500), BAD_TICKET)


@run_async
async def test_a_ticket_works_once(buyer):
    ticket = await issue_ticket(buyer)
    first = communicator(ticket)
    assert (await first.connect(timeout=5))[0]
    assert await receive(first) == {"type": "ready", "user": str(buyer.pk)}
    try:
        await expect_close(communicator(ticket), BAD_TICKET)
    finally:
        await first.disconnect(timeout=CLOSE_WAIT)


@run_async
async def test_an_expired_ticket_closes_with_4401(buyer, monkeypatch):
    import asyncio

    monkeypatch.setattr(tickets, "TICKET_TTL", 1)
    ticket = await issue_ticket(buyer)
    await asyncio.sleep(1.5)
    await expect_close(communicator(ticket), BAD_TICKET)


@run_async
async def test_a_suspended_users_ticket_closes_with_4401(buyer):
    ticket = await issue_ticket(buyer)
    buyer.is_suspended = True
    await database_sync_to_async(buyer.save)(update_fields=["is_suspended"])
    await expect_close(communicator(ticket), BAD_TICKET)


@run_async
async def test_a_valid_ticket_gets_ready(buyer):
    async with sockets() as open_socket:
        socket = await open_socket(buyer)  # asserts {"type": "ready", "user": <id>}
        await silent(socket)


@run_async
async def test_frames_sent_before_ready_are_handled_after_it(buyer, conversation):
    socket = communicator(await issue_ticket(buyer))
    frame = send_frame(conversation, "Sent with the handshake")
    # Queue the handshake and a frame at once: the consumer has not checked the ticket yet.
    await socket.send_input({"type": "websocket.connect"})
    await send(socket, frame)
    try:
        assert (await socket.receive_output(timeout=5))["type"] == "websocket.accept"
        assert await receive(socket) == {"type": "ready", "user": str(buyer.pk)}
        ack = await receive(socket)
        assert ack["type"] == "message.ack" and ack["client_id"] == frame["client_id"]
        assert ack["message"]["body"] == "Sent with the handshake"
    finally:
        await socket.disconnect(timeout=CLOSE_WAIT)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://evil.example:3000",
        "http://localhost.evil.example",
        "http://localhost:3000.evil.example",
        "null",
        "file://",
    ],
)
@run_async
async def test_a_foreign_origin_is_refused_and_the_ticket_stays_unused(origin, buyer):
    ticket = await issue_ticket(buyer)

    connected, _ = await communicator(ticket, origin=origin).connect(timeout=5)

    assert connected is False  # the server answers the handshake with HTTP 403
    socket = communicator(ticket)
    assert (await socket.connect(timeout=5))[0]
    assert await receive(socket) == {"type": "ready", "user": str(buyer.pk)}
    await socket.disconnect(timeout=CLOSE_WAIT)


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://localhost:8000",
        "http://testserver",
    ],
)
@run_async
async def test_no_origin_or_an_allowed_origin_is_accepted(origin, buyer):
    async with sockets() as open_socket:
        await open_socket(buyer, origin=origin)


# --- sending and delivery ---------------------------------------------------------------------


@run_async
async def test_a_sent_message_is_acked_and_delivered_everywhere_else(
    buyer, seller, conversation, client_for
):
    async with sockets() as open_socket:
        buyer_1, buyer_2 = await open_socket(buyer), await open_socket(buyer)
        seller_1, seller_2 = await open_socket(seller), await open_socket(seller)
        frame = send_frame(conversation, "  Can you do 2000?  ")

        message = await ack_for(buyer_1, frame)

        row = await stored(message["id"])
        assert (row.body, row.sender_id, row.client_id) == (
            "Can you do 2000?",
            buyer.pk,
            frame["client_id"],
        )
        assert message["body"] == "Can you do 2000?"
        assert message["sender"] == str(buyer.pk)
        assert message["conversation"] == str(conversation.pk)
        assert message["client_id"] == frame["client_id"] and message["read_at"] is None
        for other in (buyer_2, seller_1, seller_2):
            assert await receive(other) == {
                "type": "message.new",
                "conversation": str(conversation.pk),
                "message": message,
            }
        await silent(buyer_1, buyer_2, seller_1, seller_2)
        # the ack carries the message exactly as the REST history shows it
        history = await http(client_for, seller, "get", messages_url(conversation.pk))
        assert history.json()["results"][0] == message


@run_async
async def test_a_resend_is_acked_with_the_original_and_delivered_once(buyer, seller, conversation):
    async with sockets() as open_socket:
        buyer_1, buyer_2, seller_1 = (
            await open_socket(buyer),
            await open_socket(buyer),
            await open_socket(seller),
        )
        frame = send_frame(conversation, "Exactly once")
        first = await ack_for(buyer_1, frame)
        assert (await receive(seller_1))["message"]["id"] == first["id"]
        assert (await receive(buyer_2))["message"]["id"] == first["id"]
        before = await rows()

        again = await ack_for(buyer_1, frame)
        from_other_socket = await ack_for(buyer_2, frame)  # e.g. after a reconnect

        assert again == first and from_other_socket == first
        assert await rows() == before
        await silent(buyer_1, buyer_2, seller_1)


@run_async
async def test_the_recipient_can_send_back(buyer, seller, conversation):
    async with sockets() as open_socket:
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)

        reply = await ack_for(seller_socket, send_frame(conversation, "Yes, 2000 is fine"))

        new = await receive(buyer_socket)
        assert new == {
            "type": "message.new",
            "conversation": str(conversation.pk),
            "message": reply,
        }
        assert reply["sender"] == str(seller.pk)
        await silent(buyer_socket, seller_socket)


@run_async
async def test_a_rest_message_reaches_every_socket_of_both(buyer, seller, conversation, client_for):
    async with sockets() as open_socket:
        open_sockets = [
            await open_socket(buyer),
            await open_socket(buyer),
            await open_socket(seller),
        ]

        response = await http(
            client_for, seller, "post", messages_url(conversation.pk), {"body": "Sent over HTTP"}
        )

        assert response.status_code == 201
        for socket in open_sockets:
            assert await receive(socket) == {
                "type": "message.new",
                "conversation": str(conversation.pk),
                "message": response.json(),
            }
        await silent(*open_sockets)


@run_async
async def test_a_rest_started_conversation_reaches_the_seller(buyer, seller, ad, client_for):
    async with sockets() as open_socket:
        seller_socket = await open_socket(seller)

        response = await http(
            client_for,
            buyer,
            "post",
            "/api/messages/conversations/",
            {"ad": str(ad.pk), "message": "First contact"},
        )

        assert response.status_code == 201
        frame = await receive(seller_socket)
        assert frame == {
            "type": "message.new",
            "conversation": response.json()["id"],
            "message": response.json()["last_message"],
        }


@run_async
async def test_strangers_get_nothing(buyer, seller, stranger, conversation):
    async with sockets() as open_socket:
        stranger_socket, seller_socket = await open_socket(stranger), await open_socket(seller)
        buyer_socket = await open_socket(buyer)
        await ack_for(buyer_socket, send_frame(conversation))
        await send(buyer_socket, {"type": "typing", "conversation": str(conversation.pk)})
        assert (await receive(seller_socket))["type"] == "message.new"
        assert (await receive(seller_socket))["type"] == "typing"
        await silent(stranger_socket)


# --- typing and read receipts -----------------------------------------------------------------


@run_async
async def test_typing_reaches_only_the_other_participant(buyer, seller, conversation):
    async with sockets() as open_socket:
        buyer_1, buyer_2 = await open_socket(buyer), await open_socket(buyer)
        seller_1, seller_2 = await open_socket(seller), await open_socket(seller)

        await send(buyer_1, {"type": "typing", "conversation": str(conversation.pk)})

        expected = {"type": "typing", "conversation": str(conversation.pk), "user": str(buyer.pk)}
        assert await receive(seller_1) == expected
        assert await receive(seller_2) == expected
        await silent(buyer_1, buyer_2, seller_1, seller_2)


@run_async
async def test_a_read_frame_tells_the_other_party(buyer, seller, conversation):
    newest = await database_sync_to_async(say)(buyer, conversation, "Second question")
    own = await database_sync_to_async(say)(seller, conversation, "An answer")
    async with sockets() as open_socket:
        buyer_1, buyer_2 = await open_socket(buyer), await open_socket(buyer)
        seller_1, seller_2 = await open_socket(seller), await open_socket(seller)

        await send(seller_1, {"type": "read", "conversation": str(conversation.pk)})

        expected = {
            "type": "message.read",
            "conversation": str(conversation.pk),
            "reader": str(seller.pk),
            "up_to": newest.pk,
        }
        assert await receive(buyer_1) == expected
        assert await receive(buyer_2) == expected
        await silent(buyer_1, buyer_2, seller_1, seller_2)
        read = await database_sync_to_async(list)(
            Message.objects.filter(conversation=conversation)
            .order_by("id")
            .values_list("id", "read_at")
        )
        assert [(pk, at is not None) for pk, at in read] == [
            (read[0][0], True),
            (newest.pk, True),
            (own.pk, False),
        ]

        # nothing left unread: no receipt, no error
        await send(seller_1, {"type": "read", "conversation": str(conversation.pk)})
        await silent(buyer_1, seller_1)


@run_async
async def test_rest_read_tells_the_other_party(buyer, seller, conversation, client_for):
    newest = await database_sync_to_async(say)(buyer, conversation, "Anyone?")
    async with sockets() as open_socket:
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)

        response = await http(client_for, seller, "post", read_url(conversation.pk))

        assert response.json() == {"unread_count": 0}
        assert await receive(buyer_socket) == {
            "type": "message.read",
            "conversation": str(conversation.pk),
            "reader": str(seller.pk),
            "up_to": newest.pk,
        }
        await silent(buyer_socket, seller_socket)


# --- errors: answered on the socket, which stays open -----------------------------------------


async def still_works(socket: Any, conversation: Any) -> None:
    message = await ack_for(socket, send_frame(conversation, "Still here"))
    assert message["body"] == "Still here"


@run_async
async def test_unknown_conversations_are_not_found(buyer, seller, conversation):
    async with sockets() as open_socket:
        socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        before = await rows()
        for target in (str(uuid.uuid4()), "garbage", 42, None, ["x"], {"id": 1}):
            client_id = str(uuid.uuid4())
            await send(
                socket,
                {
                    "type": "message.send",
                    "conversation": target,
                    "body": "Hello",
                    "client_id": client_id,
                },
            )
            await expect_error(socket, "not_found", client_id)
            for kind in ("typing", "read"):
                await send(socket, {"type": kind, "conversation": target})
                await expect_error(socket, "not_found")
        await send(socket, {"type": "message.send", "body": "No conversation", "client_id": "c-1"})
        await expect_error(socket, "not_found", "c-1")
        assert await rows() == before
        await silent(seller_socket)
        await still_works(socket, conversation)


@run_async
async def test_non_participants_get_not_found(buyer, seller, stranger, conversation):
    async with sockets() as open_socket:
        intruder = await open_socket(stranger)
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        before = await rows()

        await send(intruder, send_frame(conversation, "Let me in", "intruder-1"))
        await expect_error(intruder, "not_found", "intruder-1")
        await send(intruder, {"type": "typing", "conversation": str(conversation.pk)})
        await expect_error(intruder, "not_found")
        await send(intruder, {"type": "read", "conversation": str(conversation.pk)})
        await expect_error(intruder, "not_found")

        assert await rows() == before
        await silent(buyer_socket, seller_socket, intruder)
        unread = await database_sync_to_async(Message.objects.filter(read_at__isnull=True).count)()
        assert unread == 1


@pytest.mark.parametrize("who_blocks", ["seller", "buyer"])
@run_async
async def test_a_blocked_send_is_refused(who_blocks, buyer, seller, conversation, ad):
    async with sockets() as open_socket:
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        blocker, blocked = (seller, buyer) if who_blocks == "seller" else (buyer, seller)
        await database_sync_to_async(block)(blocker, blocked)
        before = await rows()

        for socket in (buyer_socket, seller_socket):
            frame = send_frame(conversation, "Hello?")
            await send(socket, frame)
            await expect_error(socket, "blocked", frame["client_id"])

        assert await rows() == before
        await silent(buyer_socket, seller_socket)
        # still open: a frame that needs no permission across the block works
        await send(buyer_socket, {"type": "read", "conversation": str(conversation.pk)})
        await send(
            buyer_socket,
            {
                "type": "message.send",
                "conversation": str(uuid.uuid4()),
                "body": "x",
                "client_id": "after-block",
            },
        )
        await expect_error(buyer_socket, "not_found", "after-block")


INVALID_FRAMES: dict[str, Any] = {
    "not json": "{not json",
    "truncated json": '{"type": "message.send"',
    "empty object": {},
    "array": '[{"type": "typing"}]',
    "string": '"message.send"',
    "number": "42",
    "null": "null",
    "unknown type": {"type": "message.delete", "conversation": "CONV"},
    "type not a string": {"type": ["typing"], "conversation": "CONV"},
    "missing body": {"type": "message.send", "conversation": "CONV", "client_id": "c"},
    "blank body": {"type": "message.send", "conversation": "CONV", "body": "", "client_id": "c"},
    "whitespace body": {
        "type": "message.send",
        "conversation": "CONV",
        "body": " \n\t ",
        "client_id": "c",
    },
    "5001-char body": {
        "type": "message.send",
        "conversation": "CONV",
        "body": "x" * 5001,
        "client_id": "c",
    },
    "body not a string": {
        "type": "message.send",
        "conversation": "CONV",
        "body": 12,
        "client_id": "c",
    },
    "client_id not a string": {
        "type": "message.send",
        "conversation": "CONV",
        "body": "hi",
        "client_id": {"a": 1},
    },
    "client_id too long": {
        "type": "message.send",
        "conversation": "CONV",
        "body": "hi",
        "client_id": "c" * 65,
    },
    "oversized frame": {
        "type": "message.send",
        "conversation": "CONV",
        "body": "y" * 20_000,
        "client_id": "c",
    },
}


@pytest.mark.parametrize("case", list(INVALID_FRAMES))
@run_async
async def test_invalid_frames_get_an_invalid_error(case, buyer, seller, conversation):
    raw = INVALID_FRAMES[case]
    if isinstance(raw, dict):
        raw = json.dumps({k: str(conversation.pk) if v == "CONV" else v for k, v in raw.items()})
    async with sockets() as open_socket:
        socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        before = await rows()

        await send(socket, raw)

        frame = await receive(socket)
        assert frame["type"] == "error" and frame["code"] == "invalid", frame
        assert set(frame) == {"type", "code", "detail", "client_id"}
        if frame["client_id"] is not None:
            assert frame["client_id"] == "c"
        assert await rows() == before
        await silent(seller_socket)
        await still_works(socket, conversation)


@run_async
async def test_a_binary_frame_is_invalid(buyer, conversation):
    async with sockets() as open_socket:
        socket = await open_socket(buyer)
        await socket.send_to(bytes_data=b'{"type": "typing"}')
        await expect_error(socket, "invalid")
        await still_works(socket, conversation)


@run_async
async def test_the_largest_body_is_accepted(buyer, seller, conversation):
    async with sockets() as open_socket:
        socket = await open_socket(buyer)
        message = await ack_for(socket, send_frame(conversation, "z" * 5000))
        assert len(message["body"]) == 5000


@run_async
async def test_the_send_throttle_answers_throttled_and_keeps_the_socket(
    buyer, seller, conversation, throttle_rates
):
    throttle_rates(message_send="2/m")
    async with sockets() as open_socket:
        socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        await ack_for(socket, send_frame(conversation, "one"))
        await ack_for(socket, send_frame(conversation, "two"))
        assert [(await receive(seller_socket))["message"]["body"] for _ in range(2)] == [
            "one",
            "two",
        ]
        before = await rows()

        frame = send_frame(conversation, "three")
        await send(socket, frame)
        await expect_error(socket, "throttled", frame["client_id"])

        assert await rows() == before
        await silent(seller_socket)
        # the socket stays open: typing and reading still work
        await send(socket, {"type": "typing", "conversation": str(conversation.pk)})
        assert (await receive(seller_socket))["type"] == "typing"


# --- a quiet socket stays usable --------------------------------------------------------------


def test_the_channel_layer_outwaits_its_own_blocking_reads():
    """A consumer waits for events in BZPOPMIN for `brpop_timeout` seconds; the Redis client
    must not time the read out first (redis-py 8 defaults socket_timeout to 5 s, the same).
    Fix in marketplace/settings: hosts=[{"address": <redis url>, "socket_timeout": 10}]."""
    from channels_redis.core import RedisChannelLayer
    from django.conf import settings

    # The configured layer is the pub/sub one (no blocking reads: it polls every 0.1 s); the
    # hosts' options must still suit the core layer, should the settings switch back.
    layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    pool = layer.create_pool(0)
    socket_timeout = pool.connection_class(**pool.connection_kwargs).socket_timeout  # unopened
    assert socket_timeout is None or socket_timeout > 5, (
        f"Redis socket_timeout {socket_timeout} s <= channels_redis BZPOPMIN wait of 5 s"
    )


@run_async
async def test_a_socket_idle_for_a_while_still_works(buyer, seller, conversation, monkeypatch):
    import asyncio

    from channels_redis.core import RedisChannelLayer

    monkeypatch.setattr(RedisChannelLayer, "brpop_timeout", 5)  # the library's own value
    async with sockets() as open_socket:
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)

        await asyncio.sleep(7)

        message = await ack_for(buyer_socket, send_frame(conversation, "Still there?"))
        assert (await receive(seller_socket))["message"] == message
