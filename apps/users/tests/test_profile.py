"""profile/ (GET, PUT, PATCH, avatar uploads) and the public profile <id>/."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image

from apps.locations.models import Location
from apps.users.models import CodePurpose, User, VerificationCode
from apps.users.tests.helpers import (
    OWN_PROFILE_KEYS,
    PROFILE,
    PUBLIC_PROFILE_KEYS,
    VERIFY_EMAIL,
    VERIFY_PHONE,
    jpeg_with_exif,
    nothing_changes,
    png_with_text,
    public_url,
    sms_files,
    upload,
    user_row,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root: Path) -> list[Path]:
    return sorted(p for p in media_root.rglob("*") if p.is_file())


@pytest.fixture
def amani(make_user):
    return make_user(email="amani@example.com", phone="+254712345678", phone_verified=True,
                     first_name="Amani", last_name="Wanjiru", bio="Selling phones.")


@pytest.fixture
def client(amani, client_for):
    return client_for(amani)


@pytest.fixture
def nairobi(db):
    region = Location.objects.create(name="Nairobi County", slug="nairobi-county")
    return Location.objects.create(name="Nairobi", slug="nairobi", parent=region)


# --- read and write ---------------------------------------------------------------------------


def test_get_own_profile(client, amani):
    response = client.get(PROFILE)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == OWN_PROFILE_KEYS
    assert body["id"] == str(amani.pk)
    assert body["email"] == "amani@example.com"
    assert body["phone"] == "+254712345678"
    assert body["display_name"] == "Amani W."
    assert body["bio"] == "Selling phones."
    assert (body["email_verified"], body["phone_verified"]) == (True, True)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_names_and_bio(client, amani, method):
    response = getattr(client, method)(PROFILE, {"first_name": "Zawadi", "bio": "New bio"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["first_name"], body["last_name"]) == ("Zawadi", "Wanjiru")
    assert body["display_name"] == "Zawadi W."
    assert body["bio"] == "New bio"
    amani.refresh_from_db()
    assert (amani.first_name, amani.last_name, amani.bio) == ("Zawadi", "Wanjiru", "New bio")
    # Untouched contact details keep their verification.
    assert amani.email_verified and amani.phone_verified


def test_bio_of_500_characters_is_fine(client, amani):
    response = client.patch(PROFILE, {"bio": "x" * 500})

    assert response.status_code == 200
    assert User.objects.get(pk=amani.pk).bio == "x" * 500


def test_read_only_fields_are_ignored(client, amani):
    before = user_row(amani)

    response = client.patch(PROFILE, {
        "is_staff": True, "is_superuser": True, "email_verified": False,
        "phone_verified": False, "id": str(uuid.uuid4()), "rating_count": 99,
        "rating_average": 5, "active_ads_count": 7, "is_suspended": True,
        "member_since": "2000-01-01T00:00:00Z", "password": "new-password-123",
    })

    assert response.status_code == 200, response.json()
    assert user_row(amani) == before
    body = response.json()
    assert body["id"] == str(amani.pk) and body["is_staff"] is False
    assert body["rating_count"] == 0 and body["email_verified"] is True


def test_read_only_fields_are_ignored_next_to_a_real_change(client, amani):
    response = client.patch(PROFILE, {"is_staff": True, "email_verified": False,
                                      "first_name": "Zawadi"})

    assert response.status_code == 200
    amani.refresh_from_db()
    assert amani.first_name == "Zawadi"
    assert amani.is_staff is False and amani.email_verified is True


# --- email and phone --------------------------------------------------------------------------


def test_new_email_must_be_verified_again(client, amani, last_email_code):
    response = client.patch(PROFILE, {"email": "Zawadi@Example.com"})

    assert response.status_code == 200, response.json()
    assert response.json()["email"] == "zawadi@example.com"
    assert response.json()["email_verified"] is False
    amani.refresh_from_db()
    assert (amani.email, amani.email_verified) == ("zawadi@example.com", False)
    assert [m.to for m in mail.outbox] == [["zawadi@example.com"]]

    verified = client.post(VERIFY_EMAIL, {"code": last_email_code("zawadi@example.com")})
    assert verified.status_code == 200 and verified.json()["email_verified"] is True


def test_a_code_for_the_old_email_does_not_verify_the_new_one(client, amani):
    from apps.users import services

    # A pending code for the old address (as if it had been requested before the change)...
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("apps.users.codes.new_code", lambda: "123456")
        services.send_code(user=amani, purpose=CodePurpose.EMAIL)
    VerificationCode.objects.filter(user=amani).update(target="old@example.com")

    with nothing_changes(amani, codes=False):
        response = client.post(VERIFY_EMAIL, {"code": "123456"})

    assert error_codes(response) == [("invalid_code", "code")]


def test_same_email_in_another_case_is_no_change(client, amani):
    with nothing_changes(amani):
        response = client.patch(PROFILE, {"email": "AMANI@example.com"})

    assert response.status_code == 200
    assert response.json()["email_verified"] is True


@pytest.mark.parametrize("spelling", ["0722 000 111", "+254-722-000-111", "254722000111"])
def test_new_phone_must_be_verified_again(client, amani, last_sms_code, spelling):
    response = client.patch(PROFILE, {"phone": spelling})

    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == "+254722000111"
    assert response.json()["phone_verified"] is False
    amani.refresh_from_db()
    assert (amani.phone, amani.phone_verified, amani.email_verified) == (
        "+254722000111", False, True
    )
    assert len(sms_files()) == 1 and mail.outbox == []

    verified = client.post(VERIFY_PHONE, {"code": last_sms_code("+254722000111")})
    assert verified.status_code == 200 and verified.json()["phone_verified"] is True


def test_same_phone_in_another_spelling_is_no_change(client, amani):
    with nothing_changes(amani):
        response = client.patch(PROFILE, {"phone": "0712 345 678"})

    assert response.status_code == 200
    assert response.json()["phone_verified"] is True


def test_removing_the_phone(client, amani):
    response = client.patch(PROFILE, {"phone": None})

    assert response.status_code == 200, response.json()
    assert response.json()["phone"] is None
    amani.refresh_from_db()
    assert (amani.phone, amani.phone_verified) == (None, False)
    assert sms_files() == []


@pytest.mark.parametrize("spelling", ["0722000111", "+254 722-000-111"])
def test_phone_taken_by_someone_else(client, amani, make_user, spelling):
    other = make_user(phone="+254722000111")

    with nothing_changes(amani, other):
        response = client.patch(PROFILE, {"phone": spelling, "first_name": "Zawadi"})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [("unique", "phone")]


@pytest.mark.parametrize("spelling", ["taken@example.com", "TAKEN@Example.com"])
def test_email_taken_by_someone_else(client, amani, make_user, spelling):
    other = make_user(email="taken@example.com")

    with nothing_changes(amani, other):
        response = client.put(PROFILE, {"email": spelling})

    assert response.status_code == 400
    assert error_codes(response) == [("unique", "email")]


@pytest.mark.parametrize(("body", "expected"), [
    ({"bio": "x" * 501, "first_name": "Zawadi"}, [("max_length", "bio")]),
    ({"first_name": "x" * 61}, [("max_length", "first_name")]),
    ({"email": "not-an-email"}, [("invalid", "email")]),
    ({"phone": "07123"}, [("invalid", "phone")]),
    ({"first_name": ""}, [("blank", "first_name")]),
])
def test_invalid_values_change_nothing(client, amani, body, expected):
    with nothing_changes(amani):
        response = client.patch(PROFILE, body)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == expected


# --- location ---------------------------------------------------------------------------------


def test_location_by_id(client, amani, nairobi):
    response = client.patch(PROFILE, {"location": nairobi.pk})

    assert response.status_code == 200, response.json()
    assert response.json()["location"] == {"id": nairobi.pk, "slug": "nairobi",
                                           "name": "Nairobi"}
    assert User.objects.get(pk=amani.pk).location_id == nairobi.pk

    cleared = client.patch(PROFILE, {"location": None})
    assert cleared.status_code == 200 and cleared.json()["location"] is None
    assert User.objects.get(pk=amani.pk).location_id is None


@pytest.mark.parametrize(("value", "code"), [
    (999_999, "does_not_exist"), ("nairobi", "incorrect_type"),
])
def test_unknown_location(client, amani, nairobi, value, code):
    with nothing_changes(amani):
        response = client.patch(PROFILE, {"location": value})

    assert response.status_code == 400
    assert error_codes(response) == [(code, "location")]


# --- avatar -----------------------------------------------------------------------------------


def test_jpeg_avatar_is_stored_without_exif(client, amani, media_root):
    # Orientation 6: the camera was turned, so the 40x20 pixels display as 20x40.
    original = jpeg_with_exif(size=(40, 20), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif()  # the upload does carry EXIF

    response = client.patch(PROFILE, {"avatar": upload("me.jpg", original)}, format="multipart")

    assert response.status_code == 200, response.json()
    amani.refresh_from_db()
    assert amani.avatar.name.startswith("avatars/")
    url = response.json()["avatar"]
    assert url == f"http://testserver/media/{amani.avatar.name}"
    [stored] = stored_files(media_root)
    assert stored == media_root / amani.avatar.name
    data = stored.read_bytes()
    assert b"Secret Camera" not in data and b"Exif" not in data
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info
        assert image.size == (20, 40)  # orientation applied, then dropped


def test_png_avatar_is_stored_without_metadata(client, amani, media_root):
    response = client.patch(PROFILE, {"avatar": upload("me.png", png_with_text(), "image/png")},
                            format="multipart")

    assert response.status_code == 200, response.json()
    [stored] = stored_files(media_root)
    data = stored.read_bytes()
    assert b"Secret" not in data
    with Image.open(stored) as image:
        assert image.format == "PNG"
        assert image.size == (30, 50)
        assert not image.getexif()
        assert "Comment" not in image.info and not getattr(image, "text", {})


def test_webp_avatar(client, amani, media_root):
    buffer = io.BytesIO()
    Image.new("RGB", (24, 12), (0, 200, 0)).save(buffer, "WEBP")

    response = client.patch(PROFILE, {"avatar": upload("me.webp", buffer.getvalue(),
                                                       "image/webp")}, format="multipart")

    assert response.status_code == 200, response.json()
    [stored] = stored_files(media_root)
    with Image.open(stored) as image:
        assert (image.format, image.size) == ("WEBP", (24, 12))


def test_image_over_50_megapixels(client, amani, media_root):
    buffer = io.BytesIO()
    Image.new("1", (8000, 6300)).save(buffer, "PNG")  # 50.4 Mpx, a few KiB

    with nothing_changes(amani):
        response = client.patch(PROFILE, {"avatar": upload("huge.png", buffer.getvalue(),
                                                           "image/png")}, format="multipart")

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_image", "avatar")]
    assert stored_files(media_root) == []


def test_image_type_is_judged_by_content_not_name(client, amani, media_root):
    png = png_with_text()

    response = client.patch(PROFILE, {"avatar": upload("me.jpg", png, "image/jpeg")},
                            format="multipart")

    assert response.status_code == 200, response.json()
    [stored] = stored_files(media_root)
    with Image.open(stored) as image:
        assert image.format == "PNG"


@pytest.mark.parametrize(("name", "content"), [
    ("me.jpg", b"this is only text, not a picture\n"),
    ("me.jpg", b""),
    ("me.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00"
               b"\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"),
    ("me.jpg", jpeg_with_exif()[:200]),  # truncated: undecodable
])
def test_not_an_accepted_image(client, amani, media_root, name, content):
    with nothing_changes(amani):
        response = client.patch(
            PROFILE, {"avatar": upload(name, content), "first_name": "Zawadi"},
            format="multipart",
        )

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [("invalid_image", "avatar")]
    assert stored_files(media_root) == []


def test_file_over_10_mib(client, amani, media_root):
    big = jpeg_with_exif() + b"\0" * (10 * 1024 * 1024)

    with nothing_changes(amani):
        response = client.patch(
            PROFILE, {"avatar": upload("big.jpg", big), "first_name": "Zawadi"},
            format="multipart",
        )

    assert response.status_code == 413
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("file_too_large", "avatar")]
    assert stored_files(media_root) == []


def test_avatar_null_removes_it(client, amani, media_root):
    client.patch(PROFILE, {"avatar": upload("me.jpg", jpeg_with_exif())}, format="multipart")
    assert len(stored_files(media_root)) == 1

    response = client.patch(PROFILE, {"avatar": None})

    assert response.status_code == 200, response.json()
    assert response.json()["avatar"] is None
    amani.refresh_from_db()
    assert not amani.avatar
    assert stored_files(media_root) == []


def test_empty_avatar_in_a_form_removes_it(client, amani, media_root):
    client.patch(PROFILE, {"avatar": upload("me.jpg", jpeg_with_exif())}, format="multipart")

    response = client.patch(PROFILE, {"avatar": ""}, format="multipart")

    assert response.status_code == 200, response.json()
    assert response.json()["avatar"] is None
    assert stored_files(media_root) == []


def test_new_avatar_replaces_the_old_file(client, amani, media_root):
    client.patch(PROFILE, {"avatar": upload("a.jpg", jpeg_with_exif())}, format="multipart")
    [first] = stored_files(media_root)

    response = client.patch(PROFILE, {"avatar": upload("b.png", png_with_text(), "image/png")},
                            format="multipart")

    assert response.status_code == 200
    [second] = stored_files(media_root)
    assert second != first and second.suffix == ".png"


def test_failed_upload_keeps_the_old_avatar(client, amani, media_root):
    client.patch(PROFILE, {"avatar": upload("a.jpg", jpeg_with_exif())}, format="multipart")
    amani.refresh_from_db()
    files = stored_files(media_root)

    with nothing_changes(amani):
        response = client.patch(PROFILE, {"avatar": upload("x.jpg", b"nope")},
                                format="multipart")

    assert response.status_code == 400
    assert stored_files(media_root) == files


def test_profile_needs_authentication(api, amani):
    with nothing_changes(amani):
        for method in ("get", "put", "patch"):
            response = getattr(api, method)(PROFILE, {"first_name": "Hacker"})
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert error_codes(response) == [("not_authenticated", None)]


def test_profile_rejects_post_and_delete(client, amani):
    with nothing_changes(amani):
        for method in ("post", "delete"):
            response = getattr(client, method)(PROFILE)
            assert response.status_code == 405
            assert error_codes(response) == [("method_not_allowed", None)]


# --- public profile ---------------------------------------------------------------------------


def test_public_profile(api, amani, nairobi):
    User.objects.filter(pk=amani.pk).update(location=nairobi)

    response = api.get(public_url(amani.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_PROFILE_KEYS
    assert body["id"] == str(amani.pk)
    assert body["display_name"] == "Amani W."
    assert body["location"] == {"id": nairobi.pk, "slug": "nairobi", "name": "Nairobi"}
    assert body["rating_average"] is None and body["rating_count"] == 0
    text = json.dumps(body)
    for secret in ("amani@example.com", "+254712345678", "712345678", "Wanjiru"):
        assert secret not in text


def test_public_profile_avatar_is_absolute(client, api, amani):
    client.patch(PROFILE, {"avatar": upload("a.jpg", jpeg_with_exif())}, format="multipart")

    response = api.get(public_url(amani.pk))

    assert response.json()["avatar"].startswith("http://testserver/media/avatars/")


def test_public_profile_rating_average(api, amani):
    User.objects.filter(pk=amani.pk).update(rating_count=3, rating_total=13)

    body = api.get(public_url(amani.pk)).json()

    assert body["rating_average"] == 4.33 and body["rating_count"] == 3


@pytest.mark.parametrize("user_id", [
    str(uuid.uuid4()), "not-a-uuid", "12345", str(uuid.uuid4()).upper() + "x",
])
def test_unknown_public_profile(api, amani, user_id):
    response = api.get(public_url(user_id))

    assert response.status_code == 404
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("not_found", None)]


@pytest.mark.parametrize("fields", [
    {"is_suspended": True, "suspended_at": timezone.now()}, {"is_active": False},
])
def test_hidden_accounts_have_no_public_profile(api, amani, fields):
    User.objects.filter(pk=amani.pk).update(**fields)

    response = api.get(public_url(amani.pk))

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
