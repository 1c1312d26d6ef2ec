#!/usr/bin/env python
"""Build a benchmark database of N realistic ads.

    .venv/bin/python bench/generate.py --ads 100000 [--database-url URL] [--seed 42] [--force]

The database is separate from the dev one: `marketplace_bench_<N>` on the server that
DATABASE_URL names (the environment, else var/services.env), or the one `--database-url`
names (a URL without a database name gets the default name). It gets the project's migrations
(`manage.py migrate`) and seed data (locations and the category tree), then users (N/20), ads,
ad images (0-5 per ad, file names only) and favourites (N/5) are streamed into PostgreSQL with
COPY from generators: no ORM per row, no row list in memory. Then conversations (N/10, buyer and
seller of a live ad, 1-6 messages each) are COPYed in a stage of their own that also fills an
older reused database whose chat tables are still empty.

Realism that the query plans depend on:
- ads are spread over the catalogue's leaves with Kenyan-classifieds shares (phones, cars,
  rentals first); prices per leaf in KES ranges (cars by make and year, phones by brand,
  rents by bedrooms...); attribute values valid for the leaf's effective schema (every
  required key, most optional ones), checked on a sample with the app's own
  `attribute_schema.validate_ad_attributes` before anything is loaded;
- statuses follow the app's lifecycle (AD_LIFETIME_DAYS, renewal bumps published_at): ~80%
  active with published_at in the last lifetime and expires_at ahead, sold/expired/hidden
  published over the last 90 days, drafts/pending/rejected unpublished, ~1.5% soft-deleted,
  ~2% of live ads promoted with promotion_until ahead;
- sellers are skewed (3% of users are dealers with a third of the ads; 40% of users never
  post), so "my ads" has both a typical and a heavy case;
- titles and descriptions mix English and Swahili, brand and model names, with ~3% typos.

Denormalised counters are consistent: users.active_ads_count and ads.favorites_count are
computed before the rows are written, categories.ad_count by the app's recount_ad_counts().

Speed: secondary indexes, unique and foreign-key constraints of the loaded tables are dropped
and recreated from their own definitions (pg_get_indexdef / pg_get_constraintdef) in the same
transaction as the COPYs, so a failure leaves the database as it was. Then VACUUM (ANALYZE):
statistics plus the visibility map that a production table has after autovacuum.

Deterministic: the same --seed and --now give the same rows (the default --now is the current
hour, so timestamps stay "recent" whenever it runs). Re-running with the same N reuses the
database (after applying any new migrations) unless --force.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
import uuid
from array import array
from bisect import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench import catalogue as cat  # noqa: E402

GENERATOR_VERSION = 1
DAY = 86_400.0
HOUR = 3_600.0
EAT = 3 * HOUR  # Kenya is UTC+3: people post in the Nairobi day and evening
POST_HOURS = [1, 0.5, 0.3, 0.3, 0.4, 1, 2, 4, 6, 7, 7, 7, 6, 6, 6, 6, 6, 7, 8, 9, 9, 7, 4, 2]
STATUSES = ("active", "sold", "expired", "draft", "pending", "rejected", "hidden")
STATUS_WEIGHTS = (0.80, 0.06, 0.085, 0.025, 0.015, 0.0075, 0.0075)
ACTIVE, SOLD, EXPIRED, DRAFT, PENDING, REJECTED, HIDDEN = range(7)
DELETED_SHARE = 0.015
PROMOTED_SHARE = 0.02
TIER_WEIGHTS = ((1, 0.6), (2, 0.3), (3, 0.1))
WINDOW_DAYS = 90
IMAGE_COUNT_WEIGHTS = (0.10, 0.17, 0.15, 0.18, 0.17, 0.23)  # 0..5 photos
IMAGE_SIZES = ((1280, 960), (960, 1280), (1600, 1200), (1080, 1080), (800, 600), (1200, 1600))
TYPO_SHARE = 0.03
BENCH_PASSWORD = "bench-pass-2025"  # noqa: S105  (benchmark users only; lets load tests log in)
SLUG_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
LOADED_TABLES = ("users_user", "ads_ad", "ads_adimage", "ads_favorite")
CHAT_TABLES = ("chat_conversation", "chat_message")  # loaded by load_conversations()
COUNTY_WEIGHTS = {"Nairobi": 40, "Mombasa": 8, "Kiambu": 10, "Nakuru": 6, "Kisumu": 5,
                  "Machakos": 4, "Kajiado": 4, "Uasin Gishu": 3}
OTHER_COUNTY_WEIGHT = 0.6


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- where the database is --------------------------------------------------------------------


def services_env() -> dict[str, str]:
    values: dict[str, str] = {}
    state = ROOT / "var" / "services.env"
    if state.exists():
        for line in state.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    for key in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(key):
            values[key] = os.environ[key]
    return values


def default_db_name(ads: int) -> str:
    return f"marketplace_bench_{ads}"


def bench_url(database_url: str | None, ads: int) -> str:
    """The benchmark database's URL: --database-url as given (default name when it has none),
    else DATABASE_URL's server with the default name."""
    base = database_url or services_env().get("DATABASE_URL")
    if not base:
        raise SystemExit("No DATABASE_URL: run `.venv/bin/python scripts/devservices.py up` "
                         "or pass --database-url.")
    parts = urlsplit(base)
    if database_url and parts.path.strip("/"):
        return base
    return urlunsplit(parts._replace(path="/" + default_db_name(ads)))


def db_name(url: str) -> str:
    return urlsplit(url).path.strip("/")


def admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def django_environ(url: str) -> dict[str, str]:
    """Settings for a Django process on the bench database. The cache key prefix is the
    database's own, so the cached category tree never mixes with the dev database's."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        CACHE_KEY_PREFIX=f"bench-{db_name(url)}",
        DJANGO_SETTINGS_MODULE=os.environ.get("BENCH_SETTINGS", "marketplace.settings.dev"),
    )
    redis_url = services_env().get("REDIS_URL")
    if redis_url and not env.get("REDIS_URL"):
        env["REDIS_URL"] = redis_url
    return env


def setup_django(url: str) -> None:
    os.environ.update(django_environ(url))
    import django

    django.setup()


# --- database lifecycle -----------------------------------------------------------------------


def database_exists(url: str) -> bool:
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name(url)])
        return row.fetchone() is not None


def existing_ads(url: str) -> int | None:
    """How many ads the database holds; None without an ads table."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('ads_ad')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT count(*) FROM ads_ad").fetchone()
        return int(row[0]) if row else 0


def recreate_database(url: str) -> None:
    name = db_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    log(f"created database {name}")


def migrate(url: str) -> None:
    log("manage.py migrate")
    subprocess.run(  # noqa: S603  (this interpreter, the project's manage.py)
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        check=True, cwd=ROOT, env=django_environ(url),
    )


# --- randomness helpers -----------------------------------------------------------------------


