"""Structured logs: JSON lines with a request id, secrets redacted, the id carried from a request
into the Celery tasks it dispatches and answered in X-Request-ID."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from apps.chat.tests.sockets import run_async
from apps.common import dispatch
from apps.common.logging_json import (
    JsonLogFormatter,
    RedactFilter,
    RequestIdFilter,
    bind_request_id,
    get_request_id,
)
from apps.common.middleware import WebSocketContextMiddleware
from apps.common.models import OutboxTask
from marketplace.celery import app as celery_app

SECRETS = [
    "hunter2-Secret!",
    "493817",
    "+254712345678",
    "0712 345 678",
    "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiNDIifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    "sk_live_51Habc",
    "tkt-9f8e7d6c5b4a",
]


@pytest.fixture
def log_lines() -> Iterator[Any]:
    """The console handler as settings.LOGGING builds it, writing into a buffer."""
    config: dict[str, Any] = settings.LOGGING
    assert config["handlers"]["console"]["filters"] == ["request_id", "redact"]
    assert config["formatters"]["json"]["()"].endswith("JsonLogFormatter")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("tests.ops.sample")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield logger, read
    logger.removeHandler(handler)


def test_secrets_never_reach_a_log_line(log_lines: Any) -> None:
    logger, read = log_lines
    password, code, phone, spaced_phone, jwt, api_key, ticket = SECRETS
    logger.info("login failed for amani@example.com password=%s", password)
    logger.info("verification code is %s for %s", code, phone)
    logger.info("sms to %s: Your code: %s", spaced_phone, code)
    logger.warning("upstream said Authorization: Bearer %s", jwt)
    logger.info("token %s leaked in text", jwt)
    logger.info(
        "payload",
        extra={
            "password": password,
            "phone": phone,
            "api_key": api_key,
            "data": {"refresh": jwt, "ticket": ticket, "title": "Sofa"},
            "status_code": 400,
        },
    )
    logger.error("body was {'email': 'a@b.co', 'password': '%s', 'code': '%s'}", password, code)
    try:
        raise ValueError(f"bad code {code} for {phone}")
    except ValueError:
        logger.exception("task failed")

    lines = read()
    text = "\n".join(json.dumps(line) for line in lines)
    for secret in SECRETS:
        assert secret not in text, secret
    assert "712345678" not in text and "345 678" not in text
    # what is useful stays: who, what, the last digits of a phone, ordinary fields
    assert "amani@example.com" in lines[0]["message"]
    assert lines[1]["message"].endswith("***678")
    assert lines[5]["status_code"] == 400 and lines[5]["data"]["title"] == "Sofa"
    assert lines[5]["phone"] == "***678"
    assert lines[7]["level"] == "ERROR" and "ValueError" in lines[7]["exc_info"]
    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])


def test_log_lines_carry_the_request_id(log_lines: Any) -> None:
    logger, read = log_lines
    with bind_request_id("req-123"):
        logger.info("inside")
    logger.info("outside")
    inside, outside = read()
    assert inside["request_id"] == "req-123" and outside["request_id"] is None


def test_x_request_id_is_answered_kept_or_generated(db: Any) -> None:
    client = Client()
    given = client.get("/healthz/", HTTP_X_REQUEST_ID="mobile-7f3a.1")
    assert given["X-Request-ID"] == "mobile-7f3a.1"
    fresh = client.get("/api/categories/")
    assert len(fresh["X-Request-ID"]) == 32 and fresh["X-Request-ID"].isalnum()
    assert fresh["X-Request-ID"] != client.get("/api/categories/")["X-Request-ID"]
    # a header that could forge log lines is replaced
    forged = client.get("/healthz/", HTTP_X_REQUEST_ID='x" level=ERROR\nfake')
    assert forged["X-Request-ID"] != 'x" level=ERROR\nfake' and len(forged["X-Request-ID"]) == 32
    assert client.get("/api/nowhere/")["X-Request-ID"]  # errors too


@celery_app.task(name="tests.ops.record_request_id")
def record_request_id(marker: str) -> None:
    OutboxTask.objects.filter(args=[marker]).update(last_error=f"ran with {get_request_id()}")


def test_the_request_id_travels_into_the_tasks_a_request_dispatches(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with bind_request_id("req-into-task"), django_capture_on_commit_callbacks(execute=True):
        dispatch.enqueue(record_request_id, "marker-1")
    row = OutboxTask.objects.get(args=["marker-1"])
    assert row.headers == {"request_id": "req-into-task"}  # what a worker receives
    assert row.last_error == "ran with req-into-task"
    assert row.sent_at is not None and row.done_at is not None
    assert get_request_id() is None  # nothing leaks out of the request


@run_async
async def test_a_websocket_connection_carries_its_request_id_into_its_events() -> None:
    seen: list[Any] = []

    async def consumer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["request_id"])
        seen.append(get_request_id())
        # the consumer's blocking calls run on threads: the id follows them there
        seen.append(await sync_to_async(get_request_id, thread_sensitive=False)())

    app = WebSocketContextMiddleware(consumer)
    await app({"type": "websocket", "headers": [(b"x-request-id", b"ws-abc-1")]}, None, None)
    assert seen == ["ws-abc-1", "ws-abc-1", "ws-abc-1"]
    await app({"type": "websocket", "headers": []}, None, None)
    assert len(seen[3]) == 32 and seen[3] == seen[4] == seen[5]
    assert get_request_id() is None
