"""verify/email/, verify/phone/ and verify/resend/: codes read from the real outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.notifications.models import REDACTED, DeliveryStatus, OutboundMessage
from apps.users.models import CodePurpose, User, VerificationCode
from apps.users.tests.helpers import (
    OWN_PROFILE_KEYS,
    REGISTER,
    RESEND,
    VERIFY_EMAIL,
    VERIFY_PHONE,
    db_state,
    nothing_changes,
    retry_after,
    sms_files,
    user_row,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db

EMAIL, PHONE = "amani@example.com", "+254712345678"


@pytest.fixture
def amani(api):
    response = api.post(REGISTER, {
        "email": EMAIL, "password": "correct horse battery", "first_name": "Amani",
        "last_name": "Wanjiru", "phone": "0712 345 678",
    })
    assert response.status_code == 201, response.json()
    return User.objects.get(email=EMAIL)


@pytest.fixture
def client(amani, client_for):
    return client_for(amani)


def code_row(user, purpose):
    return VerificationCode.objects.get(user=user, purpose=purpose)


def wrong(code):
    """A code that is certainly not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


CHANNELS = [
    pytest.param(VERIFY_EMAIL, CodePurpose.EMAIL, "email_verified", id="email"),
    pytest.param(VERIFY_PHONE, CodePurpose.PHONE, "phone_verified", id="phone"),
]


@pytest.fixture
def sent_code(last_email_code, last_sms_code):
    def read(purpose):
        return last_email_code(EMAIL) if purpose == CodePurpose.EMAIL else last_sms_code(PHONE)

    return read


# --- verify -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "purpose", "flag"), CHANNELS)
def test_right_code_verifies(client, amani, sent_code, url, purpose, flag):
    response = client.post(url, {"code": sent_code(purpose)})

    assert response.status_code == 200, response.json()
    assert set(response.json()) == OWN_PROFILE_KEYS
    assert response.json()[flag] is True
    amani.refresh_from_db()
    assert getattr(amani, flag) is True
    other = "phone_verified" if flag == "email_verified" else "email_verified"
    assert getattr(amani, other) is False
    assert not VerificationCode.objects.filter(user=amani, purpose=purpose).exists()


@pytest.mark.parametrize(("url", "purpose", "flag"), CHANNELS)
def test_wrong_code(client, amani, sent_code, url, purpose, flag):
    code = sent_code(purpose)
    before_user, before_state = user_row(amani), db_state()
    before_code = VerificationCode.objects.filter(user=amani, purpose=purpose).values().get()

    response = client.post(url, {"code": wrong(code)})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [("invalid_code", "code")]
    assert user_row(amani) == before_user
    assert db_state() == before_state
    after_code = VerificationCode.objects.filter(user=amani, purpose=purpose).values().get()
    # Only the attempt counter moves.
    assert after_code["attempts"] == before_code["attempts"] + 1
    assert {k: v for k, v in after_code.items() if k not in {"attempts", "updated_at"}} == {
        k: v for k, v in before_code.items() if k not in {"attempts", "updated_at"}
    }


def test_the_email_code_does_not_verify_the_phone(client, amani, sent_code):
    with nothing_changes(amani, codes=False):
        response = client.post(VERIFY_PHONE, {"code": sent_code(CodePurpose.EMAIL)})

    if sent_code(CodePurpose.EMAIL) != sent_code(CodePurpose.PHONE):
        assert error_codes(response) == [("invalid_code", "code")]


@pytest.mark.parametrize(("url", "purpose", "flag"), CHANNELS)
def test_sixth_try_is_refused_even_with_the_right_code(client, amani, sent_code, url, purpose,
                                                       flag):
    code = sent_code(purpose)
    for attempt in range(5):
        response = client.post(url, {"code": wrong(code)})
        assert error_codes(response) == [("invalid_code", "code")], attempt

    with nothing_changes(amani):
        for _ in range(2):
            response = client.post(url, {"code": code})
            assert response.status_code == 400
            assert error_codes(response) == [("too_many_attempts", "code")]

    assert getattr(User.objects.get(pk=amani.pk), flag) is False


@pytest.mark.parametrize(("url", "purpose", "flag"), CHANNELS)
def test_a_new_code_lifts_the_attempt_limit(client, amani, sent_code, url, purpose, flag):
    old = sent_code(purpose)
    for _ in range(5):
        client.post(url, {"code": wrong(old)})
    assert error_codes(client.post(url, {"code": old})) == [("too_many_attempts", "code")]

    assert client.post(RESEND, {"channel": purpose.value}).status_code == 202
    response = client.post(url, {"code": sent_code(purpose)})

    assert response.status_code == 200, response.json()
    assert response.json()[flag] is True


@pytest.mark.parametrize(("url", "purpose", "flag"), CHANNELS)
def test_expired_code(client, amani, sent_code, url, purpose, flag):
    code = sent_code(purpose)
    VerificationCode.objects.filter(user=amani, purpose=purpose).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    with nothing_changes(amani):
        response = client.post(url, {"code": code})

    assert response.status_code == 400
    assert error_codes(response) == [("code_expired", "code")]


def test_code_lives_ten_minutes(client, amani, sent_code):
    row = code_row(amani, CodePurpose.EMAIL)
    lifetime = row.expires_at - row.created_at
    assert timedelta(minutes=9, seconds=59) <= lifetime <= timedelta(minutes=10, seconds=1)

    # Almost ten minutes later it still works.
    VerificationCode.objects.filter(pk=row.pk).update(
        expires_at=timezone.now() + timedelta(seconds=30)
    )
    assert client.post(VERIFY_EMAIL, {"code": sent_code(CodePurpose.EMAIL)}).status_code == 200


