#!/usr/bin/env python
"""`make bench`: the whole API under load in the production layout, with its floors.

    .venv/bin/python bench/harness.py [--sizes 10000,100000,1000000] [--concurrency 1,16,64]
        [--duration 8] [--pg-duration 5] [--skip-data] [--only listing,detail,...]
    .venv/bin/python bench/harness.py --report bench/results/bench-<date>.json   (tables, charts)

For each catalogue size N (datasets by bench/generate.py, reused when present):
1. a private redis-server (cache, throttles, Celery queue, channel layer of this run only);
2. bench/harness_django.py prepare: request files for wrk (ids, users and bodies from the
   data; bench users each with their own JWT), and the SQL each endpoint runs (captured on one
   cold-cache request) as pgbench scripts;
3. floor (a): pgbench with those scripts at each concurrency, straight to PostgreSQL;
4. the production layout on ports of its own: nginx (deploy/nginx.conf) :18080 -> gunicorn
   gthread (deploy/gunicorn.conf.py) :18010 and uvicorn (/ws/) :18011, settings
   marketplace.settings.bench = prod + the floor view + throttles on at 1,000,000/min;
5. floors (b) /bench/floor/ (constant JSON through Django) and (c) a static file from nginx,
   then every endpoint, then the mix, each at each concurrency (wrk, bench/load/requests.lua);
6. each gunicorn worker's RSS, the stack stopped, and the rows the run wrote removed.
Writes bench/results/bench-<date>.{json,md} and bench-<date>-{p95,rps}.png.
"""

# ruff: noqa: S603, S607  (the harness runs the system's tools: wrk, pgbench, redis, nginx)
from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate, pgscript  # noqa: E402

PY = sys.executable
# BENCH_PORT_OFFSET / BENCH_WORK let two stacks run side by side (e.g. while tuning one endpoint).
WORK = Path(os.environ.get("BENCH_WORK", str(ROOT / "var" / "bench")))
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "load" / "requests.lua"
_OFFSET = int(os.environ.get("BENCH_PORT_OFFSET", "0"))
PORTS = {
    name: port + _OFFSET
    for name, port in {"nginx": 18080, "web": 18010, "ws": 18011, "redis": 18379}.items()
}
ENDPOINTS = (
    "listing",
    "filtered",
    "detail",
    "detail_uncached",
    "categories",
    "search",
    "search_uncached",
    "favourites",
    "message",
    "post_ad",
)
MIX = {
    "listing": 20,
    "filtered": 20,
    "detail": 20,  # the hot set, from the cache
    "detail_uncached": 15,  # the long tail
    "categories": 5,
    "search": 6,  # popular searches, repeated within seconds
    "search_uncached": 6,  # the long tail
    "favourites": 4,
    "message": 3,
    "post_ad": 1,
}  # requests per 100, a browsing day
FLOORS = ("framework", "static")
SCALING = ("listing", "detail", "detail_uncached", "filtered", "search", "search_uncached")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not found:
        raise SystemExit(
            "make bench needs nginx from the system's packages: apt-get install nginx-light"
        )
    return found


# --- processes --------------------------------------------------------------------------------


