"""The Celery Task base of the project (marketplace/celery.py): outbox rows run once to success.

A task published from an outbox row carries the row's key in its headers (apps/common/outbox.py).
Once it succeeds the row is stamped `done_at`; a later delivery of the same row (the relay after
a crash between publishing and stamping `sent_at`, a broker redelivery) is skipped. A delivery
after a failure or a killed worker runs again (acks_late + reject_on_worker_lost). Models are
imported lazily: Celery may build this class before Django's apps are ready."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

logger = logging.getLogger(__name__)


class OutboxAwareTask(Task):  # type: ignore[misc]
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from apps.common import outbox

        key = outbox.outbox_key_of(self.request)
        if key and outbox.already_done(key):
            logger.info("task %s (outbox %s) already done: skipped", self.name, key)
            return None
        result = super().__call__(*args, **kwargs)
        if key:
            outbox.mark_done(key)
        return result
