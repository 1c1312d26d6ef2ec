"""POST <slug>/images/, PATCH/DELETE <slug>/images/<id>/: formats by content, metadata
stripped, thumbnails in the background, limits, order, who may do what."""

from __future__ import annotations

import io
import re

import pytest
from django.test import TestCase
from PIL import Image

from apps.ads.models import AdImage
from apps.ads.tests.factories import (
    IMAGE_KEYS,
    add_photo,
    detail_url,
    image_bytes,
    image_url,
    images_url,
    make_ad,
    nothing_changes,
)
from apps.users.tests.helpers import jpeg_with_exif, png_with_text, upload
from conftest import error_codes

pytestmark = pytest.mark.django_db

MEDIA_URL = re.compile(r"http://testserver/media/(ads/.+)")


@pytest.fixture
def phone(seller, catalog):
    return make_ad(owner=seller, category=catalog.phones)


def post_image(client, ad, content, name="photo.jpg", content_type="image/jpeg"):
    return client.post(images_url(ad.slug), {"image": upload(name, content, content_type)},
                       format="multipart")


def stored_path(media_root, url):
    match = MEDIA_URL.fullmatch(url)
    assert match, url
    return media_root / match.group(1)


def stored_files(media_root):
    return sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []


# --- uploads ----------------------------------------------------------------------------------


def test_jpeg_is_stored_without_exif_and_thumbnailed(seller_client, phone, media_root, api):
    original = jpeg_with_exif(size=(40, 20), orientation=6)  # rotated 90 degrees by its EXIF
    assert b"Secret Camera" in original

    response = post_image(seller_client, phone, original)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == IMAGE_KEYS
    image = AdImage.objects.get()
    assert body["id"] == image.pk
    assert body["order"] == 0
    assert (body["width"], body["height"]) == (20, 40)  # orientation applied
    assert body["thumbnail_url"] is None  # made in the background, after the commit
    path = stored_path(media_root, body["url"])
    data = path.read_bytes()
    assert b"Secret Camera" not in data
    with Image.open(path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (20, 40)
        assert not stored.getexif()
        assert "exif" not in stored.info
    # The thumbnail task ran on commit.
    image.refresh_from_db()
    assert image.thumbnail
    [shown] = api.get(detail_url(phone.slug)).json()["images"]
    assert shown["url"] == body["url"]
    thumb = stored_path(media_root, shown["thumbnail_url"])
    assert thumb.exists()
    assert b"Secret Camera" not in thumb.read_bytes()


def test_png_is_stored_without_text_chunks(seller_client, phone, media_root):
    response = post_image(seller_client, phone, png_with_text(), "photo.png", "image/png")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["width"], body["height"]) == (30, 50)
    data = stored_path(media_root, body["url"]).read_bytes()
    assert b"Secret Lane" not in data and b"Secret Camera" not in data
    with Image.open(stored_path(media_root, body["url"])) as stored:
        assert stored.format == "PNG"
        assert not stored.text
        assert not stored.getexif()


def test_webp(seller_client, phone, media_root):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera 3000"
    Image.new("RGB", (50, 30), (1, 2, 3)).save(buffer, "WEBP", exif=exif.tobytes())
    assert b"Secret Camera" in buffer.getvalue()

    response = post_image(seller_client, phone, buffer.getvalue(), "photo.webp", "image/webp")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["width"], body["height"]) == (50, 30)
    path = stored_path(media_root, body["url"])
    assert b"Secret Camera" not in path.read_bytes()
    with Image.open(path) as stored:
        assert stored.format == "WEBP"


def test_format_is_read_from_the_content_not_the_name(seller_client, phone, media_root):
    png = image_bytes("PNG", (20, 20))

    response = post_image(seller_client, phone, png, "photo.jpg", "image/jpeg")

    assert response.status_code == 201, response.json()
    with Image.open(stored_path(media_root, response.json()["url"])) as stored:
        assert stored.format == "PNG"


