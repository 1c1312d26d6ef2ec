"""A request's throttles take their steps in one Redis round trip (throttles.GCRA_MANY_SCRIPT),
with what separate calls answered: each limit still refuses on its own, with the contract's
429 body and a Retry-After, and every bucket still takes one step per request."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.common import redis as common_redis
from apps.common.redis import cache_key, get_redis
from apps.common.throttles import consume_many

pytestmark = pytest.mark.django_db

REGISTER = "/api/users/register/"
HIGH = "1000/h"


class ThrottleTrips:
    """The Redis commands that take throttle steps (EVAL/EVALSHA on throttle keys)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        client = common_redis.get_redis()
        original = client.execute_command

        def execute_command(*args: Any, **kwargs: Any) -> Any:
            if str(args[0]).upper() in {"EVAL", "EVALSHA"}:
                keys = [str(key) for key in args[3 : 3 + int(args[2])]]
                if any(":throttle:" in key for key in keys):
                    self.calls.append(keys)
            return original(*args, **kwargs)

        monkeypatch.setattr(client, "execute_command", execute_command)


@pytest.fixture
def poster(client_for: Any, make_user: Any) -> Any:
    return client_for(make_user())


@pytest.fixture
def ad_body(db: Any) -> dict[str, Any]:
    from apps.ads.tests.factories import make_location
    from apps.categories.tests.factories import make_category

    phones = make_category("Phones", make_category("Electronics"))
    return {
        "title": "Tecno Spark 10 as new",
        "category": phones.pk,
        "location": make_location("Nairobi").pk,
        "price": "9500",
    }


def assert_throttled(response: Any) -> int:
    assert response.status_code == 429, response.content
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "throttled",
                "detail": response.json()["errors"][0]["detail"],
                "attr": None,
            }
        ],
    }
    retry_after = response["Retry-After"]
    assert retry_after.isdigit() and int(retry_after) >= 1, retry_after
    return int(retry_after)


def test_a_post_takes_all_its_steps_in_one_round_trip(
    poster: Any, ad_body: dict[str, Any], throttle_rates: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle_rates(anon=HIGH, user=HIGH, ad_posting=HIGH)
    trips = ThrottleTrips(monkeypatch)

    assert poster.post("/api/ads/", ad_body).status_code == 201

    assert len(trips.calls) == 1, trips.calls
    scopes = sorted(key.split(":throttle:")[1].split(":")[0] for key in trips.calls[0])
    assert scopes == ["ad_posting", "user"]  # a signed-in caller: the anonymous scope lets by


@pytest.mark.parametrize("exhausted", ["user", "ad_posting"])
def test_any_one_exhausted_limit_refuses_the_post(
    poster: Any, ad_body: dict[str, Any], throttle_rates: Any, exhausted: str
) -> None:
    from apps.ads.models import Ad

    throttle_rates(**{"anon": HIGH, "user": HIGH, "ad_posting": HIGH, exhausted: "1/h"})
    assert poster.post("/api/ads/", ad_body).status_code == 201

    response = poster.post("/api/ads/", {**ad_body, "title": "Tecno Spark 10 second"})

    assert 3000 < assert_throttled(response) <= 3600
    assert Ad.objects.count() == 1


def test_the_longest_wait_is_announced_when_two_limits_refuse(
    poster: Any, ad_body: dict[str, Any], throttle_rates: Any
) -> None:
    throttle_rates(user="1/m", ad_posting="1/h")
    assert poster.post("/api/ads/", ad_body).status_code == 201

    assert assert_throttled(poster.post("/api/ads/", ad_body)) > 3000


def test_every_bucket_takes_its_step_even_when_another_refuses(
    poster: Any, ad_body: dict[str, Any], throttle_rates: Any
) -> None:
    # As when DRF asked each throttle in its own call: a request refused by one limit still
    # counts against the others.
    throttle_rates(user="1/h", ad_posting="3/h")
    assert poster.post("/api/ads/", ad_body).status_code == 201
    assert_throttled(poster.post("/api/ads/", ad_body))  # user refuses; ad_posting: 2nd step
    assert_throttled(poster.post("/api/ads/", ad_body))  # ad_posting: 3rd step

    throttle_rates(user=None)
    response = poster.post("/api/ads/", ad_body)

    assert 1000 < assert_throttled(response) <= 1200  # ad_posting's 4th step: 1/3 h away


@pytest.mark.parametrize("exhausted", ["anon", "register"])
def test_anonymous_scopes_refuse_on_their_own(
    throttle_rates: Any, exhausted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle_rates(**{"anon": HIGH, "register": HIGH, exhausted: "1/h"})
    api = APIClient()
    trips = ThrottleTrips(monkeypatch)

    assert api.post(REGISTER, {}, format="json").status_code == 400  # allowed: the body is bad

    assert len(trips.calls) == 1 and len(trips.calls[0]) == 2  # anon and register, one trip
    assert_throttled(api.post(REGISTER, {}, format="json"))
    assert api.post(REGISTER, {}, format="json", REMOTE_ADDR="10.9.9.9").status_code == 400


def test_consume_many_keeps_the_order_and_counts_a_repeated_key_twice() -> None:
    key = cache_key("throttle", "test", "1.2.3.4")
    other = cache_key("throttle", "test", "5.6.7.8")
    bucket = (key, 30_000.0, 60_000.0)  # 2/m

    waits = consume_many([bucket, (other, 30_000.0, 60_000.0), bucket, bucket])

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 25 < waits[3] <= 30
    assert get_redis().exists(key, other) == 2
