"""Versioned read cache for the public catalogue (ad listings, ad detail, category and location
trees): rendered JSON bodies in Redis, each stored with the generation numbers of its namespaces.

Invalidation is by generation, bumped on every write that can change what these responses
show, so the next read misses and rebuilds (API.md section 1, "Freshness": edits, sales,
status changes, blocks and derived counts show at once, cached pages included).

Writes are seen at the SQL level, not through model signals: a database execution wrapper
(installed on every connection, `install()`) looks at each INSERT/UPDATE/DELETE and, when it
touches a watched table, bumps the namespaces that table feeds, once right after the statement
and again when the transaction commits. So `.update()`, raw SQL, bulk writes and writes made
by any app (moderation hiding an ad, a suspension hiding a seller's ads, a payment promoting
one, a category move) all invalidate without the writers knowing about the cache. The bump
after the statement makes a read inside the same transaction (and tests) miss; the bump on
commit discards whatever a concurrent reader cached from the pre-commit state (readers take
the generation before they query).

Ignored on purpose: columns no cached response shows (`last_login`, `password`,
`phone_reveals_count`, `expiry_warned_at`...) and the INSERT of an ad that is not active (a
posted ad is pending until moderation's UPDATE publishes it). `views_count` arrives in batches
from the view counter's flush (every 3 s), which bumps the listing pages and the details of
the ads it counted.

Granularity: a statement that writes one ad by id (`save()`, `.filter(pk=...).update()`)
bumps the listing pages (ADS_LIST) and that ad's own namespace only, so one ad's edit leaves
the cached details of the others alone; broader writes bump ADS, which every entry carries.

Only anonymous representations are cached (no `is_favorited`, no `moderation_reason`, no
block filtering): signed-in callers are served from the database (with an ETag). Anonymous
hits are answered before DRF runs, in one Redis round trip with the anonymous throttle
(apps.common.read_cache_views).
Redis unavailable: reads and bumps fail open to "no cache" (logged) like the rest of the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from apps.common.redis import cache_key, get_redis

logger = logging.getLogger(__name__)

ADS, CATEGORIES, LOCATIONS = "ads", "categories", "locations"
# Finer than ADS: listing pages (any change to an ad may move it in or out of a page) and one
# ad's detail. A statement that writes one ad by id bumps only these two; anything broader
# (several ads, photos, a seller, a promotion, a category) bumps ADS, which every ad entry
# carries too.
ADS_LIST = "ads-list"


PER_AD_GENERATION_TTL = 3600
GZIP_MIN_LENGTH = 1024  # deploy/nginx.conf gzip_min_length


def ad_namespace(ad_id: object) -> str:
    return f"ad:{ad_id}"


# table -> namespaces whose cached responses show its rows
WATCHED: dict[str, tuple[str, ...]] = {
    "ads_ad": (ADS,),
    "ads_adimage": (ADS,),
    "users_user": (ADS,),  # the seller's public profile inside every ad
    "payments_promotion": (ADS,),
    "categories_category": (ADS, CATEGORIES),  # names in ads; the tree with its ad_count
    "locations_location": (ADS, LOCATIONS),
}
# UPDATEs that only set these columns leave every cached response as it was.
IGNORED_COLUMNS: dict[str, frozenset[str]] = {
    # views_count: the view counter's flush bumps the ads it counted itself (ad_namespace).
    "ads_ad": frozenset({"phone_reveals_count", "expiry_warned_at", "views_count"}),
    "users_user": frozenset(
        {"last_login", "password", "email", "phone", "is_staff", "is_superuser", "is_active"}
    ),
}
# A new user has no ads yet: creating one changes no cached response.
IGNORED_INSERTS = frozenset({"users_user"})
# An ad is created as a draft or pending (posting, then moderation's UPDATE makes it active):
# invisible to anonymous callers, so only an INSERT carrying the value 'active' invalidates.
INSERTS_SEEN_ONLY_WITH = {"ads_ad": "active"}

# Django's save() and .filter(pk=...).update() of one ad end so; the id is the last parameter.
_ONE_AD = re.compile(r'\bWHERE\s+"ads_ad"\."id"\s*=\s*%s\s*$', re.IGNORECASE)
_STATEMENT = re.compile(r'\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_SET_CLAUSE = re.compile(
    r"\bSET\b(.*?)(?:\bFROM\b|\bWHERE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL
)
_SET_COLUMN = re.compile(r'(?:^|,)\s*"?(\w+)"?\s*=')


def enabled() -> bool:
    return bool(getattr(settings, "READ_CACHE_ENABLED", True))


def ttl() -> int:
    return int(getattr(settings, "READ_CACHE_TTL", 2))


def _gen_key(namespace: str) -> str:
    return cache_key("rc", "gen", namespace)


# --- seeing writes ----------------------------------------------------------------------------


def namespaces_written(sql: str, params: Any = None) -> set[str]:
    """The namespaces a statement invalidates (empty for reads and unwatched tables)."""
    if not sql.lstrip()[:6].upper().startswith(("UPDATE", "INSERT", "DELETE", "WITH")):
        return set()
    found: set[str] = set()
    for match in _STATEMENT.finditer(sql):
        verb, table = match.group(1).upper(), match.group(2).lower()
        spaces = WATCHED.get(table)
        if not spaces:
            continue
        if verb.startswith("INSERT") and table in IGNORED_INSERTS:
            continue
        if (
            verb.startswith("INSERT")
            and table in INSERTS_SEEN_ONLY_WITH
            and not _carries(params, INSERTS_SEEN_ONLY_WITH[table])
        ):
            continue
        if verb == "UPDATE" and table in IGNORED_COLUMNS:
            clause = _SET_CLAUSE.search(sql, match.end())
            columns = set(_SET_COLUMN.findall(clause.group(1))) if clause else set()
            if columns and columns <= IGNORED_COLUMNS[table]:
                continue
        if (
            verb == "UPDATE"
            and table == "ads_ad"
            and isinstance(params, (list, tuple))
            and params
            and _ONE_AD.search(sql)
        ):
            found.update((ADS_LIST, ad_namespace(params[-1])))
            continue
        found.update(spaces)
    return found


def _carries(params: Any, value: str) -> bool:
    """Whether the statement's parameters hold `value` (one row, or executemany's rows)."""
    if isinstance(params, dict):
        params = list(params.values())
    if not isinstance(params, (list, tuple)):
        return True  # unknown shape: assume it does
    return any(
        _carries(item, value) if isinstance(item, (list, tuple)) else item == value
        for item in params
    )


def bump(namespaces: Iterable[str]) -> None:
    names = sorted(set(namespaces))
    if not names:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for name in names:
            pipe.incr(_gen_key(name))
            if name.startswith("ad:"):
                # One key per ad written: let it go long after every entry made under it has
                # expired (a counter that restarts at 0 then matches no live entry).
                pipe.expire(_gen_key(name), PER_AD_GENERATION_TTL)
        pipe.execute()
    except Exception:  # Redis away: nothing cached can be served either
        logger.warning("read cache: generation bump failed", exc_info=True)


def _watch(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    result = execute(sql, params, many, context)
    spaces = namespaces_written(sql, params) if isinstance(sql, str) else set()
    if spaces:
        written(context["connection"], spaces)
    return result


def written(connection: BaseDatabaseWrapper, spaces: Iterable[str]) -> None:
    """Bump now and, inside a transaction, again when it commits (what the watcher does for
    each statement; for writers that bump finer namespaces themselves)."""
    spaces = set(spaces)
    bump(spaces)
    if connection.in_atomic_block:
        _bump_on_commit(connection, spaces)


def _bump_on_commit(connection: BaseDatabaseWrapper, spaces: set[str]) -> None:
    """One commit hook per transaction, however many watched statements it runs. The hook is
    looked up in the connection's pending callbacks, so after a rollback (which drops them) the
    next transaction registers its own."""
    registered = getattr(connection, "_read_cache_hook", None)
    if registered is not None and any(
        entry[1] is registered[0] for entry in connection.run_on_commit
    ):
        registered[1].update(spaces)
        return
    pending = set(spaces)

    def on_commit() -> None:
        bump(pending)

    connection._read_cache_hook = (on_commit, pending)  # type: ignore[attr-defined]
    transaction.on_commit(on_commit, using=connection.alias)


def _install_on(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def install() -> None:
    """Watch every connection (called from an AppConfig.ready, before any query)."""
    connection_created.connect(_install_on, dispatch_uid="read-cache-watch")
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        _install_on(connection)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A cached body with what was computed when it was stored."""

    etag: str
    extra: str  # view-specific (the ad detail keeps the ad's id, to count the view)
    body: bytes
    gzipped: bytes | None = None  # the body gzip-compressed once, for clients that take it


