"""Filtered listings (category with descendants, price range, orderings) read the cheap way are
the pages the plain query gives: the category-by-category feed walk of a capped filter, the
matches-first page of an exact small count, and the keyset pages after either."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.ads import selectors
from apps.ads.models import LIVE_ACTIVE, Ad
from apps.ads.tests.factories import ADS, make_ad
from apps.categories import selectors as category_selectors
from apps.common.pagination import ListingPagination

pytestmark = pytest.mark.django_db

ORDERS = {
    None: ("-promotion_tier", "-published_at", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "-published_at": ("-published_at", "-id"),
}


@pytest.fixture
def spread(seller, catalog, settings):
    """30 live ads over Cars, Motorcycles and Mobile Phones: prices 1,000-9,000 with ties,
    promotion tiers, equal publication times (ties by id); one sold ad in range."""
    settings.READ_CACHE_ENABLED = False
    now = timezone.now()
    categories = [catalog.cars, catalog.motorcycles, catalog.phones]
    ads = []
    for n in range(30):
        category = categories[n % 3]
        ad = make_ad(
            owner=seller,
            category=category,
            price=Decimal(1000 + (n // 3 * 5) % 9 * 1000),
            attributes={"make": "Toyota"} if category == catalog.cars else {},
        )
        Ad.objects.filter(pk=ad.pk).update(
            published_at=now - timedelta(hours=n // 3), promotion_tier=(2 if n % 5 == 0 else 0)
        )
        ads.append(ad)
    make_ad(
        owner=seller,
        category=catalog.cars,
        status="sold",
        price=Decimal(3000),
        attributes={"make": "Mazda"},
    )
    return ads


def expected(params: dict[str, Any]) -> list[str]:
    """The whole filtered listing in its order, by the plain query."""
    rows = Ad.objects.filter(LIVE_ACTIVE)
    if "category" in params:
        rows = rows.filter(category_id__in=category_selectors.descendant_ids(params["category"]))
    if "min_price" in params:
        rows = rows.filter(price__gte=params["min_price"])
    if "max_price" in params:
        rows = rows.filter(price__lte=params["max_price"])
    return list(rows.order_by(*ORDERS[params.get("ordering")]).values_list("slug", flat=True))


def pages(api: Any, params: dict[str, Any], size: int) -> tuple[list[list[str]], list[str]]:
    """Pages 1-3 by number, and the whole listing by following `next` links (cursors)."""
    numbered = []
    for page in (1, 2, 3):
        response = api.get(ADS, {**params, "page_size": size, "page": page})
        numbered.append(
            [ad["slug"] for ad in response.json()["results"]] if response.status_code == 200 else []
        )
    followed: list[str] = []
    url: str | None = (
        ADS + "?" + "&".join(f"{k}={v}" for k, v in {**params, "page_size": size}.items())
    )
    while url:
        body = api.get(url).json()
        followed += [ad["slug"] for ad in body["results"]]
        url = body["next"]
    return numbered, followed


@pytest.mark.parametrize("category", ["vehicles", "cars", "electronics"])
@pytest.mark.parametrize("ordering", [None, "price", "-price", "-published_at"])
@pytest.mark.parametrize("walk", [3, 5000])
def test_capped_filters_walk_the_categories_feeds_and_match_the_plain_pages(
    api, spread, monkeypatch, category, ordering, walk
):
    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 4)  # "many matches": the walk applies
    monkeypatch.setattr(selectors, "FEED_FIRST_ROWS", walk)
    params = {"category": category, "min_price": "2000", "max_price": "8000"}
    if ordering:
        params["ordering"] = ordering
    whole = expected(params)
    assert len(whole) >= 7

    numbered, followed = pages(api, params, 2)

    assert numbered == [whole[0:2], whole[2:4], []]  # page numbers stop at the capped count
    assert followed == whole


def test_a_parent_category_walk_reads_one_range_per_category(api, spread, monkeypatch):
    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 2)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(ADS, {"category": "vehicles", "min_price": "2000", "page_size": 2})
    assert response.status_code == 200
    walk = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
    assert len(walk) == 1
    assert walk[0].count('"ads_ad"."category_id" = ') == 3  # vehicles, cars, motorcycles


@pytest.mark.parametrize("category", ["vehicles", "motorcycles", "property"])
@pytest.mark.parametrize("ordering", [None, "price", "-price", "-published_at"])
def test_exact_small_counts_sort_the_matches_and_match_the_plain_pages(
    api, spread, category, ordering
):
    params = {"category": category, "min_price": "2000", "max_price": "8000"}
    if ordering:
        params["ordering"] = ordering
    whole = expected(params)

    with CaptureQueriesContext(connection) as queries:
        first = api.get(ADS, {**params, "page_size": 2}).json()
    page_sql = next(q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"])
    numbered, followed = pages(api, params, 2)

    assert first["count"] == len(whole) and "count_exact" not in first
    assert numbered == [whole[0:2], whole[2:4], whole[4:6]]
    assert followed == whole
    assert '"ads_ad"."id" IN (SELECT' in page_sql and "LIMIT 2000)" in page_sql


def test_a_price_range_matching_nothing_is_an_empty_page(api, spread):
    body = api.get(ADS, {"category": "vehicles", "min_price": "100000"}).json()
    assert body["count"] == 0 and body["results"] == [] and body["next"] is None


def test_unknown_parameters_filter_nothing(api, spread, monkeypatch, django_assert_num_queries):
    """A cache-buster (`_=`) or a tracking tag neither makes a category's exact count a capped
    one nor makes each capped count a new one to count again."""
    plain = api.get(ADS, {"category": "vehicles"}).json()
    tagged = api.get(ADS, {"category": "vehicles", "_": "17", "utm_source": "x"}).json()
    assert tagged["count"] == plain["count"] == 20 and "count_exact" not in tagged

    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 4)
    first = api.get(ADS, {"category": "vehicles", "min_price": "2000", "_": "1"}).json()
    assert first["count"] == 4 and first["count_exact"] is False
    with django_assert_num_queries(3):  # the capped count remembered: page, owners, images
        again = api.get(ADS, {"category": "vehicles", "min_price": "2000", "_": "2"}).json()
    assert again["count"] == 4 and again["results"] == first["results"]
