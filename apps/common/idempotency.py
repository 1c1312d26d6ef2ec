"""Idempotency-Key handling (API.md section 6, boost): (user, scope, key) -> the first answer.

The first request with a key stores a row (fingerprint of the body, "in progress") in its own
committed transaction, so a concurrent retry sees it at once (409 idempotency_key_in_use); when
the first request ends, its status and body are stored and every retry within 24 h gets them
back unchanged, creating nothing. The same key with another body answers 422.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response

from apps.common.errors import Conflict, DomainError
from apps.common.models import IdempotencyRecord

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used with another request body."


class KeyInUse(Conflict):
    default_code = "idempotency_key_in_use"
    default_detail = "A request with this Idempotency-Key is still running."


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def run_once(*, user_id: Any, scope: str, key: str | None, body: Any,
             handler: Callable[[], Response]) -> Response:
    if not key:
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        from apps.common.errors import FieldError

        raise FieldError("Idempotency-Key", "At most 255 characters.", "max_length")
    digest = fingerprint(body)
    now = timezone.now()
    IdempotencyRecord.objects.filter(user_id=user_id, scope=scope, key=key,
                                     created_at__lt=now - TTL).delete()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(user_id=user_id, scope=scope,
                                                          key=key, fingerprint=digest)
            break
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(user_id=user_id, scope=scope,
                                                        key=key).first()
            if existing is None:
                continue  # the first request just ended with nothing to keep: the key is free
            if existing.fingerprint != digest:
                raise KeyReused() from None
            if existing.status_code is None:
                raise KeyInUse() from None
            return Response(existing.response_body, status=existing.status_code)
    else:
        raise KeyInUse()
    try:
        response = handler()
    except Exception:
        record.delete()  # nothing was answered: the key may be used again
        raise
    if response.status_code >= 500:
        record.delete()
        return response
    record.status_code = response.status_code
    record.response_body = response.data
    record.save(update_fields=["status_code", "response_body"])
    return response
