"""Ad reads: who may see what, and querysets planned so a page costs a fixed number of queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Case, F, Func, Prefetch, QuerySet, Value, When

from apps.ads.models import LIVE_ACTIVE, Ad, AdImage, AdStatus, Favorite
from apps.users import selectors as user_selectors
from apps.users.models import User


def with_relations(queryset: QuerySet[Ad]) -> QuerySet[Ad]:
    return queryset.select_related("category", "location", "owner__location").prefetch_related(
        Prefetch("images", queryset=AdImage.objects.order_by("order", "id"))
    )


def public_ads(*, viewer: User | Any = None) -> QuerySet[Ad]:
    """Active ads anyone may see; a signed-in viewer never sees ads across a block."""
    queryset = Ad.objects.filter(LIVE_ACTIVE)
    if viewer is not None and viewer.is_authenticated:
        hidden_owners = user_selectors.blocked_user_ids(user=viewer)
        if hidden_owners:
            queryset = queryset.exclude(owner_id__in=hidden_owners)
    return queryset


def default_order(queryset: QuerySet[Ad]) -> QuerySet[Ad]:
    return queryset.order_by("-promotion_tier", "-published_at", "-id")


def ads_of_owner(*, owner: User, status: str | None = None) -> QuerySet[Ad]:
    queryset = Ad.objects.filter(owner=owner, deleted_at__isnull=True)
    if status:
        queryset = queryset.filter(status=status)
    return with_relations(queryset).order_by("-created_at", "-id")


def get_visible_ad(*, slug: str, viewer: User | Any = None) -> Ad | None:
    """An ad by slug as the viewer may see it: active for all, any status for its owner."""
    ad = with_relations(Ad.objects.filter(slug=slug, deleted_at__isnull=True)).first()
    if ad is None:
        return None
    is_owner = viewer is not None and viewer.is_authenticated and ad.owner_id == viewer.pk
    if is_owner:
        return ad
    if ad.status != AdStatus.ACTIVE:
        return None
    if viewer is not None and viewer.is_authenticated and ad.owner_id in (
        user_selectors.blocked_user_ids(user=viewer)
    ):
        return None
    return ad


def get_public_ad_by_id(*, ad_id: Any, viewer: User | Any = None) -> Ad | None:
    try:
        pk = ad_id if isinstance(ad_id, UUID) else UUID(str(ad_id))
    except ValueError:
        return None
    return public_ads(viewer=viewer).filter(pk=pk).first()


def favorited_ids(*, user: User | Any, ad_ids: list[UUID]) -> set[UUID]:
    if user is None or not user.is_authenticated or not ad_ids:
        return set()
    return set(
        Favorite.objects.filter(user=user, ad_id__in=ad_ids).values_list("ad_id", flat=True)
    )


def favorites_of(*, user: User) -> QuerySet[Favorite]:
    """The user's favourites whose ad is public to them: active, and not across a block."""
    queryset = Favorite.objects.filter(user=user, ad__status=AdStatus.ACTIVE,
                                       ad__deleted_at__isnull=True)
    hidden_owners = user_selectors.blocked_user_ids(user=user)
    if hidden_owners:
        queryset = queryset.exclude(ad__owner_id__in=hidden_owners)
    # The ad comes with the favourite (select_related); its images need their own prefetch:
    # a Prefetch("ad", ...) is skipped for an already joined ad, images and all (N+1).
    return (
        queryset
        .select_related("ad__category", "ad__location", "ad__owner__location")
        .prefetch_related(Prefetch("ad__images", queryset=AdImage.objects.order_by("order", "id")))
        .order_by("-created_at", "-id")
    )


def similar_ads(*, ad: Ad, viewer: User | Any = None, limit: int = 12) -> list[Ad]:
    """Same category first (closest price, then newest), then its sibling categories; one query."""
    base = public_ads(viewer=viewer).exclude(pk=ad.pk)
    parent_id = ad.category.parent_id
    scope = (base.filter(category__parent_id=parent_id) if parent_id is not None
             else base.filter(category_id=ad.category_id))
    ranked = scope.annotate(
        other_category=Case(When(category_id=ad.category_id, then=Value(0)), default=Value(1)),
        price_gap=Func(F("price") - Value(ad.price), function="ABS"),
    ).order_by("other_category", "price_gap", "-published_at")
    return list(with_relations(ranked)[:limit])