class Stack:
    """The processes of one size's run; stopped in reverse order, by their own pids."""

    def __init__(self, ads: int) -> None:
        self.ads = ads
        self.dir = WORK / str(ads)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        url = generate.bench_url(None, ads)
        self.database_url = url
        self.env = dict(os.environ)
        self.env.update(
            DJANGO_SETTINGS_MODULE="marketplace.settings.bench",
            DATABASE_URL=url,
            REDIS_URL=f"redis://127.0.0.1:{PORTS['redis']}/0",
            CACHE_KEY_PREFIX=f"bench-{ads}",
            DJANGO_SECRET_KEY=secrets.token_hex(24),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="False",
            SECURE_HSTS_SECONDS="0",
            TRUST_X_REAL_IP="True",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.dir / "mail"),
            SMS_BACKEND="apps.notifications.sms.file.FileSmsSender",
            GUNICORN_BIND=f"127.0.0.1:{PORTS['web']}",
            WS_PORT=str(PORTS["ws"]),
            PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        )
        self.env.pop("SENTRY_DSN", None)

    def spawn(self, name: str, command: list[str]) -> None:
        out = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115  (the process keeps it)
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((name, proc))

    def start_redis(self) -> None:
        self.spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(PORTS["redis"]),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
        )
        wait_for(
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(PORTS["redis"]), "ping"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip()
                == "PONG"
            ),
            "redis-server",
        )

    def start_web(self) -> None:
        nginx_dir = self.dir / "nginx"
        static = self.dir / "static"
        for folder in (nginx_dir, static):
            folder.mkdir(parents=True, exist_ok=True)
        from apps.common.bench_views import FLOOR_BODY

        (static / "floor.json").write_bytes(FLOOR_BODY)
        template = (ROOT / "deploy" / "nginx.conf").read_text()
        conf = (
            template.replace("@ROOT@/var/nginx", str(nginx_dir))
            .replace("@ROOT@/var/static/", f"{static}/")
            .replace("@ROOT@", str(ROOT))
            .replace("@LISTEN@", f"127.0.0.1:{PORTS['nginx']}")
            .replace("@WEB@", f"127.0.0.1:{PORTS['web']}")
            .replace("@WS@", f"127.0.0.1:{PORTS['ws']}")
            .replace("@MIME_TYPES@", "/etc/nginx/mime.types")
        )
        (nginx_dir / "nginx.conf").write_text(conf)
        self.spawn("gunicorn", ["gunicorn", "marketplace.wsgi", "-c", "deploy/gunicorn.conf.py"])
        self.spawn(
            "uvicorn",
            [
                "uvicorn",
                "marketplace.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(PORTS["ws"]),
                "--no-access-log",
                "--ws-max-size",
                "65536",
                "--timeout-graceful-shutdown",
                "5",
            ],
        )
        self.spawn(
            "nginx",
            [
                nginx_binary(),
                "-p",
                str(nginx_dir),
                "-e",
                str(nginx_dir / "error.log"),
                "-c",
                str(nginx_dir / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
        )
        base = f"http://127.0.0.1:{PORTS['nginx']}"
        wait_for(lambda: http_status(f"{base}/healthz") == 200, "nginx -> gunicorn", 60)

    def gunicorn_workers(self) -> list[dict[str, Any]]:
        import psutil

        for name, proc in self.procs:
            if name == "gunicorn":
                master = psutil.Process(proc.pid)
                return [
                    {"pid": child.pid, "rss_mb": round(child.memory_info().rss / 2**20, 1)}
                    for child in master.children()
                ]
        return []

    def stop(self, names: tuple[str, ...] | None = None) -> None:
        for name, proc in reversed(self.procs):
            if names and name not in names:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs = [(n, p) for n, p in self.procs if p.poll() is None]

    def django(self, *args: str) -> Any:
        return self.run_json(ROOT / "bench" / "harness_django.py", *args, "--out", str(self.dir))

    def run_json(self, script: Path, *args: str) -> Any:
        """Run a Django-side script with this stack's environment; its last stdout line is JSON."""
        result = subprocess.run(
            [PY, str(script), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise SystemExit(f"{script.name} {args[0]} failed:\n{result.stderr[-4000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def wait_for(check: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not come up within {seconds:.0f} s")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# --- load and floors --------------------------------------------------------------------------


def wrk_command(
    requests_file: Path,
    concurrency: int,
    seconds: float,
    script: Path = LUA,
    threads: int | None = None,
    extra: tuple[str, ...] = (),
) -> list[str]:
    threads = threads or max(1, min(concurrency, 2))
    return [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{PORTS['nginx']}",
        "--",
        str(requests_file),
        *extra,
    ]


def wrk(requests_file: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    result = subprocess.run(
        wrk_command(requests_file, concurrency, seconds),
        capture_output=True,
        text=True,
        check=False,
    )
    for text in result.stdout.splitlines():
        if text.startswith("BENCH-JSON "):
            return dict(json.loads(text[len("BENCH-JSON ") :]))
    raise SystemExit(f"wrk failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")


# What pgbench takes for a variable (`:name`, not a `::` cast, even inside a literal: `'12:30'`
# and a tsquery's `'tv:A'` too): in prepared mode a parameter.
PGBENCH_VARIABLE = re.compile(r"(?<!:):(?!:)\w")


def pgbench_mode(scripts: list[str], app_prepares: bool) -> str:
    """pgbench's protocol for a floor: `prepared` (each statement parsed and planned once per
    connection, as the app's prepared statements are) when the app prepares (its database
    settings, reported by `harness_django.prepare`) and the scripts
    have no variables (pgbench's prepared mode turns `':name'` into a parameter inside quotes:
    the captured writes keep `simple`, as do statements with `:word` in a literal, such as a
    timestamp or a search's tsquery); else `simple`."""
    if not app_prepares:
        return "simple"
    has_variables = any(PGBENCH_VARIABLE.search(Path(script).read_text()) for script in scripts)
    return "simple" if has_variables else "prepared"


def floor_protocols(data: dict[str, Any]) -> str:
    """Which pgbench protocol the run's SQL floors used, per endpoint where they differ."""
    modes: dict[str, set[str]] = {}
    for size in data.get("sizes", {}).values():
        for name, endpoint in size.get("endpoints", {}).items():
            for cell in endpoint.get("sql_floor", {}).values():
                if "protocol" in cell:
                    modes.setdefault(cell["protocol"], set()).add(name)
    if not modes:
        return "`-M simple`"
    if len(modes) == 1:
        return f"`-M {next(iter(modes))}` (the app prepares its statements too)"
    return "; ".join(
        f"`-M {mode}` for {', '.join(sorted(names))}" for mode, names in sorted(modes.items())
    )


def pgbench(
    database_url: str,
    scripts: list[str],
    concurrency: int,
    seconds: float,
    folder: Path,
    app_prepares: bool,
) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("pgbench_log*"):
        old.unlink()
    mode = pgbench_mode(scripts, app_prepares)
    command = [
        "pgbench",
        "-n",
        "-M",
        mode,
        f"-c{concurrency}",
        f"-j{min(concurrency, 2)}",
        f"-T{max(1, round(seconds))}",
        "-l",
        "--log-prefix",
        str(folder / "pgbench_log"),
    ]
    for script in scripts:
        command += ["-f", script]
    command.append(database_url)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    latencies: list[float] = []
    for path in folder.glob("pgbench_log*"):
        latencies += pgscript.parse_pgbench_log(path.read_text().splitlines())
        path.unlink()
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if result.returncode or not tps:
        return {"error": (result.stderr or result.stdout)[-600:], "concurrency": concurrency}
    return {
        "rps": float(tps.group(1)),
        "transactions": len(latencies),
        "p50_ms": round(pgscript.percentile(latencies, 0.50), 3),
        "p95_ms": round(pgscript.percentile(latencies, 0.95), 3),
        "p99_ms": round(pgscript.percentile(latencies, 0.99), 3),
        "failed": int(failed.group(1)) if failed else 0,
        "protocol": mode,
    }


def mix_file(folder: Path, seed: int = 7) -> Path:
    rng = random.Random(seed)  # noqa: S311
    lines = []
    for name, weight in MIX.items():
        rows = [r for r in (folder / f"{name}.tsv").read_text().splitlines() if r]
        lines += [rng.choice(rows) for _ in range(weight * 20)]
    rng.shuffle(lines)
    path = folder / "mix.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def check_statuses(folder: Path, names: list[str]) -> dict[str, list[int]]:
    """One real request per endpoint through nginx: the load must measure 2xx answers."""
    seen = {}
    for name in names:
        first = (folder / f"{name}.tsv").read_text().splitlines()[0].replace("{n}", "0")
        method, path, bearer, body = first.split("\t")
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORTS['nginx']}{path}",
            method=method,
            data=None if body == "-" else body.encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                **({"Authorization": f"Bearer {bearer}"} if bearer != "-" else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                seen[name] = [int(response.status)]
        except urllib.error.HTTPError as error:
            seen[name] = [int(error.code)]
    return seen


def run_size(ads: int, args: argparse.Namespace) -> dict[str, Any]:
    stack = Stack(ads)
    result: dict[str, Any] = {
        "ads": ads,
        "uptime_before": uptime(),
        "endpoints": {},
        "floors": {},
        "mix": {},
    }
    names = [n for n in ENDPOINTS if not args.only or n in args.only]
    try:
        stack.start_redis()
        generate.migrate(stack.database_url)  # the working tree's migrations, as deployed
        log(f"{ads:,} ads: preparing requests and capturing SQL")
        result["captured"] = stack.django("prepare", "--ads", str(ads))
        captured = json.loads((stack.dir / "captured.json").read_text())
        requests_dir = stack.dir / "requests"
        for name in names:
            result["endpoints"][name] = {
                "queries": captured[name]["queries"],
                "sql_floor": {},
                "load": {},
                "sample_sql": captured[name]["sample_sql"][:40],
            }
            scripts = captured[name]["scripts"]
            for c in args.concurrency:
                if not scripts:
                    continue
                log(f"{ads:,} ads: pgbench {name} c={c}")
                result["endpoints"][name]["sql_floor"][str(c)] = pgbench(
                    stack.database_url,
                    scripts,
                    c,
                    args.pg_duration,
                    stack.dir / "pglog",
                    captured[name]["app_prepares"],
                )
        log(f"{ads:,} ads: starting nginx :{PORTS['nginx']} -> gunicorn, uvicorn")
        stack.start_web()
        result["status_check"] = check_statuses(requests_dir, names)
        floors = {
            "framework": "GET\t/bench/floor/\t-\t-",
            "static": "GET\t/static/floor.json\t-\t-",
        }
        for name, request_line in floors.items():
            path = requests_dir / f"floor-{name}.tsv"
            path.write_text(request_line + "\n")
            wrk(path, 16, args.warmup)
            result["floors"][name] = {}
            for c in args.concurrency:
                log(f"{ads:,} ads: floor {name} c={c}")
                result["floors"][name][str(c)] = wrk(path, c, args.duration)
        floor_path = requests_dir / "floor-framework.tsv"

        def measure(path: Path, c: int) -> dict[str, Any]:
            """The cell, right after a short framework-floor cell at the same concurrency: on
            a shared machine the load changes by the minute, the ratio of neighbours less."""
            adjacent = wrk(floor_path, c, args.floor_duration) if args.floor_duration else {}
            cell = wrk(path, c, args.duration)
            if adjacent:
                cell["floor_b"] = {key: adjacent[key] for key in ("rps", "p50_ms", "p95_ms")}
            return cell

        for name in names:
            path = requests_dir / f"{name}.tsv"
            wrk(path, 16, args.warmup)
            for c in args.concurrency:
                log(f"{ads:,} ads: {name} c={c}")
                result["endpoints"][name]["load"][str(c)] = measure(path, c)
        if not args.only:
            path = mix_file(requests_dir)
            for c in args.concurrency:
                log(f"{ads:,} ads: mix c={c}")
                result["mix"][str(c)] = measure(path, c)
        result["gunicorn_workers"] = stack.gunicorn_workers()
        result["uptime_after"] = uptime()
    finally:
        stack.stop(("nginx", "uvicorn", "gunicorn"))
        try:
            if (stack.dir / "state.json").exists():
                result["cleanup"] = stack.django("cleanup")
        finally:
            stack.stop()
    return result


# --- report -----------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:,.{digits}f}"


def ratio(numerator: Any, denominator: Any) -> str:
    if not numerator or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}"


def render_markdown(data: dict[str, Any]) -> str:
    out = [f"# make bench - {data['date']}", ""]
    out += [
        f"Machine: {data['machine']['cpus']} CPUs; load at start `{data['uptime_start']}`, "
        f"at end `{data['uptime_end']}` (the benchmark's own wrk, nginx, gunicorn and "
        "PostgreSQL share the cores, and anything else running adds to that: read the ratios "
        "to the floors, measured in the same run, before the absolute figures).",
        "",
        f"Stack: nginx :{PORTS['nginx']} -> gunicorn gthread "
        f"({data['settings']['workers']}x{data['settings']['threads']}) + uvicorn /ws/, "
        "`marketplace.settings.bench` (= prod, DEBUG off; throttles on at "
        f"{data['settings']['throttle_rate']} per scope; bench users each with their own "
        f"JWT). wrk {data['settings']['duration']} s per cell after a "
        f"{data['settings']['warmup']} s warm-up; pgbench {data['settings']['pg_duration']} s. "
        "Requests send `Accept-Encoding: gzip`.",
        "",
        "Floors: **(a) SQL** - the SQL the view ran on one cold-cache request, replayed by "
        "pgbench straight to PostgreSQL (no Django, no network hop; protocol "
        f"{floor_protocols(data)}); **(b) framework** - "
        "`/bench/floor/`, a constant 8 KB JSON body through nginx, gunicorn and every "
        "middleware; **(c) static** - the same body as a file served by nginx. "
        "`/a` and `/b` are the endpoint's rps as a fraction of floor (a) and (b) at the "
        "same concurrency; `floor b rps` is a short floor (b) cell run right before the "
        "endpoint's cell (the machine's load drifts by the minute, neighbours less). "
        "`errors` counts responses >= 400 and socket errors.",
        "",
    ]
    for size_key, size in data["sizes"].items():
        ads = int(size_key)
        out += [
            f"## {ads:,} ads",
            "",
            f"Load: before `{size.get('uptime_before', '')}`, after "
            f"`{size.get('uptime_after', '')}`",
            "",
        ]
        conc = data["settings"]["concurrency"]
        out += [
            "| endpoint | c | rps | p50 ms | p95 ms | p99 ms | errors | SQL floor rps | "
            "SQL p95 ms | /a | floor b rps | /b | queries |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for floor in FLOORS:
            for c in conc:
                cell = size["floors"].get(floor, {}).get(str(c), {})
                framework = size["floors"].get("framework", {}).get(str(c), {}).get("rps")
                out.append(
                    f"| floor ({'b' if floor == 'framework' else 'c'}) {floor} | {c} | "
                    f"{fmt(cell.get('rps'))} | {fmt(cell.get('p50_ms'), 1)} | "
                    f"{fmt(cell.get('p95_ms'), 1)} | {fmt(cell.get('p99_ms'), 1)} | "
                    f"{cell.get('non_2xx', 0) + cell.get('socket_errors', 0)} | | | | "
                    f"{fmt(framework)} | {ratio(cell.get('rps'), framework)} | |"
                )
        for name, endpoint in size["endpoints"].items():
            for c in conc:
                cell = endpoint["load"].get(str(c), {})
                sql = endpoint["sql_floor"].get(str(c), {})
                framework = floor_b(size, cell, c)
                queries = "/".join(str(q) for q in sorted(set(endpoint["queries"])))
                out.append(
                    f"| {name} | {c} | {fmt(cell.get('rps'))} | {fmt(cell.get('p50_ms'), 1)} | "
                    f"{fmt(cell.get('p95_ms'), 1)} | {fmt(cell.get('p99_ms'), 1)} | "
                    f"{cell.get('non_2xx', 0) + cell.get('socket_errors', 0)} | "
                    f"{fmt(sql.get('rps')) if 'error' not in sql else 'error'} | "
                    f"{fmt(sql.get('p95_ms'), 1)} | {ratio(cell.get('rps'), sql.get('rps'))} | "
                    f"{fmt(framework)} | {ratio(cell.get('rps'), framework)} | {queries} |"
                )
        for c in conc:
            cell = size["mix"].get(str(c))
            if cell:
                framework = floor_b(size, cell, c)
                out.append(
                    f"| **mix** | {c} | {fmt(cell['rps'])} | {fmt(cell['p50_ms'], 1)} | "
                    f"{fmt(cell['p95_ms'], 1)} | {fmt(cell['p99_ms'], 1)} | "
                    f"{cell['non_2xx'] + cell['socket_errors']} | | | | {fmt(framework)} | "
                    f"{ratio(cell['rps'], framework)} | |"
                )
        workers = size.get("gunicorn_workers", [])
        out += [
            "",
            "gunicorn workers' RSS after the run: "
            + (", ".join(f"{w['rss_mb']:.0f} MB" for w in workers) or "-")
            + " (target <= 150 MB each).",
            f"First request through nginx per endpoint: {size.get('status_check', {})}.",
            "",
        ]
    out += scaling_section(data)
    return "\n".join(out) + "\n"


def floor_b(size: dict[str, Any], cell: dict[str, Any], c: int) -> Any:
    """The framework floor to divide by: the one measured just before the cell, else the run's."""
    adjacent = cell.get("floor_b", {}).get("rps")
    return adjacent or size["floors"].get("framework", {}).get(str(c), {}).get("rps")


def scaling_section(data: dict[str, Any]) -> list[str]:
    sizes = sorted(int(s) for s in data["sizes"])
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    out = [
        "## Scaling curve (p95 ms at concurrency 16)",
        "",
        "| endpoint | "
        + " | ".join(f"{s:,}" for s in sizes)
        + f" | {large:,}/{small:,} | target <= 1.5x |",
        "|---|" + "---|" * (len(sizes) + 2),
    ]
    for name in (*SCALING, *(n for n in ENDPOINTS if n not in SCALING)):
        values = [
            data["sizes"][str(s)]["endpoints"]
            .get(name, {})
            .get("load", {})
            .get("16", {})
            .get("p95_ms")
            for s in sizes
        ]
        first, last = values[0], values[-1]
        growth = last / first if first and last else None
        verdict = (
            "" if name not in SCALING or growth is None else "yes" if growth <= 1.5 else "**no**"
        )
        out.append(
            f"| {name} | "
            + " | ".join(fmt(v, 1) for v in values)
            + f" | {fmt(growth, 2)}x | {verdict} |"
        )
    out += [
        "",
        "The same curve for floor (a), each endpoint's own SQL through pgbench (p95 ms, c=16): "
        "what the database alone does as the catalogue grows, whatever the machine's load.",
        "",
        "| endpoint | " + " | ".join(f"{s:,}" for s in sizes) + f" | {large:,}/{small:,} |",
        "|---|" + "---|" * (len(sizes) + 1),
    ]
    for name in (*SCALING, *(n for n in ENDPOINTS if n not in SCALING)):
        values = [
            data["sizes"][str(s)]["endpoints"]
            .get(name, {})
            .get("sql_floor", {})
            .get("16", {})
            .get("p95_ms")
            for s in sizes
        ]
        first, last = values[0], values[-1]
        growth = last / first if first and last else None
        out.append(
            f"| {name} | " + " | ".join(fmt(v, 1) for v in values) + f" | {fmt(growth, 2)}x |"
        )
    return [*out, ""]


def render_charts(data: dict[str, Any], stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(s) for s in data["sizes"])
    conc = data["settings"]["concurrency"]
    paths = []
    for metric, label in (("p95_ms", "p95 latency (ms)"), ("rps", "throughput (requests/s)")):
        fig, axes = plt.subplots(1, len(conc), figsize=(5.5 * len(conc), 4.6), squeeze=False)
        for axis, c in zip(axes[0], conc, strict=True):
            for name in (*ENDPOINTS, "mix", "framework floor"):
                values = []
                for s in sizes:
                    size = data["sizes"][str(s)]
                    if name == "mix":
                        cell = size["mix"].get(str(c), {})
                    elif name == "framework floor":
                        cell = size["floors"].get("framework", {}).get(str(c), {})
                    else:
                        cell = size["endpoints"].get(name, {}).get("load", {}).get(str(c), {})
                    values.append(cell.get(metric))
                if any(v is not None for v in values):
                    style = "--" if name in ("mix", "framework floor") else "-"
                    axis.plot(
                        sizes,
                        [v if v is not None else float("nan") for v in values],
                        style,
                        marker="o",
                        label=name,
                    )
            axis.set_xscale("log")
            if metric == "p95_ms":
                axis.set_yscale("log")
            axis.set_xlabel("catalogue size (ads)")
            axis.set_ylabel(label)
            axis.set_title(f"concurrency {c}")
            axis.grid(True, which="both", alpha=0.3)
        axes[0][-1].legend(fontsize=8, loc="best")
        fig.suptitle(f"make bench {data['date']}: {label} vs catalogue size")
        fig.tight_layout()
        path = stem.with_name(f"{stem.name}-{'p95' if metric == 'p95_ms' else 'rps'}.png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def write_report(data: dict[str, Any], stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(data, indent=1) + "\n")
    md_path = stem.with_suffix(".md")
    md_path.write_text(render_markdown(data))
    return [json_path, md_path, *render_charts(data, stem)]


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "10000,100000,1000000"))
    parser.add_argument("--concurrency", default=os.environ.get("BENCH_CONCURRENCY", "1,16,64"))
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "8"))
    )
    parser.add_argument(
        "--pg-duration", type=float, default=float(os.environ.get("BENCH_PG_DURATION", "5"))
    )
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument(
        "--floor-duration",
        type=float,
        default=float(os.environ.get("BENCH_FLOOR_DURATION", "4")),
        help="seconds of framework floor right before each cell (0: only the run's floor)",
    )
    parser.add_argument(
        "--only",
        default=os.environ.get("BENCH_ONLY", ""),
        help="comma-separated endpoints (default: all, and the mix)",
    )
    parser.add_argument(
        "--skip-data",
        action="store_true",
        help="do not run bench/generate.py (the databases exist)",
    )
    parser.add_argument("--name", default="", help="results file stem (default bench-<date>)")
    parser.add_argument("--report", type=Path, help="only re-render this results JSON")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in str(args.sizes).replace("_", "").split(",") if s]
    args.concurrency = [int(c) for c in str(args.concurrency).split(",") if c]
    args.only = [n for n in str(args.only).split(",") if n]
    unknown = set(args.only) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints: {sorted(unknown)} (known: {', '.join(ENDPOINTS)})")
    return args