def test_code_is_single_use(client, amani, sent_code):
    code = sent_code(CodePurpose.EMAIL)
    assert client.post(VERIFY_EMAIL, {"code": code}).status_code == 200

    with nothing_changes(amani):
        again = client.post(VERIFY_EMAIL, {"code": code})

    assert again.status_code == 400
    assert error_codes(again) == [("invalid_code", "code")]
    assert User.objects.get(pk=amani.pk).email_verified is True


@pytest.mark.parametrize(("body", "expected"), [
    ({}, [("required", "code")]),
    ({"code": ""}, [("blank", "code")]),
])
def test_code_is_required(client, amani, body, expected):
    with nothing_changes(amani):
        response = client.post(VERIFY_EMAIL, body)

    assert response.status_code == 400
    assert error_codes(response) == expected


@pytest.mark.parametrize("url", [VERIFY_EMAIL, VERIFY_PHONE, RESEND])
def test_anonymous_is_401(api, amani, sent_code, url):
    with nothing_changes(amani):
        response = api.post(url, {"code": sent_code(CodePurpose.EMAIL), "channel": "email"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error_codes(response) == [("not_authenticated", None)]


# --- resend -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "purpose", "flag"), CHANNELS)
def test_resend_replaces_the_code(client, amani, sent_code, url, purpose, flag):
    old = sent_code(purpose)
    outbox_before, sms_before = len(mail.outbox), len(sms_files())

    response = client.post(RESEND, {"channel": purpose.value})

    assert response.status_code == 202
    assert set(response.json()) == {"detail"}
    if purpose == CodePurpose.EMAIL:
        assert len(mail.outbox) == outbox_before + 1 and len(sms_files()) == sms_before
    else:
        assert len(sms_files()) == sms_before + 1 and len(mail.outbox) == outbox_before
    new = sent_code(purpose)
    assert VerificationCode.objects.filter(user=amani, purpose=purpose).count() == 1
    if new != old:  # one chance in a million that the new code equals the old one
        refused = client.post(url, {"code": old})
        assert error_codes(refused) == [("invalid_code", "code")]
    assert client.post(url, {"code": new}).status_code == 200


def test_second_resend_within_a_minute_is_429(client, amani):
    assert client.post(RESEND, {"channel": "email"}).status_code == 202

    with nothing_changes(amani):
        response = client.post(RESEND, {"channel": "email"})

    assert response.status_code == 429
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("throttled", None)]
    assert 1 <= retry_after(response) <= 60


def test_resend_limit_is_per_channel_and_per_user(client, amani, make_user, client_for):
    assert client.post(RESEND, {"channel": "email"}).status_code == 202
    assert client.post(RESEND, {"channel": "phone"}).status_code == 202
    other = make_user(email_verified=False)

    assert client_for(other).post(RESEND, {"channel": "email"}).status_code == 202
    assert client.post(RESEND, {"channel": "phone"}).status_code == 429


def test_registration_code_does_not_count_as_a_resend(client, amani):
    # Registration just sent both codes; a resend right away is still allowed.
    assert client.post(RESEND, {"channel": "email"}).status_code == 202


def test_address_change_code_does_not_count_as_a_resend(client, amani):
    assert client.patch("/api/users/profile/", {"email": "zawadi@example.com"}).status_code == 200

    assert client.post(RESEND, {"channel": "email"}).status_code == 202


def test_resend_when_already_verified(client, amani, sent_code):
    assert client.post(VERIFY_EMAIL, {"code": sent_code(CodePurpose.EMAIL)}).status_code == 200

    with nothing_changes(amani):
        response = client.post(RESEND, {"channel": "email"})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [attr for _, attr in error_codes(response)] == ["channel"]


def test_resend_phone_without_a_phone(make_user, client_for):
    user = make_user(email_verified=False)
    client = client_for(user)

    with nothing_changes(user):
        response = client.post(RESEND, {"channel": "phone"})

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["channel"]


@pytest.mark.parametrize(("body", "code"), [
    ({"channel": "fax"}, "invalid_choice"), ({}, "required"),
])
def test_resend_bad_channel(client, amani, body, code):
    with nothing_changes(amani):
        response = client.post(RESEND, body)

    assert response.status_code == 400
    assert error_codes(response) == [(code, "channel")]


# --- storage of codes -------------------------------------------------------------------------


def test_codes_are_stored_hashed_and_bodies_redacted(client, amani, sent_code):
    assert client.post(RESEND, {"channel": "email"}).status_code == 202
    codes = {sent_code(CodePurpose.EMAIL), sent_code(CodePurpose.PHONE)}

    rows = list(VerificationCode.objects.filter(user=amani).values())
    assert {row["purpose"] for row in rows} == {CodePurpose.EMAIL, CodePurpose.PHONE}
    for row in rows:
        assert len(row["code_hash"]) == 64
        for value in row.values():
            for code in codes:
                assert code not in str(value), f"plain code stored in {row}"

    messages = list(OutboundMessage.objects.filter(to__in=[EMAIL, PHONE]))
    assert len(messages) == 3  # registration email + SMS, then the resent email
    for message in messages:
        assert message.status == DeliveryStatus.SENT
        assert message.body == REDACTED
        for code in codes:
            assert code not in message.subject
