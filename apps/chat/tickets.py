"""Single-use WebSocket tickets: POST ws-ticket/ stores a random ticket -> user id in Redis for
60 s; the socket consumes it with GETDEL. No JWT ever travels in a URL (URLs end up in logs)."""

from __future__ import annotations

import secrets
from typing import Any

from apps.common.redis import cache_key, get_redis

TICKET_TTL = 60


def issue_ticket(*, user_id: Any) -> str:
    ticket = secrets.token_urlsafe(32)
    get_redis().set(cache_key("ws-ticket", ticket), str(user_id), ex=TICKET_TTL)
    return ticket


def consume_ticket(ticket: str) -> str | None:
    if not ticket or len(ticket) > 128:
        return None
    value = get_redis().getdel(cache_key("ws-ticket", ticket))
    return value.decode() if value else None
