"""Search writes: index sync for backends that need it, saved searches and their alerts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.common import dispatch, outbox
from apps.common.models import OutboxTask
from apps.search.models import SavedSearch, SavedSearchHit
from apps.users.models import User

logger = logging.getLogger(__name__)
FILTER_NAMES = {"category", "location", "min_price", "max_price", "condition", "negotiable",
                "has_images", "seller", "posted_since", "ordering"}  # and attr_<key>; q apart
DIGEST_LIMIT = 20
DIGEST_OVERLAP = timedelta(minutes=5)
MAX_Q_LENGTH = 200  # SavedSearch.q
MAX_FILTER_LENGTH = 200


def _ids_to_sync(ad_ids: Iterable[UUID | str]) -> list[str]:
    """The ids an external index must be told about; none for PostgreSQL search, which reads
    the ads table itself."""
    from apps.search.backends.base import get_search_backend

    if not get_search_backend().needs_sync:
        return []
    return sorted({str(ad_id) for ad_id in ad_ids})


def schedule_sync(*, ad_ids: Iterable[UUID | str]) -> None:
    """After commit, push these ads to an external index: one task, ids only."""
    from apps.search import tasks

    ids = _ids_to_sync(ad_ids)
    if ids:
        dispatch.enqueue(tasks.sync_ads, *ids)


def sync_task_rows(*, ad_ids: Iterable[UUID | str]) -> list[OutboxTask]:
    """schedule_sync's outbox row, unsaved, for a writer that inserts it in a statement of its
    own (apps.ads.services.create_ad; then `outbox.track`)."""
    from apps.search import tasks

    ids = _ids_to_sync(ad_ids)
    return [outbox.build(tasks.sync_ads, tuple(ids))] if ids else []


def reconcile_index(*, minutes: int = 10, now: Any = None) -> int:
    """Re-sync the ads changed in the last `minutes` (and promotions that ended meanwhile):
    catches a sync lost between a commit and its task. Returns how many ads it re-synced."""
    from django.db.models import Q

    from apps.ads.models import Ad
    from apps.search.backends.base import get_search_backend

    backend = get_search_backend()
    if not backend.needs_sync:
        return 0
    now = now or timezone.now()
    since = now - timedelta(minutes=minutes)
    recent = Q(updated_at__gte=since) | Q(promotion_until__gte=since, promotion_until__lte=now)
    ids = list(Ad.objects.filter(recent).order_by("pk").values_list("pk", flat=True))
    backend.index(ids)
    return len(ids)


def validate_filters(filters: Any) -> dict[str, str]:
    """Saved-search filters: the listing's filter names with query-string values (a JSON
    number or boolean is taken as its query-string spelling: 1500000, true)."""
    from apps.ads.filters import ATTRIBUTE_PREFIX, AdFilter, filter_attributes
    from apps.ads.models import Ad

    if not isinstance(filters, dict):
        raise ValidationError({"filters": ["Expected an object of filter values."]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for key, value in filters.items():
        if key not in FILTER_NAMES and not key.startswith(ATTRIBUTE_PREFIX):
            errors[key] = [f'Unknown filter "{key}".']
        elif isinstance(value, bool):
            clean[key] = "true" if value else "false"
        elif not isinstance(value, str | int | float):
            errors[key] = ["Use the query-string value (a string or number)."]
        elif "\x00" in str(value) or len(str(value)) > MAX_FILTER_LENGTH:
            errors[key] = ["Enter a valid value."]
        else:
            clean[key] = str(value)
    if errors:
        raise ValidationError({"filters": errors})
    params = QueryDict(mutable=True)
    params.update(clean)
    filterset = AdFilter(params, queryset=Ad.objects.none())
    try:
        if not filterset.is_valid():
            raise ValidationError({"filters": filterset.errors})
        filter_attributes(filterset.qs, params)
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"filters": exc.detail}
        if "filters" not in detail:
            detail = {"filters": detail}
        raise ValidationError(detail) from exc
    return clean


@transaction.atomic
def create_saved_search(*, user: User, name: str, q: str, filters: Any) -> SavedSearch:
    filters = filters or {}
    if isinstance(filters, dict) and "q" in filters:
        # `q` is one of the listing's filter names; kept in its own field.
        filters = dict(filters)
        text = filters.pop("q")
        if not isinstance(text, str) or len(text) > MAX_Q_LENGTH or "\x00" in text:
            raise ValidationError({"filters": {"q": ["Enter at most 200 characters of text."]}})
        q = q or text
    clean = validate_filters(filters)
    return SavedSearch.objects.create(user=user, name=name, q=q, filters=clean,
                                      last_checked_at=timezone.now())


@transaction.atomic
def delete_saved_search(*, user: User, saved_search_id: int) -> bool:
    deleted, _ = SavedSearch.objects.filter(user=user, pk=saved_search_id).delete()
    return deleted > 0


def new_matches(saved_search: SavedSearch, *, limit: int = DIGEST_LIMIT) -> list[Any]:
    """Active ads matching the search, published since it was last checked, not yet sent."""
    from apps.ads.models import Ad
    from apps.search.backends.base import SearchQuery, get_search_backend

    params = dict(saved_search.filters)
    query = SearchQuery(text=saved_search.q, params=params, ordering="-published_at", offset=0,
                        limit=limit * 2, viewer=saved_search.user)
    page = get_search_backend().search(query)
    sent = set(SavedSearchHit.objects.filter(saved_search=saved_search, ad_id__in=page.ids)
               .values_list("ad_id", flat=True))
    # Never before the search existed: only ads published after it was saved are "new".
    since = max(saved_search.last_checked_at or saved_search.created_at,
                saved_search.created_at)
    ads = Ad.objects.filter(pk__in=[i for i in page.ids if i not in sent],
                            published_at__gt=since).exclude(owner=saved_search.user)
    return list(ads.order_by("-published_at")[:limit])


def send_digest(*, user_id: Any) -> int:
    """One email listing every saved search's new matches; returns how many ads it named.

    Each ad is named once per email (under the first search it matches) and never again for
    any search that matched it (SavedSearchHit). The next run looks back a little before this
    one (DIGEST_OVERLAP), so an ad published just before a run but indexed just after it (an
    external index lags a few seconds) is still sent, once."""
    from apps.notifications import services as notifications

    user = User.objects.filter(pk=user_id, is_active=True, is_suspended=False).first()
    if user is None:
        return 0
    sections: list[str] = []
    listed: set[Any] = set()
    now = timezone.now()
    with transaction.atomic():
        searches = list(SavedSearch.objects.select_for_update().filter(user=user)
                        .order_by("created_at", "id"))
        for saved_search in searches:
            try:
                matches = new_matches(saved_search)
            except ValidationError:
                # Its filters no longer validate (e.g. a category was removed): skip it.
                logger.info("saved search %s has stale filters", saved_search.pk)
                matches = []
            if matches:
                SavedSearchHit.objects.bulk_create(
                    [SavedSearchHit(saved_search=saved_search, ad=ad) for ad in matches],
                    ignore_conflicts=True,
                )
            fresh = [ad for ad in matches if ad.pk not in listed]
            if fresh:
                listed.update(ad.pk for ad in fresh)
                lines = [f"- {ad.title} (KES {ad.price:,.2f}): /api/ads/{ad.slug}/"
                         for ad in fresh]
                sections.append(f"{saved_search.name}:\n" + "\n".join(lines))
            saved_search.last_checked_at = now - DIGEST_OVERLAP
            saved_search.save(update_fields=["last_checked_at", "updated_at"])
        if sections:
            count = len(listed)
            notifications.queue_email(
                to=user.email,
                subject=(f"{count} new ad{'s' if count != 1 else ''} "
                         "match your saved searches"),
                body="New ads for your saved searches:\n\n" + "\n\n".join(sections),
            )
            dispatch.publish(f"user.{user.pk}", {"type": "saved_search.matches",
                                                 "count": count})
    return len(listed)


def users_with_saved_searches() -> list[Any]:
    return list(SavedSearch.objects.values_list("user_id", flat=True).distinct())
