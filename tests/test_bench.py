"""The pieces of `make bench` (bench/harness.py) work: captured SQL replays through pgbench,
the wrk script sends what the request file says and counts errors, the floor view exists only
in the bench profile, the conversations the generator adds are consistent, the report flags a
scaling curve that is not flat. The benchmark itself is not run here."""

# ruff: noqa: S603, S607, S608  (runs wrk, pgbench and manage.py; SQL text is the test data)
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from bench import harness, pgscript
from bench.generate import conversation_rows

ROOT = Path(__file__).resolve().parent.parent
USER = "5f0c3e0a-1b2c-4d5e-8f90-0a1b2c3d4e5f"
NEW_AD = "9a8b7c6d5e4f40312a1b0c9d8e7f6a5b"
OUTBOX = "11111111-2222-4333-8444-555555555555"


def test_read_capture_becomes_an_autocommit_script_without_savepoints() -> None:
    script = pgscript.to_pgbench(
        pgscript.Capture(
            [
                'SELECT "ads_ad"."id" FROM "ads_ad" WHERE "ads_ad"."slug" = \'a-1\' LIMIT 21',
                'SAVEPOINT "s1"',
                'RELEASE SAVEPOINT "s1"',
                'SELECT count(*) FROM "ads_adimage"\n  WHERE "ad_id" = 3;',
            ]
        )
    )
    assert script.splitlines() == [
        'SELECT "ads_ad"."id" FROM "ads_ad" WHERE "ads_ad"."slug" = \'a-1\' LIMIT 21;',
        'SELECT count(*) FROM "ads_adimage" WHERE "ad_id" = 3;',
    ]


def test_write_capture_gets_new_keys_per_transaction_and_keeps_known_ones() -> None:
    script = pgscript.to_pgbench(
        pgscript.Capture(
            [
                f"SELECT * FROM users_user WHERE id = '{USER.replace('-', '')}'::uuid",
                f"INSERT INTO ads_ad (id, slug, owner_id) VALUES ('{NEW_AD}'::uuid, 'my-ad-x1y2', "
                f"'{USER}'::uuid)",
                f"INSERT INTO common_outboxtask (key, ad_id) VALUES ('{OUTBOX}', '{NEW_AD}'::uuid)",
                f"UPDATE ads_ad SET title = 'x' WHERE id = '{NEW_AD}'::uuid",
            ],
            fresh={"my-ad-x1y2": "bench_slug"},
        )
    )
    lines = script.splitlines()
    assert lines[0].startswith("SELECT gen_random_uuid() AS new1_id, gen_random_uuid() AS new2_id")
    assert lines[0].endswith("AS bench_slug \\gset")
    assert lines[1] == "BEGIN;" and lines[-1] == "COMMIT;"
    assert USER.replace("-", "") in lines[2]  # the signed-in user stays who they are
    assert "VALUES (':new1_id'::uuid, ':bench_slug', " in lines[3]
    assert "VALUES (':new2_id', ':new1_id'::uuid)" in lines[4]
    assert "WHERE id = ':new1_id'::uuid" in lines[5]
    assert NEW_AD not in script and OUTBOX not in script


def test_a_data_modifying_with_makes_only_its_values_new() -> None:
    """Posting writes the ad, its audit and outbox rows in one WITH: the ad's id and the outbox
    key are new. A message's WITH selects the ad's id into its daily stats: not new (a new
    uuid there broke the message floor's foreign key)."""
    ad, owner, key = (str(uuid.UUID(int=n)) for n in (1, 2, 3))
    posting = (
        f'WITH "w0" AS (INSERT INTO "ads_ad" ("id", "owner_id") VALUES (\'{ad}\'::uuid, '
        f"'{owner}'::uuid)), \"w1\" AS (INSERT INTO audit (target) VALUES ('{ad}')) "
        f"INSERT INTO outbox (key) VALUES ('{key}'::uuid) RETURNING \"id\""
    )
    message = (
        f"WITH m AS (INSERT INTO chat_message (conversation_id) SELECT '{owner}' RETURNING id), "
        f"s AS (INSERT INTO ads_addailystats (ad_id) SELECT '{ad}' FROM m) "
        "SELECT (SELECT id FROM m)"
    )

    assert pgscript.new_uuids([f"SELECT 1 WHERE id = '{owner}'", posting]) == [
        ad.replace("-", ""),
        key.replace("-", ""),
    ]
    assert pgscript.new_uuids([message]) == []


def test_empty_capture_is_refused() -> None:
    with pytest.raises(ValueError, match="no SQL captured"):
        pgscript.to_pgbench(pgscript.Capture(['SAVEPOINT "x"']))


