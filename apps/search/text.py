"""Turning what a user typed into safe search terms and PostgreSQL tsquery text.

Any input is accepted (quotes, %, operators, emoji, 10,000 characters): terms are the word
characters only, at most MAX_TERMS of them, each at most MAX_TERM_LENGTH long, so a query can
never be slow or malformed. The last term matches as a prefix (the user may still be typing),
unless it is a common word typed whole (whole_words.py).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents, as mkt_unaccent(lower(...)) does in the database."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def terms(query: str) -> list[str]:
    words = WORD.findall(fold(query[: MAX_QUERY_LENGTH * 2]))
    return [word[:MAX_TERM_LENGTH] for word in words][:MAX_TERMS]


def tsquery_parts(
    words: list[str], *, weights: str = "", last_forms: list[str] | None = None
) -> list[str]:
    """['toyota', 'fielder:*'] (or with weights: ['toyota:A', 'fielder:*A']). `last_forms`: the
    whole words the last one matches instead of its prefix (whole_words.whole_forms):
    ['land', '(sale | sales)']."""
    if not words:
        return []
    *whole, last = words
    parts = [f"{word}:{weights}" if weights else word for word in whole]
    if last_forms:
        forms = [f"{form}:{weights}" if weights else form for form in last_forms]
        parts.append(forms[0] if len(forms) == 1 else "(" + " | ".join(forms) + ")")
    else:
        parts.append(f"{last}:*{weights}")
    return parts


def tsquery_text(words: list[str], *, weights: str = "") -> str:
    """'toyota & fielder:*' (or with weights: 'toyota:A & fielder:*A')."""
    return " & ".join(tsquery_parts(words, weights=weights))


def typo_text(words: list[str]) -> str:
    return " ".join(words)


@lru_cache(maxsize=4096)
def name_words(name: str) -> tuple[str, ...]:
    """The folded words of a name (category names, ad titles: read again on every search)."""
    return tuple(WORD.findall(fold(name)))


def name_has_word_prefix(name: str, words: list[str]) -> bool:
    """Every typed word starts some word of the name (the last one may be unfinished).
    All the name's words count, not only the first MAX_TERMS a query keeps."""
    folded = name_words(name)
    return all(any(word.startswith(term) for word in folded) for term in words)
