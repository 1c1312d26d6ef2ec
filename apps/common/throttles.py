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

import hashlib
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.common.redis import cache_key, get_redis, run_script

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


# Set on the Django request by the anonymous read-cache path (apps.common.read_cache_views),
# which takes the anonymous throttle's step in its own Redis round trip: AnonThrottle then
# does not take a second one for the same request.
ANON_STEP_TAKEN = "anon_throttle_step_taken"


def anon_bucket(request: Request | HttpRequest) -> tuple[str, float, float] | None:
    """(key, interval ms, period ms) of the anonymous scope for this client; None when off."""
    parsed = parse_rate(settings.THROTTLE_RATES.get(AnonThrottle.scope))
    if parsed is None:
        return None
    count, period = parsed
    period_ms = period * 1000
    return (
        cache_key("throttle", AnonThrottle.scope, client_ip(request)),
        period_ms / count,
        period_ms,
    )


# The same step for every bucket a request is checked against, in one round trip: each key in
# order (a key listed twice takes two steps, as two calls would), one wait per key (0: allowed).
GCRA_MANY_SCRIPT = (
    "local gcra = function(KEYS, ARGV)\n"
    + GCRA_SCRIPT
    + """
end
local waits = {}
for i, key in ipairs(KEYS) do waits[i] = gcra({key}, {ARGV[2 * i - 1], ARGV[2 * i]}) end
return waits
"""
)

Bucket = tuple[str, float, float]  # (Redis key, interval ms, period ms)


def bucket_for(scope: str, ident: str, rate: str | None) -> Bucket | None:
    parsed = parse_rate(rate)
    if parsed is None:
        return None
    count, period = parsed
    period_ms = period * 1000
    return cache_key("throttle", scope, ident), period_ms / count, period_ms


def consume(scope: str, ident: str, rate: str | None) -> float:
    """Take one request from the bucket; return 0 if allowed, else seconds to wait."""
    bucket = bucket_for(scope, ident, rate)
    return 0.0 if bucket is None else consume_many([bucket])[0]


def consume_many(buckets: list[Bucket]) -> list[float]:
    """One step from each bucket, in order, in one round trip: the seconds to wait for each
    (0 if allowed). Fails open (all 0, logged) when Redis is unavailable."""
    if not buckets:
        return []
    args: list[float] = []
    for _key, interval, period in buckets:
        args += (interval, period)
    try:
        waits = run_script(get_redis(), GCRA_MANY_SCRIPT, [bucket[0] for bucket in buckets], args)
    except RedisError:
        logger.warning("throttles %s skipped: Redis unavailable", ", ".join(b[0] for b in buckets))
        return [0.0] * len(buckets)
    return [float(wait) / 1000 for wait in waits]


def client_ip(request: Request | HttpRequest) -> str:
    # Behind nginx, REMOTE_ADDR is the proxy; deploy/nginx.conf sets X-Real-IP.
    meta = request.META
    if getattr(settings, "TRUST_X_REAL_IP", False) and meta.get("HTTP_X_REAL_IP"):
        return str(meta["HTTP_X_REAL_IP"])
    return str(meta.get("REMOTE_ADDR", "unknown"))


# Set on the Django request by the first of a view's throttles to run: the waits of all the
# view's buckets, taken in one round trip; each throttle then reads (and removes) its own.
STEPS_TAKEN = "_throttle_steps"


def _take(request: Request, view: Any, own: Bucket) -> float:
    """This throttle's step. The first RedisThrottle of a view to ask takes the steps of all
    the view's RedisThrottles at once (one Redis round trip instead of one per throttle); DRF
    asks every throttle whatever the others answer, so each bucket still takes exactly one
    step per request, as separate calls did."""
    django_request = getattr(request, "_request", request)
    steps: dict[str, list[float]] | None = getattr(django_request, STEPS_TAKEN, None)
    if steps is None and view is not None:
        buckets = [
            bucket
            for throttle in view.get_throttles()
            if isinstance(throttle, RedisThrottle)
            and (bucket := throttle.bucket(request, view)) is not None
        ]
        if own in buckets:
            steps = {}
            for bucket, wait in zip(buckets, consume_many(buckets), strict=True):
                steps.setdefault(bucket[0], []).append(wait)
            setattr(django_request, STEPS_TAKEN, steps)
    if steps and steps.get(own[0]):
        return steps[own[0]].pop(0)
    return consume_many([own])[0]  # not one of the view's own throttles: a step of its own


