#!/usr/bin/env python
"""Measure candidate fixes for the search SQL directly, before/after, on a benchmark database.

    .venv/bin/python bench/search_fixes.py --ads 1000000 [--runs 20]

Reads the statements the API ran from bench/results/search-<N>.json (bench/search_bench.py)
and times, per scenario, the application's statements against rewritten SQL. Variants run
round-robin (one of each per round) so load from other processes hits them alike; p50/p95 of
--runs rounds after 2 warm-up rounds. DDL (a vocabulary table, a covering index, a facet-count
table) happens inside one transaction that is rolled back at the end: the database is left as
it was. Writes bench/results/search-fixes-<N>.md.

Variants:
- app: the captured statements (facets, page of ids, the page's rows, its images).
- exact: the typo branch (`lower(mkt_unaccent(title)) %> word`) left out of the match and the
  band: typo matching only as a fallback (what a correctly spelled query costs).
- one stmt: exact, and facets + the page's ids in one statement over one MATERIALIZED CTE
  instead of two statements that each scan every match.
- vocab: typos corrected against a vocabulary of title words (ts_stat, trigram index,
  levenshtein <= Elasticsearch's AUTO fuzziness) and folded into the tsquery as alternatives,
  then `one stmt`; the time includes the vocabulary lookup.
- covering index / facet table (facets only, no q): an index-only scan of
  (category_id) INCLUDE (condition, price), or counts read from a table of
  (category_id, condition, price bucket, count) over live ads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import generate  # noqa: E402
from bench.search_bench import percentile  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LIVE = "ads_ad.deleted_at IS NULL AND ads_ad.status = 'active'"
BUCKETS = "ARRAY[10000, 50000, 100000, 500000, 1000000]::numeric[]"
PAGE = 20

# scenario key -> (words, extra SQL filter, category ids named by the words)
TEXT = {
    "one_word": (["toyota"], ""),
    "three_words": (["samsung", "galaxy", "128gb"], ""),
    "filtered": (["toyota"], "AND ads_ad.category_id IN (2) AND ads_ad.price >= 500000 "
                             "AND ads_ad.price <= 1500000"),
    "typo_toyta": (["toyta"], ""),
    "typo_iphnoe": (["iphnoe"], ""),
}


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def tsq(parts: list[str], weights: str = "") -> str:
    """parts: per word, a tsquery fragment without weights ('toyota', 'x:*', '(a | b)')."""
    text = " & ".join(parts)
    if weights:
        text = " & ".join(add_weight(part, weights) for part in parts)
    return (f"(to_tsquery('simple'::regconfig, {lit(text)}) || "
            f"to_tsquery('english'::regconfig, {lit(text)}))")


def add_weight(part: str, weights: str) -> str:
    if part.startswith("("):
        inner = part[1:-1].split(" | ")
        return "(" + " | ".join(add_weight(p, weights) for p in inner) + ")"
    return part + weights if part.endswith(":*") else part + ":" + weights


def plain_parts(words: list[str]) -> list[str]:
    return [w if i < len(words) - 1 else w + ":*" for i, w in enumerate(words)]


def one_statement(parts: list[str], exact_parts: list[str], extra: str) -> str:
    """Facets and the page's ids in one statement over one MATERIALIZED CTE."""
    match = f"ads_ad.search_vector @@ {tsq(parts)}"
    band = (f"CASE WHEN ads_ad.search_vector @@ {tsq(exact_parts, 'A')} THEN 3 "
            f"WHEN ads_ad.search_vector @@ {tsq(exact_parts)} THEN 2 ELSE 1 END")
    # Benchmark SQL from constants and the scenario's fixed words (quoted by lit()).
    return f"""
WITH matched AS MATERIALIZED (
    SELECT ads_ad.id, ads_ad.category_id, ads_ad.condition, ads_ad.price,
           ads_ad.promotion_tier, ads_ad.published_at, {band} AS band
    FROM ads_ad WHERE {LIVE} AND {match} {extra}),
page AS (SELECT id, row_number() OVER () AS n FROM (
    SELECT id FROM matched ORDER BY band DESC, promotion_tier DESC, published_at DESC, id DESC
    LIMIT {PAGE}) top)
SELECT 'category', category_id::text, count(*) FROM matched GROUP BY category_id
UNION ALL
SELECT 'condition', condition, count(*) FROM matched WHERE condition IS NOT NULL
    GROUP BY condition
UNION ALL
SELECT 'price', width_bucket(price, {BUCKETS})::text, count(*) FROM matched GROUP BY 2
UNION ALL
SELECT 'page', id::text, n FROM page"""  # noqa: S608