class Weighted:
    """Fast repeated weighted choice (bisect over cumulative weights)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        if not items:
            raise ValueError("nothing to choose from")
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.total)]


def weighted_from(mapping: Mapping[str, float], allowed: Sequence[str] | None = None,
                  other: float = 0.3) -> Weighted:
    """Weights by name, limited to what the schema allows (unknown names weigh `other`)."""
    names = list(allowed) if allowed else list(mapping)
    return Weighted(names, [mapping.get(name, other) for name in names])


def log_triangular(rng: random.Random, low: float, typical: float, high: float) -> float:
    return math.exp(rng.triangular(math.log(low), math.log(high), math.log(typical)))


def nice_price(rng: random.Random, value: float) -> int:
    """Round the way sellers do: 450, 2,500, 27,999, 1,350,000."""
    if value < 1_000:
        step = 50 if value >= 200 else 10
    elif value < 20_000:
        step = 100 if rng.random() < 0.5 else 500
    elif value < 200_000:
        step = 1_000 if rng.random() < 0.6 else 500
    elif value < 2_000_000:
        step = 10_000 if rng.random() < 0.5 else 5_000
    else:
        step = 50_000 if rng.random() < 0.6 else 100_000
    price = max(step, round(value / step) * step)
    if 1_000 <= price < 200_000 and rng.random() < 0.12:
        price -= 1  # 27,999
    return price


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --- COPY text format -------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def esc(value: str) -> str:
    return value.translate(_ESCAPES)


def ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def ts_or_null(epoch: float) -> str:
    return NULL if math.isnan(epoch) else ts(epoch)


def copy_value(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return esc(json.dumps(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return esc(str(value))


@dataclass
class CopyPlan:
    """Which produced columns the table has, and constants for NOT NULL columns the generator
    does not know (added by a later migration): their model field's default."""

    table: str
    produced: list[str]
    keep: list[int] | None = None  # None: every produced column, in order
    extra_columns: list[str] = field(default_factory=list)
    extra_values: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        kept = self.produced if self.keep is None else [self.produced[i] for i in self.keep]
        return kept + self.extra_columns

    def line(self, values: list[str]) -> str:
        if self.keep is not None:
            values = [values[i] for i in self.keep]
        if self.extra_values:
            values = values + self.extra_values
        return "\t".join(values) + "\n"


def plan_copy(conn: psycopg.Connection, table: str, produced: list[str], model: Any) -> CopyPlan:
    rows = conn.execute(
        "SELECT attname, attnotnull, atthasdef, attidentity <> '', attgenerated <> '' "
        "FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table]).fetchall()
    columns = {name: (not_null, has_default, identity, generated)
               for name, not_null, has_default, identity, generated in rows}
    plan = CopyPlan(table=table, produced=produced)
    keep = [i for i, name in enumerate(produced) if name in columns and not columns[name][3]]
    if len(keep) != len(produced):
        dropped = [name for name in produced if name not in columns or columns[name][3]]
        log(f"{table}: not writing {', '.join(dropped)} (not in the table's schema)")
        plan.keep = keep
    from django.db import connection as django_connection

    for name, (not_null, has_default, identity, generated) in columns.items():
        if name in produced or not not_null or has_default or identity or generated:
            continue
        model_field = next((f for f in model._meta.concrete_fields if f.column == name), None)
        if model_field is None or not model_field.has_default():
            raise SystemExit(f"{table}.{name} is NOT NULL without a default and the generator "
                             "does not know it: teach bench/generate.py about it.")
        value = model_field.get_db_prep_save(model_field.get_default(), django_connection)
        plan.extra_columns.append(name)
        plan.extra_values.append(copy_value(value))
        log(f"{table}.{name}: filled with its model default {value!r}")
    return plan


def copy_rows(cursor: psycopg.Cursor[Any], plan: CopyPlan, lines: Iterator[str],
              chunk: int = 2_000) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(plan.table), sql.SQL(", ").join(map(sql.Identifier, plan.columns)))
    if plan.keep is not None or plan.extra_values:
        lines = (plan.line(line[:-1].split("\t")) for line in lines)
    count = 0
    buffer: list[str] = []
    with cursor.copy(statement) as copy:
        for line in lines:
            buffer.append(line)
            if len(buffer) >= chunk:
                copy.write("".join(buffer))
                count += len(buffer)
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
            count += len(buffer)
    return count


# --- indexes and constraints around the load --------------------------------------------------


Statement = sql.Composed | sql.SQL


def detach_indexes(cursor: psycopg.Cursor[Any], tables: Sequence[str]) -> list[Statement]:
    """Drop the loaded tables' foreign keys, unique constraints (none that a foreign key needs)
    and plain indexes; return the statements that recreate them, constraints first."""
    names = list(tables)
    foreign = cursor.execute(
        "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])", [names]).fetchall()
    unique = cursor.execute(
        "SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.contype = 'u' AND c.conrelid = ANY(%s::regclass[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' "
        "AND f.conindid = c.conindid AND NOT f.conrelid = ANY(%s::regclass[]))",
        [names, names]).fetchall()
    indexes = cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.conrelid = i.indrelid)", [names]).fetchall()
    restore: list[Statement] = []
    for conname, table, _ in [*foreign, *unique]:
        cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.SQL(table), sql.Identifier(conname)))
    for index, _ in indexes:
        cursor.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(index)))
    for conname, table, definition in unique:
        restore.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.SQL(table), sql.Identifier(conname), sql.SQL(definition)))
    restore += [sql.SQL(definition) for _, definition in indexes]
    for conname, table, definition in foreign:
        restore.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.SQL(table), sql.Identifier(conname), sql.SQL(definition)))
    log(f"detached {len(indexes)} indexes, {len(unique)} unique and {len(foreign)} foreign-key "
        "constraints for the load")
    return restore


# --- the catalogue as the database has it -----------------------------------------------------


@dataclass
class Leaf:
    id: int
    name: str
    root: str
    profile: cat.Profile
    attributes: list[Any]  # attribute_schema.Attribute, effective (ancestors first)
    category: Any  # the Category row, for validate_ad_attributes
    goods: bool = True  # has a condition
    new_share: float = 0.4
    choice_weights: dict[str, Weighted] = field(default_factory=dict)

    @property
    def keys(self) -> set[str]:
        return {attribute.key for attribute in self.attributes}


@dataclass
class Town:
    id: int
    name: str
    county: str


def load_leaves() -> list[Leaf]:
    from apps.categories import attribute_schema
    from apps.categories.models import Category

    categories = list(Category.objects.order_by("path"))
    by_id = {category.pk: category for category in categories}
    parents = {category.parent_id for category in categories}
    leaves: list[Leaf] = []
    for category in categories:
        if category.pk in parents:
            continue
        root = by_id[category.lineage_ids[0]].name if category.lineage_ids else category.name
        root_profile = cat.ROOTS.get(root, cat.GENERIC)
        profile = cat.LEAVES.get(category.name) or root_profile
        if category.name not in cat.LEAVES:
            siblings = sum(1 for other in categories if other.parent_id == category.parent_id)
            profile = cat.Profile(profile.weight / max(siblings, 1), profile.price,
                                  profile.nouns or cat.GENERIC.nouns, profile.goods,
                                  profile.new_share, profile.per)
        attributes = attribute_schema.effective_attributes(category)
        goods = profile.goods if profile.goods is not None else root_profile.goods
        new_share = (profile.new_share if profile.new_share is not None
                     else root_profile.new_share)
        leaf = Leaf(id=category.pk, name=category.name, root=root, profile=profile,
                    attributes=attributes, category=category,
                    goods=goods if goods is not None else True,
                    new_share=new_share if new_share is not None else 0.4)
        for attribute in attributes:
            if attribute.type == attribute_schema.CHOICE:
                leaf.choice_weights[attribute.key] = choice_weights(leaf, attribute)
        leaves.append(leaf)
    if not leaves:
        raise SystemExit("The category tree is empty: seed_categories() created nothing.")
    return leaves


