"""/metrics: Prometheus text for the monitoring system only (a token or an allowlisted address),
404 for anyone else; requests, latency, database, cache, Celery queues, outbox and sockets."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from prometheus_client import REGISTRY

from apps.chat.tests.sockets import run_async
from marketplace.asgi import application

pytestmark = pytest.mark.django_db
TOKEN = "metrics-test-token-0123456789"


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return TOKEN


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
        {"HTTP_AUTHORIZATION": TOKEN},
    ],
)
def test_without_the_token_metrics_are_not_found(
    metrics_token: str, headers: dict[str, str]
) -> None:
    response = Client().get("/metrics", **headers)  # type: ignore[arg-type]
    assert response.status_code == 404
    assert b"django_http" not in response.content


def test_nobody_gets_in_when_nothing_is_configured(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert Client().get("/metrics").status_code == 404


def test_with_the_token_every_family_is_there(metrics_token: str, api: Any) -> None:
    assert api.get("/api/categories/").status_code == 200  # a request, queries, cache reads
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for family in [
        "django_http_requests_total_by_method_total",
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "django_http_responses_total_by_status_total",
        "django_db_execute_total",
        "django_cache_get_total",
        'celery_queue_length{queue="default"}',
        'celery_queue_length{queue="notifications"}',
        "outbox_pending_tasks",
        "outbox_oldest_pending_seconds",
        "websocket_connections",
    ]:
        assert family in text, family


def test_an_allowlisted_address_gets_in_a_proxied_stranger_does_not(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    settings.TRUST_X_REAL_IP = True
    assert Client(REMOTE_ADDR="10.0.0.7").get("/metrics/").status_code == 200
    assert Client(REMOTE_ADDR="10.0.0.8").get("/metrics/").status_code == 404
    # through nginx (REMOTE_ADDR is the proxy): the real client's address decides
    assert (
        Client(REMOTE_ADDR="10.0.0.7").get("/metrics", HTTP_X_REAL_IP="203.0.113.9").status_code
        == 404
    )


def test_the_queue_gauge_counts_waiting_tasks(metrics_token: str, settings: Any) -> None:
    from apps.common.redis import get_redis

    get_redis().rpush("notifications", "a", "b", "c")  # the broker is the test Redis database
    text = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert 'celery_queue_length{queue="notifications"} 3.0' in text


@pytest.mark.django_db(transaction=True)
@run_async
async def test_open_sockets_are_counted_while_they_live() -> None:
    before = REGISTRY.get_sample_value("websocket_connections") or 0.0
    socket = WebsocketCommunicator(application, "/ws/messages/", headers=[(b"host", b"testserver")])
    connected, _ = await socket.connect(timeout=5)
    assert connected
    assert REGISTRY.get_sample_value("websocket_connections") == before + 1
    await socket.receive_output(timeout=5)  # closed: no ticket (4401)
    await socket.wait(timeout=5)
    assert REGISTRY.get_sample_value("websocket_connections") == before


CHILD = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")
django.setup()
from apps.common.metrics import OPEN_WEBSOCKETS
OPEN_WEBSOCKETS.inc(int(sys.argv[1]))
print(os.getpid())
"""


def test_several_processes_are_summed_and_a_dead_one_leaves_the_live_gauges(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """The production layout (scripts/run_prod.sh, deploy/gunicorn.conf.py child_exit) runs
    several processes with PROMETHEUS_MULTIPROC_DIR: a scrape sums them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from prometheus_client import generate_latest

    from apps.common import metrics

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    pids = [
        subprocess.run(  # noqa: S603 - this interpreter, our own script
            [sys.executable, "-c", CHILD, str(sockets)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        for sockets in (2, 3)
    ]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    def open_sockets() -> float:
        for line in generate_latest(metrics.registry()).decode().splitlines():
            if line.startswith("websocket_connections "):
                return float(line.split()[1])
        raise AssertionError("websocket_connections missing")

    assert open_sockets() == 5
    config: dict[str, Any] = {}
    exec(Path("deploy/gunicorn.conf.py").read_text(), config)  # noqa: S102 - the real hook
    config["child_exit"](None, type("Worker", (), {"pid": int(pids[0])})())
    assert open_sockets() == 3
