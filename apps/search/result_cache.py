"""A search's answer kept for a few seconds (API.md section 1: search may lag up to 5 s).

What a search costs is the backend's answer: which ads match, in what order, how many, and the
facets over them (at 1M ads the count and facets read up to SEARCH_COUNT_CAP matches). That
answer (ids, total, facets) is kept for SEARCH_RESULT_CACHE_SECONDS (default 5; 0 turns it
off) under a key of the backend, the text, every query parameter and the page. The same search
again within that time, as popular searches are, costs one cache read instead. Past
REFRESH_AFTER of that time one request runs the search again (the first to take the kept
answer's refresh lock) while the others are still answered from it: a popular search never
expires under many requests at once.

The page's ads are not kept: every request reads them fresh (public_ads), so an edit shows at
once and an ad sold or hidden meanwhile drops from the page at once. What may lag, by up to the
kept time, is which ads match, their order, the count and the facets, as the contract allows.
Elasticsearch's request cache does the same for its counts and aggregations (until the next
index refresh).

Not kept: a search without words (browsing a category reads facet counts the database keeps
exactly, at no cost worth saving, and they must follow every change at once); the answers for a
viewer who has blocked or been blocked by anyone (other users'
ads are missing from theirs); a search the filters' validation refuses (it raises).
Saved-search alerts ask the backend directly.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache

from apps.search import text as search_text
from apps.search.backends.base import Facets, SearchPage, SearchQuery, get_search_backend

DEFAULT_SECONDS = 5
# A kept answer this old (a share of the kept time) is run again by one request.
REFRESH_AFTER = 0.6
KEY_VERSION = 1


def seconds() -> int:
    return int(getattr(settings, "SEARCH_RESULT_CACHE_SECONDS", DEFAULT_SECONDS))


def cache_key(query: SearchQuery) -> str:
    """One key per backend, text, parameters (filters, ordering, page, anything else) and page
    slice; the viewer is not part of it (only shareable answers are kept)."""
    identity = json.dumps(
        [settings.SEARCH_BACKEND, query.text, sorted(query.params.items()), query.ordering,
         query.offset, query.limit],
        separators=(",", ":"),
    )
    digest = hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()
    return f"search:answer:{KEY_VERSION}:{digest}"


def stored(page: SearchPage, answered_at: float) -> dict[str, Any]:
    return {
        "at": answered_at,
        "ids": [str(ad_id) for ad_id in page.ids],
        "total": page.total,
        "estimated": page.estimated,
        "facets": page.facets.as_dict(),
    }


def restored(entry: dict[str, Any]) -> SearchPage:
    return SearchPage(
        ids=[UUID(ad_id) for ad_id in entry["ids"]],
        total=int(entry["total"]),
        facets=Facets(**entry["facets"]),
        estimated=bool(entry["estimated"]),
    )


def refresh_lock_key(key: str, entry: dict[str, Any]) -> str:
    """Taken by the one request that runs the search again for this kept answer."""
    return f"{key}:refresh:{entry['at']}"


def search(query: SearchQuery) -> SearchPage:
    """The backend's answer to `query`, from the cache when the same search was answered in
    the last seconds(). Past REFRESH_AFTER of that time, one request runs it again (the
    first to take the refresh lock) while the others are still answered from the kept one,
    so that a popular search is never answered by many requests at once when it expires."""
    backend = get_search_backend()
    ttl = seconds()
    if ttl <= 0 or not search_text.terms(query.text):
        return backend.search(query)
    from apps.ads import selectors as ad_selectors

    if ad_selectors.hidden_owner_ids(query.viewer):  # kept on the viewer for the backend
        return backend.search(query)
    key = cache_key(query)
    entry = cache.get(key)
    if entry is not None:
        due = time.time() - float(entry["at"]) >= ttl * REFRESH_AFTER
        if not due or not cache.add(refresh_lock_key(key, entry), 1, timeout=ttl):
            return restored(entry)
    answered_at = time.time()
    page = backend.search(query)
    # Kept until `ttl` after the statement started, not after it ended: never older than that.
    left = ttl - (time.time() - answered_at)
    if left > 0:
        cache.set(key, stored(page, answered_at), timeout=left)
    return page
