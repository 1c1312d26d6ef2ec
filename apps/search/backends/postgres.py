"""PostgreSQL search (the default): one server, nothing to sync.

Matching: the stored `search_vector` (GIN) against the query's terms, the last one as a prefix
(or, a common word typed whole, as that word: whole_words.py), in the `simple` and `english`
configurations; or the query's words naming a category (with its
descendants). Typos are a fallback: when the exact terms find fewer than TYPO_FALLBACK_BELOW
ads, each word (3+ letters) gets up to 5 corrections from the vocabulary of title words
(search_searchvocabulary: trigram index, `word %> typed`, then levenshtein within
Elasticsearch's AUTO fuzziness), and the query runs again with `(word | fix1 | fix2)`. The
lookup is part of the exact statement, gated on its count (never run when the words find
enough ads): a typo search is two statements, a correct one one.

Order: relevance bands, then promotion tier, then newest (API.md section 6): 3 = every term in
the title, 2 = every term somewhere (or a category name), 1 = a typo match only. An explicit
`ordering` replaces this.

One statement answers a search (the filters' WHERE compiled once, every part composed
around it): a MATERIALIZED CTE of at most SEARCH_COUNT_CAP + 1 matches serves the total, every
facet and the page. Over the cap, the total is the cap (flagged as an estimate), the facets
cover the counted matches, and the page comes from the ads table in index order instead
(title matches by the feed index; the rest only when they run out).
A query with no text and no filter but `category` reads its facets from the count tables
the triggers keep (search_facetcount, search_attributecount) and its page from the feed index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import QueryDict

from apps.ads.filters import AdFilter
from apps.ads.models import LIVE_ACTIVE, Ad
from apps.search import text as search_text
from apps.search import whole_words
from apps.search.backends.base import SearchPage, SearchQuery, Suggestion
from apps.search.backends.common import (
    FacetScope,
    assemble_facets,
    category_ids_named,
    category_suggestions,
    facet_scope,
)
from apps.search.text import name_has_word_prefix

# `to_tsquery('simple', q) || to_tsquery('english', q)` for q = the parts joined by ' & ', with
# a word both configurations read alike looked up once (search_tsquery, migration 0005): one
# constant at plan time.
TSQUERY = "search_tsquery(%s::text[])"
# The search vector's weight-A part (the title) without the weight: ad_title_vector_gin's
# expression (migration 0007). It matches some words exactly when the vector matches them at
# weight A, from an index of title words only.
TITLE_VECTOR = (
    "(to_tsvector('simple'::regconfig, mkt_unaccent(coalesce(ads_ad.title, ''))) "
    "|| to_tsvector('english'::regconfig, mkt_unaccent(coalesce(ads_ad.title, ''))))"
)
TYPO = "lower(mkt_unaccent(ads_ad.title)) %%> %s"
# The category filter's condition (AdFilter: `category_id__in`), as compiled.
CATEGORY_IN = re.compile(r'"ads_ad"\."category_id" IN \(((?:%s, )*%s)\)')
INT4_MAX = 2**31 - 1
DEFAULT_COUNT_CAP = 2_000
TYPO_FALLBACK_BELOW = 20  # exact matches fewer than a default page: add typo corrections
MAX_CORRECTIONS = 5
# Over the cap, title matches are paged by walking the feed index when at least this share of
# the counted matches are title matches (dense enough to meet a page quickly).
FEED_SCAN_SHARE = 0.4
DEFAULT_ORDER = ("-promotion_tier", "-published_at", "-id")  # AdFilter's, without `ordering`
BUCKETS = "ARRAY[10000, 50000, 100000, 500000, 1000000]::numeric[]"
FACETS_FROM_MATCHED = f"""
    SELECT 'category', category_id::text, NULL::text, count(*) FROM matched
        GROUP BY category_id
    UNION ALL
    SELECT 'location', location_id::text, NULL, count(*) FROM matched GROUP BY location_id
    UNION ALL
    SELECT 'condition', condition, NULL, count(*) FROM matched
        WHERE condition IS NOT NULL GROUP BY condition
    UNION ALL
    SELECT 'price', width_bucket(price, {BUCKETS})::text, NULL, count(*) FROM matched
        GROUP BY 2"""  # noqa: S608  (constants only)
# Each facet key looked up in each ad's attributes (not every pair of each ad expanded and
# filtered: a third of the time at 5,000 matches). `->` on a non-object is NULL: no row.
ATTRIBUTES_FROM_MATCHED = """
    UNION ALL
    SELECT 'attribute', k.key, matched.attributes ->> k.key, count(*)
    FROM matched, unnest(%s::text[]) k(key)
    WHERE jsonb_typeof(matched.attributes -> k.key) = 'string'
    GROUP BY 2, 3"""
PAGE_AND_TOTAL = """
    UNION ALL SELECT 'total', NULL, NULL, n FROM total
    UNION ALL SELECT 'page', id::text, NULL, pos FROM page"""
# The CTE's order for each `ordering` (columns of `matched`), as AdFilter's ORDERINGS.
CTE_ORDERS = {
    "-published_at": "published_at DESC, id DESC",
    "published_at": "published_at ASC, id ASC",
    "price": "price ASC, id ASC",
    "-price": "price DESC, id DESC",
}
# Typo corrections, as part of a search's statement: up to MAX_CORRECTIONS vocabulary words per
# typed word of 3+ letters, most common first, within Elasticsearch's AUTO fuzziness (1 edit for
# 3-5 letters, 2 above); only when the words match fewer than TYPO_FALLBACK_BELOW ads (a
# one-time filter: otherwise never run).
CORRECTIONS_WHEN_FEW = """
    UNION ALL
    SELECT 'fix', q.word, v.word, NULL::bigint FROM unnest(%s::text[]) AS q(word)
    JOIN LATERAL (
        SELECT word FROM search_searchvocabulary
        WHERE word %%> q.word AND word <> q.word
          AND levenshtein_less_equal(q.word, word, CASE WHEN length(q.word) > 5 THEN 2 ELSE 1 END)
              <= CASE WHEN length(q.word) > 5 THEN 2 ELSE 1 END
        ORDER BY ndoc DESC, word LIMIT %s) v ON true
    WHERE (SELECT n FROM total) < %s"""
MATCHED_COLUMNS = (
    '"ads_ad"."id", "ads_ad"."category_id", "ads_ad"."location_id", "ads_ad"."condition", '
    '"ads_ad"."price", "ads_ad"."promotion_tier", "ads_ad"."published_at"'
)
FEED_COLUMNS = '"ads_ad"."id", "ads_ad"."promotion_tier", "ads_ad"."published_at"'
FEED_ORDER = '"ads_ad"."promotion_tier" DESC, "ads_ad"."published_at" DESC, "ads_ad"."id" DESC'
UNINDEXED_FEED_ORDER = (
    '("ads_ad"."promotion_tier" + 0) DESC, ("ads_ad"."published_at" + interval \'0\') DESC, '
    '"ads_ad"."id" DESC'
)


def count_cap() -> int:
    return int(getattr(settings, "SEARCH_COUNT_CAP", DEFAULT_COUNT_CAP))


def cte_order(ordering: str | None, *, has_text: bool) -> str:
    if ordering:
        return CTE_ORDERS[ordering]
    relevance = "band DESC, " if has_text else ""
    return relevance + "tier DESC, published_at DESC, id DESC"


def correction_candidates(words: list[str]) -> list[str]:
    """The words a typo lookup corrects: 3+ letters, not a number; each once."""
    return sorted({word for word in words if len(word) >= 3 and not word.isdigit()})


def where_clause(queryset: QuerySet[Ad]) -> tuple[str, list[Any]]:
    """The queryset's WHERE clause over "ads_ad", compiled once, to compose statements
    around. A filter that joins another table is kept inside an id subquery (a join the
    query trimmed, left in its alias map unreferenced, is none). The category filter is
    typed for the indexes: see typed_category_ids."""
    query = queryset.query
    compiler = query.get_compiler(connection=connection)
    try:
        sql, params = compiler.compile(query.where)
    except FullResultSet:  # no condition at all
        return "TRUE", []
    except EmptyResultSet:  # a condition nothing meets (`id IN ()`)
        return "FALSE", []
    joined = {alias for alias, refs in query.alias_refcount.items() if refs}
    if joined - {Ad._meta.db_table}:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        sql = f'"ads_ad"."id" IN ({sql})'
    return typed_category_ids(sql, list(params)) or "TRUE", list(params)


def typed_category_ids(sql: str, params: list[Any]) -> str:
    """The category filter (`"ads_ad"."category_id" IN (%s, ...)`) written so that the planner
    uses ad_category_search_gin (category_id, search_vector; btree_gin, migration 0006) for one
    category and not for several.

    One id: cast to bigint. Bound client-side it is an integer literal, `category_id IN (2)`
    is parsed as `bigint = integer`, an operator of the btree opfamily only; btree_gin's int8
    class serves `bigint = bigint` alone. Then one index scan intersects category and text,
    instead of a BitmapAnd of the words' GIN bitmap with the category btree, which hands over
    every ad of the category (75k for cars on the 1M-ad bench) however few match the words.
    Several ids (a parent category): `= ANY(integer[])`, which only the btree serves (as
    before the index). GIN has no array search: the composite index would be scanned once
    per id, each time reading the words' posting lists (vehicles, 8 leaves: slower)."""

    def rewrite(found: re.Match[str]) -> str:
        count = found.group(1).count("%s")
        if count == 1:
            return '"ads_ad"."category_id" IN (%s::bigint)'
        first = sql.count("%s", 0, found.start())
        ids = params[first : first + count]
        if all(isinstance(i, int) and 0 <= i <= INT4_MAX for i in ids):
            return '"ads_ad"."category_id" = ANY(ARRAY[' + found.group(1) + "]::integer[])"
        return found.group(0)

    return CATEGORY_IN.sub(rewrite, sql)


