"""Local profile: each SMS becomes a UTF-8 file in var/sms/ (`To: <number>`, blank line, text)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings


class FileSmsSender:
    def send(self, *, to: str, body: str) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        message_id = uuid.uuid4().hex
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = folder / f"{stamp}-{message_id[:8]}.txt"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
        temporary.rename(path)  # readers never see a half-written file
        return message_id
