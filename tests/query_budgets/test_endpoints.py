"""Query budgets of every list and detail endpoint (the search endpoint has its own, in
apps/search): exact SQL counts, the same for a page of 1 and a page of 50. Caches warm (a first
request), as in production; the anonymous read cache is turned off where noted so the budget
is the database path's (a cached anonymous read costs no query, tested in test_ads.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query_budgets.helpers import (
    anonymous_cache_off,
    assert_detail_budget,
    assert_list_budget,
)

pytestmark = pytest.mark.django_db

ADS = "/api/ads/"

# (who, url, queries) -- who: anonymous | buyer | seller | staff
LISTS = [
    ("anonymous", ADS, 2),  # count (stored totals), ads + owners + photos (a column)
    ("anonymous", ADS + "?category=vehicles", 2),
    ("anonymous", ADS + "?attr_make=Toyota&min_price=1", 2),  # capped count
    ("buyer", ADS, 5),  # + user, blocks, favourites; capped count
    ("seller", ADS + "my-ads/", 4),
    ("buyer", ADS + "favorites/", 6),
    ("buyer", ADS + "saved-searches/", 3),
    ("buyer", "/api/messages/conversations/", 4),
    ("buyer", "/api/messages/{conversation}/", 4),
    ("anonymous", "/api/moderation/reviews/{seller}/", 3),
    ("staff", "/api/moderation/reports/", 3),
    ("staff", "/api/moderation/queue/ads/", 6),
    ("seller", "/api/payments/", 3),
    ("seller", "/api/payments/promotions/", 3),
    ("buyer", "/api/users/blocked/", 3),
]
BARE_LISTS = [
    ("anonymous", "/api/categories/", 1),  # ad_count
    ("anonymous", "/api/categories/all/", 1),
    ("anonymous", "/api/locations/", 0),  # cached tree
    ("anonymous", "/api/payments/plans/", 1),
    ("anonymous", ADS + "{ad_slug}/similar/", 2),  # the ad, the similar ones (photos a column)
]
DETAILS = [
    ("anonymous", ADS + "{ad_slug}/", 1),  # ad + owner + photos (a column)
    ("buyer", ADS + "{ad_slug}/", 4),  # + user, blocks, favourite
    ("seller", ADS + "{ad_slug}/", 3),
    ("seller", ADS + "{ad_slug}/stats/", 4),
    ("anonymous", "/api/categories/cars/", 1),
    ("anonymous", "/api/locations/nairobi/", 2),
    ("buyer", "/api/messages/unread-count/", 2),
    ("seller", "/api/payments/{payment}/", 2),
    ("buyer", "/api/users/profile/", 1),
    ("anonymous", "/api/users/{seller}/", 1),
]


def client_of(who: str, world: Any, api: Any, client_for: Any) -> Any:
    if who == "anonymous":
        return api
    return client_for({"buyer": world.buyer, "seller": world.sellers[0], "staff": world.staff}[who])


def fill(url: str, world: Any) -> str:
    return url.format(
        conversation=world.conversations[0].pk,
        seller=world.sellers[0].pk,
        ad_slug=world.ads[0].slug,
        payment=world.payments[0].pk,
    )


@pytest.mark.parametrize(("who", "url", "queries"), LISTS)
def test_page_of_1_and_50_cost_the_same(
    who: str,
    url: str,
    queries: int,
    world: Any,
    api: Any,
    client_for: Any,
    settings: Any,
    django_assert_num_queries: Any,
) -> None:
    anonymous_cache_off(settings)
    url = fill(url, world)
    path, _, query = url.partition("?")
    params = dict(part.split("=") for part in query.split("&")) if query else None
    assert_list_budget(
        client_of(who, world, api, client_for),
        path,
        queries,
        django_assert_num_queries,
        params=params,
    )


@pytest.mark.parametrize(("who", "url", "queries"), BARE_LISTS + DETAILS)
def test_read_costs_a_fixed_number_of_queries(
    who: str,
    url: str,
    queries: int,
    world: Any,
    api: Any,
    client_for: Any,
    settings: Any,
    django_assert_num_queries: Any,
) -> None:
    anonymous_cache_off(settings)
    assert_detail_budget(
        client_of(who, world, api, client_for), fill(url, world), queries, django_assert_num_queries
    )
