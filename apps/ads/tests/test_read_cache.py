"""The anonymous read cache (apps.common.cache), ETags, keyset `next` links and listing counts:
what a client sees after every kind of write, never a stale ad."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import TestCase

from apps.ads import services
from apps.ads.api import render
from apps.ads.api.serializers import AdOutput
from apps.ads.models import Ad
from apps.ads.tests.factories import ADS, add_photo, detail_url, flush_views, make_ad
from apps.categories.tests.factories import update_category
from apps.common import cache
from apps.common.pagination import ListingPagination
from apps.moderation import services as moderation_services
from apps.users import services as user_services

pytestmark = pytest.mark.django_db


def slugs(response):
    assert response.status_code == 200, response.content
    return [ad["slug"] for ad in response.json()["results"]]


@pytest.fixture
def ad(seller, catalog):
    return make_ad(
        owner=seller,
        category=catalog.phones,
        title="Samsung Galaxy A54 clean",
        price=Decimal("30000"),
    )


@pytest.fixture
def warm(api, ad):
    """Both anonymous reads answered, so the next ones come from the cache (a process learns
    an ad's id from its first detail read, and caches from the second)."""
    assert api.get(ADS).status_code == 200
    assert api.get(detail_url(ad.slug)).status_code == 200
    assert api.get(detail_url(ad.slug)).status_code == 200


# --- served from the cache ----------------------------------------------------------------------


def test_anonymous_reads_come_from_the_cache_with_no_query(
    api, ad, warm, django_assert_num_queries
):
    with django_assert_num_queries(0):
        listing = api.get(ADS)
        detail = api.get(detail_url(ad.slug))
    assert slugs(listing) == [ad.slug]
    assert detail.json()["title"] == "Samsung Galaxy A54 clean"


def test_signed_in_reads_are_never_served_the_anonymous_copy(api, ad, warm, buyer_client, buyer):
    services.add_favorite(user=buyer, ad=ad)

    mine = buyer_client.get(detail_url(ad.slug))
    anonymous = api.get(detail_url(ad.slug))

    assert mine.json()["is_favorited"] is True
    assert buyer_client.get(ADS).json()["results"][0]["is_favorited"] is True
    assert anonymous.json()["is_favorited"] is False
    assert mine["Cache-Control"] == "private, no-cache"
    assert anonymous["Cache-Control"] == "public, no-cache"


def test_owner_still_sees_the_moderation_reason_after_anonymous_reads(
    api, seller, catalog, client_for
):
    held = make_ad(owner=seller, category=catalog.phones, status="rejected")
    assert api.get(detail_url(held.slug)).status_code == 404
    body = client_for(seller).get(detail_url(held.slug)).json()
    assert body["moderation_reason"] == "banned_word"


# --- every write shows at once --------------------------------------------------------------


def test_an_edit_shows_at_once(api, ad, warm, seller_client):
    response = seller_client.patch(
        detail_url(ad.slug),
        {"title": "Samsung Galaxy A54 as new", "price": "28000.00"},
        format="json",
    )
    assert response.status_code == 200, response.content

    assert api.get(detail_url(ad.slug)).json()["title"] == "Samsung Galaxy A54 as new"
    assert api.get(ADS).json()["results"][0]["price"] == "28000.00"


def test_a_sale_takes_the_ad_off_at_once(api, ad, warm, seller_client):
    response = seller_client.patch(detail_url(ad.slug), {"status": "sold"}, format="json")
    assert response.status_code == 200, response.content

    assert api.get(detail_url(ad.slug)).status_code == 404
    assert slugs(api.get(ADS)) == []
    assert api.get(ADS).json()["count"] == 0


def test_a_deletion_takes_the_ad_off_at_once(api, ad, warm, seller_client):
    assert seller_client.delete(detail_url(ad.slug)).status_code == 204

    assert api.get(detail_url(ad.slug)).status_code == 404
    assert slugs(api.get(ADS)) == []


def test_staff_hiding_takes_the_ad_off_at_once(api, ad, warm, staff):
    with TestCase.captureOnCommitCallbacks(execute=True):
        moderation_services.hide_ad(ad_id=ad.pk, staff=staff)

    assert api.get(detail_url(ad.slug)).status_code == 404
    assert slugs(api.get(ADS)) == []


def test_suspending_the_seller_hides_the_ads_at_once(api, ad, warm, seller, staff):
    with TestCase.captureOnCommitCallbacks(execute=True):
        user_services.suspend_user(user=seller, by=staff)

    assert api.get(detail_url(ad.slug)).status_code == 404
    assert slugs(api.get(ADS)) == []


def test_a_block_hides_the_ads_from_the_blocker_though_anonymous_pages_are_cached(
    api, ad, warm, buyer, buyer_client, seller
):
    user_services.block_user(blocker=buyer, blocked_id=seller.pk)

    assert slugs(api.get(ADS)) == [ad.slug]
    assert slugs(buyer_client.get(ADS)) == []
    assert buyer_client.get(detail_url(ad.slug)).status_code == 404


def test_a_new_photo_and_a_favourite_show_at_once(api, ad, warm, buyer):
    add_photo(ad)
    services.add_favorite(user=buyer, ad=ad)

    body = api.get(detail_url(ad.slug)).json()
    assert len(body["images"]) == 1
    assert body["favorites_count"] == 1
    assert api.get(ADS).json()["results"][0]["favorites_count"] == 1


def test_a_category_rename_shows_in_ads_and_trees_at_once(api, ad, warm, catalog):
    assert api.get("/api/categories/").status_code == 200
    update_category(catalog.phones, name="Smartphones")

    assert api.get(detail_url(ad.slug)).json()["category"]["name"] == "Smartphones"
    names = [node["name"] for node in api.get("/api/categories/all/").json()]
    assert "Smartphones" in names


def test_the_tree_counts_follow_ads_at_once(api, ad, seller, catalog):
    def phones_count():
        return next(
            node["ad_count"]
            for node in api.get("/api/categories/all/").json()
            if node["slug"] == catalog.phones.slug
        )

    assert phones_count() == 1
    make_ad(owner=seller, category=catalog.phones)
    assert phones_count() == 2


def test_view_counts_show_after_the_flush(api, ad, warm):
    from apps.ads import views_counter

    flush_views()  # the warming read's view
    assert api.get(detail_url(ad.slug)).json()["views_count"] == 1
    views_counter.record_view(ad_id=ad.pk, viewer="ip:10.9.9.9")
    flush_views()

    assert api.get(detail_url(ad.slug)).json()["views_count"] == 2


# --- ETag -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["detail", ADS, "/api/categories/", "/api/categories/all/", "/api/locations/"]
)
def test_a_matching_etag_answers_304_without_a_body(api, ad, path):
    url = detail_url(ad.slug) if path == "detail" else path
    first = api.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')

    again = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert api.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_the_etag_changes_after_an_edit(api, ad, seller_client):
    before = api.get(detail_url(ad.slug))["ETag"]
    listing_before = api.get(ADS)["ETag"]
    seller_client.patch(detail_url(ad.slug), {"description": "Barely used."}, format="json")

    stale = api.get(detail_url(ad.slug), HTTP_IF_NONE_MATCH=before)
    assert stale.status_code == 200
    assert stale.json()["description"] == "Barely used."
    assert stale["ETag"] != before
    assert api.get(ADS, HTTP_IF_NONE_MATCH=listing_before).status_code == 200


