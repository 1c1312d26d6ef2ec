"""Elasticsearch request bodies: pure functions of their inputs, unit-tested without a server.

They mirror the PostgreSQL backend (backends/postgres.py) so both answer the same queries the
same way:

- Analysis: one tokenizer for every text field that splits on what is not a letter or a digit,
  as `text.terms()` does with what users type, then lower case and ASCII folding ("Café" ->
  "cafe", PostgreSQL's mkt_unaccent); an `english` sub-field adds stems ("phones" -> "phone");
  `title.suggest` holds edge n-grams of the title's words for suggestions.
- Relevance: a `dis_max` of three constant scores, so an ad's score is its band: 3 = every term
  in the title, 2 = every term anywhere (title, attribute values, description) or the terms
  naming its category, 1 = a typo match only (`fuzziness: AUTO` on the title). Each time the
  last term also matches as a prefix (the user may still be typing). Then promotion tier,
  newest, id: the PostgreSQL order, tie for tie.
- Filters: the listing's, as `filter` clauses (no scoring); attributes are a `nested` list of
  `{key, keyword, number, boolean}` so `attr_<key>` matches exactly and `_min`/`_max` compare
  numbers, not strings.
- Facets: aggregations over the whole filtered result, never just the page: `category_id` and
  `condition` are keyword fields; prices fall into the contract's six buckets.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from apps.search import text as search_text
from apps.search.backends.base import SearchQuery

EDGE_NGRAM_MAX = 20  # longer typed words fall back to a prefix query
PREFIX_MAX = 10  # index_prefixes: prefix queries up to this length read a ready-made field
MAX_RESULT_WINDOW = 10_000  # ES's default; deeper pages walk with search_after
CATEGORY_FACET_SIZE = 1_000
LOCATION_FACET_SIZE = 5_000  # every location (the roll-up happens in common.location_facet)
ATTRIBUTE_VALUES_SIZE = 100  # values per choice attribute
PRICE_EDGES = [10_000, 50_000, 100_000, 500_000, 1_000_000]  # KES; the index holds cents
LONG_MAX = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TITLE_FIELDS = ["title", "title.english"]
ANYWHERE_FIELDS = [
    "title",
    "title.english",
    "attributes_text",
    "description",
    "description.english",
]
PREFIX_TITLE = ["title"]
PREFIX_ANYWHERE = ["title", "attributes_text", "description"]

BAND_TITLE, BAND_ANYWHERE, BAND_TYPO = 3, 2, 1

DEFAULT_SORT: list[dict[str, Any]] = [
    {"promotion_tier": "desc"},
    {"published_at": "desc"},
    {"id": "desc"},
]
RELEVANCE_SORT: list[dict[str, Any]] = [{"_score": "desc"}, *DEFAULT_SORT]
ORDERING_SORTS: dict[str, list[dict[str, Any]]] = {
    "-published_at": [{"published_at": "desc"}, {"id": "desc"}],
    "published_at": [{"published_at": "asc"}, {"id": "asc"}],
    "price": [{"price_cents": "asc"}, {"id": "asc"}],
    "-price": [{"price_cents": "desc"}, {"id": "desc"}],
}


# --- the index --------------------------------------------------------------------------------


def _text(analyzer: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "analyzer": analyzer, **extra}


def index_settings_and_mappings() -> dict[str, Any]:
    """`{"settings", "mappings"}` of an ads index (and of the index template)."""
    prefixes = {"min_chars": 1, "max_chars": PREFIX_MAX}
    settings = {
        "number_of_shards": 1,
        "max_result_window": MAX_RESULT_WINDOW,
        "analysis": {
            "tokenizer": {
                # What text.terms() keeps: runs of letters and digits.
                "words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"},
            },
            "filter": {
                "title_edge_ngrams": {
                    "type": "edge_ngram",
                    "min_gram": 1,
                    "max_gram": EDGE_NGRAM_MAX,
                },
                "english_possessive": {"type": "stemmer", "language": "possessive_english"},
                "english_stemmer": {"type": "stemmer", "language": "english"},
            },
            "normalizer": {
                "folded_keyword": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
            },
            "analyzer": {
                "folded": {
                    "type": "custom",
                    "tokenizer": "words",
                    "filter": ["lowercase", "asciifolding"],
                },
                "folded_english": {
                    "type": "custom",
                    "tokenizer": "words",
                    "filter": [
                        "english_possessive",
                        "lowercase",
                        "asciifolding",
                        "english_stemmer",
                    ],
                },
                "edge_ngrams": {
                    "type": "custom",
                    "tokenizer": "words",
                    "filter": ["lowercase", "asciifolding", "title_edge_ngrams"],
                },
            },
        },
    }
    mappings = {
        "dynamic": "strict",
        "properties": {
            "id": {"type": "keyword"},
            "slug": {"type": "keyword", "index": False},
            "title": _text(
                "folded",
                index_prefixes=prefixes,
                fields={
                    "english": _text("folded_english"),
                    "suggest": _text("edge_ngrams", search_analyzer="folded"),
                    "raw": {"type": "keyword", "normalizer": "folded_keyword", "ignore_above": 256},
                },
            ),
            "description": _text(
                "folded", index_prefixes=prefixes, fields={"english": _text("folded_english")}
            ),
            "attributes_text": _text("folded", index_prefixes=prefixes),
            "attributes": {
                "type": "nested",
                "properties": {
                    "key": {"type": "keyword"},
                    "keyword": {"type": "keyword", "ignore_above": 256},
                    "number": {"type": "double"},
                    "boolean": {"type": "boolean"},
                },
            },
            "category_id": {"type": "keyword"},
            "location_id": {"type": "keyword"},
            "owner_id": {"type": "keyword"},
            # Cents as integers: exact ranges and buckets (a scaled_float rounds 9999.99 * 100).
            "price_cents": {"type": "long"},
            "currency": {"type": "keyword"},
            "negotiable": {"type": "boolean"},
            "condition": {"type": "keyword"},
            "has_images": {"type": "boolean"},
            "promotion_tier": {"type": "byte"},
            "published_at": {"type": "date"},
            "updated_at": {"type": "date"},
        },
    }
    return {"settings": settings, "mappings": mappings}


def index_template(alias: str) -> dict[str, Any]:
    """Every `<alias>-*` index gets the ads mapping, whoever creates it."""
    return {
        "index_patterns": [f"{alias}-*"],
        "priority": 100,
        "template": index_settings_and_mappings(),
    }


# --- documents --------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return float(number) if number.is_finite() else None
    return None


def attribute_entries(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    """`{"year": 2015, "make": "Toyota", "automatic": true, "engine": "1.5"}` -> one nested
    entry per key: the string form (exact filters), the number (ranges), the boolean."""
    entries: list[dict[str, Any]] = []
    for key, value in sorted((attributes or {}).items()):
        if value is None or isinstance(value, dict | list):
            continue
        entry: dict[str, Any] = {"key": key}
        if isinstance(value, bool):
            entry["boolean"] = value
        else:
            entry["keyword"] = str(value)
            number = _number(value)
            if number is not None:
                entry["number"] = number
        entries.append(entry)
    return entries


def attributes_text(attributes: dict[str, Any]) -> str:
    """String and number values, as PostgreSQL's jsonb_to_tsvector(["string", "numeric"])."""
    return " ".join(
        str(value)
        for _, value in sorted((attributes or {}).items())
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def document(ad: Any, *, has_images: bool | None = None) -> dict[str, Any]:
    """The indexed form of a live active ad (a row with its category loaded)."""
    images = has_images if has_images is not None else bool(getattr(ad, "has_images", False))
    return {
        "id": str(ad.pk),
        "slug": ad.slug,
        "title": ad.title,
        "description": ad.description or "",
        "attributes_text": attributes_text(ad.attributes),
        "attributes": attribute_entries(ad.attributes),
        "category_id": str(ad.category_id),
        "location_id": str(ad.location_id) if ad.location_id is not None else None,
        "owner_id": str(ad.owner_id),
        "price_cents": cents(ad.price),
        "currency": ad.currency,
        "negotiable": bool(ad.negotiable),
        "condition": ad.condition or None,
        "has_images": images,
        "promotion_tier": int(ad.promotion_tier or 0),
        "published_at": _iso(ad.published_at),
        "updated_at": _iso(ad.updated_at),
    }


def version_of(ad: Any) -> int:
    """External version: the row's last change in microseconds, so a late, stale sync never
    overwrites a newer one (ES refuses a lower version)."""
    return (ad.updated_at - EPOCH) // timedelta(microseconds=1)


# --- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeFilter:
    key: str
    kind: str  # text, choice, bool, int, decimal
    bound: str | None  # None (exact), "min", "max"
    value: Any


@dataclass
class Filters:
    """The listing filters, validated and resolved (slugs -> ids) by the backend."""

    category_ids: list[int] | None = None
    location_ids: list[int] | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    condition: str | None = None
    negotiable: bool | None = None
    has_images: bool | None = None
    seller: str | None = None
    posted_since: date | None = None
    attributes: list[AttributeFilter] = field(default_factory=list)
    hidden_owner_ids: list[str] = field(default_factory=list)


def cents(amount: Any, *, rounding: str = ROUND_HALF_EVEN) -> int:
    """Money in whole cents, within a long; a bound rounds inwards (inclusive ranges)."""
    value = Decimal(str(amount))
    if not value.is_finite():
        return LONG_MAX if value > 0 else -LONG_MAX
    whole = int((value * 100).to_integral_value(rounding=rounding))
    return max(-LONG_MAX, min(LONG_MAX, whole))


def _bounded(value: Any) -> float:
    """A number ES can parse: huge or infinite inputs (1e400) become the largest double."""
    number = float(value)
    if number != number:  # NaN never reaches here (the filters refuse it); be safe anyway
        return 0.0
    return max(-sys.float_info.max, min(sys.float_info.max, number))


def _ids(values: list[Any]) -> list[str]:
    return [str(value) for value in values]


def attribute_clause(item: AttributeFilter) -> dict[str, Any]:
    if item.bound is not None:
        operator = "gte" if item.bound == "min" else "lte"
        match: dict[str, Any] = {"range": {"attributes.number": {operator: _bounded(item.value)}}}
    elif item.kind == "bool":
        match = {"term": {"attributes.boolean": bool(item.value)}}
    elif item.kind in ("int", "decimal"):
        match = {"term": {"attributes.number": _bounded(item.value)}}
    else:
        match = {"term": {"attributes.keyword": str(item.value)}}
    return {
        "nested": {
            "path": "attributes",
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"attributes.key": item.key}},
                        match,
                    ]
                }
            },
        }
    }


