"""Rate limits kept in Redis at a constant cost per request, whatever the rate.

DRF's stock throttles keep a list of timestamps per client (one list entry per allowed request)
and rewrite it on every request, so a limit of 100000/h costs more than one of 10/h. Here each
client has one key holding a "theoretical arrival time" (the generic cell rate algorithm, GCRA):
a request is allowed while that time is no further than one period ahead of now; the Lua script
reads and writes that single value atomically with the server's clock. The effect: a burst of up
to N requests, then one every period/N, and an exact Retry-After.

Rates come from settings.THROTTLE_RATES (env var THROTTLE_RATES="scope=rate,scope=off").
If Redis is unreachable the request is allowed (rate limiting fails open) and a warning is logged.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.common.redis import cache_key, get_redis

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - period - now
if wait > 0 then return wait end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return 0
"""


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """'20/h' -> (20 requests, 3600 s); None when the scope is off."""
    if not rate or rate.strip().lower() in {"off", "none"}:
        return None
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0].lower()]


def consume(scope: str, ident: str, rate: str | None) -> float:
    """Take one request from the bucket; return 0 if allowed, else seconds to wait."""
    parsed = parse_rate(rate)
    if parsed is None:
        return 0.0
    count, period = parsed
    period_ms = period * 1000
    try:
        redis = get_redis()
        wait_ms = redis.eval(GCRA_SCRIPT, 1, cache_key("throttle", scope, ident),
                             period_ms / count, period_ms)
    except RedisError:
        logger.warning("throttle %s skipped: Redis unavailable", scope)
        return 0.0
    return float(wait_ms) / 1000


def client_ip(request: Request) -> str:
    # Behind nginx, REMOTE_ADDR is the proxy; deploy/nginx.conf sets X-Real-IP.
    meta = request.META
    if getattr(settings, "TRUST_X_REAL_IP", False) and meta.get("HTTP_X_REAL_IP"):
        return str(meta["HTTP_X_REAL_IP"])
    return str(meta.get("REMOTE_ADDR", "unknown"))


class RedisThrottle(BaseThrottle):
    """Base: subclasses name a `scope` and say whom a request counts against."""

    scope: str = ""

    def __init__(self) -> None:
        self._wait = 0.0

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        raise NotImplementedError

    def get_rate(self, view: Any) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.get_ident_for(request, view)
        if ident is None:
            return True
        self._wait = consume(self.scope, ident, self.get_rate(view))
        return self._wait <= 0

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait > 0 else None


class AnonThrottle(RedisThrottle):
    """Every anonymous request, per IP address."""

    scope = "anon"

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return None if request.user.is_authenticated else client_ip(request)


class UserThrottle(RedisThrottle):
    """Every signed-in request, per user."""

    scope = "user"

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None


class ScopedIPThrottle(RedisThrottle):
    """Per IP for the view's `throttle_scope` (register, login, password_reset)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, "throttle_scope", "") or ""
        return super().allow_request(request, view) if self.scope else True

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return client_ip(request)


class ScopedUserThrottle(RedisThrottle):
    """Per user for the view's `throttle_scope` (ad_posting...); only for the listed methods."""

    methods = frozenset({"POST"})

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, "throttle_scope", "") or ""
        if not self.scope or request.method not in self.methods:
            return True
        return super().allow_request(request, view)

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else client_ip(request)
