"""Keep the PostgreSQL search's derived tables exact: statement-level triggers on ads_ad.

- search_searchvocabulary: the title words of live active ads (what typos are corrected to).
  New words are added by the statement that brings them (ON CONFLICT DO NOTHING, in word
  order, so concurrent writers never deadlock); `ndoc` is refreshed and dead words dropped by
  the daily rebuild (apps.search.maintenance), which `search_reindex` also runs.
- search_facetcount / search_attributecount: live active ads by (category, county, condition,
  price bucket) and by (category, attribute, string value). Each statement adds +1 per row
  entering the live set and -1 per row leaving it, grouped by key, upserted in key order.
  Rows whose counted columns did not change cost nothing but the comparison.
- fuzzystrmatch: levenshtein_less_equal() bounds typo candidates to Elasticsearch's AUTO
  fuzziness (1 edit for 3-5 letters, 2 above).
"""

# ruff: noqa: S608  (trigger SQL built from constants only; no user value)
from django.db import migrations

LIVE = "status = 'active' AND deleted_at IS NULL"
BUCKETS = "ARRAY[10000, 50000, 100000, 500000, 1000000]::numeric[]"
WORD_OK = "length(w) BETWEEN 3 AND 40 AND w ~ '^[a-z0-9]+$' AND w ~ '[a-z]'"


# The upserts, each reading a relation `changed(sign, category_id, location_id, condition,
# price, attributes, title)` of rows entering (+1) or leaving (-1) the live active set.
def apply(source: str) -> str:
    return f"""
    WITH changed AS ({source})
    INSERT INTO search_facetcount (category_id, county_id, condition, bucket, n)
    SELECT category_id, county_id, cond, bucket, sum(d)::int FROM (
        SELECT category_id, coalesce(search_location_root(location_id), 0) AS county_id,
               cond, bucket, d
        FROM (SELECT category_id, location_id, coalesce(condition, '') AS cond,
                     width_bucket(price, {BUCKETS}) AS bucket, sum(sign) AS d
              FROM changed GROUP BY 1, 2, 3, 4) raw) keyed
    GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (category_id, county_id, condition, bucket)
        DO UPDATE SET n = search_facetcount.n + EXCLUDED.n;

    WITH changed AS ({source})
    INSERT INTO search_attributecount (category_id, key, value, n)
    SELECT c.category_id, e.key, e.value #>> '{{}}', sum(c.sign)::int
    FROM changed c, jsonb_each(CASE WHEN jsonb_typeof(c.attributes) = 'object'
                                    THEN c.attributes ELSE '{{}}'::jsonb END) e
    WHERE jsonb_typeof(e.value) = 'string' AND length(e.value #>> '{{}}') <= 100
    GROUP BY 1, 2, 3 HAVING sum(c.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (category_id, key, value) DO UPDATE SET n = search_attributecount.n + EXCLUDED.n;

    WITH changed AS ({source})
    INSERT INTO search_searchvocabulary (word, ndoc)
    SELECT w, count(*) FROM changed c,
        unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
                                             mkt_unaccent(coalesce(c.title, ''))))) AS w
    WHERE c.sign > 0 AND {WORD_OK}
    GROUP BY w ORDER BY w
    ON CONFLICT (word) DO NOTHING;
"""


COLUMNS = "category_id, location_id, condition, price, attributes, title"
COUNTED = (
    "status",
    "deleted_at",
    "category_id",
    "location_id",
    "condition",
    "price",
    "attributes",
    "title",
)
CHANGED = "(" + " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in COUNTED) + ")"
LIVE_O = "o.status = 'active' AND o.deleted_at IS NULL"
LIVE_N = "n.status = 'active' AND n.deleted_at IS NULL"
INSERTED = f"SELECT 1 AS sign, {COLUMNS} FROM new_rows WHERE {LIVE}"
DELETED = f"SELECT -1 AS sign, {COLUMNS} FROM old_rows WHERE {LIVE}"
UPDATED = f"""
    SELECT s.* FROM old_rows o JOIN new_rows n ON n.id = o.id,
    LATERAL (SELECT -1 AS sign, o.category_id, o.location_id, o.condition, o.price,
                    o.attributes, o.title WHERE {LIVE_O}
             UNION ALL
             SELECT 1, n.category_id, n.location_id, n.condition, n.price, n.attributes,
                    n.title WHERE {LIVE_N}) s
    WHERE {CHANGED}"""

FORWARD = f"""
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE OR REPLACE FUNCTION search_location_root(bigint) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH RECURSIVE up(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM locations_location WHERE id = $1
        UNION ALL
        SELECT l.id, l.parent_id, up.depth + 1 FROM locations_location l
            JOIN up ON l.id = up.parent_id WHERE up.depth < 20)
    SELECT id FROM up WHERE parent_id IS NULL LIMIT 1
$$;

CREATE OR REPLACE FUNCTION search_ads_inserted() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    {apply(INSERTED)}
    RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION search_ads_updated() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {CHANGED}) THEN
        {apply(UPDATED)}
    END IF;
    RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION search_ads_deleted() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    {apply(DELETED)}
    RETURN NULL;
END $f$;

CREATE TRIGGER search_ads_inserted AFTER INSERT ON ads_ad REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_ads_inserted();
CREATE TRIGGER search_ads_updated AFTER UPDATE ON ads_ad
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_ads_updated();
CREATE TRIGGER search_ads_deleted AFTER DELETE ON ads_ad REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_ads_deleted();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS search_ads_inserted ON ads_ad;
DROP TRIGGER IF EXISTS search_ads_updated ON ads_ad;
DROP TRIGGER IF EXISTS search_ads_deleted ON ads_ad;
DROP FUNCTION IF EXISTS search_ads_inserted();
DROP FUNCTION IF EXISTS search_ads_updated();
DROP FUNCTION IF EXISTS search_ads_deleted();
DROP FUNCTION IF EXISTS search_location_root(bigint);
"""


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from apps.search import maintenance

    maintenance.rebuild_all(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0003_derived_tables"),
        ("locations", "0001_initial"),
        ("ads", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