def filter_clauses(filters: Filters) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    if filters.category_ids is not None:
        clauses.append({"terms": {"category_id": _ids(filters.category_ids)}})
    if filters.location_ids is not None:
        clauses.append({"terms": {"location_id": _ids(filters.location_ids)}})
    price: dict[str, int] = {}
    if filters.min_price is not None:
        price["gte"] = cents(filters.min_price, rounding=ROUND_CEILING)
    if filters.max_price is not None:
        price["lte"] = cents(filters.max_price, rounding=ROUND_FLOOR)
    if price:
        clauses.append({"range": {"price_cents": price}})
    if filters.condition:
        clauses.append({"term": {"condition": filters.condition}})
    if filters.negotiable is not None:
        clauses.append({"term": {"negotiable": filters.negotiable}})
    if filters.has_images is not None:
        clauses.append({"term": {"has_images": filters.has_images}})
    if filters.seller:
        clauses.append({"term": {"owner_id": filters.seller}})
    if filters.posted_since is not None:
        clauses.append(
            {
                "range": {
                    "published_at": {
                        "gte": filters.posted_since.isoformat(),
                        "format": "strict_date_optional_time",
                    }
                }
            }
        )
    clauses.extend(attribute_clause(item) for item in filters.attributes)
    return clauses


def _all_terms(words: list[str], fields: list[str], prefix_fields: list[str]) -> dict[str, Any]:
    """Every word in one of `fields`; the last one may also be a prefix in `prefix_fields`."""
    *whole, last = words
    clauses: list[dict[str, Any]] = [
        {"multi_match": {"query": word, "fields": fields, "operator": "and"}} for word in whole
    ]
    clauses.append(
        {
            "bool": {
                "minimum_should_match": 1,
                "should": [
                    {"multi_match": {"query": last, "fields": fields, "operator": "and"}},
                    *({"prefix": {name: {"value": last}}} for name in prefix_fields),
                ],
            }
        }
    )
    return {"bool": {"filter": clauses}}


