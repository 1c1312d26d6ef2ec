"""The search interface: every backend answers the same questions the same way.

A backend turns a SearchQuery (text, validated filters, ordering, page) into a SearchPage of ad
ids in order, the total and the facets; `suggest` completes a prefix. Selectors hydrate the ids
in one query, in the backend's order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

PRICE_BOUNDS = ["0.00", "10000.00", "50000.00", "100000.00", "500000.00", "1000000.00", None]


class SearchIndexError(Exception):
    """An external index refused some writes (other than stale versions): sync tasks retry."""


@dataclass(frozen=True)
class SearchQuery:
    text: str
    params: dict[str, str]  # the listing filters, as query-string values
    ordering: str | None
    offset: int
    limit: int
    viewer: Any = None


@dataclass
class Facets:
    category: list[dict[str, Any]] = field(default_factory=list)
    condition: list[dict[str, Any]] = field(default_factory=list)
    price_range: list[dict[str, Any]] = field(default_factory=list)
    # Top-level locations, or the children of the selected `location`; largest first.
    location: list[dict[str, Any]] = field(default_factory=list)
    # The selected category's choice attributes: [{key, label, values: [{value, count}]}].
    attributes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "condition": self.condition,
            "price_range": self.price_range,
            "location": self.location,
            "attributes": self.attributes,
        }


@dataclass
class SearchPage:
    ids: list[UUID]
    total: int
    facets: Facets
    # True when more ads matched than were counted (PostgreSQL counts at most
    # SEARCH_COUNT_CAP): `total` is then that cap and the facets cover those ads only.
    estimated: bool = False
    # The cached trees the backend read (category Tree, location roots): rendering the page
    # reuses them instead of reading the cache again. None: not read.
    category_tree: Any = None
    location_roots: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Suggestion:
    text: str
    type: str  # "ad" or "category"
    slug: str


class SearchBackend(Protocol):
    needs_sync: bool  # True when ad changes must be pushed to an external index

    def search(self, query: SearchQuery) -> SearchPage: ...

    def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]: ...

    def index(self, ad_ids: Iterable[UUID | str]) -> None:
        """Bring these ads up to date: live active ones indexed, any other removed."""

    def remove(self, ad_ids: Iterable[UUID | str]) -> None: ...

    def reindex_all(self) -> int:
        """Rebuild the whole index with no downtime; returns how many ads it holds."""


@lru_cache(maxsize=4)
def _backend(path: str) -> SearchBackend:
    backend: SearchBackend = import_string(path)()
    return backend


def get_search_backend() -> SearchBackend:
    return _backend(settings.SEARCH_BACKEND)


def price_buckets(counts: dict[int, int]) -> list[dict[str, Any]]:
    """Bucket i (0..5) of PRICE_BOUNDS with its count; every bucket is listed."""
    return [
        {"min": PRICE_BOUNDS[i], "max": PRICE_BOUNDS[i + 1], "count": counts.get(i, 0)}
        for i in range(len(PRICE_BOUNDS) - 1)
    ]
