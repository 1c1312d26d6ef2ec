"""Two real uvicorn processes sharing PostgreSQL and the Redis channel layer: a buyer on one
and a seller on the other talk both ways; one process dies and the buyer catches up on the other.

The children run `marketplace.settings.test` against this test's own database (it exists on the
server: the test is transactional) and Redis database; their DATABASE_URL names the test
database itself, since only the test runner adds the TEST name."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from apps.chat.models import Message
from apps.users.services import issue_tokens

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[3]
UVICORN = Path(sys.executable).parent / "uvicorn"
WAIT = 10  # seconds, for anything at all


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/messages/"


def child_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    assert db["NAME"].startswith("test"), db["NAME"]  # never a developer's database
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    redis = urlsplit(settings.TEST_REDIS_URL)
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "marketplace.settings.test",
            "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{quote(db['NAME'])}",
            # test.py derives its Redis URL from REDIS_URL and REDIS_TEST_DB: the same one as here
            "REDIS_URL": settings.TEST_REDIS_URL,
            "REDIS_TEST_DB": redis.path.lstrip("/"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def wait_healthy(server: Server, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"{server.name} exited:\n{server.log.read_text()}")
        try:
            if httpx.get(server.http + "/healthz/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{server.name} did not start within {WAIT} s:\n{server.log.read_text()}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


@pytest.fixture
def servers(tmp_path: Path, transactional_db: Any) -> Iterator[tuple[Server, Server]]:
    env = child_env()
    started: list[Server] = []
    try:
        # Both ports are taken while both probes are open, so they always differ (two probes
        # opened one after the other may get the same port back).
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            second.bind(("127.0.0.1", 0))
            ports = [int(first.getsockname()[1]), int(second.getsockname()[1])]
        for name, port in zip(("one", "two"), ports, strict=True):
            log = tmp_path / f"uvicorn-{name}.log"
            process = subprocess.Popen(  # noqa: S603  our own venv's uvicorn
                [
                    str(UVICORN),
                    "marketplace.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--lifespan",
                    "off",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            started.append(Server(name, port, process, log))
        deadline = time.monotonic() + WAIT
        for server in started:
            wait_healthy(server, deadline)
            assert server.process.poll() is None, server.log.read_text()
        yield started[0], started[1]
    finally:
        for server in started:
            stop(server)


# --- a small client ---------------------------------------------------------------------------


class Client:
    """One user's HTTP calls and sockets, with every frame it received kept in order."""

    def __init__(self, user: Any, token: str, http: httpx.AsyncClient) -> None:
        self.user = user
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.frames: list[dict[str, Any]] = []

    async def ticket(self, server: Server) -> str:
        response = await self.http.post(
            server.http + "/api/messages/ws-ticket/", headers=self.headers
        )
        assert response.status_code == 201, response.text
        return str(response.json()["ticket"])

    async def open(self, server: Server, ticket: str | None = None) -> ClientConnection:
        ticket = ticket or await self.ticket(server)
        socket = await connect(f"{server.ws}?ticket={ticket}", open_timeout=WAIT, close_timeout=2)
        assert await self.next(socket) == {"type": "ready", "user": str(self.user.pk)}
        return socket

    async def next(self, socket: ClientConnection) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        self.frames.append(frame)
        return dict(frame)

    async def send(self, socket: ClientConnection, conversation: Any, body: str) -> str:
        client_id = str(uuid.uuid4())
        await socket.send(
            json.dumps(
                {
                    "type": "message.send",
                    "conversation": str(conversation),
                    "body": body,
                    "client_id": client_id,
                }
            )
        )
        return client_id

    async def collect(self, socket: ClientConnection, count: int) -> list[dict[str, Any]]:
        return [await self.next(socket) for _ in range(count)]

    async def nothing_more(self, socket: ClientConnection, seconds: float = 0.5) -> None:
        try:
            frame = await asyncio.wait_for(socket.recv(), seconds)
        except TimeoutError:
            return
        pytest.fail(f"unexpected frame {frame!r}")

    async def history_after(
        self, server: Server, conversation: Any, after: int
    ) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{server.http}/api/messages/{conversation}/",
            params={"after": after, "page_size": 100},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        return list(response.json()["results"])


async def drain(socket: ClientConnection) -> None:
    """Read until the connection closes (raises ConnectionClosed); bounded by WAIT per read."""
    while True:
        await asyncio.wait_for(socket.recv(), WAIT)


