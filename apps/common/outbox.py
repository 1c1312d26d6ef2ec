"""The transactional task outbox: no background work is lost when the broker is down.

`dispatch.enqueue()` writes an `OutboxTask` row in the caller's transaction (so the row exists
if and only if the business change committed), then on commit tries to publish it at once (the
fast path) and stamps `sent_at`. If the broker is unreachable the row stays pending and
`relay()` (the beat task `apps.common.tasks.relay_outbox`, every OUTBOX_RELAY_SECONDS) publishes
it later. A crash between publishing and stamping may publish a row twice; the row's `key` is
the Celery task id and the worker stamps `done_at` when the task succeeds (`OutboxTaskMixin`),
so a second delivery of a finished row is skipped, and every task is idempotent besides.

Publishing never waits on the broker: `retry=False` and a short connect timeout, so a request
whose commit hook cannot reach the broker still answers in time."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.common.logging_json import get_request_id
from apps.common.models import OutboxTask

logger = logging.getLogger(__name__)

OUTBOX_HEADER = "outbox_key"
REQUEST_ID_HEADER = "request_id"
RELAY_BATCH = 500
RELAY_GRACE = timedelta(seconds=10)  # leave fresh rows to their own on-commit fast path
KEEP_DONE = timedelta(days=7)


def build(task: Any, args: tuple[str, ...], countdown: int = 0) -> OutboxTask:
    """An unsaved row for `task(*args)`: for a writer that inserts it in a statement of its
    own (apps.ads.services.create_ad), then hands it to `track`."""
    headers: dict[str, str] = {}
    request_id = get_request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return OutboxTask(
        task=task.name,
        args=list(args),
        headers=headers,
        due_at=timezone.now() + timedelta(seconds=countdown),
    )


def add(task: Any, args: tuple[str, ...], countdown: int = 0) -> OutboxTask:
    """A pending row for `task(*args)` in the current transaction; published on commit."""
    row = build(task, args, countdown)
    row.save(force_insert=True)
    _publish_on_commit(row)
    return row


def track(rows: list[OutboxTask]) -> None:
    """Rows just inserted: published on commit, as `add`'s (at once, together, when the
    statement that wrote them ran in autocommit mode and so is committed already)."""
    if rows and not transaction.get_connection().in_atomic_block:

        def publish_outbox_rows() -> None:
            publish_many(rows)

        transaction.on_commit(publish_outbox_rows, robust=True)  # runs now, errors logged
        return
    for row in rows:
        _publish_on_commit(row)


def _publish_on_commit(row: OutboxTask) -> None:
    """One commit hook per transaction (and savepoint level) for all the rows it adds: they
    are published together and stamped sent in one UPDATE. A row joins the pending hook only
    when it was registered under the same savepoints, so rolling a savepoint back drops its
    rows with its hook, as Django does for a hook of their own; and never once the hook ran
    (tests run captured hooks while they are still listed)."""
    connection = transaction.get_connection()
    savepoints = tuple(connection.savepoint_ids)
    batch: _Batch | None = getattr(connection, "_outbox_batch", None)
    if (
        batch is not None
        and not batch.ran
        and batch.savepoints == savepoints
        and any(entry[1] is batch.hook for entry in connection.run_on_commit)
    ):
        batch.rows.append(row)
        return
    batch = _Batch(savepoints, [row])

    def publish_outbox_rows() -> None:
        batch.ran = True
        publish_many(batch.rows)

    batch.hook = publish_outbox_rows
    if connection.in_atomic_block:
        connection._outbox_batch = batch  # type: ignore[attr-defined]
    transaction.on_commit(publish_outbox_rows, robust=True)


class _Batch:
    def __init__(self, savepoints: tuple[str, ...], rows: list[OutboxTask]) -> None:
        self.savepoints = savepoints
        self.rows = rows
        self.hook: Any = None
        self.ran = False


def _send(row: OutboxTask) -> None:
    from marketplace.celery import app  # the project's app, whatever app is "current"

    task = app.tasks[row.task]
    options: dict[str, Any] = {
        "task_id": str(row.key),
        "headers": {**row.headers, OUTBOX_HEADER: str(row.key)},
        "retry": False,
    }
    if row.due_at > timezone.now():
        options["eta"] = row.due_at
    task.apply_async(args=tuple(row.args), **options)


def publish(row: OutboxTask) -> bool:
    """The fast path for one row (see publish_many)."""
    return publish_many([row]) == 1


def publish_many(rows: list[OutboxTask]) -> int:
    """The fast path, just after the commit: publish the rows now and stamp those sent (one
    UPDATE); on a broker error leave that row and the rest to the relay. Returns how many
    were sent."""
    sent: list[int] = []
    for row in rows:
        try:
            _send(row)
        except Exception as exc:  # broker down or unreachable: the relay sends it later
            OutboxTask.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + 1, last_error=repr(exc)[:500]
            )
            logger.warning("outbox: %s kept for the relay (%s)", row.task, type(exc).__name__)
            if isinstance(exc, KeyError):  # a task unknown here: the others may still go
                continue
            break
        sent.append(row.pk)
    if sent:
        # What .filter(pk__in=sent, sent_at__isnull=True).update(sent_at=now) sends, without
        # compiling it for every request that queued a task.
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(_STAMP_SENT, [timezone.now(), sent])
    return len(sent)


_STAMP_SENT = (
    'UPDATE "common_outboxtask" SET "sent_at" = %s '
    'WHERE "id" = ANY(%s::bigint[]) AND "sent_at" IS NULL'
)


def relay(*, grace: timedelta | None = None, batch: int = RELAY_BATCH) -> int:
    """Publish pending rows older than `grace`, oldest first; stop at the first broker error.
    Rows are locked (SKIP LOCKED) so two relays never send the same row at once."""
    if grace is None:
        from django.conf import settings

        grace = timedelta(
            seconds=getattr(settings, "OUTBOX_RELAY_GRACE_SECONDS", RELAY_GRACE.total_seconds())
        )
    sent = 0
    cutoff = timezone.now() - grace
    with transaction.atomic():
        rows = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lte=cutoff)
            .order_by("id")[:batch]
        )
        for row in rows:
            try:
                _send(row)
            except KeyError as exc:  # a task renamed or removed: skip it, never block the rest
                OutboxTask.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_error=f"unknown task {exc}"[:500]
                )
                logger.error("outbox relay: unknown task %s (row %s)", row.task, row.pk)
                continue
            except Exception as exc:
                OutboxTask.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_error=repr(exc)[:500]
                )
                logger.warning(
                    "outbox relay: broker unavailable, %d row(s) still pending", len(rows) - sent
                )
                break
            OutboxTask.objects.filter(pk=row.pk).update(sent_at=timezone.now())
            sent += 1
    OutboxTask.objects.filter(done_at__lt=timezone.now() - KEEP_DONE).delete()
    return sent


def pending_count() -> int:
    return OutboxTask.objects.filter(sent_at__isnull=True).count()


# --- worker side --------------------------------------------------------------------------------


def outbox_key_of(request: Any) -> str | None:
    key = getattr(request, OUTBOX_HEADER, None)
    if key is None:
        headers = getattr(request, "headers", None) or {}
        key = headers.get(OUTBOX_HEADER) if isinstance(headers, dict) else None
    return str(key) if key else None


def already_done(key: str) -> bool:
    return OutboxTask.objects.filter(key=key, done_at__isnull=False).exists()


def mark_done(key: str) -> None:
    OutboxTask.objects.filter(key=key, done_at__isnull=True).update(done_at=timezone.now())
