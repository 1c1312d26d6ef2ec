"""The Celery app: reads Django settings under the CELERY_ namespace, finds each app's tasks.py.

Tasks are `OutboxAwareTask`s (apps/common/outbox_task.py), and the request id of the request
(or task) that published a task travels in its headers into the task's logs."""

import contextlib
import os
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.dev")

app = Celery("marketplace", task_cls="apps.common.outbox_task:OutboxAwareTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "request_id"
_tokens: dict[str, Any] = {}


@before_task_publish.connect
def _add_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    from apps.common.logging_json import get_request_id

    request_id = get_request_id()
    if headers is not None and request_id and not headers.get(REQUEST_ID_HEADER):
        headers[REQUEST_ID_HEADER] = request_id


@task_prerun.connect
def _bind_request_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from apps.common.logging_json import clean_request_id, get_request_id, set_request_id

    request = getattr(task, "request", None)
    value = getattr(request, REQUEST_ID_HEADER, None)
    if value is None:
        headers = getattr(request, "headers", None)
        value = headers.get(REQUEST_ID_HEADER) if isinstance(headers, dict) else None
    if value is None:
        value = get_request_id() or task_id  # eager: the caller's; a beat sweep: its own id
    if task_id:
        _tokens[task_id] = set_request_id(clean_request_id(value))


@task_postrun.connect
def _unbind_request_id(task_id: str | None = None, **_: Any) -> None:
    from apps.common.logging_json import reset_request_id

    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        # set in another context (thread pools): nothing to restore
        with contextlib.suppress(ValueError):
            reset_request_id(token)
