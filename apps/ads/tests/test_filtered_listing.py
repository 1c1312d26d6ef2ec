"""Filtered listings (category with descendants, price range, orderings) read the cheap way are
the pages the plain query gives: the category-by-category feed walk of a capped filter, the
matches-first page of an exact small count, and the keyset pages after either."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import django_filters
import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.ads import selectors
from apps.ads.filters import AdFilter
from apps.ads.models import LIVE_ACTIVE, Ad
from apps.ads.tests.factories import ADS, make_ad
from apps.categories import selectors as category_selectors
from apps.common import pagination
from apps.common.pagination import ListingPagination
from conftest import error_codes

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
    # The capped count remembered: the feed walk (short of a page here) and the plain page, each
    # one statement (owners joined, photos a column).
    with django_assert_num_queries(2):
        again = api.get(ADS, {"category": "vehicles", "min_price": "2000", "_": "2"}).json()
    assert again["count"] == 4 and again["results"] == first["results"]


# --- the request's own overhead: filters parsed for the parameters given, pages compiled once --


class FullAdFilter(AdFilter):
    """AdFilter as django-filter builds a FilterSet: every filter copied, a form of all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        django_filters.FilterSet.__init__(self, *args, **kwargs)

    def get_form_class(self) -> Any:
        return django_filters.FilterSet.get_form_class(self)


def outcome(filterset_class: Any, params: dict[str, str]) -> Any:
    filterset = filterset_class(QueryDict(urlencode(params)), queryset=selectors.public_ads())
    if not filterset.is_valid():
        return "400", filterset.errors.get_json_data()
    try:
        return "200", str(filterset.qs.query)
    except ValidationError as exc:
        return "400", exc.detail


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"category": "vehicles", "min_price": "2000", "max_price": "8000", "_": "1"},
        {"category": "cars", "ordering": "price", "condition": "used", "negotiable": "true"},
        {"min_price": " 1e3 ", "max_price": "", "page": "2", "utm_source": "x"},
        {"category": ""},
        {"category": "vehicles", "min_price": "cheap", "max_price": "8000"},
        {"max_price": "1,5", "ordering": "cheapest", "seller": "nope", "negotiable": "maybe"},
        {"category": "atlantis", "min_price": "1"},
        {"has_images": "true", "posted_since": "2025-01-01", "location": "nairobi"},
    ],
)
def test_the_filters_of_the_parameters_given_filter_and_refuse_as_all_of_them_do(
    spread, places, params
):
    """AdFilter copies and validates only the filters the query names: the same SQL, the same
    errors as the FilterSet of all its filters."""
    assert outcome(AdFilter, params) == outcome(FullAdFilter, params)


def test_a_bad_filter_value_is_a_400_before_anything_is_read(
    api, spread, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 4)
    api.get(ADS, {"category": "vehicles"})  # the category tree cached
    for params, errors in [
        ({"category": "vehicles", "min_price": "cheap", "max_price": "8000"}, ["min_price"]),
        ({"category": "atlantis", "min_price": "2000"}, ["category"]),
        ({"category": "vehicles", "min_price": "2000", "ordering": "cheapest"}, ["ordering"]),
    ]:
        with django_assert_num_queries(0):  # no count, no page
            response = api.get(ADS, {**params, "_": "1"})
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"
        assert [attr for _, attr in error_codes(response)] == errors
    good = api.get(ADS, {"category": "vehicles", "min_price": "2000", "max_price": "8000"})
    assert good.status_code == 200 and good.json()["count"] == 4  # counted once, capped


@pytest.mark.parametrize("ordering", [None, "price", "-price", "-published_at"])
def test_a_capped_page_is_one_statement_and_the_plain_pages_body(
    api, spread, monkeypatch, ordering
):
    """Feed-first pages read the page, its owners and its photos in one statement (the capped
    count remembered), and answer what the plain query answers: same ads, owners, photos,
    count and links."""
    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 4)
    params = {"category": "vehicles", "min_price": "2000", "max_price": "8000", "page_size": 3}
    if ordering:
        params["ordering"] = ordering
    api.get(ADS, {**params, "_": "0"})  # counted (capped) and remembered
    with CaptureQueriesContext(connection) as queries:
        fast = api.get(ADS, {**params, "_": "1"}).json()
    statements = [query["sql"] for query in queries.captured_queries]  # before the next request
    second = api.get(ADS, {**params, "_": "1", "page": 2, "cursor": cursor_of(fast)}).json()
    monkeypatch.setattr(selectors, "FEED_FIRST_ROWS", 0)  # no walk: the plain page
    plain = api.get(ADS, {**params, "_": "1"}).json()

    assert len(statements) == 1  # the page read from the walk, owners joined:
    assert ') "ads_ad" INNER JOIN "users_user"' in statements[0]
    assert fast == plain
    assert [ad["slug"] for ad in fast["results"] + second["results"]] == expected(params)[:6]
    assert fast["count"] == 4 and fast["count_exact"] is False


def cursor_of(body: dict[str, Any]) -> str:
    return parse_qs(urlsplit(body["next"]).query)["cursor"][0]


def test_pages_compiled_once_per_shape_are_the_sql_django_compiles(spread, catalog):
    """pagination.page_from and the walk's branches reuse SQL compiled for an earlier
    request of the same shape: for other values it is the very SQL (and parameters) Django
    compiles, and reads the same rows."""
    pagination._PAGE_SQL.clear()
    selectors._WALKS.clear()
    cases = [
        {"category": "vehicles", "min_price": "2000", "max_price": "8000"},
        {"category": "vehicles", "min_price": "3000", "max_price": "9000"},
        {"category": "cars", "min_price": "1000"},
        {"category": "electronics", "max_price": "5000", "ordering": "price"},
        {"category": "vehicles", "min_price": "4000", "ordering": "-price"},
        {"category": "cars", "min_price": "1500", "max_price": "7000", "ordering": "price"},
        {"min_price": "2500", "ordering": "-published_at"},
    ]
    for params in cases:
        data = QueryDict(urlencode(params))
        filterset = AdFilter(data, queryset=selectors.public_ads())
        assert filterset.is_valid()
        queryset = filterset.qs.select_related("owner").extra(select={"doubled": "price * 2"})
        order_by = tuple(str(key) for key in queryset.query.order_by)
        ids = selectors.filtered_category_ids(queryset)
        walk = selectors.feed_walk(order_by, data, 50, ids)
        known = dict(selectors._WALKS)
        selectors._WALKS.clear()
        assert selectors.feed_walk(order_by, data, 50, ids) == walk  # compiled afresh
        selectors._WALKS.update(known)

        with CaptureQueriesContext(connection) as compiled_once:
            rows = pagination.page_from(queryset, *walk, 1, 3)
        with CaptureQueriesContext(connection) as by_django:
            plain = list(pagination.read_from(queryset, *walk)[1:4])

        assert [q["sql"] for q in compiled_once.captured_queries] == [
            q["sql"] for q in by_django.captured_queries
        ]
        assert [(ad.pk, ad.owner.email, ad.doubled) for ad in rows] == [  # type: ignore[attr-defined]
            (ad.pk, ad.owner.email, ad.doubled)
            for ad in plain  # type: ignore[attr-defined]
        ]
        assert len(rows) == 3
    assert pagination._PAGE_SQL and selectors._WALKS  # shapes were kept and reused
