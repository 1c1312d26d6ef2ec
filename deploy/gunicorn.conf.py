"""gunicorn for the REST API: gthread workers (sync DRF views serve about twice the requests/s
they do under ASGI). 2 workers x 8 threads fits 2 cores; each thread holds at most one pooled
PostgreSQL connection, so DB_POOL_MAX >= threads."""

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8010")
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
max_requests = 20000  # recycle slowly to bound memory growth
max_requests_jitter = 2000
graceful_timeout = 30
timeout = 30
keepalive = 5
accesslog = None
forwarded_allow_ips = "127.0.0.1"


def post_worker_init(worker: object) -> None:
    """Move the objects made while loading the app out of the garbage collector's sight: the
    long full collections they caused were the p99 spikes in bench/results/search-*.md."""
    import gc
    import sys

    gc.freeze()
    sys.setswitchinterval(float(os.environ.get("GIL_SWITCH_INTERVAL", "0.0005")))


def child_exit(server: object, worker: Any) -> None:
    """Multi-process metrics (PROMETHEUS_MULTIPROC_DIR, see apps/common/metrics.py): a dead
    worker's live gauges leave the sums."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
