"""Who has an open socket: a per-user counter in Redis, refreshed by the consumer."""

from __future__ import annotations

from typing import Any

from apps.common.redis import cache_key, get_redis

TTL = 3600  # a crashed server's counts fade out


def _key(user_id: Any) -> str:
    return cache_key("chat-online", user_id)


def connected(user_id: Any) -> None:
    redis = get_redis()
    redis.incr(_key(user_id))
    redis.expire(_key(user_id), TTL)


def disconnected(user_id: Any) -> None:
    redis = get_redis()
    if redis.decr(_key(user_id)) <= 0:
        redis.delete(_key(user_id))


def is_online(user_id: Any) -> bool:
    value = get_redis().get(_key(user_id))
    return bool(value) and int(value) > 0
