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
from the view counter's flush (every 3 s), which bumps the listing pages (they live 2 s) but
retires no ad detail: it publishes each counted ad's new total in Redis instead, read with the
detail entry (`lookup(..., also=...)`), and a hit whose body carries an older count is served
with the new one patched in (`replace`; apps.ads.api.views.AdDetailView). A detail entry thus
lives its full timeout (300 s) while its ad is viewed, and is rebuilt only when something else
it shows changes.

Granularity: a statement that writes one ad by id (`save()`, `.filter(pk=...).update()`)
bumps the listing pages (ADS_LIST) and that ad's own namespace only, so one ad's edit leaves
the cached details of the others alone; broader writes bump ADS, which every entry carries.

Only anonymous representations are cached (no `is_favorited`, no `moderation_reason`, no
block filtering): signed-in callers are served from the database (with an ETag). Anonymous
hits are answered before DRF runs, in one Redis round trip (one Lua script: the anonymous
throttle's step, the generations, the entry, the keys read along with it, and a step run only
when the entry is fresh, such as counting an ad's view; apps.common.read_cache_views).
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

from apps.common.redis import cache_key, get_redis, run_script

logger = logging.getLogger(__name__)

ADS, CATEGORIES, LOCATIONS = "ads", "categories", "locations"
# Finer than ADS: listing pages (any change to an ad may move it in or out of a page) and one
# ad's detail. A statement that writes one ad by id bumps only these two; anything broader
# (several ads, photos, a seller, a promotion, a category) bumps ADS, which every ad entry
# carries too.
ADS_LIST = "ads-list"


# How long a per-ad generation key outlives its last bump, and a floor its remaining life is
# topped up to by each lookup (`_LOOKUP_SCRIPT`): an entry stored under a per-ad generation
# must expire before that key can, else a counter restarting at 0 could come back to the
# entry's number with the entry still there. So every entry's timeout (the ad detail's is
# 300 s) must stay below PER_AD_GENERATION_KEEP (the lookup that precedes a store has just
# made sure the key lives at least that long), itself below PER_AD_GENERATION_TTL.
PER_AD_GENERATION_TTL = 3600
PER_AD_GENERATION_KEEP = 1800
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
    # views_count: the view counter's flush bumps the listing pages itself and publishes the
    # new totals, patched into cached details on their next hit (no detail is retired).
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
    extra: str  # view-specific (the ad detail keeps the ad's id and where its views count is)
    body: bytes
    gzipped: bytes | None = None  # the body gzip-compressed once, for clients that take it


@dataclass(frozen=True)
class OnFresh:
    """A Lua step the lookup runs in Redis, in its own script, only when the entry is fresh
    (stored under the current generations) and the throttle let the request through: the ad
    detail records the view there. `script` is a chunk reading its own KEYS and ARGV."""

    script: str
    keys: tuple[str, ...]
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Lookup:
    """One read of the cache: where the body lives, the generation it must carry to be fresh,
    and the fresh entry if there is one. A miss stores the body it builds with `remember`.
    `also`: the values of the keys read along with the entry (None where absent)."""

    key: str
    generation: str
    entry: Entry | None
    timeout: int | None = None
    throttle_wait: float = 0.0
    also: tuple[bytes | None, ...] = ()
    # On a miss looked up with `claim_ms`: False when another request is building this entry
    # (read_cache_views waits for it instead of building the same body again).
    claimed: bool = True


def _gen_value(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else "0"


def _parse_entry(raw: Any, generation: str) -> Entry | None:
    """`<generation>\n<etag>\n<extra>\n<body length>\n<body><gzipped body>`; None unless
    stored under `generation` in this format (an entry another release stored, or a damaged
    one, is a miss: rebuilt and stored over)."""
    if not isinstance(raw, bytes):
        return None
    stored, _, rest = raw.partition(b"\n")
    if stored != generation.encode():
        return None
    etag, _, rest = rest.partition(b"\n")
    extra, _, rest = rest.partition(b"\n")
    length, _, rest = rest.partition(b"\n")
    if not length.isdigit() or int(length) > len(rest):
        return None
    size = int(length)
    return Entry(
        etag=etag.decode(), extra=extra.decode(), body=rest[:size], gzipped=rest[size:] or None
    )


# KEYS: [throttle key], generation keys, entry key, keys read along, the fresh step's keys,
# [the build claim's key].
# ARGV: counts of generation keys, keys read along and fresh-step keys; throttle on (1/0), its
# interval and period (ms); the per-ad generation floor and TTL; the build claim's life in ms
# (0: no claim); then the fresh step's ARGV.
# Returns {wait} when the throttle refuses, else {0, generations..., fresh entry or nil,
# also..., [1 = this miss builds the entry / 0 = another request is building it]}.
_LOOKUP_SCRIPT = """
local gcra = function(KEYS, ARGV)
%(gcra)s
end
local on_fresh = function(KEYS, ARGV)
%(on_fresh)s
end
local n_gens, n_also, n_fresh = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local k = 1
if ARGV[4] == '1' then
  local wait = tonumber(gcra({KEYS[1]}, {ARGV[5], ARGV[6]}))
  if wait >= 1 then return {wait} end
  k = 2
end
local keep, ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local out, parts = {0}, {}
for i = k, k + n_gens - 1 do
  local value = redis.call('GET', KEYS[i])
  out[#out + 1] = value
  parts[#parts + 1] = value or '0'
  -- Only per-ad generations have a TTL (-1: none, -2: no key): kept above the floor.
  local left = redis.call('TTL', KEYS[i])
  if left >= 0 and left < keep then redis.call('EXPIRE', KEYS[i], ttl) end
end
local generation = table.concat(parts, '.')
local head = generation .. '\\n'
local entry = redis.call('GET', KEYS[k + n_gens])
local fresh = entry and string.sub(entry, 1, #head) == head
out[#out + 1] = fresh and entry or false
local first = k + n_gens + 1
for i = first, first + n_also - 1 do out[#out + 1] = redis.call('GET', KEYS[i]) end
-- A miss claims the build of this generation's entry (its claim key is the last key) unless
-- another request holds that claim: 1 = build it, 0 = someone else is building it, 2 = the
-- build stored nothing (an error answer): build it without waiting.
local claim_ms = tonumber(ARGV[9])
if not fresh and claim_ms > 0 then
  local claim = KEYS[#KEYS]
  local held = redis.call('GET', claim)
  if held == generation then
    out[#out + 1] = 0
  elseif held == generation .. '!' then
    out[#out + 1] = 2
  else
    redis.call('SET', claim, generation, 'PX', claim_ms)
    out[#out + 1] = 1
  end
end
if fresh and n_fresh > 0 then
  local fresh_keys, fresh_args = {}, {}
  for i = first + n_also, first + n_also + n_fresh - 1 do fresh_keys[#fresh_keys + 1] = KEYS[i] end
  for i = 10, #ARGV do fresh_args[#fresh_args + 1] = ARGV[i] end
  on_fresh(fresh_keys, fresh_args)
end
return out
"""
_scripts: dict[str, str] = {}


def _lookup_script(on_fresh: str) -> str:
    """The lookup script with this fresh step (a few distinct ones at most)."""
    if on_fresh not in _scripts:
        from apps.common.throttles import GCRA_SCRIPT

        _scripts[on_fresh] = _LOOKUP_SCRIPT % {
            "gcra": GCRA_SCRIPT,
            "on_fresh": on_fresh or "return 0",
        }
    return _scripts[on_fresh]


def lookup(
    request: Any,
    *,
    kind: str,
    namespaces: tuple[str, ...],
    timeout: int | None = None,
    throttle: tuple[str, float, float] | None = None,
    also: tuple[str, ...] = (),
    on_fresh: OnFresh | None = None,
    claim_ms: int = 0,
) -> Lookup | None:
    """The namespaces' generations, the entry for this request and the values of the `also`
    keys in one Redis round trip (one script), with the anonymous throttle's GCRA step first
    when `throttle` is given (its wait comes back in `throttle_wait`, and then nothing else is
    read) and `on_fresh` run last when the entry is fresh. With `claim_ms`, a miss claims the
    entry's build for that long unless another request holds the claim for the same generation
    (`Lookup.claimed`). None when the cache is off or Redis is away."""
    if not enabled():
        return None
    digest = hashlib.blake2b(request_identity(request).encode(), digest_size=12).hexdigest()
    key = cache_key("rc", kind, digest)
    script = _lookup_script(on_fresh.script if on_fresh is not None else "")
    fresh_keys, fresh_args = (on_fresh.keys, on_fresh.args) if on_fresh is not None else ((), ())
    keys = [
        *([throttle[0]] if throttle is not None else []),
        *(_gen_key(name) for name in namespaces),
        key,
        *also,
        *fresh_keys,
        *([_claim_key(key)] if claim_ms else []),
    ]
    args = [
        len(namespaces),
        len(also),
        len(fresh_keys),
        1 if throttle is not None else 0,
        throttle[1] if throttle is not None else 0,
        throttle[2] if throttle is not None else 0,
        PER_AD_GENERATION_KEEP,
        PER_AD_GENERATION_TTL,
        claim_ms,
        *fresh_args,
    ]
    try:
        results = run_script(get_redis(), script, keys, args)
    except Exception:
        _log_unavailable()
        return None
    wait, *rest = results
    if wait:
        return Lookup(
            key=key, generation="", entry=None, timeout=timeout, throttle_wait=wait / 1000
        )
    gens, raw = rest[: len(namespaces)], rest[len(namespaces)]
    values = rest[len(namespaces) + 1 : len(namespaces) + 1 + len(also)]
    claimed = rest[len(namespaces) + 1 + len(also) :]
    generation = ".".join(_gen_value(value) for value in gens)
    return Lookup(
        key=key,
        generation=generation,
        entry=_parse_entry(raw, generation),
        timeout=timeout,
        also=tuple(values),
        claimed=not claimed or bool(claimed[0]),
    )


def _claim_key(entry_key: str) -> str:
    """Where the build of an entry is claimed (beside the entries, not among them)."""
    return entry_key.replace(":rc:", ":rc-claim:", 1)


def build_failed(found: Lookup) -> None:
    """The miss that claimed `found`'s build answered without storing a body (a 404, a 400):
    the requests waiting for it build their own answers at once."""
    if not found.claimed:
        return
    try:
        get_redis().set(_claim_key(found.key), found.generation + "!", px=1000)
    except Exception:
        _log_unavailable()


def _stored(generation: str, body: bytes, extra: str) -> tuple[str, bytes]:
    """(ETag, stored value) of a body: see `_parse_entry`."""
    from apps.common.etag import etag_of

    etag = etag_of(body)
    # Compressed once here rather than by nginx on every hit (a 20-ad page is ~36 KB of JSON,
    # ~6 KB gzipped); below nginx's gzip_min_length it is not worth it.
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_LENGTH else b""
    return etag, f"{generation}\n{etag}\n{extra}\n{len(body)}\n".encode() + body + gzipped


def remember(found: Lookup, body: bytes, *, extra: str = "") -> str:
    """Store a body built on a miss under the generation read before building it (a write
    that committed meanwhile has moved the generation on, so this entry is never served).
    Returns the body's ETag."""
    etag, value = _stored(found.generation, body, extra)
    try:
        get_redis().set(found.key, value, ex=found.timeout or ttl())
    except Exception:
        _log_unavailable()
    return etag


# Replace the entry only if it is still the one that was read (same generation and ETag), so a
# patch never overwrites a newer patch or an entry rebuilt meanwhile; keep its expiry.
_REPLACE_SCRIPT = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, #ARGV[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""


def replace(found: Lookup, entry: Entry, body: bytes) -> Entry:
    """The fresh `entry` of `found` with another body (the ad detail patching in a newer views
    count): new ETag and gzip copy, stored in place of the entry for the next hits, with the
    entry's expiry kept. Returns the new entry, served even if Redis is away."""
    _, value = _stored(found.generation, body, entry.extra)
    try:
        run_script(
            get_redis(),
            _REPLACE_SCRIPT,
            [found.key],
            [f"{found.generation}\n{entry.etag}\n", value],
        )
    except Exception:
        _log_unavailable()
    return _parse_entry(value, found.generation) or entry


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
