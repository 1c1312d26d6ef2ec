"""Ids from URLs and bodies: anything that is not a UUID names nothing (404/400, never 500)."""

from __future__ import annotations

from typing import Any
from uuid import UUID


def parse_uuid(value: Any) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None
