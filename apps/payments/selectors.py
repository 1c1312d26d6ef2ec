"""Payments reads: the seller's promotions, planned so a page costs a fixed number of queries."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from apps.payments.models import Promotion
from apps.users.models import User


def in_effect(now: datetime) -> Q:
    """Still to run: not ended, and its ad still carries a promotion. An ad that leaves active
    (sold, expired, hidden, back to draft, deleted) loses its promotion for good
    (ads.services.end_promotion), whatever its promotions' `ends_at`; one held for moderation
    after an edit keeps it."""
    return Q(ends_at__gt=now, ad__promotion_until__gt=now, ad__deleted_at__isnull=True)


def promotions_of(*, user: User, now: datetime, include_ended: bool = False
                  ) -> QuerySet[Promotion]:
    """The promotions the user paid for, newest first, with their ad (one query per page)."""
    queryset = Promotion.objects.filter(payment__user=user)
    if not include_ended:
        queryset = queryset.filter(in_effect(now))
    return queryset.select_related("ad").order_by("-created_at", "-id")


def remaining_seconds(promotion: Promotion, *, now: datetime) -> int:
    """Promoted time it still has to give: from now (or its start, when it waits behind
    another) to its end; 0 once ended or stopped with its ad."""
    ad = promotion.ad
    if (promotion.ends_at <= now or ad.promotion_until is None or ad.promotion_until <= now
            or ad.deleted_at is not None):
        return 0
    return max(0, int((promotion.ends_at - max(now, promotion.starts_at)).total_seconds()))