def test_thumbnail_is_at_most_400_px(seller_client, phone, media_root, api):
    for size in ((1200, 900), (300, 1600)):
        response = post_image(seller_client, phone, image_bytes("JPEG", size))
        assert response.status_code == 201, response.json()
        assert (response.json()["width"], response.json()["height"]) == size

    shown = api.get(detail_url(phone.slug)).json()["images"]
    sizes = []
    for image in shown:
        with Image.open(stored_path(media_root, image["thumbnail_url"])) as thumb:
            sizes.append(thumb.size)
    assert sizes == [(400, 300), (75, 400)]


def test_order_is_last_plus_one(seller_client, phone):
    orders = [post_image(seller_client, phone, image_bytes()).json()["order"] for _ in range(3)]
    assert orders == [0, 1, 2]

    middle = AdImage.objects.get(order=1)
    assert seller_client.delete(image_url(phone.slug, middle.pk)).status_code == 204
    assert post_image(seller_client, phone, image_bytes()).json()["order"] == 3


def test_owner_may_add_images_to_a_draft(seller_client, seller, catalog, buyer_client):
    draft = make_ad(owner=seller, category=catalog.phones, status="draft")

    assert post_image(seller_client, draft, image_bytes()).status_code == 201
    assert post_image(buyer_client, draft, image_bytes()).status_code == 404


# --- refusals ---------------------------------------------------------------------------------


def test_the_21st_image_is_refused(seller_client, phone, media_root):
    for _ in range(20):
        add_photo(phone)
    files = stored_files(media_root)

    with nothing_changes():
        response = post_image(seller_client, phone, image_bytes())

    assert response.status_code == 400
    assert error_codes(response) == [("too_many_images", "image")]
    assert AdImage.objects.filter(ad=phone).count() == 20
    assert stored_files(media_root) == files


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 0, 0)).save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("anim.gif", gif(), "image/gif"),
    ("photo.jpg", gif(), "image/jpeg"),  # a GIF by content, whatever the name says
    ("notes.txt", b"just some text, not an image", "text/plain"),
    ("photo.jpg", b"just some text, not an image", "image/jpeg"),
    ("photo.jpg", jpeg_with_exif()[:200], "image/jpeg"),  # truncated
    ("empty.jpg", b"", "image/jpeg"),
])
def test_what_is_not_a_usable_image_is_refused(seller_client, phone, media_root, name, content,
                                               content_type):
    with nothing_changes():
        response = post_image(seller_client, phone, content, name, content_type)

    assert response.status_code == 400, response.json()
    assert error_codes(response) == [("invalid_image", "image")]
    assert stored_files(media_root) == []


def test_an_image_over_50_megapixels_is_refused(seller_client, phone, media_root):
    buffer = io.BytesIO()
    Image.new("1", (8000, 6300)).save(buffer, "PNG")  # 50.4 Mpx in a few KiB

    with nothing_changes():
        response = post_image(seller_client, phone, buffer.getvalue(), "huge.png", "image/png")

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_image", "image")]
    assert stored_files(media_root) == []


def test_an_image_over_10_mib_is_413(seller_client, phone, media_root):
    big = image_bytes() + b"\0" * (10 * 1024 * 1024)

    with nothing_changes():
        response = post_image(seller_client, phone, big)

    assert response.status_code == 413
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("file_too_large", "image")]
    assert stored_files(media_root) == []


def test_no_file_is_400(seller_client, phone):
    with nothing_changes():
        response = seller_client.post(images_url(phone.slug), {}, format="multipart")

    assert response.status_code == 400
    assert error_codes(response) == [("required", "image")]


def test_another_users_ad_is_403(buyer_client, phone, media_root):
    with nothing_changes():
        response = post_image(buyer_client, phone, image_bytes())

    assert response.status_code == 403
    assert error_codes(response) == [("permission_denied", None)]
    assert stored_files(media_root) == []


def test_an_ad_the_caller_cannot_see_is_404(buyer_client, seller, catalog, seller_client):
    sold = make_ad(owner=seller, category=catalog.phones, status="sold")
    deleted = make_ad(owner=seller, category=catalog.phones, deleted=True)

    with nothing_changes():
        assert post_image(buyer_client, sold, image_bytes()).status_code == 404
        assert post_image(seller_client, deleted, image_bytes()).status_code == 404
        assert seller_client.post(images_url("no-such-ad-abc123"), {"image": upload(
            "a.jpg", image_bytes())}, format="multipart").status_code == 404


