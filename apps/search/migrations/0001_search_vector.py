"""Full-text and typo-tolerant search on ads, with nothing to keep in sync.

- mkt_unaccent(): unaccent() is only STABLE (it reads a dictionary by name), so a generated
  column cannot call it; this wrapper names the dictionary explicitly and is IMMUTABLE.
- ads_ad.search_vector: a STORED generated column. Title (A) in the `simple` config (brand and
  model names kept as typed) and `english` (stems: "phones" finds "phone"), attribute values
  (B), description (C simple, D english). The model does not declare it, so ORM reads never
  carry it; search queries name it.
- Partial GIN indexes over live active ads: the vector, and trigrams of the folded title for
  typos (`q <% title`, indexable, unlike a filter on a computed similarity).
- pg_trgm.word_similarity_threshold 0.4 for this database: 0.6 (the default) misses common
  transpositions such as "iphnoe".
"""

from django.db import migrations

LIVE = "status = 'active' AND deleted_at IS NULL"

FORWARD = f"""
CREATE OR REPLACE FUNCTION mkt_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

ALTER TABLE ads_ad ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, mkt_unaccent(coalesce(title, ''))), 'A')
    || setweight(to_tsvector('english'::regconfig, mkt_unaccent(coalesce(title, ''))), 'A')
    || setweight(jsonb_to_tsvector('simple'::regconfig, coalesce(attributes, '{{}}'::jsonb),
                                   '["string", "numeric"]'::jsonb), 'B')
    || setweight(to_tsvector('simple'::regconfig, mkt_unaccent(coalesce(description, ''))), 'C')
    || setweight(to_tsvector('english'::regconfig, mkt_unaccent(coalesce(description, ''))), 'D')
) STORED;

CREATE INDEX ad_search_vector_gin ON ads_ad USING gin (search_vector) WHERE {LIVE};
CREATE INDEX ad_title_trgm_gin ON ads_ad USING gin (lower(mkt_unaccent(title)) gin_trgm_ops)
    WHERE {LIVE};

DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET pg_trgm.word_similarity_threshold = 0.4',
                   current_database());
END $$;
"""

BACKWARD = """
DROP INDEX IF EXISTS ad_title_trgm_gin;
DROP INDEX IF EXISTS ad_search_vector_gin;
ALTER TABLE ads_ad DROP COLUMN IF EXISTS search_vector;
DROP FUNCTION IF EXISTS mkt_unaccent(text);
"""


class Migration(migrations.Migration):
    dependencies = [("common", "0003_postgres_extensions"), ("ads", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