def choice_weights(leaf: Leaf, attribute: Any) -> Weighted:
    choices = list(attribute.choices or ())
    key = attribute.key
    if key == "make" and "Toyota" in choices:
        return weighted_from(cat.CAR_MAKE_WEIGHTS, choices)
    if key == "make":
        return weighted_from(cat.MOTORBIKE_MAKE_WEIGHTS, choices)
    if key == "brand" and "Tecno" in choices and "Itel" in choices:
        return weighted_from(cat.PHONE_BRAND_WEIGHTS, choices)
    if key == "brand" and "Hisense" in choices:
        return weighted_from(cat.TV_BRAND_WEIGHTS, choices)
    if key == "transmission":
        return weighted_from({"automatic": 85, "manual": 15}, choices)
    if key == "fuel":
        return weighted_from({"petrol": 70, "diesel": 24, "hybrid": 5, "electric": 1}, choices)
    if key == "title_deed":
        return weighted_from({"freehold": 60, "leasehold": 20, "allotment letter": 12,
                              "none": 8}, choices)
    if key == "job_type":
        return weighted_from({"full-time": 55, "part-time": 15, "contract": 20,
                              "internship": 5, "temporary": 5}, choices)
    if key == "clothing_size":
        return weighted_from({"S": 15, "M": 30, "L": 28, "XL": 15, "XXL": 7, "XS": 3,
                              "XXXL": 2}, choices)
    return Weighted(choices, [0.3 if choice == "Other" else 1.0 for choice in choices])


def load_towns() -> list[Town]:
    from apps.locations.models import Location

    counties = {loc.pk: loc.name for loc in Location.objects.filter(parent__isnull=True)}
    towns = [Town(loc.pk, loc.name, counties.get(loc.parent_id or 0, ""))
             for loc in Location.objects.filter(parent__isnull=False).order_by("pk")]
    if not towns:
        raise SystemExit("No locations: seed_locations() created nothing.")
    return towns


def town_weights(towns: list[Town]) -> Weighted:
    per_county: dict[str, int] = {}
    for town in towns:
        per_county[town.county] = per_county.get(town.county, 0) + 1
    weights = []
    for town in towns:
        county_weight = COUNTY_WEIGHTS.get(town.county, OTHER_COUNTY_WEIGHT)
        weights.append(county_weight / per_county[town.county])
    return Weighted(list(range(len(towns))), weights)


# --- attribute values -------------------------------------------------------------------------


def attribute_values(rng: random.Random, leaf: Leaf, now_year: int) -> dict[str, Any]:
    """Values for the leaf's effective schema: every required key, most optional ones, in the
    cleaned form validate_ad_attributes stores (decimals as plain strings)."""
    values: dict[str, Any] = {}
    for attribute in leaf.attributes:
        if not attribute.required:
            include = 0.55 if attribute.type == "text" else 0.8
            if rng.random() > include:
                continue
        value = one_value(rng, leaf, attribute, values, now_year)
        if value is not None:
            values[attribute.key] = value
    return values


def _clamp(attribute: Any, value: Any) -> Any:
    if attribute.min is not None and value < attribute.min:
        value = type(value)(attribute.min)
    if attribute.max is not None and value > attribute.max:
        value = type(value)(attribute.max)
    return value


def one_value(rng: random.Random, leaf: Leaf, attribute: Any, values: dict[str, Any],
              now_year: int) -> Any:
    key, kind, name = attribute.key, attribute.type, leaf.name
    if kind == "choice":
        return leaf.choice_weights[key].pick(rng)
    if kind == "bool":
        share = {"dual_sim": 0.7, "smart_tv": 0.75, "parking": 0.6, "furnished": 0.2,
                 "remote": 0.15, "cellular": 0.35}.get(key, 0.5)
        if key == "furnished" and "Short" in name:
            share = 0.95
        return rng.random() < share
    if kind == "int":
        return _clamp(attribute, int_value(rng, leaf, key, attribute, values, now_year))
    if kind == "decimal":
        return format(_clamp(attribute, Decimal(decimal_value(rng, leaf, key, values))), "f")
    return text_value(rng, leaf, key, values)


def int_value(rng: random.Random, leaf: Leaf, key: str, attribute: Any,
              values: dict[str, Any], now_year: int) -> int:
    name = leaf.name
    if key == "year":
        if "Motorcycle" in name:
            return now_year - min(int(rng.expovariate(1 / 3.5)), 20)
        return max(1995, min(now_year, round(rng.gauss(now_year - 10, 4))))
    if key == "mileage":
        age = max(now_year - int(values.get("year", now_year - 8)), 0)
        per_year = 6_000 if "Motorcycle" in name else 14_000
        km = (age + 0.3) * per_year * rng.uniform(0.4, 1.8)
        return int(round(km, -3))
    if key == "engine_capacity":
        return int(rng.choice((100, 110, 125, 125, 150, 150, 150, 200, 250, 400, 650)))
    if key == "storage":
        if "Laptop" in name:
            return int(rng.choice((128, 256, 256, 512, 512, 1000, 2000)))
        return int(rng.choice((32, 64, 64, 128, 128, 128, 256, 256, 512)))
    if key == "ram":
        if "Laptop" in name:
            return int(rng.choice((4, 8, 8, 8, 16, 16, 32)))
        return int(rng.choice((2, 3, 4, 4, 6, 8, 8, 12)))
    if key == "bedrooms":
        if "Bedsitter" in name or "Studio" in name:
            return 0
        return int(rng.choice((1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6)))
    if key == "bathrooms":
        bedrooms = int(values.get("bedrooms", 2))
        return max(1, bedrooms + rng.choice((-1, 0, 0, 1)))
    if key == "experience_years":
        return min(int(rng.expovariate(1 / 3)), 30)
    if key == "age_months":
        return int(rng.choice((2, 2, 3, 3, 4, 6, 8, 12, 18, 24, 36)))
    if key == "shoe_size":
        return round(rng.gauss(41, 3))
    low = int(attribute.min) if attribute.min is not None else 0
    high = int(attribute.max) if attribute.max is not None else low + 100
    return rng.randint(low, min(high, low + 1_000))


def decimal_value(rng: random.Random, leaf: Leaf, key: str, values: dict[str, Any]) -> str:
    name = leaf.name
    if key == "screen_size":
        if name == "Televisions":
            return rng.choice(cat.TV_SIZES)
        if "Laptop" in name:
            return rng.choice(("13.3", "14", "14", "15.6", "15.6", "16", "17.3"))
        if "Tablet" in name:
            return rng.choice(("8", "8.7", "10.1", "10.2", "10.9", "11", "12.9"))
        return rng.choice(("5.8", "6.1", "6.1", "6.5", "6.6", "6.7", "6.8", "6.9"))
    if key == "size":  # square metres
        if "Land" in name or "Plot" in name:
            return rng.choice(("464.5", "506", "1012", "4047", "20234", "8094"))
        if "Bedsitter" in name:
            return str(rng.randint(15, 35))
        if "Office" in name or "Shop" in name or "Warehouse" in name or "Commercial" in name:
            return str(rng.randint(20, 3_000))
        bedrooms = int(values.get("bedrooms", 2))
        return str(int((30 + 32 * bedrooms) * rng.uniform(0.75, 1.5)))
    return f"{rng.uniform(1, 100):.1f}"


def text_value(rng: random.Random, leaf: Leaf, key: str, values: dict[str, Any]) -> str:
    name = leaf.name
    if key == "model":
        if name == "Cars":
            return rng.choice(cat.CAR_MODELS.get(values.get("make", ""), cat.CAR_MODELS["Other"]))
        if "Tablet" in name:
            return rng.choice(cat.TABLET_MODELS.get(values.get("brand", ""),
                                                    cat.TABLET_MODELS["Other"]))
        return rng.choice(cat.PHONE_MODELS.get(values.get("brand", ""),
                                               cat.PHONE_MODELS["Other"]))
    if key == "processor":
        if values.get("brand") == "Apple":
            return rng.choice(("M1", "M2", "M3"))
        return rng.choice(cat.PROCESSORS)
    if key == "color":
        return rng.choice(cat.COLOURS)
    if key == "breed":
        return rng.choice(cat.CAT_BREEDS if "Cat" in name else cat.DOG_BREEDS)
    return rng.choice(leaf.profile.nouns)


# --- prices, titles, descriptions -------------------------------------------------------------


