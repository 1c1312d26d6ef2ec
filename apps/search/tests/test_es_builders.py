"""The Elasticsearch request builders, pure functions: no server, no database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest

from apps.search.backends import es_builders as b
from apps.search.backends.base import SearchQuery

AD_ID = UUID("8d3a6a8e-3c50-4c3e-9a55-1f2b0c0d0e0f")
OWNER_ID = UUID("11111111-2222-3333-4444-555555555555")


def row(**fields: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "pk": AD_ID, "slug": "toyota-fielder-2015-k2j9xq", "title": "Toyota Fielder 2015",
        "description": "Clean, one owner.", "category_id": 7, "location_id": 3,
        "owner_id": OWNER_ID, "price": Decimal("1250000.50"), "currency": "KES",
        "negotiable": True, "condition": "used", "promotion_tier": 3,
        "attributes": {"make": "Toyota", "year": 2015, "engine_size": "1.5",
                       "automatic": True, "model": "Fielder"},
        "published_at": datetime(2025, 1, 31, 9, 15, tzinfo=UTC),
        "updated_at": datetime(2025, 2, 1, 10, 0, 0, 123456, tzinfo=UTC),
        "has_images": True,
    }
    values.update(fields)
    return SimpleNamespace(**values)


def body_for(text: str = "", ordering: str | None = None, named: list[int] | None = None,
             **filters: Any) -> dict[str, Any]:
    query = SearchQuery(text=text, params={}, ordering=ordering, offset=40, limit=20)
    return b.build_query(query, b.Filters(**filters), category_ids=named)


# --- mapping ----------------------------------------------------------------------------------


def test_the_mapping_has_the_analyzers():
    analysis = b.index_settings_and_mappings()["settings"]["analysis"]

    assert analysis["tokenizer"]["words"] == {"type": "pattern",
                                              "pattern": "[^\\p{L}\\p{N}]+"}
    assert analysis["analyzer"]["folded"]["filter"] == ["lowercase", "asciifolding"]
    assert analysis["analyzer"]["folded_english"]["filter"][-1] == "english_stemmer"
    edge = analysis["analyzer"]["edge_ngrams"]
    assert edge["filter"][-1] == "title_edge_ngrams"
    assert analysis["filter"]["title_edge_ngrams"] == {
        "type": "edge_ngram", "min_gram": 1, "max_gram": b.EDGE_NGRAM_MAX}
    assert analysis["normalizer"]["folded_keyword"]["filter"] == ["lowercase", "asciifolding"]


def test_the_mapping_has_text_keyword_and_nested_fields():
    mappings = b.index_settings_and_mappings()["mappings"]
    props = mappings["properties"]

    assert mappings["dynamic"] == "strict"
    assert props["title"]["analyzer"] == "folded"
    assert props["title"]["index_prefixes"] == {"min_chars": 1, "max_chars": b.PREFIX_MAX}
    assert props["title"]["fields"]["english"]["analyzer"] == "folded_english"
    assert props["title"]["fields"]["suggest"] == {
        "type": "text", "analyzer": "edge_ngrams", "search_analyzer": "folded"}
    assert props["title"]["fields"]["raw"]["type"] == "keyword"
    assert props["description"]["fields"]["english"]["analyzer"] == "folded_english"
    for facet in ("category_id", "condition", "location_id", "owner_id", "id"):
        assert props[facet]["type"] == "keyword", facet
    assert props["price_cents"]["type"] == "long"
    assert props["attributes"]["type"] == "nested"
    assert {name: spec["type"] for name, spec in props["attributes"]["properties"].items()} == {
        "key": "keyword", "keyword": "keyword", "number": "double", "boolean": "boolean"}
    assert props["published_at"]["type"] == "date"
    assert props["promotion_tier"]["type"] == "byte"


def test_the_template_covers_every_timestamped_index():
    template = b.index_template("marketplace-ads")

    assert template["index_patterns"] == ["marketplace-ads-*"]
    assert template["template"] == b.index_settings_and_mappings()


# --- documents --------------------------------------------------------------------------------


def test_document_shape():
    doc = b.document(row())

    assert doc == {
        "id": str(AD_ID), "slug": "toyota-fielder-2015-k2j9xq", "title": "Toyota Fielder 2015",
        "description": "Clean, one owner.",
        "attributes_text": "1.5 Toyota Fielder 2015",
        "attributes": [
            {"key": "automatic", "boolean": True},
            {"key": "engine_size", "keyword": "1.5", "number": 1.5},
            {"key": "make", "keyword": "Toyota"},
            {"key": "model", "keyword": "Fielder"},
            {"key": "year", "keyword": "2015", "number": 2015.0},
        ],
        "category_id": "7", "location_id": "3", "owner_id": str(OWNER_ID),
        "price_cents": 125000050, "currency": "KES", "negotiable": True, "condition": "used",
        "has_images": True, "promotion_tier": 3,
        "published_at": "2025-01-31T09:15:00+00:00",
        "updated_at": "2025-02-01T10:00:00.123456+00:00",
    }
    json.dumps(doc)


def test_document_fields_are_all_mapped():
    """The mapping is strict: a field it lacks would make every bulk item fail."""
    mapped = set(b.index_settings_and_mappings()["mappings"]["properties"])

    assert set(b.document(row())) == mapped
    nested = set(b.index_settings_and_mappings()["mappings"]["properties"]["attributes"]
                 ["properties"])
    for entry in b.document(row())["attributes"]:
        assert set(entry) <= nested


def test_document_of_a_plain_ad():
    doc = b.document(row(location_id=None, condition=None, attributes={}, description="",
                         has_images=False, promotion_tier=0))

    assert doc["location_id"] is None and doc["condition"] is None
    assert doc["attributes"] == [] and doc["attributes_text"] == ""
    assert doc["has_images"] is False and doc["promotion_tier"] == 0


def test_attribute_text_excludes_booleans_like_postgres():
    assert b.attributes_text({"automatic": True, "year": 2015, "make": "Toyota"}) == (
        "Toyota 2015")


def test_version_is_the_last_change_in_microseconds():
    assert b.version_of(row()) == 1738404000123456


@pytest.mark.parametrize(("amount", "rounding", "expected"), [
    ("1500", b.ROUND_HALF_EVEN, 150000),
    ("9999.99", b.ROUND_FLOOR, 999999),
    ("9999.999", b.ROUND_FLOOR, 999999),
    ("9999.991", b.ROUND_CEILING, 1000000),
    ("1e400", b.ROUND_FLOOR, b.LONG_MAX),
    ("-1e400", b.ROUND_CEILING, -b.LONG_MAX),
    ("Infinity", b.ROUND_FLOOR, b.LONG_MAX),
])
def test_cents(amount, rounding, expected):
    assert b.cents(Decimal(amount), rounding=rounding) == expected


# --- queries ----------------------------------------------------------------------------------


def test_text_query_scores_by_band():
    body = body_for("Toyota fiel", named=[7, 8])

    must = body["query"]["bool"]["must"]
    assert len(must) == 1
    bands = must[0]["dis_max"]
    assert bands["tie_breaker"] == 0
    title, anywhere, typo = bands["queries"]
    assert [q["constant_score"]["boost"] for q in bands["queries"]] == [3, 2, 1]
    # Title band: "toyota" whole, "fiel" whole or as a prefix of a title word.
    assert title["constant_score"]["filter"] == {"bool": {"filter": [
        {"multi_match": {"query": "toyota", "fields": ["title", "title.english"],
                         "operator": "and"}},
        {"bool": {"minimum_should_match": 1, "should": [
            {"multi_match": {"query": "fiel", "fields": ["title", "title.english"],
                             "operator": "and"}},
            {"prefix": {"title": {"value": "fiel"}}},
        ]}},
    ]}}
    # Anywhere band: the same over every text field, or the category the words name.
    should = anywhere["constant_score"]["filter"]["bool"]["should"]
    assert should[1] == {"terms": {"category_id": ["7", "8"]}}
    first_word = should[0]["bool"]["filter"][0]["multi_match"]
    assert first_word["fields"] == b.ANYWHERE_FIELDS
    assert typo["constant_score"]["filter"] == {"match": {"title": {
        "query": "toyota fiel", "fuzziness": "AUTO", "operator": "and"}}}
    assert body["sort"] == [{"_score": "desc"}, {"promotion_tier": "desc"},
                            {"published_at": "desc"}, {"id": "desc"}]


def test_without_category_names_the_anywhere_band_is_the_words_only():
    body = body_for("gari")
    anywhere = body["query"]["bool"]["must"][0]["dis_max"]["queries"][1]["constant_score"]

    assert "terms" not in json.dumps(anywhere)


def test_text_is_folded_and_capped():
    body = body_for("CAFÉ " + "x" * 10_000 + " " + " ".join(f"w{n}" for n in range(50)))

    typo = body["query"]["bool"]["must"][0]["dis_max"]["queries"][2]
    words = typo["constant_score"]["filter"]["match"]["title"]["query"].split()
    assert words[0] == "cafe"
    assert len(words) <= 8 and all(len(word) <= 40 for word in words)
    assert len(json.dumps(body)) < 10_000


@pytest.mark.parametrize("text", ["", "   ", "&|!():*'\"\\", "🚗"])
def test_no_words_is_the_plain_listing(text):
    body = body_for(text)

    assert "must" not in body["query"]["bool"]
    assert body["sort"] == [{"promotion_tier": "desc"}, {"published_at": "desc"},
                            {"id": "desc"}]


def test_filters_become_filter_clauses():
    filters = {
        "category_ids": [7, 8], "location_ids": [3], "min_price": Decimal("1000.005"),
        "max_price": Decimal("50000"), "condition": "used", "negotiable": False,
        "has_images": True, "seller": str(OWNER_ID), "posted_since": date(2025, 1, 31),
        "attributes": [
            b.AttributeFilter("make", "choice", None, "Toyota"),
            b.AttributeFilter("year", "int", "min", 2012),
            b.AttributeFilter("engine_size", "decimal", None, Decimal("1.50")),
            b.AttributeFilter("automatic", "bool", None, True),
            b.AttributeFilter("mileage", "int", "max", 100000),
        ],
    }
    body = b.build_query(SearchQuery(text="", params={}, ordering=None, offset=0, limit=20),
                         b.Filters(**filters))

    clauses = body["query"]["bool"]["filter"]
    assert clauses[:9] == [
        {"terms": {"category_id": ["7", "8"]}},
        {"terms": {"location_id": ["3"]}},
        {"range": {"price_cents": {"gte": 100001, "lte": 5000000}}},
        {"term": {"condition": "used"}},
        {"term": {"negotiable": False}},
        {"term": {"has_images": True}},
        {"term": {"owner_id": str(OWNER_ID)}},
        {"range": {"published_at": {"gte": "2025-01-31", "format": "strict_date_optional_time"}}},
        {"nested": {"path": "attributes", "query": {"bool": {"filter": [
            {"term": {"attributes.key": "make"}}, {"term": {"attributes.keyword": "Toyota"}},
        ]}}}},
    ]
    inner = [clause["nested"]["query"]["bool"]["filter"] for clause in clauses[9:]]
    assert inner == [
        [{"term": {"attributes.key": "year"}}, {"range": {"attributes.number": {"gte": 2012}}}],
        [{"term": {"attributes.key": "engine_size"}}, {"term": {"attributes.number": 1.5}}],
        [{"term": {"attributes.key": "automatic"}}, {"term": {"attributes.boolean": True}}],
        [{"term": {"attributes.key": "mileage"}},
         {"range": {"attributes.number": {"lte": 100000}}}],
    ]
    json.dumps(body)


def test_blocked_owners_are_excluded():
    body = body_for("", hidden_owner_ids=["a", "b"])

    assert body["query"]["bool"]["must_not"] == [{"terms": {"owner_id": ["a", "b"]}}]


@pytest.mark.parametrize(("ordering", "sort"), [
    ("price", [{"price_cents": "asc"}, {"id": "asc"}]),
    ("-price", [{"price_cents": "desc"}, {"id": "desc"}]),
    ("published_at", [{"published_at": "asc"}, {"id": "asc"}]),
    ("-published_at", [{"published_at": "desc"}, {"id": "desc"}]),
])
def test_ordering_replaces_relevance(ordering, sort):
    body = body_for("toyota", ordering=ordering)

    assert body["sort"] == sort
    assert "must" in body["query"]["bool"]  # still only matching ads


def test_page_total_ids_and_facets():
    body = body_for("toyota")

    assert body["from"] == 40 and body["size"] == 20
    assert body["_source"] is False
    assert body["track_total_hits"] is True
    aggs = body["aggs"]
    assert aggs["category"]["terms"]["field"] == "category_id"
    assert aggs["condition"]["terms"]["field"] == "condition"
    assert aggs["price"]["range"] == {"field": "price_cents", "ranges": [
        {"key": "0", "to": 1_000_000},
        {"key": "1", "from": 1_000_000, "to": 5_000_000},
        {"key": "2", "from": 5_000_000, "to": 10_000_000},
        {"key": "3", "from": 10_000_000, "to": 50_000_000},
        {"key": "4", "from": 50_000_000, "to": 100_000_000},
        {"key": "5", "from": 100_000_000},
    ]}


def test_deep_pages_use_search_after():
    query = SearchQuery(text="", params={}, ordering="price", offset=20_000, limit=20)
    body = b.build_query(query, b.Filters(), facets=False, search_after=[150000, "abc"])

    assert body["search_after"] == [150000, "abc"]
    assert "from" not in body and "aggs" not in body
    assert body["size"] == 20
    sized = b.build_query(query, b.Filters(), offset=0, limit=0)
    assert sized["from"] == 0 and sized["size"] == 0 and "aggs" in sized


# --- suggest ----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "t", " t ", "!!", "🚗🚗", "é"])
def test_suggest_needs_two_characters_and_a_word(prefix):
    assert b.build_suggest(prefix) is None


def test_suggest_matches_edge_ngrams_of_the_last_word():
    body = b.build_suggest("Toyota FIEL", size=30)

    assert body == {
        "query": {"bool": {"filter": [
            {"match": {"title": {"query": "toyota", "operator": "and"}}},
            {"match": {"title.suggest": {"query": "fiel", "operator": "and"}}},
        ]}},
        "sort": [{"promotion_tier": "desc"}, {"published_at": "desc"}, {"id": "desc"}],
        "size": 30,
        "_source": ["title", "slug"],
    }


def test_suggest_falls_back_to_a_prefix_past_the_longest_ngram():
    word = "a" * (b.EDGE_NGRAM_MAX + 1)

    body = b.build_suggest(word)

    assert body is not None
    assert body["query"]["bool"]["filter"] == [{"prefix": {"title": {"value": word}}}]


# --- responses --------------------------------------------------------------------------------


def test_parse_response():
    response = {
        "hits": {"total": {"value": 12, "relation": "eq"},
                 "hits": [{"_id": str(AD_ID), "sort": [3, 1]}]},
        "aggregations": {
            "category": {"buckets": [{"key": "7", "doc_count": 9}, {"key": "8", "doc_count": 3}]},
            "condition": {"buckets": [{"key": "used", "doc_count": 5}]},
            "price": {"buckets": [{"key": "0", "doc_count": 2}, {"key": "5", "doc_count": 10}]},
        },
    }

    assert b.parse_total(response) == 12
    assert b.parse_hits(response) == [{"_id": str(AD_ID), "sort": [3, 1]}]
    assert b.parse_facets(response) == ({7: 9, 8: 3}, {"used": 5}, {0: 2, 5: 10})
    assert b.parse_facets({}) == ({}, {}, {})
    assert b.parse_total({"hits": {"total": 4}}) == 4
