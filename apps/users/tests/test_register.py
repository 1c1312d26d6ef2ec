"""POST /api/users/register/ (API.md section 3)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from apps.common.models import AuditEntry
from apps.notifications.models import OutboundMessage
from apps.users.models import CodePurpose, User, VerificationCode
from apps.users.tests.helpers import (
    LOGIN,
    OWN_PROFILE_KEYS,
    REGISTER,
    nothing_changes,
    sms_files,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def payload(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "email": "amani@example.com", "password": PASSWORD,
        "first_name": "Amani", "last_name": "Wanjiru",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def test_register_returns_own_profile(api):
    response = api.post(REGISTER, payload(phone="0712345678"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == OWN_PROFILE_KEYS
    user = User.objects.get()
    assert body["id"] == str(user.pk)
    assert body["email"] == "amani@example.com"
    assert body["phone"] == "+254712345678"
    assert body["first_name"] == "Amani" and body["last_name"] == "Wanjiru"
    assert body["display_name"] == "Amani W."
    assert body["avatar"] is None and body["bio"] == "" and body["location"] is None
    assert body["email_verified"] is False and body["phone_verified"] is False
    assert body["is_staff"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["member_since"])
    assert body["rating_average"] is None
    assert body["rating_count"] == 0 and body["active_ads_count"] == 0
    assert "password" not in body
    # The password is stored hashed and works.
    assert user.password != PASSWORD and user.check_password(PASSWORD)


def test_email_is_stored_lower_cased(api):
    response = api.post(REGISTER, payload(email="  Amani.W@Example.COM "))

    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "amani.w@example.com"
    assert User.objects.get().email == "amani.w@example.com"


@pytest.mark.parametrize(
    ("spelling", "e164"),
    [
        ("0712345678", "+254712345678"),
        ("0712 345 678", "+254712345678"),
        ("+254 712-345-678", "+254712345678"),
        ("254712345678", "+254712345678"),
        ("+254712345678", "+254712345678"),
        ("0110123456", "+254110123456"),
        ("011 012 3456", "+254110123456"),
    ],
)
def test_phone_in_any_kenyan_spelling_is_stored_e164(api, spelling, e164):
    response = api.post(REGISTER, payload(phone=spelling))

    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == e164
    assert User.objects.get().phone == e164


@pytest.mark.parametrize("phone", [None, ""])
def test_phone_is_optional(api, phone):
    response = api.post(REGISTER, payload(phone=phone))

    assert response.status_code == 201, response.json()
    assert response.json()["phone"] is None
    assert User.objects.get().phone is None


def test_register_sends_an_email_code_and_an_sms_code(api, last_email_code, last_sms_code):
    api.post(REGISTER, payload(phone="0712 345 678"))

    assert [m.to for m in mail.outbox] == [["amani@example.com"]]
    assert re.fullmatch(r"\d{6}", last_email_code("amani@example.com"))
    assert re.fullmatch(r"\d{6}", last_sms_code("+254712345678"))
    assert len(sms_files()) == 1
    assert set(VerificationCode.objects.values_list("purpose", flat=True)) == {
        CodePurpose.EMAIL, CodePurpose.PHONE
    }


def test_register_without_phone_sends_no_sms(api):
    api.post(REGISTER, payload())

    assert len(mail.outbox) == 1
    assert sms_files() == []
    assert list(VerificationCode.objects.values_list("purpose", flat=True)) == [CodePurpose.EMAIL]


def test_unverified_user_can_log_in(api):
    api.post(REGISTER, payload())

    response = api.post(LOGIN, {"email": "amani@example.com", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json()["user"]["email_verified"] is False


def test_read_only_fields_are_ignored(api):
    response = api.post(REGISTER, payload(
        is_staff=True, is_superuser=True, email_verified=True, phone_verified=True,
        id="5b0b3c9e-8f0e-4a57-9a8a-3f8c2f5e9b11", rating_count=50, is_suspended=True,
        active_ads_count=9, phone="0712345678",
    ))

    assert response.status_code == 201, response.json()
    user = User.objects.get()
    assert str(user.pk) != "5b0b3c9e-8f0e-4a57-9a8a-3f8c2f5e9b11"
    assert (user.is_staff, user.is_superuser, user.is_suspended) == (False, False, False)
    assert (user.email_verified, user.phone_verified) == (False, False)
    assert (user.rating_count, user.active_ads_count) == (0, 0)
    body = response.json()
    assert body["is_staff"] is False and body["email_verified"] is False


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["amani@example.com", "AMANI@Example.com"])
def test_email_taken_whatever_its_case(api, make_user, spelling):
    existing = make_user(email="amani@example.com")

    with nothing_changes(existing):
        response = api.post(REGISTER, payload(email=spelling))

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [("unique", "email")]


@pytest.mark.parametrize("spelling", ["0712345678", "+254 712-345-678", "254712345678"])
def test_phone_taken_in_any_spelling(api, make_user, spelling):
    existing = make_user(phone="+254712345678")

    with nothing_changes(existing):
        response = api.post(REGISTER, payload(phone=spelling))

    assert response.status_code == 400
    assert error_codes(response) == [("unique", "phone")]


@pytest.mark.parametrize(
    "password",
    ["short1!", "password123", "12345678901234", "amani@example.com", "Wanjiru2024"],
)
def test_weak_password_is_refused_on_password(api, password):
    with nothing_changes():
        response = api.post(REGISTER, payload(password=password))

    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    codes = error_codes(response)
    assert codes and {attr for _, attr in codes} == {"password"}


@pytest.mark.parametrize("field", ["email", "password", "first_name", "last_name"])
def test_required_fields(api, field):
    with nothing_changes():
        response = api.post(REGISTER, payload(**{field: ...}))

    assert response.status_code == 400
    assert error_codes(response) == [("required", field)]


def test_every_problem_is_reported(api):
    with nothing_changes():
        response = api.post(REGISTER, {"email": "not-an-email", "phone": "07123"})

    assert response.status_code == 400
    assert sorted(error_codes(response)) == sorted([
        ("invalid", "email"), ("invalid", "phone"), ("required", "password"),
        ("required", "first_name"), ("required", "last_name"),
    ])


@pytest.mark.parametrize("phone", ["07123", "not a phone", "+254 12"])
def test_invalid_phone(api, phone):
    with nothing_changes():
        response = api.post(REGISTER, payload(phone=phone))

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "phone")]


def test_invalid_json_is_a_parse_error(api):
    with nothing_changes():
        response = api.generic("POST", REGISTER, '{"email": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("parse_error", None)]


def test_unsupported_content_type(api):
    with nothing_changes():
        response = api.generic("POST", REGISTER, "email=a", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("unsupported_media_type", None)]


def test_path_without_slash_is_404(api):
    with nothing_changes():
        response = api.post(REGISTER.rstrip("/"), payload())

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_get_is_not_allowed(api):
    response = api.get(REGISTER)

    assert response.status_code == 405
    assert error_codes(response) == [("method_not_allowed", None)]


def test_registration_is_recorded_once(api):
    api.post(REGISTER, payload(phone="0712345678"))

    user = User.objects.get()
    assert AuditEntry.objects.filter(action="users.registered", target_id=str(user.pk)).count() == 1
    assert OutboundMessage.objects.filter(to__in=[user.email, user.phone]).count() == 2


def test_email_and_phone_both_taken(api, make_user):
    existing = make_user(email="amani@example.com", phone="+254712345678")

    with nothing_changes(existing):
        response = api.post(REGISTER, payload(email="AMANI@example.com", phone="0712 345 678"))

    assert response.status_code == 400
    assert sorted(error_codes(response)) == [("unique", "email"), ("unique", "phone")]