def test_anonymous_is_401(api, phone):
    with nothing_changes():
        response = post_image(api, phone, image_bytes())

    assert response.status_code == 401


# --- reorder ----------------------------------------------------------------------------------


def test_patch_order_reorders(seller_client, phone, api):
    first, second, third = (add_photo(phone) for _ in range(3))

    response = seller_client.patch(image_url(phone.slug, first.pk), {"order": 5})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == IMAGE_KEYS
    assert (body["id"], body["order"]) == (first.pk, 5)
    shown = api.get(detail_url(phone.slug)).json()["images"]
    assert [image["id"] for image in shown] == [second.pk, third.pk, first.pk]
    # Equal orders fall back to the id.
    seller_client.patch(image_url(phone.slug, third.pk), {"order": 1})
    seller_client.patch(image_url(phone.slug, second.pk), {"order": 1})
    shown = api.get(detail_url(phone.slug)).json()["images"]
    assert [image["id"] for image in shown] == [second.pk, third.pk, first.pk]
    assert [image["order"] for image in shown] == [1, 1, 5]


@pytest.mark.parametrize(("order", "code"), [(-1, "min_value"), ("first", "invalid"),
                                             (None, "null"), (10**6, "max_value")])
def test_bad_order_is_400(seller_client, phone, order, code):
    image = add_photo(phone)

    with nothing_changes():
        response = seller_client.patch(image_url(phone.slug, image.pk), {"order": order})

    assert response.status_code == 400
    assert error_codes(response) == [(code, "order")]


def test_reorder_of_another_users_image_is_403(buyer_client, phone):
    image = add_photo(phone)

    with nothing_changes():
        response = buyer_client.patch(image_url(phone.slug, image.pk), {"order": 3})

    assert response.status_code == 403


# --- delete -----------------------------------------------------------------------------------


def test_delete_removes_the_row_and_after_commit_the_files(seller_client, phone, media_root,
                                                           api):
    keep = add_photo(phone, thumbnail=True)
    gone = add_photo(phone, thumbnail=True)
    gone_files = [media_root / gone.file.name, media_root / gone.thumbnail.name]
    assert all(path.exists() for path in gone_files)

    response = seller_client.delete(image_url(phone.slug, gone.pk))

    assert response.status_code == 204
    assert not AdImage.objects.filter(pk=gone.pk).exists()
    assert not any(path.exists() for path in gone_files)
    assert (media_root / keep.file.name).exists()
    assert [image["id"] for image in api.get(detail_url(phone.slug)).json()["images"]] == [
        keep.pk]
    assert seller_client.delete(image_url(phone.slug, gone.pk)).status_code == 404


def test_files_stay_until_the_commit(seller, phone, media_root):
    from apps.ads import services

    image = add_photo(phone)
    path = media_root / image.file.name

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.delete_image(image=image, by=seller)
        assert path.exists()  # a rollback would still find its file
    assert not path.exists()


def test_delete_of_another_users_image_is_403(buyer_client, phone, media_root):
    image = add_photo(phone)

    with nothing_changes():
        response = buyer_client.delete(image_url(phone.slug, image.pk))

    assert response.status_code == 403
    assert (media_root / image.file.name).exists()


@pytest.mark.parametrize("image_id", ["987654", "abc", "99999999999999999999999", "-1", "1.5"])
@pytest.mark.parametrize("method", ["patch", "delete"])
def test_unknown_image_is_404(seller_client, phone, image_id, method):
    add_photo(phone)

    with nothing_changes():
        response = getattr(seller_client, method)(image_url(phone.slug, image_id), {"order": 1})

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_an_image_of_another_ad_is_404(seller_client, seller, phone, catalog):
    other = make_ad(owner=seller, category=catalog.phones)
    image = add_photo(other)

    with nothing_changes():
        assert seller_client.delete(image_url(phone.slug, image.pk)).status_code == 404
        assert seller_client.patch(image_url(phone.slug, image.pk), {"order": 2}
                                   ).status_code == 404
