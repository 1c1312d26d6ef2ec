"""Redis (cache, throttles, tickets, channel layer) dies and comes back while the API serves.

Users see: every REST read and write answered as usual (without the cache), /readyz/ 503 with
`checks.redis = "unavailable"` (API.md section 10), rate limits not applied while Redis is away
(they fail open, as the README documents), and everything back to normal once Redis returns,
without restarting anything. Nothing is lost: the ads written meanwhile are in PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache

from apps.ads.models import Ad
from apps.ads.tests.factories import make_location
from apps.categories.tests.factories import make_category
from tests.faults.servers import PrivateRedis

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_private_redis(settings: Any, private_redis: PrivateRedis) -> PrivateRedis:
    url = private_redis.url(0)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {"hosts": [{"address": url, "socket_timeout": 2}], "prefix": "fault-asgi"},
        }
    }
    cache.set("probe", "1")
    assert cache.get("probe") == "1"
    return private_redis


def timed(call: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.monotonic()
    response = call(*args, **kwargs)
    response.elapsed_s = time.monotonic() - started
    assert response.elapsed_s < 5, f"{args[0]} took {response.elapsed_s:.1f} s"
    return response


def test_rest_keeps_working_without_redis_and_picks_it_up_again(
    on_private_redis: PrivateRedis, api: Any, auth_client: Any, user: Any, throttle_rates: Any
) -> None:
    redis = on_private_redis
    category = make_category("Fault Phones")
    location = make_location("Fault Town")
    body = {
        "title": "Tecno Spark 10 as new",
        "description": "Boxed, two months old.",
        "category": category.pk,
        "location": location.pk,
        "price": "12500",
        "condition": "used",
    }
    throttle_rates(anon="3/m")

    # Redis up: the tree is cached, the anonymous rate limit applies
    tree = timed(auth_client.get, "/api/categories/")
    assert tree.status_code == 200
    assert [timed(api.get, "/api/locations/").status_code for _ in range(3)] == [200] * 3
    limited = api.get("/api/locations/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    first = timed(auth_client.post, "/api/ads/", body)
    assert first.status_code == 201, first.content
    tree = timed(auth_client.get, "/api/categories/")
    assert tree.json()[0]["ad_count"] == 1  # moderated on commit, live

    redis.kill()

    ready = timed(api.get, "/readyz/")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["redis"] == "unavailable"
    assert ready.json()["checks"]["database"] == "ok"
    assert timed(api.get, "/healthz/").status_code == 200

    # reads, without the cache
    again = timed(auth_client.get, "/api/categories/")
    assert again.status_code == 200 and again.json() == tree.json()
    listing = timed(auth_client.get, "/api/ads/", {"page_size": 100})
    assert listing.status_code == 200
    detail = timed(auth_client.get, f"/api/ads/{first.json()['slug']}/")
    assert detail.status_code == 200 and detail.json()["id"] == first.json()["id"]
    assert timed(auth_client.get, "/api/ads/my-ads/").status_code == 200
    # writes
    second = timed(auth_client.post, "/api/ads/", {**body, "title": "Tecno Spark 20 sealed"})
    assert second.status_code == 201, second.content
    edited = timed(auth_client.patch, f"/api/ads/{second.json()['slug']}/", {"price": "13000"})
    assert edited.status_code == 200 and edited.json()["price"] == "13000.00"
    profile = timed(auth_client.patch, "/api/users/profile/", {"first_name": "Wanjiru"})
    assert profile.status_code == 200 and profile.json()["first_name"] == "Wanjiru"
    # what cannot work without Redis (a WebSocket ticket lives there) says so: 503, retry later
    auth_client.raise_request_exception = False  # an outage is reported (log, Sentry)
    ticket = timed(auth_client.post, "/api/messages/ws-ticket/")
    assert ticket.status_code == 503 and ticket["Retry-After"] == "5"
    assert ticket.json()["errors"][0]["code"] == "service_unavailable"
    # throttles fail open (documented): the anonymous limit is not enforced meanwhile
    assert [timed(api.get, "/api/locations/").status_code for _ in range(5)] == [200] * 5

    redis.start()  # same port, empty: as after a restart without persistence

    ready = timed(api.get, "/readyz/")
    assert ready.status_code == 200, ready.json()
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "broker": "ok"},
    }
    # the rate limit is enforced again, the cache fills again, no restart needed
    codes = [api.get("/api/locations/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert timed(auth_client.get, "/api/categories/").json()[0]["ad_count"] == 2
    assert timed(auth_client.post, "/api/messages/ws-ticket/").status_code == 201
    cache.set("probe", "2")
    assert cache.get("probe") == "2"

    # nothing lost: both ads and the edit are stored
    stored = {ad.title: ad.price for ad in Ad.objects.filter(owner=user)}
    assert set(stored) == {"Tecno Spark 10 as new", "Tecno Spark 20 sealed"}
    assert str(stored["Tecno Spark 20 sealed"]) == "13000.00"
