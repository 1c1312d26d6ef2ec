"""search_tsquery(parts): what `to_tsquery('simple', q) || to_tsquery('english', q)` matches,
q = parts joined by ' & ', with each word the two configurations read alike looked up once.

The plain OR names every such word twice, and a GIN index scan reads a word's posting list
once per mention (a prefix `toyota:*` entry is never shared): one-word searches paid double
for their index scan. Factored: common & (simple-only | english-only), where a part the
english configuration drops (a stop word) is left out of its side, and a query the english
configuration reads as empty is the simple one alone (as `||` does with an empty operand).
IMMUTABLE with constant arguments: the planner evaluates it once, at plan time, so the index
condition and the row estimates see the resulting constant.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION search_tsquery(parts text[]) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    part text;
    simple_part tsquery;
    english_part tsquery;
    -- NULL stands for "nothing yet" (an ''::tsquery literal would log a notice each time)
    common tsquery;
    simple_only tsquery;
    english_only tsquery;
BEGIN
    FOREACH part IN ARRAY parts LOOP
        simple_part := to_tsquery('simple'::regconfig, part);
        english_part := to_tsquery('english'::regconfig, part);
        IF simple_part = english_part THEN
            common := coalesce(common && simple_part, simple_part);
        ELSE
            simple_only := coalesce(simple_only && simple_part, simple_part);
            english_only := coalesce(english_only && english_part, english_part);
        END IF;
    END LOOP;
    IF english_only IS NULL OR numnode(english_only) = 0 THEN
        -- english reads every differing part as nothing: its query is `common` (or empty)
        IF common IS NOT NULL AND numnode(common) > 0 THEN
            RETURN common;
        END IF;
        RETURN coalesce(simple_only, common, to_tsquery('simple'::regconfig, ''));
    END IF;
    IF common IS NULL THEN
        RETURN simple_only || english_only;
    END IF;
    RETURN common && (simple_only || english_only);
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0004_search_triggers")]

    operations = [
        migrations.RunSQL(CREATE, "DROP FUNCTION IF EXISTS search_tsquery(text[]);"),
    ]