def text_query(words: list[str], category_ids: list[int]) -> dict[str, Any]:
    """Matches and scores an ad by its relevance band (see the module docstring)."""
    anywhere = _all_terms(words, ANYWHERE_FIELDS, PREFIX_ANYWHERE)
    if category_ids:
        anywhere = {
            "bool": {
                "minimum_should_match": 1,
                "should": [
                    anywhere,
                    {"terms": {"category_id": _ids(category_ids)}},
                ],
            }
        }
    typo = {
        "match": {
            "title": {"query": search_text.typo_text(words), "fuzziness": "AUTO", "operator": "and"}
        }
    }
    return {
        "dis_max": {
            "tie_breaker": 0,
            "queries": [
                {
                    "constant_score": {
                        "filter": _all_terms(words, TITLE_FIELDS, PREFIX_TITLE),
                        "boost": BAND_TITLE,
                    }
                },
                {"constant_score": {"filter": anywhere, "boost": BAND_ANYWHERE}},
                {"constant_score": {"filter": typo, "boost": BAND_TYPO}},
            ],
        }
    }


def sort_for(*, ordering: str | None, has_text: bool) -> list[dict[str, Any]]:
    if ordering:
        return [dict(item) for item in ORDERING_SORTS[ordering]]
    return [dict(item) for item in (RELEVANCE_SORT if has_text else DEFAULT_SORT)]


