"""The Redis GCRA throttle (apps/common/throttles.py) on the real test Redis."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from apps.common import throttles
from apps.common.redis import cache_key, get_redis
from apps.common.throttles import consume, parse_rate


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("20/h", (20, 3600)),
        ("1/m", (1, 60)),
        ("5/s", (5, 1)),
        ("1000/d", (1000, 86400)),
        ("100000/hour", (100000, 3600)),
        ("3/min", (3, 60)),
        ("7/ H", (7, 3600)),
    ],
)
def test_parse_rate(rate: str, expected: tuple[int, int]) -> None:
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", [None, "", "off", "OFF", "none"])
def test_parse_rate_off(rate: str | None) -> None:
    assert parse_rate(rate) is None


def test_allows_n_then_refuses_with_wait_close_to_period_over_n() -> None:
    for _ in range(5):
        assert consume("test", "client-a", "5/m") == 0

    wait = consume("test", "client-a", "5/m")

    # One request every 60/5 = 12 s after the burst; a few ms may have passed since.
    assert 11.5 < wait <= 12.0


def test_refusal_does_not_consume_and_wait_is_stable() -> None:
    for _ in range(3):
        assert consume("test", "client-b", "3/h") == 0

    first = consume("test", "client-b", "3/h")
    second = consume("test", "client-b", "3/h")

    assert 1190 < first <= 1200
    assert 1190 < second <= first  # refused requests do not push the wait further out


def test_clients_and_scopes_are_counted_apart() -> None:
    assert consume("login", "1.1.1.1", "1/m") == 0
    assert consume("login", "1.1.1.1", "1/m") > 0

    assert consume("login", "2.2.2.2", "1/m") == 0
    assert consume("register", "1.1.1.1", "1/m") == 0


@pytest.mark.parametrize("rate", [None, ""])
def test_off_rate_always_allows(rate: str | None) -> None:
    for _ in range(50):
        assert consume("test", "client-c", rate) == 0
    assert get_redis().keys(cache_key("throttle", "test", "*")) == []


def test_key_has_a_bounded_lifetime() -> None:
    consume("test", "client-d", "10/m")

    ttl_ms = get_redis().pttl(cache_key("throttle", "test", "client-d"))

    assert 0 < ttl_ms <= 6000  # one interval (60/10 s) ahead of now


def test_cost_is_constant_one_small_value_whatever_the_limit() -> None:
    redis = get_redis()
    key = cache_key("throttle", "anon", "10.0.0.1")

    consume("anon", "10.0.0.1", "100000/h")
    size_after_one = redis.strlen(key)
    for _ in range(999):
        assert consume("anon", "10.0.0.1", "100000/h") == 0

    assert redis.type(key) == b"string"
    assert redis.strlen(key) <= max(size_after_one, 20)
    memory = redis.memory_usage(key)
    assert memory is not None and memory < 200
    assert redis.keys(cache_key("throttle", "*")) == [key.encode()]


def test_api_answers_429_with_integer_retry_after(api: APIClient, throttle_rates: Any,
                                                  db: Any) -> None:
    throttle_rates(anon="2/m")
    assert api.get("/api/locations/").status_code == 200
    assert api.get("/api/locations/").status_code == 200

    response = api.get("/api/locations/")

    assert response.status_code == 429
    retry_after = response["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 30
    assert response.json()["errors"][0]["code"] == "throttled"


def test_retry_after_is_at_least_one_even_when_wait_is_tiny(api: APIClient,
                                                            throttle_rates: Any,
                                                            db: Any) -> None:
    throttle_rates(anon="5/s")  # a refusal waits ~200 ms: still announced as 1 s
    statuses = [api.get("/api/locations/") for _ in range(12)]

    refused = [r for r in statuses if r.status_code == 429]
    assert refused
    assert all(int(r["Retry-After"]) == 1 for r in refused)


def test_signed_in_users_use_the_user_scope(auth_client: APIClient, throttle_rates: Any) -> None:
    throttle_rates(anon="1/m", user="2/m")

    codes = [auth_client.get("/api/users/profile/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_off_scope_from_settings_disables_the_throttle(api: APIClient, throttle_rates: Any,
                                                       db: Any) -> None:
    throttle_rates(anon=None)

    codes = {api.get("/api/locations/").status_code for _ in range(20)}

    assert codes == {200}


class _UnreachableRedis:
    def eval(self, *args: Any, **kwargs: Any) -> Any:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    evalsha = eval


def test_fails_open_when_redis_raises(monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(throttles, "get_redis", lambda: _UnreachableRedis())

    with caplog.at_level(logging.WARNING, logger="apps.common.throttles"):
        waits = [consume("login", "1.1.1.1", "1/h") for _ in range(3)]

    assert waits == [0.0, 0.0, 0.0]
    assert "Redis unavailable" in caplog.text


def test_fails_open_on_a_real_unreachable_redis(settings: Any, closed_port: int,
                                                api: APIClient, make_user: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    someone = make_user()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "1/h"}
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }

    with caplog.at_level(logging.WARNING, logger="apps.common.throttles"):
        assert consume("anon", "1.1.1.1", "1/h") == 0
        assert consume("anon", "1.1.1.1", "1/h") == 0
    assert "Redis unavailable" in caplog.text
    # A public profile reads PostgreSQL only, so Redis is needed for nothing but the throttle.
    codes = [api.get(f"/api/users/{someone.pk}/").status_code for _ in range(3)]

    assert codes == [200, 200, 200]
