"""The raw Redis client behind the default cache, for counters and scripts."""

from __future__ import annotations

from typing import Any

from django_redis import get_redis_connection


def get_redis() -> Any:
    return get_redis_connection("default")


def cache_key(*parts: object) -> str:
    """Raw keys share the cache's prefix so one test/profile never sees another's."""
    from django.conf import settings

    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return ":".join([prefix, *(str(part) for part in parts)])
