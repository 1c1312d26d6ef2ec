"""Automatic moderation of pending ads: each rule names the first problem it finds.

The rules of API.md section 6 (banned words, contact details, duplicates, price range) arrive
with the trust-and-safety work; until then every ad passes, through the same path.
"""

from __future__ import annotations

from typing import Any


def first_problem(ad: Any) -> str | None:
    """The moderation_reason that holds this ad for staff, or None when it is clean."""
    return None
