"""Helpers for the search suite: ads made through the ads services, URLs, small readers."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus
from apps.ads.status import Actor
from apps.categories.models import Category
from apps.users.models import User

SEARCH = "/api/ads/search/"
SUGGEST = "/api/ads/search/suggest/"
SAVED = "/api/ads/saved-searches/"

S = AdStatus
PATHS: dict[str, list[tuple[AdStatus, Actor]]] = {
    S.DRAFT: [],
    S.PENDING: [(S.PENDING, Actor.OWNER)],
    S.ACTIVE: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM)],
    S.REJECTED: [(S.PENDING, Actor.OWNER), (S.REJECTED, Actor.SYSTEM)],
    S.SOLD: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM), (S.SOLD, Actor.OWNER)],
    S.EXPIRED: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM), (S.EXPIRED, Actor.SYSTEM)],
    S.HIDDEN: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM), (S.HIDDEN, Actor.STAFF)],
}
EDITABLE = set(ad_services.EDITABLE_FIELDS)
_numbers = itertools.count(1)
_clock = itertools.count(1)


def saved_url(saved_id: object) -> str:
    return f"{SAVED}{saved_id}/"


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def make_ad(*, owner: User, category: Category, status: str = S.ACTIVE, deleted: bool = False,
            images: int = 0, **fields: Any) -> Ad:
    """An ad walked through the real lifecycle; non-editable fields (`promotion_tier`,
    `published_at`...) are then written onto the row. Each ad is published a little later than
    the previous one unless `published_at` is given, so "newest" is well defined."""
    n = next(_numbers)
    editable = {key: value for key, value in fields.items() if key in EDITABLE}
    forced = {key: value for key, value in fields.items() if key not in EDITABLE}
    editable.setdefault("title", f"Plain item {n}")
    editable.setdefault("description", f"Nothing special, lot {n}.")
    editable["price"] = Decimal(str(editable.get("price", "1500.00")))
    ad = ad_services.create_ad(owner=owner, draft=True, category=category, **editable)
    for _ in range(images):
        ad_services.add_image(ad=ad, upload=photo(), by=owner)
    for to, actor in PATHS[status]:
        ad = ad_services.change_ad_status(ad_id=ad.pk, to=to, actor=actor,
                                          by=owner if actor == Actor.OWNER else None)
    if deleted:
        ad_services.delete_ad(ad=ad, by=owner)
    if status in (S.ACTIVE, S.SOLD, S.EXPIRED, S.HIDDEN) and "published_at" not in forced:
        forced["published_at"] = minutes_ago(10_000 - next(_clock))
    if forced:
        Ad.objects.filter(pk=ad.pk).update(**forced)
    ad.refresh_from_db()
    return ad


def minutes_ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def ids(response: Any) -> list[str]:
    return [item["id"] for item in response.json()["results"]]


def titles(response: Any) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


def error_attrs(response: Any) -> list[str | None]:
    return [error["attr"] for error in response.json()["errors"]]