def facet_aggregations(attribute_keys: list[str] | None = None) -> dict[str, Any]:
    """Category, condition, price bucket and location (the ad's own; common.location_facet
    rolls them up to the level shown) for every query; with `attribute_keys` (the selected
    category's choice attributes) the ads per (key, value) too: one nested entry per ad and
    key, so a nested doc count is an ad count."""
    edges: list[int | None] = [None, *PRICE_EDGES, None]
    ranges: list[dict[str, Any]] = []
    for i in range(len(edges) - 1):
        bucket: dict[str, Any] = {"key": str(i)}
        low, high = edges[i], edges[i + 1]
        if low is not None:
            bucket["from"] = low * 100
        if high is not None:
            bucket["to"] = high * 100
        ranges.append(bucket)
    aggs: dict[str, Any] = {
        "category": {"terms": {"field": "category_id", "size": CATEGORY_FACET_SIZE}},
        "condition": {"terms": {"field": "condition", "size": 10}},
        "price": {"range": {"field": "price_cents", "ranges": ranges}},
        "location": {"terms": {"field": "location_id", "size": LOCATION_FACET_SIZE}},
    }
    if attribute_keys:
        aggs["attributes"] = {
            "nested": {"path": "attributes"},
            "aggs": {
                "keys": {
                    "filter": {"terms": {"attributes.key": list(attribute_keys)}},
                    "aggs": {
                        "key": {
                            "terms": {"field": "attributes.key", "size": len(attribute_keys)},
                            "aggs": {
                                "value": {
                                    "terms": {
                                        "field": "attributes.keyword",
                                        "size": ATTRIBUTE_VALUES_SIZE,
                                    }
                                }
                            },
                        }
                    },
                }
            },
        }
    return aggs


