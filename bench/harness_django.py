"""The Django side of `make bench` (run by bench/harness.py in a process of its own, with the
environment of the stack under test: bench settings, the bench database, the private Redis).

    prepare --out DIR --ads N   request files (wrk), ids file, tokens, captured SQL (pgbench)
    cleanup --out DIR           remove what the run wrote: posted ads, sent messages, stats

prepare also records in DIR/state.json what cleanup needs to put the dataset back, so the
generator keeps reusing the database (it rebuilds one whose ad count changed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import pgscript  # noqa: E402

SEED = 20251127
TOKEN_HOURS = 6
SEARCH_TERMS = (
    "toyota",
    "iphone",
    "samsung galaxy",
    "bedroom nairobi",
    "sofa",
    "laptop hp",
    "toyta",
    "tecno",
    "land for sale",
    "bajaj boxer",
    "fridge",
    "house to let",
    "subaru forester",
    "macbook",
    "nyumba",
    "itel",
    "tv 43 inch",
    "bedsitter",
    "shoes",
    "dog",
)
MESSAGE_BODIES = (
    "Is this still available?",
    "Bei ya mwisho?",
    "Can I view it tomorrow?",
    "Where are you located?",
    "Ok, I will come at 5pm.",
)
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
CAPTURES = {
    "listing": 3,
    "filtered": 5,
    "detail": 10,
    "detail_uncached": 10,
    "categories": 1,
    "search": 5,
    "search_uncached": 5,
    "favourites": 5,
    "message": 3,
    "post_ad": 3,
}


HOT_ADS = 200


def line(method: str, path: str, token: str | None = None, body: Any = None) -> str:
    payload = json.dumps(body, separators=(",", ":")) if body is not None else "-"
    return f"{method}\t{path}\t{token or '-'}\t{payload}"


def pick(rng: random.Random, items: list[Any], count: int) -> list[Any]:
    return items if len(items) <= count else rng.sample(items, count)


def access_token(user: Any) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(hours=TOKEN_HOURS))  # outlives the whole run
    return str(token)


def requests_for(rng: random.Random) -> dict[str, list[str]]:
    """Request lines per endpoint, from the database's own rows."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from apps.ads.models import Favorite
    from apps.categories.models import Category
    from apps.chat.models import Conversation
    from bench import generate

    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "SELECT slug FROM ads_ad WHERE status = 'active' AND deleted_at IS NULL "
            "ORDER BY random() LIMIT 2000"
        )
        slugs = [row[0] for row in cursor.fetchall()]
    out: dict[str, list[str]] = {name: [] for name in ENDPOINTS}
    out["listing"] = [line("GET", "/api/ads/")] * 6 + [
        line("GET", f"/api/ads/?page={page}") for page in (2, 3, 4, 5)
    ]
    leaves = {leaf.id: leaf for leaf in generate.load_leaves()}
    categories = list(Category.objects.filter(ad_count__gt=0).order_by("-ad_count", "pk")[:40])
    for category in categories:
        leaf = leaves.get(category.pk)
        _, typical, _ = leaf.profile.price if leaf else (1_000, 20_000, 1_000_000)
        out["filtered"].append(
            line(
                "GET",
                f"/api/ads/?category={category.slug}&min_price={int(typical * 0.5)}"
                f"&max_price={int(typical * 2)}&_={{n}}",
            )
        )
    # Cached reads: a hot set (popular ads are viewed over and over). Uncached ones: the long
    # tail with `_={n}` (bench/load/requests.lua puts a request counter there), a query
    # parameter the API ignores and the read cache keys on, so every request misses.
    out["detail"] = [line("GET", f"/api/ads/{slug}/") for slug in slugs[:HOT_ADS]]
    out["detail_uncached"] = [line("GET", f"/api/ads/{slug}/?_={{n}}") for slug in slugs]
    out["categories"] = [line("GET", "/api/categories/")]
    # Searches as users repeat them (popular words: the kept answers of apps/search/
    # result_cache.py, up to SEARCH_RESULT_CACHE_SECONDS old), and the same words each run in
    # full (`_={n}` is part of the answer's key).
    out["search"] = [
        line("GET", f"/api/ads/search/?q={term.replace(' ', '+')}") for term in SEARCH_TERMS
    ]
    out["search_uncached"] = [
        line("GET", f"/api/ads/search/?q={term.replace(' ', '+')}&_={{n}}")
        for term in SEARCH_TERMS
    ]

    user_model = get_user_model()
    live = {"is_active": True, "is_suspended": False}
    fav_user_ids = sorted(
        {
            str(uid)
            for uid in Favorite.objects.filter(
                user__is_active=True, user__is_suspended=False
            ).values_list("user_id", flat=True)[:5000]
        }
    )
    fav_users = user_model.objects.filter(pk__in=pick(rng, fav_user_ids, 200))
    out["favourites"] = [line("GET", "/api/ads/favorites/", access_token(u)) for u in fav_users]

    conversations = list(
        Conversation.objects.filter(
            buyer__is_active=True,
            buyer__is_suspended=False,
            seller__is_suspended=False,
            ad__status="active",
            ad__deleted_at__isnull=True,
        )
        .select_related("buyer", "seller")
        .order_by("pk")[:3000]
    )
    chosen = pick(rng, conversations, 300)
    tokens: dict[Any, str] = {}
    for conversation in chosen:
        sender = conversation.buyer if rng.random() < 0.7 else conversation.seller
        token = tokens.setdefault(sender.pk, access_token(sender))
        out["message"].append(
            line(
                "POST",
                f"/api/messages/{conversation.pk}/",
                token,
                {"body": rng.choice(MESSAGE_BODIES)},
            )
        )

    posters = list(user_model.objects.filter(email_verified=True, **live).order_by("pk")[:2000])
    from apps.locations.models import Location

    towns = list(
        Location.objects.filter(parent__isnull=False).order_by("pk").values_list("pk", flat=True)
    )
    year = datetime.now(UTC).year
    leaf_list = list(leaves.values())
    for user in pick(rng, posters, 200):
        leaf = rng.choice(leaf_list)
        values = generate.attribute_values(rng, leaf, year)
        price = generate.price_for(rng, leaf, values, False, year)
        town = generate.Town(rng.choice(towns), "Nairobi", "Nairobi")
        title = generate.title_for(rng, leaf, values, town, "used")
        if len(title) < 5:
            title = f"{title} for sale"
        body = {
            "title": title,
            "description": f"{title}. Bench posting, clean and as shown.",
            "category": leaf.id,
            "location": town.id,
            "price": str(price),
            "attributes": values,
            "negotiable": True,
        }
        if leaf.goods:
            body["condition"] = "used"
        out["post_ad"].append(line("POST", "/api/ads/", access_token(user), body))
    return out


