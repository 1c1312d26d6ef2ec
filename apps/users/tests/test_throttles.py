"""Rate limits on the accounts endpoints: register, login, password_reset, anon and user."""

from __future__ import annotations

import itertools

import pytest
from django.core import mail

from apps.users.models import User
from apps.users.tests.helpers import (
    LOGIN,
    PROFILE,
    REGISTER,
    RESET,
    RESET_CONFIRM,
    nothing_changes,
    public_url,
    retry_after,
)
from conftest import PASSWORD, error_codes

pytestmark = pytest.mark.django_db

_n = itertools.count(1)


def register(api, **extra):
    n = next(_n)
    return api.post(REGISTER, {"email": f"new{n}@example.com", "password": PASSWORD,
                               "first_name": "New", "last_name": f"User{n}"}, **extra)


def assert_throttled(response, limit_seconds):
    assert response.status_code == 429, response.content
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("throttled", None)]
    assert 1 <= retry_after(response) <= limit_seconds


# --- register ---------------------------------------------------------------------------------


def test_third_registration_from_one_ip_is_throttled(api, throttle_rates):
    throttle_rates(register="2/h")
    assert register(api).status_code == 201
    assert register(api).status_code == 201

    with nothing_changes():
        response = register(api)

    assert_throttled(response, 3600)
    assert User.objects.count() == 2


def test_register_counts_every_attempt_even_refused_ones(api, throttle_rates):
    throttle_rates(register="2/h")
    assert api.post(REGISTER, {}).status_code == 400
    assert api.post(REGISTER, {"email": "bad"}).status_code == 400

    with nothing_changes():
        assert_throttled(register(api), 3600)


def test_register_limit_is_per_ip(api, throttle_rates):
    throttle_rates(register="2/h")
    register(api)
    register(api)
    assert register(api).status_code == 429

    assert register(api, REMOTE_ADDR="10.1.2.3").status_code == 201


def test_x_real_ip_is_not_trusted_by_default(api, throttle_rates):
    throttle_rates(register="1/h")
    register(api, HTTP_X_REAL_IP="10.0.0.1")

    assert register(api, HTTP_X_REAL_IP="10.0.0.2").status_code == 429


def test_x_real_ip_is_used_behind_the_proxy(api, throttle_rates, settings):
    settings.TRUST_X_REAL_IP = True
    throttle_rates(register="1/h")
    assert register(api, HTTP_X_REAL_IP="10.0.0.1").status_code == 201

    assert register(api, HTTP_X_REAL_IP="10.0.0.1").status_code == 429
    assert register(api, HTTP_X_REAL_IP="10.0.0.2").status_code == 201


# --- login ------------------------------------------------------------------------------------


def test_third_login_from_one_ip_is_throttled(api, user, make_user, throttle_rates):
    throttle_rates(login="2/h")
    other = make_user()
    assert api.post(LOGIN, {"email": user.email, "password": PASSWORD}).status_code == 200
    assert api.post(LOGIN, {"email": user.email, "password": "wrong"}).status_code == 401

    with nothing_changes(user, other):
        response = api.post(LOGIN, {"email": other.email, "password": PASSWORD})

    assert_throttled(response, 3600)
    # Another address is not held back, and the throttle is not a lock-out of the account.
    assert api.post(LOGIN, {"email": other.email, "password": PASSWORD},
                    REMOTE_ADDR="10.9.9.9").status_code == 200


def test_login_throttle_in_minutes(api, user, throttle_rates):
    throttle_rates(login="1/m")
    api.post(LOGIN, {"email": user.email, "password": PASSWORD})

    assert_throttled(api.post(LOGIN, {"email": user.email, "password": PASSWORD}), 60)


# --- password reset ---------------------------------------------------------------------------


def test_third_password_reset_is_throttled(api, user, throttle_rates):
    throttle_rates(password_reset="2/h")
    assert api.post(RESET, {"email": user.email}).status_code == 200
    assert api.post(RESET, {"email": "nobody@example.com"}).status_code == 200
    sent = len(mail.outbox)

    with nothing_changes(user):
        response = api.post(RESET, {"email": user.email})

    assert_throttled(response, 3600)
    assert len(mail.outbox) == sent


def test_reset_and_confirm_share_the_scope(api, user, throttle_rates):
    throttle_rates(password_reset="2/h")
    api.post(RESET, {"email": user.email})
    api.post(RESET_CONFIRM, {"email": user.email, "code": "000000",
                             "new_password": "a brand new passphrase"})

    with nothing_changes(user):
        response = api.post(RESET_CONFIRM, {"email": user.email, "code": "000000",
                                            "new_password": "a brand new passphrase"})

    assert_throttled(response, 3600)


# --- turning a scope off ----------------------------------------------------------------------


def rates_from_env(monkeypatch, value):
    """What settings make of the THROTTLE_RATES environment variable."""
    from marketplace.settings.base import DEFAULT_THROTTLE_RATES, throttle_rates

    monkeypatch.setenv("THROTTLE_RATES", value)
    return throttle_rates(DEFAULT_THROTTLE_RATES)


def test_env_var_sets_and_disables_scopes(monkeypatch):
    from marketplace.settings.base import DEFAULT_THROTTLE_RATES

    rates = rates_from_env(monkeypatch, "register=20/h, login=off")

    assert rates["register"] == "20/h"
    assert rates["login"] is None
    unlisted = set(DEFAULT_THROTTLE_RATES) - {"register", "login"}
    assert {scope: rates[scope] for scope in unlisted} == {
        scope: DEFAULT_THROTTLE_RATES[scope] for scope in unlisted
    }


def test_off_disables_a_scope(api, settings, monkeypatch):
    settings.THROTTLE_RATES = rates_from_env(monkeypatch, "register=off,login=1/h")

    for _ in range(5):
        assert register(api).status_code == 201
    api.post(LOGIN, {"email": "new1@example.com", "password": PASSWORD})
    assert api.post(LOGIN, {"email": "x@example.com", "password": PASSWORD}).status_code == 429


def test_disabled_scope_in_settings(api, throttle_rates):
    throttle_rates(register=None)  # what "register=off" in THROTTLE_RATES becomes

    for _ in range(3):
        assert register(api).status_code == 201


# --- anon and user ----------------------------------------------------------------------------


def test_anon_scope_counts_every_anonymous_request_per_ip(api, user, client_for,
                                                          throttle_rates):
    throttle_rates(anon="2/h")
    assert api.get(public_url(user.pk)).status_code == 200
    assert api.post(LOGIN, {"email": user.email, "password": PASSWORD}).status_code == 200

    assert_throttled(api.get(public_url(user.pk)), 3600)
    assert api.get(public_url(user.pk), REMOTE_ADDR="10.4.4.4").status_code == 200
    # Signed-in requests count against the user, not the address.
    assert client_for(user).get(public_url(user.pk)).status_code == 200


def test_user_scope_counts_per_user(api, user, make_user, client_for, throttle_rates):
    throttle_rates(user="2/h")
    client = client_for(user)
    other = client_for(make_user())
    assert client.get(PROFILE).status_code == 200
    assert client.get(public_url(user.pk)).status_code == 200

    with nothing_changes(user):
        response = client.patch(PROFILE, {"first_name": "Throttled"})

    assert_throttled(response, 3600)
    assert other.get(PROFILE).status_code == 200
    assert api.get(public_url(user.pk)).status_code == 200  # anonymous: the anon scope
