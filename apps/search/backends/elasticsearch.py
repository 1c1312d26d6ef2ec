"""Elasticsearch search (optional): `SEARCH_BACKEND =
"apps.search.backends.elasticsearch.ElasticsearchSearchBackend"` with `ELASTICSEARCH_URL`.

The same answers as the PostgreSQL backend (request bodies and why: es_builders.py), from an
index that follows the ads table:

- Writes go through the alias `ELASTICSEARCH_INDEX`; each physical index is
  `<alias>-<timestamp>`, shaped by an index template. `reindex_all()` (`manage.py
  search_reindex`) bulk-loads a new index, swaps the alias in one atomic `update_aliases`, drops
  the old indices, then re-syncs the ads that changed meanwhile: no downtime, nothing lost.
- `index(ids)` reloads the rows: live active ads are (re)indexed, everything else is deleted.
  Each write carries the row's `updated_at` as an external version, so syncs are idempotent and
  a late, stale one never overwrites a newer state. Ads change -> `services.schedule_sync()` ->
  `tasks.sync_ads` on commit (ids only, retried); `tasks.reconcile_index` (beat) re-syncs
  whatever changed recently, in case a dispatch was lost.
- Filters are validated exactly as the listing does (same 400s, same `attr`); results are
  hydrated from PostgreSQL through `public_ads()`, so a not-yet-synced ad that left `active`
  is never shown.
- When the index cannot answer (connection refused, timeout, 429/5xx, not built yet), the
  PostgreSQL backend answers the same query, with the same semantics: slower, never a 500.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.search import text as search_text
from apps.search.backends import es_builders as builders
from apps.search.backends.base import SearchIndexError, SearchPage, SearchQuery, Suggestion
from apps.search.backends.common import (
    assemble_facets,
    category_ids_named,
    category_suggestions,
    facet_scope,
)
from apps.search.text import name_has_word_prefix

logger = logging.getLogger(__name__)

BULK_CHUNK = 500
UNAVAILABLE_STATUSES = {429, 500, 502, 503, 504}
SEARCH_TIMEOUT = 3  # seconds: past that, PostgreSQL answers the user instead
NOT_FILTERS = {"q", "ordering", "page", "page_size"}


class IndexUnavailable(Exception):
    """The index cannot answer (down, overloaded, not built yet): PostgreSQL answers instead,
    with the same semantics."""


def parse_filters(query: SearchQuery) -> builders.Filters:
    """The listing's validation (AdFilter and attribute filters: same 400s, same `attr`),
    resolved into ids for the index."""
    from apps.ads import selectors as ad_selectors
    from apps.ads.filters import ATTRIBUTE_PREFIX, AdFilter, invalid, parse_attribute_value
    from apps.ads.models import Ad
    from apps.categories import selectors as category_selectors
    from apps.locations import selectors as location_selectors

    params = QueryDict(mutable=True)
    for key, value in query.params.items():
        if key not in NOT_FILTERS:
            params[key] = value
    if query.ordering:
        params["ordering"] = query.ordering
    filterset = AdFilter(params, queryset=Ad.objects.none())
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    data = filterset.form.cleaned_data
    filters = builders.Filters()
    if data.get("category"):
        filters.category_ids = category_selectors.descendant_ids(data["category"])
        if filters.category_ids is None:
            raise invalid("category", f'Unknown category "{data["category"]}".')
    if data.get("location"):
        filters.location_ids = location_selectors.descendant_ids(slug=data["location"])
        if filters.location_ids is None:
            raise invalid("location", f'Unknown location "{data["location"]}".')
    filters.min_price = data.get("min_price")
    filters.max_price = data.get("max_price")
    filters.condition = data.get("condition") or None
    if data.get("negotiable"):
        filters.negotiable = data["negotiable"] == "true"
    if data.get("has_images"):
        filters.has_images = data["has_images"] == "true"
    if data.get("seller"):
        filters.seller = str(data["seller"])
    filters.posted_since = data.get("posted_since")
    types = category_selectors.attribute_types()
    for param in params:
        if not param.startswith(ATTRIBUTE_PREFIX):
            continue
        key, bound = param[len(ATTRIBUTE_PREFIX) :], None
        if key not in types and key.endswith(("_min", "_max")):
            key, bound = key[:-4], key[-3:]
        kind = types.get(key)
        if kind is None or (bound is not None and kind not in ("int", "decimal")):
            raise invalid(param, f'Unknown attribute filter "{param}".')
        value = parse_attribute_value(param, kind, params.get(param, ""))
        filters.attributes.append(
            builders.AttributeFilter(key=key, kind=kind, bound=bound, value=value)
        )
    hidden = ad_selectors.hidden_owner_ids(query.viewer)
    if hidden:
        filters.hidden_owner_ids = sorted(str(i) for i in hidden)
    return filters


def make_client() -> Any:
    from elasticsearch import Elasticsearch

    if not settings.ELASTICSEARCH_URL:
        raise ImproperlyConfigured("ElasticsearchSearchBackend needs ELASTICSEARCH_URL.")
    return Elasticsearch(
        settings.ELASTICSEARCH_URL, request_timeout=10, max_retries=2, retry_on_timeout=True
    )


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ElasticsearchSearchBackend:
    needs_sync = True  # an external index: ad changes are pushed to it

    def __init__(self, *, client: Any = None, alias: str | None = None) -> None:
        self._client = client
        self.alias = alias or settings.ELASTICSEARCH_INDEX
        self._ready = False

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client()
        return self._client

    # --- reads ----------------------------------------------------------------------------

    def fallback(self) -> Any:
        from apps.search.backends.postgres import PostgresSearchBackend

        return PostgresSearchBackend()

    def search(self, query: SearchQuery) -> SearchPage:
        filters = parse_filters(query)  # a 400 stays a 400
        try:
            return self._search_index(query, filters)
        except IndexUnavailable:
            logger.warning("search index unavailable: answering from PostgreSQL", exc_info=True)
            return self.fallback().search(query)

    def _search_index(self, query: SearchQuery, filters: builders.Filters) -> SearchPage:
        words = search_text.terms(query.text)
        scope = facet_scope(query.params)
        category_ids = category_ids_named(words, scope.tree)
        deep = query.offset + query.limit > builders.MAX_RESULT_WINDOW
        body = builders.build_query(
            query,
            filters,
            category_ids=category_ids,
            offset=0 if deep else None,
            limit=0 if deep else None,
            attribute_keys=scope.attribute_keys,
        )
        response = self._search(body)
        total = builders.parse_total(response)
        categories, conditions, buckets = builders.parse_facets(response)
        facets = assemble_facets(
            categories=categories,
            conditions=conditions,
            buckets=buckets,
            locations=builders.parse_location_counts(response),
            attributes=builders.parse_attribute_counts(response),
            scope=scope,
        )
        if deep:
            hits = self._deep_page(query, filters, category_ids, total=total)
        else:
            hits = builders.parse_hits(response)
        return SearchPage(
            ids=[UUID(hit["_id"]) for hit in hits],
            total=total,
            facets=facets,
            category_tree=scope.tree,
            location_roots=scope.locations,
        )

    def _deep_page(
        self, query: SearchQuery, filters: builders.Filters, category_ids: list[int], *, total: int
    ) -> list[dict[str, Any]]:
        """Pages past max_result_window: walk there with search_after, a window at a time."""
        if query.offset >= total:
            return []
        skipped, after = 0, None
        while skipped < query.offset:
            step = min(builders.MAX_RESULT_WINDOW, query.offset - skipped)
            body = builders.build_query(
                query,
                filters,
                category_ids=category_ids,
                offset=0,
                limit=step,
                facets=False,
                search_after=after,
            )
            body["track_total_hits"] = False
            hits = builders.parse_hits(self._search(body))
            if not hits:
                return []
            skipped += len(hits)
            after = hits[-1]["sort"]
        body = builders.build_query(
            query, filters, category_ids=category_ids, facets=False, search_after=after
        )
        body["track_total_hits"] = False
        return builders.parse_hits(self._search(body))

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        from elastic_transport import TransportError
        from elasticsearch import ApiError, NotFoundError

        try:
            reader = self.client.options(request_timeout=SEARCH_TIMEOUT, max_retries=1)
            return dict(reader.search(index=self.alias, body=body))
        except NotFoundError as exc:
            logger.warning("search index %s missing: run manage.py search_reindex", self.alias)
            raise IndexUnavailable(str(exc)) from exc
        except TransportError as exc:  # connection refused, timeout
            raise IndexUnavailable(str(exc)) from exc
        except ApiError as exc:
            if exc.meta.status in UNAVAILABLE_STATUSES:
                raise IndexUnavailable(str(exc)) from exc
            raise

    def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        body = builders.build_suggest(prefix, size=limit * 3)
        if body is None:
            return []
        try:
            response = self._search(body)
        except IndexUnavailable:
            logger.warning("search index unavailable: suggesting from PostgreSQL", exc_info=True)
            return list(self.fallback().suggest(prefix, limit=limit))
        words = search_text.terms(prefix)
        suggestions = [
            Suggestion(text=item["text"], type="category", slug=item["slug"])
            for item in category_suggestions(words)
        ]
        seen: set[str] = set()
        for hit in builders.parse_hits(response):
            if len(suggestions) >= limit:
                break
            source = hit.get("_source") or {}
            title, slug = source.get("title", ""), source.get("slug", "")
            key = title.strip().lower()
            if title and key not in seen and name_has_word_prefix(title, words):
                seen.add(key)
                suggestions.append(Suggestion(text=title, type="ad", slug=slug))
        return suggestions[:limit]

    # --- writes ---------------------------------------------------------------------------

    def ensure_index(self) -> None:
        """The alias exists (a first index is made on first use) and the template is current."""
        if self._ready:
            return
        from elasticsearch import BadRequestError

        indices = self.client.indices
        indices.put_index_template(name=self.alias, **builders.index_template(self.alias))
        if not indices.exists_alias(name=self.alias):
            try:
                indices.create(
                    index=self.new_index_name(),
                    aliases={self.alias: {"is_write_index": True}},
                    **builders.index_settings_and_mappings(),
                )
            except BadRequestError:
                # Another worker made it at the same moment.
                if not indices.exists_alias(name=self.alias):
                    raise
        self._ready = True

    def new_index_name(self) -> str:
        return f"{self.alias}-{timezone.now():%Y%m%d%H%M%S%f}"

    def index(self, ad_ids: Iterable[UUID | str]) -> None:
        ids = sorted({str(ad_id) for ad_id in ad_ids})
        if not ids:
            return
        self.ensure_index()
        for chunk in chunks(ids, BULK_CHUNK):
            self._bulk(self._actions(chunk, index=self.alias))

    def remove(self, ad_ids: Iterable[UUID | str]) -> None:
        ids = sorted({str(ad_id) for ad_id in ad_ids})
        if not ids:
            return
        self.ensure_index()
        for chunk in chunks(ids, BULK_CHUNK):
            self._bulk([{"delete": {"_index": self.alias, "_id": ad_id}} for ad_id in chunk])

    def _actions(self, ids: list[str], *, index: str) -> list[dict[str, Any]]:
        """Bulk lines for these ads: a live active one is indexed, any other deleted."""
        from apps.ads.models import LIVE_ACTIVE, Ad, AdImage

        rows = {
            str(ad.pk): ad
            for ad in Ad.objects.filter(pk__in=ids).annotate(
                is_live=Exists(Ad.objects.filter(LIVE_ACTIVE, pk=OuterRef("pk"))),
                has_images=Exists(AdImage.objects.filter(ad=OuterRef("pk"))),
            )
        }
        actions: list[dict[str, Any]] = []
        for ad_id in ids:
            ad = rows.get(ad_id)
            meta: dict[str, Any] = {"_index": index, "_id": ad_id}
            if ad is not None:
                meta.update(version=builders.version_of(ad), version_type="external_gte")
            if ad is not None and ad.is_live:
                actions.extend([{"index": meta}, builders.document(ad)])
            else:
                actions.append({"delete": meta})
        return actions

    def _bulk(self, actions: list[dict[str, Any]]) -> int:
        if not actions:
            return 0
        response = self.client.bulk(operations=actions)
        if not response.get("errors"):
            return len(response.get("items", []))
        failures = []
        for item in response.get("items", []):
            ((operation, result),) = item.items()
            status = int(result.get("status", 200))
            stale = status == 409  # a newer version is already there
            missing = operation == "delete" and status == 404
            if result.get("error") and not (stale or missing):
                failures.append(f"{result.get('_id')}: {result['error']}")
        if failures:
            raise SearchIndexError(f"{len(failures)} bulk items failed: {failures[:3]}")
        return len(response.get("items", []))

    def reindex_all(self) -> int:
        """Build `<alias>-<timestamp>` from the database, then swap the alias onto it."""
        from apps.ads.models import LIVE_ACTIVE, Ad

        started = timezone.now()
        indices = self.client.indices
        indices.put_index_template(name=self.alias, **builders.index_template(self.alias))
        new = self.new_index_name()
        body = builders.index_settings_and_mappings()
        loading = {**body["settings"], "refresh_interval": "-1"}
        indices.create(index=new, settings=loading, mappings=body["mappings"])
        count, last = 0, None
        live = Ad.objects.filter(LIVE_ACTIVE).order_by("pk")
        while True:
            page = live.filter(pk__gt=last) if last is not None else live
            ids = [str(pk) for pk in page.values_list("pk", flat=True)[:BULK_CHUNK]]
            if not ids:
                break
            count += self._bulk(self._actions(ids, index=new))
            last = ids[-1]
        indices.put_settings(index=new, settings={"refresh_interval": None})
        indices.refresh(index=new)
        self.swap_alias(new)
        self._ready = True
        # Writes made while loading went to the old index: replay them onto the new one.
        changed = Ad.objects.filter(updated_at__gte=started - timedelta(seconds=5))
        self.index(changed.values_list("pk", flat=True))
        return count

    def swap_alias(self, new: str) -> None:
        from elasticsearch import NotFoundError

        indices = self.client.indices
        old: list[str] = []
        if indices.exists_alias(name=self.alias):
            old = sorted(dict(indices.get_alias(name=self.alias)).keys())
        actions: list[dict[str, Any]] = [
            {"remove": {"index": name, "alias": self.alias}} for name in old if name != new
        ]
        if not old and indices.exists(index=self.alias):
            # A concrete index named like the alias (a write before any alias existed).
            actions.append({"remove_index": {"index": self.alias}})
        actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
        indices.update_aliases(actions=actions)
        for name in old:
            if name != new:
                with contextlib.suppress(NotFoundError):
                    indices.delete(index=name)