def price_for(rng: random.Random, leaf: Leaf, values: dict[str, Any], new: bool,
              now_year: int) -> int:
    name, (low, typical, high) = leaf.name, leaf.profile.price
    if name == "Cars" and "make" in values:
        base = cat.CAR_MAKE_PRICE.get(values["make"], 1_000_000)
        age = now_year - int(values.get("year", now_year - 10))
        value = base * (0.89 ** (age - 10)) * rng.lognormvariate(0, 0.28)
        return nice_price(rng, min(max(value, low), high * 2))
    if name == "Mobile Phones" and "brand" in values:
        base = cat.PHONE_BRAND_PRICE.get(values["brand"], 15_000)
        storage = int(values.get("storage", 128))
        value = base * (1 + math.log2(max(storage, 16) / 128) * 0.15)
        value *= rng.lognormvariate(0, 0.35) * (1.0 if new else 0.7)
        return nice_price(rng, min(max(value, low), high))
    if name == "Televisions" and "screen_size" in values:
        inches = float(values["screen_size"])
        value = 600 * inches ** 1.45 / 10 * rng.lognormvariate(0, 0.25)
        return nice_price(rng, min(max(value, low), high))
    if "bedrooms" in values:
        rooms = max(int(values["bedrooms"]), 0)
        value = typical * (0.45 + 0.45 * rooms) * rng.lognormvariate(0, 0.45)
        return nice_price(rng, min(max(value, low), high))
    return nice_price(rng, log_triangular(rng, low, typical, high))


def plate(rng: random.Random) -> str:
    return f"{rng.choice(cat.PLATES)}"


NEW_TAILS = (" brand new", " mpya kabisa", " original", " with warranty")


def title_for(rng: random.Random, leaf: Leaf, values: dict[str, Any], town: Town,
              condition: str | None) -> str:
    name, nouns = leaf.name, leaf.profile.nouns
    tail = rng.choice(cat.TITLE_TAILS)
    if tail in NEW_TAILS and condition != "new":
        tail = ""
    if name == "Cars":
        make = values.get("make", "Toyota")
        model = values.get("model") or rng.choice(
            cat.CAR_MODELS.get(make, cat.CAR_MODELS["Other"]))
        head = f"{make} {model} {values['year']}"
        extra = rng.choice(("", "", f" {plate(rng)}", " ex-Japan", " foreign used",
                            " locally used", f" {rng.choice(cat.COLOURS)}",
                            f", {values.get('mileage', 90000):,} km",
                            f" {values.get('transmission', 'automatic')}"))
        title = " ".join(head.split()) + extra + tail
    elif "Motorcycle" in name:
        make = values.get("make", "Bajaj")
        model = rng.choice(cat.MOTORBIKE_MODELS.get(make, cat.MOTORBIKE_MODELS["Other"]))
        year = values.get("year")
        title = f"{make} {model}" + (f" {year}" if year else "") + rng.choice(
            ("", " pikipiki safi", " boda boda", " mpya", "")) + tail
    elif name in ("Mobile Phones", "Tablets"):
        brand = values.get("brand", "Samsung")
        model = values.get("model") or rng.choice(
            (cat.TABLET_MODELS if name == "Tablets" else cat.PHONE_MODELS).get(
                brand, ("",)))
        storage = values.get("storage")
        head = model if brand == "Apple" and model.startswith("i") else f"{brand} {model}"
        title = head + (f" {storage}GB" if storage else "") + tail
    elif name == "Laptops":
        brand = values.get("brand", "HP")
        model = rng.choice(cat.LAPTOP_MODELS.get(brand, cat.LAPTOP_MODELS["Other"]))
        processor = values.get("processor", "")
        parts = [brand if not model.startswith("MacBook") else "", model,
                 processor if f" {processor}" not in model else "",
                 f"{values['ram']}GB" if "ram" in values else "",
                 f"{values['storage']}GB SSD" if "storage" in values else ""]
        title = " ".join(part for part in parts if part) + tail
    elif name == "Televisions":
        size = values.get("screen_size", "43")
        smart = "smart " if values.get("smart_tv", True) else ""
        uhd = "4K " if float(size) >= 50 and rng.random() < 0.6 else ""
        title = f"{values.get('brand', 'Hisense')} {size} inch {uhd}{smart}TV" + tail
    elif "bedrooms" in values:
        rooms = int(values["bedrooms"])
        noun = rng.choice(nouns)
        rent = "Rent" in name
        if rooms == 0:
            title = f"{noun} to let in {town.name}" if rent else f"Studio for sale in {town.name}"
        else:
            verb = rng.choice(("to let", "for rent", "to let")) if rent else "for sale"
            title = f"{rooms} bedroom {noun} {verb} in {town.name}"
        title += rng.choice(("", "", " with parking", ", spacious", " near the road", " - SQ",
                             " kodi poa"))
    elif leaf.root == "Property":
        title = f"{rng.choice(nouns)} in {town.name}" + rng.choice(
            ("", " for sale", " to let", " with ready title", ", prime location"))
    elif leaf.root == "Jobs":
        noun = rng.choice(nouns)
        title = rng.choice((f"{noun} needed in {town.name}", f"Hiring: {noun}",
                            f"{noun} wanted urgently", f"Nafasi ya kazi: {noun}",
                            f"Vacancy: {noun} ({values.get('job_type', 'full-time')})"))
    elif leaf.root == "Services":
        noun = rng.choice(nouns)
        title = rng.choice((f"{noun} services in {town.name}", f"Affordable {noun.lower()}",
                            f"Professional {noun.lower()}", f"{noun} - bei nafuu"))
    elif "breed" in values:
        breed = values["breed"]
        title = (f"{breed} {rng.choice(nouns)}" if name.startswith(("Dogs", "Cats"))
                 else f"{breed} for sale") + rng.choice(("", " for sale", " available"))
    elif "clothing_size" in values:
        title = f"{rng.choice(nouns)} size {values['clothing_size']}" + tail
    elif "shoe_size" in values:
        title = f"{rng.choice(nouns)} size {values['shoe_size']}" + tail
    else:
        title = rng.choice(nouns) + tail
    return title.strip()[:120]


def describe_values(values: dict[str, Any], leaf: Leaf) -> str:
    labels = {attribute.key: (attribute.label, attribute.unit) for attribute in leaf.attributes}
    parts = []
    for key, value in values.items():
        label, unit = labels.get(key, (key, None))
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, int) and key not in ("year", "shoe_size"):
            text = f"{value:,}"
        else:
            text = str(value)
        parts.append(f"{label}: {text}{' ' + unit if unit else ''}")
    return ". ".join(parts) + "." if parts else ""


def description_for(rng: random.Random, leaf: Leaf, title: str, values: dict[str, Any],
                    town: Town, condition: str | None, negotiable: bool) -> str:
    root = leaf.root
    if root == "Property":
        pool: tuple[str, ...] = cat.PROPERTY_LINES
    elif root == "Jobs":
        pool = cat.JOB_LINES
    elif root == "Services":
        pool = cat.SERVICE_LINES
    elif root in ("Animals & Pets", "Agriculture & Food") and not leaf.goods:
        pool = cat.ANIMAL_LINES + cat.SERVICE_LINES[:2]
    else:
        pool = cat.NEW_LINES if condition == "new" else cat.GOODS_LINES
    goods_like = root not in ("Jobs", "Services", "Property")
    opener = rng.choice(cat.OPENERS) if goods_like else "{title}."
    sentences = [opener.format(title=title)]
    sentences += rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2, 2, 3, 4))))
    if values and rng.random() < 0.6:
        sentences.append(describe_values(values, leaf))
    if leaf.profile.per and rng.random() < 0.5:
        sentences.append(f"Price is {leaf.profile.per}.")
    if negotiable:
        sentences.append(rng.choice(cat.NEGOTIABLE))
    closers = rng.sample(cat.CLOSERS if goods_like else cat.PLAIN_CLOSERS,
                         k=rng.choice((1, 1, 2)))
    sentences += [closer.format(town=town.name) for closer in closers]
    if rng.random() < 0.35:
        cut = rng.randint(1, len(sentences) - 1)
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    return " ".join(sentences)


