"""Search answers kept for SEARCH_RESULT_CACHE_SECONDS (apps/search/result_cache.py): the same
search again is answered without running it; which ads match may lag by up to that time (as
API.md section 1 allows search to), while the page's ads are always read as they are now."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ads import services as ad_services
from apps.ads.models import AdStatus
from apps.ads.status import Actor
from apps.search import result_cache
from apps.search.backends.base import SearchQuery
from apps.search.tests.helpers import SEARCH, ids, make_ad

pytestmark = pytest.mark.django_db


def search_statements(captured: CaptureQueriesContext) -> int:
    """Statements that ran the search itself (its matches CTE)."""
    return sum("WITH matched" in query["sql"] for query in captured.captured_queries)


def test_the_same_search_again_is_answered_without_running_it(
    api: Any, catalog: Any, seller: Any
) -> None:
    ads = [make_ad(owner=seller, category=catalog.phones, title=f"Pixel {n}") for n in range(3)]
    with CaptureQueriesContext(connection) as first_run:
        first = api.get(SEARCH, {"q": "pixel"})
    with CaptureQueriesContext(connection) as again_run:
        again = api.get(SEARCH, {"q": "pixel"})

    assert first.status_code == again.status_code == 200
    assert search_statements(first_run) == 1
    assert search_statements(again_run) == 0
    assert again.json() == first.json()
    assert set(ids(again)) == {str(ad.pk) for ad in ads}


def test_new_matches_are_found_once_the_kept_answer_expires(
    api: Any, settings: Any, catalog: Any, seller: Any
) -> None:
    settings.SEARCH_RESULT_CACHE_SECONDS = 1
    first = make_ad(owner=seller, category=catalog.phones, title="Pixel 6")
    assert ids(api.get(SEARCH, {"q": "pixel"})) == [str(first.pk)]

    second = make_ad(owner=seller, category=catalog.phones, title="Pixel 7")
    kept = api.get(SEARCH, {"q": "pixel"}).json()
    assert kept["count"] == 1  # within the lag the contract allows

    time.sleep(1.2)
    fresh = api.get(SEARCH, {"q": "pixel"})
    assert fresh.json()["count"] == 2
    assert set(ids(fresh)) == {str(first.pk), str(second.pk)}


def test_a_kept_answer_still_shows_each_ad_as_it_is_now(
    api: Any, client_for: Any, catalog: Any, seller: Any
) -> None:
    edited = make_ad(owner=seller, category=catalog.phones, title="Pixel 6 blue")
    sold = make_ad(owner=seller, category=catalog.phones, title="Pixel 7 black")
    assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 2

    response = client_for(seller).patch(
        f"/api/ads/{edited.slug}/", {"title": "Pixel 6 blue, mint"}, format="json"
    )
    assert response.status_code == 200, response.json()
    ad_services.change_ad_status(ad_id=sold.pk, to=AdStatus.SOLD, actor=Actor.OWNER, by=seller)

    body = api.get(SEARCH, {"q": "pixel"}).json()
    assert [item["title"] for item in body["results"]] == ["Pixel 6 blue, mint"]


def test_a_viewer_with_blocks_gets_a_fresh_answer_and_leaves_none(
    api: Any, client_for: Any, catalog: Any, seller: Any, buyer: Any, make_user: Any
) -> None:
    other = make_user(first_name="Zawadi")
    mine = make_ad(owner=seller, category=catalog.phones, title="Pixel 6")
    theirs = make_ad(owner=other, category=catalog.phones, title="Pixel 7")
    assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 2  # kept for everyone

    blocking = client_for(buyer)
    blocked = blocking.post("/api/users/block/", {"user": str(other.pk)}, format="json")
    assert blocked.status_code == 201
    with CaptureQueriesContext(connection) as captured:
        seen = blocking.get(SEARCH, {"q": "pixel", "page_size": 5})
    assert ids(seen) == [str(mine.pk)]
    assert search_statements(captured) == 1

    # The blocked answer was not kept for others, and a viewer without blocks shares theirs.
    assert set(ids(api.get(SEARCH, {"q": "pixel", "page_size": 5}))) == {
        str(mine.pk), str(theirs.pk)
    }
    with CaptureQueriesContext(connection) as shared:
        answer = client_for(seller).get(SEARCH, {"q": "pixel", "page_size": 5})
    assert len(ids(answer)) == 2 and search_statements(shared) == 0


def test_filters_orderings_and_pages_are_kept_apart(
    api: Any, catalog: Any, seller: Any
) -> None:
    make_ad(owner=seller, category=catalog.phones, title="Pixel 6", condition="new", price="900")
    make_ad(owner=seller, category=catalog.phones, title="Pixel 7", condition="used", price="500")

    assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 2
    assert api.get(SEARCH, {"q": "pixel", "condition": "new"}).json()["count"] == 1
    cheap_first = [item["title"] for item in api.get(
        SEARCH, {"q": "pixel", "ordering": "price"}).json()["results"]]
    assert cheap_first == ["Pixel 7", "Pixel 6"]
    dear_first = [item["title"] for item in api.get(
        SEARCH, {"q": "pixel", "ordering": "-price"}).json()["results"]]
    assert dear_first == ["Pixel 6", "Pixel 7"]
    one = api.get(SEARCH, {"q": "pixel", "ordering": "price", "page_size": 1}).json()
    two = api.get(SEARCH, {"q": "pixel", "ordering": "price", "page_size": 1, "page": 2}).json()
    assert [one["results"][0]["title"], two["results"][0]["title"]] == ["Pixel 7", "Pixel 6"]
    for _ in range(2):  # run, then from the kept answer: past the end either way
        past = api.get(SEARCH, {"q": "pixel", "ordering": "price", "page_size": 1, "page": 3})
        assert past.status_code == 404


def test_a_refused_search_keeps_nothing(api: Any, catalog: Any, seller: Any) -> None:
    make_ad(owner=seller, category=catalog.phones, title="Pixel 6")
    refused = api.get(SEARCH, {"q": "pixel", "min_price": "cheap"})
    assert refused.status_code == 400
    assert [error["attr"] for error in refused.json()["errors"]] == ["min_price"]
    again = api.get(SEARCH, {"q": "pixel", "min_price": "cheap"})
    assert again.status_code == 400 and again.json() == refused.json()
    assert api.get(SEARCH, {"q": "pixel", "min_price": "1"}).json()["count"] == 1


def test_zero_seconds_runs_every_search(
    api: Any, settings: Any, catalog: Any, seller: Any
) -> None:
    settings.SEARCH_RESULT_CACHE_SECONDS = 0
    make_ad(owner=seller, category=catalog.phones, title="Pixel 6")
    assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 1
    make_ad(owner=seller, category=catalog.phones, title="Pixel 7")
    with CaptureQueriesContext(connection) as captured:
        assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 2
    assert search_statements(captured) == 1


def test_searches_are_answered_while_the_cache_is_down(
    api: Any, catalog: Any, seller: Any, monkeypatch: Any
) -> None:
    ad = make_ad(owner=seller, category=catalog.phones, title="Pixel 6")
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(cache.client, "get_client", lambda *args, **kwargs: unreachable)  # type: ignore[attr-defined]

    for _ in range(2):
        response = api.get(SEARCH, {"q": "pixel"})
        assert response.status_code == 200
        assert ids(response) == [str(ad.pk)]


@pytest.mark.parametrize("params", [{"q": "tecno"}, {"q": "tecno", "condition": "used"}])
def test_a_kept_answer_costs_the_same_queries_for_1_and_50_ads(
    api: Any, catalog: Any, seller: Any, django_assert_num_queries: Any, params: dict[str, str]
) -> None:
    for n in range(55):
        make_ad(owner=seller, category=catalog.phones, title=f"Tecno Camon {n}",
                images=1 if n % 10 == 0 else 0, condition="used")
    for size in (1, 50):
        api.get(SEARCH, {**params, "page_size": size})  # keeps the answer (and warms the trees)

    with CaptureQueriesContext(connection) as one:
        small = api.get(SEARCH, {**params, "page_size": 1})
    assert len(small.json()["results"]) == 1
    with django_assert_num_queries(len(one.captured_queries)):
        large = api.get(SEARCH, {**params, "page_size": 50})
    assert len(large.json()["results"]) == 50
    # The page's ads and their photos; the answer itself is one cache read.
    assert len(one.captured_queries) == 2


def test_one_request_runs_an_aging_search_again_while_others_get_the_kept_answer(
    api: Any, settings: Any, catalog: Any, seller: Any
) -> None:
    settings.SEARCH_RESULT_CACHE_SECONDS = 2  # run again after 1.2 s (REFRESH_AFTER 0.6)
    make_ad(owner=seller, category=catalog.phones, title="Pixel 6")
    assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 1
    make_ad(owner=seller, category=catalog.phones, title="Pixel 7")
    time.sleep(1.3)

    # Another request is running it again (it holds the refresh lock): answered as kept.
    key = result_cache.cache_key(
        SearchQuery(text="pixel", params={}, ordering=None, offset=0, limit=20)
    )
    entry = cache.get(key)
    assert cache.add(result_cache.refresh_lock_key(key, entry), 1, timeout=2)
    with CaptureQueriesContext(connection) as waiting:
        assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 1
    assert search_statements(waiting) == 0
    cache.delete(result_cache.refresh_lock_key(key, entry))

    # The first to take the lock runs it; the next ones get its fresh answer.
    with CaptureQueriesContext(connection) as refreshing:
        assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 2
    with CaptureQueriesContext(connection) as after:
        assert api.get(SEARCH, {"q": "pixel"}).json()["count"] == 2
    assert (search_statements(refreshing), search_statements(after)) == (1, 0)
