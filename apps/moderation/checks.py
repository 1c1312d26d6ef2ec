"""Automatic moderation of pending ads (API.md section 6).

Each rule is a small function: given the ad, it returns the moderation_reason that holds the
ad for staff, or None. `first_problem` runs them in order; the first reason found wins. A rule
that crashes leaves the ad pending (the caller logs it): an ad is never approved by accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from apps.ads.models import Ad, AdStatus, ModerationReason
from apps.moderation.models import BannedWord

MIN_PRICE = Decimal("100")
MAX_PRICE = Decimal("1000000000")
SEPARATOR = r"[\s.\-/()]*"
# Kenyan mobile and landline numbers however spaced: 0712 345 678, +254-712-345-678, 020 ...
PHONE = re.compile(
    rf"(?<!\d)(?:\+?{SEPARATOR}254|0){SEPARATOR}[1-9](?:{SEPARATOR}\d){{7,8}}(?!\d)"
)
# Calendar dates (31/01/2025, 01.06.2025, 2025-01-31) are masked before looking for phones:
# "Viewing on 05/05/2025 10am" reads as 0 + nine digits otherwise.
DAY, MONTH, YEAR = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:19|20)\d\d"
DATE = re.compile(rf"(?<!\d)(?:{DAY}([./-]){MONTH}\1{YEAR}|{YEAR}([./-]){MONTH}\2{DAY})(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
LINK = re.compile(r"https?://|\bwww\.", re.IGNORECASE)
SPACES = re.compile(r"\s+")

Rule = Callable[[Ad], str | None]


def text_of(ad: Ad) -> str:
    return f"{ad.title}\n{ad.description}"


def banned_word(ad: Ad) -> str | None:
    words = list(BannedWord.objects.values_list("word", flat=True))
    if not words:
        return None
    # A phrase matches with any spacing between its words ("fake  id", "fake\nid"); the
    # lookarounds (not \b) also work for a word that starts or ends with punctuation ("18+").
    alternatives = "|".join(r"\s+".join(map(re.escape, word.split()))
                            for word in words if word.strip())
    if not alternatives:
        return None
    pattern = r"(?<!\w)(?:" + alternatives + r")(?!\w)"
    if re.search(pattern, text_of(ad), re.IGNORECASE):
        return ModerationReason.BANNED_WORD
    return None


def contact_details(ad: Ad) -> str | None:
    text = text_of(ad)
    if PHONE.search(DATE.sub(" ", text)) or EMAIL.search(text) or LINK.search(text):
        return ModerationReason.CONTACT_DETAILS
    return None


def normalised(text: str) -> str:
    return SPACES.sub(" ", text).strip().lower()


def duplicate(ad: Ad) -> str | None:
    title, description = normalised(ad.title), normalised(ad.description)
    others = Ad.objects.filter(owner_id=ad.owner_id, status=AdStatus.ACTIVE,
                               deleted_at__isnull=True).exclude(pk=ad.pk)
    for other_title, other_description in others.values_list("title", "description"):
        if normalised(other_title) == title and normalised(other_description) == description:
            return ModerationReason.DUPLICATE
    return None


def price_out_of_range(ad: Ad) -> str | None:
    low, high = MIN_PRICE, MAX_PRICE
    category: Any = ad.category
    if category.min_price is not None:
        low = max(low, category.min_price)
    if category.max_price is not None:
        high = min(high, category.max_price)
    if not low <= ad.price <= high:
        return ModerationReason.PRICE_OUT_OF_RANGE
    return None


RULES: list[Rule] = [banned_word, contact_details, duplicate, price_out_of_range]


def first_problem(ad: Ad) -> str | None:
    """The moderation_reason that holds this ad for staff, or None when it is clean."""
    for rule in RULES:
        reason = rule(ad)
        if reason is not None:
            return reason
    return None