def test_signed_in_reads_have_their_own_etag(buyer_client, ad):
    first = buyer_client.get(detail_url(ad.slug))
    assert (
        buyer_client.get(detail_url(ad.slug), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    )


# --- keyset `next` links and counts -----------------------------------------------------------


@pytest.fixture
def many(seller, catalog):
    from datetime import timedelta

    from django.utils import timezone

    ads = [
        make_ad(owner=seller, category=catalog.phones, price=Decimal(1000 + n % 4))
        for n in range(9)
    ]
    now = timezone.now()
    for n, ad in enumerate(ads):  # two promoted, and equal publication times (ties by id)
        Ad.objects.filter(pk=ad.pk).update(
            published_at=now - timedelta(hours=n // 2), promotion_tier=2 if n in (3, 7) else 0
        )
    return ads


@pytest.mark.parametrize("ordering", [None, "-published_at", "price", "-price"])
def test_following_next_gives_the_same_ads_as_page_numbers(api, many, ordering):
    params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
    by_number = []
    for page in range(1, 6):
        by_number += slugs(api.get(ADS, {**params, "page": page}))
    followed, url = [], None
    response = api.get(ADS, params)
    while True:
        followed += slugs(response)
        url = response.json()["next"]
        if url is None:
            break
        assert "cursor=" in url
        response = api.get(url)
    assert followed == by_number
    assert len(set(followed)) == 9


def test_a_deep_cursor_page_costs_what_page_one_costs(
    api, many, settings, django_assert_num_queries
):
    settings.READ_CACHE_ENABLED = False
    api.get(ADS)
    url = api.get(ADS, {"page_size": 1, "page": 1}).json()["next"]
    for _ in range(5):
        url = api.get(url).json()["next"]
    # count, the page within the cursor's tier (photos a column; a page crossing into the lower
    # tiers adds one range read)
    with django_assert_num_queries(2):
        response = api.get(url)
    assert len(slugs(response)) == 1


@pytest.mark.parametrize("cursor", ["nonsense", "WyJ4Il0", "W10"])
def test_a_malformed_cursor_is_404(api, many, cursor):
    response = api.get(ADS, {"page": 2, "cursor": cursor})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_filtered_counts_are_capped_and_flagged(api, many, monkeypatch):
    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 4)

    capped = api.get(ADS, {"min_price": "1", "page_size": 2}).json()
    whole = api.get(ADS, {"page_size": 2}).json()
    past = api.get(ADS, {"min_price": "1", "page_size": 2, "page": 3})

    assert capped["count"] == 4 and capped["count_exact"] is False
    assert whole["count"] == 9 and "count_exact" not in whole
    assert past.status_code == 404


def test_counts_come_from_the_category_totals(api, many, catalog, seller):
    make_ad(owner=seller, category=catalog.laptops)
    assert api.get(ADS).json()["count"] == 10
    assert api.get(ADS, {"category": "electronics"}).json()["count"] == 10
    assert api.get(ADS, {"category": catalog.phones.slug}).json()["count"] == 9
    assert api.get(ADS, {"category": "vehicles"}).json()["count"] == 0


# --- the renderer writes what AdOutput documents -------------------------------------------------


def test_the_fast_renderer_matches_the_documented_serializer(rf, ad, places, buyer, staff):
    from apps.ads import selectors

    Ad.objects.filter(pk=ad.pk).update(
        location=places.westlands,
        promotion_tier=3,
        condition="used",
        attributes={"brand": "Samsung"},
    )
    ad.owner.location = places.nyali
    ad.owner.save(update_fields=["location"])
    add_photo(ad)
    services.add_favorite(user=buyer, ad=ad)
    for viewer in (buyer, staff, ad.owner):
        request = rf.get("/api/ads/")
        request.user = viewer
        fresh = selectors.with_relations(Ad.objects.filter(pk=ad.pk)).get()
        favorited = selectors.favorited_ids(user=viewer, ad_ids=[ad.pk])
        documented = AdOutput(fresh, context={"request": request, "favorited_ids": favorited}).data
        assert render.render([fresh], request=request, favorited=favorited)[0] == documented


# --- what the write watcher sees ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "spaces"),
    [
        ('UPDATE "ads_ad" SET "title" = %s WHERE "ads_ad"."id" = %s', {"ads"}),
        (
            'UPDATE "ads_ad" SET "phone_reveals_count" = ("ads_ad"."phone_reveals_count" + %s) '
            'WHERE "ads_ad"."id" = %s',
            set(),
        ),
        ('UPDATE "users_user" SET "last_login" = %s WHERE "users_user"."id" = %s', set()),
        ('UPDATE "users_user" SET "first_name" = %s, "last_login" = %s WHERE "id" = %s', {"ads"}),
        ('INSERT INTO "users_user" ("email") VALUES (%s)', set()),
        (
            'UPDATE "categories_category" SET ad_count = GREATEST(ad_count + %s, 0) '
            "WHERE id IN (1)",
            {"ads", "categories"},
        ),
        ('DELETE FROM "locations_location" WHERE id = %s', {"ads", "locations"}),
        (  # the view counter's flush bumps the listing pages itself (and retires no detail)
            "WITH b AS (SELECT 1) UPDATE ads_ad SET views_count = ads_ad.views_count + 1 FROM b",
            set(),
        ),
        ('SELECT * FROM "ads_ad" WHERE "title" = \'UPDATE "ads_ad"\'', set()),
        ('UPDATE "chat_conversation" SET "updated_at" = %s', set()),
    ],
)
def test_the_watcher_knows_which_writes_change_cached_reads(sql, spaces):
    assert cache.namespaces_written(sql) == spaces