def capped_statements(parts: list[str], exact_parts: list[str], extra: str,
                      cap: int = 5_000) -> list[str]:
    """Approximate facets over the first `cap` matches (Elasticsearch's track_total_hits idea:
    "5,000+"), and the page read in feed order (ad_public_feed_idx) from the title matches,
    the first relevance band; a real implementation falls through to band 2 when band 3 has
    fewer rows than the page."""
    facets = f"""
WITH matched AS MATERIALIZED (
    SELECT ads_ad.category_id, ads_ad.condition, ads_ad.price FROM ads_ad
    WHERE {LIVE} AND ads_ad.search_vector @@ {tsq(parts)} {extra} LIMIT {cap})
SELECT 'category', category_id::text, count(*) FROM matched GROUP BY category_id
UNION ALL
SELECT 'condition', condition, count(*) FROM matched WHERE condition IS NOT NULL
    GROUP BY condition
UNION ALL
SELECT 'price', width_bucket(price, {BUCKETS})::text, count(*) FROM matched GROUP BY 2"""  # noqa: S608
    page = (f"SELECT ads_ad.id FROM ads_ad WHERE {LIVE} AND ads_ad.search_vector @@ "  # noqa: S608
            f"{tsq(exact_parts, 'A')} {extra} ORDER BY ads_ad.promotion_tier DESC, "
            f"ads_ad.published_at DESC, ads_ad.id DESC LIMIT {PAGE}")
    return [facets, page]


def strip_typo(statement: str, words: list[str]) -> str:
    """The app's statement without ` OR (typo AND typo ...)` (the exact-only match)."""
    typo = " AND ".join(f"lower(mkt_unaccent(ads_ad.title)) %> {lit(w)}" for w in words)
    variants = [f" OR ({typo})", f" OR {typo}"]
    for variant in variants:
        if variant in statement:
            return statement.replace(variant, "")
    raise SystemExit(f"typo branch not found in: {statement[:300]}")


VOCAB_DDL = """
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
CREATE TABLE bench_search_vocab AS SELECT word, ndoc FROM ts_stat(
    $$SELECT to_tsvector('simple'::regconfig, lower(mkt_unaccent(title))) FROM ads_ad
      WHERE status = 'active' AND deleted_at IS NULL$$);
CREATE INDEX ON bench_search_vocab USING gin (word gin_trgm_ops);
ANALYZE bench_search_vocab;
"""
VOCAB_LOOKUP = """
SELECT q.word, v.word FROM unnest(%s::text[]) AS q(word)
JOIN LATERAL (
    SELECT word FROM bench_search_vocab
    WHERE word %%> q.word AND word <> q.word
      AND levenshtein_less_equal(q.word, word, CASE WHEN length(q.word) > 5 THEN 2 ELSE 1 END)
          <= CASE WHEN length(q.word) > 5 THEN 2 ELSE 1 END
    ORDER BY ndoc DESC LIMIT 5) v ON true
"""
COVERING_DDL = """
CREATE INDEX bench_ad_facet_cover ON ads_ad (category_id) INCLUDE (condition, price)
    WHERE deleted_at IS NULL AND status = 'active';
"""
FACET_TABLE_DDL = f"""
CREATE TABLE bench_facet_counts AS
    SELECT category_id, condition, width_bucket(price, {BUCKETS}) AS bucket, count(*) AS n
    FROM ads_ad WHERE deleted_at IS NULL AND status = 'active' GROUP BY 1, 2, 3;
CREATE INDEX ON bench_facet_counts (category_id);
ANALYZE bench_facet_counts;
"""  # noqa: S608  (constants only)


@dataclass
class Variant:
    name: str
    run: Callable[[psycopg.Connection[Any]], int]  # returns the total matches
    samples: list[float]
    rows: int = 0


def matches(rows: list[Any]) -> int:
    """Total matches from a facet statement's rows: the category counts add up to it."""
    return sum(int(row[2]) for row in rows if row[0] == "category")


def statements_runner(sqls: list[str]) -> Callable[[psycopg.Connection[Any]], int]:
    def run(conn: psycopg.Connection[Any]) -> int:
        total = 0
        for index, sql in enumerate(sqls):
            rows = conn.execute(sql).fetchall()  # type: ignore[call-overload]
            if index == 0:
                total = matches(rows)
        return total
    return run


def vocab_runner(words: list[str], extra: str,
                 rest: list[str]) -> Callable[[psycopg.Connection[Any]], int]:
    def run(conn: psycopg.Connection[Any]) -> int:
        found: dict[str, list[str]] = {w: [] for w in words}
        for word, alternative in conn.execute(VOCAB_LOOKUP, [words]).fetchall():
            found[word].append(alternative)
        exact = plain_parts(words)
        parts = [f"({' | '.join([part, *found[w]])})" if found[w] else part
                 for w, part in zip(words, exact, strict=True)]
        rows = conn.execute(one_statement(parts, exact, extra)).fetchall()  # type: ignore[call-overload]
        for sql in rest:
            conn.execute(sql).fetchall()  # type: ignore[call-overload]
        return matches(rows)
    return run


def run_ddl(conn: psycopg.Connection[Any], ddl: str) -> None:
    for statement in filter(None, (part.strip() for part in ddl.split(";\n"))):
        conn.execute(statement)  # type: ignore[call-overload]


