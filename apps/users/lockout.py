"""Login lock-out per identifier: after LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW
seconds, every login for it answers 429 until the oldest failure leaves the window.

One Redis sorted set per identifier holds the failure times (at most LIMIT entries, since a
locked identifier records no more failures)."""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid

from django.conf import settings
from redis.exceptions import RedisError

from apps.common.redis import cache_key, get_redis

logger = logging.getLogger(__name__)


def _key(identifier: str) -> str:
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]  # no emails/phones in Redis
    return cache_key("login-failures", digest)


def seconds_locked(identifier: str) -> int:
    """0 when a login may be tried, else the seconds until it may."""
    now = time.time()
    window, limit = settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_FAILURE_LIMIT
    key = _key(identifier)
    try:
        redis = get_redis()
        redis.zremrangebyscore(key, "-inf", now - window)
        failures = redis.zrange(key, 0, -1, withscores=True)
    except RedisError:
        logger.warning("login lock-out unavailable: Redis down")
        return 0
    if len(failures) < limit:
        return 0
    oldest = failures[-limit][1]
    return max(1, math.ceil(oldest + window - now))


def record_failure(identifier: str) -> None:
    key = _key(identifier)
    try:
        redis = get_redis()
        pipe = redis.pipeline()
        pipe.zadd(key, {uuid.uuid4().hex: time.time()})
        pipe.expire(key, settings.LOGIN_FAILURE_WINDOW)
        pipe.execute()
    except RedisError:
        logger.warning("login failure not recorded: Redis down")


def clear(identifier: str) -> None:
    try:
        get_redis().delete(_key(identifier))
    except RedisError:
        logger.warning("login failures not cleared: Redis down")
