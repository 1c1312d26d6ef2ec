"""A WebSocket server process killed: its clients reconnect to another process and catch up
with no message lost or doubled.

Two real uvicorn processes on marketplace.asgi share PostgreSQL and the Redis channel layer: the
buyer's socket is on one, the seller's on the other. The buyer's process is SIGKILLed; the seller
keeps writing; a third process starts; the buyer takes a new ticket there, reconnects and asks
for the messages after the last id it saw (API.md section 7), then the conversation is live
again. Every stored message reached the buyer exactly once (live or by catch-up)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from apps.categories.tests.factories import make_category
from apps.chat import services as chat_services
from apps.chat.models import Message
from apps.users.services import issue_tokens
from tests.faults.data import active_ad
from tests.faults.servers import Child, child_env, free_ports, uvicorn, wait_healthy

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 10


async def receive(socket: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(socket.recv(), WAIT)))


async def open_socket(http: httpx.AsyncClient, server: Child, token: str) -> ClientConnection:
    ticket = await http.post(
        f"{server.http}/api/messages/ws-ticket/", headers={"Authorization": f"Bearer {token}"}
    )
    assert ticket.status_code == 201, ticket.text
    socket = await connect(
        f"ws://127.0.0.1:{server.port}/ws/messages/?ticket={ticket.json()['ticket']}",
        open_timeout=WAIT,
        close_timeout=2,
    )
    assert (await receive(socket))["type"] == "ready"
    return socket


async def drain(socket: ClientConnection) -> None:
    """Read until the connection closes (raises ConnectionClosed)."""
    while True:
        await asyncio.wait_for(socket.recv(), WAIT)


async def say(socket: ClientConnection, conversation: str, body: str) -> dict[str, Any]:
    client_id = str(uuid.uuid4())
    await socket.send(
        json.dumps(
            {
                "type": "message.send",
                "conversation": conversation,
                "body": body,
                "client_id": client_id,
            }
        )
    )
    ack = await receive(socket)
    assert ack["type"] == "message.ack" and ack["client_id"] == client_id, ack
    return dict(ack["message"])


def test_clients_of_a_killed_ws_process_catch_up_with_nothing_lost_or_doubled(
    tmp_path: Path, make_user: Any
) -> None:
    seller, buyer = make_user(), make_user()
    ad = active_ad(seller, make_category("Socket Phones"), "Nokia G21 blue")
    conversation, _, _ = chat_services.start_conversation(
        buyer=buyer, ad_id=ad.pk, body="Still available?"
    )
    conversation_id = str(conversation.pk)
    tokens = {user.pk: issue_tokens(user=user).access for user in (buyer, seller)}
    env = child_env()
    ports = free_ports(2)
    one, two = (
        uvicorn(name, env, tmp_path, port, wait=False)
        for name, port in zip(("one", "two"), ports, strict=True)
    )
    wait_healthy(one)
    wait_healthy(two)
    three: Child | None = None
    received: list[int] = [Message.objects.get().pk]  # what the buyer has seen, in order

    async def scenario() -> None:
        nonlocal three
        async with httpx.AsyncClient(timeout=WAIT) as http:
            buyer_socket = await open_socket(http, one, tokens[buyer.pk])
            seller_socket = await open_socket(http, two, tokens[seller.pk])
            for n in range(3):
                sent = await say(seller_socket, conversation_id, f"before {n}")
                frame = await receive(buyer_socket)
                assert frame["type"] == "message.new" and frame["message"] == sent
                received.append(frame["message"]["id"])

            one.kill()  # SIGKILL: no close frame, no cleanup
            with pytest.raises(ConnectionClosed):
                await drain(buyer_socket)

            missed = [
                await say(seller_socket, conversation_id, f"while away {n}") for n in range(4)
            ]

            three = uvicorn("three", env, tmp_path)
            buyer_socket = await open_socket(http, three, tokens[buyer.pk])
            history = await http.get(
                f"{three.http}/api/messages/{conversation_id}/",
                params={"after": max(received), "page_size": 100},
                headers={"Authorization": f"Bearer {tokens[buyer.pk]}"},
            )
            assert history.status_code == 200, history.text
            caught_up = sorted(history.json()["results"], key=lambda m: m["id"])
            assert caught_up == missed
            received.extend(m["id"] for m in caught_up)

            sent = await say(seller_socket, conversation_id, "back online?")
            frame = await receive(buyer_socket)
            assert frame == {
                "type": "message.new",
                "conversation": conversation_id,
                "message": sent,
            }
            received.append(frame["message"]["id"])
            with pytest.raises(TimeoutError):  # and nothing twice
                await asyncio.wait_for(buyer_socket.recv(), 0.7)
            await buyer_socket.close()
            await seller_socket.close()

    try:
        asyncio.run(scenario())
    except BaseException:
        for child in (one, two, three):
            if child is not None:
                print(f"--- {child.name} ---\n{child.text()[-4000:]}")
        raise
    finally:
        for child in (one, two, three):
            if child is not None:
                child.stop()

    stored = list(
        Message.objects.filter(conversation=conversation)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert received == stored  # every message once, in order
    assert len(stored) == 1 + 3 + 4 + 1
