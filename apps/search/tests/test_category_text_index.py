"""A text search within a category: one category id is typed bigint so that
ad_category_search_gin (category_id, search_vector; migration 0006) intersects both in one
index scan (several ids: integer, for the btree). What a client sees is unchanged: the same
ads, count and facets."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.ads.models import Ad, AdStatus
from apps.search.backends import postgres
from apps.search.tests.helpers import SEARCH, ids, make_ad

pytestmark = pytest.mark.django_db
TOYOTA = {"make": "Toyota"}


@pytest.fixture(autouse=True)
def on_postgres(settings: Any) -> None:
    from apps.search.backends import base

    base._backend.cache_clear()
    settings.SEARCH_BACKEND = "apps.search.backends.postgres.PostgresSearchBackend"


def facet(body: dict[str, Any], name: str) -> dict[str, int]:
    return {item.get("slug", item.get("value")): item["count"] for item in body["facets"][name]}


def test_a_category_filter_types_its_ids_bigint_and_keeps_its_ads(
    catalog: Any, seller: Any
) -> None:
    car = make_ad(owner=seller, category=catalog.cars, title="Toyota Vitz", attributes=TOYOTA)
    bike = make_ad(owner=seller, category=catalog.motorcycles, title="Boxer")
    make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")
    from apps.ads.filters import AdFilter
    from apps.ads.models import LIVE_ACTIVE

    for slug, typed, expected in (
        ("cars", '"category_id" IN (%s::bigint)', {car.pk}),
        ("vehicles", "]::integer[])", {car.pk, bike.pk}),  # a parent: its leaves
    ):
        queryset = AdFilter({"category": slug}, queryset=Ad.objects.filter(LIVE_ACTIVE)).qs
        where, params = postgres.where_clause(queryset)
        # Not wrapped in an id subquery (the category join is trimmed): the ads table's own
        # scan has the condition, where the index can serve it.
        assert '"ads_ad"."id" IN (SELECT' not in where, where
        assert typed in where, where
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT "ads_ad"."id" FROM "ads_ad" WHERE {where}', params)  # noqa: S608
            found = {row[0] for row in cursor.fetchall()}
        assert found == expected


def test_text_in_a_category_finds_the_same_ads_count_and_facets(
    api: Any, catalog: Any, seller: Any
) -> None:
    cheap = make_ad(
        owner=seller, category=catalog.cars, title="Toyota Vitz", price="600000", attributes=TOYOTA
    )
    dear = make_ad(
        owner=seller,
        category=catalog.cars,
        title="Toyota Prado",
        price="4000000",
        attributes=TOYOTA,
    )
    bike = make_ad(owner=seller, category=catalog.motorcycles, title="Toyota pikipiki")
    make_ad(owner=seller, category=catalog.phones, title="Toyota phone case")
    make_ad(owner=seller, category=catalog.cars, title="Mazda Demio", attributes={"make": "Mazda"})
    make_ad(
        owner=seller, category=catalog.cars, title="Toyota Hiace", attributes=TOYOTA, status="sold"
    )

    leaf = api.get(SEARCH, {"q": "toyota", "category": "cars"})
    priced = api.get(
        SEARCH, {"q": "toyota", "category": "cars", "min_price": "500000", "max_price": "1500000"}
    )
    parent = api.get(SEARCH, {"q": "toyota", "category": "vehicles"})

    assert leaf.status_code == priced.status_code == parent.status_code == 200
    assert set(ids(leaf)) == {str(cheap.pk), str(dear.pk)} and leaf.json()["count"] == 2
    assert ids(priced) == [str(cheap.pk)] and priced.json()["count"] == 1
    assert set(ids(parent)) == {str(cheap.pk), str(dear.pk), str(bike.pk)}
    assert parent.json()["count"] == 3
    assert facet(parent.json(), "category") == {"cars": 2, "motorcycles": 1}
    assert facet(leaf.json(), "category") == {"cars": 2}


def test_the_search_reads_category_and_text_through_one_gin_index(
    api: Any, catalog: Any, seller: Any, make_user: Any
) -> None:
    """EXPLAIN of the search statement on 3,000 generated ads (a third of them cars, few of
    them "toyota"): the matches come from ad_category_search_gin, with the category id in its
    index condition (not a BitmapAnd with the category btree; on PostgreSQL 15 and 18)."""
    now = timezone.now()
    categories = [catalog.cars, catalog.phones, catalog.furniture]
    words = ["sofa", "tecno", "mazda", "bicycle", "fridge", "laptop"]
    Ad.objects.bulk_create(
        [
            Ad(
                owner=seller,
                category=categories[i % 3],
                title=("Toyota " if i % 50 == 0 else "") + f"{words[i % 6]} lot {i}",
                description=f"{words[(i + 1) % 6]} in good shape, number {i}",
                price=Decimal(1000 + i),
                status=AdStatus.ACTIVE,
                slug=f"gin-{i}",
                published_at=now - timedelta(minutes=i),
            )
            for i in range(3000)
        ]
    )
    with connection.cursor() as cursor:
        # Rows just inserted wait in the GIN pending list, which the planner prices high;
        # autovacuum merges them in production.
        cursor.execute("SELECT gin_clean_pending_list('ad_category_search_gin')")
        cursor.execute("SELECT gin_clean_pending_list('ad_search_vector_gin')")
        cursor.execute("ANALYZE ads_ad")
    with CaptureQueriesContext(connection) as captured:
        found = api.get(SEARCH, {"q": "toyota", "category": "cars"})
    assert found.status_code == 200 and found.json()["count"] == 20
    (statement,) = [q["sql"] for q in captured.captured_queries if "WITH matched" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + statement)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    scans = [line for line in plan.splitlines() if "ad_category_search_gin" in line]
    assert scans, plan
    index_conditions = plan.split("ad_category_search_gin", 1)[1].splitlines()[1]
    assert "category_id" in index_conditions and "search_vector" in index_conditions, plan
