"""URLs, shapes and small helpers shared by the moderation tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apps.ads.models import Ad
from apps.common.models import AuditEntry
from apps.moderation.models import Report, Review
from apps.users.models import User

ADS = "/api/ads/"
MY_ADS = ADS + "my-ads/"
REPORTS = "/api/moderation/reports/"
REVIEWS = "/api/moderation/reviews/"
QUEUE = "/api/moderation/queue/ads/"
LOGIN = "/api/users/login/"
REFRESH = "/api/users/token/refresh/"
PROFILE = "/api/users/profile/"
TICKET = "/api/messages/ws-ticket/"

REPORT_KEYS = {"id", "target_type", "target_id", "reason", "details", "status",
               "resolution_note", "action", "created_at", "resolved_at"}
REVIEW_KEYS = {"id", "reviewer", "seller", "ad", "rating", "comment", "created_at", "reply"}
PUBLIC_PROFILE_KEYS = {"id", "display_name", "avatar", "bio", "location", "member_since",
                       "email_verified", "phone_verified", "rating_average", "rating_count",
                       "active_ads_count", "response_rate", "median_response_minutes"}
PAGE_KEYS = {"count", "next", "previous", "results"}
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def ad_url(slug: str) -> str:
    return f"{ADS}{slug}/"


def report_url(report_id: object) -> str:
    return f"{REPORTS}{report_id}/"


def reviews_of(user_id: object) -> str:
    return f"{REVIEWS}{user_id}/"


def review_url(review_id: object) -> str:
    return f"{REVIEWS}{review_id}/"


def reply_url(review_id: object) -> str:
    return f"{REVIEWS}{review_id}/reply/"


def queue_action_url(ad_id: object, action: str) -> str:
    return f"{QUEUE}{ad_id}/{action}/"


def public_profile(user_id: object) -> str:
    return f"/api/users/{user_id}/"


def reload(ad: Ad) -> Ad:
    return Ad.objects.get(pk=ad.pk)


def public_ids(client: Any, **params: Any) -> set[str]:
    """Ids of the ads on GET /api/ads/ (every page)."""
    ids: set[str] = set()
    response = client.get(ADS, {"page_size": 100, **params})
    assert response.status_code == 200, response.json()
    body = response.json()
    ids.update(item["id"] for item in body["results"])
    assert body["next"] is None, "more than one page of public ads in a moderation test"
    return ids


def state() -> dict[str, Any]:
    """Everything a moderation request may write."""
    return {
        "reports": sorted(Report.objects.values_list("pk", "status", "action", "resolution_note")),
        "reviews": sorted(Review.objects.values_list("pk", "rating", "comment", "reply_body",
                                                     "replied_at")),
        "audit": AuditEntry.objects.count(),
        "ads": sorted((str(pk), status, reason) for pk, status, reason in
                      Ad.objects.values_list("pk", "status", "moderation_reason")),
        "users": sorted((str(pk), suspended, count, total) for pk, suspended, count, total in
                        User.objects.values_list("pk", "is_suspended", "rating_count",
                                                 "rating_total")),
    }


@contextmanager
def nothing_changes() -> Iterator[None]:
    before = state()
    yield
    assert state() == before