def matches(indexed: bool, tsquery: str) -> str:
    """`vector @@ tsquery`; unindexed: the operator's function, which no index serves and
    the planner guesses true for a third of the rows, so it walks an ordered index."""
    if indexed:
        return f"ads_ad.search_vector @@ {tsquery}"
    return f"ts_match_vq(ads_ad.search_vector, {tsquery})"


class TextMatch:
    """A text query's match condition and relevance band, with typo corrections (if any)
    as alternatives of their word: `(toyta:* | toyota)`."""

    def __init__(
        self, words: list[str], corrections: dict[str, list[str]] | None = None, *, tree: Any = None
    ):
        self.words = words
        self.tree = tree
        # tsquery parts, one a word (search_tsquery's argument)
        forms = whole_words.whole_forms(words[-1])
        self.exact = search_text.tsquery_parts(words, last_forms=forms)
        self.title = search_text.tsquery_parts(words, weights="A", last_forms=forms)
        self.category_ids = category_ids_named(words, tree)
        corrections = corrections or {}
        self.match = [
            "(" + " | ".join([part, *corrections[word]]) + ")" if corrections.get(word) else part
            for word, part in zip(words, self.exact, strict=True)
        ]

    def corrected(self, corrections: dict[str, list[str]]) -> TextMatch:
        return TextMatch(self.words, corrections, tree=self.tree)

    def condition(self, *, indexed: bool = True) -> Q:
        """`indexed=False`: see matches(); for pages of dense matches."""
        # Constant SQL text; every user value travels as a parameter.
        exact = RawSQL(  # noqa: S611
            matches(indexed, TSQUERY),
            [self.match],
            output_field=BooleanField(),
        )
        condition = Q(exact)
        if self.category_ids:
            condition |= Q(category_id__in=self.category_ids)
        return condition

    # The same conditions as SQL text and parameters, for statements composed around a
    # queryset's WHERE clause compiled once (see where_clause).
    def condition_sql(self, *, indexed: bool = True) -> tuple[str, list[Any]]:
        sql = matches(indexed, TSQUERY)
        params: list[Any] = [self.match]
        if self.category_ids:
            sql, params = (
                f'({sql} OR "ads_ad"."category_id" = ANY(%s))',
                [*params, self.category_ids],
            )
        return sql, params

    def title_sql(self, *, indexed: bool = True) -> tuple[str, list[Any]]:
        """Every word in the title. Indexed: through the title's own index (a weighted query
        on the whole vector's index fetches every ad having the words anywhere, to check the
        weight); unindexed: the weighted query, checked on rows an ordered index walk reads."""
        if indexed:
            return f"{TITLE_VECTOR} @@ {TSQUERY}", [self.exact]
        return matches(False, TSQUERY), [self.title]

    def band_sql(self) -> tuple[str, list[Any]]:
        return (
            f"CASE WHEN ads_ad.search_vector @@ {TSQUERY} THEN 3 "
            f"WHEN ads_ad.search_vector @@ {TSQUERY} OR ads_ad.category_id = ANY(%s) THEN 2 "
            "ELSE 1 END",
            [self.title, self.exact, self.category_ids],
        )


