"""Location and attribute facets, the count tables behind browse facets, capped counts, the
typo fallback and its vocabulary (API.md section 6, issue 5 item 5)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ads import services as ad_services
from apps.ads.models import LIVE_ACTIVE, Ad, AdStatus
from apps.ads.status import Actor
from apps.search import maintenance
from apps.search.backends import es_builders
from apps.search.backends.base import SearchQuery
from apps.search.models import AttributeCount, FacetCount, SearchVocabulary
from apps.search.tests.helpers import ids, make_ad, minutes_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def garage(catalog: Any, places: Any, seller: Any) -> dict[str, Ad]:
    """Three Toyotas and a Mazda in Nairobi / Westlands / Nyali, a phone, a sold Toyota."""
    ads = {
        "vitz": make_ad(
            owner=seller,
            category=catalog.cars,
            title="Toyota Vitz car",
            location=places.westlands,
            condition="used",
            attributes={"make": "Toyota", "year": 2012},
        ),
        "axio": make_ad(
            owner=seller,
            category=catalog.cars,
            title="Toyota Axio car",
            location=places.nairobi,
            condition="used",
            attributes={"make": "Toyota", "year": 2014},
        ),
        "premio": make_ad(
            owner=seller,
            category=catalog.cars,
            title="Toyota Premio car",
            location=places.nyali,
            condition="new",
            attributes={"make": "Toyota", "year": 2016},
        ),
        "demio": make_ad(
            owner=seller,
            category=catalog.cars,
            title="Mazda Demio car",
            location=places.westlands,
            attributes={"make": "Mazda"},
        ),
        "phone": make_ad(
            owner=seller,
            category=catalog.phones,
            title="Tecno phone",
            location=places.nyali,
            attributes={"brand": "Tecno"},
        ),
    }
    make_ad(
        owner=seller,
        category=catalog.cars,
        title="Toyota Fielder car",
        status=AdStatus.SOLD,
        location=places.nyali,
        attributes={"make": "Toyota"},
    )
    return ads


def facets(search: Any, **params: Any) -> dict[str, Any]:
    response = search(**params)
    assert response.status_code == 200, response.json()
    return response.json()["facets"]


def places_of(facet: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(item["slug"], item["count"]) for item in facet]


@pytest.mark.parametrize("q", ["", "car"])
def test_location_facet_counts_top_level_places_or_the_selected_ones_children(search, garage, q):
    top = facets(search, q=q, category="vehicles")
    assert places_of(top["location"]) == [("nairobi", 3), ("mombasa", 1)]

    inside = facets(search, q=q, category="vehicles", location="nairobi")
    assert places_of(inside["location"]) == [("westlands", 2)]  # Nairobi's own ad: no child
    assert sum(item["count"] for item in inside["category"]) == 3


@pytest.mark.parametrize("q", ["", "car"])
def test_attribute_facet_lists_the_selected_categorys_choice_attributes(search, garage, q):
    cars = facets(search, q=q, category="cars")
    assert cars["attributes"] == [
        {
            "key": "make",
            "label": "Make",
            "values": [{"value": "Toyota", "count": 3}, {"value": "Mazda", "count": 1}],
        }
    ]

    # A parent covers its subcategories' choice attributes; year is no choice.
    vehicles = facets(search, q=q, category="vehicles")
    assert [item["key"] for item in vehicles["attributes"]] == ["make"]
    # Without a category there is no attribute facet.
    assert facets(search, q=q)["attributes"] == []
    # The attribute facet follows the other filters.
    used = facets(search, q=q, category="cars", condition="used")
    assert used["attributes"][0]["values"] == [{"value": "Toyota", "count": 2}]


def test_browse_facets_follow_every_status_change_at_once(
    search, client_for, garage, seller, catalog
):
    body = search(category="cars").json()
    assert body["count"] == 4
    assert body["facets"]["condition"] == [
        {"value": "used", "count": 2},
        {"value": "new", "count": 1},
    ]

    ad_services.change_ad_status(
        ad_id=garage["axio"].pk, to=AdStatus.SOLD, actor=Actor.OWNER, by=seller
    )
    moved = client_for(seller).patch(
        f"/api/ads/{garage['demio'].slug}/",
        {"category": catalog.phones.pk, "attributes": {}},
        format="json",
    )
    assert moved.status_code == 200, moved.json()

    body = search(category="cars", sync=False).json()
    assert body["count"] == 2
    assert sorted(ids(search(category="cars", sync=False))) == sorted(
        [str(garage["vitz"].pk), str(garage["premio"].pk)]
    )
    assert body["facets"]["condition"] == [
        {"value": "new", "count": 1},
        {"value": "used", "count": 1},
    ]
    assert body["facets"]["attributes"][0]["values"] == [{"value": "Toyota", "count": 2}]
    phones = search(category="mobile-phones", sync=False).json()
    assert phones["count"] == Ad.objects.filter(LIVE_ACTIVE, category=catalog.phones).count()


def test_rebuild_recomputes_the_tables_and_drops_dead_words(garage, seller):
    FacetCount.objects.update(n=0)
    AttributeCount.objects.all().delete()
    Ad.objects.filter(pk=garage["premio"].pk).update(title="Toyota Allion car")
    assert SearchVocabulary.objects.filter(word="premio").exists()  # kept until the rebuild

    maintenance.rebuild_all()

    assert sum(FacetCount.objects.values_list("n", flat=True)) == 5
    assert AttributeCount.objects.get(key="make", value="Toyota").n == 3
    assert not SearchVocabulary.objects.filter(word="premio").exists()
    assert SearchVocabulary.objects.get(word="toyota").ndoc == 3
    assert SearchVocabulary.objects.filter(word="allion").exists()


def test_the_daily_task_rebuilds_on_postgres_only(garage, settings):
    from apps.search import tasks
    from apps.search.tests.conftest import ES_PATH

    FacetCount.objects.all().delete()
    assert tasks.rebuild_search_tables()["ads"] == 5
    assert sum(FacetCount.objects.values_list("n", flat=True)) == 5

    settings.SEARCH_BACKEND = ES_PATH
    FacetCount.objects.all().delete()
    assert tasks.rebuild_search_tables() == {}
    assert not FacetCount.objects.exists()


def test_over_the_cap_the_count_is_flagged_as_an_estimate(search, settings, catalog, seller):
    settings.SEARCH_COUNT_CAP = 3
    made = [
        make_ad(
            owner=seller,
            category=catalog.phones,
            title=f"Tecno Spark {n}",
            published_at=minutes_ago(100 - n),
        )
        for n in range(5)
    ]
    described = make_ad(
        owner=seller,
        category=catalog.phones,
        title="Another phone",
        description="Like a tecno",
        published_at=minutes_ago(1),
    )
    newest_first = [str(ad.pk) for ad in reversed(made)]

    first = search(q="tecno", page_size=2).json()
    assert first["count"] == 3 and first["count_is_estimate"] is True
    assert [item["id"] for item in first["results"]] == newest_first[:2]  # title band first
    second = search(q="tecno", page_size=2, page=2).json()
    assert [item["id"] for item in second["results"]] == newest_first[2:4]
    assert str(described.pk) not in [item["id"] for item in second["results"]]
    assert search(q="tecno", page_size=2, page=3).status_code == 404  # pages end at the cap

    browse = search(q="", condition="", min_price="1", page_size=2).json()
    assert browse["count_is_estimate"] is True
    assert [item["id"] for item in browse["results"]] == [str(described.pk), newest_first[0]]

    settings.SEARCH_COUNT_CAP = 10
    exact = search(q="tecno").json()
    assert exact["count"] == 6 and exact["count_is_estimate"] is False
    assert [item["id"] for item in exact["results"]] == [*newest_first, str(described.pk)]


def test_typos_are_a_fallback_when_the_words_find_few_ads(search, catalog, seller):
    for n in range(20):
        make_ad(owner=seller, category=catalog.phones, title=f"Toyota key fob {n}")
    typo = make_ad(owner=seller, category=catalog.phones, title="Toyoto misspelt")

    plenty = search(q="toyota", page_size=50).json()
    assert plenty["count"] == 20  # enough exact matches: no typo search
    fallback = search(q="toyotq", page_size=50).json()  # 1 edit from both
    assert fallback["count"] == 21
    assert str(typo.pk) in [item["id"] for item in fallback["results"]]
    assert search(q="zzyzx").json()["count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"q": "tecno"},
        {"q": "tecnp"},
        {"q": ""},
        {"q": "", "category": "electronics"},
        {"q": "", "condition": "used"},
    ],
)
def test_queries_are_the_same_for_1_and_50_ads(
    search, catalog, seller, django_assert_num_queries, params, answers_run
):
    for n in range(55):
        make_ad(
            owner=seller,
            category=catalog.phones,
            title=f"Tecno Camon {n}",
            images=1 if n % 10 == 0 else 0,
            condition="used",
        )
    search(**params, page_size=1)  # warm caches (category tree, locations)

    with CaptureQueriesContext(connection) as one:
        small = search(**params, page_size=1, sync=False)
    assert len(small.json()["results"]) == 1
    with django_assert_num_queries(len(one.captured_queries)):
        large = search(**params, page_size=50, sync=False)
    assert len(large.json()["results"]) == 50
    # One statement (a typo: the exact one, which brings the vocabulary's corrections when it
    # finds too few ads, and the corrected one), ads, images.
    assert len(one.captured_queries) == (4 if params["q"] == "tecnp" else 3)


# --- Elasticsearch: the same facets from its aggregations ----------------------------------


def test_es_aggregations_ask_for_locations_and_the_given_attributes():
    plain = es_builders.facet_aggregations()
    assert plain["location"] == {
        "terms": {"field": "location_id", "size": es_builders.LOCATION_FACET_SIZE}
    }
    assert "attributes" not in plain

    aggs = es_builders.facet_aggregations(["make", "body"])["attributes"]
    assert aggs["nested"] == {"path": "attributes"}
    keys = aggs["aggs"]["keys"]
    assert keys["filter"] == {"terms": {"attributes.key": ["make", "body"]}}
    assert keys["aggs"]["key"]["terms"] == {"field": "attributes.key", "size": 2}
    assert keys["aggs"]["key"]["aggs"]["value"]["terms"]["field"] == "attributes.keyword"

    body = es_builders.build_query(
        SearchQuery(text="toyota", params={}, ordering=None, offset=0, limit=20),
        es_builders.Filters(),
        attribute_keys=["make"],
    )
    assert set(body["aggs"]) == {"category", "condition", "price", "location", "attributes"}


def test_es_location_and_attribute_counts_are_parsed():
    response = {
        "aggregations": {
            "location": {"buckets": [{"key": "7", "doc_count": 4}, {"key": "9", "doc_count": 1}]},
            "attributes": {
                "doc_count": 9,
                "keys": {
                    "doc_count": 5,
                    "key": {
                        "buckets": [
                            {
                                "key": "make",
                                "doc_count": 5,
                                "value": {
                                    "buckets": [
                                        {"key": "Toyota", "doc_count": 3},
                                        {"key": "Mazda", "doc_count": 2},
                                    ]
                                },
                            }
                        ]
                    },
                },
            },
        }
    }
    assert es_builders.parse_location_counts(response) == {7: 4, 9: 1}
    assert es_builders.parse_attribute_counts(response) == {
        ("make", "Toyota"): 3,
        ("make", "Mazda"): 2,
    }
    assert es_builders.parse_location_counts({}) == {}
    assert es_builders.parse_attribute_counts({"aggregations": {}}) == {}


def test_es_backend_gives_the_same_facets_as_postgres(
    search, garage, places, catalog, settings, monkeypatch
):
    from apps.search.backends import base
    from apps.search.backends import elasticsearch as es_backend
    from apps.search.tests.conftest import ES_PATH
    from apps.search.tests.fake_es import FakeElasticsearch

    expected = search(q="car", category="vehicles").json()
    live = [ad for ad in garage.values() if ad.category_id == catalog.cars.pk]
    by_location: dict[str, int] = {}
    for ad in live:
        by_location[str(ad.location_id)] = by_location.get(str(ad.location_id), 0) + 1
    client = FakeElasticsearch()
    settings.SEARCH_BACKEND = ES_PATH
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9200"
    settings.ELASTICSEARCH_INDEX = "test-facets"
    monkeypatch.setattr(es_backend, "make_client", lambda: client)
    base._backend.cache_clear()
    try:
        client.indices.create(index="test-facets-1", aliases={"test-facets": {}})
        client.responses.append(
            {
                "hits": {"total": {"value": 4, "relation": "eq"}, "hits": []},
                "aggregations": {
                    "category": {"buckets": [{"key": str(catalog.cars.pk), "doc_count": 4}]},
                    "condition": {
                        "buckets": [{"key": "used", "doc_count": 2}, {"key": "new", "doc_count": 1}]
                    },
                    "price": {"buckets": [{"key": "0", "doc_count": 4}]},
                    "location": {
                        "buckets": [{"key": k, "doc_count": v} for k, v in by_location.items()]
                    },
                    "attributes": {
                        "keys": {
                            "key": {
                                "buckets": [
                                    {
                                        "key": "make",
                                        "value": {
                                            "buckets": [
                                                {"key": "Toyota", "doc_count": 3},
                                                {"key": "Mazda", "doc_count": 1},
                                            ]
                                        },
                                    }
                                ]
                            }
                        }
                    },
                },
            }
        )
        body = search(q="car", category="vehicles", sync=False).json()
        sent = client.searches[0]
    finally:
        base._backend.cache_clear()
    assert sent["aggs"]["attributes"]["aggs"]["keys"]["filter"] == {
        "terms": {"attributes.key": ["make"]}
    }
    assert body["facets"] == expected["facets"]
    assert body["count_is_estimate"] is False
