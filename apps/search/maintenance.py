"""Rebuilding PostgreSQL search's derived tables from the ads table.

Triggers on ads_ad keep them exact as ads change (migration 0004); these rebuilds are the safety
net (daily beat task, `manage.py search_reindex`, the benchmark after a bulk load):

- counts: recomputed under an EXCLUSIVE lock on the two count tables, so a concurrent ad
  write's trigger waits and then applies its delta on top of a snapshot that did not see it
  (nothing counted twice or lost). Searches keep reading meanwhile.
- vocabulary: ts_stat over live titles, upserted (ndoc refreshed) and words no live title has
  any more removed. A word added by an ad committed during the rebuild may be dropped until
  the next rebuild: typo correction for it waits a day, nothing else changes.
"""

from __future__ import annotations

import time

from django.db import connections, transaction

LIVE = "status = 'active' AND deleted_at IS NULL"
BUCKETS = "ARRAY[10000, 50000, 100000, 500000, 1000000]::numeric[]"

VOCABULARY_SQL = f"""
WITH stat AS MATERIALIZED (
    SELECT word, ndoc FROM ts_stat($$SELECT to_tsvector('simple'::regconfig,
        mkt_unaccent(coalesce(title, ''))) FROM ads_ad WHERE {LIVE}$$)
    WHERE length(word) BETWEEN 3 AND 40 AND word ~ '^[a-z0-9]+$' AND word ~ '[a-z]'),
gone AS (DELETE FROM search_searchvocabulary v
         WHERE NOT EXISTS (SELECT 1 FROM stat WHERE stat.word = v.word))
INSERT INTO search_searchvocabulary (word, ndoc) SELECT word, ndoc FROM stat ORDER BY word
ON CONFLICT (word) DO UPDATE SET ndoc = EXCLUDED.ndoc
    WHERE search_searchvocabulary.ndoc <> EXCLUDED.ndoc
"""  # noqa: S608  (constants only)

COUNTS_SQL = [
    "LOCK TABLE search_facetcount, search_attributecount IN EXCLUSIVE MODE",
    "DELETE FROM search_facetcount",
    "DELETE FROM search_attributecount",
    f"""INSERT INTO search_facetcount (category_id, county_id, condition, bucket, n)
    SELECT category_id, coalesce(search_location_root(location_id), 0), cond, bucket, sum(n)
    FROM (SELECT category_id, location_id, coalesce(condition, '') AS cond,
                 width_bucket(price, {BUCKETS}) AS bucket, count(*) AS n
          FROM ads_ad WHERE {LIVE} GROUP BY 1, 2, 3, 4) raw
    GROUP BY 1, 2, 3, 4""",  # noqa: S608
    f"""INSERT INTO search_attributecount (category_id, key, value, n)
    SELECT a.category_id, e.key, e.value #>> '{{}}', count(*)
    FROM ads_ad a, jsonb_each(CASE WHEN jsonb_typeof(a.attributes) = 'object'
                                   THEN a.attributes ELSE '{{}}'::jsonb END) e
    WHERE a.{LIVE.replace(" AND ", " AND a.")} AND jsonb_typeof(e.value) = 'string'
      AND length(e.value #>> '{{}}') <= 100
    GROUP BY 1, 2, 3""",  # noqa: S608
]


def rebuild_vocabulary(*, using: str = "default") -> int:
    with connections[using].cursor() as cursor:
        cursor.execute(VOCABULARY_SQL)
        cursor.execute("SELECT count(*) FROM search_searchvocabulary")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def rebuild_counts(*, using: str = "default") -> int:
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for statement in COUNTS_SQL:
            cursor.execute(statement)
        cursor.execute("SELECT coalesce(sum(n), 0) FROM search_facetcount")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def rebuild_all(*, using: str = "default") -> dict[str, float]:
    """Both rebuilds; returns what they hold and how long each took (seconds)."""
    started = time.monotonic()
    words = rebuild_vocabulary(using=using)
    middle = time.monotonic()
    ads = rebuild_counts(using=using)
    return {
        "words": words,
        "vocabulary_s": middle - started,
        "ads": ads,
        "counts_s": time.monotonic() - middle,
    }