def typo(rng: random.Random, text: str) -> str:
    """One misspelling: a known one when the text has the word, else a keyboard slip."""
    known = [word for word in cat.MISSPELLINGS if word in text]
    if known:
        word = rng.choice(known)
        return text.replace(word, cat.MISSPELLINGS[word], 1)
    letters = [i for i, char in enumerate(text) if char.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:-1])
    op = rng.random()
    if op < 0.3 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]  # swap
    if op < 0.6:
        return text[:i] + text[i + 1:]  # drop
    if op < 0.8:
        return text[:i] + text[i] + text[i:]  # double
    return text[:i] + rng.choice("qwertyuiopasdfghjklzxcvbnm") + text[i + 1:]


def slug_suffix(index: int) -> str:
    """Six characters like the app's random suffix, unique per index (a bijection mod 36^6)."""
    value = (index * 1_000_003 + 7_654_321) % (36 ** 6)
    chars = []
    for _ in range(6):
        value, digit = divmod(value, 36)
        chars.append(SLUG_ALPHABET[digit])
    return "".join(chars)


# --- the generator ----------------------------------------------------------------------------


@dataclass
class World:
    """Everything decided before the rows are written, so counters are right at COPY time."""

    now: float
    lifetime: float  # AD_LIFETIME_DAYS in seconds
    n_users: int
    n_ads: int
    leaves: list[Leaf]
    towns: list[Town]
    user_ids: list[str] = field(default_factory=list)
    user_joined: array = field(default_factory=lambda: array("d"))
    user_town: array = field(default_factory=lambda: array("i"))
    user_active_ads: array = field(default_factory=lambda: array("i"))
    ad_ids: list[str] = field(default_factory=list)
    ad_owner: array = field(default_factory=lambda: array("i"))
    ad_leaf: array = field(default_factory=lambda: array("H"))
    ad_status: bytearray = field(default_factory=bytearray)
    ad_deleted: bytearray = field(default_factory=bytearray)
    ad_created: array = field(default_factory=lambda: array("d"))
    ad_published: array = field(default_factory=lambda: array("d"))
    ad_favorites: array = field(default_factory=lambda: array("i"))
    favorites: list[tuple[int, int, float]] = field(default_factory=list)


def rng_for(seed: int, stream: str) -> random.Random:
    return random.Random(f"{seed}:{stream}")  # noqa: S311  (benchmark data, not secrets)


def at_posting_hour(rng: random.Random, epoch: float, hours: Weighted) -> float:
    """Move a time to a likely posting hour (Nairobi time) on the same day."""
    day_start = math.floor((epoch + EAT) / DAY) * DAY - EAT
    return day_start + hours.pick(rng) * HOUR + rng.random() * HOUR


