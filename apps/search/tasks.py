"""Search background work: index sync (external backends) and saved-search digests.

Sync tasks carry ad ids only and reload the rows, so running one twice, late or out of order
changes nothing (the index refuses stale versions); connection trouble and rejected bulk items
are retried with backoff.
"""

from __future__ import annotations

from celery import shared_task
from elastic_transport import TransportError
from elasticsearch import ApiError

from apps.search.backends.base import SearchIndexError

RETRYABLE = (ConnectionError, TimeoutError, TransportError, ApiError, SearchIndexError)


@shared_task(
    acks_late=True, autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=300, max_retries=8
)
def sync_ads(*ad_ids: str) -> int:
    """Bring these ads up to date in the index: live active ones indexed, others removed."""
    from apps.search.backends.base import get_search_backend

    get_search_backend().index(list(ad_ids))
    return len(ad_ids)


@shared_task(
    acks_late=True, autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=300, max_retries=8
)
def sync_ad(ad_id: str) -> int:
    """One ad (kept for messages queued before sync_ads existed)."""
    from apps.search.backends.base import get_search_backend

    get_search_backend().index([ad_id])
    return 1


@shared_task(acks_late=True, autoretry_for=RETRYABLE, retry_backoff=2, max_retries=3)
def reconcile_index(minutes: int = 10) -> int:
    """Beat sweep for external backends: re-sync every ad changed in the last `minutes`, in
    case a dispatch was lost after its commit. Nothing to do for PostgreSQL."""
    from apps.search import services

    return services.reconcile_index(minutes=minutes)


@shared_task(acks_late=True)
def send_saved_search_digests() -> int:
    from apps.search import services

    users = services.users_with_saved_searches()
    for user_id in users:
        send_saved_search_digest.apply_async(args=(str(user_id),))
    return len(users)


@shared_task(acks_late=True)
def send_saved_search_digest(user_id: str) -> int:
    from apps.search import services

    return services.send_digest(user_id=user_id)


@shared_task(acks_late=True)
def rebuild_search_tables() -> dict[str, float]:
    """Daily safety net for PostgreSQL search: recompute the vocabulary (word frequencies,
    dead words dropped) and the facet count tables, which triggers otherwise keep exact."""
    from django.conf import settings

    if "postgres" not in settings.SEARCH_BACKEND.lower():
        return {}
    from apps.search import maintenance

    return maintenance.rebuild_all()
