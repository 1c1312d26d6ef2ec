"""Common words typed whole: the last word of a search that is itself a common word matches
as that word (or a common word it begins), not as a prefix.

The last typed word matches as a prefix (text.py: the user may still be typing). GIN answers a
prefix by reading every posting of every word it begins into a bitmap before intersecting it
with the other words; a whole word it intersects as it reads, skipping what the other words
rule out. For a common word that is the difference between reading its whole posting list and
not: `land & sale:*` took 38.8 ms and `land & sale` 1.7 ms at 1M ads ("sale" is in 220k ads),
`tv & 43 & inch:*` 28.5 ms against 2.7 ms. A common word typed whole is the word meant, so it
matches as itself or as one of the common words it begins (`inch` -> `inch | inches`); a rare
continuation ("salesman" from "sale") no longer matches from the last word alone. Words under
the threshold keep the prefix: their posting lists are short, and a word typed halfway
("toyo") is not a common word.

"Common": in at least SEARCH_WHOLE_WORD_MIN_ADS ads by the planner's own statistics of the
search vector (pg_stats.most_common_elems, which ANALYZE and autovacuum refresh), kept in the
cache for CACHE_SECONDS. A catalogue under that many ads has none.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.cache import cache
from django.db import connection

DEFAULT_MIN_ADS = 5_000
CACHE_SECONDS = 600
MAX_EXPANSIONS = 8
# What text.terms() keeps (runs of letters and digits): safe in tsquery text unquoted.
PLAIN = re.compile(r"^[^\W_]+$")

COMMON_SQL = """
SELECT u.word
FROM pg_stats s
JOIN pg_class c ON c.oid = 'ads_ad'::regclass,
unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(word, freq)
WHERE s.schemaname = current_schema() AND s.tablename = 'ads_ad'
  AND s.attname = 'search_vector' AND u.word IS NOT NULL
  AND u.freq * greatest(c.reltuples, 0) >= %s
ORDER BY u.freq DESC
"""


def min_ads() -> int:
    return int(getattr(settings, "SEARCH_WHOLE_WORD_MIN_ADS", DEFAULT_MIN_ADS))


def cache_key() -> str:
    return f"search:whole-words:{min_ads()}"


def common_words() -> list[str]:
    """The common words, most common first (one cache read; the statistics on a miss)."""
    words: list[str] | None = cache.get(cache_key())
    if words is None:
        with connection.cursor() as cursor:
            cursor.execute(COMMON_SQL, [min_ads()])
            words = [word for (word,) in cursor.fetchall() if PLAIN.match(word)]
        cache.set(cache_key(), words, timeout=CACHE_SECONDS)
    return words


def whole_forms(word: str) -> list[str] | None:
    """`word` and the common words it begins (most common first, at most MAX_EXPANSIONS), when
    `word` is common; None when it is not (it stays a prefix)."""
    words = common_words()
    if word not in words:
        return None
    longer = [other for other in words if other != word and other.startswith(word)]
    return [word, *longer[: MAX_EXPANSIONS - 1]]