def test_a_write_of_one_ad_by_id_retires_the_listing_and_that_ad_only():
    one = 'UPDATE "ads_ad" SET "title" = %s, "updated_at" = %s WHERE "ads_ad"."id" = %s'
    several = 'UPDATE "ads_ad" SET "status" = %s WHERE "ads_ad"."id" IN (%s, %s)'

    assert cache.namespaces_written(one, ["New title", "2026-11-27", "abc"]) == {
        "ads-list",
        "ad:abc",
    }
    assert cache.namespaces_written(several, ["hidden", "a", "b"]) == {"ads"}


@pytest.mark.parametrize("walk", [2, 4, 5000])
@pytest.mark.parametrize("ordering", [None, "price", "-price"])
def test_feed_first_pages_match_the_planners_pages(
    api, many, settings, monkeypatch, walk, ordering
):
    """Filtered pages read from the head of the feed (or, when the walk is too short to hold
    the page, the usual way) are the pages the database would give."""
    from apps.ads import selectors

    settings.READ_CACHE_ENABLED = False
    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 4)  # "many matches": the walk applies
    params = {"min_price": "1001", "page_size": 3, **({"ordering": ordering} if ordering else {})}
    monkeypatch.setattr(selectors, "FEED_FIRST_ROWS", 10_000)
    monkeypatch.setattr(selectors, "feed_first_pays", lambda params: False)
    expected = [slugs(api.get(ADS, {**params, "page": page})) for page in (1, 2)]
    monkeypatch.undo()
    monkeypatch.setattr(ListingPagination, "COUNT_CAP", 4)
    monkeypatch.setattr(selectors, "FEED_FIRST_ROWS", walk)
    walked = []
    real = selectors.feed_first_rows

    def spy(*args, **kwargs):
        rows = real(*args, **kwargs)
        walked.append(rows is not None)
        return rows

    monkeypatch.setattr(selectors, "feed_first_rows", spy)

    got = [slugs(api.get(ADS, {**params, "page": page})) for page in (1, 2)]

    assert got == expected
    assert walked == [walk == 5000, walk == 5000] or walk == 4
    assert sum(len(page) for page in got) == 6


def _generation() -> int:
    return int(cache.generations(cache.ADS) or 0)


@pytest.mark.django_db(transaction=True)  # real commits and rollbacks, no test transaction
def test_each_transaction_bumps_once_more_on_commit_even_after_a_rollback():
    """A write bumps at once and its transaction bumps again on commit (retiring what a reader
    cached from the pre-commit state); a rolled-back transaction must not swallow the next
    transaction's commit bump."""
    from django.db import connection, transaction

    def write() -> None:  # any statement on a watched table counts, rows or not
        with connection.cursor() as cursor:
            cursor.execute("UPDATE ads_ad SET title = 'x' WHERE false")

    start = _generation()

    def write_then_fail() -> None:
        with transaction.atomic():
            write()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    after_rollback = _generation()
    assert after_rollback == start + 1  # the statement's own bump; no commit bump
    with transaction.atomic():
        write()
        write()
        assert _generation() == after_rollback + 2
    assert _generation() == after_rollback + 3  # one commit bump for both statements
