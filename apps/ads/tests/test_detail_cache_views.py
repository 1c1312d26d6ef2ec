"""The cached anonymous ad detail stays cached while its views count moves: the view counter's
flush publishes each counted ad's total, a hit patches it into the cached body (new ETag, gzip
copy to match) with no SQL, and counts its view in the lookup's single Redis round trip, only
for a fresh entry. Everything else an ad shows still retires the entry at once."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest
from django.test import TestCase

from apps.ads import views_counter
from apps.ads.api.views import AdDetailView
from apps.ads.models import Ad
from apps.ads.tests.factories import ADS, detail_url, flush_views, make_ad
from apps.ads.tests.test_read_cache_fast_path import RoundTrips
from apps.common import cache
from apps.common.redis import get_redis
from apps.moderation import services as moderation_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def ad(seller, catalog):
    # A description long enough for the body to be stored gzip-compressed too (over 1 KB).
    return make_ad(
        owner=seller,
        category=catalog.phones,
        title="Oppo A78 with box",
        description="Bought in March, always in a case, battery health 96%. " * 30,
        price=Decimal("21000"),
    )


def warm(api, ad) -> str:
    """Cached: the first read teaches the process the ad's id, the second stores the body (the
    same viewer: one view)."""
    url = detail_url(ad.slug)
    for _ in range(2):
        assert api.get(url, REMOTE_ADDR="10.0.0.1").status_code == 200
    return url


def views_in_db(ad) -> int:
    return Ad.objects.values_list("views_count", flat=True).get(pk=ad.pk)


def test_a_flush_shows_in_the_cached_detail_with_no_query_and_a_new_etag(
    api, ad, monkeypatch, django_assert_num_queries
):
    url = warm(api, ad)
    with django_assert_num_queries(0):
        cached = api.get(url, REMOTE_ADDR="10.0.0.2")  # a hit: a second viewer
    assert cached.json()["views_count"] == 0
    assert flush_views() == 1

    with django_assert_num_queries(0):
        patched = api.get(url, REMOTE_ADDR="10.0.0.3")

    assert patched.status_code == 200
    assert patched.json()["views_count"] == views_in_db(ad) == 2
    assert patched["ETag"] != cached["ETag"]
    assert {k: v for k, v in patched.json().items() if k != "views_count"} == {
        k: v for k, v in cached.json().items() if k != "views_count"
    }
    assert api.get(url, HTTP_IF_NONE_MATCH=cached["ETag"]).status_code == 200
    assert api.get(url, HTTP_IF_NONE_MATCH=patched["ETag"]).status_code == 304
    # The patched entry was stored back: the next hit is one round trip, the same body.
    trips = RoundTrips(monkeypatch)
    again = api.get(url, REMOTE_ADDR="10.0.0.4")
    assert trips.count == 1
    monkeypatch.undo()
    assert again.content == patched.content and again["ETag"] == patched["ETag"]
    # The listing pages (2 s entries) are retired by the flush as before.
    assert api.get(ADS).json()["results"][0]["views_count"] == 2


def test_the_patched_body_is_what_the_view_renders(api, ad, buyer_client):
    url = warm(api, ad)
    flush_views()
    patched = api.get(url, REMOTE_ADDR="10.0.0.1")
    rendered = buyer_client.get(url).json()  # from the database (signed in)

    assert patched.json() == {**rendered, "is_favorited": False}


@pytest.mark.parametrize("first", ["gzip", "identity"])
def test_gzip_and_identity_bodies_agree_after_a_patch(api, ad, first):
    url = warm(api, ad)
    flush_views()
    encodings = {"gzip": "gzip, deflate", "identity": "identity"}
    order = [first, *(name for name in encodings if name != first)]
    served = {name: api.get(url, HTTP_ACCEPT_ENCODING=encodings[name]) for name in order}

    zipped, plain = served["gzip"], served["identity"]
    assert zipped["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain
    assert gzip.decompress(zipped.content) == plain.content
    assert plain.json()["views_count"] == 1
    assert zipped["ETag"] == "W/" + plain["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=zipped["ETag"]).status_code == 304


def test_a_count_older_than_the_rendered_one_is_not_served(api, ad):
    """A render that read the row after a flush committed but before it published its totals
    carries a larger count than the one published: served as rendered, never lowered."""
    url = warm(api, ad)
    for n in range(3):
        views_counter.record_view(ad_id=ad.pk, viewer=f"ip:10.5.5.{n}")
    flush_views()
    cache.bump([cache.ad_namespace(ad.pk)])  # rebuilt with the flushed count (4)
    assert api.get(url).json()["views_count"] == 4
    get_redis().set(views_counter.total_key(ad.pk), 2)  # an older flush's total

    assert api.get(url).json()["views_count"] == 4


def _edit(seller_client, ad):
    response = seller_client.patch(detail_url(ad.slug), {"title": "Oppo A78 price down"})
    assert response.status_code == 200, response.content


def _sell(seller_client, ad):
    response = seller_client.patch(detail_url(ad.slug), {"status": "sold"})
    assert response.status_code == 200, response.content


def _hide(seller_client, ad, staff):
    with TestCase.captureOnCommitCallbacks(execute=True):
        moderation_services.hide_ad(ad_id=ad.pk, staff=staff)


@pytest.mark.parametrize(
    ("write", "expected"),
    [("edit", (200, "Oppo A78 price down")), ("sell", (404, None)), ("hide", (404, None))],
)
def test_other_changes_still_show_at_once(api, ad, seller_client, staff, write, expected):
    url = warm(api, ad)
    flush_views()
    assert api.get(url).json()["views_count"] == 1  # patched and stored back

    if write == "edit":
        _edit(seller_client, ad)
    elif write == "sell":
        _sell(seller_client, ad)
    else:
        _hide(seller_client, ad, staff)

    response = api.get(url)
    assert response.status_code == expected[0]
    if expected[1] is not None:
        assert response.json()["title"] == expected[1]
        assert response.json()["views_count"] == 1


def test_a_view_of_a_hidden_ads_stale_entry_is_not_counted(api, ad, staff):
    url = warm(api, ad)
    flush_views()
    assert views_in_db(ad) == 1
    _hide(None, ad, staff)

    assert api.get(url, REMOTE_ADDR="10.6.6.6").status_code == 404
    assert flush_views() == 0
    assert views_in_db(ad) == 1


def test_a_hit_counts_one_view_per_viewer_per_day(api, ad, django_assert_num_queries):
    url = warm(api, ad)  # 10.0.0.1 counted by the miss
    with django_assert_num_queries(0):
        for address in ["10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.3", "10.0.0.1"]:
            assert api.get(url, REMOTE_ADDR=address).status_code == 200

    assert flush_views() == 1
    assert views_in_db(ad) == 3
    assert flush_views() == 0


def test_a_throttled_anonymous_client_gets_429_not_the_cached_body(api, ad, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "4/m"}
    url = warm(api, ad)  # two of the four
    codes = [api.get(url, REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    refused = api.get(url, REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1
    assert api.get(url, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_detail_entries_live_300_s_within_the_generation_and_totals_ttls(api, ad):
    url = warm(api, ad)
    keys = get_redis().keys(":".join([cache.cache_key("rc", "ad"), "*"]))

    assert len(keys) == 1
    assert 290 < get_redis().ttl(keys[0]) <= AdDetailView.read_cache_timeout == 300
    assert AdDetailView.read_cache_timeout < cache.PER_AD_GENERATION_KEEP
    assert cache.PER_AD_GENERATION_KEEP < cache.PER_AD_GENERATION_TTL
    assert AdDetailView.read_cache_timeout < views_counter.TOTAL_TTL
    assert api.get(url).status_code == 200


def test_a_lookup_keeps_the_ads_generation_key_alive(api, ad):
    url = warm(api, ad)
    cache.bump([cache.ad_namespace(ad.pk)])
    key = cache._gen_key(cache.ad_namespace(ad.pk))
    get_redis().expire(key, 60)  # as if bumped 59 minutes ago

    assert api.get(url).status_code == 200
    assert get_redis().ttl(key) > cache.PER_AD_GENERATION_KEEP
    assert get_redis().ttl(cache._gen_key(cache.ADS)) == -1  # shared generations never expire


def test_a_flush_that_rolls_back_publishes_no_total(api, ad):
    """Totals go out after the flush's commit: a rolled-back flush shows no phantom views."""
    from django.db import transaction

    url = warm(api, ad)
    api.get(url, REMOTE_ADDR="10.6.6.6")

    def flush_then_fail() -> None:
        with transaction.atomic():
            views_counter.flush_view_counts()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        flush_then_fail()

    assert get_redis().get(views_counter.total_key(ad.pk)) is None
    assert api.get(url).json()["views_count"] == 0
