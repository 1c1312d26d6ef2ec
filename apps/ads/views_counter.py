"""Ad views without a row lock per view: deduplicated in Redis, written in batches.

A view counts once per viewer (user id, or IP when anonymous) per ad per UTC day and never for
the owner. Counted views wait in one Redis hash, keyed `<ad id>:<YYYYMMDD>` (the UTC day of the
view); a beat task folds them every few seconds (API.md allows 5 s of lag) into
`Ad.views_count` and the day's `AdDailyStats.views` with one statement.

After its commit the flush publishes each counted ad's new total in Redis (`total_key`). The
cached anonymous detail is not retired by a flush (apps.common.cache): a hit reads the total
with the entry and serves a body carrying an older count with the total patched in. A hit
answered from the cache records its view inside the lookup's script (`record_step`), counted
only when the entry is fresh; a miss is counted by the view (`record_view`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from redis.exceptions import RedisError

from apps.common import cache
from apps.common.redis import cache_key, get_redis, run_script

logger = logging.getLogger(__name__)
PENDING_KEY = "ad-views:pending"

# A counted ad's total as of the last flush, for cached details (see the module docstring).
# It must outlive any detail entry (AdDetailView.read_cache_timeout, 300 s): a total that is
# gone means no flush counted the ad for TOTAL_TTL seconds, so every live entry was rendered
# after the last flush and carries the current count.
TOTAL_TTL = 3600

# One statement per flush: sum per ad into ads_ad, upsert each (ad, day) into the daily stats
# of the ads that still exist (those the UPDATE returned), adding to what is there, and return
# the counted ads' new totals.
_FLUSH = """
    WITH batch AS (
        SELECT * FROM unnest(%s::uuid[], %s::date[], %s::int[]) AS b(id, day, n)
    ), counted AS (
        UPDATE ads_ad SET views_count = ads_ad.views_count + per_ad.n
        FROM (SELECT id, sum(n) AS n FROM batch GROUP BY id) AS per_ad
        WHERE ads_ad.id = per_ad.id
        RETURNING ads_ad.id, ads_ad.views_count
    ), stats AS (
        INSERT INTO ads_addailystats (ad_id, date, views, phone_reveals, favorites, messages)
        SELECT batch.id, batch.day, batch.n, 0, 0, 0 FROM batch JOIN counted USING (id)
        ON CONFLICT (ad_id, date) DO UPDATE SET views = ads_addailystats.views + excluded.views
    )
    SELECT id, views_count FROM counted
"""


# One round trip per view: remember the viewer for the day, and queue the view if it is new.
RECORD_SCRIPT = """
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if added == 1 then redis.call('HINCRBY', KEYS[2], ARGV[2], 1) end
return added
"""


def total_key(ad_id: object) -> str:
    return cache_key("ad-views", "total", ad_id)


def record_step(*, ad_id: object, viewer: str) -> cache.OnFresh:
    """RECORD_SCRIPT with its keys and arguments for this view (today's UTC day)."""
    day = datetime.now(UTC).strftime("%Y%m%d")
    return cache.OnFresh(
        script=RECORD_SCRIPT,
        keys=(cache_key("ad-views", day, ad_id), cache_key(PENDING_KEY)),
        args=(viewer, f"{ad_id}:{day}", 2 * 86400),
    )


def record_view(*, ad_id: object, viewer: str) -> bool:
    step = record_step(ad_id=ad_id, viewer=viewer)
    try:
        added = run_script(get_redis(), step.script, list(step.keys), list(step.args))
        return bool(added)
    except RedisError:
        logger.warning("view of ad %s not counted: Redis unavailable", ad_id)
        return False


def parse_pending(fields: dict[bytes, bytes]) -> dict[tuple[str, date], int]:
    """{(ad id, UTC day): views}. A field without a day (written before days were kept)
    counts for today."""
    today = datetime.now(UTC).date()
    counts: dict[tuple[str, date], int] = defaultdict(int)
    for field, value in fields.items():
        ad_id, _, raw_day = field.decode().partition(":")
        try:
            day = date.fromisoformat(raw_day) if raw_day else today
        except ValueError:
            day = today
        counts[(ad_id, day)] += int(value)
    return counts


def flush_view_counts() -> int:
    """Move pending counts into PostgreSQL; returns how many ads changed."""
    redis = get_redis()
    pending, batch = cache_key(PENDING_KEY), cache_key(PENDING_KEY, "flushing")
    lock = cache_key(PENDING_KEY, "lock")
    try:
        # One flush at a time: two flushes reading the same batch would count it twice.
        if not redis.set(lock, "1", nx=True, ex=60):
            return 0
    except RedisError:
        logger.warning("view counts not flushed: Redis unavailable")
        return 0
    try:
        return _flush_batch(redis, pending, batch)
    finally:
        redis.delete(lock)


def _flush_batch(redis: Any, pending: str, batch: str) -> int:
    try:
        if not redis.exists(batch):
            if not redis.exists(pending):
                return 0
            redis.rename(pending, batch)
        counts = parse_pending(redis.hgetall(batch))
    except RedisError:
        logger.warning("view counts not flushed: Redis unavailable")
        return 0
    if counts:
        keys = sorted(counts)  # a steady order of row locks across flushes
        with connection.cursor() as cursor:
            cursor.execute(
                _FLUSH,
                [
                    [ad_id for ad_id, _ in keys],
                    [day for _, day in keys],
                    [counts[key] for key in keys],
                ],
            )
            totals = {str(ad_id): int(total) for ad_id, total in cursor.fetchall()}
        # The watcher ignores views_count. The listing pages show the counts and live 2 s:
        # retired here. The ads' details stay cached: they get the totals published below.
        cache.written(connection, [cache.ADS_LIST])
        # After the commit only (at once in autocommit, as the beat task runs): a total
        # published from a transaction that then rolled back would show views never counted.
        connection.on_commit(lambda: publish_totals(totals))
    redis.delete(batch)
    return len({ad_id for ad_id, _ in counts})


def publish_totals(totals: dict[str, int]) -> None:
    """Each counted ad's total, written after the flush committed it (one pipeline).

    Why a cached detail is never more than one flush behind: a hit serves the larger of the
    count in the entry and the published total (views_count only grows; a hit never lowers a
    count, apps.ads.api.views.AdDetailView). The entry's count was read from the row when it
    was rendered: it is at least the total of the last flush committed before that read, and
    the published total is at least that of the last flush whose publishing ended (flushes
    run one at a time under their lock, and each publishes before releasing it, so totals are
    written in flush order). A render that read the row before flush F committed shows the
    pre-F count only until F publishes, a few milliseconds after its commit; one that read it
    after F committed but before F published carries F's count, larger than the published
    one, so it is served as rendered. Either way a hit is behind the database by at most the
    flush that is between its commit and its publishing. If publishing fails (Redis away) the
    next flush that counts the ad publishes again; the entry expires after 300 s anyway."""
    if not totals:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for ad_id, total in totals.items():
            pipe.set(total_key(ad_id), total, ex=TOTAL_TTL)
        pipe.execute()
    except RedisError:
        logger.warning("view totals not published: Redis unavailable")
