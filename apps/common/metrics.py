"""Prometheus metrics at /metrics, for the monitoring system only.

django-prometheus counts requests, latencies, responses by status and view, database queries and
errors (its PostgreSQL engine) and cache hits/misses (its django-redis backend). Here: the Celery
queue lengths and the outbox backlog (read at scrape time), and the number of open WebSockets
(`websocket_connections`, kept by `WebSocketContextMiddleware` in apps/common/middleware.py).

Access: `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time), or a client address
in METRICS_ALLOWED_IPS (behind nginx the address is X-Real-IP, see TRUST_X_REAL_IP). Anyone else
gets the ordinary 404: the endpoint is not advertised. With neither setting, nobody gets in.

Several processes (gunicorn workers, uvicorn): set PROMETHEUS_MULTIPROC_DIR to a shared empty
folder for all of them and every scrape sums them (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

OPEN_WEBSOCKETS = Gauge(
    "websocket_connections", "WebSocket connections open now", multiprocess_mode="livesum"
)
CELERY_QUEUES = ("default", "notifications", "search")


def client_address(request: HttpRequest) -> str:
    meta = request.META
    if getattr(settings, "TRUST_X_REAL_IP", False) and meta.get("HTTP_X_REAL_IP"):
        return str(meta["HTTP_X_REAL_IP"])
    return str(meta.get("REMOTE_ADDR", ""))


def allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if (
        token
        and header.startswith("Bearer ")
        and hmac.compare_digest(header.removeprefix("Bearer ").encode(), str(token).encode())
    ):
        return True
    return client_address(request) in set(getattr(settings, "METRICS_ALLOWED_IPS", []))


class QueueCollector(Collector):
    """Scrape-time gauges: Celery queue lengths (Redis broker) and the task outbox."""

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # nothing to read at registration (no broker or database call on import)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queues = GaugeMetricFamily(
            "celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        try:
            for queue, length in celery_queue_lengths().items():
                queues.add_metric([queue], length)
            yield queues
        except Exception as exc:  # broker down: the metric is absent, the scrape still works
            logger.warning("celery_queue_length unavailable: %s", type(exc).__name__)
        try:
            from apps.common.models import OutboxTask

            pending = OutboxTask.objects.filter(sent_at__isnull=True)
            oldest = pending.order_by("created_at").values_list("created_at", flat=True).first()
            yield GaugeMetricFamily(
                "outbox_pending_tasks", "Outbox tasks not yet published", value=pending.count()
            )
            age = time.time() - oldest.timestamp() if oldest else 0.0
            yield GaugeMetricFamily(
                "outbox_oldest_pending_seconds",
                "Age of the oldest unpublished outbox task",
                value=age,
            )
        except Exception as exc:
            logger.warning("outbox metrics unavailable: %s", type(exc).__name__)


def celery_queue_lengths() -> dict[str, int]:
    from marketplace.celery import app

    broker = str(app.conf.broker_url or "")
    if not broker.startswith(("redis://", "rediss://")):
        return {}
    import redis

    client = redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1)
    try:
        return {queue: int(client.llen(queue)) for queue in CELERY_QUEUES}
    finally:
        client.close()


_collector = QueueCollector()
with contextlib.suppress(ValueError):  # registered already (module reloaded)
    REGISTRY.register(_collector)


def registry() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        combined.register(QueueCollector())
        return combined
    return REGISTRY


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        raise Http404
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
