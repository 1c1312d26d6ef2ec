"""Version counters in Redis for data each process keeps a copy of in memory (the category and
location trees): a request reads the counter (one small GET) instead of the data, and a write
bumps it.

A fresh counter starts at the clock in ns, never at a number an earlier counter reached (before
Redis lost its keys), so a process's copy of old data cannot match by accident."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def new_epoch() -> int:
    return time.time_ns()


def current(key: str, *, what: str) -> int:
    """The counter's value, started at an epoch when Redis has none; -1 with Redis away (the
    caller then reads the database and keeps no copy)."""
    try:
        version = cache.get(key)
        if version is None:
            cache.add(key, new_epoch(), timeout=None)
            version = cache.get(key)
        return int(version or 0)
    except Exception:
        logger.warning("%s cache unavailable", what, exc_info=True)
        return -1


def bump(key: str) -> None:
    cache.add(key, new_epoch(), timeout=None)
    cache.incr(key)


def bump_now_and_on_commit(key: str, *, what: str) -> None:
    """Bump now and again on commit. The commit bump is the one that matters: a read between
    the write and the commit may cache the old data under the new version, and the second bump
    retires it. The early bump lets the writing transaction (and tests, which never commit)
    read their own writes."""
    try:
        bump(key)
    except Exception:  # Redis away: the commit bump (or the cached copy's expiry) will do
        logger.warning("could not bump the %s cache", what, exc_info=True)

    def bump_on_commit() -> None:  # named: a failing robust callback is logged by its name
        bump(key)

    transaction.on_commit(bump_on_commit, robust=True)
