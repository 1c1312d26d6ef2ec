"""Coalesced misses (apps.common.read_cache_views): while one request builds a missing entry,
the others asking for it wait for that body instead of building the same page again; a build
that fails or never comes costs its waiters a bounded wait, never a wrong answer."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from apps.ads.api.views import AdListCreateView
from apps.ads.tests.factories import ADS, detail_url, make_ad
from apps.common import cache, read_cache_views

pytestmark = pytest.mark.django_db


@pytest.fixture
def ad(seller, catalog):
    return make_ad(
        owner=seller, category=catalog.phones, title="Infinix Hot 40 sealed", price=Decimal("19000")
    )


def claim_as_another_request(url: str) -> cache.Lookup:
    """Look the listing page up the way the fast path does and claim its build."""
    from django.test import RequestFactory

    found = cache.lookup(
        RequestFactory().get(url),
        kind=AdListCreateView.read_cache_kind,
        namespaces=AdListCreateView.read_cache_namespaces,
        claim_ms=read_cache_views.BUILD_CLAIM_MS,
    )
    assert found is not None and found.entry is None and found.claimed
    return found


def test_a_miss_waits_for_the_body_another_request_is_building(
    api, ad, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(read_cache_views, "BUILD_WAIT_S", 5.0)
    builder = claim_as_another_request(ADS)
    stored = b'{"built": "by the other request"}'
    timer = threading.Timer(0.1, cache.remember, args=(builder, stored))
    timer.start()

    with django_assert_num_queries(0):
        response = api.get(ADS)
    timer.join()

    assert response.status_code == 200
    assert response.content == stored


def test_a_build_that_never_comes_costs_a_bounded_wait_then_the_page_is_built(api, ad, monkeypatch):
    monkeypatch.setattr(read_cache_views, "BUILD_WAIT_S", 0.3)
    claim_as_another_request(ADS)

    started = time.monotonic()
    response = api.get(ADS)
    waited = time.monotonic() - started

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == [ad.slug]
    assert waited >= 0.3
    assert api.get(ADS).content == response.content  # and it was stored for the next ones


def test_waiters_build_at_once_when_the_builder_answered_an_error(api, ad, monkeypatch):
    monkeypatch.setattr(read_cache_views, "BUILD_WAIT_S", 30.0)
    cache.build_failed(claim_as_another_request(ADS))

    started = time.monotonic()
    response = api.get(ADS)

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == [ad.slug]
    assert time.monotonic() - started < 10  # not the 30 s wait


def test_a_miss_answered_with_an_error_releases_its_waiters(api, ad, monkeypatch):
    url = detail_url(ad.slug)
    assert api.get(url).status_code == 200  # the fast path now knows this slug
    ad.status = "sold"
    ad.save(update_fields=["status"])

    response = api.get(url)

    assert response.status_code == 404
    found = cache.lookup(
        Client().get(url).wsgi_request,
        kind="ad",
        namespaces=(cache.ADS, cache.ad_namespace(ad.pk)),
    )
    assert found is not None
    from apps.common.redis import get_redis

    assert get_redis().get(cache._claim_key(found.key)) == (found.generation + "!").encode()


@pytest.mark.django_db(transaction=True)
def test_concurrent_misses_of_one_page_build_it_once(monkeypatch):
    monkeypatch.setattr(read_cache_views, "BUILD_WAIT_S", 10.0)
    builds = []
    page = AdListCreateView.page

    def counted_page(self: Any, request: Any) -> Any:
        builds.append(1)
        time.sleep(0.2)  # a slow build: the others arrive while it runs
        return page(self, request)

    monkeypatch.setattr(AdListCreateView, "page", counted_page)
    bodies: list[bytes] = []
    statuses: list[int] = []
    start = threading.Barrier(6)

    def fetch() -> None:
        try:
            start.wait()
            response = Client().get(ADS, HTTP_ACCEPT="application/json")
            statuses.append(response.status_code)
            bodies.append(response.content)
        finally:
            connection.close()

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 6
    assert len(set(bodies)) == 1
    assert len(builds) == 1
