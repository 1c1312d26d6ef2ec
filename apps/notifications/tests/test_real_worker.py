"""A real Celery worker on the test Redis: routing, JSON serialization and delivery end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import before_task_publish, task_prerun, task_received
from django.core import mail
from django.db import transaction

from apps.notifications import services
from apps.notifications.models import DeliveryStatus, OutboundMessage
from marketplace.celery import app


@pytest.fixture
def not_eager(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tasks go through the broker for this test; eager mode comes back afterwards."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    changes = app.conf.changes
    assert isinstance(changes, dict)
    monkeypatch.setitem(changes, "task_always_eager", False)
    assert app.conf.task_always_eager is False
    yield
    monkeypatch.undo()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert app.conf.task_always_eager is True


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_queued_email_is_delivered_by_a_real_worker(not_eager: None, settings: Any) -> None:
    assert app.conf.broker_url == settings.TEST_REDIS_URL
    published: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []
    ran: list[list[Any]] = []

    def on_publish(sender: str, headers: dict[str, Any], routing_key: str, properties: Any = None,
                   **kwargs: Any) -> None:
        published.append({"task": sender, "routing_key": routing_key,
                          "args": headers.get("argsrepr")})

    def on_received(request: Any, **kwargs: Any) -> None:  # in the worker, as consumed
        received.append({"task": request.name, "queue": request.delivery_info.get("routing_key"),
                         "content_type": request.content_type})

    def on_prerun(task_id: str, task: Any, args: Any, **kwargs: Any) -> None:
        ran.append(list(args))

    before_task_publish.connect(on_publish, weak=False)
    task_received.connect(on_received, weak=False)
    task_prerun.connect(on_prerun, weak=False)
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False,
                          queues=["default", "notifications"], shutdown_timeout=20):
            with transaction.atomic():
                message = services.queue_email(to="worker@example.com", subject="Karibu",
                                               body="Delivered by a real worker ✓")
                assert published == []  # nothing leaves before the commit

            deadline = time.monotonic() + 10
            status: str = DeliveryStatus.PENDING
            while time.monotonic() < deadline:
                status = OutboundMessage.objects.values_list("status", flat=True).get(
                    pk=message.pk
                )
                if status == DeliveryStatus.SENT and mail.outbox:
                    break
                time.sleep(0.05)
    finally:
        before_task_publish.disconnect(on_publish)
        task_received.disconnect(on_received)
        task_prerun.disconnect(on_prerun)

    assert status == DeliveryStatus.SENT
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["worker@example.com"], "Karibu", "Delivered by a real worker ✓")
    ]
    task_name = "apps.notifications.tasks.deliver_message"
    assert [p["task"] for p in published] == [task_name]
    assert published[0]["routing_key"] == "notifications"
    assert received == [{"task": task_name, "queue": "notifications",
                         "content_type": "application/json"}]
    assert ran == [[str(message.pk)]]  # the id, as a string, never a model instance
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.sent_at is not None