class RedisThrottle(BaseThrottle):
    """Base: subclasses name a `scope` and say whom a request counts against."""

    scope: str = ""

    def __init__(self) -> None:
        self._wait = 0.0

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        raise NotImplementedError

    def get_rate(self, view: Any) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope)

    def bucket(self, request: Request, view: Any) -> Bucket | None:
        """The bucket this request takes a step from; None when this throttle lets it by."""
        ident = self.get_ident_for(request, view)
        if ident is None:
            return None
        return bucket_for(self.scope, ident, self.get_rate(view))

    def allow_request(self, request: Request, view: Any) -> bool:
        own = self.bucket(request, view)
        self._wait = 0.0 if own is None else _take(request, view, own)
        return self._wait <= 0

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait > 0 else None


class AnonThrottle(RedisThrottle):
    """Every anonymous request, per IP address."""

    scope = "anon"

    def bucket(self, request: Request, view: Any) -> Bucket | None:
        if getattr(request._request, ANON_STEP_TAKEN, False):
            return None
        return super().bucket(request, view)

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return None if request.user.is_authenticated else client_ip(request)


class UserThrottle(RedisThrottle):
    """Every signed-in request, per user."""

    scope = "user"

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None


class ScopedIPThrottle(RedisThrottle):
    """Per IP for the view's `throttle_scope` (register, login, password_reset)."""

    def bucket(self, request: Request, view: Any) -> Bucket | None:
        self.scope = getattr(view, "throttle_scope", "") or ""
        return super().bucket(request, view) if self.scope else None

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return client_ip(request)


class ScopedUserThrottle(RedisThrottle):
    """Per user for the view's `throttle_scope` (ad_posting...); only for the listed methods."""

    methods = frozenset({"POST"})

    def bucket(self, request: Request, view: Any) -> Bucket | None:
        self.scope = getattr(view, "throttle_scope", "") or ""
        if not self.scope or request.method not in self.methods:
            return None
        return super().bucket(request, view)

    def get_ident_for(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else client_ip(request)


# --- daily spend caps (SMS and email codes) ---------------------------------------------------

DAILY_QUOTA_SCRIPT = """
local capped = 0
for i, key in ipairs(KEYS) do
  local used = redis.call('INCR', key)
  if used == 1 then redis.call('EXPIRE', key, tonumber(ARGV[2])) end
  if used > tonumber(ARGV[1]) then capped = 1 end
end
return capped
"""


def seconds_to_utc_midnight(now: datetime | None = None) -> int:
    now = now or datetime.now(tz=UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - now).total_seconds()))


def hashed(value: str) -> str:
    """Phone numbers and emails never appear in Redis keys."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def use_daily_quota(scope: str, idents: list[str], limit: int | None) -> int:
    """Count one use against each ident's quota for the current UTC day.

    Returns 0 when every ident is within `limit` (None: no cap), else the seconds until the
    quota resets (the next UTC midnight). Fails open (logged) when Redis is unavailable."""
    if limit is None or not idents:
        return 0
    day = datetime.now(tz=UTC).strftime("%Y%m%d")
    keys = [cache_key("quota", scope, day, ident) for ident in idents]
    try:
        capped = run_script(get_redis(), DAILY_QUOTA_SCRIPT, keys, [limit, 2 * 86400])
    except RedisError:
        logger.warning("daily quota %s skipped: Redis unavailable", scope)
        return 0
    return seconds_to_utc_midnight() if capped else 0


# --- the Django admin's sign-in ---------------------------------------------------------------


def rate_limited_login(
    view: Callable[..., HttpResponse], scope: str = "admin_login"
) -> Callable[..., HttpResponse]:
    """Wrap a session sign-in view: POSTs per client IP at settings.ADMIN_LOGIN_RATE (GCRA, as
    the API's throttles); past it a 429 with Retry-After, before any password is checked."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            wait = consume(scope, client_ip(request), settings.ADMIN_LOGIN_RATE)
            if wait > 0:
                response = HttpResponse(
                    "Too many sign-in attempts; try again later.\n",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(math.ceil(wait))
                return response
        return view(request, *args, **kwargs)

    return wrapped