def build_query(
    query: SearchQuery,
    filters: Filters,
    *,
    category_ids: list[int] | None = None,
    offset: int | None = None,
    limit: int | None = None,
    facets: bool = True,
    search_after: list[Any] | None = None,
    attribute_keys: list[str] | None = None,
) -> dict[str, Any]:
    """The `_search` body for a SearchQuery: ids only (no _source), exact total, facets unless
    told otherwise.

    `filters` are the query's params, validated and resolved (elasticsearch.parse_filters());
    `category_ids` the categories its text names (common.category_ids_named()). `offset` and
    `limit` override the query's (deep pages); `search_after` replaces the offset."""
    words = search_text.terms(query.text)
    clauses: dict[str, Any] = {"filter": filter_clauses(filters)}
    if words:
        clauses["must"] = [text_query(words, category_ids or [])]
    if filters.hidden_owner_ids:
        clauses["must_not"] = [{"terms": {"owner_id": _ids(filters.hidden_owner_ids)}}]
    body: dict[str, Any] = {
        "query": {"bool": clauses},
        "sort": sort_for(ordering=query.ordering, has_text=bool(words)),
        "size": query.limit if limit is None else limit,
        "_source": False,
        "track_total_hits": True,
    }
    if search_after is not None:
        body["search_after"] = search_after
    else:
        body["from"] = query.offset if offset is None else offset
    if facets:
        body["aggs"] = facet_aggregations(attribute_keys)
    return body


def build_suggest(prefix: str, *, size: int = 30) -> dict[str, Any] | None:
    """Titles having a word that starts with the last typed word (edge n-grams) and the
    earlier words whole, as the PostgreSQL backend; None for nothing to look up."""
    words = search_text.terms(prefix)
    if not words or len(prefix.strip()) < 2:
        return None
    *whole, last = words
    clauses: list[dict[str, Any]] = [
        {"match": {"title": {"query": word, "operator": "and"}}} for word in whole
    ]
    if len(last) <= EDGE_NGRAM_MAX:
        clauses.append({"match": {"title.suggest": {"query": last, "operator": "and"}}})
    else:
        clauses.append({"prefix": {"title": {"value": last}}})
    return {
        "query": {"bool": {"filter": clauses}},
        "sort": [dict(item) for item in DEFAULT_SORT],
        "size": size,
        "_source": ["title", "slug"],
    }


# --- responses --------------------------------------------------------------------------------


def parse_facets(response: dict[str, Any]) -> tuple[dict[int, int], dict[str, int], dict[int, int]]:
    """Counts by category id, by condition, by price bucket index (0..5)."""
    aggs = response.get("aggregations") or {}
    categories = {
        int(b["key"]): int(b["doc_count"]) for b in (aggs.get("category") or {}).get("buckets", [])
    }
    conditions = {
        str(b["key"]): int(b["doc_count"]) for b in (aggs.get("condition") or {}).get("buckets", [])
    }
    buckets = {
        int(b["key"]): int(b["doc_count"]) for b in (aggs.get("price") or {}).get("buckets", [])
    }
    return categories, conditions, buckets


def parse_location_counts(response: dict[str, Any]) -> dict[int, int]:
    """Counts by the ads' own location id."""
    aggs = response.get("aggregations") or {}
    return {
        int(b["key"]): int(b["doc_count"]) for b in (aggs.get("location") or {}).get("buckets", [])
    }


def parse_attribute_counts(response: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Counts by (attribute key, value)."""
    aggs = response.get("aggregations") or {}
    keys = ((aggs.get("attributes") or {}).get("keys") or {}).get("key") or {}
    return {
        (str(key["key"]), str(value["key"])): int(value["doc_count"])
        for key in keys.get("buckets", [])
        for value in (key.get("value") or {}).get("buckets", [])
    }


def parse_total(response: dict[str, Any]) -> int:
    total = response.get("hits", {}).get("total", 0)
    return int(total["value"] if isinstance(total, dict) else total)


def parse_hits(response: dict[str, Any]) -> list[dict[str, Any]]:
    return list(response.get("hits", {}).get("hits", []))