@dataclass(frozen=True)
class Lookup:
    """One read of the cache: where the body lives, the generation it must carry to be fresh,
    and the fresh entry if there is one. A miss stores the body it builds with `remember`."""

    key: str
    generation: str
    entry: Entry | None
    timeout: int | None = None
    throttle_wait: float = 0.0


def _gen_value(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else "0"


def _parse_entry(raw: Any, generation: str) -> Entry | None:
    """`<generation>\n<etag>\n<extra>\n<body length>\n<body><gzipped body>`; None unless
    stored under `generation`."""
    if not isinstance(raw, bytes):
        return None
    stored, _, rest = raw.partition(b"\n")
    if stored.decode() != generation:
        return None
    etag, _, rest = rest.partition(b"\n")
    extra, _, rest = rest.partition(b"\n")
    length, _, rest = rest.partition(b"\n")
    size = int(length)
    return Entry(
        etag=etag.decode(), extra=extra.decode(), body=rest[:size], gzipped=rest[size:] or None
    )


def lookup(
    request: Any,
    *,
    kind: str,
    namespaces: tuple[str, ...],
    timeout: int | None = None,
    throttle: tuple[str, float, float] | None = None,
) -> Lookup | None:
    """The namespaces' generations and the entry for this request in one Redis round trip
    (with the anonymous throttle's GCRA step in the same pipeline when `throttle` is given:
    its wait comes back in `throttle_wait`). None when the cache is off or Redis is away."""
    if not enabled():
        return None
    key = cache_key(
        "rc", kind, hashlib.blake2b(request_identity(request).encode(), digest_size=12).hexdigest()
    )
    try:
        pipe = get_redis().pipeline(transaction=False)
        if throttle is not None:
            from apps.common.throttles import GCRA_SCRIPT

            pipe.eval(GCRA_SCRIPT, 1, throttle[0], throttle[1], throttle[2])
        pipe.mget([*(_gen_key(name) for name in namespaces), key])
        results = pipe.execute()
    except Exception:
        _log_unavailable()
        return None
    wait = float(results[0]) / 1000 if throttle is not None else 0.0
    *gens, raw = results[-1]
    generation = ".".join(_gen_value(value) for value in gens)
    return Lookup(
        key=key,
        generation=generation,
        entry=_parse_entry(raw, generation),
        timeout=timeout,
        throttle_wait=wait,
    )


def remember(found: Lookup, body: bytes, *, extra: str = "") -> str:
    """Store a body built on a miss under the generation read before building it (a write
    that committed meanwhile has moved the generation on, so this entry is never served).
    Returns the body's ETag."""
    from apps.common.etag import etag_of

    etag = etag_of(body)
    # Compressed once here rather than by nginx on every hit (a 20-ad page is ~36 KB of JSON,
    # ~6 KB gzipped); below nginx's gzip_min_length it is not worth it.
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_LENGTH else b""
    value = f"{found.generation}\n{etag}\n{extra}\n{len(body)}\n".encode() + body + gzipped
    try:
        get_redis().set(found.key, value, ex=found.timeout or ttl())
    except Exception:
        _log_unavailable()
    return etag


_last_outage_log = 0.0


def _log_unavailable() -> None:
    """Once a minute with the traceback while Redis is away, not once per request."""
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log >= 60:
        _last_outage_log = now
        logger.warning("read cache unavailable: serving from the database", exc_info=True)


def generations(*namespaces: str) -> str | None:
    """The current generations joined ("3.17"), or None when the cache is off or away."""
    if not enabled():
        return None
    try:
        values = get_redis().mget([_gen_key(name) for name in namespaces])
    except Exception:
        _log_unavailable()
        return None
    return ".".join(_gen_value(value) for value in values)


def request_identity(request: Any, *extra: str) -> str:
    """What a cached body depends on besides the data: the origin (links and media URLs are
    absolute) and the normalised query string."""
    query = "&".join(
        f"{name}={value}" for name, values in sorted(request.GET.lists()) for value in values
    )
    return "|".join([request.scheme, request.get_host(), request.path, query, *extra])


def lookup_made_for(request: Any) -> Lookup | None:
    """The lookup the anonymous fast path (apps.common.read_cache_views) made before the view
    ran: a miss that the view fills. None for signed-in callers, or with the cache off/away."""
    return getattr(getattr(request, "_request", request), "read_cache", None)


def shared_response(
    request: Any,
    *,
    kind: str,
    namespaces: tuple[str, ...],
    build: Callable[[], Any],
    timeout: int | None = None,
) -> Any:
    """A response that is the same for every caller (trees): from the cache when the
    namespaces' generations still match, else built, stored and answered; ETag/304 either way."""
    from apps.common.etag import json_response, render_json

    found = lookup_made_for(request) or lookup(
        request, kind=kind, namespaces=namespaces, timeout=timeout
    )
    if found is not None and found.entry is not None:
        return json_response(request, found.entry.body, etag=found.entry.etag)
    body = render_json(build())
    etag = remember(found, body) if found is not None else None
    return json_response(request, body, etag=etag)
