"""A worker killed in the middle of a task: the task runs again and its result is the same.

Real `celery worker` processes on a private Redis broker, with the project's task settings
(acks_late, reject_on_worker_lost) and a 3-second visibility timeout. Two ways to die:
the whole worker SIGKILLed (its message stays unacknowledged in the broker and a new worker takes
it back once the visibility timeout passes), and only the pool process running the task
SIGKILLed (the worker sees it lost and puts the message back at once)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from tests.faults.servers import PrivateRedis, celery_worker, child_env, wait_until

pytestmark = pytest.mark.django_db  # for the test database name the workers use
TASK = "tests.faults.fault_tasks.square_slowly"


def test_a_task_cut_short_by_a_killed_worker_runs_again_with_the_same_result(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    broker_url, state_url = private_redis.url(0), private_redis.url(1)
    env = child_env(
        FAULT_BROKER_URL=broker_url, FAULT_STATE_URL=state_url, CELERY_VISIBILITY_TIMEOUT="3"
    )
    state = redis.Redis.from_url(state_url, decode_responses=True)
    sender = Celery("fault-sender", broker=broker_url, set_as_current=False)
    sender.conf.broker_transport_options = {"visibility_timeout": 3}

    def send(key: str, n: int, block: Path) -> None:
        block.touch()
        sender.send_task(
            TASK, args=[key, n, str(block)], queue="default", task_id=str(uuid.uuid4())
        )

    def runs(key: str) -> list[str]:
        return [str(v) for v in state.lrange(f"{key}:runs", 0, -1)]

    def finished(key: str) -> list[str]:
        return [str(v) for v in state.lrange(f"{key}:finished", 0, -1)]

    workers: list[Any] = []
    try:
        # 1. the whole worker dies (SIGKILL to its process group) while the task blocks
        first = celery_worker(
            "worker-one", env, tmp_path, "-I", "tests.faults.fault_tasks", "--concurrency", "1"
        )
        workers.append(first)
        block = tmp_path / "block-one"
        send("one", 7, block)
        wait_until(lambda: len(runs("one")) == 1, "the task to start")
        first.kill()
        assert finished("one") == [] and state.get("one:result") is None
        block.unlink()  # the next run may finish

        second = celery_worker(
            "worker-two", env, tmp_path, "-I", "tests.faults.fault_tasks", "--concurrency", "1"
        )
        workers.append(second)
        wait_until(lambda: len(finished("one")) == 1, "the task to run again", timeout=30)
        assert len(runs("one")) == 2
        assert state.get("one:result") == "49"

        # 2. only the pool process running the task dies: the worker requeues it at once
        block = tmp_path / "block-two"
        send("two", 12, block)
        wait_until(lambda: len(runs("two")) == 1, "the second task to start")
        os.kill(int(runs("two")[0]), signal.SIGKILL)
        block.unlink()
        wait_until(lambda: len(finished("two")) == 1, "the second task to run again", timeout=30)
        assert len(runs("two")) == 2 and runs("two")[0] != runs("two")[1]
        assert state.get("two:result") == "144"
        assert (
            "WorkerLostError" in second.text()
            or "Worker exited" in second.text()
            or "signal 9" in second.text()
        )

        # and neither ran a third time
        time.sleep(1.5)
        assert len(runs("one")) == 2 and len(runs("two")) == 2
        assert len(finished("one")) == 1 and len(finished("two")) == 1
    except BaseException:
        for worker in workers:
            print(f"--- {worker.name} ---\n{worker.text()[-5000:]}")
        raise
    finally:
        for worker in workers:
            worker.stop()
