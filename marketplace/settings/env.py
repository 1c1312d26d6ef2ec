"""Reading the environment: one place that knows where settings come from.

Values come from the process environment; `var/services.env` (written by
`scripts/devservices.py` for the embedded PostgreSQL and Redis) and `.env` fill in what the
environment leaves unset, so `manage.py` in another shell reaches the same servers as `make run`.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
for candidate in (BASE_DIR / ".env", VAR_DIR / "services.env"):
    if candidate.exists():
        environ.Env.read_env(str(candidate), overwrite=False)


def parse_throttle_rates(raw: str, defaults: dict[str, str | None]) -> dict[str, str | None]:
    """`THROTTLE_RATES="register=20/h,login=off"` on top of the profile's defaults."""
    rates = dict(defaults)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        scope, _, rate = item.partition("=")
        rate = rate.strip()
        rates[scope.strip()] = None if rate.lower() in {"off", "none", ""} else rate
    return rates