def stop_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # the finally blocks stop the stack


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)  # even when started in the background
    if args.report:
        for path in write_report(json.loads(args.report.read_text()), args.report.with_suffix("")):
            print(path)
        return 0
    for tool in ("wrk", "pgbench", "redis-server", "redis-cli"):
        if not shutil.which(tool):
            raise SystemExit(
                f"make bench needs {tool} (apt-get install wrk postgresql-client redis-server)"
            )
    nginx_binary()
    started = time.monotonic()
    if not args.skip_data:
        for ads in args.sizes:
            log(f"dataset {ads:,} ads (bench/generate.py reuses it when present)")
            subprocess.run(
                [PY, str(ROOT / "bench" / "generate.py"), "--ads", str(ads)],
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    data: dict[str, Any] = {
        "date": date,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count()},
        "uptime_start": uptime(),
        "uptime_end": "",
        "settings": {
            "concurrency": args.concurrency,
            "duration": args.duration,
            "pg_duration": args.pg_duration,
            "floor_duration": args.floor_duration,
            "warmup": args.warmup,
            "workers": int(os.environ.get("WEB_WORKERS", "2")),
            "threads": int(os.environ.get("WEB_THREADS", "8")),
            "throttle_rate": "1000000/m",
            "mix": MIX,
            "ports": PORTS,
        },
        "sizes": {},
    }
    stem = RESULTS / (args.name or f"bench-{date}")
    for ads in args.sizes:
        data["sizes"][str(ads)] = run_size(ads, args)
        data["uptime_end"] = uptime()
        data["elapsed_s"] = round(time.monotonic() - started)
        write_report(data, stem)  # after every size: a partial run still leaves its figures
    for path in write_report(data, stem):
        print(path)
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
