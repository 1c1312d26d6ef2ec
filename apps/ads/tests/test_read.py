"""GET /api/ads/, <slug>/, my-ads/, <slug>/similar/: visibility, order, pages, views, blocks and
the query budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.ads import views_counter
from apps.ads.models import AdStatus, PromotionTier
from apps.ads.tests.factories import (
    AD_KEYS,
    ADS,
    FAVORITES,
    MY_ADS,
    PAGE_KEYS,
    add_photo,
    detail_url,
    flush_views,
    make_ad,
    reload,
    similar_url,
)
from apps.users.models import Block
from conftest import error_codes

pytestmark = pytest.mark.django_db

NON_ACTIVE = ["draft", "pending", "rejected", "sold", "expired", "hidden"]


def slugs(response):
    assert response.status_code == 200, response.json()
    return [ad["slug"] for ad in response.json()["results"]]


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def later(**delta):
    return timezone.now() + timedelta(**delta)


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_live_active_ads(api, seller, catalog):
    active = make_ad(owner=seller, category=catalog.phones)
    for status in NON_ACTIVE:
        make_ad(owner=seller, category=catalog.phones, status=status)
    make_ad(owner=seller, category=catalog.phones, deleted=True)

    response = api.get(ADS)

    assert slugs(response) == [active.slug]
    body = response.json()
    assert body["count"] == 1
    assert set(body["results"][0]) == AD_KEYS


def test_default_order_is_promotion_tier_then_newest(api, seller, catalog):
    old = make_ad(owner=seller, category=catalog.phones, published_at=ago(hours=5))
    new = make_ad(owner=seller, category=catalog.phones, published_at=ago(hours=1))
    boost = make_ad(owner=seller, category=catalog.phones, published_at=ago(hours=9),
                    promotion_tier=PromotionTier.BOOST, promotion_until=later(days=3))
    vip_old = make_ad(owner=seller, category=catalog.laptops, published_at=ago(days=9),
                      promotion_tier=PromotionTier.VIP, promotion_until=later(days=3))
    vip_new = make_ad(owner=seller, category=catalog.phones, published_at=ago(days=2),
                      promotion_tier=PromotionTier.VIP, promotion_until=later(days=1))
    featured = make_ad(owner=seller, category=catalog.cars, published_at=ago(hours=7),
                       promotion_tier=PromotionTier.FEATURED, promotion_until=later(days=3),
                       attributes={"make": "Mazda"})

    response = api.get(ADS)

    assert slugs(response) == [vip_new.slug, vip_old.slug, featured.slug, boost.slug, new.slug,
                               old.slug]
    results = response.json()["results"]
    assert results[0]["promotion"] == {
        "tier": "vip", "until": reload(vip_new).promotion_until.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert [ad["promotion"]["tier"] if ad["promotion"] else None for ad in results] == [
        "vip", "vip", "featured", "boost", None, None]


def test_pages(api, seller, catalog):
    ads = [make_ad(owner=seller, category=catalog.phones, published_at=ago(hours=n))
           for n in range(5)]

    first = api.get(ADS, {"page_size": 2})
    second = api.get(first.json()["next"])
    last = api.get(ADS, {"page_size": 2, "page": 3})

    body = first.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 5
    assert body["previous"] is None
    # `next` carries a keyset cursor with the page number (apps.common.pagination)
    assert body["next"].startswith("http://testserver/api/ads/?cursor=")
    assert "page=2&page_size=2" in body["next"]
    assert slugs(first) == [ads[0].slug, ads[1].slug]
    assert slugs(second) == [ads[2].slug, ads[3].slug]
    assert second.json()["previous"].startswith("http://testserver/api/ads/?")
    assert slugs(last) == [ads[4].slug]
    assert last.json()["next"] is None
    assert len(slugs(api.get(ADS))) == 5  # default page size 20
    assert len(slugs(api.get(ADS, {"page_size": "lots"}))) == 5
    assert len(slugs(api.get(ADS, {"page_size": 0}))) == 5


@pytest.mark.parametrize("page", ["4", "0", "abc", "-1"])
def test_page_out_of_range_or_not_a_number_is_404(api, seller, catalog, page):
    for _ in range(3):
        make_ad(owner=seller, category=catalog.phones)

    response = api.get(ADS, {"page_size": 1, "page": page})

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_page_size_is_capped_at_100(api, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)

    body = api.get(ADS, {"page_size": 1000}).json()

    assert [item["slug"] for item in body["results"]] == [ad.slug]
    assert body["next"] is None


# --- detail -----------------------------------------------------------------------------------


def test_detail_for_anyone(api, seller_client, buyer_client, seller, catalog, places):
    ad = make_ad(owner=seller, category=catalog.phones, location=places.nyali,
                 attributes={"brand": "Apple", "storage": 256})
    add_photo(ad)

    for client in (api, buyer_client, seller_client):
        response = client.get(detail_url(ad.slug))
        assert response.status_code == 200, response.json()
        body = response.json()
        assert set(body) == AD_KEYS
        assert body["id"] == str(ad.pk)
        assert body["status"] == "active"
        assert body["attributes"] == {"brand": "Apple", "storage": 256}
        assert body["location"]["slug"] == places.nyali.slug
        assert len(body["images"]) == 1
        assert body["moderation_reason"] is None


def test_unknown_slug_is_404(api):
    response = api.get(detail_url("no-such-ad-abc123"))

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


@pytest.mark.parametrize("status", NON_ACTIVE)
def test_non_active_ad_is_visible_to_its_owner_only(api, seller_client, buyer_client, staff,
                                                    client_for, seller, catalog, status):
    ad = make_ad(owner=seller, category=catalog.phones, status=status)

    for client in (api, buyer_client, client_for(staff)):
        response = client.get(detail_url(ad.slug))
        assert response.status_code == 404
        assert error_codes(response) == [("not_found", None)]
    mine = seller_client.get(detail_url(ad.slug))
    assert mine.status_code == 200
    assert mine.json()["status"] == status


def test_moderation_reason_is_shown_to_the_owner(seller_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones, status="rejected")

    assert seller_client.get(detail_url(ad.slug)).json()["moderation_reason"] == "banned_word"
    [mine] = seller_client.get(MY_ADS).json()["results"]
    assert mine["moderation_reason"] == "banned_word"


def test_moderation_reason_is_shown_to_owner_and_staff_only(api, seller_client, buyer_client,
                                                            client_for, staff, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones, moderation_reason="reported")

    assert seller_client.get(detail_url(ad.slug)).json()["moderation_reason"] == "reported"
    assert client_for(staff).get(detail_url(ad.slug)).json()["moderation_reason"] == "reported"
    assert buyer_client.get(detail_url(ad.slug)).json()["moderation_reason"] is None
    assert api.get(detail_url(ad.slug)).json()["moderation_reason"] is None
    assert api.get(ADS).json()["results"][0]["moderation_reason"] is None
    assert client_for(staff).get(ADS).json()["results"][0]["moderation_reason"] == "reported"


@pytest.mark.parametrize("status", ["active", "draft", "sold"])
def test_deleted_ad_is_404_for_everyone(api, seller_client, buyer_client, seller, catalog,
                                        status):
    ad = make_ad(owner=seller, category=catalog.phones, status=status, deleted=True)

    for client in (api, buyer_client, seller_client):
        assert client.get(detail_url(ad.slug)).status_code == 404
        assert client.get(similar_url(ad.slug)).status_code == 404
    assert seller_client.get(MY_ADS).json()["count"] == 0


# --- views ------------------------------------------------------------------------------------


def test_views_count_once_per_viewer_per_day_never_the_owner(api, seller_client, buyer_client,
                                                             client_for, make_user, seller,
                                                             catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    url = detail_url(ad.slug)

    for _ in range(3):
        seller_client.get(url)  # the owner: never counted
    buyer_client.get(url)
    buyer_client.get(url)  # same user, same day
    client_for(make_user()).get(url)
    api.get(url, REMOTE_ADDR="10.0.0.1")
    api.get(url, REMOTE_ADDR="10.0.0.1")  # same IP
    api.get(url, REMOTE_ADDR="10.0.0.2")

    assert reload(ad).views_count == 0  # counted in Redis, not yet written
    assert flush_views() == 1
    assert reload(ad).views_count == 4
    assert api.get(url, REMOTE_ADDR="10.0.0.1").json()["views_count"] == 4
    assert flush_views() == 0  # nothing new
    assert reload(ad).views_count == 4


def test_views_count_again_the_next_utc_day(buyer_client, seller, catalog, monkeypatch):
    ad = make_ad(owner=seller, category=catalog.phones)
    buyer_client.get(detail_url(ad.slug))

    class Tomorrow(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=1)

    monkeypatch.setattr(views_counter, "datetime", Tomorrow)
    buyer_client.get(detail_url(ad.slug))
    buyer_client.get(detail_url(ad.slug))

    flush_views()
    assert reload(ad).views_count == 2


def test_views_of_several_ads_are_flushed_together(api, seller, catalog):
    first = make_ad(owner=seller, category=catalog.phones)
    second = make_ad(owner=seller, category=catalog.phones)
    api.get(detail_url(first.slug))
    api.get(detail_url(second.slug))
    api.get(detail_url(second.slug), REMOTE_ADDR="10.9.9.9")

    assert flush_views() == 2
    assert (reload(first).views_count, reload(second).views_count) == (1, 2)


def test_views_on_a_non_visible_ad_are_not_counted(api, buyer_client, seller_client, seller,
                                                   catalog):
    ad = make_ad(owner=seller, category=catalog.phones, status="draft")
    api.get(detail_url(ad.slug))
    buyer_client.get(detail_url(ad.slug))
    seller_client.get(detail_url(ad.slug))

    flush_views()
    assert reload(ad).views_count == 0


# --- is_favorited -----------------------------------------------------------------------------


def test_is_favorited(api, buyer_client, seller_client, seller, catalog):
    liked = make_ad(owner=seller, category=catalog.phones, published_at=ago(hours=1))
    other = make_ad(owner=seller, category=catalog.phones, published_at=ago(hours=2))
    assert buyer_client.post(FAVORITES, {"ad": str(liked.pk)}).status_code == 201

    assert buyer_client.get(detail_url(liked.slug)).json()["is_favorited"] is True
    assert buyer_client.get(detail_url(other.slug)).json()["is_favorited"] is False
    assert [ad["is_favorited"] for ad in buyer_client.get(ADS).json()["results"]] == [True,
                                                                                       False]
    # Only the buyer's own favourites count.
    assert seller_client.get(detail_url(liked.slug)).json()["is_favorited"] is False
    assert api.get(detail_url(liked.slug)).json()["is_favorited"] is False
    assert [ad["is_favorited"] for ad in api.get(ADS).json()["results"]] == [False, False]


# --- blocks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["buyer_blocked_seller", "seller_blocked_buyer"])
def test_blocked_users_do_not_see_each_others_ads(api, buyer_client, seller_client, buyer,
                                                  seller, make_user, catalog, direction):
    theirs = make_ad(owner=seller, category=catalog.phones, published_at=ago(hours=2))
    mine = make_ad(owner=buyer, category=catalog.phones, published_at=ago(hours=3))
    neutral = make_ad(owner=make_user(), category=catalog.phones, published_at=ago(hours=1))
    if direction == "buyer_blocked_seller":
        Block.objects.create(blocker=buyer, blocked=seller)
    else:
        Block.objects.create(blocker=seller, blocked=buyer)

    assert slugs(buyer_client.get(ADS)) == [neutral.slug, mine.slug]
    assert buyer_client.get(detail_url(theirs.slug)).status_code == 404
    assert buyer_client.get(similar_url(theirs.slug)).status_code == 404
    assert [ad["slug"] for ad in buyer_client.get(similar_url(neutral.slug)).json()] == [
        mine.slug]
    assert slugs(seller_client.get(ADS)) == [neutral.slug, theirs.slug]
    assert seller_client.get(detail_url(mine.slug)).status_code == 404
    # Anyone else still sees all three.
    assert slugs(api.get(ADS)) == [neutral.slug, theirs.slug, mine.slug]
    assert api.get(detail_url(theirs.slug)).status_code == 200


# --- my ads -----------------------------------------------------------------------------------


def test_my_ads_lists_every_status_newest_first(seller_client, seller, buyer, catalog):
    statuses = ["active", *NON_ACTIVE]
    mine = {status: make_ad(owner=seller, category=catalog.phones, status=status)
            for status in statuses}
    make_ad(owner=seller, category=catalog.phones, deleted=True)
    make_ad(owner=buyer, category=catalog.phones)

    response = seller_client.get(MY_ADS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 7
    assert [ad["status"] for ad in body["results"]] == list(reversed(statuses))
    assert [ad["slug"] for ad in body["results"]] == [mine[s].slug for s in reversed(statuses)]
    assert all(set(ad) == AD_KEYS for ad in body["results"])


@pytest.mark.parametrize("status", ["active", *NON_ACTIVE])
def test_my_ads_status_filter(seller_client, seller, catalog, status):
    wanted = make_ad(owner=seller, category=catalog.phones, status=status)
    for other in ["active", *NON_ACTIVE]:
        if other != status:
            make_ad(owner=seller, category=catalog.phones, status=other)

    assert slugs(seller_client.get(MY_ADS, {"status": status})) == [wanted.slug]


@pytest.mark.parametrize("status", ["banana", "ACTIVE", "deleted"])
def test_my_ads_bad_status_is_400(seller_client, seller, catalog, status):
    make_ad(owner=seller, category=catalog.phones)

    response = seller_client.get(MY_ADS, {"status": status})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "status")]


def test_my_ads_needs_a_user(api):
    assert api.get(MY_ADS).status_code == 401


# --- routes -----------------------------------------------------------------------------------


def test_paths_without_the_trailing_slash_are_404(api, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)

    for path in ("/api/ads", f"/api/ads/{ad.slug}", "/api/ads/my-ads"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "Location" not in response.headers


def test_methods_a_path_lacks_are_405(buyer_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)

    assert buyer_client.delete(ADS).status_code == 405
    assert buyer_client.post(detail_url(ad.slug), {}).status_code == 405
    assert buyer_client.post(MY_ADS, {}).status_code == 405
    assert buyer_client.put(similar_url(ad.slug), {}).status_code == 405


# --- similar ----------------------------------------------------------------------------------


def test_similar_ads(api, seller, buyer, catalog):
    ad = make_ad(owner=seller, category=catalog.phones, price=20000)
    same = [make_ad(owner=buyer, category=catalog.phones, price=20000 + 1000 * n)
            for n in range(1, 4)]
    siblings = [make_ad(owner=buyer, category=catalog.laptops, price=30000 + n)
                for n in range(11)]
    make_ad(owner=buyer, category=catalog.phones, status="draft")
    make_ad(owner=buyer, category=catalog.phones, status="sold")
    make_ad(owner=buyer, category=catalog.phones, deleted=True)

    response = api.get(similar_url(ad.slug))

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 12
    assert all(set(item) == AD_KEYS for item in body)
    returned = [item["slug"] for item in body]
    assert ad.slug not in returned
    assert returned[:3] == [other.slug for other in same]  # same category first (closest price)
    assert set(returned[3:]) <= {other.slug for other in siblings}
    assert all(item["status"] == "active" for item in body)


def test_similar_with_nothing_alike_is_an_empty_list(api, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    make_ad(owner=seller, category=catalog.cars, attributes={"make": "Subaru"})

    assert api.get(similar_url(ad.slug)).json() == []


def test_similar_of_unknown_or_non_visible_ad_is_404(api, buyer_client, seller, catalog):
    draft = make_ad(owner=seller, category=catalog.phones, status="draft")

    assert api.get(similar_url("nothing-here-abc123")).status_code == 404
    assert api.get(similar_url(draft.slug)).status_code == 404
    assert buyer_client.get(similar_url(draft.slug)).status_code == 404


# --- query budget -----------------------------------------------------------------------------


@pytest.fixture
def crowded(make_user, catalog, places):
    """21 active ads from three sellers with locations, two photos each, in two categories;
    the buyer has favourited all of them; seller one owns 21 ads in every status."""
    sellers = [make_user(location=place) for place in (places.westlands, places.nyali, None)]
    buyer = make_user()
    ads = []
    for n in range(21):
        ad = make_ad(owner=sellers[n % 3], category=(catalog.phones, catalog.laptops)[n % 2],
                     location=places.kilimani if n % 2 else None, images=2)
        ads.append(ad)
    for n in range(21):
        make_ad(owner=sellers[0], category=catalog.laptops, status=NON_ACTIVE[n % 6], images=1)
    from apps.ads.services import add_favorite

    for ad in ads:
        add_favorite(user=buyer, ad=ad)
    Block.objects.create(blocker=buyer, blocked=make_user())
    return {"sellers": sellers, "buyer": buyer, "ads": ads}


# Observed once and pinned; a page costs the same whatever its size. The category and location
# trees (filters; category/location briefs) come from the cache, warmed by a first request.
# Signed in: + the user (token), the blocks either way, the caller's favourites among the page.
LIST_QUERIES = {"anonymous": 2, "signed_in": 5}  # count, ads (joined, photos a column)
DETAIL_QUERIES = {"anonymous": 1, "signed_in": 4, "owner": 3}  # ad (joined, photos a column)
MY_ADS_QUERIES = 4  # user, count, ads (photos a column), favourites
FAVORITES_QUERIES = 6  # user, blocks, count, favourites with their ads, images, favourited


@pytest.mark.parametrize("who", ["anonymous", "signed_in"])
def test_list_query_count_does_not_grow_with_the_page(api, client_for, crowded, who,
                                                      django_assert_num_queries):
    client = api if who == "anonymous" else client_for(crowded["buyer"])
    client.get(ADS)  # warms the category tree cache
    for params in ({"page_size": 1}, {"page_size": 20}, {"page_size": 20, "category":
                                                         "electronics"}):
        with django_assert_num_queries(LIST_QUERIES[who]):
            response = client.get(ADS, params)
        assert len(response.json()["results"]) == params["page_size"]


def test_my_ads_query_count_does_not_grow_with_the_page(client_for, crowded,
                                                        django_assert_num_queries):
    client = client_for(crowded["sellers"][0])
    client.get(ADS)  # warms the category and location tree caches
    for size in (1, 20):
        with django_assert_num_queries(MY_ADS_QUERIES):
            response = client.get(MY_ADS, {"page_size": size})
        assert len(response.json()["results"]) == size


def test_favorites_query_count_does_not_grow_with_the_page(client_for, crowded,
                                                           django_assert_num_queries):
    client = client_for(crowded["buyer"])
    client.get(ADS)  # warms the category and location tree caches
    for size in (1, 20):
        with django_assert_num_queries(FAVORITES_QUERIES):
            response = client.get(FAVORITES, {"page_size": size})
        results = response.json()["results"]
        assert len(results) == size
        assert all(len(favorite["ad"]["images"]) == 2 for favorite in results)


@pytest.mark.parametrize("who", ["anonymous", "signed_in", "owner"])
def test_detail_query_count(api, client_for, crowded, who, django_assert_num_queries):
    ad = crowded["ads"][0]
    client = {"anonymous": api, "signed_in": client_for(crowded["buyer"]),
              "owner": client_for(crowded["sellers"][0])}[who]
    client.get(ADS)  # warms the category and location tree caches
    with django_assert_num_queries(DETAIL_QUERIES[who]):
        response = client.get(detail_url(ad.slug))
    assert len(response.json()["images"]) == 2


def test_timestamps_are_utc(api, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones,
                 published_at=datetime(2025, 1, 31, 9, 15, tzinfo=UTC))

    body = api.get(detail_url(ad.slug)).json()

    assert body["published_at"] == "2025-01-31T09:15:00Z"
    assert AdStatus(body["status"]) == AdStatus.ACTIVE


@pytest.mark.parametrize("cursor", ["garbage", "%00", "eyJ4IjoxfQ", "a" * 5000])
def test_a_bad_cursor_answers_404_like_a_bad_page(api, cursor):
    """API.md §1: a page that is not a number or past the end → 404; a cursor that does not
    decode is treated the same (never a 500)."""
    response = api.get("/api/ads/", {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
