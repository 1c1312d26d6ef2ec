"""Ads as JSON without the ORM or DRF's per-field machinery per row.

`AdOutput` (serializers.py) stays the documented shape (OpenAPI); this module writes the same
dicts (apps/ads/tests/test_read_cache.py and tests/query_budgets/test_render.py compare the
two) from rows read with the owner joined and the photos as a column (else prefetched).
Category and location briefs come from the cached trees (no join: the listing's SQL at 1M ads
went from 1.5 to 0.2 ms without them); a node the cache does not know yet (written this
instant) is read in one query for the whole page.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any
from urllib.parse import urljoin
from uuid import UUID

from django.core.files.storage import FileSystemStorage
from django.utils import timezone
from django.utils.encoding import filepath_to_uri
from rest_framework import serializers
from rest_framework.settings import api_settings

from apps.ads.models import Ad, AdImage, PromotionTier
from apps.ads.selectors import PHOTO_ROWS
from apps.categories import selectors as category_selectors
from apps.categories.models import Category
from apps.locations import selectors as location_selectors
from apps.locations.models import Location
from apps.users.models import User

TIER_NAMES = {
    PromotionTier.BOOST: "boost",
    PromotionTier.FEATURED: "featured",
    PromotionTier.VIP: "vip",
}
_DATETIME = serializers.DateTimeField()
_MONEY = serializers.DecimalField(max_digits=14, decimal_places=2)
Brief = dict[str, Any]


def _fast_datetimes() -> bool:
    """DRF's DateTimeField, for an aware datetime, converts it to the current time zone and
    formats it with DATETIME_FORMAT: with UTC and a strftime format that is one C call."""
    from django.conf import settings

    fmt = api_settings.DATETIME_FORMAT
    return settings.USE_TZ and settings.TIME_ZONE == "UTC" and fmt not in (None, "iso-8601")


_FAST_DATETIMES = _fast_datetimes()
_DATETIME_FORMAT = str(api_settings.DATETIME_FORMAT)


def dt(value: Any) -> str | None:
    """What DRF's DateTimeField writes, ~10x cheaper (a page renders ~120 datetimes)."""
    if value is None:
        return None
    if _FAST_DATETIMES and value.tzinfo is not None:  # no code activates another time zone
        return str(value.astimezone(UTC).strftime(_DATETIME_FORMAT))
    return _DATETIME.to_representation(value)


def media_url(file: Any, request: Any) -> str | None:
    if not file:
        return None
    url = file.url
    return request.build_absolute_uri(url) if request is not None else url


# Characters filepath_to_uri() leaves as they are.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.~/-]*").fullmatch


class MediaUrls:
    """media_url() for the files of one response, the same strings, cheaper: for files on a
    FileSystemStorage (its url() left as is) the absolute prefix of MEDIA_URL is built once
    and each file's quoted name appended, which is what urljoin() and build_absolute_uri()
    give for a name with no empty, '.' or '..' segment (its characters are all URI-safe);
    any other file or storage goes the general way. A page of 20 ads has ~130 such URLs."""

    def __init__(self, request: Any):
        self.request = request
        self.prefixes: dict[int, str | None] = {}

    def prefix(self, storage: Any) -> str | None:
        key = id(storage)
        if key not in self.prefixes:
            base = storage.base_url if storage.__class__.url is FileSystemStorage.url else None
            simple = (
                isinstance(base, str)
                and base.startswith("/")
                and not base.startswith("//")
                and base.endswith("/")
                and "/./" not in base
                and "/../" not in base
                and "?" not in base
                and "#" not in base
                and urljoin(base, "x") == base + "x"
            )
            self.prefixes[key] = self.request.build_absolute_uri(base) if simple else None
        return self.prefixes[key]

    def __call__(self, file: Any) -> str | None:
        if not file:
            return None
        return self.named(file.storage, file.name)

    def named(self, storage: Any, name: str | None) -> str | None:
        """The URL of the file `name` on `storage` (what its FieldFile's url gives), without
        the FieldFile: for names read as values (the photos' column)."""
        if not name:
            return None
        if self.request is None:
            return str(storage.url(name))
        prefix = self.prefix(storage)
        if prefix is not None:
            # A name of URI-safe characters only (as stored names are) is its own quoting.
            quoted = (name if _PLAIN_NAME(name) else filepath_to_uri(name)).lstrip("/")
            segments = quoted.split("/")
            if "" not in segments and "." not in segments and ".." not in segments:
                return prefix + quoted
        return str(self.request.build_absolute_uri(storage.url(name)))


def brief(node: Any) -> Brief:
    return {"id": node.pk, "slug": node.slug, "name": node.name}


def category_briefs(ids: set[int], tree: Any = None) -> dict[int, Brief]:
    """`tree`: the cached category tree if the caller has read it already."""
    if not ids:
        return {}
    if tree is None:
        tree, _ = category_selectors.load_tree()
    found = {
        i: {"id": i, "slug": tree.nodes[i]["slug"], "name": tree.nodes[i]["name"]}
        for i in ids
        if i in tree.nodes
    }
    missing = ids - found.keys()
    if missing:
        for row in Category.all_objects.filter(pk__in=missing).values("id", "slug", "name"):
            found[row["id"]] = dict(row)
    return found


