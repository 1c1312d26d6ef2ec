"""marketplace.settings.env.parse_throttle_rates: THROTTLE_RATES="scope=rate,scope=off"."""

from __future__ import annotations

import pytest

from marketplace.settings import base
from marketplace.settings.env import parse_throttle_rates

DEFAULTS: dict[str, str | None] = {
    "anon": "100000/h", "user": "100000/h", "register": "1000/h", "login": "1000/h",
    "password_reset": "1000/h", "ad_posting": "1000/h", "resend": "1/m",
}


def test_empty_keeps_every_default() -> None:
    assert parse_throttle_rates("", DEFAULTS) == DEFAULTS


def test_listed_scopes_change_unlisted_keep_their_default() -> None:
    rates = parse_throttle_rates("register=20/h,login=100/h", DEFAULTS)

    assert rates == {**DEFAULTS, "register": "20/h", "login": "100/h"}


@pytest.mark.parametrize("off", ["off", "OFF", "Off", "none", ""])
def test_off_disables_one_scope(off: str) -> None:
    rates = parse_throttle_rates(f"login={off},register=5/m", DEFAULTS)

    assert rates["login"] is None
    assert rates["register"] == "5/m"
    assert rates["anon"] == "100000/h"


def test_spaces_and_empty_items_are_ignored() -> None:
    rates = parse_throttle_rates(" register = 20/h , ,login=off, ", DEFAULTS)

    assert rates == {**DEFAULTS, "register": "20/h", "login": None}


def test_a_new_scope_can_be_added() -> None:
    assert parse_throttle_rates("search=60/m", DEFAULTS)["search"] == "60/m"


def test_defaults_are_not_modified() -> None:
    before = dict(DEFAULTS)

    parse_throttle_rates("anon=off", DEFAULTS)

    assert before == DEFAULTS


def test_environment_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THROTTLE_RATES", "register=20/h,anon=off")

    rates = base.throttle_rates(DEFAULTS)

    assert rates == {**DEFAULTS, "register": "20/h", "anon": None}


# Scopes the contract does not list, added by later work (documented in the README).
EXTRA_SCOPES = {"message_send": "60/m", "report": "1000/h"}


def test_local_defaults_match_the_contract() -> None:
    """API.md section 2, local defaults."""
    assert base.DEFAULT_THROTTLE_RATES == {**DEFAULTS, **EXTRA_SCOPES}


def test_every_rate_parses() -> None:
    from apps.common.throttles import parse_rate

    for rate in base.DEFAULT_THROTTLE_RATES.values():
        assert parse_rate(rate) is not None


def import_prod(monkeypatch: pytest.MonkeyPatch, throttle_rates: str) -> object:
    import importlib
    import sys

    monkeypatch.setenv("DJANGO_SECRET_KEY", "prod-test-" + "k" * 50)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "api.example.com")
    monkeypatch.setenv("THROTTLE_RATES", throttle_rates)
    monkeypatch.delitem(sys.modules, "marketplace.settings.prod", raising=False)
    module = importlib.import_module("marketplace.settings.prod")
    monkeypatch.delitem(sys.modules, "marketplace.settings.prod")
    return module


def test_production_defaults_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    prod = import_prod(monkeypatch, "")

    assert prod.THROTTLE_RATES == {  # type: ignore[attr-defined]
        "anon": "3000/h", "user": "10000/h", "register": "20/h", "login": "100/h",
        "password_reset": "20/h", "ad_posting": "50/h", "resend": "1/m", **EXTRA_SCOPES,
        "report": "20/h",
    }


def test_production_env_overrides_keep_unlisted_production_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prod = import_prod(monkeypatch, "login=off,register=5/h")

    rates = prod.THROTTLE_RATES  # type: ignore[attr-defined]
    assert rates["login"] is None
    assert rates["register"] == "5/h"
    assert rates["anon"] == "3000/h"
    assert rates["password_reset"] == "20/h"
