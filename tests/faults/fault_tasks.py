"""A task for the worker-kill fault test, loaded by the test's worker with `-I`: it records each
run in a private Redis, blocks while a file exists, then stores n*n (the same on every run) and
records that it finished."""

from __future__ import annotations

import os
import time

import redis
from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def square_slowly(key: str, n: int, block_file: str) -> int:
    state = redis.Redis.from_url(os.environ["FAULT_STATE_URL"])
    state.rpush(f"{key}:runs", os.getpid())
    deadline = time.monotonic() + 60
    while os.path.exists(block_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    state.set(f"{key}:result", n * n)
    state.rpush(f"{key}:finished", os.getpid())
    return n * n
