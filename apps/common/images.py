"""Uploaded images: recognised by content, bounded in bytes and pixels, re-encoded bare.

Used for avatars and ad photos alike. The stored file is rebuilt from decoded pixels, so no
metadata (EXIF, GPS, XMP, text chunks, ICC) survives, and orientation from EXIF is applied first.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.common.errors import FieldError, FileTooLarge

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# Pillow refuses (DecompressionBombError) above twice this; we check our own limit exactly.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    width: int
    height: int
    format: str


def invalid(attr: str, detail: str) -> FieldError:
    return FieldError(attr, detail, code="invalid_image")


def sanitize_image(upload: UploadedFile, *, attr: str = "image") -> CleanImage:
    if upload.size is not None and upload.size > settings.MAX_IMAGE_BYTES:
        raise FileTooLarge(
            f"Images may be at most {settings.MAX_IMAGE_BYTES // (1024 * 1024)} MiB.", attr=attr
        )
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(upload)
            image_format = source.format or ""
            if image_format not in ALLOWED_FORMATS:
                raise invalid(attr, "Upload a JPEG, PNG or WebP image.")
            width, height = source.size
            if width * height > settings.MAX_IMAGE_PIXELS:
                raise invalid(attr, "The image has too many pixels.")
            source.load()
            oriented = ImageOps.exif_transpose(source) or source
    except FieldError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise invalid(attr, "The file is not a readable image.") from exc
    return reencode(oriented, image_format)


def reencode(image: Image.Image, image_format: str) -> CleanImage:
    keep_alpha = image_format != "JPEG" and (
        image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    )
    mode = "RGBA" if keep_alpha else "RGB"
    pixels = image.convert(mode)
    bare = Image.frombytes(mode, pixels.size, pixels.tobytes())  # pixels only, no metadata
    buffer = io.BytesIO()
    if image_format == "JPEG":
        bare.save(buffer, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        bare.save(buffer, "PNG", optimize=True)
    else:
        bare.save(buffer, "WEBP", quality=85)
    name = f"{uuid.uuid4().hex}.{ALLOWED_FORMATS[image_format]}"
    return CleanImage(ContentFile(buffer.getvalue(), name=name), bare.width, bare.height,
                      image_format)
