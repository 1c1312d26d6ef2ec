"""Test helpers for the ads suite: URLs, shapes, and ads made through the services.

`make_ad` walks an ad through the real lifecycle (create as draft, then the moves of
`apps.ads.status`), so category `ad_count`, the owner's `active_ads_count` and the audit log
stay right; fields the services never set (promotion, dates, counters) can then be forced onto
the row for tests that need an odd state.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

from apps.ads import services
from apps.ads.models import Ad, AdImage, AdStatus, Favorite, ModerationReason
from apps.ads.status import Actor
from apps.categories.models import Category
from apps.common.models import AuditEntry
from apps.locations import services as location_services
from apps.locations.models import Location
from apps.users.models import User

ADS = "/api/ads/"
MY_ADS = ADS + "my-ads/"
FAVORITES = ADS + "favorites/"

AD_KEYS = {
    "id", "slug", "title", "description", "category", "location", "price", "currency",
    "negotiable", "condition", "attributes", "status", "images", "owner", "views_count",
    "favorites_count", "is_favorited", "promotion", "created_at", "updated_at", "published_at",
    "expires_at", "moderation_reason",
    "show_phone",  # additive: the seller's contact preference (documented in the schema)
}
IMAGE_KEYS = {"id", "url", "thumbnail_url", "width", "height", "order"}
PAGE_KEYS = {"count", "next", "previous", "results"}
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"

S = AdStatus
# How an ad reaches each status through the lifecycle, starting from a draft.
STATUS_PATHS: dict[str, list[tuple[AdStatus, Actor]]] = {
    S.DRAFT: [],
    S.PENDING: [(S.PENDING, Actor.OWNER)],
    S.ACTIVE: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM)],
    S.REJECTED: [(S.PENDING, Actor.OWNER), (S.REJECTED, Actor.SYSTEM)],
    S.SOLD: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM), (S.SOLD, Actor.OWNER)],
    S.EXPIRED: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM), (S.EXPIRED, Actor.SYSTEM)],
    S.HIDDEN: [(S.PENDING, Actor.OWNER), (S.ACTIVE, Actor.SYSTEM), (S.HIDDEN, Actor.STAFF)],
}
EDITABLE = set(services.EDITABLE_FIELDS)

_titles = itertools.count(1)


def detail_url(slug: str) -> str:
    return f"{ADS}{slug}/"


def similar_url(slug: str) -> str:
    return f"{ADS}{slug}/similar/"


def images_url(slug: str) -> str:
    return f"{ADS}{slug}/images/"


def image_url(slug: str, image_id: object) -> str:
    return f"{ADS}{slug}/images/{image_id}/"


def favorite_url(ad_id: object) -> str:
    return f"{FAVORITES}{ad_id}/"


def category_url(slug: str) -> str:
    return f"/api/categories/{slug}/"


def profile_url(user_id: object) -> str:
    return f"/api/users/{user_id}/"


# --- rows -------------------------------------------------------------------------------------


def make_location(name: str, parent: Location | None = None) -> Location:
    """Through the service, so the cached location tree (used by `?location=`) is refreshed."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return location_services.ensure_location(name=name, parent=parent)


def move(ad: Ad, to: AdStatus, actor: Actor, *, by: User | None = None) -> Ad:
    reason = ModerationReason.BANNED_WORD if to == S.REJECTED else None
    return services.change_ad_status(ad_id=ad.pk, to=to, actor=actor, by=by, reason=reason)


def make_ad(
    *,
    owner: User,
    category: Category,
    status: str = S.ACTIVE,
    deleted: bool = False,
    images: int = 0,
    **fields: Any,
) -> Ad:
    """An ad in `status`, reached through the services. Editable fields (title, price,
    location, attributes...) go through `create_ad`; anything else (`published_at`,
    `promotion_tier`, `expires_at`, `moderation_reason`...) is written onto the row afterwards.
    The moderation task queued on the way is never run: the factory makes the moves itself."""
    n = next(_titles)
    editable = {key: value for key, value in fields.items() if key in EDITABLE}
    forced = {key: value for key, value in fields.items() if key not in EDITABLE}
    editable.setdefault("title", f"Sample ad number {n}")
    editable.setdefault("description", f"A well kept item, sample {n}.")
    editable.setdefault("price", Decimal("1500.00"))
    editable["price"] = Decimal(str(editable["price"]))
    ad = services.create_ad(owner=owner, draft=True, category=category, **editable)
    for _ in range(images):
        add_photo(ad)
    for to, actor in STATUS_PATHS[status]:
        ad = move(ad, to, actor, by=owner if actor == Actor.OWNER else None)
    if deleted:
        services.delete_ad(ad=ad, by=owner)
    if forced:
        Ad.objects.filter(pk=ad.pk).update(**forced)
    ad.refresh_from_db()
    return ad


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48),
                colour: tuple[int, int, int] = (30, 120, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def photo_upload(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), name: str | None = None
                 ) -> SimpleUploadedFile:
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}.get(fmt, fmt.lower())
    return SimpleUploadedFile(name or f"photo.{extension}", image_bytes(fmt, size),
                              content_type=f"image/{extension}")


def add_photo(ad: Ad, *, size: tuple[int, int] = (64, 48), thumbnail: bool = False
              ) -> AdImage:
    image = services.add_image(ad=ad, upload=photo_upload(size=size), by=ad.owner)
    if thumbnail:
        services.make_thumbnail(image_id=image.pk)
        image.refresh_from_db()
    return image


def reload(ad: Ad) -> Ad:
    return Ad.objects.get(pk=ad.pk)


def live_count(category: Category) -> int:
    return Category.all_objects.get(pk=category.pk).ad_count


def active_ads_count(user: User) -> int:
    return User.objects.get(pk=user.pk).active_ads_count


# --- "nothing changed" ------------------------------------------------------------------------


def db_state() -> dict[str, Any]:
    """Row counts of everything an ads request may write."""
    return {
        "ads": Ad.objects.count(),
        "images": AdImage.objects.count(),
        "favorites": Favorite.objects.count(),
        "audit": AuditEntry.objects.count(),
        "ad_counts": list(Category.all_objects.order_by("pk").values_list("pk", "ad_count")),
        "active_ads": list(User.objects.order_by("pk").values_list("pk", "active_ads_count")),
    }


def ad_rows() -> list[dict[str, Any]]:
    return [dict(row) for row in Ad.objects.order_by("pk").values()]


@contextmanager
def nothing_changes() -> Iterator[None]:
    """The block's requests write nothing: same counts and the same ad rows."""
    before = (db_state(), ad_rows())
    yield
    assert (db_state(), ad_rows()) == before


def flush_views() -> int:
    """The view counter's flush as the beat task runs it, in autocommit: its on-commit step
    (publishing the new totals) runs at once, not at the end of the test's transaction."""
    from apps.ads import views_counter

    with TestCase.captureOnCommitCallbacks(execute=True):
        return views_counter.flush_view_counts()
