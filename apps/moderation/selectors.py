"""Moderation reads: the staff queue of held ads, open report counts, reviews as the caller may
see them, and the sellers' response figures over the chat tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Count, QuerySet

from apps.ads import selectors as ad_selectors
from apps.ads.models import HELD, Ad
from apps.chat.models import Conversation, Message
from apps.moderation.models import Report, ReportStatus, Review, TargetType


def held_ads(*, reason: str | None = None) -> QuerySet[Ad]:
    """Pending ads held with a moderation_reason, most recently held first (updated_at is
    stamped when the ad is held, and by an owner's edit while held); served by ads_ad's
    ad_moderation_queue_idx."""
    queryset = Ad.objects.filter(HELD)
    if reason is not None:
        queryset = queryset.filter(moderation_reason=reason)
    return ad_selectors.with_relations(queryset).order_by("-updated_at", "-id")


def get_ad_for_staff(*, ad_id: Any) -> Ad | None:
    """Any ad but a deleted one, whatever its status (staff see them all); None for a bad id."""
    try:
        pk = ad_id if isinstance(ad_id, UUID) else UUID(str(ad_id))
    except ValueError:
        return None
    return ad_selectors.with_relations(Ad.objects.filter(pk=pk, deleted_at__isnull=True)).first()


def open_report_counts(*, ad_ids: list[Any]) -> dict[str, int]:
    """{ad id (str): open reports on it}, in one query (report_target_idx)."""
    if not ad_ids:
        return {}
    rows = (Report.objects.filter(target_type=TargetType.AD, status=ReportStatus.OPEN,
                                  target_id__in=[str(pk) for pk in ad_ids])
            .values("target_id").annotate(n=Count("id")).values_list("target_id", "n"))
    return dict(rows)


def get_visible_review(*, review_id: str) -> Review | None:
    """A review anyone may see: those of a public seller (GET reviews/<user_id>/ lists them)."""
    if not (review_id.isascii() and review_id.isdigit()) or len(review_id) > 18:
        return None
    return (Review.objects.filter(pk=int(review_id), seller__is_active=True,
                                  seller__is_suspended=False)
            .select_related("reviewer__location").first())


# --- sellers' response figures ----------------------------------------------------------------


@dataclass(frozen=True)
class ResponseStats:
    conversations: int
    answered: int
    median_seconds: float | None

    @property
    def rate(self) -> float:
        return round(self.answered / self.conversations, 2)

    @property
    def median_minutes(self) -> int | None:
        if self.median_seconds is None:
            return None
        return int(self.median_seconds / 60 + 0.5)  # to the nearest minute, halves up


# Per conversation started since `since`: when the buyer first wrote, and when the seller first
# wrote after that (null: never answered). A conversation always starts with the buyer's
# message (chat.services.start_conversation), so its created_at bounds that message's time.
# Message ids grow with time; message_history_idx (conversation, id) serves both lookups.
RESPONSE_STATS_SQL = """
WITH asked AS (
    SELECT c.id, c.seller_id,
           (SELECT min(m.created_at) FROM {message} m
             WHERE m.conversation_id = c.id AND m.sender_id = c.buyer_id) AS asked_at
    FROM {conversation} c
    WHERE c.created_at >= %(since)s AND c.created_at < %(until)s
), answered AS (
    SELECT a.seller_id, a.asked_at,
           (SELECT min(m.created_at) FROM {message} m
             WHERE m.conversation_id = a.id AND m.sender_id = a.seller_id
               AND m.created_at >= a.asked_at) AS answered_at
    FROM asked a
    WHERE a.asked_at IS NOT NULL
)
SELECT seller_id, count(*), count(answered_at),
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM answered_at - asked_at)::float8)
FROM answered
GROUP BY seller_id
"""


def seller_response_stats(*, since: datetime, until: datetime) -> dict[UUID, ResponseStats]:
    """{seller id: their figures} over the conversations started in [since, until), sellers
    without such a conversation left out. One query, for the nightly task."""
    sql = RESPONSE_STATS_SQL.format(message=Message._meta.db_table,
                                    conversation=Conversation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"since": since, "until": until})
        rows = cursor.fetchall()
    return {seller_id: ResponseStats(conversations=total, answered=answered,
                                     median_seconds=median)
            for seller_id, total, answered, median in rows}