def visible_ads(viewer: Any) -> tuple[QuerySet[Ad], bool]:
    """public_ads(), and whether it hides anyone's ads from this viewer (blocks; read once
    per request)."""
    from apps.ads import selectors as ad_selectors

    queryset = Ad.objects.filter(LIVE_ACTIVE)
    hidden = ad_selectors.hidden_owner_ids(viewer)
    if hidden:
        queryset = queryset.exclude(owner_id__in=hidden)
    return queryset, bool(hidden)


def filter_text(queryset: QuerySet[Ad], value: str) -> QuerySet[Ad]:
    """The listing's `q`: search's match (TextMatch), or a title within typo distance of
    every word; without the relevance order."""
    words = search_text.terms(value)
    if not words:
        return queryset
    # Constant SQL text; every user value travels as a parameter.
    typo_match = RawSQL(  # noqa: S611
        " AND ".join([TYPO] * len(words)),
        words,
        output_field=BooleanField(),
    )
    return queryset.filter(TextMatch(words).condition() | Q(typo_match))


class PostgresSearchBackend:
    needs_sync = False  # the vector is a generated column: nothing to push

    def filtered(self, query: SearchQuery) -> QuerySet[Ad]:
        return self._filtered(query)[0]

    def _filtered(self, query: SearchQuery) -> tuple[QuerySet[Ad], bool]:
        """Live active ads the viewer may see, with the listing's filters and ordering; and
        whether a block hides some."""
        visible, hides = visible_ads(query.viewer)
        filters = {
            key: value
            for key, value in query.params.items()
            if key not in ("q", "ordering", "page", "page_size")
        }
        if not filters and not query.ordering:
            # What AdFilter gives for no parameter at all (its form, its attribute schema
            # read and its ordering cost 3-4 ms of CPU a search).
            return visible.order_by(*DEFAULT_ORDER), hides
        params = QueryDict(mutable=True)
        for key, value in filters.items():
            params[key] = value
        if query.ordering:
            params["ordering"] = query.ordering
        filterset = AdFilter(params, queryset=visible)
        if not filterset.is_valid():
            from rest_framework.exceptions import ValidationError

            raise ValidationError(filterset.errors)
        return filterset.qs, hides

    def search(self, query: SearchQuery) -> SearchPage:
        queryset, hides = self._filtered(query)
        scope = facet_scope(query.params)
        words = search_text.terms(query.text)
        if not words:
            if not hides and self._counts_suffice(query):
                return self._from_counts(query, queryset, scope)
            return self._run(query, queryset, scope, None)
        text = TextMatch(words, tree=scope.tree)
        # The corrections come with the exact run (computed only when it finds too few).
        page, corrections = self._run_with_corrections(query, queryset, scope, text)
        if page.total < TYPO_FALLBACK_BELOW and corrections:
            page = self._run(query, queryset, scope, text.corrected(corrections))
        return page

    # --- the one statement -------------------------------------------------------------

    def _run_with_corrections(
        self, query: SearchQuery, queryset: QuerySet[Ad], scope: FacetScope, text: TextMatch
    ) -> tuple[SearchPage, dict[str, list[str]]]:
        fixes: dict[str, list[str]] = {}
        page = self._run(query, queryset, scope, text, corrections_into=fixes)
        return page, fixes

    def _run(
        self,
        query: SearchQuery,
        queryset: QuerySet[Ad],
        scope: FacetScope,
        text: TextMatch | None,
        *,
        corrections_into: dict[str, list[str]] | None = None,
    ) -> SearchPage:
        """One statement: the matches (at most the cap + 1), their facets, the total and the
        page; with `corrections_into`, also the typo corrections of the words, looked up only
        when the matches are fewer than TYPO_FALLBACK_BELOW. The queryset's WHERE clause is
        compiled once and every part of the statement is composed around it (building and
        compiling a queryset per part cost ~4 ms of CPU a search)."""
        cap = count_cap()
        where, where_params = where_clause(queryset)
        columns = MATCHED_COLUMNS + (', "ads_ad"."attributes"' if scope.attributes else "")
        names = "id, category_id, location_id, condition, price, tier, published_at"
        names += ", attributes" if scope.attributes else ""
        if text is not None:
            band, band_params = text.band_sql()
            condition, condition_params = text.condition_sql()
            matched_sql = (
                f'SELECT {columns}, {band} FROM "ads_ad" WHERE {where} AND {condition} LIMIT %s'  # noqa: S608  (constant SQL; values are parameters)
            )
            matched_params = [*band_params, *where_params, *condition_params, cap + 1]
        else:
            matched_sql = f'SELECT {columns}, 0 FROM "ads_ad" WHERE {where} LIMIT %s'  # noqa: S608  (constant SQL; values are parameters)
            matched_params = [*where_params, cap + 1]
        order = cte_order(query.ordering, has_text=text is not None)
        big_sql, big_params = self._big_page(query, queryset, text, (where, where_params))
        params: list[Any] = [*matched_params, cap, query.offset, query.limit, *big_params, cap]
        facet_sql = FACETS_FROM_MATCHED
        if scope.attributes:
            facet_sql += ATTRIBUTES_FROM_MATCHED
            params.append(scope.attribute_keys)
        candidates = (
            correction_candidates(text.words) if text and corrections_into is not None else []
        )
        if candidates:
            facet_sql += CORRECTIONS_WHEN_FEW
            params += [candidates, MAX_CORRECTIONS, TYPO_FALLBACK_BELOW]
        # Wraps the queryset's own WHERE (its values stay parameters) and constant SQL.
        sql = (
            f"WITH matched({names}, band) AS MATERIALIZED ({matched_sql}), "  # noqa: S608
            "total AS (SELECT count(*) AS n FROM matched), "
            "page AS ("
            f"SELECT id, row_number() OVER () AS pos FROM (SELECT id FROM matched "
            f"WHERE (SELECT n FROM total) <= %s ORDER BY {order} OFFSET %s LIMIT %s) small "
            f"UNION ALL SELECT id, 100000 + row_number() OVER () FROM ({big_sql}) big(id) "
            "WHERE (SELECT n FROM total) > %s) " + facet_sql + PAGE_AND_TOTAL
        )
        return self._execute(sql, params, scope, cap=cap, corrections_into=corrections_into)

    def _big_page(
        self,
        query: SearchQuery,
        base: QuerySet[Ad],
        text: TextMatch | None,
        where: tuple[str, list[Any]],
    ) -> tuple[str, list[Any]]:
        """The page when the matches are over the cap, read from the ads table in index
        order (run only then: a one-time filter gates it). `base` has the filters only;
        `where` is its WHERE clause, compiled."""
        end = query.offset + query.limit
        if text is None or query.ordering:
            ordered = base
            if text is not None:
                ordered = ordered.filter(text.condition())
            sql, params = ordered.values_list("pk")[query.offset : end].query.sql_with_params()
            return sql, list(params)
        where_sql, where_params = where
        # Title matches (band 3) in feed order. Many of them (a sample share over
        # FEED_SCAN_SHARE): walk the feed index, which meets `end` of them quickly; few:
        # fetch them all through the GIN index and sort (by expressions no index has, so
        # that the planner cannot walk the feed index there).
        title, title_params = text.title_sql()
        by_gin_sql = (
            f'SELECT {FEED_COLUMNS} FROM "ads_ad" WHERE {where_sql} AND {title} '  # noqa: S608  (constant SQL; values are parameters)
            f"ORDER BY {UNINDEXED_FEED_ORDER} LIMIT %s"
        )
        title, title_params = text.title_sql(indexed=False)
        by_feed_sql = (
            f'SELECT {FEED_COLUMNS} FROM "ads_ad" WHERE {where_sql} AND {title} '  # noqa: S608  (constant SQL; values are parameters)
            f"ORDER BY {FEED_ORDER} LIMIT %s"
        )
        # The other bands in feed order, only if band 3 has fewer than `end` ads: then more
        # than the cap match otherwise, densely enough for the feed walk.
        band, band_params = text.band_sql()
        condition, condition_params = text.condition_sql(indexed=False)
        rest_sql = (
            f'SELECT {FEED_COLUMNS}, {band} FROM "ads_ad" WHERE {where_sql} AND {condition} '  # noqa: S608  (constant SQL; values are parameters)
            f"AND NOT ({title}) ORDER BY {FEED_ORDER} LIMIT %s"
        )
        share = int(count_cap() * FEED_SCAN_SHARE)
        sql = (
            "WITH title(id, tier, published_at) AS MATERIALIZED ("  # noqa: S608  (constant SQL; values are parameters)
            "SELECT * FROM (" + by_gin_sql + ") g WHERE (SELECT count(*) FROM matched "
            "WHERE band = 3) < %s UNION ALL SELECT * FROM (" + by_feed_sql + ") f "
            "WHERE (SELECT count(*) FROM matched WHERE band = 3) >= %s) "
            "SELECT id FROM (SELECT id, tier, published_at, 3 AS band FROM title "
            "UNION ALL SELECT * FROM (SELECT * FROM (" + rest_sql + ") r(id, tier, "
            "published_at, band) WHERE (SELECT count(*) FROM title) < %s) more) ranked "
            "ORDER BY band DESC, tier DESC, published_at DESC, id DESC OFFSET %s LIMIT %s"
        )
        return sql, [
            *where_params,
            *text.title_sql()[1],
            end,
            share,
            *where_params,
            *title_params,
            end,
            share,
            *band_params,
            *where_params,
            *condition_params,
            *title_params,
            end,
            end,
            query.offset,
            query.limit,
        ]

    def _counts_suffice(self, query: SearchQuery) -> bool:
        """No text and no filter but `category` (and nobody hidden by a block): the count
        tables hold the exact facets."""
        filters = {
            key
            for key, value in query.params.items()
            if value != "" and key not in ("q", "ordering", "page", "page_size")
        }
        return filters <= {"category"}

    def _from_counts(
        self, query: SearchQuery, queryset: QuerySet[Ad], scope: FacetScope
    ) -> SearchPage:
        category_ids = scope.category_ids  # the filter validated the slug
        where = "WHERE n > 0" if category_ids is None else "WHERE n > 0 AND category_id = ANY(%s)"
        page_sql, page_params = queryset.values_list("pk")[
            query.offset : query.offset + query.limit
        ].query.sql_with_params()
        params: list[Any] = []
        parts = []
        for kind, column in (
            ("category", "category_id"),
            ("location", "county_id"),
            ("condition", "condition"),
            ("price", "bucket"),
        ):
            parts.append(
                f"SELECT '{kind}', {column}::text, NULL::text, sum(n)::bigint "  # noqa: S608  (constant SQL; values are parameters)
                f"FROM search_facetcount {where} GROUP BY {column}"
            )
            params += [] if category_ids is None else [category_ids]
        if scope.attributes:
            parts.append(
                "SELECT 'attribute', key, value, sum(n)::bigint "  # noqa: S608  (constant SQL; values are parameters)
                f"FROM search_attributecount {where} AND key = ANY(%s) "
                "GROUP BY key, value"
            )
            params += ([] if category_ids is None else [category_ids]) + [scope.attribute_keys]
        parts.append(
            "SELECT 'page', id::text, NULL, pos FROM (SELECT id, row_number() "  # noqa: S608  (constant SQL; values are parameters)
            f"OVER () AS pos FROM ({page_sql}) p(id)) page"
        )
        params += list(page_params)
        sql = " UNION ALL ".join(parts)
        page = self._execute(sql, params, scope, cap=None)
        return page

    def _execute(
        self,
        sql: str,
        params: list[Any],
        scope: FacetScope,
        *,
        cap: int | None,
        corrections_into: dict[str, list[str]] | None = None,
    ) -> SearchPage:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        categories: dict[int, int] = {}
        conditions: dict[str, int] = {}
        buckets: dict[int, int] = {}
        locations: dict[int, int] = {}
        attributes: dict[tuple[str, str], int] = {}
        page: list[tuple[int, UUID]] = []
        total = None
        for kind, key, extra, count in rows:
            if kind == "category":
                categories[int(key)] = int(count)
            elif kind == "location":
                if key is not None:
                    locations[int(key)] = locations.get(int(key), 0) + int(count)
            elif kind == "condition":
                if key:
                    conditions[key] = int(count)
            elif kind == "price":
                buckets[int(key)] = int(count)
            elif kind == "attribute":
                attributes[(key, extra)] = int(count)
            elif kind == "total":
                total = int(count)
            elif kind == "fix":
                if corrections_into is not None and search_text.WORD.fullmatch(extra):
                    corrections_into.setdefault(key, []).append(extra)
            else:
                page.append((int(count), UUID(key)))
        estimated = cap is not None and total is not None and total > cap
        if total is None or estimated:
            # Counts tables or capped: each ad has one category, the counts add up.
            total = sum(categories.values()) if not estimated else int(cap or 0)
        facets = assemble_facets(
            categories=categories,
            conditions=conditions,
            buckets=buckets,
            locations=locations,
            attributes=attributes,
            scope=scope,
        )
        page.sort()
        return SearchPage(
            ids=[ad_id for _, ad_id in page],
            total=total,
            facets=facets,
            estimated=estimated,
            category_tree=scope.tree,
            location_roots=scope.locations,
        )

    def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        words = search_text.terms(prefix)
        if not words or len(prefix.strip()) < 2:
            return []
        suggestions = [
            Suggestion(text=item["text"], type="category", slug=item["slug"])
            for item in category_suggestions(words)
        ]
        title_query = search_text.tsquery_text(words, weights="A")
        titles = (
            Ad.objects.filter(
                RawSQL(
                    "ads_ad.search_vector @@ to_tsquery('simple'::regconfig, %s)",
                    [title_query],
                    output_field=BooleanField(),
                )
            )
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
