#!/usr/bin/env python
"""`make soak`: a bounded load test of the production layout on loopback (issue 10 item 6).

    .venv/bin/python bench/soak.py [--seconds 600] [--ads 100000] [--concurrency 16]
        [--sample-every 10] [--ws-clients 2] [--growth-limit 0.10] [--no-celery] [--name STEM]

The stack of `make bench` (bench/harness.py: private redis-server :18379, nginx :18080 ->
gunicorn :18010 + uvicorn :18011, marketplace.settings.bench, marketplace_bench_<ads>) plus a
Celery worker as deployed (deploy/Procfile: queues default,notifications,search, concurrency 2).
After a short warm-up, wrk drives the `make bench` mix (bench/load/soak.lua, one connection per
thread) for --seconds while
- a sampler records every --sample-every s the RSS of every process of the layout, the
  PostgreSQL connections to the bench database, Redis clients and the Celery queue lengths;
- --ws-clients WebSocket clients, each the recipient of one conversation, stay connected through
  nginx and record every message.new they receive (part of the mix's messages go to them).
Every message POST carries a unique client_id; afterwards the soak checks
- zero 5xx (wrk's answers per endpoint and status class) and zero socket errors/timeouts,
- zero lost messages: every client_id answered 201 is a row of chat_message (exactly once), and
  every one sent to a WebSocket client reached it, once,
- flat memory: per process, the mean RSS of the last third of the samples vs the first third
  (growth <= --growth-limit); gunicorn recycles a worker after max_requests, so the workers are
  judged by their sum and each worker over its own life.
Then it stops the stack and removes what the run wrote (bench/harness_django.py cleanup), and
writes bench/results/soak-<date>.{md,json}.
"""

# ruff: noqa: S603, S607  (the soak runs the system's tools: wrk, redis-cli, celery)
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate, harness  # noqa: E402

SOAK_LUA = ROOT / "bench" / "load" / "soak.lua"
QUEUES = ("default", "notifications", "search")
MIX_LINES_PER_WEIGHT = 40
WS_SHARE = 0.34  # of the mix's message lines, the share sent to the WebSocket clients


def log(message: str) -> None:
    print(f"[soak] {message}", file=sys.stderr, flush=True)


# --- the mix ----------------------------------------------------------------------------------


def jwt_user(token: str) -> str:
    """The user id claim of an access token (read, not verified: the server verifies it)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["user_id"])


def build_mix(
    requests_dir: Path, ws_targets: list[dict[str, Any]], seed: int = 11
) -> tuple[Path, int]:
    """The `make bench` mix (harness.MIX, 40 lines per weight point), each line tagged with its
    endpoint; of the message lines, WS_SHARE go to the WebSocket clients' conversations (tags
    ws0, ws1, ...). Returns the file and its line count."""
    rng = random.Random(seed)  # noqa: S311
    lines: list[str] = []
    for name, weight in harness.MIX.items():
        rows = [r for r in (requests_dir / f"{name}.tsv").read_text().splitlines() if r]
        count = weight * MIX_LINES_PER_WEIGHT
        if name == "message" and ws_targets:
            # the sockets' conversations get only their tagged lines: every message.new a
            # socket receives is then one it expects
            taken = {t["line"] for t in ws_targets}
            rows = [r for r in rows if r not in taken] or rows
            to_ws = round(count * WS_SHARE)
            for index in range(to_ws):
                target = ws_targets[index % len(ws_targets)]
                lines.append(f"{target['line']}\t{target['tag']}")
            count -= to_ws
        lines += [f"{rng.choice(rows)}\t{name}" for _ in range(count)]
    rng.shuffle(lines)
    path = requests_dir / "soak-mix.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path, len(lines)


def ws_targets_for(stack: harness.Stack, count: int) -> list[dict[str, Any]]:
    """Message lines of `count` conversations, with the recipient's user id and token."""
    if count <= 0:
        return []
    rows = [r for r in (stack.dir / "requests" / "message.tsv").read_text().splitlines() if r]
    chosen: list[str] = []
    seen: set[str] = set()
    for row in rows:
        conversation = row.split("\t")[1].split("/")[3]
        if conversation not in seen:
            seen.add(conversation)
            chosen.append(row)
        if len(chosen) == count:
            break
    query = [
        {"conversation": r.split("\t")[1].split("/")[3], "sender": jwt_user(r.split("\t")[2])}
        for r in chosen
    ]
    recipients = stack.run_json(Path(__file__), "recipients", json.dumps(query))
    return [
        {"tag": f"ws{i}", "line": row, **recipient}
        for i, (row, recipient) in enumerate(zip(chosen, recipients, strict=True))
    ]


