"""How the PostgreSQL backend builds its statements: one per search (typos: the corrections
come with the exact one), the filters' WHERE compiled once, category names remembered per tree
version. What a client sees must not change: results, counts, facets."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ads.models import Ad
from apps.categories.tests.factories import update_category
from apps.search.backends import postgres
from apps.search.tests.helpers import ids, make_ad

pytestmark = pytest.mark.django_db


def vocabulary_reads(captured: CaptureQueriesContext) -> int:
    return sum("search_searchvocabulary" in query["sql"] for query in captured.captured_queries)


def test_a_typo_search_looks_its_words_up_once_and_a_good_one_never(
    api: Any, settings: Any, catalog: Any, seller: Any
) -> None:
    settings.SEARCH_BACKEND = "apps.search.backends.postgres.PostgresSearchBackend"
    for n in range(20):
        make_ad(owner=seller, category=catalog.phones, title=f"Tecno Camon {n}")
    api.get("/api/ads/search/", {"q": "tecno"})  # warm the caches

    with CaptureQueriesContext(connection) as good:
        plenty = api.get("/api/ads/search/", {"q": "tecno camon"})
    with CaptureQueriesContext(connection) as typo:
        fixed = api.get("/api/ads/search/", {"q": "tecnp camon"})

    assert plenty.status_code == 200 and plenty.json()["count"] == 20
    assert fixed.status_code == 200 and fixed.json()["count"] == 20
    assert set(ids(fixed)) == set(ids(plenty))
    # The lookup is part of the exact statement, gated on its count: it is in the text of
    # the first statement of both, and the typo's corrected statement follows.
    assert vocabulary_reads(good) == 1 and vocabulary_reads(typo) == 1
    search_statements = [q for q in typo.captured_queries if "WITH matched" in q["sql"]]
    assert len(search_statements) == 2
    assert len([q for q in good.captured_queries if "WITH matched" in q["sql"]]) == 1


def test_a_renamed_category_is_matched_by_its_new_name_at_once(
    api: Any, catalog: Any, seller: Any, answers_run: None
) -> None:
    bike = make_ad(owner=seller, category=catalog.motorcycles, title="Boxer 150 red")
    assert api.get("/api/ads/search/", {"q": "motorcycles"}).json()["count"] == 1
    assert api.get("/api/ads/search/", {"q": "pikipiki"}).json()["count"] == 0

    update_category(catalog.motorcycles, name="Pikipiki")

    found = api.get("/api/ads/search/", {"q": "pikipiki"})
    assert found.status_code == 200 and ids(found) == [str(bike.pk)]
    assert api.get("/api/ads/search/", {"q": "motorcycles"}).json()["count"] == 0


def test_the_where_clause_of_a_joining_filter_selects_the_same_ads(
    catalog: Any, seller: Any, make_user: Any
) -> None:
    other = make_user(first_name="Zawadi")
    mine = make_ad(owner=seller, category=catalog.laptops, title="HP Probook")
    make_ad(owner=other, category=catalog.laptops, title="Dell Latitude")
    for queryset in (
        Ad.objects.filter(owner__first_name="Amani"),  # a join: kept in an id subquery
        Ad.objects.filter(category_id=catalog.laptops.pk, price__gte=100),
        Ad.objects.all(),
    ):
        where, params = postgres.where_clause(queryset)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT "ads_ad"."id" FROM "ads_ad" WHERE {where}', params)  # noqa: S608
            found = {row[0] for row in cursor.fetchall()}
        assert found == set(queryset.values_list("pk", flat=True))
    where, params = postgres.where_clause(Ad.objects.filter(owner__first_name="Amani"))
    assert "IN (SELECT" in where
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "ads_ad"."id" FROM "ads_ad" WHERE {where}', params)  # noqa: S608
        assert [row[0] for row in cursor.fetchall()] == [mine.pk]


def test_where_clauses_that_keep_everything_or_nothing(catalog: Any, seller: Any) -> None:
    make_ad(owner=seller, category=catalog.laptops, title="HP Probook")
    for queryset, expected in ((Ad.objects.all(), 1), (Ad.objects.filter(pk__in=[]), 0)):
        where, params = postgres.where_clause(queryset)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "ads_ad" WHERE {where}', params)  # noqa: S608
            assert cursor.fetchone()[0] == expected


def test_title_matches_are_written_as_the_title_index_expression(catalog: Any, seller: Any) -> None:
    make_ad(owner=seller, category=catalog.phones, title="Nyumba ya kupanga")
    sql, params = postgres.TextMatch(["nyumba"]).title_sql()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(indexprs, indrelid) FROM pg_index "
            "WHERE indexrelid = 'ad_title_vector_gin'::regclass"
        )
        (indexed,) = cursor.fetchone()
        cursor.execute(
            "EXPLAIN SELECT id FROM ads_ad WHERE status = 'active' AND deleted_at IS NULL "  # noqa: S608  (constant SQL; values are parameters)
            f"AND {sql}",
            params,
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # PostgreSQL prints both from their parsed form: the same text is the same expression,
    # which the planner can serve from ad_title_vector_gin (migration 0007). A handful of test
    # rows would not show it choosing the index.
    assert indexed.startswith("(to_tsvector('simple'")
    assert indexed + " @@ '''nyumba'':*'::tsquery" in plan


def test_over_the_cap_a_rare_title_match_still_comes_first(
    api: Any, settings: Any, catalog: Any, seller: Any
) -> None:
    settings.SEARCH_BACKEND = "apps.search.backends.postgres.PostgresSearchBackend"
    settings.SEARCH_COUNT_CAP = 3
    described = [
        make_ad(owner=seller, category=catalog.phones, title=f"House {n}",
                description="Nyumba nzuri")
        for n in range(5)
    ]
    # Made last: not among the first matches counted, so the page fetches the title matches
    # through the title index (few of them) rather than walking the feed.
    titled = make_ad(owner=seller, category=catalog.phones, title="Nyumba ya kupanga",
                     published_at=described[0].published_at)

    found = api.get("/api/ads/search/", {"q": "nyumba", "page_size": 3})

    assert found.status_code == 200 and found.json()["count_is_estimate"] is True
    assert ids(found) == [str(titled.pk), str(described[4].pk), str(described[3].pk)]
