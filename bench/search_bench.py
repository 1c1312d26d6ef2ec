#!/usr/bin/env python
"""Search latency: the API in-process against the same SQL run directly (the database floor).

    .venv/bin/python bench/search_bench.py --ads 1000000 [--iterations 200] [--threads 4]

For each scenario (one word, three words, two typos, text + category + price, facets only,
three suggest prefixes) on marketplace_bench_<N>:

1. API: GET through Django's test Client in this process (the whole middleware stack, DRF,
   the search backend, serialisation) with the production profile (marketplace.settings.prod:
   DEBUG off, cache and throttles on Redis, the psycopg pool), as scripts/run_prod.sh sets it up
   behind nginx (plain HTTP on loopback, X-Real-IP). Throttle rates are raised so the
   benchmark's own requests are never refused; the throttle's Redis round trip still happens.
   A few warm-up requests first (category tree cache, pool, PostgreSQL buffers), then
   --iterations timed requests, each must answer 200.
2. Floor: one more request with the SQL captured (CaptureQueriesContext; not timed), then
   those exact statements replayed with psycopg on one connection configured as Django's
   (client-side binding, simple query protocol, no prepared statements, autocommit, the same
   session options), rows fetched. That is what psql would do, minus its process start: the
   cost of the database plus the driver's row decoding. The --iterations API requests and SQL
   replays alternate (request, replay, request, ...) so that load from other processes on the
   machine weighs on both sides alike; the ratio API/SQL stays meaningful on a busy machine.

Reported per scenario: p50/p95/p99 ms and requests/s (sequential, 1 / mean) for both, the ratio
API/floor, the target it has to meet. Then a concurrency run of the main search scenario with
--threads threads (API and floor), and EXPLAIN (ANALYZE, BUFFERS) of every captured statement
slower than --explain-over ms. Writes bench/results/search-<N>.md and .json and prints the
table.

Targets (the issue, at 1M active ads on 2 cores): search with facets p95 <= 50 ms, suggest
p95 <= 15 ms, typo query p95 <= 80 ms, API <= 1.5x the direct SQL (judged on p50 here: the
median is the stable measure of a constant per-request overhead; p95 is shown too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import generate  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SEARCH = "/api/ads/search/"
SUGGEST = "/api/ads/search/suggest/"
CLIENT_IP = "10.20.30.40"
PG_SETTINGS = (
    "server_version",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
    "pg_trgm.word_similarity_threshold",
)

# target kinds -> p95 limit in ms
TARGETS = {"search": 50.0, "typo": 80.0, "suggest": 15.0}
TARGET_TEXT = {
    "search": "search with facets p95 <= 50 ms",
    "typo": "typo query p95 <= 80 ms",
    "suggest": "suggest p95 <= 15 ms",
}
RATIO_TARGET = 1.5


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    params: dict[str, str]
    target: str  # a key of TARGETS

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path


SCENARIOS = [
    Scenario("one_word", "one word", SEARCH, {"q": "toyota"}, "search"),
    Scenario("three_words", "three words", SEARCH, {"q": "samsung galaxy 128gb"}, "search"),
    Scenario("typo_toyta", "typo", SEARCH, {"q": "toyta"}, "typo"),
    Scenario("typo_iphnoe", "typo", SEARCH, {"q": "iphnoe"}, "typo"),
    Scenario(
        "filtered",
        "word + category + price",
        SEARCH,
        {"q": "toyota", "category": "cars", "min_price": "500000", "max_price": "1500000"},
        "search",
    ),
    Scenario(
        "facets", "facets only (no q, category)", SEARCH, {"category": "mobile-phones"}, "search"
    ),
    Scenario("suggest_toy", "suggest", SUGGEST, {"q": "toy"}, "suggest"),
    Scenario("suggest_sam", "suggest", SUGGEST, {"q": "sam"}, "suggest"),
    Scenario("suggest_iph", "suggest", SUGGEST, {"q": "iph"}, "suggest"),
]
MAIN_SCENARIO = "one_word"


@dataclass
class Stats:
    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float
    rps: float  # requests per second

    @classmethod
    def of(cls, samples_ms: list[float], wall_s: float | None = None) -> Stats:
        ordered = sorted(samples_ms)
        mean = statistics.fmean(ordered)
        rps = (len(ordered) / wall_s) if wall_s else 1000.0 / mean
        return cls(
            n=len(ordered),
            p50=percentile(ordered, 50),
            p95=percentile(ordered, 95),
            p99=percentile(ordered, 99),
            mean=mean,
            max=ordered[-1],
            rps=rps,
        )


def percentile(ordered: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Statement:
    sql: str
    django_ms: float  # as CaptureQueriesContext timed it
    floor_p50_ms: float = 0.0
    floor_p95_ms: float = 0.0
    rows: int = 0
    plan: str = ""


@dataclass
class Capture:
    """One request run with its SQL captured."""

    count: int | None  # search: total matches; suggest: suggestions
    statements: list[Statement] = field(default_factory=list)


@dataclass
class Outcome:
    scenario: Scenario
    count: int | None
    statements: list[Statement]
    api: Stats
    floor: Stats

    @property
    def ratio_p50(self) -> float:
        return self.api.p50 / self.floor.p50

    @property
    def ratio_p95(self) -> float:
        return self.api.p95 / self.floor.p95

    @property
    def limit(self) -> float:
        return TARGETS[self.scenario.target]

    @property
    def met(self) -> bool:
        return self.api.p95 <= self.limit

    @property
    def ratio_met(self) -> bool:
        return self.ratio_p50 <= RATIO_TARGET


# --- Django, production profile ---------------------------------------------------------------


def setup_django(url: str, settings_module: str) -> None:
    os.environ.update(generate.django_environ(url))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    # What scripts/run_prod.sh sets for the production layout on this machine.
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-search-not-secret-" + "x" * 40)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ.update(
        SECURE_SSL_REDIRECT="False",
        SECURE_HSTS_SECONDS="0",
        TRUST_X_REAL_IP="True",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        SMS_BACKEND="apps.notifications.sms.file.FileSmsSender",
    )
    # Every request runs its search: a kept answer (apps/search/result_cache.py) would measure
    # a cache read against the SQL floor.
    os.environ["SEARCH_RESULT_CACHE_SECONDS"] = "0"
    # Keep the throttles (one Redis EVAL per request) but never refuse the benchmark.
    os.environ["THROTTLE_RATES"] = "anon=100000000/h,user=100000000/h"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def django_options() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"].get("OPTIONS", {}).get("options", ""))


def settings_summary() -> dict[str, Any]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {
        "module": os.environ["DJANGO_SETTINGS_MODULE"],
        "DEBUG": settings.DEBUG,
        "cache": settings.CACHES["default"]["BACKEND"],
        "db_pool": db.get("OPTIONS", {}).get("pool"),
        "db_options": db.get("OPTIONS", {}).get("options"),
        "search_backend": settings.SEARCH_BACKEND,
        "throttle_rates_anon": settings.THROTTLE_RATES.get("anon"),
    }


def new_client() -> Any:
    from django.test import Client

    return Client(HTTP_X_REAL_IP=CLIENT_IP, HTTP_ACCEPT="application/json")


def timed_get(client: Any, url: str) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, response


def check(response: Any, scenario: Scenario) -> None:
    if response.status_code != 200:
        raise SystemExit(
            f"{scenario.key}: GET {scenario.url} answered {response.status_code}: "
            f"{response.content[:300]!r}"
        )


def capture(client: Any, scenario: Scenario) -> Capture:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(scenario.url)
    check(response, scenario)
    body = response.json()
    count = body.get("count") if "count" in body else len(body.get("suggestions", []))
    statements = [
        Statement(sql=q["sql"], django_ms=float(q["time"]) * 1000)
        for q in captured.captured_queries
    ]
    return Capture(count=count, statements=statements)


def run_pair(
    client: Any,
    scenario: Scenario,
    conn: psycopg.Connection[Any],
    statements: list[Statement],
    iterations: int,
    warmup: int,
) -> tuple[Stats, Stats]:
    """API request and SQL replay alternately, so both see the same load from the rest of
    the machine (measuring one after the other let a busy minute land on one side only)."""
    for _ in range(warmup):
        replay_once(conn, statements)
    api: list[float] = []
    floor: list[float] = []
    per_statement: list[list[float]] = [[] for _ in statements]
    for _ in range(iterations):
        ms, response = timed_get(client, scenario.url)
        check(response, scenario)
        api.append(ms)
        floor.append(replay_once(conn, statements, per_statement))
    for statement, times in zip(statements, per_statement, strict=True):
        ordered = sorted(times)
        statement.floor_p50_ms = percentile(ordered, 50)
        statement.floor_p95_ms = percentile(ordered, 95)
    return Stats.of(api), Stats.of(floor)


# --- the floor: the captured SQL straight to PostgreSQL ----------------------------------------


def floor_connection(url: str, options: str) -> psycopg.Connection[Any]:
    """A connection like Django's: ClientCursor (client-side binding, simple protocol), no
    prepared statements, autocommit, UTC, the same `options`."""
    conn = psycopg.connect(
        url,
        autocommit=True,
        cursor_factory=psycopg.ClientCursor,
        prepare_threshold=None,
        options=options or None,
    )
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def replay_once(
    conn: psycopg.Connection[Any],
    statements: list[Statement],
    per_statement: list[list[float]] | None = None,
) -> float:
    total = 0.0
    for index, statement in enumerate(statements):
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute(statement.sql)  # type: ignore[arg-type]  # the SQL Django sent
            rows = cursor.fetchall() if cursor.description is not None else []
        elapsed = (time.perf_counter() - started) * 1000
        total += elapsed
        if per_statement is not None:
            per_statement[index].append(elapsed)
            statement.rows = len(rows)
    return total


def explain(conn: psycopg.Connection[Any], statement: Statement) -> str:
    rows = conn.execute(  # type: ignore[call-overload]
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + statement.sql
    ).fetchall()
    return "\n".join(row[0] for row in rows)


# --- concurrency --------------------------------------------------------------------------------


def concurrent(
    threads: int,
    per_thread: int,
    work: Callable[[], Callable[[], float]],
) -> Stats:
    """`work()` runs in each thread and returns the request function (per-thread state)."""
    samples: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def body() -> None:
        try:
            request = work()
            request()  # one untimed warm-up per thread (its own connection)
            barrier.wait()
            mine = [request() for _ in range(per_thread)]
            with lock:
                samples.extend(mine)
        except BaseException as error:  # re-raised in the main thread below
            errors.append(error)
            barrier.abort()

    workers = [threading.Thread(target=body, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed: raised below
        barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return Stats.of(samples, wall_s=wall)


def concurrency_run(
    url: str, options: str, outcome: Outcome, threads: int, per_thread: int
) -> dict[str, Stats]:
    from django.db import connections

    scenario = outcome.scenario

    def api_work() -> Callable[[], float]:
        client = new_client()

        def request() -> float:
            ms, response = timed_get(client, scenario.url)
            check(response, scenario)
            return ms

        return request

    def floor_work() -> Callable[[], float]:
        conn = floor_connection(url, options)
        return lambda: replay_once(conn, outcome.statements)

    api = concurrent(threads, per_thread, api_work)
    connections.close_all()
    floor = concurrent(threads, per_thread, floor_work)
    return {"api": api, "floor": floor}


# --- facts and reports --------------------------------------------------------------------------


def database_facts(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name in PG_SETTINGS:
        row = conn.execute("SELECT current_setting(%s, true)", [name]).fetchone()
        facts[name] = row[0] if row else None
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'active' AND deleted_at IS NULL) "
        "FROM ads_ad"
    ).fetchone()
    if row is None:
        raise RuntimeError("no ads count")
    facts["ads"], facts["active_ads"] = int(row[0]), int(row[1])
    row = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
    facts["database_size"] = row[0] if row else None
    facts["sizes"] = relation_sizes(conn)
    return facts


SIZED_RELATIONS = [
    ("ad_search_vector_gin", "GIN over ads_ad.search_vector (live ads)"),
    ("ad_title_trgm_gin", "trigram GIN over folded titles (listing `q` typos)"),
    ("ad_public_feed_idx", "feed index (tier, published_at, id)"),
    ("search_searchvocabulary", "vocabulary table"),
    ("search_searchvocabulary_pkey", "vocabulary primary key"),
    ("search_vocab_word_trgm", "vocabulary trigram GIN"),
    ("search_facetcount", "facet count table"),
    ("search_facetcount_key", "facet count key index"),
    ("search_attributecount", "attribute count table"),
    ("search_attributecount_key", "attribute count key index"),
]


def relation_sizes(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """pg_relation_size of the search indexes and tables, with row counts of the tables."""
    sizes: list[dict[str, Any]] = []
    for name, what in SIZED_RELATIONS:
        row = conn.execute(
            "SELECT pg_relation_size(to_regclass(%s)), "
            "(SELECT reltuples::bigint FROM pg_class WHERE oid = "
            "to_regclass(%s))",
            [name, name],
        ).fetchone()
        if row and row[0] is not None:
            sizes.append(
                {
                    "relation": name,
                    "what": what,
                    "bytes": int(row[0]),
                    "rows_estimate": int(row[1]) if row[1] is not None else None,
                }
            )
    return sizes


def sizes_lines(sizes: list[dict[str, Any]]) -> list[str]:
    lines = ["| relation | what | size | rows (estimate) |", "|---|---|--:|--:|"]
    for item in sizes:
        mb = item["bytes"] / 2**20
        lines.append(
            f"| `{item['relation']}` | {item['what']} | {mb:,.2f} MB | "
            f"{item['rows_estimate'] if item['rows_estimate'] is not None else ''} |"
        )
    return lines


def baseline_run(
    conn: psycopg.Connection[Any], statements: list[Statement], rounds: int
) -> Stats | None:
    """The previous run's statements for this scenario, replayed now (same load)."""
    if not statements:
        return None
    replay_once(conn, statements)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        replay_once(conn, statements)
        samples.append((time.perf_counter() - started) * 1000)
    return Stats.of(samples)


