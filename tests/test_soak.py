"""Fast checks of `make soak`'s pieces (bench/soak.py, bench/load/soak.lua); the soak itself
runs with `make soak`."""

# ruff: noqa: S603, S607  (runs wrk)
from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench import soak


class Answers(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        self.reply(200, b"{}")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Answers.bodies.append(json.loads(body))
        self.reply(500 if self.path == "/broken/" else 201, body)

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_soak_script_counts_statuses_per_endpoint_and_lists_each_201_client_id(
    tmp_path: Path,
) -> None:
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mix = tmp_path / "mix.tsv"
    mix.write_text(
        "GET\t/api/ads/\t-\t-\tlisting\n"
        'POST\t/api/messages/c1/\tTOKEN\t{"body":"hi"}\tmessage\n'
        'POST\t/api/messages/c2/\tTOKEN\t{"body":"yo"}\tws0\n'
        'POST\t/broken/\t-\t{"title":"x"}\tpost_ad\n'
    )
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c2",
                "-d1s",
                "-s",
                str(soak.SOAK_LUA),
                f"http://127.0.0.1:{server.server_address[1]}",
                "--",
                str(mix),
                "run1",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    stats, created = soak.parse_wrk(result.stdout)
    per = stats["statuses"]
    assert per["post_ad"] == {"5xx": per["post_ad"]["5xx"]} and per["post_ad"]["5xx"] > 0
    assert soak.status_totals(stats)["5xx"] == stats["non_2xx"]
    assert per["message"]["201"] + per["ws0"]["201"] == len(created) == stats["created_ids"]
    sent = {b["client_id"] for b in Answers.bodies if "client_id" in b}
    assert created <= sent
    assert all(c.split("-")[1] in ("message", "ws0") for c in created)
    assert not any("client_id" in b for b in Answers.bodies if "title" in b)


def test_memory_verdicts_judge_long_lived_processes_and_recycled_workers_by_their_sum() -> None:
    samples = []
    for i in range(12):
        rss = {"uvicorn": 100.0 + i * 3, "redis": 10.0}
        rss["gunicorn worker 1" if i < 6 else "gunicorn worker 2"] = 80.0 + (i % 6)
        samples.append({"rss_mb": rss})
    verdicts = soak.memory_verdicts(samples, 0.10)
    assert verdicts["redis"]["pass"] and verdicts["redis"]["growth"] == 0
    assert not verdicts["uvicorn"]["pass"]  # +30 % over the window
    assert verdicts["gunicorn workers (sum)"]["pass"]
    assert not verdicts["gunicorn worker 1"]["whole_window"]


def test_mix_keeps_the_bench_weights_and_sends_a_share_of_messages_to_the_sockets(
    tmp_path: Path,
) -> None:
    for name in soak.harness.MIX:
        (tmp_path / f"{name}.tsv").write_text(f"GET\t/{name}/\t-\t-\n")
    target = {"tag": "ws0", "line": 'POST\t/api/messages/c/\tT\t{"body":"b"}'}
    path, count = soak.build_mix(tmp_path, [target])
    tags = [line.split("\t")[4] for line in path.read_text().splitlines()]
    assert count == sum(soak.harness.MIX.values()) * soak.MIX_LINES_PER_WEIGHT == len(tags)
    assert tags.count("detail") == soak.harness.MIX["detail"] * soak.MIX_LINES_PER_WEIGHT
    messages = soak.harness.MIX["message"] * soak.MIX_LINES_PER_WEIGHT
    assert tags.count("ws0") + tags.count("message") == messages
    assert tags.count("ws0") == round(messages * soak.WS_SHARE)


def test_jwt_user_reads_the_claim() -> None:
    import base64

    claims = base64.urlsafe_b64encode(json.dumps({"user_id": "u-1"}).encode()).rstrip(b"=")
    assert soak.jwt_user(f"h.{claims.decode()}.s") == "u-1"