def location_briefs(ids: set[int], roots: list[dict[str, Any]] | None = None) -> dict[int, Brief]:
    """`roots`: the cached location tree if the caller has read it already."""
    if not ids:
        return {}
    known = (
        location_selectors.location_briefs_by_id()
        if roots is None
        else location_selectors.briefs_of(roots)
    )
    found = {i: known[i] for i in ids if i in known}
    missing = ids - found.keys()
    if missing:
        for row in Location.objects.filter(pk__in=missing).values("id", "slug", "name"):
            found[row["id"]] = dict(row)
    return found


def profile(user: User, request: Any, locations: dict[int, Brief]) -> dict[str, Any]:
    """PublicProfileOutput's fields."""
    return {
        "id": str(user.pk),
        "display_name": user.display_name,
        "avatar": media_url(user.avatar, request),
        "bio": user.bio,
        "location": locations.get(user.location_id) if user.location_id else None,
        "member_since": dt(user.date_joined),
        "email_verified": user.email_verified,
        "phone_verified": user.phone_verified,
        "rating_average": user.rating_average,
        "rating_count": user.rating_count,
        "active_ads_count": user.active_ads_count,
        "response_rate": user.response_rate,
        "median_response_minutes": user.median_response_minutes,
    }


def promotion(ad: Ad, now: Any) -> dict[str, Any] | None:
    if not ad.promotion_tier or ad.promotion_until is None or ad.promotion_until <= now:
        return None
    return {"tier": TIER_NAMES[PromotionTier(ad.promotion_tier)], "until": dt(ad.promotion_until)}


_MISSING = object()
_FILE_FIELD = AdImage._meta.get_field("file")
_THUMBNAIL_FIELD = AdImage._meta.get_field("thumbnail")


def images(ad: Ad, urls: MediaUrls) -> list[dict[str, Any]]:
    """ImageOutput of each photo: from the photos' column (selectors.PHOTO_ROWS) when the ad
    was read with it, else from its AdImage instances (prefetched)."""
    rows = ad.__dict__.get(PHOTO_ROWS, _MISSING)
    if rows is _MISSING:
        return [
            {
                "id": image.pk,
                "url": urls(image.file),
                "thumbnail_url": urls(image.thumbnail),
                "width": image.width,
                "height": image.height,
                "order": image.order,
            }
            for image in ad.images.all()
        ]
    if not rows:
        return []
    files = _FILE_FIELD.storage  # type: ignore[attr-defined]
    thumbnails = _THUMBNAIL_FIELD.storage  # type: ignore[attr-defined]
    return [
        {
            "id": pk,
            "url": urls.named(files, file),
            "thumbnail_url": urls.named(thumbnails, thumbnail),
            "width": width,
            "height": height,
            "order": order,
        }
        for pk, file, thumbnail, width, height, order in rows
    ]


def render(
    ads: list[Ad],
    *,
    request: Any,
    favorited: set[UUID],
    category_tree: Any = None,
    location_roots: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """AdOutput for each ad; owners (joined) and photos (a column, else prefetched) must be
    loaded. A caller that has read the cached category tree or location tree passes them (no
    second read)."""
    if not ads:
        return []
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    # Briefs from rows joined by the caller (with_relations), else from the cached trees.
    categories = {ad.category_id: brief(ad.category) for ad in ads if Ad.category.is_cached(ad)}
    categories.update(
        category_briefs({ad.category_id for ad in ads} - categories.keys(), category_tree)
    )
    locations: dict[int, Brief] = {}
    for holder, location_id in [(ad, ad.location_id) for ad in ads] + [
        (ad.owner, ad.owner.location_id) for ad in ads
    ]:
        if location_id and type(holder).location.is_cached(holder):  # type: ignore[attr-defined]
            locations[location_id] = brief(holder.location)
    locations.update(
        location_briefs(
            (
                {ad.location_id for ad in ads if ad.location_id}
                | {ad.owner.location_id for ad in ads if ad.owner.location_id}
            )
            - locations.keys(),
            location_roots,
        )
    )
    owners: dict[UUID, dict[str, Any]] = {}
    urls = MediaUrls(request)
    now = timezone.now()
    out = []
    for ad in ads:
        owner = owners.get(ad.owner_id)
        if owner is None:
            owner = owners[ad.owner_id] = profile(ad.owner, request, locations)
        sees_reason = signed_in and user is not None and (user.is_staff or ad.owner_id == user.pk)
        out.append(
            {
                "id": str(ad.pk),
                "slug": ad.slug,
                "title": ad.title,
                "description": ad.description,
                "category": categories[ad.category_id],
                "location": locations.get(ad.location_id) if ad.location_id else None,
                "price": _MONEY.to_representation(ad.price),
                "currency": ad.currency,
                "negotiable": ad.negotiable,
                "condition": ad.condition,
                "attributes": ad.attributes,
                "show_phone": ad.show_phone,
                "status": ad.status,
                "images": images(ad, urls),
                "owner": owner,
                "views_count": ad.views_count,
                "favorites_count": ad.favorites_count,
                "is_favorited": ad.pk in favorited,
                "promotion": promotion(ad, now),
                "created_at": dt(ad.created_at),
                "updated_at": dt(ad.updated_at),
                "published_at": dt(ad.published_at),
                "expires_at": dt(ad.expires_at),
                "moderation_reason": ad.moderation_reason if sees_reason else None,
            }
        )
    return out
