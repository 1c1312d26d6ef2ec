"""Ad reads: who may see what, and querysets planned so a page costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Case, F, Func, Prefetch, QuerySet, Value, When
from django.utils import timezone

from apps.ads.models import (
    DAILY_COUNTERS,
    LIVE_ACTIVE,
    Ad,
    AdDailyStats,
    AdImage,
    AdStatus,
    Favorite,
)
from apps.payments.models import TIER_RANK, Promotion
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


def get_visible_ad(*, slug: str, viewer: User | Any = None, relations: bool = True
                   ) -> Ad | None:
    """An ad by slug as the viewer may see it: active for all, any status for its owner.
    `relations=False` reads the bare row (no category, owner or images)."""
    queryset = Ad.objects.filter(slug=slug, deleted_at__isnull=True)
    ad = (with_relations(queryset) if relations else queryset).first()
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
    """One query: same category first, then sibling categories; within each, ads in the same
    price band (half to one and a half times the price) before others, nearby ones (same
    region) before far ones, then the closest price, then the newest."""
    from apps.locations import selectors as location_selectors

    base = public_ads(viewer=viewer).exclude(pk=ad.pk)
    parent_id = ad.category.parent_id
    scope = (base.filter(category__parent_id=parent_id) if parent_id is not None
             else base.filter(category_id=ad.category_id))
    nearby = location_selectors.nearby_ids(location_id=ad.location_id)
    low, high = ad.price / 2, ad.price * 3 / 2
    ranked = scope.annotate(
        other_category=Case(When(category_id=ad.category_id, then=Value(0)), default=Value(1)),
        outside_band=Case(When(price__gte=low, price__lte=high, then=Value(0)),
                          default=Value(1)),
        far=Case(When(location_id__in=nearby or [0], then=Value(0)), default=Value(1)),
        price_gap=Func(F("price") - Value(ad.price), function="ABS"),
    ).order_by("other_category", "outside_band", "far", "price_gap", "-published_at")
    return list(with_relations(ranked)[:limit])


# --- the seller's analytics -------------------------------------------------------------------

DAYS_BEFORE_PROMOTION = 7
Counters = dict[str, int]


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def promoted_days(promotions: list[Promotion], *, until: date) -> dict[date, str]:
    """{UTC day: highest tier promoting the ad during any part of it}, up to `until`."""
    tiers: dict[date, str] = {}
    for promotion in promotions:
        if promotion.ends_at <= promotion.starts_at:  # refunded before it began
            continue
        day = utc_day(promotion.starts_at)
        last = min(utc_day(promotion.ends_at - timedelta(microseconds=1)), until)
        while day <= last:
            current = tiers.get(day)
            if current is None or TIER_RANK[promotion.tier] > TIER_RANK[current]:
                tiers[day] = promotion.tier
            day += timedelta(days=1)
    return tiers


def average(days: list[date], counters: Callable[[date], Counters]) -> dict[str, Any] | None:
    if not days:
        return None
    sums = dict.fromkeys(DAILY_COUNTERS, 0)
    for day in days:
        for name, value in counters(day).items():
            sums[name] += value
    return {"days": len(days),
            **{name: round(total / len(days), 2) for name, total in sums.items()}}


def ad_stats(*, ad: Ad, days: int, now: datetime | None = None) -> dict[str, Any]:
    """Per-day counters of the last `days` UTC days (today included, oldest first), the
    ad's promotions, and average counters per day before and while promoted. Two queries
    (promotions, then the daily rows), whatever `days` and the number of promotions.

    - before_promotion: the up to 7 whole UTC days before the day the first promotion started,
      since the day the ad was created; null without a promotion or such a day.
    - during_promotion: the whole UTC days (today, still running, is left out) on which any
      promotion covered some time; null when there is none yet.
    """
    now = now or timezone.now()
    today = utc_day(now)
    window = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    promotions = list(Promotion.objects.filter(ad_id=ad.pk).order_by("starts_at", "id"))
    tier_by_day = promoted_days(promotions, until=today)
    before: list[date] = []
    if promotions:
        first = utc_day(promotions[0].starts_at)
        since = max(first - timedelta(days=DAYS_BEFORE_PROMOTION), utc_day(ad.created_at))
        before = [since + timedelta(days=n) for n in range((first - since).days)]
    during = sorted(day for day in tier_by_day if day < today)
    rows = {
        row["date"]: row for row in AdDailyStats.objects.filter(
            ad_id=ad.pk, date__gte=min([window[0], *before, *during]), date__lte=today,
        ).values("date", *DAILY_COUNTERS)
    }

    def counters(day: date) -> Counters:
        row = rows.get(day)
        return {name: row[name] if row else 0 for name in DAILY_COUNTERS}

    series = [{"date": day, **counters(day), "promoted": tier_by_day.get(day)} for day in window]
    return {
        "ad": ad.pk,
        "totals": {name: sum(item[name] for item in series) for name in DAILY_COUNTERS},
        "days": series,
        "promotions": promotions,
        "before_promotion": average(before, counters),
        "during_promotion": average(during, counters),
    }