def plan_world(seed: int, n_ads: int, now: float, lifetime_days: int, leaves: list[Leaf],
               towns: list[Town]) -> World:
    n_users = max(n_ads // 20, 10)
    world = World(now=now, lifetime=lifetime_days * DAY, n_users=n_users, n_ads=n_ads,
                  leaves=leaves, towns=towns)
    town_pick = town_weights(towns)
    hours = Weighted(list(range(24)), POST_HOURS)
    n_sellers = max(int(n_users * 0.6), 1)
    n_dealers = max(int(n_users * 0.03), 1)

    rng = rng_for(seed, "users")
    for index in range(n_users):
        world.user_ids.append(new_uuid(rng))
        if index < n_sellers:  # sellers joined before the oldest ad they can have
            joined = now - (WINDOW_DAYS + lifetime_days + 5) * DAY - rng.random() * 3 * 365 * DAY
        else:
            joined = now - rng.random() ** 1.5 * 4 * 365 * DAY
        world.user_joined.append(joined)
        world.user_town.append(town_pick.pick(rng) if rng.random() < 0.92 else -1)
        world.user_active_ads.append(0)

    rng = rng_for(seed, "ads")
    leaf_pick = Weighted(list(range(len(leaves))), [leaf.profile.weight for leaf in leaves])
    status_pick = Weighted(list(range(len(STATUSES))), STATUS_WEIGHTS)
    life = world.lifetime
    for _ in range(n_ads):
        world.ad_ids.append(new_uuid(rng))
        owner = rng.randrange(n_dealers) if rng.random() < 0.35 else rng.randrange(n_sellers)
        status = status_pick.pick(rng)
        if status == ACTIVE:
            published = now - rng.uniform(0.02, life / DAY - 0.1) * DAY
            published = min(at_posting_hour(rng, published, hours), now - 60)
            if published < now - life + HOUR:
                published = now - life + HOUR
            created = (published - rng.uniform(120, 12 * HOUR) if rng.random() < 0.7
                       else published - rng.uniform(life, WINDOW_DAYS * DAY))
        elif status in (SOLD, HIDDEN):
            published = min(at_posting_hour(
                rng, now - rng.uniform(0.5, WINDOW_DAYS) * DAY, hours), now - HOUR)
            created = published - rng.uniform(120, 12 * HOUR)
        elif status == EXPIRED:
            published = min(at_posting_hour(
                rng, now - rng.uniform(life / DAY + 1, WINDOW_DAYS) * DAY, hours),
                now - life - HOUR)
            created = published - rng.uniform(120, 12 * HOUR)
        elif status == PENDING:
            published, created = math.nan, now - rng.uniform(0.01, 3) * DAY
        else:  # draft, rejected
            published = math.nan
            created = min(at_posting_hour(
                rng, now - rng.uniform(0.5, WINDOW_DAYS) * DAY, hours), now - HOUR)
        deleted = status != PENDING and rng.random() < DELETED_SHARE
        world.ad_owner.append(owner)
        world.ad_leaf.append(leaf_pick.pick(rng))
        world.ad_status.append(status)
        world.ad_deleted.append(1 if deleted else 0)
        world.ad_created.append(created)
        world.ad_published.append(published)
        world.ad_favorites.append(0)
        if status == ACTIVE and not deleted:
            world.user_active_ads[owner] += 1

    rng = rng_for(seed, "favorites")
    wanted = n_ads // 5
    live = [i for i in range(n_ads) if world.ad_status[i] == ACTIVE and not world.ad_deleted[i]]
    seen: set[int] = set()
    attempts = 0
    while len(world.favorites) < wanted and attempts < wanted * 20:
        attempts += 1
        ad = rng.choice(live) if live and rng.random() < 0.85 else rng.randrange(n_ads)
        user = rng.randrange(n_users)
        key = ad * n_users + user
        if user == world.ad_owner[ad] or key in seen:
            continue
        seen.add(key)
        published = world.ad_published[ad]
        start = max(world.ad_created[ad] if math.isnan(published) else published,
                    world.user_joined[user])
        when = start + rng.random() * max(now - start, 60.0)
        world.favorites.append((user, ad, min(when, now)))
        world.ad_favorites[ad] += 1
    return world


USER_COLUMNS = [
    "id", "password", "last_login", "is_superuser", "email", "phone", "first_name", "last_name",
    "bio", "avatar", "email_verified", "phone_verified", "is_staff", "is_active", "is_suspended",
    "suspended_at", "date_joined", "rating_count", "rating_total", "active_ads_count",
    "location_id",
]


def user_lines(world: World, seed: int, password_hash: str) -> Iterator[str]:
    rng = rng_for(seed, "user-rows")
    towns, now = world.towns, world.now
    domains = ("example.com", "example.org", "example.net", "mail.example.com")
    password = esc(password_hash)
    for index, user_id in enumerate(world.user_ids):
        first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
        email = f"{first}.{last}.{index}@{rng.choice(domains)}".lower()
        phone = (f"+2547{(index * 7_919 + 1_234_567) % 100_000_000:08d}"
                 if rng.random() < 0.85 else None)
        joined = world.user_joined[index]
        town = world.user_town[index]
        ratings = int(rng.expovariate(1 / 3)) if world.user_active_ads[index] else 0
        last_login = joined + rng.random() * (now - joined) if rng.random() < 0.9 else math.nan
        suspended = rng.random() < 0.002
        yield "\t".join((
            user_id, password, ts_or_null(last_login), "f", esc(email),
            phone or NULL, esc(first), esc(last), esc(rng.choice(cat.SELLER_BIOS)),
            NULL, "t" if rng.random() < 0.9 else "f", "t" if phone and rng.random() < 0.75
            else "f", "f", "t", "t" if suspended else "f",
            ts(joined + rng.random() * (now - joined)) if suspended else NULL,
            ts(joined), str(ratings), str(sum(rng.randint(3, 5) for _ in range(ratings))),
            str(world.user_active_ads[index]),
            str(towns[town].id) if town >= 0 else NULL,
        )) + "\n"


AD_COLUMNS = [
    "id", "created_at", "updated_at", "slug", "title", "description", "price", "currency",
    "negotiable", "condition", "attributes", "status", "moderation_reason", "views_count",
    "favorites_count", "phone_reveals_count", "promotion_tier", "promotion_until",
    "published_at", "expires_at", "expiry_warned_at", "deleted_at", "category_id",
    "location_id", "owner_id",
]


def ad_lines(world: World, seed: int, progress: Callable[[int], None]) -> Iterator[str]:
    from django.utils.text import slugify

    rng = rng_for(seed, "ad-rows")
    now, life = world.now, world.lifetime
    now_year = datetime.fromtimestamp(now, UTC).year
    town_pick = town_weights(world.towns)
    tier_pick = Weighted([tier for tier, _ in TIER_WEIGHTS], [w for _, w in TIER_WEIGHTS])
    reasons_pending = ("contact_details", "banned_word", "price_out_of_range", "duplicate")
    for index in range(world.n_ads):
        leaf = world.leaves[world.ad_leaf[index]]
        owner = world.ad_owner[index]
        status = world.ad_status[index]
        deleted = world.ad_deleted[index]
        created, published = world.ad_created[index], world.ad_published[index]
        town_index = world.user_town[owner]
        if town_index < 0 or rng.random() < 0.2:
            town_index = town_pick.pick(rng)
        town = world.towns[town_index]
        location = NULL if rng.random() < 0.02 else str(town.id)

        values = attribute_values(rng, leaf, now_year)
        condition = None
        if leaf.goods and rng.random() < 0.95:
            roll = rng.random()
            refurbished = 0.12 if leaf.root in ("Electronics", "Mobile Phones & Tablets") else 0
            condition = ("new" if roll < leaf.new_share
                         else "refurbished" if roll < leaf.new_share + refurbished
                         else "used")
        negotiable = rng.random() < (0.2 if leaf.root == "Jobs" else 0.6)
        price = price_for(rng, leaf, values, condition == "new", now_year)
        title = title_for(rng, leaf, values, town, condition)
        description = description_for(rng, leaf, title, values, town, condition, negotiable)
        if rng.random() < TYPO_SHARE:
            title = typo(rng, title)
        if rng.random() < TYPO_SHARE:
            description = typo(rng, description)
        slug = f"{slugify(title)[:100].strip('-') or 'ad'}-{slug_suffix(index)}"

        expires = warned = promo_until = deleted_at = math.nan
        tier, reason = 0, NULL
        updated = created + rng.uniform(0, 3_600)
        if not math.isnan(published):
            expires = published + life
            updated = max(updated, published)
        if status == ACTIVE and not deleted and rng.random() < PROMOTED_SHARE:
            tier = tier_pick.pick(rng)
            promo_until = now + rng.uniform(0.3, 30) * DAY
        elif status == SOLD:
            updated = published + rng.random() * max(min(life, now - published), 60)
        elif status == EXPIRED:
            warned = expires - 3 * DAY
            updated = expires + rng.uniform(60, HOUR)
        elif status == PENDING:
            reason = rng.choice(reasons_pending) if rng.random() < 0.5 else NULL
        elif status == REJECTED:
            reason = rng.choice(reasons_pending)
        elif status == HIDDEN:
            reason = rng.choice(("reported", "staff"))
            updated = published + rng.random() * max(now - published, 60)
        if status == ACTIVE and expires - now < 3 * DAY and rng.random() < 0.8:
            warned = expires - 3 * DAY if expires - 3 * DAY < now else math.nan
        if deleted:
            deleted_at = updated + rng.random() * max(now - updated, 60)
            updated = deleted_at
        age_days = max((now - (created if math.isnan(published) else published)) / DAY, 0.05)
        views = 0 if math.isnan(published) else int(
            rng.lognormvariate(math.log(age_days * 6 + 3), 0.9) * (1 + tier))
        reveals = int(views * rng.uniform(0, 0.05))
        yield "\t".join((
            world.ad_ids[index], ts(created), ts(min(updated, now)), esc(slug), esc(title),
            esc(description), f"{price}.00", "KES", "t" if negotiable else "f",
            condition or NULL, esc(json.dumps(values, ensure_ascii=False)),
            STATUSES[status], reason, str(views), str(world.ad_favorites[index]), str(reveals),
            str(tier), ts_or_null(promo_until), ts_or_null(published), ts_or_null(expires),
            ts_or_null(warned), ts_or_null(deleted_at), str(leaf.id), location,
            world.user_ids[owner],
        )) + "\n"
        if index % 50_000 == 49_999:
            progress(index + 1)


IMAGE_COLUMNS = ["created_at", "updated_at", "file", "thumbnail", "width", "height", "order",
                 "ad_id"]


def image_lines(world: World, seed: int) -> Iterator[str]:
    rng = rng_for(seed, "images")
    count_pick = Weighted(list(range(6)), IMAGE_COUNT_WEIGHTS)
    for index in range(world.n_ads):
        count = count_pick.pick(rng)
        if world.ad_status[index] == DRAFT and rng.random() < 0.5:
            count = 0
        if not count:
            continue
        created = world.ad_created[index]
        folder = datetime.fromtimestamp(created, UTC).strftime("%Y/%m")
        ad_id = world.ad_ids[index]
        for order in range(count):
            stamp = ts(created + 10 + order * rng.uniform(2, 30))
            name = f"{rng.getrandbits(64):016x}"
            width, height = rng.choice(IMAGE_SIZES)
            thumbnail = f"ads/thumbs/{folder}/{name}.jpg" if rng.random() < 0.95 else NULL
            yield (f"{stamp}\t{stamp}\tads/{folder}/{name}.jpg\t{thumbnail}\t{width}\t"
                   f"{height}\t{order}\t{ad_id}\n")


FAVORITE_COLUMNS = ["created_at", "updated_at", "user_id", "ad_id"]


def favorite_lines(world: World) -> Iterator[str]:
    for user, ad, when in world.favorites:
        stamp = ts(when)
        yield f"{stamp}\t{stamp}\t{world.user_ids[user]}\t{world.ad_ids[ad]}\n"


# --- conversations and messages (a stage of its own) ------------------------------------------
#
# Added after the first datasets were built, so it also runs on a reused database whose chat
# tables are empty: it reads the users and live ads back (ordered by id, so the same rows give
# the same conversations) instead of needing the planned World.

CONVERSATION_COLUMNS = ["id", "created_at", "updated_at", "ad_id", "buyer_id", "seller_id",
                        "last_message_id", "buyer_archived", "seller_archived", "buyer_muted",
                        "seller_muted"]
MESSAGE_COLUMNS = ["id", "conversation_id", "sender_id", "body", "client_id", "warning",
                   "created_at", "read_at"]
MESSAGE_COUNT_WEIGHTS = (0.25, 0.25, 0.2, 0.15, 0.1, 0.05)  # 1..6 messages
BUYER_LINES = (
    "Hi, is this still available?", "Habari, bado iko?", "What is your last price?",
    "Bei ya mwisho ni ngapi?", "Can I view it tomorrow?", "Where exactly are you located?",
    "Is the price negotiable?", "Naweza kuja kuiona leo jioni?", "Does it come with a receipt?",
    "Can you deliver?", "I am interested, ni original?", "Any warranty left?",
)
SELLER_LINES = (
    "Yes, still available.", "Iko bado, karibu.", "Price is slightly negotiable.",
    "Bei ni poa, tunaweza ongea.", "You can come any time after 5pm.",
    "I am near the main stage.", "Delivery within town is free.", "Yes it is original.",
    "Sorry, it is sold.", "Tuma namba nikupigie.", "Ok, see you then.",
)


def chat_tables_empty(conn: psycopg.Connection) -> bool:
    if conn.execute("SELECT to_regclass('chat_conversation')").fetchone() == (None,):
        return False  # no chat app: nothing to fill
    return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM chat_conversation)").fetchone() == (
        True,)