def test_pgbench_log_percentiles() -> None:
    latencies = pgscript.parse_pgbench_log(
        ["0 1 1500 0 1700000000 1", "1 1 2500 1 1700000000 2", "garbage", ""]
    )
    assert latencies == [1.5, 2.5]
    assert pgscript.percentile(list(range(1, 101)), 0.95) == 95


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def run_pgbench(folder: Path, scripts: list[Path], transactions: int, clients: int) -> str:
    if not shutil.which("pgbench"):
        pytest.skip("pgbench is not installed")
    from bench import harness_django

    mode = harness.pgbench_mode([str(script) for script in scripts], harness_django.app_prepares())
    command = ["pgbench", "-n", "-M", mode, f"-c{clients}", f"-t{transactions}"]
    for script in scripts:
        command += ["-f", str(script)]
    env = {**os.environ, "PGPASSWORD": str(connection.settings_dict.get("PASSWORD") or "")}
    result = subprocess.run(
        [*command, database_url()], capture_output=True, text=True, env=env, check=False, cwd=folder
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def tiny_catalogue(transactional_db: Any, make_user: Any) -> Any:
    from datetime import timedelta

    from django.utils import timezone

    from apps.ads.models import Ad
    from apps.ads.tests.factories import make_location
    from apps.categories.tests.factories import make_category

    phones = make_category("Phones", make_category("Electronics"))
    town = make_location("Westlands", make_location("Nairobi"))
    seller = make_user()
    now = timezone.now()
    ad = Ad.objects.create(
        owner=seller,
        category=phones,
        location=town,
        slug="galaxy-a14-x1",
        title="Samsung Galaxy A14",
        price="15000.00",
        status="active",
        published_at=now,
        expires_at=now + timedelta(days=30),
    )
    return seller, phones, town, ad


def test_captured_detail_and_posting_replay_through_pgbench(
    tiny_catalogue: Any, tmp_path: Path
) -> None:
    from apps.ads.models import Ad
    from bench import harness_django

    seller, phones, town, ad = tiny_catalogue
    status, detail = harness_django.capture(f"GET\t/api/ads/{ad.slug}/\t-\t-")
    assert status == 200
    assert any("ads_ad" in sql for sql in detail.statements)
    token = harness_django.access_token(seller)
    body = {
        "title": "Tecno Spark 20 for sale",
        "description": "As new.",
        "category": phones.pk,
        "location": town.pk,
        "price": "15000",
        "attributes": {},
    }
    status, posting = harness_django.capture(harness_django.line("POST", "/api/ads/", token, body))
    assert status == 201, posting
    assert pgscript.is_write(posting.statements)

    scripts = pgscript.write_scripts(tmp_path / "post", [posting])
    scripts += pgscript.write_scripts(tmp_path / "detail", [detail])
    # Reads replay as prepared statements, as the app runs them; the writes' scripts carry
    # fresh values in pgbench variables, which only the simple protocol puts in quotes.
    assert harness_django.app_prepares()
    assert harness.pgbench_mode([str(scripts[1])], app_prepares=True) == "prepared"
    assert harness.pgbench_mode([str(scripts[0])], app_prepares=True) == "simple"
    before = Ad._base_manager.count()
    out = run_pgbench(tmp_path, scripts[:1], transactions=3, clients=2)
    assert "number of transactions actually processed: 6/6" in out
    assert Ad._base_manager.count() == before + 6  # six new ads, no duplicate-key failure
    out = run_pgbench(tmp_path, scripts[1:], transactions=5, clients=1)
    assert "number of transactions actually processed: 5/5" in out


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None, str]] = []

    def handle_one(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        Recorder.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        code = 200 if self.path == "/ok" else 404
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = handle_one  # noqa: N815

    def log_message(self, *args: Any) -> None:
        return


def test_pgbench_mode_sees_what_pgbench_takes_for_a_variable(tmp_path: Path) -> None:
    def script(text: str) -> str:
        path = tmp_path / f"{uuid.uuid4().hex}.sql"
        path.write_text(text)
        return str(path)

    plain = script('SELECT "id"::text FROM "ads_ad" WHERE "slug" = \'x\';\n')
    assert harness.pgbench_mode([plain], app_prepares=True) == "prepared"
    for text in ("SELECT ':new1_id';", "SELECT '2026-11-28 03:43:56+00';", "SELECT '{tv:A}';"):
        assert harness.pgbench_mode([plain, script(text)], app_prepares=True) == "simple", text
    # the app does not prepare: nor the floor
    assert harness.pgbench_mode([plain], app_prepares=False) == "simple"


def test_wrk_script_sends_each_line_and_counts_errors(tmp_path: Path) -> None:
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    requests = tmp_path / "requests.tsv"
    requests.write_text('GET\t/ok\t-\t-\nPOST\t/missing\tTOKEN123\t{"body":"hi"}\n')
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                "-c1",
                "-d1s",
                "-s",
                str(harness.LUA),
                f"http://127.0.0.1:{server.server_address[1]}",
                "--",
                str(requests),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    finally:
        server.shutdown()
    line = next(x for x in result.stdout.splitlines() if x.startswith("BENCH-JSON "))
    stats = json.loads(line.removeprefix("BENCH-JSON "))
    assert stats["requests"] > 10
    assert 0 < stats["non_2xx"] < stats["requests"]  # the 404s, and only them
    assert stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"]
    assert ("GET", "/ok", None, "") in Recorder.seen
    assert ("POST", "/missing", "Bearer TOKEN123", '{"body":"hi"}') in Recorder.seen


def floor_status(settings_module: str) -> tuple[int, str]:
    code = (
        "from django.test import Client\n"
        "r = Client().get('/bench/floor/', HTTP_HOST='127.0.0.1', secure=True)\n"
        "print(r.status_code, r.content[:40].decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    status, _, body = result.stdout.strip().splitlines()[-1].partition(" ")
    return int(status), body


def test_floor_view_is_a_404_in_production_and_constant_json_in_the_bench_profile() -> None:
    status, body = floor_status("marketplace.settings.prod")
    assert status == 404
    assert not body.startswith('{"count"')
    status, body = floor_status("marketplace.settings.bench")
    assert status == 200
    assert body.startswith('{"count": 20')


def test_floor_view_refuses_when_the_setting_is_off(settings: Any, rf: Any) -> None:
    from django.http import Http404

    from apps.common.bench_views import floor

    settings.BENCH_FLOOR_VIEW = False
    with pytest.raises(Http404):
        floor(rf.get("/bench/floor/"))


def test_generated_conversations_are_consistent_and_deterministic() -> None:
    users = [(f"u{i}", 0.0) for i in range(30)]
    ads = [(f"a{i}", f"u{i % 7}", 100.0) for i in range(200)]
    conversations, messages = conversation_rows(42, 1000, users, ads, 1e9, 501)
    assert (conversations, messages) == conversation_rows(42, 1000, users, ads, 1e9, 501)
    assert len(conversations) == 100  # N/10
    last_ids: dict[str, int] = {}
    for row in messages:
        message_id, conversation_id = row.split("\t")[:2]
        last_ids[conversation_id] = max(last_ids.get(conversation_id, 0), int(message_id))
    pairs = set()
    for row in conversations:
        cid, _, _, ad, buyer, seller, last = row.split("\t")[:7]
        assert buyer != seller
        assert dict(a[:2] for a in ads)[ad] == seller
        assert (ad, buyer) not in pairs
        pairs.add((ad, buyer))
        assert int(last) == last_ids[cid]
    assert min(int(row.split("\t")[0]) for row in messages) == 501


def test_report_flags_a_curve_that_is_not_flat() -> None:
    def size(p95: float) -> dict[str, Any]:
        cell = {
            "rps": 100.0,
            "p50_ms": 1.0,
            "p95_ms": p95,
            "p99_ms": p95,
            "non_2xx": 0,
            "socket_errors": 0,
        }
        return {
            "endpoints": {
                name: {
                    "load": {"16": {**cell, "floor_b": {"rps": 200.0}}},
                    "sql_floor": {"16": {"rps": 400.0}},
                    "queries": [3],
                }
                for name in harness.SCALING
            },
            "floors": {"framework": {"16": {**cell, "rps": 1000.0}}},
            "mix": {},
        }

    data = {
        "date": "2026-01-01",
        "machine": {"cpus": 2},
        "uptime_start": "",
        "uptime_end": "",
        "settings": {
            "concurrency": [16],
            "workers": 2,
            "threads": 8,
            "duration": 1,
            "warmup": 1,
            "pg_duration": 1,
            "throttle_rate": "1/m",
        },
        "sizes": {"10000": size(10.0), "1000000": size(20.0)},
    }
    text = harness.render_markdown(data)
    assert (
        "| listing | 16 | 100 | 1.0 | 10.0 | 10.0 | 0 | 400 | - | 0.25 | 200 | 0.50 | 3 |" in text
    )
    assert "| detail | 10.0 | 20.0 | 2.00x | **no** |" in text
