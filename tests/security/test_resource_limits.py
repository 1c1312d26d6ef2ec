"""Unrestricted resource consumption (OWASP API4 2023): page sizes, upload sizes, and the SMS /
email spend caps (codes per user and per address per UTC day)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from PIL import Image

from apps.notifications.models import OutboundMessage
from apps.users.models import User
from conftest import bearer_client, error_codes
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/ads/",
        "/api/ads/my-ads/",
        "/api/messages/conversations/",
        "/api/moderation/reviews/{owner}/",
        "/api/payments/",
    ],
)
def test_page_size_is_capped_at_100(world: World, path: str) -> None:
    client = bearer_client(world.owner)

    response = client.get(path.format(owner=world.owner.pk), {"page_size": 1_000_000})

    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["results"]) <= 100
    assert body["next"] is None or "page_size=100" in body["next"] or body["count"] <= 100


def test_a_huge_page_size_reads_no_more_than_100_rows(world: World) -> None:
    from apps.ads.tests.factories import make_ad

    for _ in range(105):
        make_ad(owner=world.buyer, category=world.category, title="Cheap phone for sale")

    body = bearer_client(world.owner).get("/api/ads/", {"page_size": 999}).json()

    assert len(body["results"]) == 100
    assert body["count"] >= 105


# --- uploads -------------------------------------------------------------------------------------


def big_jpeg(min_bytes: int) -> io.BytesIO:
    """A real JPEG of at least min_bytes (noise does not compress)."""
    side = 1200
    while True:
        buffer = io.BytesIO()
        Image.effect_noise((side, side), 100).convert("RGB").save(buffer, "JPEG", quality=100)
        if buffer.tell() >= min_bytes:
            buffer.seek(0)
            buffer.name = "big.jpg"
            return buffer
        side *= 2


def test_a_photo_over_the_size_cap_is_413_and_stores_nothing(world: World, settings: Any) -> None:
    settings.MAX_IMAGE_BYTES = 200_000
    before = world.ad.images.count()

    response = bearer_client(world.owner).post(
        f"/api/ads/{world.ad.slug}/images/", {"image": big_jpeg(250_000)}, format="multipart"
    )

    assert response.status_code == 413, response.content
    assert error_codes(response)[0][0] == "file_too_large"
    assert world.ad.images.count() == before


def test_a_request_body_over_the_memory_cap_is_refused(world: World, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {
        "title": "x" * 50,
        "description": "y" * 20_000,
        "category": world.category.pk,
        "price": "10.00",
    }

    response = bearer_client(world.owner).post("/api/ads/", body, format="json")

    assert response.status_code in (400, 413), response.content
    assert not world.owner.ads.filter(title="x" * 50).exists()


# --- SMS and email spend caps ----------------------------------------------------------------


@pytest.fixture
def caps(settings: Any, throttle_rates: Any) -> Any:
    settings.VERIFICATION_SENDS_PER_DAY = 3
    throttle_rates(resend=None)  # the per-minute resend limit off: only the daily cap counts
    return settings


def sms_count(folder: Path, to: str) -> int:
    return sum(1 for f in folder.glob("*.txt") if f.read_text().startswith(f"To: {to}\n"))


def test_sms_resends_stop_at_the_daily_cap_with_429(
    caps: Any, make_user: Any, sms_folder: Path
) -> None:
    user = make_user(phone="+254711000222")
    client = bearer_client(user)

    answers = [client.post("/api/users/verify/resend/", {"channel": "phone"}) for _ in range(5)]

    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert error_codes(answers[3]) == [("throttled", None)]
    assert 0 < int(answers[3]["Retry-After"]) <= 86400
    assert sms_count(sms_folder, "+254711000222") == 3


def test_changing_the_phone_again_and_again_sends_at_most_the_cap(
    caps: Any, make_user: Any, sms_folder: Path
) -> None:
    """Pointing your profile at someone else's numbers must not become an SMS cannon."""
    user = make_user()
    client = bearer_client(user)

    for n in range(6):
        response = client.patch("/api/users/profile/", {"phone": f"+25471100{n:04d}"})
        assert response.status_code == 200, response.content

    assert len(list(sms_folder.glob("*.txt"))) == 3
    assert User.objects.get(pk=user.pk).phone == "+254711000005"  # the edit itself went through


def test_one_number_gets_at_most_the_cap_whoever_asks(
    caps: Any, make_user: Any, sms_folder: Path
) -> None:
    victim = "+254722999888"
    for _ in range(5):
        user = make_user()
        bearer_client(user).patch("/api/users/profile/", {"phone": victim})
        User.objects.filter(pk=user.pk).update(phone=None)  # free the number for the next one

    assert sms_count(sms_folder, victim) == 3


def test_password_reset_emails_stop_at_the_cap_with_the_same_answer(
    caps: Any, api: Any, user: Any
) -> None:
    mail.outbox.clear()

    answers = [api.post("/api/users/password/reset/", {"email": user.email}) for _ in range(5)]
    unknown = api.post("/api/users/password/reset/", {"email": "nobody@example.com"})

    assert {a.status_code for a in answers} == {200}
    assert unknown.status_code == 200 and unknown.json() == answers[-1].json()
    assert len([m for m in mail.outbox if user.email in m.to]) == 3
    assert OutboundMessage.objects.filter(to=user.email).count() == 3
