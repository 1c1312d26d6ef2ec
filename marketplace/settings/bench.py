"""Benchmark profile (`make bench`): production settings, plus what measuring needs.

- the framework floor view (apps/common/bench_views.py) at /bench/floor/, off everywhere else;
- throttles ON with production's code path (one Redis GCRA call per scope and request) but rates
  so high that a load generator from one IP never hits them: every scope 1,000,000 requests/min.
  The lead can override a scope with THROTTLE_RATES="anon=3000/h" to measure the 429 path.
Everything else (DEBUG off, cache, pool, middleware) is marketplace.settings.prod as deployed.
"""

from .base import DEFAULT_THROTTLE_RATES
from .base import throttle_rates as _throttle_rates
from .prod import *  # noqa: F403

BENCH_FLOOR_VIEW = True
BENCH_THROTTLE_RATE = "1000000/m"
THROTTLE_RATES = _throttle_rates(dict.fromkeys(DEFAULT_THROTTLE_RATES, BENCH_THROTTLE_RATE))
