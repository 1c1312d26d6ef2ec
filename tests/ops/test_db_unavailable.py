"""PostgreSQL unreachable mid-request: 503 + Retry-After with the contract's error body, for DRF
views (the exception handler) and anything else (the middleware). tests/faults/ has the real
restart; these pin the mapping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from apps.common.middleware import DatabaseUnavailableMiddleware

BODY = {
    "type": "server_error",
    "errors": [
        {
            "code": "service_unavailable",
            "detail": "The service is temporarily unavailable; retry shortly.",
            "attr": None,
        }
    ],
}


@pytest.fixture
def database_down(db: Any) -> Iterator[None]:
    original = connection.cursor

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    connection.cursor = broken  # type: ignore[method-assign]
    yield
    connection.cursor = original  # type: ignore[method-assign]


def test_an_api_read_answers_503_with_retry_after(api: Any, database_down: None) -> None:
    api.raise_request_exception = False  # the outage is reported (log, Sentry) as it should be
    response = api.get("/api/ads/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == BODY


def test_an_api_write_answers_503_with_retry_after(auth_client: Any, database_down: None) -> None:
    auth_client.raise_request_exception = False
    response = auth_client.patch("/api/users/profile/", {"first_name": "Amani"})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == BODY


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_outside_drf_the_middleware_answers_503(error: type[Exception]) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        raise error("connection already closed")

    middleware = DatabaseUnavailableMiddleware(view)
    response = middleware(RequestFactory().get("/admin/"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    import json

    assert json.loads(response.content) == BODY


def test_other_errors_are_not_mistaken_for_an_outage() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        raise ValueError("a bug")

    middleware = DatabaseUnavailableMiddleware(view)
    with pytest.raises(ValueError, match="a bug"):
        middleware(RequestFactory().get("/admin/"))
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None
