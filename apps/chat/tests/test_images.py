"""Message photos: POST <conversation_id>/ as multipart with an optional `image`, checked and
re-encoded as ad photos are (API.md section 6 "Images"); `image` {url, width, height} on every
message payload, REST and socket frames alike."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.chat.models import Message
from apps.chat.tests.conftest import block, messages_url
from apps.chat.tests.sockets import receive, run_async, silent, sockets

pytestmark = pytest.mark.django_db


def photo(
    fmt: str = "JPEG", size: tuple[int, int] = (80, 60), exif: bool = False, name: str = "photo.jpg"
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 40, 40))
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        image.save(buffer, fmt, exif=data.tobytes())
    else:
        image.save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def stored_files(media_root: Path) -> list[Path]:
    return (
        sorted(p for p in (media_root / "chat").rglob("*") if p.is_file())
        if (media_root / "chat").exists()
        else []
    )


def post_photo(client: Any, conversation: Any, **data: Any) -> Any:
    return client.post(messages_url(conversation.pk), data, format="multipart")


def test_a_message_with_a_photo(client_for, buyer, seller, conversation, media_root):
    response = post_photo(
        client_for(buyer),
        conversation,
        body="Is this the one?",
        image=photo(exif=True),
        client_id="p-1",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == "Is this the one?"
    image = body["image"]
    assert set(image) == {"url", "width", "height"}
    assert (image["width"], image["height"]) == (80, 60)
    assert image["url"].startswith("http://testserver/media/chat/")
    (stored,) = stored_files(media_root)
    assert image["url"].endswith(stored.name)
    with Image.open(stored) as reread:  # re-encoded: the camera's EXIF is gone
        assert reread.format == "JPEG" and reread.size == (80, 60)
        assert not reread.getexif()
    message = Message.objects.get(pk=body["id"])
    assert (message.image_width, message.image_height) == (80, 60)

    # the seller's history and conversation list show it too, as absolute URLs
    history = client_for(seller).get(messages_url(conversation.pk)).json()["results"]
    assert history[0]["image"] == image
    listed = client_for(seller).get("/api/messages/conversations/").json()["results"]
    assert listed[0]["last_message"]["image"] == image
    # a text message has none
    assert history[1]["image"] is None


def test_png_and_webp_are_kept_in_their_format(client_for, buyer, conversation, media_root):
    for fmt, name in (("PNG", "a.png"), ("WEBP", "b.webp")):
        response = post_photo(
            client_for(buyer), conversation, body=fmt, image=photo(fmt, name=name)
        )
        assert response.status_code == 201, response.content
        assert response.json()["image"]["url"].endswith("." + name.split(".")[1])
    assert len(stored_files(media_root)) == 2


def test_a_resend_with_a_photo_stores_nothing_new(client_for, buyer, conversation, media_root):
    first = post_photo(
        client_for(buyer), conversation, body="Photo", image=photo(), client_id="same"
    )
    again = post_photo(
        client_for(buyer), conversation, body="Photo", image=photo(), client_id="same"
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(stored_files(media_root)) == 1
    assert Message.objects.filter(client_id="same").count() == 1


def error_codes(response: Any) -> list[tuple[str, str | None]]:
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg"),
        SimpleUploadedFile(
            "photo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif"
        ),
        SimpleUploadedFile("photo.jpg", b"", content_type="image/jpeg"),
    ],
    ids=["text", "gif", "empty"],
)
def test_a_bad_image_is_400_and_stores_nothing(upload, client_for, buyer, conversation, media_root):
    before = Message.objects.count()

    response = post_photo(client_for(buyer), conversation, body="Look", image=upload)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [("invalid_image", "image")]
    assert Message.objects.count() == before
    assert stored_files(media_root) == []


def test_too_many_pixels_is_400(client_for, buyer, conversation, media_root, settings):
    settings.MAX_IMAGE_PIXELS = 100 * 100
    response = post_photo(client_for(buyer), conversation, body="Big", image=photo(size=(101, 100)))
    assert response.status_code == 400
    assert error_codes(response) == [("invalid_image", "image")]
    assert stored_files(media_root) == []


def test_an_oversized_image_is_413_file_too_large(
    client_for, buyer, conversation, media_root, settings
):
    upload = photo()
    settings.MAX_IMAGE_BYTES = upload.size - 1  # as the ads' limit (10 MiB) answers
    before = Message.objects.count()

    response = post_photo(client_for(buyer), conversation, body="Big", image=upload)

    assert response.status_code == 413
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("file_too_large", "image")]
    assert Message.objects.count() == before
    assert stored_files(media_root) == []


def test_a_photo_still_needs_a_body(client_for, buyer, conversation, media_root):
    response = post_photo(client_for(buyer), conversation, body="  ", image=photo())
    assert response.status_code == 400
    assert ("blank", "body") in error_codes(response)
    assert stored_files(media_root) == []


def test_blocked_participants_cannot_send_photos(
    client_for, buyer, seller, conversation, media_root
):
    block(seller, buyer)
    before = Message.objects.count()
    response = post_photo(client_for(buyer), conversation, body="Look", image=photo())
    assert response.status_code == 403
    assert error_codes(response) == [("blocked", None)]
    assert Message.objects.count() == before
    assert stored_files(media_root) == []


def test_non_participants_get_404_and_nothing_is_stored(
    client_for, stranger, conversation, media_root
):
    response = post_photo(client_for(stranger), conversation, body="Me too", image=photo())
    assert response.status_code == 404
    assert stored_files(media_root) == []


def test_the_schema_documents_the_image_field(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    message = schema["components"]["schemas"]["MessageOutput"]
    assert "image" in message["properties"]
    operation = schema["paths"]["/api/messages/{conversation_id}/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]


@pytest.mark.django_db(transaction=True)
@run_async
async def test_a_photo_reaches_the_other_partys_socket(client_for, buyer, seller, conversation):
    async with sockets() as open_socket:
        seller_socket = await open_socket(seller)
        buyer_socket = await open_socket(buyer)

        def post() -> Any:
            return post_photo(
                client_for(buyer),
                conversation,
                body="Here it is",
                image=photo(),
                client_id=str(uuid.uuid4()),
            )

        response = await database_sync_to_async(post)()
        assert response.status_code == 201
        sent = response.json()

        for socket in (seller_socket, buyer_socket):  # every socket of both participants
            frame = await receive(socket)
            assert frame["type"] == "message.new"
            assert frame["message"]["id"] == sent["id"]
            assert frame["message"]["image"] == sent["image"]
            assert frame["message"]["image"]["url"].startswith("http://testserver/media/chat/")
        await silent(seller_socket, buyer_socket)
