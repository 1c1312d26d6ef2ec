"""password/reset/, password/reset/confirm/ and password/change/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from apps.notifications.models import REDACTED, DeliveryStatus, OutboundMessage
from apps.users.models import CodePurpose, User, VerificationCode
from apps.users.tests.helpers import (
    CHANGE,
    PROFILE,
    RESET,
    RESET_CONFIRM,
    db_state,
    login,
    nothing_changes,
    refresh,
    tokens_for,
    user_row,
)
from conftest import PASSWORD, error_codes

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def amani(make_user):
    return make_user(email="amani@example.com", first_name="Amani", last_name="Wanjiru")


def password_of(user):
    return User.objects.get(pk=user.pk).password


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def reset_code(api, amani, last_email_code):
    """Ask for a reset and return the code the email carried."""

    def ask():
        assert api.post(RESET, {"email": "amani@example.com"}).status_code == 200
        return last_email_code("amani@example.com")

    return ask


def confirm(api, code, new_password=NEW_PASSWORD, email="amani@example.com"):
    return api.post(RESET_CONFIRM, {"email": email, "code": code, "new_password": new_password})


# --- reset request ----------------------------------------------------------------------------


def test_reset_answers_the_same_for_known_and_unknown_addresses(api, amani):
    known = api.post(RESET, {"email": "amani@example.com"})
    assert [m.to for m in mail.outbox] == [["amani@example.com"]]
    assert re.search(r"code\D*\d{6}", mail.outbox[0].body, re.IGNORECASE)

    with nothing_changes(amani):
        unknown = api.post(RESET, {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert set(known.json()) == {"detail"}
    assert len(mail.outbox) == 1
    # The code is stored hashed and the delivered message is redacted.
    code = re.search(r"\d{6}", mail.outbox[0].body).group()
    [row] = VerificationCode.objects.filter(user=amani, purpose=CodePurpose.PASSWORD_RESET)
    assert code not in row.code_hash and row.target == "amani@example.com"
    [message] = OutboundMessage.objects.all()
    assert (message.status, message.body) == (DeliveryStatus.SENT, REDACTED)


def test_reset_address_is_case_insensitive(api, amani):
    response = api.post(RESET, {"email": "AMANI@Example.COM"})

    assert response.status_code == 200
    assert [m.to for m in mail.outbox] == [["amani@example.com"]]


@pytest.mark.parametrize(("body", "expected"), [
    ({}, [("required", "email")]), ({"email": "nope"}, [("invalid", "email")]),
])
def test_reset_needs_an_email(api, amani, body, expected):
    with nothing_changes(amani):
        response = api.post(RESET, body)

    assert response.status_code == 400
    assert error_codes(response) == expected


# --- reset confirm ----------------------------------------------------------------------------


def test_confirm_changes_the_password_and_revokes_refresh_tokens(api, amani, reset_code):
    first = tokens_for(api, amani, PASSWORD)
    second = tokens_for(api, amani, PASSWORD)
    rotated = refresh(api, second["refresh"]).json()  # a refresh token made by rotation
    code = reset_code()

    response = confirm(api, code)

    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"detail"}
    assert User.objects.get(pk=amani.pk).check_password(NEW_PASSWORD)
    for token in (first["refresh"], rotated["refresh"]):
        dead = refresh(api, token)
        assert dead.status_code == 401
        assert error_codes(dead) == [("token_not_valid", None)]
    assert login(api, PASSWORD, email="amani@example.com").status_code == 401
    assert login(api, NEW_PASSWORD, email="amani@example.com").status_code == 200


def test_reset_code_is_single_use(api, amani, reset_code):
    code = reset_code()
    assert confirm(api, code).status_code == 200

    with nothing_changes(amani):
        again = confirm(api, code, new_password="yet another passphrase")

    assert again.status_code == 400
    assert error_codes(again) == [("invalid_code", "code")]


def test_confirm_with_a_wrong_code(api, amani, reset_code):
    code = reset_code()
    tokens = tokens_for(api, amani, PASSWORD)
    before_user, before_state = user_row(amani), db_state()

    response = confirm(api, wrong(code))

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [("invalid_code", "code")]
    assert user_row(amani) == before_user and db_state() == before_state
    assert refresh(api, tokens["refresh"]).status_code == 200  # not revoked


def test_confirm_for_an_unknown_address(api, amani, reset_code):
    code = reset_code()

    with nothing_changes(amani):
        response = confirm(api, code, email="nobody@example.com")

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_code", "code")]


def test_the_email_verification_code_is_no_reset_code(api, make_user, last_email_code):
    api.post("/api/users/register/", {"email": "new@example.com", "password": PASSWORD,
                                      "first_name": "New", "last_name": "User"})
    user = User.objects.get(email="new@example.com")
    verification = last_email_code("new@example.com")

    with nothing_changes(user):
        response = confirm(api, verification, email="new@example.com")

    assert error_codes(response) == [("invalid_code", "code")]


def test_sixth_try_is_refused_even_with_the_right_code(api, amani, reset_code):
    code = reset_code()
    for _ in range(5):
        assert error_codes(confirm(api, wrong(code))) == [("invalid_code", "code")]

    with nothing_changes(amani):
        response = confirm(api, code)

    assert response.status_code == 400
    assert error_codes(response) == [("too_many_attempts", "code")]

    # A new code lifts the limit.
    assert confirm(api, reset_code()).status_code == 200


def test_expired_reset_code(api, amani, reset_code):
    code = reset_code()
    VerificationCode.objects.filter(purpose=CodePurpose.PASSWORD_RESET).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    with nothing_changes(amani):
        response = confirm(api, code)

    assert response.status_code == 400
    assert error_codes(response) == [("code_expired", "code")]


@pytest.mark.parametrize("weak", ["short", "password", "1234567890123", "amani-wanjiru"])
def test_confirm_with_a_weak_password(api, amani, reset_code, weak):
    code = reset_code()

    with nothing_changes(amani):
        response = confirm(api, code, new_password=weak)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    codes = error_codes(response)
    assert codes and {attr for _, attr in codes} == {"new_password"}
    # The code was not spent: it still works with a good password.
    assert confirm(api, code).status_code == 200


@pytest.mark.parametrize("field", ["email", "code", "new_password"])
def test_confirm_required_fields(api, amani, reset_code, field):
    body = {"email": "amani@example.com", "code": reset_code(), "new_password": NEW_PASSWORD}
    del body[field]

    with nothing_changes(amani):
        response = api.post(RESET_CONFIRM, body)

    assert response.status_code == 400
    assert error_codes(response) == [("required", field)]


# --- password change --------------------------------------------------------------------------


@pytest.fixture
def signed_in(api, amani):
    """Amani signed in twice (two live refresh tokens); the client carries the first access."""
    first, second = tokens_for(api, amani, PASSWORD), tokens_for(api, amani, PASSWORD)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    return first, second


def test_change_password(api, amani, signed_in):
    first, second = signed_in

    response = api.post(CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 200, response.json()
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert AccessToken(pair["access"])["user_id"] == str(amani.pk)
    assert User.objects.get(pk=amani.pk).check_password(NEW_PASSWORD)
    api.credentials()
    for old in (first["refresh"], second["refresh"]):
        dead = refresh(api, old)
        assert dead.status_code == 401
        assert error_codes(dead) == [("token_not_valid", None)]
    assert refresh(api, pair["refresh"]).status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api.get(PROFILE).status_code == 200
    api.credentials()
    assert login(api, PASSWORD, email="amani@example.com").status_code == 401
    assert login(api, NEW_PASSWORD, email="amani@example.com").status_code == 200


def test_change_with_a_wrong_old_password(api, amani, signed_in):
    with nothing_changes(amani):
        response = api.post(CHANGE, {"old_password": "not-it", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [attr for _, attr in error_codes(response)] == ["old_password"]
    api.credentials()
    assert refresh(api, signed_in[0]["refresh"]).status_code == 200


@pytest.mark.parametrize("weak", ["short", "password", "1234567890123", "amani-wanjiru"])
def test_change_to_a_weak_password(api, amani, signed_in, weak):
    with nothing_changes(amani):
        response = api.post(CHANGE, {"old_password": PASSWORD, "new_password": weak})

    assert response.status_code == 400
    codes = error_codes(response)
    assert codes and {attr for _, attr in codes} == {"new_password"}
    assert User.objects.get(pk=amani.pk).check_password(PASSWORD)


@pytest.mark.parametrize("field", ["old_password", "new_password"])
def test_change_required_fields(api, amani, signed_in, field):
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    del body[field]

    with nothing_changes(amani):
        response = api.post(CHANGE, body)

    assert error_codes(response) == [("required", field)]


def test_change_needs_authentication(api, amani):
    with nothing_changes(amani):
        response = api.post(CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error_codes(response) == [("not_authenticated", None)]