def measure(conn: psycopg.Connection[Any], variants: list[Variant], runs: int) -> None:
    for round_index in range(runs + 2):
        for variant in variants:
            started = time.perf_counter()
            variant.rows = variant.run(conn)
            if round_index >= 2:
                variant.samples.append((time.perf_counter() - started) * 1000)


def explain(conn: psycopg.Connection[Any], sql: str) -> str:
    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall()  # type: ignore[call-overload]
    return "\n".join(r[0] for r in rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ads", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    url = generate.bench_url(args.database_url, args.ads)
    data = json.loads((RESULTS / f"search-{args.ads}.json").read_text())
    captured = {s["key"]: [st["sql"] for st in s["statements"]] for s in data["scenarios"]}
    report: list[str] = [
        f"# Search fixes measured directly, {args.ads:,} ads", "",
        f"SQL timed with psycopg on `{generate.db_name(url)}`; {args.runs} rounds after 2 "
        "warm-up rounds, variants interleaved; ms for the whole request's SQL (the page's "
        "rows and images statements included). DDL rolled back afterwards.", "",
        "| scenario | variant | p50 ms | p95 ms | speed-up (p50) | matches |",
        "|---|---|--:|--:|--:|--:|"]
    plans: list[str] = []
    with psycopg.connect(url, options="-c pg_trgm.word_similarity_threshold=0.4") as conn:
        started = time.monotonic()
        run_ddl(conn, VOCAB_DDL)
        generate.log(f"vocabulary built in {time.monotonic() - started:.1f} s (in a transaction)")
        for key, (words, extra) in TEXT.items():
            app = captured[key]
            rest = app[2:]
            exact_app = [strip_typo(app[0], words), strip_typo(app[1], words), *rest]
            exact = plain_parts(words)
            variants = [Variant("app", statements_runner(app), [])]
            if key.startswith("typo"):
                variants += [
                    Variant("exact only (the fallback's first probe)",
                            statements_runner(exact_app), []),
                    Variant("vocab + one stmt", vocab_runner(words, extra, rest), [])]
            else:
                variants += [
                    Variant("exact (typo as fallback)", statements_runner(exact_app), []),
                    Variant("exact, one stmt", statements_runner(
                        [one_statement(exact, exact, extra), *rest]), []),
                    Variant("exact, facets capped at 5,000 + page by feed index (approx.)",
                            statements_runner([*capped_statements(exact, exact, extra), *rest]),
                            [])]
            measure(conn, variants, args.runs)
            base = statistics.median(variants[0].samples)
            for variant in variants:
                ordered = sorted(variant.samples)
                p50, p95 = percentile(ordered, 50), percentile(ordered, 95)
                report.append(f"| {key} | {variant.name} | {p50:.1f} | {p95:.1f} | "
                              f"{base / p50:.1f}x | {variant.rows} |")
                generate.log(f"{key} {variant.name}: p50 {p50:.1f} p95 {p95:.1f} ms")
            if not key.startswith("typo"):
                plans += [f"### {key}, exact, one statement", "", "```",
                          explain(conn, one_statement(exact, exact, extra)), "```", ""]
        # facets only (no q): category 27
        app = captured["facets"]
        rest = app[1:]
        cover = [Variant("app", statements_runner(app), [])]
        run_ddl(conn, FACET_TABLE_DDL)
        facet_table = ("SELECT category_id, condition, bucket, sum(n) FROM bench_facet_counts "
                       "WHERE category_id IN (27) GROUP BY GROUPING SETS ((category_id), "
                       "(condition), (bucket))")
        cover += [Variant("facet table", statements_runner([facet_table, *rest]), [])]
        measure(conn, cover, args.runs)
        base = statistics.median(cover[0].samples)
        # covering index: planner's own choice first, then with bitmap scans off
        run_ddl(conn, COVERING_DDL)
        conn.execute("SET enable_bitmapscan = off")
        cover_plan = explain(conn, app[0])
        conn.execute("RESET enable_bitmapscan")
        ios = [Variant("covering index (planner's choice)", statements_runner(app), [])]
        measure(conn, ios, args.runs)
        conn.execute("SET enable_bitmapscan = off")
        ios2 = [Variant("covering index, bitmap scans off", statements_runner(app), [])]
        measure(conn, ios2, args.runs)
        conn.execute("RESET enable_bitmapscan")
        for variant in cover + ios + ios2:
            ordered = sorted(variant.samples)
            p50, p95 = percentile(ordered, 50), percentile(ordered, 95)
            report.append(f"| facets | {variant.name} | {p50:.1f} | {p95:.1f} | "
                          f"{base / p50:.1f}x | {variant.rows or ''} |")
            generate.log(f"facets {variant.name}: p50 {p50:.1f} p95 {p95:.1f} ms")
        plans += ["### facets, app statement with the covering index, bitmap scans off", "",
                  "```", cover_plan, "```", ""]
        conn.rollback()
    path = RESULTS / f"search-fixes-{args.ads}.md"
    path.write_text("\n".join([*report, "", "## Plans", "", *plans]) + "\n")
    print("\n".join(report))
    print(f"\nreport: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
