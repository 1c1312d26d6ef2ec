"""A common word typed last matches whole (and the common words it begins), not as a prefix
(whole_words.py): GIN cannot skip through a prefix's postings, and a common word's are long.
"Common" comes from the planner's statistics (ANALYZE), over SEARCH_WHOLE_WORD_MIN_ADS ads."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from apps.search import whole_words
from apps.search.tests.helpers import ids, make_ad

pytestmark = pytest.mark.django_db
POSTGRES = "apps.search.backends.postgres.PostgresSearchBackend"


@pytest.fixture
def carpets_and_cars(settings: Any, catalog: Any, seller: Any) -> dict[str, list[str]]:
    settings.SEARCH_BACKEND = POSTGRES
    made: dict[str, list[str]] = {"car": [], "carpet": [], "caravan": []}
    for n in range(4):
        made["car"].append(str(make_ad(owner=seller, category=catalog.phones,
                                       title=f"Car for hire {n}").pk))
        made["carpet"].append(str(make_ad(owner=seller, category=catalog.phones,
                                          title=f"Persian carpet {n}").pk))
    made["caravan"].append(str(make_ad(owner=seller, category=catalog.phones,
                                       title="Caravan awning").pk))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ads_ad")  # the statistics "common" is read from
    return made


def test_a_common_last_word_matches_itself_and_the_common_words_it_begins(
    api: Any, settings: Any, carpets_and_cars: dict[str, list[str]]
) -> None:
    settings.SEARCH_WHOLE_WORD_MIN_ADS = 3  # "car" and "carpet" are in 4 ads, "caravan" in 1
    assert whole_words.whole_forms("car") == ["car", "carpet"]
    assert whole_words.whole_forms("cara") is None  # not a common word: stays a prefix

    found = api.get("/api/ads/search/", {"q": "car", "page_size": 50})

    assert found.status_code == 200
    assert set(ids(found)) == {*carpets_and_cars["car"], *carpets_and_cars["carpet"]}
    assert found.json()["count"] == 8
    typing = api.get("/api/ads/search/", {"q": "carav"})
    assert ids(typing) == carpets_and_cars["caravan"]


def test_under_the_threshold_the_last_word_is_a_prefix(
    api: Any, carpets_and_cars: dict[str, list[str]]
) -> None:
    assert whole_words.whole_forms("car") is None  # the default: 5,000 ads

    found = api.get("/api/ads/search/", {"q": "car", "page_size": 50})

    assert set(ids(found)) == {word_id for group in carpets_and_cars.values() for word_id in group}


def test_the_common_words_are_read_once_and_kept(
    api: Any, settings: Any, carpets_and_cars: dict[str, list[str]],
    django_assert_num_queries: Any,
) -> None:
    settings.SEARCH_WHOLE_WORD_MIN_ADS = 3
    assert "car" in whole_words.common_words()  # reads the statistics, keeps them

    with django_assert_num_queries(0):
        assert whole_words.whole_forms("carpet") == ["carpet"]
    cache.delete(whole_words.cache_key())
    with django_assert_num_queries(1):
        whole_words.common_words()
