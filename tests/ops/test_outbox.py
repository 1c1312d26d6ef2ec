"""The task outbox in process (Celery eager, as in every test): rows written with the change,
published on commit, relayed when pending, run at most once to success. The broker really
being down is tests/faults/test_broker_down.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from apps.common import dispatch, outbox
from apps.common.models import OutboxTask
from apps.common.redis import cache_key, get_redis
from marketplace.celery import app as celery_app

pytestmark = pytest.mark.django_db


@celery_app.task(name="tests.ops.count_runs")
def count_runs(name: str) -> None:
    get_redis().incr(cache_key("runs", name))


def runs(name: str) -> int:
    return int(get_redis().get(cache_key("runs", name)) or 0)


def test_a_rolled_back_change_leaves_no_task(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                dispatch.enqueue(count_runs, "rolled-back")
                raise RuntimeError("the business change failed")
        except RuntimeError:
            pass
    assert not OutboxTask.objects.filter(args=["rolled-back"]).exists()
    assert runs("rolled-back") == 0


def test_a_committed_change_publishes_its_task_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.enqueue(count_runs, "committed")
        assert OutboxTask.objects.get(args=["committed"]).sent_at is None  # before the commit
    row = OutboxTask.objects.get(args=["committed"])
    assert row.sent_at is not None and row.done_at is not None and row.attempts == 0
    assert runs("committed") == 1


def test_the_relay_publishes_pending_rows_and_skips_those_already_done() -> None:
    pending = OutboxTask.objects.create(
        task=count_runs.name, args=["pending"], due_at=timezone.now()
    )
    done = OutboxTask.objects.create(
        task=count_runs.name,
        args=["done"],
        due_at=timezone.now(),
        done_at=timezone.now(),  # ran already; its "sent" stamp was lost
    )
    fresh_cutoff = timedelta(seconds=60)
    assert outbox.relay(grace=fresh_cutoff) == 0  # too fresh: left to its own fast path

    assert outbox.relay(grace=timedelta(0)) == 2
    pending.refresh_from_db()
    done.refresh_from_db()
    assert pending.sent_at and pending.done_at and runs("pending") == 1
    assert done.sent_at and runs("done") == 0  # published again, not run again
    assert outbox.relay(grace=timedelta(0)) == 0  # nothing left
    assert runs("pending") == 1


def test_an_unknown_task_does_not_block_the_others() -> None:
    gone = OutboxTask.objects.create(
        task="apps.nowhere.tasks.removed", args=["x"], due_at=timezone.now()
    )
    after = OutboxTask.objects.create(task=count_runs.name, args=["after"], due_at=timezone.now())
    assert outbox.relay(grace=timedelta(0)) == 1
    gone.refresh_from_db()
    after.refresh_from_db()
    assert gone.sent_at is None and gone.attempts == 1 and "unknown task" in gone.last_error
    assert after.done_at is not None and runs("after") == 1
    assert outbox.pending_count() == 1


def test_old_finished_rows_are_pruned() -> None:
    old = OutboxTask.objects.create(
        task=count_runs.name,
        args=["old"],
        due_at=timezone.now(),
        sent_at=timezone.now(),
        done_at=timezone.now() - timedelta(days=8),
    )
    recent = OutboxTask.objects.create(
        task=count_runs.name,
        args=["recent"],
        due_at=timezone.now(),
        sent_at=timezone.now(),
        done_at=timezone.now() - timedelta(days=1),
    )
    outbox.relay()
    assert not OutboxTask.objects.filter(pk=old.pk).exists()
    assert OutboxTask.objects.filter(pk=recent.pk).exists()
