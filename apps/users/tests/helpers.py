"""Helpers shared by the accounts tests: URLs, sign-in shortcuts and "nothing changed" checks."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import mail
from PIL import Image
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.common.models import AuditEntry
from apps.notifications.models import OutboundMessage
from apps.users.models import Block, User, VerificationCode

USERS = "/api/users/"
REGISTER = USERS + "register/"
LOGIN = USERS + "login/"
REFRESH = USERS + "token/refresh/"
LOGOUT = USERS + "logout/"
VERIFY_EMAIL = USERS + "verify/email/"
VERIFY_PHONE = USERS + "verify/phone/"
RESEND = USERS + "verify/resend/"
PROFILE = USERS + "profile/"
RESET = USERS + "password/reset/"
RESET_CONFIRM = USERS + "password/reset/confirm/"
CHANGE = USERS + "password/change/"
BLOCK = USERS + "block/"
BLOCKED = USERS + "blocked/"


def unblock_url(user_id: object) -> str:
    return f"{USERS}unblock/{user_id}/"


def public_url(user_id: object) -> str:
    return f"{USERS}{user_id}/"


OWN_PROFILE_KEYS = {
    "id", "email", "phone", "first_name", "last_name", "display_name", "avatar", "bio",
    "location", "email_verified", "phone_verified", "is_staff", "member_since",
    "rating_average", "rating_count", "active_ads_count", "response_rate",
    "median_response_minutes",
}
PUBLIC_PROFILE_KEYS = {
    "id", "display_name", "avatar", "bio", "location", "member_since", "email_verified",
    "phone_verified", "rating_average", "rating_count", "active_ads_count", "response_rate",
    "median_response_minutes",
}


def sms_files() -> list[Path]:
    return sorted(Path(settings.SMS_FILE_PATH).glob("*.txt"))


def db_state() -> dict[str, Any]:
    """Row counts of everything an accounts request may write, plus what was sent."""
    return {
        "users": User.objects.count(),
        "codes": VerificationCode.objects.count(),
        "outbound": OutboundMessage.objects.count(),
        "blocks": Block.objects.count(),
        "audit": AuditEntry.objects.count(),
        "outstanding_tokens": OutstandingToken.objects.count(),
        "blacklisted_tokens": BlacklistedToken.objects.count(),
        "emails_sent": len(mail.outbox),
        "sms_sent": len(sms_files()),
    }


def user_row(user: User) -> dict[str, Any]:
    return dict(User.objects.filter(pk=user.pk).values().get())


def code_rows() -> list[dict[str, Any]]:
    return [dict(row) for row in VerificationCode.objects.order_by("pk").values()]


@contextmanager
def nothing_changes(*users: User, codes: bool = True) -> Iterator[None]:
    """The block's requests write nothing: same counts, same user rows (and same codes)."""
    before = (db_state(), [user_row(u) for u in users], code_rows() if codes else None)
    yield
    after = (db_state(), [user_row(u) for u in users], code_rows() if codes else None)
    assert after == before


def retry_after(response: Any) -> int:
    assert response.status_code == 429, response.content
    value = response.headers.get("Retry-After")
    assert value is not None, "a 429 must carry Retry-After"
    assert value.isdigit(), value
    return int(value)


def login(api: Any, password: str, **identifier: str) -> Any:
    return api.post(LOGIN, {**identifier, "password": password})


def tokens_for(api: Any, user: User, password: str) -> dict[str, Any]:
    response = login(api, password, email=user.email)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(api: Any, token: str) -> Any:
    return api.post(REFRESH, {"refresh": token})


# --- images -----------------------------------------------------------------------------------


def jpeg_with_exif(size: tuple[int, int] = (40, 20), orientation: int = 1) -> bytes:
    """A real JPEG carrying EXIF: camera model, GPS position and an orientation tag."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera 3000"  # Model
    exif[0x0112] = orientation  # Orientation
    exif[0x8825] = {1: "S", 2: (1.0, 17.0, 0.0), 3: "E", 4: (36.0, 49.0, 0.0)}  # GPS: Nairobi
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png_with_text(size: tuple[int, int] = (30, 50)) -> bytes:
    """A real PNG carrying EXIF and a text chunk."""
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGBA", size, (10, 120, 200, 255))
    info = PngInfo()
    info.add_text("Comment", "home address: 12 Secret Lane")
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera 3000"
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=exif.tobytes())
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)