def baseline_lines(outcomes: list[Outcome], baseline: dict[str, Stats], source: str) -> list[str]:
    lines = [
        f"The SQL of the previous version (statements from `{source}`) replayed in this "
        "run, right after each scenario, on the same connection: the speed-up is "
        "measured under the same load.",
        "",
        "| scenario | before SQL p50 | before SQL p95 | now SQL p50 | now SQL p95 | "
        "speed-up p50 | speed-up p95 |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for o in outcomes:
        before = baseline.get(o.scenario.key)
        if before is None:
            continue
        lines.append(
            f"| {o.scenario.key} | {fmt(before.p50)} | {fmt(before.p95)} | "
            f"{fmt(o.floor.p50)} | {fmt(o.floor.p95)} | "
            f"{before.p50 / o.floor.p50:.1f}x | {before.p95 / o.floor.p95:.1f}x |"
        )
    return lines


def git_commit() -> str:
    head = ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (ROOT / ".git" / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return "unknown"


def fmt(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def mark(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def table(outcomes: list[Outcome]) -> list[str]:
    lines = [
        "| scenario | request | API p50 | API p95 | API p99 | API req/s | SQL p50 | SQL p95 "
        "| SQL p99 | SQL q/s | API/SQL p50 | API/SQL p95 | SQL stmts | matches | p95 target "
        "| met |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.scenario.key} | `{o.scenario.url}` | {fmt(o.api.p50)} | {fmt(o.api.p95)} "
            f"| {fmt(o.api.p99)} | {o.api.rps:.0f} | {fmt(o.floor.p50)} | {fmt(o.floor.p95)} "
            f"| {fmt(o.floor.p99)} | {o.floor.rps:.0f} | {o.ratio_p50:.2f}x | {o.ratio_p95:.2f}x "
            f"| {len(o.statements)} | {o.count if o.count is not None else ''} "
            f"| ≤ {o.limit:.0f} ms | {mark(o.met)} |"
        )
    return lines


def targets_summary(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for kind in TARGETS:
        group = [o for o in outcomes if o.scenario.target == kind]
        if not group:
            continue
        worst = max(group, key=lambda o: o.api.p95)
        ok = all(o.met for o in group)
        misses = ", ".join(f"{o.scenario.key} {fmt(o.api.p95)} ms" for o in group if not o.met)
        lines.append(
            f"- {TARGET_TEXT[kind]}: {mark(ok)} (worst p95 {fmt(worst.api.p95)} ms, "
            f"{worst.scenario.key})" + (f"; misses: {misses}" if misses else "")
        )
    bad = [o for o in outcomes if not o.ratio_met]
    worst_ratio = max(outcomes, key=lambda o: o.ratio_p50)
    lines.append(
        f"- API overhead <= {RATIO_TARGET}x the direct SQL (p50): {mark(not bad)} (worst "
        f"{worst_ratio.ratio_p50:.2f}x, {worst_ratio.scenario.key})"
        + (
            ("; over: " + ", ".join(f"{o.scenario.key} {o.ratio_p50:.2f}x" for o in bad))
            if bad
            else ""
        )
    )
    return lines


def concurrency_lines(
    conc: dict[str, Stats], scenario: Scenario, threads: int, single: Outcome
) -> list[str]:
    api, floor = conc["api"], conc["floor"]
    return [
        f"Scenario `{scenario.url}`, {threads} threads, {api.n // threads} requests each "
        "after one warm-up each; q/s = requests / wall time.",
        "",
        "| run | p50 ms | p95 ms | p99 ms | q/s | q/s with 1 thread |",
        "|---|--:|--:|--:|--:|--:|",
        f"| API ({threads} threads, one process) | {fmt(api.p50)} | {fmt(api.p95)} | "
        f"{fmt(api.p99)} | {api.rps:.1f} | {single.api.rps:.1f} |",
        f"| SQL floor ({threads} connections) | {fmt(floor.p50)} | {fmt(floor.p95)} | "
        f"{fmt(floor.p99)} | {floor.rps:.1f} | {single.floor.rps:.1f} |",
    ]


def write_markdown(
    path: Path,
    meta: dict[str, Any],
    outcomes: list[Outcome],
    conc: dict[str, Stats] | None,
    threads: int,
    explain_over: float,
    baseline: dict[str, Stats] | None = None,
    before: str = "",
) -> str:
    facts = meta["database"]
    head = [
        f"# Search benchmark, {facts['ads']:,} ads ({facts['active_ads']:,} active)",
        "",
        f"Database `{meta['database_name']}` ({facts['database_size']}), PostgreSQL "
        f"{facts['server_version']}; {meta['cpus']} CPUs; {meta['iterations']} timed requests "
        f"per scenario after {meta['warmup']} warm-up; {meta['generated_at']}, commit "
        f"{meta['commit']}. Load average (1/5/15 min) before "
        f"{'/'.join(f'{x:.1f}' for x in meta['load_average_before'])}, after "
        f"{'/'.join(f'{x:.1f}' for x in meta['load_average_after'])}.",
        "",
        f"API: Django test Client in-process, `{meta['settings']['module']}` (DEBUG "
        f"{meta['settings']['DEBUG']}, cache {meta['settings']['cache'].rsplit('.', 1)[-1]} on "
        "Redis, psycopg pool, throttles on Redis with raised rates). SQL: the statements that "
        "request ran (CaptureQueriesContext), replayed with psycopg as Django sends them "
        "(client-side binding, simple protocol), rows fetched; API requests and SQL replays "
        "alternate. Times in ms; req/s and q/s are sequential (1 / mean).",
        "",
        "PostgreSQL settings: "
        + ", ".join(f"{k}={facts[k]}" for k in PG_SETTINGS if k != "server_version")
        + ".",
        "",
    ]
    body = table(outcomes)
    summary = ["", "## Targets", "", *targets_summary(outcomes)]
    if baseline:
        summary += [
            "",
            "## Before and after, same run",
            "",
            *baseline_lines(outcomes, baseline, before),
        ]
    if facts.get("sizes"):
        summary += ["", "## Search indexes and tables", "", *sizes_lines(facts["sizes"])]
    conc_part: list[str] = []
    if conc:
        main = next(o for o in outcomes if o.scenario.key == MAIN_SCENARIO)
        conc_part = [
            "",
            "## Concurrency",
            "",
            *concurrency_lines(conc, main.scenario, threads, main),
        ]
    detail = [
        "",
        "## Statements per scenario",
        "",
        "Floor time of each captured statement (p50 / p95 ms).",
        "",
    ]
    for o in outcomes:
        detail.append(f"### {o.scenario.key}: `{o.scenario.url}`")
        detail.append("")
        for index, s in enumerate(o.statements, 1):
            first = " ".join(s.sql.split())[:160]
            detail.append(
                f"{index}. {fmt(s.floor_p50_ms)} / {fmt(s.floor_p95_ms)} ms, "
                f"{s.rows} rows: `{first}…`"
            )
        detail.append("")
    plans = [
        f"## Plans of statements slower than {explain_over:g} ms (EXPLAIN ANALYZE, BUFFERS)",
        "",
    ]
    for o in outcomes:
        for index, s in enumerate(o.statements, 1):
            if s.plan:
                plans += [
                    f"### {o.scenario.key}, statement {index} (floor p50 {fmt(s.floor_p50_ms)} ms)",
                    "",
                    "```sql",
                    s.sql,
                    "```",
                    "",
                    "```",
                    s.plan,
                    "```",
                    "",
                ]
    text = "\n".join(head + body + summary + conc_part + detail + plans) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return "\n".join(body + summary + conc_part)


def write_json(
    path: Path, meta: dict[str, Any], outcomes: list[Outcome], conc: dict[str, Stats] | None
) -> None:
    data = {
        "meta": meta,
        "targets": {
            **{k: {"p95_ms": v, "text": TARGET_TEXT[k]} for k, v in TARGETS.items()},
            "api_over_sql_p50": RATIO_TARGET,
        },
        "scenarios": [
            {
                "key": o.scenario.key,
                "title": o.scenario.title,
                "url": o.scenario.url,
                "target": o.scenario.target,
                "target_p95_ms": o.limit,
                "met": o.met,
                "count": o.count,
                "api": asdict(o.api),
                "floor": asdict(o.floor),
                "ratio_p50": o.ratio_p50,
                "ratio_p95": o.ratio_p95,
                "ratio_met": o.ratio_met,
                "statements": [asdict(s) for s in o.statements],
            }
            for o in outcomes
        ],
        "concurrency": (
            {"scenario": MAIN_SCENARIO, **{k: asdict(v) for k, v in conc.items()}} if conc else None
        ),
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ads",
        type=int,
        default=1_000_000,
        help="N: benchmark marketplace_bench_<N> (default 1000000)",
    )
    parser.add_argument("--database-url", help="the benchmark database (default from --ads)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument(
        "--before",
        type=Path,
        help="a previous run's .json: replay its SQL per scenario in this "
        "run (the same load) for a before/after ratio",
    )
    parser.add_argument("--before-rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--per-thread",
        type=int,
        help="concurrency requests per thread (default: iterations / threads, at least 25)",
    )
    parser.add_argument("--only", help="comma-separated scenario keys")
    parser.add_argument(
        "--explain-over",
        type=float,
        default=5.0,
        help="EXPLAIN ANALYZE statements whose floor p50 exceeds this (ms)",
    )
    parser.add_argument(
        "--settings", default=os.environ.get("BENCH_SEARCH_SETTINGS", "marketplace.settings.prod")
    )
    parser.add_argument(
        "--output", type=Path, help="default bench/results/search-<N>.md (and .json beside it)"
    )
    args = parser.parse_args(argv)

    url = generate.bench_url(args.database_url, args.ads)
    name = generate.db_name(url)
    if not generate.database_exists(url) or not generate.existing_ads(url):
        raise SystemExit(f"{name} has no ads: run `make bench-data ADS={args.ads}` first.")
    setup_django(url, args.settings)
    from django.db import connections

    from apps.categories import services as category_services

    category_services.invalidate_tree_cache()  # read the tree from this database
    options = django_options()
    scenarios = SCENARIOS
    if args.only:
        wanted = set(args.only.split(","))
        scenarios = [s for s in SCENARIOS if s.key in wanted]
    started = time.monotonic()
    load_before = list(os.getloadavg())  # other work on the machine skews the figures
    commit = git_commit()
    client = new_client()
    outcomes: list[Outcome] = []
    baseline: dict[str, Stats] = {}
    previous: dict[str, list[Statement]] = {}
    if args.before:
        for item in json.loads(args.before.read_text())["scenarios"]:
            previous[item["key"]] = [
                Statement(sql=st["sql"], django_ms=0.0) for st in item["statements"]
            ]
    with floor_connection(url, options) as conn:
        facts = database_facts(conn)
        for scenario in scenarios:
            for _ in range(args.warmup):
                _, response = timed_get(client, scenario.url)
                check(response, scenario)
            captured = capture(client, scenario)
            api, floor = run_pair(
                client, scenario, conn, captured.statements, args.iterations, args.warmup
            )
            outcome = Outcome(
                scenario=scenario,
                count=captured.count,
                statements=captured.statements,
                api=api,
                floor=floor,
            )
            for statement in outcome.statements:
                if statement.floor_p50_ms > args.explain_over:
                    statement.plan = explain(conn, statement)
            outcomes.append(outcome)
            before_stats = baseline_run(conn, previous.get(scenario.key, []), args.before_rounds)
            if before_stats is not None:
                baseline[scenario.key] = before_stats
                generate.log(f"{scenario.key}: previous SQL p50 {fmt(before_stats.p50)} ms")
            generate.log(
                f"{scenario.key}: API p50 {fmt(outcome.api.p50)} p95 "
                f"{fmt(outcome.api.p95)} ms, SQL p50 {fmt(outcome.floor.p50)} p95 "
                f"{fmt(outcome.floor.p95)} ms ({len(outcome.statements)} statements, "
                f"{outcome.count} matches)"
            )
    connections.close_all()
    conc = None
    main_outcome = next((o for o in outcomes if o.scenario.key == MAIN_SCENARIO), None)
    if main_outcome and args.threads > 0:
        per_thread = args.per_thread or max(25, args.iterations // args.threads)
        conc = concurrency_run(url, options, main_outcome, args.threads, per_thread)
        generate.log(
            f"concurrency ({args.threads} threads): API {conc['api'].rps:.1f} q/s, "
            f"SQL {conc['floor'].rps:.1f} q/s"
        )
    connections.close_all()

    meta = {
        "database_name": name,
        "database": facts,
        "iterations": args.iterations,
        "warmup": args.warmup,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "settings": settings_summary(),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "seconds": round(time.monotonic() - started, 1),
        "load_average_before": load_before,
        "load_average_after": list(os.getloadavg()),
    }
    md_path = args.output or RESULTS / f"search-{args.ads}.md"
    printed = write_markdown(
        md_path,
        meta,
        outcomes,
        conc,
        args.threads,
        args.explain_over,
        baseline,
        str(args.before or ""),
    )
    write_json(md_path.with_suffix(".json"), meta, outcomes, conc)
    print(
        f"\nSearch benchmark, {facts['ads']:,} ads ({facts['active_ads']:,} active), "
        f"{args.iterations} requests per scenario; times in ms\n"
    )
    print(printed)
    print(
        f"\nreport: {md_path.relative_to(ROOT) if md_path.is_relative_to(ROOT) else md_path}"
        f" (+ .json)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
