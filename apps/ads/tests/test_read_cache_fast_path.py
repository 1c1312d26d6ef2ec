"""The anonymous fast path of the read cache (apps.common.read_cache_views): a hit answered
before DRF is the same answer the view gives, costs one Redis round trip and no SQL, and keeps
the anonymous throttle exact."""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import Any

import pytest

from apps.ads.models import Ad, AdStatus
from apps.ads.tests.factories import ADS, detail_url, flush_views, make_ad
from apps.common import cache
from apps.common import redis as common_redis

pytestmark = pytest.mark.django_db

ANSWER_HEADERS = ("Content-Type", "ETag", "Cache-Control", "Vary", "Allow")


@pytest.fixture
def ad(seller, catalog):
    return make_ad(
        owner=seller, category=catalog.phones, title="Tecno Spark 20 boxed", price=Decimal("14000")
    )


class RoundTrips:
    """Counts what reaches Redis through the project's client: commands and pipelines."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        client = common_redis.get_redis()
        original_execute = client.execute_command
        original_pipeline = client.pipeline

        def execute_command(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original_execute(*args, **kwargs)

        def pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = original_pipeline(*args, **kwargs)
            original = pipe.execute

            def execute(*a: Any, **k: Any) -> Any:
                self.count += 1
                return original(*a, **k)

            pipe.execute = execute  # type: ignore[method-assign]
            return pipe

        monkeypatch.setattr(client, "execute_command", execute_command)
        monkeypatch.setattr(client, "pipeline", pipeline)


@pytest.mark.parametrize("path", ["listing", "detail", "/api/categories/", "/api/locations/"])
def test_a_hit_answers_what_the_view_answered(api, ad, path):
    url = {"listing": ADS, "detail": detail_url(ad.slug)}.get(path, path)
    built = api.get(url)
    served = api.get(url)

    assert built.status_code == served.status_code == 200
    assert served.content == built.content
    for header in ANSWER_HEADERS:
        assert served.headers.get(header) == built.headers.get(header), header
    assert "GET" in served["Allow"]
    assert api.get(url, HTTP_IF_NONE_MATCH=built["ETag"]).status_code == 304


def test_a_listing_hit_is_one_redis_round_trip_and_no_sql(
    api, ad, monkeypatch, django_assert_num_queries
):
    assert api.get(ADS).status_code == 200
    trips = RoundTrips(monkeypatch)

    with django_assert_num_queries(0):
        response = api.get(ADS)

    assert response.status_code == 200
    assert trips.count == 1


def test_a_detail_hit_counts_the_view_in_the_same_round_trip(
    api, ad, monkeypatch, django_assert_num_queries
):

    for _ in range(2):  # the first read learns the ad's id, the second stores the body
        assert api.get(detail_url(ad.slug), REMOTE_ADDR="10.1.1.1").status_code == 200
    trips = RoundTrips(monkeypatch)
    with django_assert_num_queries(0):
        assert api.get(detail_url(ad.slug), REMOTE_ADDR="10.1.1.2").status_code == 200
    assert trips.count == 1  # throttle step, generations, entry, views total and the view
    monkeypatch.undo()

    flush_views()
    ad.refresh_from_db()
    assert ad.views_count == 2  # one per viewer: the miss's and the hit's


def test_the_anonymous_throttle_counts_hits_and_misses_once_each(api, ad, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "3/m"}
    codes = [api.get(ADS, REMOTE_ADDR="10.2.2.2").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]  # a miss, two hits, then refused
    refused = api.get(ADS, REMOTE_ADDR="10.2.2.2")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert api.get(ADS, REMOTE_ADDR="10.2.2.3").status_code == 200  # others are not refused


def test_signed_in_and_non_json_requests_skip_the_fast_path(api, ad, buyer_client):
    assert api.get(ADS).status_code == 200  # cached for anonymous callers

    signed_in = buyer_client.get(ADS)
    assert signed_in["Cache-Control"] == "private, no-cache"
    assert "is_favorited" in signed_in.json()["results"][0]
    html = api.get(ADS, HTTP_ACCEPT="text/html")
    assert html.status_code == 406  # what DRF answers without the cache


def test_a_bad_bearer_token_is_refused_not_served_from_the_cache(api, ad):
    assert api.get(ADS).status_code == 200
    assert api.get(ADS, HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


def test_posting_a_pending_ad_leaves_cached_pages_alone_publishing_one_does_not(
    api, ad, seller, catalog
):
    def generation() -> int:
        return int(cache.generations(cache.ADS) or 0)

    before = generation()
    pending = Ad.objects.create(
        owner=seller,
        category=catalog.phones,
        title="Itel A70 new",
        description="Boxed, one year warranty.",
        price=Decimal("9000"),
        status=AdStatus.PENDING,
        slug="itel-a70-new-pending",
    )
    assert generation() == before  # an INSERT of a pending ad shows nowhere
    listing = cache.generations(cache.ADS_LIST)
    Ad.objects.filter(pk=pending.pk).update(status=AdStatus.ACTIVE)
    assert cache.generations(cache.ADS_LIST) != listing  # one ad written: the listing pages
    assert pending.slug in [row["slug"] for row in api.get(ADS).json()["results"]]


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_without_redis_the_listing_is_served_from_the_database(api, ad, settings, closed_port):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }
    responses = [api.get(ADS) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]
    assert [row["slug"] for row in responses[1].json()["results"]] == [ad.slug]


def test_an_edit_of_one_ad_leaves_the_other_ads_cached_details_alone(
    api, ad, seller, catalog, django_assert_num_queries
):
    other = make_ad(
        owner=seller, category=catalog.phones, title="Nokia G21 as new", price=Decimal("11000")
    )
    for slug in (ad.slug, other.slug):
        for _ in range(2):
            assert api.get(detail_url(slug)).status_code == 200

    Ad.objects.filter(pk=ad.pk).update(title="Tecno Spark 20 boxed, price down")

    with django_assert_num_queries(0):
        assert api.get(detail_url(other.slug)).json()["title"] == "Nokia G21 as new"
    assert api.get(detail_url(ad.slug)).json()["title"] == "Tecno Spark 20 boxed, price down"
    titles = [row["title"] for row in api.get(ADS).json()["results"]]
    assert "Tecno Spark 20 boxed, price down" in titles  # the listing pages were retired


def test_the_view_flush_shows_new_counts_on_the_counted_ad_only(
    api, ad, seller, catalog, django_assert_num_queries
):
    from apps.ads import views_counter

    other = make_ad(
        owner=seller, category=catalog.phones, title="Nokia G21 as new", price=Decimal("11000")
    )
    for slug in (ad.slug, other.slug):
        for _ in range(2):
            assert api.get(detail_url(slug), REMOTE_ADDR="10.3.3.3").status_code == 200
    flush_views()  # one view each so far
    for slug in (ad.slug, other.slug):
        assert api.get(detail_url(slug), REMOTE_ADDR="10.3.3.3").json()["views_count"] == 1

    views_counter.record_view(ad_id=ad.pk, viewer="ip:10.4.4.4")
    flush_views()

    assert api.get(detail_url(ad.slug)).json()["views_count"] == 2
    with django_assert_num_queries(0):
        assert api.get(detail_url(other.slug)).json()["views_count"] == 1


def test_a_hit_goes_out_gzipped_to_clients_that_take_it(api, ad, seller, catalog):
    import gzip

    for n in range(3):  # a page well over nginx's gzip_min_length (1 KB)
        make_ad(owner=seller, category=catalog.phones, title=f"Infinix Hot {n} sealed")
    plain = api.get(ADS)
    assert len(plain.content) > 2048
    zipped = api.get(ADS, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert zipped.status_code == 200
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] == "W/" + plain["ETag"]
    assert "Accept-Encoding" in zipped["Vary"] and "Accept-Encoding" in plain["Vary"]
    for etag in (plain["ETag"], zipped["ETag"]):
        assert api.get(ADS, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag).status_code == 304
    refused = api.get(ADS, HTTP_ACCEPT_ENCODING="gzip;q=0, identity")
    assert "Content-Encoding" not in refused
    assert refused.content == plain.content


def test_small_bodies_are_not_compressed(api, catalog):
    url = f"{ADS}?category={catalog.cars.slug}"  # no ads there: a short page
    assert api.get(url).status_code == 200
    served = api.get(url, HTTP_ACCEPT_ENCODING="gzip")

    assert served.status_code == 200
    assert "Content-Encoding" not in served
    assert served.json()["results"] == []


@pytest.mark.parametrize(
    "stored",
    [b'"etag"\n\n{"results": []}', b'"etag"\n\nnot-a-length\n{}', b'"etag"\n\n999999\n{}'],
    ids=["older-format", "damaged-length", "truncated"],
)
def test_an_entry_in_another_format_is_a_miss_not_a_500(api, ad, stored):
    from django.test import RequestFactory

    from apps.ads.api.views import AdListCreateView

    found = cache.lookup(
        RequestFactory().get(ADS),
        kind=AdListCreateView.read_cache_kind,
        namespaces=AdListCreateView.read_cache_namespaces,
    )
    assert found is not None
    common_redis.get_redis().set(found.key, found.generation.encode() + b"\n" + stored)

    response = api.get(ADS)

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == [ad.slug]
    assert api.get(ADS).content == response.content  # stored over in the current format
