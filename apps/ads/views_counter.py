"""Ad views without a row lock per view: deduplicated in Redis, written in batches.

A view counts once per viewer (user id, or IP when anonymous) per ad per UTC day and never for
the owner. Counted views wait in one Redis hash; a beat task folds them into
`Ad.views_count` every few seconds (API.md allows 5 s of lag) with one UPDATE.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import connection
from redis.exceptions import RedisError

from apps.common.redis import cache_key, get_redis

logger = logging.getLogger(__name__)
PENDING_KEY = "ad-views:pending"


def record_view(*, ad_id: object, viewer: str) -> bool:
    day = datetime.now(UTC).strftime("%Y%m%d")
    seen_key = cache_key("ad-views", day, ad_id)
    try:
        redis = get_redis()
        pipe = redis.pipeline()
        pipe.sadd(seen_key, viewer)
        pipe.expire(seen_key, 2 * 86400)
        added, _ = pipe.execute()
        if added:
            redis.hincrby(cache_key(PENDING_KEY), str(ad_id), 1)
        return bool(added)
    except RedisError:
        logger.warning("view of ad %s not counted: Redis unavailable", ad_id)
        return False


def flush_view_counts() -> int:
    """Move pending counts into PostgreSQL; returns how many ads changed."""
    redis = get_redis()
    pending, batch = cache_key(PENDING_KEY), cache_key(PENDING_KEY, "flushing")
    try:
        if not redis.exists(batch):
            if not redis.exists(pending):
                return 0
            redis.rename(pending, batch)
        counts = {key.decode(): int(value) for key, value in redis.hgetall(batch).items()}
    except RedisError:
        logger.warning("view counts not flushed: Redis unavailable")
        return 0
    if counts:
        ids, increments = zip(*counts.items(), strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ads_ad SET views_count = views_count + v.n "
                "FROM unnest(%s::uuid[], %s::int[]) AS v(id, n) WHERE ads_ad.id = v.id",
                [list(ids), list(increments)],
            )
    redis.delete(batch)
    return len(counts)