def capture(request_line: str) -> tuple[int, pgscript.Capture]:
    """Run one request in-process on a cold cache; its status and its SQL."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    method, path, bearer, body = request_line.replace("{n}", "0").split("\t")
    headers: dict[str, Any] = {"HTTP_HOST": "127.0.0.1", "HTTP_ACCEPT": "application/json"}
    if bearer != "-":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    cache.clear()
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        if method == "GET":
            response = client.get(path, **headers)
        else:
            response = client.generic(method, path, body, "application/json", **headers)
    statements = [query["sql"] for query in queries.captured_queries if query["sql"]]
    fresh: dict[str, str] = {}
    if method == "POST" and path == "/api/ads/" and response.status_code == 201:
        data = response.json()
        fresh = {str(data["slug"]): "bench_slug"}
    return response.status_code, pgscript.Capture(statements, fresh)


def app_prepares() -> bool:
    """Whether the app's connections prepare statements (marketplace.settings.base,
    DB_PREPARE_THRESHOLD): the SQL floors then replay the same way."""
    from django.db import connection

    return connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None


def prepare(out: Path, ads: int) -> dict[str, Any]:
    from django.db import connection

    rng = random.Random(SEED + ads)  # noqa: S311  (benchmark sampling)
    state: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "ads": ads}
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM chat_message")
        state["max_message_id"] = int(cursor.fetchone()[0])  # type: ignore[index]
    time.sleep(0.01)
    lines = requests_for(rng)
    requests_dir = out / "requests"
    requests_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in lines.items():
        (requests_dir / f"{name}.tsv").write_text("\n".join(rows) + "\n")
    (out / "ad-slugs.txt").write_text(
        "\n".join(row.split("\t")[1].split("/")[3] for row in lines["detail_uncached"]) + "\n"
    )

    conversation_ids = sorted({row.split("\t")[1].split("/")[3] for row in lines["message"]})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id::text, last_message_id, updated_at, buyer_archived, seller_archived "
            "FROM chat_conversation WHERE id = ANY(%s::uuid[])",
            [conversation_ids],
        )
        state["conversations"] = [
            [cid, last, updated.isoformat(), barch, sarch]
            for cid, last, updated, barch, sarch in cursor.fetchall()
        ]
        cursor.execute("SELECT to_regclass('ads_addailystats') IS NOT NULL")
        has_stats = bool(cursor.fetchone()[0])  # type: ignore[index]
        state["daily_stats"] = []
        if has_stats:
            cursor.execute(
                "SELECT to_jsonb(s) FROM ads_addailystats s WHERE date >= %s",
                [datetime.now(UTC).date() - timedelta(days=1)],
            )
            state["daily_stats"] = [
                json.loads(row[0]) if isinstance(row[0], str) else row[0]
                for row in cursor.fetchall()
            ]
    (out / "state.json").write_text(json.dumps(state))

    captured: dict[str, Any] = {}
    for name in ENDPOINTS:
        rows = lines[name]
        samples = pick(random.Random(SEED), sorted(set(rows)), CAPTURES[name])  # noqa: S311
        results = [capture(row) for row in samples]
        statuses = [status for status, _ in results]
        captures = [cap for status, cap in results if 200 <= status < 300 and cap.statements]
        scripts = pgscript.write_scripts(out / "pgbench" / name, captures) if captures else []
        captured[name] = {
            "statuses": statuses,
            "queries": [len(cap.statements) for _, cap in results],
            "scripts": [str(path) for path in scripts],
            "sample_sql": captures[0].statements if captures else [],
            "app_prepares": app_prepares(),
        }
    (out / "captured.json").write_text(json.dumps(captured, indent=1))
    return captured


def cleanup(out: Path) -> dict[str, int]:
    """Delete what the run added (ads posted, messages sent) and put back the conversations and
    per-day stats the run touched."""
    from django.db import connection, transaction

    from apps.ads.models import Ad

    state = json.loads((out / "state.json").read_text())
    started = datetime.fromisoformat(state["started"])
    done: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            for cid, last, updated, barch, sarch in state["conversations"]:
                cursor.execute(
                    "UPDATE chat_conversation SET last_message_id = %s, updated_at = %s, "
                    "buyer_archived = %s, seller_archived = %s WHERE id = %s",
                    [last, updated, barch, sarch, cid],
                )
            cursor.execute("DELETE FROM chat_message WHERE id > %s", [state["max_message_id"]])
            done["messages"] = cursor.rowcount
            cursor.execute("SELECT to_regclass('ads_addailystats') IS NOT NULL")
            if cursor.fetchone()[0]:  # type: ignore[index]
                since = datetime.now(UTC).date() - timedelta(days=1)
                cursor.execute("DELETE FROM ads_addailystats WHERE date >= %s", [since])
                for row in state["daily_stats"]:
                    row = json.loads(row) if isinstance(row, str) else row
                    columns = list(row)
                    cursor.execute(
                        "INSERT INTO ads_addailystats ({}) SELECT {} FROM "  # noqa: S608
                        "jsonb_populate_record(NULL::ads_addailystats, %s::jsonb)".format(
                            ", ".join(f'"{c}"' for c in columns),
                            ", ".join(f'"{c}"' for c in columns),
                        ),
                        [json.dumps(row)],
                    )
        deleted, _ = Ad._base_manager.filter(created_at__gte=started).delete()
        done["ads and their rows"] = deleted
    return done


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("prepare", "cleanup"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ads", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.bench")
    import django

    django.setup()
    if args.command == "prepare":
        result: Any = prepare(args.out, args.ads)
        print(
            json.dumps(
                {
                    name: {"statuses": value["statuses"], "queries": value["queries"]}
                    for name, value in result.items()
                }
            )
        )
    else:
        print(json.dumps(cleanup(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
