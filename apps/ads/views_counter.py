"""Ad views without a row lock per view: deduplicated in Redis, written in batches.

A view counts once per viewer (user id, or IP when anonymous) per ad per UTC day and never for
the owner. Counted views wait in one Redis hash, keyed `<ad id>:<YYYYMMDD>` (the UTC day of the
view); a beat task folds them every few seconds (API.md allows 5 s of lag) into
`Ad.views_count` and the day's `AdDailyStats.views` with one statement.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from redis.exceptions import RedisError

from apps.common import cache
from apps.common.redis import cache_key, get_redis

logger = logging.getLogger(__name__)
PENDING_KEY = "ad-views:pending"

# One statement per flush: sum per ad into ads_ad, and upsert each (ad, day) into the daily
# stats of the ads that still exist (those the UPDATE returned), adding to what is there.
_FLUSH = """
    WITH batch AS (
        SELECT * FROM unnest(%s::uuid[], %s::date[], %s::int[]) AS b(id, day, n)
    ), counted AS (
        UPDATE ads_ad SET views_count = ads_ad.views_count + per_ad.n
        FROM (SELECT id, sum(n) AS n FROM batch GROUP BY id) AS per_ad
        WHERE ads_ad.id = per_ad.id
        RETURNING ads_ad.id
    )
    INSERT INTO ads_addailystats (ad_id, date, views, phone_reveals, favorites, messages)
    SELECT batch.id, batch.day, batch.n, 0, 0, 0 FROM batch JOIN counted USING (id)
    ON CONFLICT (ad_id, date) DO UPDATE SET views = ads_addailystats.views + excluded.views
"""


# One round trip per view: remember the viewer for the day, and queue the view if it is new.
RECORD_SCRIPT = """
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if added == 1 then redis.call('HINCRBY', KEYS[2], ARGV[2], 1) end
return added
"""


def record_view(*, ad_id: object, viewer: str) -> bool:
    day = datetime.now(UTC).strftime("%Y%m%d")
    seen_key = cache_key("ad-views", day, ad_id)
    try:
        added = get_redis().eval(
            RECORD_SCRIPT,
            2,
            seen_key,
            cache_key(PENDING_KEY),
            viewer,
            f"{ad_id}:{day}",
            2 * 86400,
        )
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
            # The watcher ignores views_count; the counted ads' details and the listing pages
            # (which show the counts too) are retired here, and no other ad's.
            cache.written(
                connection, [cache.ADS_LIST, *(cache.ad_namespace(ad_id) for ad_id, _ in keys)]
            )
    redis.delete(batch)
    return len({ad_id for ad_id, _ in counts})