def conversation_rows(seed: int, n_ads: int, users: Sequence[tuple[str, float]],
                      ads: Sequence[tuple[str, str, float]], now: float,
                      first_message_id: int) -> tuple[list[str], list[str]]:
    """About N/10 conversations (one per ad and buyer, never with oneself), 1-6 messages each
    alternating buyer and seller; read up to the last one or two."""
    rng = rng_for(seed, "conversations")
    wanted = n_ads // 10
    conversations: list[str] = []
    messages: list[str] = []
    if not users or not ads:
        return conversations, messages
    count_pick = Weighted(list(range(1, 7)), MESSAGE_COUNT_WEIGHTS)
    seen: set[tuple[int, int]] = set()
    message_id = first_message_id
    attempts = 0
    while len(conversations) < wanted and attempts < wanted * 20:
        attempts += 1
        ad_index = rng.randrange(len(ads))
        buyer_index = rng.randrange(len(users))
        ad_id, seller_id, published = ads[ad_index]
        buyer_id, joined = users[buyer_index]
        if buyer_id == seller_id or (ad_index, buyer_index) in seen:
            continue
        seen.add((ad_index, buyer_index))
        conversation_id = new_uuid(rng)
        start = max(published, joined)
        when = start + rng.random() * max(now - start, 120.0) * 0.9
        count = count_pick.pick(rng)
        unread_tail = rng.choice((0, 0, 1, 1, 2))
        last_id = message_id
        first_at = math.nan
        for position in range(count):
            from_buyer = position % 2 == 0
            sender = buyer_id if from_buyer else seller_id
            body = rng.choice(BUYER_LINES if from_buyer else SELLER_LINES)
            when = min(when + rng.uniform(30, 6 * HOUR), now - 1)
            if position == 0:
                first_at = when
            read = ts(min(when + rng.uniform(10, HOUR), now)) if position < count - unread_tail \
                else NULL
            messages.append("\t".join((str(message_id), conversation_id, sender, esc(body),
                                       NULL, NULL, ts(when), read)) + "\n")
            last_id = message_id
            message_id += 1
        archived = rng.random() < 0.05
        conversations.append("\t".join((
            conversation_id, ts(first_at), ts(when), ad_id, buyer_id, seller_id, str(last_id),
            "t" if archived else "f", "f", "t" if rng.random() < 0.02 else "f", "f",
        )) + "\n")
    return conversations, messages


def load_conversations(url: str, seed: int, n_ads: int) -> dict[str, int]:
    """Fill chat_conversation and chat_message when they are empty; return the rows loaded."""
    from apps.chat.models import Conversation, Message

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        if not chat_tables_empty(conn):
            return {}
        users = [(row[0], float(row[1])) for row in cursor.execute(
            "SELECT id::text, extract(epoch FROM date_joined) FROM users_user "
            "WHERE is_active AND NOT is_suspended ORDER BY id")]
        ads = [(row[0], row[1], float(row[2])) for row in cursor.execute(
            "SELECT id::text, owner_id::text, extract(epoch FROM published_at) FROM ads_ad "
            "WHERE status = 'active' AND deleted_at IS NULL ORDER BY id")]
        row = cursor.execute("SELECT extract(epoch FROM max(published_at)), "
                             "(SELECT coalesce(max(id), 0) + 1 FROM chat_message) "
                             "FROM ads_ad").fetchone()
        now = float(row[0]) + 60 if row and row[0] is not None else time.time()
        first_id = int(row[1]) if row else 1
        conversations, messages = conversation_rows(seed, n_ads, users, ads, now, first_id)
        cursor.execute("SET LOCAL synchronous_commit = off")
        loaded = {
            "chat_conversation": copy_rows(cursor, plan_copy(
                conn, "chat_conversation", CONVERSATION_COLUMNS, Conversation),
                iter(conversations)),
            "chat_message": copy_rows(cursor, plan_copy(
                conn, "chat_message", MESSAGE_COLUMNS, Message), iter(messages)),
        }
        cursor.execute("SELECT setval(pg_get_serial_sequence('chat_message', 'id'), "
                       "(SELECT coalesce(max(id), 1) FROM chat_message))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) chat_conversation, chat_message")
    log(f"loaded {loaded['chat_conversation']:,} conversations with "
        f"{loaded['chat_message']:,} messages")
    return loaded


# --- checks -----------------------------------------------------------------------------------


def check_attribute_samples(seed: int, leaves: list[Leaf], per_leaf: int = 25) -> int:
    """The app's own validator must accept the generated values unchanged."""
    from rest_framework.exceptions import ValidationError

    from apps.categories.attribute_schema import validate_ad_attributes

    rng = rng_for(seed, "attribute-check")
    year = datetime.now(UTC).year
    checked = 0
    for leaf in leaves:
        for _ in range(per_leaf):
            values = attribute_values(rng, leaf, year)
            try:
                cleaned = validate_ad_attributes(leaf.category, values)
            except ValidationError as exc:
                raise SystemExit(f"generated attributes for {leaf.name} are invalid: "
                                 f"{values} -> {exc.detail}") from None
            if cleaned != values:
                raise SystemExit(f"{leaf.name}: the app would store {cleaned}, not {values}")
            checked += 1
    return checked


def verify_counters(conn: psycopg.Connection) -> None:
    checks = {
        "users.active_ads_count": (
            "SELECT count(*) FROM users_user u LEFT JOIN (SELECT owner_id, count(*) n "
            "FROM ads_ad a WHERE a.status = 'active' AND a.deleted_at IS NULL "
            "GROUP BY owner_id) c ON c.owner_id = u.id "
            "WHERE u.active_ads_count <> coalesce(c.n, 0)"),
        "ads.favorites_count": (
            "SELECT count(*) FROM ads_ad a LEFT JOIN (SELECT ad_id, count(*) n "
            "FROM ads_favorite GROUP BY ad_id) f ON f.ad_id = a.id "
            "WHERE a.favorites_count <> coalesce(f.n, 0)"),
        "categories.ad_count": (
            "SELECT count(*) FROM categories_category c WHERE c.ad_count <> (SELECT count(*) "
            "FROM ads_ad a JOIN categories_category l ON l.id = a.category_id "
            "WHERE a.status = 'active' AND a.deleted_at IS NULL AND l.path LIKE c.path || '%%')"),
        "active ads expire in the future": (
            "SELECT count(*) FROM ads_ad a WHERE a.status = 'active' AND a.deleted_at IS NULL "
            "AND a.expires_at <= now()"),
    }
    for name, query in checks.items():
        row = conn.execute(query).fetchone()
        wrong = int(row[0]) if row else -1
        if wrong:
            raise SystemExit(f"check failed: {wrong} rows with a wrong {name}")
    log("checked: active_ads_count, favorites_count, categories.ad_count, expiry dates")


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    counts = {}
    for table in (*LOADED_TABLES, *CHAT_TABLES, "categories_category", "locations_location"):
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = int(row.fetchone()[0])  # type: ignore[index]
    return counts


