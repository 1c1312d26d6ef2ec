"""apps.common.images.sanitize_image on real Pillow-made files."""

from __future__ import annotations

import io
import os
from typing import Any, cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin
from rest_framework.exceptions import ValidationError

from apps.common.errors import FileTooLarge
from apps.common.images import CleanImage, sanitize_image

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def picture(width: int = 40, height: int = 20, mode: str = "RGB") -> Image.Image:
    """Blue, with a red block in the top-left corner to follow orientation."""
    image = Image.new(mode, (width, height), BLUE if mode == "RGB" else (*BLUE, 255))
    image.paste(RED if mode == "RGB" else (*RED, 255), (0, 0, width // 4, height // 4))
    return image


def encode(image: Image.Image, image_format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def upload(content: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Model] = "Snap 9"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (1.0, 17.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (36.0, 49.0, 0.0)
    return exif


def name_of(clean: CleanImage) -> str:
    return clean.content.name or ""


def reopen(clean: CleanImage) -> Image.Image:
    clean.content.seek(0)
    image = Image.open(io.BytesIO(clean.content.read()))
    image.load()
    return image


def assert_no_metadata(image: Image.Image) -> None:
    exif = image.getexif()
    assert dict(exif) == {}, dict(exif)
    assert dict(exif.get_ifd(ExifTags.IFD.GPSInfo)) == {}
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Comment",
                "Author", "Description", "Software", "GPS"):
        assert key not in image.info, (key, image.info)
    assert getattr(image, "text", {}) == {}


def invalid_image_codes(excinfo: pytest.ExceptionInfo[ValidationError], attr: str) -> None:
    assert excinfo.value.get_codes() == {attr: ["invalid_image"]}


# --- accepted --------------------------------------------------------------------------------


def test_jpeg_with_exif_orientation_and_gps() -> None:
    original = encode(picture(40, 20), "JPEG", exif=camera_exif(orientation=6), quality=95)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    clean = sanitize_image(upload(original, "camera.jpg"))

    assert clean.format == "JPEG"
    assert (clean.width, clean.height) == (20, 40)  # orientation 6: turned a quarter
    assert name_of(clean).endswith(".jpg")
    assert "camera" not in name_of(clean)
    image = reopen(clean)
    assert image.format == "JPEG"
    assert image.size == (20, 40)
    assert_no_metadata(image)
    assert b"PhoneCo" not in clean.content.read()


def test_jpeg_orientation_6_turns_the_picture_clockwise() -> None:
    original = encode(picture(40, 20), "JPEG", exif=camera_exif(orientation=6), quality=95)

    image = reopen(sanitize_image(upload(original))).convert("RGB")

    # The red top-left corner of the stored pixels is shown top-right once turned.
    red, _, blue = cast(tuple[int, int, int], image.getpixel((image.width - 2, 1)))
    assert red > 200 and blue < 60
    red, _, blue = cast(tuple[int, int, int], image.getpixel((1, 1)))
    assert blue > 200 and red < 60


def test_jpeg_without_orientation_keeps_its_size() -> None:
    original = encode(picture(40, 20), "JPEG", quality=95)

    clean = sanitize_image(upload(original))

    assert (clean.width, clean.height) == (40, 20)


def test_png_text_chunks_are_dropped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Amani Wanjiru")
    info.add_text("Description", "my house at -1.29, 36.82")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    original = encode(picture(30, 30, mode="RGBA"), "PNG", pnginfo=info)
    assert getattr(Image.open(io.BytesIO(original)), "text", None)

    clean = sanitize_image(upload(original, "drawing.png"))

    assert clean.format == "PNG"
    assert name_of(clean).endswith(".png")
    image = reopen(clean)
    assert image.format == "PNG"
    assert image.size == (30, 30)
    assert image.mode == "RGBA"  # transparency kept
    assert_no_metadata(image)
    clean.content.seek(0)
    assert b"Amani" not in clean.content.read()


def test_webp_is_accepted_and_reencoded_bare() -> None:
    original = encode(picture(24, 16), "WEBP", exif=camera_exif(orientation=1).tobytes())
    assert Image.open(io.BytesIO(original)).info.get("exif")

    clean = sanitize_image(upload(original, "pic.webp"))

    assert clean.format == "WEBP"
    assert name_of(clean).endswith(".webp")
    image = reopen(clean)
    assert image.format == "WEBP"
    assert image.size == (24, 16)
    assert_no_metadata(image)


def test_format_is_recognised_by_content_not_name() -> None:
    original = encode(picture(), "PNG")

    clean = sanitize_image(upload(original, "looks-like.jpg"))

    assert clean.format == "PNG"
    assert name_of(clean).endswith(".png")


def test_reads_from_the_start_even_if_the_file_was_read() -> None:
    file = upload(encode(picture(), "JPEG"))
    file.read()

    assert sanitize_image(file).format == "JPEG"


# --- refused ---------------------------------------------------------------------------------


def test_gif_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(encode(picture(), "GIF"), "anim.gif"), attr="avatar")

    invalid_image_codes(excinfo, "avatar")


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "ICO"])
def test_other_formats_are_refused(image_format: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(encode(picture(16, 16), image_format)))

    invalid_image_codes(excinfo, "image")


def test_random_bytes_are_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(os.urandom(4096), "photo.jpg"))

    invalid_image_codes(excinfo, "image")


def test_empty_file_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(b"", "photo.jpg"))

    invalid_image_codes(excinfo, "image")


def test_truncated_jpeg_is_refused() -> None:
    noisy = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    original = encode(noisy, "JPEG", quality=90)

    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(original[: len(original) // 2]), attr="images")

    invalid_image_codes(excinfo, "images")


def test_truncated_png_is_refused() -> None:
    noisy = Image.frombytes("RGB", (100, 100), os.urandom(100 * 100 * 3))
    original = encode(noisy, "PNG")

    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(original[: len(original) // 2]))

    invalid_image_codes(excinfo, "image")


def test_file_over_10_mib_is_413(settings: Any) -> None:
    assert settings.MAX_IMAGE_BYTES == 10 * 1024 * 1024
    big = encode(picture(), "JPEG")
    big += b"\0" * (10 * 1024 * 1024 + 1 - len(big))

    with pytest.raises(FileTooLarge) as excinfo:
        sanitize_image(upload(big), attr="avatar")

    assert excinfo.value.status_code == 413
    assert excinfo.value.get_codes() == "file_too_large"
    assert excinfo.value.attr == "avatar"


def test_file_of_exactly_10_mib_is_not_too_large() -> None:
    content = encode(picture(), "PNG")
    content += b"\0" * (10 * 1024 * 1024 - len(content))  # trailing bytes after IEND

    assert sanitize_image(upload(content)).format == "PNG"


def test_more_pixels_than_allowed_is_refused(settings: Any) -> None:
    settings.MAX_IMAGE_PIXELS = 799

    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(encode(picture(40, 20), "PNG")))

    invalid_image_codes(excinfo, "image")
    settings.MAX_IMAGE_PIXELS = 800
    assert sanitize_image(upload(encode(picture(40, 20), "PNG"))).width == 40


def test_decompression_bomb_is_refused_before_decoding() -> None:
    """8000x8000 pixels (64 M > 50 M allowed) in a few kilobytes of PNG."""
    bomb = encode(Image.new("1", (8000, 8000)), "PNG", optimize=True)
    assert len(bomb) < 1024 * 1024

    with pytest.raises(ValidationError) as excinfo:
        sanitize_image(upload(bomb))

    invalid_image_codes(excinfo, "image")
