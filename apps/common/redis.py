"""The raw Redis client behind the default cache, for counters and scripts."""

from __future__ import annotations

import hashlib
from typing import Any

from django_redis import get_redis_connection
from redis.exceptions import NoScriptError


def get_redis() -> Any:
    return get_redis_connection("default")


def cache_key(*parts: object) -> str:
    """Raw keys share the cache's prefix so one test/profile never sees another's."""
    from django.conf import settings

    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return ":".join([prefix, *(str(part) for part in parts)])


_SHAS: dict[str, str] = {}


def run_script(client: Any, text: str, keys: list[str], args: list[Any]) -> Any:
    """A Lua script on `client` (get_redis()) in one round trip: EVALSHA (the text is not sent
    each time), and EVAL the first time a server meets it (after a restart or SCRIPT FLUSH)."""
    sha = _SHAS.get(text)
    if sha is None:
        sha = _SHAS[text] = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    try:
        return client.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        return client.eval(text, len(keys), *keys, *args)