def sizes(conn: psycopg.Connection) -> dict[str, int]:
    row = conn.execute(
        "SELECT pg_database_size(current_database()), pg_table_size('ads_ad'), "
        "pg_indexes_size('ads_ad'), pg_total_relation_size('ads_ad')").fetchone()
    if row is None:
        raise RuntimeError("no sizes")
    return {"database": row[0], "ads_ad table": row[1], "ads_ad indexes": row[2],
            "ads_ad total": row[3]}


def mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ads", type=int, default=100_000, help="number of ads (N)")
    parser.add_argument("--database-url",
                        help="the benchmark database (default: marketplace_bench_<N> on "
                             "DATABASE_URL's server)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--now", help="ISO time the data is 'now' for (default: this hour)")
    parser.add_argument("--force", action="store_true",
                        help="rebuild even when the database already has N ads")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.ads < 1:
        raise SystemExit("--ads must be positive")
    started = time.monotonic()
    url = bench_url(args.database_url, args.ads)
    name = db_name(url)
    is_bench = "bench" in name
    if database_exists(url):
        have = existing_ads(url)
        if have == args.ads and not args.force:
            migrate(url)
            log(f"{name} already has {have:,} ads: reusing it (--force rebuilds)")
            setup_django(url)
            load_conversations(url, args.seed, args.ads)
            with psycopg.connect(url) as conn:
                print_summary(conn, name, {}, 0.0, started)
            return 0
        if not is_bench and have:
            raise SystemExit(f"{name} holds {have:,} ads and is not a benchmark database "
                             "(no 'bench' in its name): refusing to replace it.")
        if is_bench:
            recreate_database(url)
    else:
        with psycopg.connect(admin_url(url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        log(f"created database {name}")

    phases: dict[str, float] = {}
    mark = time.monotonic()
    migrate(url)
    setup_django(url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from apps.ads.models import Ad, AdImage, Favorite
    from apps.categories import services as category_services
    from apps.categories.demo import seed_categories
    from apps.locations.demo import seed_locations

    towns_created, categories_created = seed_locations(), seed_categories()
    category_services.invalidate_tree_cache()
    log(f"seeded {towns_created} towns and {categories_created} categories")
    phases["create, migrate, seed"] = time.monotonic() - mark

    mark = time.monotonic()
    leaves, towns = load_leaves(), load_towns()
    checked = check_attribute_samples(args.seed, leaves)
    log(f"attribute generator: {checked} samples over {len(leaves)} leaves pass "
        "validate_ad_attributes unchanged")
    now = (datetime.fromisoformat(args.now) if args.now
           else datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    world = plan_world(args.seed, args.ads, now.timestamp(), settings.AD_LIFETIME_DAYS,
                       leaves, towns)
    password_hash = make_password(BENCH_PASSWORD)
    phases["plan (users, statuses, favourites)"] = time.monotonic() - mark

    loaded: dict[str, int] = {}
    load_started = time.monotonic()

    def progress(done: int) -> None:
        elapsed = time.monotonic() - ads_started
        log(f"  ads {done:,}/{args.ads:,} ({done / elapsed:,.0f}/s)")

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        restore = detach_indexes(cursor, LOADED_TABLES)
        plans = {
            "users_user": plan_copy(conn, "users_user", USER_COLUMNS, get_user_model()),
            "ads_ad": plan_copy(conn, "ads_ad", AD_COLUMNS, Ad),
            "ads_adimage": plan_copy(conn, "ads_adimage", IMAGE_COLUMNS, AdImage),
            "ads_favorite": plan_copy(conn, "ads_favorite", FAVORITE_COLUMNS, Favorite),
        }
        mark = time.monotonic()
        loaded["users_user"] = copy_rows(cursor, plans["users_user"],
                                         user_lines(world, args.seed, password_hash))
        phases["COPY users"] = time.monotonic() - mark
        mark = ads_started = time.monotonic()
        loaded["ads_ad"] = copy_rows(cursor, plans["ads_ad"], ad_lines(world, args.seed,
                                                                          progress))
        phases["COPY ads"] = time.monotonic() - mark
        mark = time.monotonic()
        loaded["ads_adimage"] = copy_rows(cursor, plans["ads_adimage"],
                                          image_lines(world, args.seed))
        phases["COPY ad images"] = time.monotonic() - mark
        mark = time.monotonic()
        loaded["ads_favorite"] = copy_rows(cursor, plans["ads_favorite"], favorite_lines(world))
        phases["COPY favourites"] = time.monotonic() - mark
        mark = time.monotonic()
        log(f"recreating {len(restore)} indexes and constraints")
        for statement in restore:
            cursor.execute(statement)
        phases["indexes and constraints"] = time.monotonic() - mark
        mark = time.monotonic()
        conn.commit()
        phases["commit"] = time.monotonic() - mark
    load_seconds = time.monotonic() - load_started

    mark = time.monotonic()
    changed = category_services.recount_ad_counts()
    category_services.invalidate_tree_cache()
    phases["categories.ad_count"] = time.monotonic() - mark
    log(f"recount_ad_counts(): {changed} categories updated")
    mark = time.monotonic()
    load_conversations(url, args.seed, args.ads)
    phases["COPY conversations, messages"] = time.monotonic() - mark

    with psycopg.connect(url, autocommit=True) as conn:
        mark = time.monotonic()
        conn.execute("VACUUM (ANALYZE)")
        phases["VACUUM (ANALYZE)"] = time.monotonic() - mark
        verify_counters(conn)
        comment = (f"bench/generate.py v{GENERATOR_VERSION} ads={args.ads} seed={args.seed} "
                   f"now={now.isoformat()}")
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(comment)))
        total_rows = sum(loaded.values())
        log(f"loaded {total_rows:,} rows in {load_seconds:.1f} s "
            f"({total_rows / load_seconds:,.0f} rows/s, {args.ads / load_seconds:,.0f} ads/s "
            "incl. indexes)")
        print_summary(conn, name, phases, load_seconds, started, loaded)
    return 0


def print_summary(conn: psycopg.Connection, name: str, phases: dict[str, float],
                  load_seconds: float, started: float,
                  loaded: dict[str, int] | None = None) -> None:
    counts = table_counts(conn)
    elapsed = time.monotonic() - started
    comment = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = current_database()").fetchone()
    print(f"\nbenchmark database {name}" + (f"  ({comment[0]})" if comment and comment[0]
                                              else ""))
    print(f"{'table':<24}{'rows':>14}")
    for table, count in counts.items():
        print(f"{table:<24}{count:>14,}")
    if phases:
        print(f"\n{'phase':<40}{'seconds':>10}")
        for phase, seconds in phases.items():
            print(f"{phase:<40}{seconds:>10.1f}")
    for label, size in sizes(conn).items():
        print(f"{label:<24}{mb(size):>14}")
    if loaded and load_seconds:
        total = sum(loaded.values())
        print(f"\nloaded {total:,} rows in {load_seconds:.1f} s: {total / load_seconds:,.0f} "
              f"rows/s ({loaded['ads_ad'] / load_seconds:,.0f} ads/s, indexes included)")
    print(f"total elapsed {elapsed:.1f} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