def recipients(query: list[dict[str, str]]) -> list[dict[str, str]]:
    """(Django side, the stack's environment) the other party of each conversation, a token."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.bench")
    import django

    django.setup()
    from apps.chat.models import Conversation
    from bench.harness_django import access_token

    out = []
    for item in query:
        conversation = Conversation.objects.select_related("buyer", "seller").get(
            pk=item["conversation"]
        )
        other = (
            conversation.seller
            if str(conversation.buyer.pk) == item["sender"]
            else conversation.buyer
        )
        out.append({"recipient": str(other.pk), "token": access_token(other)})
    return out


# --- WebSocket clients ------------------------------------------------------------------------


class WsClient:
    """A recipient connected through nginx: every message.new of its conversation, by
    client_id (a second copy is a duplicate)."""

    def __init__(self, target: dict[str, Any]) -> None:
        self.tag = str(target["tag"])
        self.conversation = str(target["line"].split("\t")[1].split("/")[3])
        self.token = str(target["token"])
        self.user = str(target["recipient"])
        self.received: Counter[str] = Counter()
        self.other_frames: Counter[str] = Counter()
        self.connects = 0
        self.closes: list[str] = []

    def ticket(self) -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{harness.PORTS['nginx']}/api/messages/ws-ticket/",
            method="POST",
            data=b"",
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return str(json.loads(response.read())["ticket"])

    async def run(self, stop: asyncio.Event, ready: threading.Event) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        base = f"ws://127.0.0.1:{harness.PORTS['nginx']}/ws/messages/"
        while not stop.is_set():
            try:
                ticket = await asyncio.to_thread(self.ticket)
                async with connect(f"{base}?ticket={ticket}", open_timeout=10) as ws:
                    self.connects += 1
                    first = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if first.get("type") != "ready":
                        self.closes.append(f"first frame {first!r}")
                        continue
                    ready.set()
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.5)
                        except TimeoutError:
                            continue
                        frame = json.loads(raw)
                        kind = str(frame.get("type"))
                        message = frame.get("message") or {}
                        if kind == "message.new" and message.get("conversation") == (
                            self.conversation
                        ):
                            self.received[str(message.get("client_id") or "")] += 1
                        else:
                            self.other_frames[kind] += 1
            except (ConnectionClosed, OSError, TimeoutError) as error:
                if not stop.is_set():
                    self.closes.append(f"{type(error).__name__}: {error}"[:200])
                    await asyncio.sleep(1)

    def summary(self, created: set[str]) -> dict[str, Any]:
        expected = {c for c in created if c.split("-")[1] == self.tag}
        got = {c for c in self.received if c}
        return {
            "conversation": self.conversation,
            "recipient": self.user,
            "sent_201": len(expected),
            "received": sum(self.received.values()),
            "lost": sorted(expected - got)[:20],
            "lost_count": len(expected - got),
            "duplicated": sum(n - 1 for n in self.received.values() if n > 1),
            "unexpected": len(got - expected),
            "connects": self.connects,
            "closes": self.closes[:10],
            "other_frames": dict(self.other_frames),
        }


class WsFleet:
    def __init__(self, targets: list[dict[str, Any]]) -> None:
        self.clients = [WsClient(t) for t in targets]
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.ready = [threading.Event() for _ in self.clients]

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.stop_event = asyncio.Event()
        stop = self.stop_event
        self.loop.run_until_complete(
            asyncio.gather(*(c.run(stop, r) for c, r in zip(self.clients, self.ready, strict=True)))
        )

    def start(self) -> None:
        if not self.clients:
            return
        self.thread.start()
        for event in self.ready:
            if not event.wait(30):
                raise SystemExit("a WebSocket client did not get its ready frame within 30 s")

    def stop(self) -> None:
        if self.clients and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(15)


# --- sampling ---------------------------------------------------------------------------------


def processes(stack: harness.Stack) -> dict[str, Any]:
    """name -> psutil.Process for every process of the layout (workers by pid)."""
    import psutil

    found: dict[str, Any] = {}
    for name, proc in stack.procs:
        try:
            parent = psutil.Process(proc.pid)
            children = parent.children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        if name in ("gunicorn", "celery", "nginx"):
            found[f"{name} master"] = parent
            for child in children:
                found[f"{name} worker {child.pid}"] = child
        else:
            found[name] = parent
            for child in children:
                found[f"{name} child {child.pid}"] = child
    return found


def redis_info(*args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-p", str(harness.PORTS["redis"]), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    ).stdout


def pg_connections(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid() GROUP BY 1"
        ).fetchall()
    return {str(state): int(n) for state, n in rows}


class Sampler:
    def __init__(self, stack: harness.Stack, every: float) -> None:
        self.stack = stack
        self.every = every
        self.samples: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()

    def sample(self) -> dict[str, Any]:
        import psutil

        rss: dict[str, float] = {}
        for name, process in processes(self.stack).items():
            try:
                rss[name] = round(process.memory_info().rss / 2**20, 2)
            except psutil.NoSuchProcess:
                continue
        clients = 0
        for text in redis_info("info", "clients").splitlines():
            if text.startswith("connected_clients:"):
                clients = int(text.split(":")[1])
        queues = {q: int(redis_info("llen", q).strip() or 0) for q in QUEUES}
        try:
            pg = pg_connections(self.stack.database_url)
        except Exception as error:  # a sample must not end the soak
            pg = {"error": 1}
            log(f"pg sample failed: {error}")
        return {
            "t": round(time.monotonic() - self.started, 1),
            "rss_mb": rss,
            "pg_connections": sum(v for k, v in pg.items() if k != "error"),
            "pg_by_state": pg,
            "redis_clients": clients,
            "celery_queues": queues,
            "load1": round(os.getloadavg()[0], 2),
        }

    def _run(self) -> None:
        while True:
            self.samples.append(self.sample())
            if self.stopping.wait(self.every):
                return

    def start(self) -> None:
        self.started = time.monotonic()
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(30)
        self.samples.append(self.sample())  # the end of the window


# --- checks -----------------------------------------------------------------------------------


def thirds(values: list[float]) -> tuple[float, float] | None:
    if len(values) < 3:
        return None
    third = len(values) // 3
    return statistics.fmean(values[:third]), statistics.fmean(values[-third:])


def memory_verdicts(samples: list[dict[str, Any]], limit: float) -> dict[str, Any]:
    """First-third vs last-third mean RSS: per long-lived process, the gunicorn and celery
    workers summed (they are recycled: max_requests / max-tasks-per-child), and each worker
    over its own life (>= 6 samples)."""
    names: set[str] = set()
    for sample in samples:
        names |= set(sample["rss_mb"])
    series: dict[str, list[float]] = {}
    for group in ("gunicorn", "celery"):
        total = [
            sum(v for k, v in s["rss_mb"].items() if k.startswith(f"{group} worker "))
            for s in samples
        ]
        if any(total):
            series[f"{group} workers (sum)"] = total
    for name in sorted(names):
        values = [s["rss_mb"][name] for s in samples if name in s["rss_mb"]]
        whole = len(values) == len(samples)
        is_worker = " worker " in name
        if whole or (is_worker and len(values) >= 6):
            series[name] = values
    out: dict[str, Any] = {}
    for name, values in series.items():
        pair = thirds(values)
        if pair is None:
            continue
        first, last = pair
        growth = (last - first) / first if first else 0.0
        out[name] = {
            "first_third_mb": round(first, 1),
            "last_third_mb": round(last, 1),
            "growth": round(growth, 4),
            "samples": len(values),
            "whole_window": len(values) == len(samples),
            "pass": growth <= limit,
        }
    return out


def stored_messages(database_url: str, run: str, after_id: int) -> Counter[str]:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT client_id, count(*) FROM chat_message WHERE id > %s AND client_id LIKE %s "
            "GROUP BY client_id",
            [after_id, f"{run}-%"],
        ).fetchall()
    return Counter({str(client): int(n) for client, n in rows})


def parse_wrk(stdout: str) -> tuple[dict[str, Any], set[str]]:
    stats: dict[str, Any] | None = None
    ids: set[str] = set()
    inside = False
    for text in stdout.splitlines():
        if text.startswith("SOAK-JSON "):
            stats = dict(json.loads(text[len("SOAK-JSON ") :]))
        elif text == "SOAK-IDS-BEGIN":
            inside = True
        elif text == "SOAK-IDS-END":
            inside = False
        elif inside and text:
            ids.add(text)
    if stats is None:
        raise SystemExit(f"wrk gave no SOAK-JSON line:\n{stdout[-3000:]}")
    return stats, ids


def status_totals(stats: dict[str, Any]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for per in stats["statuses"].values():
        for key, n in per.items():
            if key.endswith("xx"):
                totals[key] += n
    return dict(sorted(totals.items()))


# --- report -----------------------------------------------------------------------------------


def render_markdown(data: dict[str, Any]) -> str:
    w = data["wrk"]
    v = data["verdicts"]
    m = data["messages"]
    verdict = "PASS" if data["pass"] else "FAIL"
    out = [
        f"# make soak - {data['date']}: {verdict}",
        "",
        f"{data['settings']['seconds']:.0f} s of the `make bench` mix at concurrency "
        f"{data['settings']['concurrency']} (wrk, one connection per thread, "
        "bench/load/soak.lua) through nginx :18080 -> gunicorn gthread "
        f"({data['settings']['workers']}x{data['settings']['threads']}) + uvicorn /ws/, "
        f"{'a Celery worker (concurrency 2) as deployed, ' if data['settings']['celery'] else ''}"
        f"`marketplace.settings.bench` on marketplace_bench_{data['settings']['ads']} "
        f"({data['settings']['ads']:,} ads), private redis-server :18379; after a "
        f"{data['settings']['warmup']:.0f} s warm-up. Sampled every "
        f"{data['settings']['sample_every']:.0f} s.",
        "",
        f"Machine: {data['machine']['cpus']} CPUs; load before `{data['uptime_start']}`, "
        f"after `{data['uptime_end']}`.",
        "",
        "| criterion | figure | result |",
        "|---|---|---|",
        f"| zero 5xx | {w['statuses_total'].get('5xx', 0)} 5xx of {w['requests']:,} requests; "
        f"socket errors {w['connect_errors'] + w['read_errors'] + w['write_errors']}, "
        f"timeouts {w['timeouts']} | {'pass' if v['no_5xx'] else '**FAIL**'} |",
        f"| zero lost messages (REST -> rows) | {m['created_201']:,} answered 201, "
        f"{m['stored_of_201']:,} of them stored, lost {m['lost_count']}, doubled "
        f"{m['doubled']}; stored without a 201 seen {m['stored_without_201']} | "
        f"{'pass' if v['no_lost_messages'] else '**FAIL**'} |",
    ]
    if data["ws"]:
        sent = sum(c["sent_201"] for c in data["ws"])
        lost = sum(c["lost_count"] for c in data["ws"])
        dup = sum(c["duplicated"] for c in data["ws"])
        recv = sum(c["received"] for c in data["ws"])
        extra = sum(c["unexpected"] for c in data["ws"])
        out.append(
            f"| zero lost/doubled on WebSocket | {len(data['ws'])} recipients through nginx: "
            f"{sent} sent to them (201), {recv} frames received, lost {lost}, doubled {dup}, "
            f"other messages of their conversations {extra} | "
            f"{'pass' if v['ws_ok'] else '**FAIL**'} |"
        )
    worst = max((r["growth"] for r in data["memory"].values() if r["whole_window"]), default=0.0)
    out += [
        f"| flat memory (last third vs first third <= "
        f"{data['settings']['growth_limit']:.0%}) | worst whole-window growth "
        f"{worst:+.1%} | {'pass' if v['memory_flat'] else '**FAIL**'} |",
        "",
        f"Throughput: {w['requests']:,} requests in {w['seconds']:.0f} s = {w['rps']:.1f} rps; "
        f"latency p50 {w['p50_ms']:.1f} ms, p95 {w['p95_ms']:.1f} ms, p99 {w['p99_ms']:.1f} "
        f"ms, max {w['max_ms']:.0f} ms.",
        "",
        "| endpoint | 2xx | 201 | 3xx | 4xx | 5xx |",
        "|---|---|---|---|---|---|",
    ]
    for tag, per in sorted(w["statuses"].items()):
        out.append(
            f"| {tag} | {per.get('2xx', 0):,} | {per.get('201', 0):,} | {per.get('3xx', 0)} | "
            f"{per.get('4xx', 0)} | {per.get('5xx', 0)} |"
        )
    out += [
        "",
        "Memory (RSS, MB; mean of the first and of the last third of the samples; a worker "
        "that gunicorn started mid-run (own life) grows from a fresh process to the others' "
        "size, so it is shown, not judged: the workers' sum is):",
        "",
        "| process | first third | last third | growth | samples | result |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in data["memory"].items():
        judged = row["whole_window"] or name.endswith("(sum)")
        note = "" if row["whole_window"] else " (own life)"
        result = ("pass" if row["pass"] else "FAIL") if judged else "info (not judged)"
        out.append(
            f"| {name}{note} | {row['first_third_mb']:.1f} | {row['last_third_mb']:.1f} | "
            f"{row['growth']:+.1%} | {row['samples']} | {result} |"
        )
    conns = [s["pg_connections"] for s in data["samples"]]
    redis_clients = [s["redis_clients"] for s in data["samples"]]
    queues = [sum(s["celery_queues"].values()) for s in data["samples"]]
    out += [
        "",
        f"PostgreSQL connections to the bench database: min {min(conns)}, max {max(conns)}, "
        f"last {conns[-1]}. Redis clients: min {min(redis_clients)}, max "
        f"{max(redis_clients)}, last {redis_clients[-1]}. Celery queue length (sum of "
        f"{', '.join(QUEUES)}): max {max(queues)}, last {queues[-1]}.",
        "",
        f"gunicorn workers seen: {data['gunicorn_workers_seen']} (max_requests 20000 +- 2000 "
        "recycles a worker; the memory rows per worker cover each one's own life).",
        "",
        f"Cleanup (bench/harness_django.py cleanup): {data.get('cleanup', {})}.",
        "",
    ]
    return "\n".join(out) + "\n"


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(env("SOAK_SECONDS", "600")))
    parser.add_argument("--ads", type=int, default=int(env("SOAK_ADS", "100000")))
    parser.add_argument("--concurrency", type=int, default=int(env("SOAK_CONCURRENCY", "16")))
    parser.add_argument("--sample-every", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--ws-clients", type=int, default=int(env("SOAK_WS_CLIENTS", "2")))
    parser.add_argument("--growth-limit", type=float, default=0.10)
    parser.add_argument("--no-celery", action="store_true", help="no Celery worker")
    parser.add_argument("--name", default=env("SOAK_NAME", ""), help="stem (soak-<date>)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    stack = harness.Stack(args.ads)
    run_id = "soak" + datetime.now(UTC).strftime("%H%M%S")
    data: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count()},
        "uptime_start": harness.uptime(),
        "settings": {
            "seconds": args.seconds,
            "ads": args.ads,
            "concurrency": args.concurrency,
            "sample_every": args.sample_every,
            "warmup": args.warmup,
            "growth_limit": args.growth_limit,
            "celery": not args.no_celery,
            "workers": int(os.environ.get("WEB_WORKERS", "2")),
            "threads": int(os.environ.get("WEB_THREADS", "8")),
            "mix": harness.MIX,
            "ws_share_of_messages": WS_SHARE if args.ws_clients else 0,
            "run_id": run_id,
        },
    }
    fleet: WsFleet | None = None
    try:
        stack.start_redis()
        generate.migrate(stack.database_url)
        log(f"{args.ads:,} ads: preparing requests")
        stack.django("prepare", "--ads", str(args.ads))
        state = json.loads((stack.dir / "state.json").read_text())
        log(f"starting nginx :{harness.PORTS['nginx']} -> gunicorn, uvicorn")
        stack.start_web()
        if not args.no_celery:
            stack.spawn(
                "celery",
                [
                    "celery",
                    "-A",
                    "marketplace",
                    "worker",
                    "-l",
                    "info",
                    "-Q",
                    ",".join(QUEUES),
                    "--concurrency",
                    "2",
                ],
            )
        requests_dir = stack.dir / "requests"
        data["status_check"] = harness.check_statuses(requests_dir, list(harness.ENDPOINTS))
        targets = ws_targets_for(stack, args.ws_clients)
        mix, count = build_mix(requests_dir, targets)
        data["mix_lines"] = count
        log(f"warm-up {args.warmup:.0f} s")
        harness.wrk(mix, args.concurrency, args.warmup)  # requests.lua ignores the tag
        fleet = WsFleet(targets)
        fleet.start()
        sampler = Sampler(stack, args.sample_every)
        sampler.start()
        log(f"soak {args.seconds:.0f} s at c={args.concurrency} (run {run_id})")
        result = subprocess.run(
            harness.wrk_command(
                mix,
                args.concurrency,
                args.seconds,
                script=SOAK_LUA,
                threads=args.concurrency,
                extra=(run_id,),
            ),
            capture_output=True,
            text=True,
            check=False,
            timeout=args.seconds + 120,
        )
        sampler.stop()
        data["uptime_end"] = harness.uptime()
        if result.returncode:
            log(f"wrk exited {result.returncode}: {result.stderr[-2000:]}")
        stats, created = parse_wrk(result.stdout)
        stats["statuses_total"] = status_totals(stats)
        data["wrk"] = stats
        time.sleep(3)  # what was in flight when wrk stopped reaches its socket
        fleet.stop()
        data["ws"] = [client.summary(created) for client in fleet.clients]
        stored = stored_messages(stack.database_url, run_id, int(state["max_message_id"]))
        lost = sorted(created - set(stored))
        data["messages"] = {
            "created_201": len(created),
            "stored_rows": sum(stored.values()),
            "stored_of_201": len(created & set(stored)),
            "lost_count": len(lost),
            "lost": lost[:20],
            "doubled": sum(n - 1 for n in stored.values() if n > 1),
            "stored_without_201": len(set(stored) - created),
        }
        data["samples"] = sampler.samples
        data["memory"] = memory_verdicts(sampler.samples, args.growth_limit)
        data["gunicorn_workers_seen"] = len(
            {k for s in sampler.samples for k in s["rss_mb"] if k.startswith("gunicorn worker ")}
        )
        errors = stats["connect_errors"] + stats["read_errors"] + stats["write_errors"]
        data["verdicts"] = {
            "no_5xx": stats["statuses_total"].get("5xx", 0) == 0
            and errors == 0
            and stats["timeouts"] == 0,
            "no_lost_messages": not lost and data["messages"]["doubled"] == 0,
            "ws_ok": all(c["lost_count"] == 0 and c["duplicated"] == 0 for c in data["ws"]),
            "memory_flat": all(
                row["pass"] for row in data["memory"].values() if row["whole_window"]
            )
            and all(row["pass"] for name, row in data["memory"].items() if name.endswith("(sum)")),
        }
        data["pass"] = all(data["verdicts"].values())
    finally:
        if fleet is not None:
            fleet.stop()
        stack.stop(("celery", "nginx", "uvicorn", "gunicorn"))
        try:
            if (stack.dir / "state.json").exists():
                data["cleanup"] = stack.django("cleanup")
        finally:
            stack.stop()
    return data


def main(argv: list[str]) -> int:
    if argv[:1] == ["recipients"]:
        print(json.dumps(recipients(json.loads(argv[1]))))
        return 0
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, harness.stop_on_signal)
    signal.signal(signal.SIGINT, harness.stop_on_signal)
    harness.nginx_binary()
    data = run(args)
    stem = harness.RESULTS / (args.name or f"soak-{data['date']}")
    stem.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    stem.with_suffix(".md").write_text(render_markdown(data))
    print(stem.with_suffix(".md"))
    print(render_markdown(data))
    return 0 if data["pass"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