def split(frames: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Acks by client_id, and the messages of message.new frames."""
    acks = {f["client_id"]: f["message"] for f in frames if f["type"] == "message.ack"}
    new = [f["message"] for f in frames if f["type"] == "message.new"]
    assert all(f["type"] in {"message.ack", "message.new"} for f in frames), frames
    return acks, new


# --- the test ---------------------------------------------------------------------------------


def test_two_processes_deliver_both_ways_and_survive_losing_one(
    servers, buyer, seller, conversation
):
    one, two = servers
    conversation_id = str(conversation.pk)
    opening = Message.objects.get().pk
    tokens = {user.pk: issue_tokens(user=user).access for user in (buyer, seller)}

    async def scenario() -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            b, s = Client(buyer, tokens[buyer.pk], http), Client(seller, tokens[seller.pk], http)
            # a ticket is good on any process: it lives in the shared Redis
            buyer_socket = await b.open(one)
            seller_socket = await s.open(two, ticket=await s.ticket(one))

            # one at a time, both ways
            for n in range(5):
                client_id = await b.send(buyer_socket, conversation_id, f"buyer {n}")
                ack = await b.next(buyer_socket)
                assert ack["type"] == "message.ack" and ack["client_id"] == client_id
                assert await s.next(seller_socket) == {
                    "type": "message.new",
                    "conversation": conversation_id,
                    "message": ack["message"],
                }
                client_id = await s.send(seller_socket, conversation_id, f"seller {n}")
                ack = await s.next(seller_socket)
                assert ack["type"] == "message.ack" and ack["client_id"] == client_id
                assert await b.next(buyer_socket) == {
                    "type": "message.new",
                    "conversation": conversation_id,
                    "message": ack["message"],
                }

            # bursts from both sides at once
            sent_b = [await b.send(buyer_socket, conversation_id, f"burst b{n}") for n in range(15)]
            sent_s = [
                await s.send(seller_socket, conversation_id, f"burst s{n}") for n in range(15)
            ]
            acks_b, new_at_b = split(await b.collect(buyer_socket, 30))
            acks_s, new_at_s = split(await s.collect(seller_socket, 30))
            assert set(acks_b) == set(sent_b) and set(acks_s) == set(sent_s)
            # each side got exactly the other side's messages, once each, in the order stored
            assert new_at_s == sorted(acks_b.values(), key=lambda m: m["id"])
            assert new_at_b == sorted(acks_s.values(), key=lambda m: m["id"])
            # a resend through the other process is acked with the original, not delivered
            client_id = sent_b[0]
            await buyer_socket.send(
                json.dumps(
                    {
                        "type": "message.send",
                        "conversation": conversation_id,
                        "body": "burst b0",
                        "client_id": client_id,
                    }
                )
            )
            again = await b.next(buyer_socket)
            assert again == {
                "type": "message.ack",
                "client_id": client_id,
                "message": acks_b[client_id],
            }

            # a message sent over HTTP to process two reaches the socket on process one
            response = await http.post(
                f"{two.http}/api/messages/{conversation_id}/",
                json={"body": "sent over HTTP"},
                headers=s.headers,
            )
            assert response.status_code == 201, response.text
            assert await b.next(buyer_socket) == {
                "type": "message.new",
                "conversation": conversation_id,
                "message": response.json(),
            }
            assert (await s.next(seller_socket))["message"] == response.json()
            await b.nothing_more(buyer_socket)
            await s.nothing_more(seller_socket)

            seen = [f["message"]["id"] for f in b.frames if "message" in f]
            last_seen = max(seen)

            # process one dies: the buyer's socket goes with it
            one.process.kill()
            one.process.wait(timeout=WAIT)
            with pytest.raises(ConnectionClosed):
                await drain(buyer_socket)

            # meanwhile the seller keeps writing through process two
            missed = []
            for n in range(3):
                await s.send(seller_socket, conversation_id, f"while away {n}")
                ack = await s.next(seller_socket)
                assert ack["type"] == "message.ack"
                missed.append(ack["message"])

            # the buyer comes back on process two with a new ticket and catches up over HTTP
            buyer_socket = await b.open(two)
            history = await b.history_after(two, conversation_id, last_seen)
            assert history == sorted(missed, key=lambda m: m["id"], reverse=True)

            # and the conversation is live again
            client_id = await b.send(buyer_socket, conversation_id, "back again")
            ack = await b.next(buyer_socket)
            assert ack["type"] == "message.ack" and ack["client_id"] == client_id
            assert (await s.next(seller_socket))["message"] == ack["message"]
            await b.nothing_more(buyer_socket)
            await s.nothing_more(seller_socket)
            await buyer_socket.close()
            await seller_socket.close()

    try:
        asyncio.run(scenario())
    except BaseException:
        for server in servers:
            sys.stderr.write(f"--- {server.name} log ---\n{server.log.read_text()}\n")
        raise

    # nothing lost, nothing stored twice: 1 opening + 10 + 30 + 1 over HTTP + 3 + 1
    bodies = list(Message.objects.order_by("id").values_list("body", flat=True))
    assert len(bodies) == 46 and len(set(bodies)) == 46
    assert Message.objects.filter(pk__lt=opening).count() == 0
