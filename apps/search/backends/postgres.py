"""PostgreSQL search (the default): one server, nothing to sync.

Matching: the stored `search_vector` (GIN) against the query's terms, the last one as a prefix,
in the `simple` and `english` configurations; or the query's words naming a category (with its
descendants); or, for typos, every word `w <% lower(mkt_unaccent(title))`, an indexable trigram
operator (word by word, as Elasticsearch's fuzzy `operator: and`: "toyota axio" is no typo for
"Toyota Vitz").

Order: relevance bands, then promotion tier, then newest (API.md section 6): 3 = every term in
the title, 2 = every term somewhere (or a category name), 1 = a typo match only. An explicit
`ordering` replaces this.

Facets: one query over the whole filtered result (category, condition, price bucket); the
total is the sum of the category facet, since each ad has exactly one category.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import connection
from django.db.models import BooleanField, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import QueryDict

from apps.ads import selectors as ad_selectors
from apps.ads.filters import AdFilter
from apps.ads.models import Ad
from apps.search import text as search_text
from apps.search.backends.base import Facets, SearchPage, SearchQuery, Suggestion
from apps.search.backends.common import (
    assemble_facets,
    category_ids_named,
    category_suggestions,
)
from apps.search.text import name_has_word_prefix

TSQUERY = ("(to_tsquery('simple'::regconfig, %s) || "
           "to_tsquery('english'::regconfig, %s))")
TYPO = "lower(mkt_unaccent(ads_ad.title)) %%> %s"
FACETS_SQL = """
    SELECT 'category', category_id::text, count(*) FROM matched GROUP BY category_id
    UNION ALL
    SELECT 'condition', condition, count(*) FROM matched
        WHERE condition IS NOT NULL GROUP BY condition
    UNION ALL
    SELECT 'price', width_bucket(price, ARRAY[10000, 50000, 100000, 500000, 1000000]::numeric[])
        ::text, count(*) FROM matched GROUP BY 2
"""


def text_condition(words: list[str]) -> tuple[Q, RawSQL]:
    """The match condition and the relevance band of a text query (words already folded)."""
    query, title_query = search_text.tsquery_text(words), search_text.tsquery_text(words,
                                                                                 weights="A")
    category_ids = category_ids_named(words)
    # Constant SQL text; every user value travels as a parameter.
    exact = RawSQL(f"ads_ad.search_vector @@ {TSQUERY}", [query, query],  # noqa: S611
                   output_field=BooleanField())
    typo_match = RawSQL(" AND ".join([TYPO] * len(words)), words,  # noqa: S611
                        output_field=BooleanField())
    condition = Q(exact) | Q(typo_match)
    if category_ids:
        condition |= Q(category_id__in=category_ids)
    band = RawSQL(  # noqa: S611
        f"CASE WHEN ads_ad.search_vector @@ {TSQUERY} THEN 3 "
        f"WHEN ads_ad.search_vector @@ {TSQUERY} OR ads_ad.category_id = ANY(%s) THEN 2 "
        "ELSE 1 END",
        [title_query, title_query, query, query, category_ids],
        output_field=IntegerField(),
    )
    return condition, band


def filter_text(queryset: QuerySet[Ad], value: str) -> QuerySet[Ad]:
    """The listing's `q`: the same matching as search, without the relevance order."""
    words = search_text.terms(value)
    if not words:
        return queryset
    condition, _ = text_condition(words)
    return queryset.filter(condition)


class PostgresSearchBackend:
    needs_sync = False  # the vector is a generated column: nothing to push

    def filtered(self, query: SearchQuery) -> QuerySet[Ad]:
        params = QueryDict(mutable=True)
        for key, value in query.params.items():
            if key not in ("q", "ordering", "page", "page_size"):
                params[key] = value
        if query.ordering:
            params["ordering"] = query.ordering
        filterset = AdFilter(params, queryset=ad_selectors.public_ads(viewer=query.viewer))
        if not filterset.is_valid():
            from rest_framework.exceptions import ValidationError

            raise ValidationError(filterset.errors)
        return filterset.qs

    def search(self, query: SearchQuery) -> SearchPage:
        queryset = self.filtered(query)
        words = search_text.terms(query.text)
        if words:
            condition, band = text_condition(words)
            queryset = queryset.filter(condition)
            if not query.ordering:
                queryset = queryset.annotate(relevance=band).order_by(
                    "-relevance", "-promotion_tier", "-published_at", "-id"
                )
        facets, total = self.facets(queryset)
        ids: list[UUID] = []
        if query.offset < total:
            window = queryset.values_list("pk", flat=True)[query.offset:query.offset + query.limit]
            ids = list(window)
        return SearchPage(ids=ids, total=total, facets=facets)

    def facets(self, queryset: QuerySet[Ad]) -> tuple[Facets, int]:
        inner = queryset.order_by().values("category_id", "condition", "price")
        sql, params = inner.query.sql_with_params()
        # Wraps the ORM's own SQL; its values stay parameters.
        facet_sql = "WITH matched AS (" + sql + ")" + FACETS_SQL
        with connection.cursor() as cursor:
            cursor.execute(facet_sql, params)
            rows = cursor.fetchall()
        categories: dict[int, int] = {}
        conditions: dict[str, int] = {}
        buckets: dict[int, int] = {}
        for kind, key, count in rows:
            if kind == "category":
                categories[int(key)] = count
            elif kind == "condition":
                conditions[key] = count
            else:
                buckets[int(key)] = count
        # Each ad has exactly one category: the category counts add up to the total.
        total = sum(categories.values())
        return assemble_facets(categories=categories, conditions=conditions,
                               buckets=buckets), total

    def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        words = search_text.terms(prefix)
        if not words or len(prefix.strip()) < 2:
            return []
        suggestions = [Suggestion(text=item["text"], type="category", slug=item["slug"])
                       for item in category_suggestions(words)]
        title_query = search_text.tsquery_text(words, weights="A")
        titles = (
            Ad.objects.filter(RawSQL(
                "ads_ad.search_vector @@ to_tsquery('simple'::regconfig, %s)",
                [title_query], output_field=BooleanField()))
            .filter(status="active", deleted_at__isnull=True)
            .order_by("-promotion_tier", "-published_at", "-id")
            .values_list("title", "slug")[: limit * 3]
        )
        seen: set[str] = set()
        for title, slug in titles:
            if len(suggestions) >= limit:
                break
            key = title.strip().lower()
            if key not in seen and name_has_word_prefix(title, words):
                seen.add(key)
                suggestions.append(Suggestion(text=title, type="ad", slug=slug))
        return suggestions[:limit]

    # Nothing to sync: the vector is a generated column of the ads table.
    def index(self, ad_ids: Iterable[UUID | str]) -> None:
        return None

    def remove(self, ad_ids: Iterable[UUID | str]) -> None:
        return None

    def reindex_all(self) -> int:
        return 0

