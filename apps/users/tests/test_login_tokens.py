"""login/, token/refresh/, logout/, the login lock-out and Bearer authentication."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.common.redis import get_redis
from apps.users import lockout
from apps.users.models import User
from apps.users.tests.helpers import (
    LOGIN,
    LOGOUT,
    OWN_PROFILE_KEYS,
    PROFILE,
    login,
    nothing_changes,
    refresh,
    retry_after,
    tokens_for,
    user_row,
)
from conftest import PASSWORD, error_codes

pytestmark = pytest.mark.django_db

PHONE = "+254712345678"


@pytest.fixture
def amani(make_user):
    return make_user(email="amani@example.com", phone=PHONE, first_name="Amani",
                     last_name="Wanjiru")


def bearer(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api


def age_failures(identifier, seconds, *, only_oldest=False):
    """Move recorded login failures `seconds` into the past (instead of waiting)."""
    redis = get_redis()
    key = lockout._key(identifier)
    entries = redis.zrange(key, 0, -1, withscores=True)
    if only_oldest:
        entries = entries[:1]
    redis.zadd(key, {member: score - seconds for member, score in entries})


def assert_login_failed(response):
    assert response.status_code == 401, response.content
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("authentication_failed", None)]


# --- login ------------------------------------------------------------------------------------


def test_login_by_email(api, amani):
    response = login(api, PASSWORD, email="amani@example.com")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert set(body["user"]) == OWN_PROFILE_KEYS
    assert body["user"]["id"] == str(amani.pk)
    assert body["user"]["email"] == "amani@example.com"
    assert AccessToken(body["access"])["user_id"] == str(amani.pk)
    assert RefreshToken(body["refresh"])["user_id"] == str(amani.pk)
    assert User.objects.get(pk=amani.pk).last_login is not None
    # The access token works.
    profile = bearer(api, body["access"]).get(PROFILE)
    assert profile.status_code == 200 and profile.json()["id"] == str(amani.pk)


def test_login_email_is_case_insensitive(api, amani):
    response = login(api, PASSWORD, email="  AMANI@Example.Com")

    assert response.status_code == 200, response.json()
    assert response.json()["user"]["id"] == str(amani.pk)


@pytest.mark.parametrize(
    "spelling",
    ["0712345678", "0712 345 678", "+254 712-345-678", "254712345678", "+254712345678",
     "(0712) 345678"],
)
def test_login_by_phone_in_any_kenyan_spelling(api, amani, spelling):
    response = login(api, PASSWORD, phone=spelling)

    assert response.status_code == 200, response.json()
    assert response.json()["user"]["id"] == str(amani.pk)
    assert response.json()["user"]["phone"] == PHONE


def test_login_by_011_phone(api, make_user):
    owner = make_user(phone="+254110123456")

    response = login(api, PASSWORD, phone="011 012 3456")

    assert response.status_code == 200, response.json()
    assert response.json()["user"]["id"] == str(owner.pk)


def test_unverified_user_can_log_in(api, make_user):
    make_user(email="new@example.com", email_verified=False)

    assert login(api, PASSWORD, email="new@example.com").status_code == 200


def test_wrong_password_and_unknown_user_answer_the_same(api, amani):
    with nothing_changes(amani):
        wrong_password = login(api, "not-the-password", email="amani@example.com")
        unknown_user = login(api, PASSWORD, email="nobody@example.com")
        wrong_phone_password = login(api, "not-the-password", phone="0712345678")
        unknown_phone = login(api, PASSWORD, phone="0722000111")

    for response in (wrong_password, unknown_user, wrong_phone_password, unknown_phone):
        assert_login_failed(response)
    assert wrong_password.json() == unknown_user.json()
    assert wrong_phone_password.json() == unknown_phone.json() == unknown_user.json()


def test_deactivated_user_cannot_log_in(api, make_user):
    gone = make_user(email="gone@example.com", is_active=False)

    with nothing_changes(gone):
        response = login(api, PASSWORD, email="gone@example.com")

    assert_login_failed(response)
    assert response.json() == login(api, PASSWORD, email="nobody@example.com").json()


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD},
        {"email": "amani@example.com", "phone": PHONE, "password": PASSWORD},
        {"email": "", "password": PASSWORD},
    ],
)
def test_login_needs_exactly_one_identifier(api, amani, body):
    with nothing_changes(amani):
        response = api.post(LOGIN, body)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    codes = error_codes(response)
    assert len(codes) == 1 and codes[0][1] in {"non_field_errors", "email"}


def test_login_needs_a_password(api, amani):
    with nothing_changes(amani):
        response = api.post(LOGIN, {"email": "amani@example.com"})

    assert error_codes(response) == [("required", "password")]


def test_login_with_invalid_phone(api, amani):
    with nothing_changes(amani):
        response = login(api, PASSWORD, phone="07123")

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "phone")]


# --- lock-out ---------------------------------------------------------------------------------


def test_sixth_attempt_is_locked_even_with_the_right_password(api, amani):
    with nothing_changes(amani):
        failures = [login(api, f"wrong-{n}", email="amani@example.com") for n in range(5)]
        locked = login(api, PASSWORD, email="amani@example.com")

    for response in failures:
        assert_login_failed(response)
    assert locked.status_code == 429
    assert locked.json()["type"] == "client_error"
    assert error_codes(locked) == [("throttled", None)]
    window = settings.LOGIN_FAILURE_WINDOW
    assert window - 5 <= retry_after(locked) <= window


def test_lock_applies_to_every_spelling_of_the_identifier(api, amani):
    for _ in range(5):
        assert_login_failed(login(api, "wrong", email="Amani@Example.com"))
    for _ in range(5):
        assert_login_failed(login(api, "wrong", phone="0712345678"))

    assert login(api, PASSWORD, email="amani@example.com").status_code == 429
    assert login(api, PASSWORD, phone="+254 712-345-678").status_code == 429


def test_unknown_identifiers_are_locked_too(api, db):
    for _ in range(5):
        assert_login_failed(login(api, "whatever", email="ghost@example.com"))

    locked = login(api, "whatever", email="ghost@example.com")

    assert locked.status_code == 429
    assert error_codes(locked) == [("throttled", None)]
    retry_after(locked)


def test_other_identifiers_are_unaffected(api, amani, make_user):
    other = make_user(email="other@example.com")
    for _ in range(5):
        login(api, "wrong", email="amani@example.com")
    assert login(api, PASSWORD, email="amani@example.com").status_code == 429

    assert login(api, PASSWORD, email=other.email).status_code == 200
    # Amani's phone is another identifier: it is not locked by failures on the email.
    assert login(api, PASSWORD, phone="0712345678").status_code == 200
    assert login(api, PASSWORD, email="amani@example.com").status_code == 429


def test_success_clears_the_count(api, amani):
    for _ in range(4):
        assert_login_failed(login(api, "wrong", email="amani@example.com"))
    assert login(api, PASSWORD, email="amani@example.com").status_code == 200

    for _ in range(5):
        assert_login_failed(login(api, "wrong", email="amani@example.com"))
    assert login(api, PASSWORD, email="amani@example.com").status_code == 429


def test_lock_ends_when_the_oldest_failure_leaves_the_window(api, amani):
    window = settings.LOGIN_FAILURE_WINDOW
    for _ in range(5):
        login(api, "wrong", email="amani@example.com")
    age_failures("amani@example.com", window - 60)

    locked = login(api, PASSWORD, email="amani@example.com")
    assert locked.status_code == 429
    assert 55 <= retry_after(locked) <= 60

    age_failures("amani@example.com", 61)
    assert login(api, PASSWORD, email="amani@example.com").status_code == 200


def test_a_429_is_not_a_failure(api, amani):
    for _ in range(5):
        login(api, "wrong", email="amani@example.com")
    for _ in range(3):
        assert login(api, "wrong", email="amani@example.com").status_code == 429

    # Only the oldest of the five failures leaves the window: four remain, so the lock is off.
    age_failures("amani@example.com", settings.LOGIN_FAILURE_WINDOW + 1, only_oldest=True)
    assert login(api, PASSWORD, email="amani@example.com").status_code == 200


# --- suspended accounts -----------------------------------------------------------------------


def test_suspended_user_cannot_log_in(api, amani):
    User.objects.filter(pk=amani.pk).update(is_suspended=True, suspended_at=timezone.now())
    amani.refresh_from_db()

    with nothing_changes(amani):
        response = login(api, PASSWORD, email="amani@example.com")

    assert response.status_code == 403
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("account_suspended", None)]


def test_suspended_user_with_wrong_password_gets_the_usual_401(api, amani):
    User.objects.filter(pk=amani.pk).update(is_suspended=True)

    assert_login_failed(login(api, "wrong", email="amani@example.com"))


def test_suspended_users_tokens_stop_working(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)
    User.objects.filter(pk=amani.pk).update(is_suspended=True, suspended_at=timezone.now())

    response = bearer(api, tokens["access"]).get(PROFILE)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["type"] == "client_error"
    assert len(error_codes(response)) == 1

    api.credentials()
    refreshed = refresh(api, tokens["refresh"])
    assert refreshed.status_code == 401
    assert error_codes(refreshed) == [("token_not_valid", None)]


# --- token refresh ----------------------------------------------------------------------------


def test_refresh_rotates_the_pair(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)

    response = refresh(api, tokens["refresh"])

    assert response.status_code == 200, response.json()
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert pair["refresh"] != tokens["refresh"] and pair["access"] != tokens["access"]
    assert AccessToken(pair["access"])["user_id"] == str(amani.pk)
    assert bearer(api, pair["access"]).get(PROFILE).status_code == 200
    api.credentials()

    # The old refresh token is dead; the new one works once.
    reused = refresh(api, tokens["refresh"])
    assert reused.status_code == 401
    assert reused.json()["type"] == "client_error"
    assert error_codes(reused) == [("token_not_valid", None)]
    assert refresh(api, pair["refresh"]).status_code == 200
    assert refresh(api, pair["refresh"]).status_code == 401


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", ""])
def test_garbage_refresh(api, amani, garbage):
    with nothing_changes(amani):
        response = refresh(api, garbage)

    if garbage == "":
        assert response.status_code == 400
        assert error_codes(response) == [("blank", "refresh")]
    else:
        assert response.status_code == 401
        assert error_codes(response) == [("token_not_valid", None)]


def test_access_token_is_not_a_refresh_token(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)

    with nothing_changes(amani):
        response = refresh(api, tokens["access"])

    assert response.status_code == 401
    assert error_codes(response) == [("token_not_valid", None)]


def test_expired_refresh(api, amani):
    token = RefreshToken.for_user(amani)
    token.set_exp(lifetime=-timedelta(seconds=1))

    response = refresh(api, str(token))

    assert response.status_code == 401
    assert error_codes(response) == [("token_not_valid", None)]


def test_refresh_needs_the_field(api, db):
    response = api.post("/api/users/token/refresh/", {})

    assert response.status_code == 400
    assert error_codes(response) == [("required", "refresh")]


# --- logout -----------------------------------------------------------------------------------


def test_logout_kills_the_refresh_token(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)

    response = bearer(api, tokens["access"]).post(LOGOUT, {"refresh": tokens["refresh"]})

    assert response.status_code == 204
    assert response.content == b""
    api.credentials()
    dead = refresh(api, tokens["refresh"])
    assert dead.status_code == 401
    assert error_codes(dead) == [("token_not_valid", None)]


def test_logout_with_someone_elses_refresh_is_refused(api, amani, make_user):
    other = make_user()
    mine = tokens_for(api, amani, PASSWORD)
    theirs = tokens_for(api, other, PASSWORD)

    with nothing_changes(amani, other):
        response = bearer(api, mine["access"]).post(LOGOUT, {"refresh": theirs["refresh"]})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [attr for _, attr in error_codes(response)] == ["refresh"]
    api.credentials()
    assert refresh(api, theirs["refresh"]).status_code == 200  # still alive


@pytest.mark.parametrize("body", [{"refresh": "garbage"}, {}])
def test_logout_with_bad_body(api, amani, body):
    tokens = tokens_for(api, amani, PASSWORD)

    with nothing_changes(amani):
        response = bearer(api, tokens["access"]).post(LOGOUT, body)

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["refresh"]


def test_logout_needs_authentication(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)

    with nothing_changes(amani):
        response = api.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert refresh(api, tokens["refresh"]).status_code == 200


# --- Bearer authentication --------------------------------------------------------------------


def test_missing_bearer(api, db):
    response = api.get(PROFILE)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("not_authenticated", None)]


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "Bearer"])
def test_bad_bearer(api, db, header):
    api.credentials(HTTP_AUTHORIZATION=header)

    response = api.get(PROFILE)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["type"] == "client_error"
    assert len(error_codes(response)) == 1


def test_wrong_scheme_is_no_credentials(api, amani):
    access = str(AccessToken.for_user(amani))
    api.credentials(HTTP_AUTHORIZATION=f"Token {access}")

    response = api.get(PROFILE)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_expired_access_token(api, amani):
    token = AccessToken.for_user(amani)
    token.set_exp(lifetime=-timedelta(seconds=1))

    response = bearer(api, str(token)).get(PROFILE)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error_codes(response) == [("token_not_valid", None)]


def test_refresh_token_is_not_a_bearer(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)

    response = bearer(api, tokens["refresh"]).get(PROFILE)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error_codes(response) == [("token_not_valid", None)]


def test_failed_login_changes_nothing_on_the_account(api, amani):
    before = user_row(amani)

    login(api, "wrong", email="amani@example.com")

    assert user_row(amani) == before


def test_refresh_of_a_deactivated_account(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)
    User.objects.filter(pk=amani.pk).update(is_active=False)

    response = refresh(api, tokens["refresh"])

    assert response.status_code == 401
    assert error_codes(response) == [("token_not_valid", None)]


def test_refresh_of_a_deleted_account(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)
    User.objects.filter(pk=amani.pk).delete()

    response = refresh(api, tokens["refresh"])

    assert response.status_code == 401
    assert error_codes(response) == [("token_not_valid", None)]


def test_access_token_of_a_deleted_account(api, amani):
    tokens = tokens_for(api, amani, PASSWORD)
    User.objects.filter(pk=amani.pk).delete()

    response = bearer(api, tokens["access"]).get(PROFILE)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
