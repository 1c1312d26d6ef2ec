"""The outbox's fast path per transaction: the rows a transaction adds are published by one
commit hook and stamped sent in one UPDATE; a rolled-back savepoint takes its rows along."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.common import dispatch
from apps.common.models import OutboxTask
from apps.common.redis import cache_key, get_redis
from marketplace.celery import app as celery_app

pytestmark = pytest.mark.django_db


@celery_app.task(name="tests.common.count_batch_runs")
def count_batch_runs(name: str) -> None:
    get_redis().incr(cache_key("batch-runs", name))


def runs(name: str) -> int:
    return int(get_redis().get(cache_key("batch-runs", name)) or 0)


def test_rows_of_one_transaction_share_one_hook_and_one_stamp(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        dispatch.enqueue(count_batch_runs, "a")
        dispatch.enqueue(count_batch_runs, "b")
        dispatch.enqueue(count_batch_runs, "c")
    assert len(callbacks) == 1
    with CaptureQueriesContext(connection) as queries:
        callbacks[0]()
    stamps = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('UPDATE "common_outboxtask"') and "sent_at" in q["sql"]
    ]
    assert len(stamps) == 1
    assert all(row.sent_at is not None for row in OutboxTask.objects.all())
    assert [runs(name) for name in "abc"] == [1, 1, 1]


def test_a_rolled_back_savepoint_publishes_nothing_of_its_own(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        dispatch.enqueue(count_batch_runs, "kept")
        try:
            with transaction.atomic():
                dispatch.enqueue(count_batch_runs, "dropped")
                raise RuntimeError("the inner change failed")
        except RuntimeError:
            pass
        dispatch.enqueue(count_batch_runs, "after")
    assert sorted(OutboxTask.objects.values_list("args", flat=True)) == [["after"], ["kept"]]
    assert (runs("kept"), runs("dropped"), runs("after")) == (1, 0, 1)
    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()


def test_a_hook_that_ran_takes_no_more_rows(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.enqueue(count_batch_runs, "first")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dispatch.enqueue(count_batch_runs, "second")
    assert len(callbacks) == 1
    assert (runs("first"), runs("second")) == (1, 1)
