"""Request-scoped middleware: the request id, and a database outage answered 503.

RequestIdMiddleware: `X-Request-ID` in (a sane caller's id is kept) or a new one, set for the
request's logs, Celery tasks it dispatches and answered in the response header.

DatabaseUnavailableMiddleware: an OperationalError/InterfaceError escaping a non-DRF view (admin,
probes...) becomes the contract's error body with 503 and `Retry-After`; DRF views get the same
from apps/common/exception_handler.py. The client retries; nothing was written (the transaction
failed with the connection)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.common.logging_json import (
    REQUEST_ID_HEADER,
    clean_request_id,
    reset_request_id,
    set_request_id,
)

logger = logging.getLogger(__name__)

DB_RETRY_AFTER = 5  # seconds: a restart or failover usually takes a few
DB_UNAVAILABLE_CODE = "service_unavailable"
DB_UNAVAILABLE_DETAIL = "The service is temporarily unavailable; retry shortly."


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        {
            "type": "server_error",
            "errors": [
                {"code": DB_UNAVAILABLE_CODE, "detail": DB_UNAVAILABLE_DETAIL, "attr": None}
            ],
        },
        status=503,
    )
    response["Retry-After"] = str(DB_RETRY_AFTER)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError):  # raised by a middleware below this one
            logger.warning(
                "database unavailable: %s %s answered 503",
                request.method,
                request.path,
                exc_info=True,
            )
            return database_unavailable_response()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning(
                "database unavailable: %s %s answered 503",
                request.method,
                request.path,
                exc_info=exception,
            )
            return database_unavailable_response()
        return None


class WebSocketContextMiddleware:
    """ASGI wrapper of the WebSocket router (marketplace/asgi.py): each connection gets a
    request id (its handshake's X-Request-ID, else a new one) that every log line of its events
    carries (context variables follow the consumer's tasks and database threads), and the open
    socket gauge counts it while it lives."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") != "websocket":
            return await self.app(scope, receive, send)
        from apps.common.metrics import OPEN_WEBSOCKETS

        headers = dict(scope.get("headers") or [])
        raw = headers.get(REQUEST_ID_HEADER.lower().encode())
        request_id = clean_request_id(raw.decode("latin-1") if raw else None)
        token = set_request_id(request_id)
        OPEN_WEBSOCKETS.inc()
        try:
            return await self.app(dict(scope, request_id=request_id), receive, send)
        finally:
            OPEN_WEBSOCKETS.dec()
            reset_request_id(token)
