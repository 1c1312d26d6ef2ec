"""Statements the app runs over and over are prepared on the server (marketplace.settings.base,
DB_PREPARE_THRESHOLD): parameters bound by PostgreSQL, and after the threshold the statement is
planned once per connection."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from apps.ads.models import Ad

pytestmark = pytest.mark.django_db


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_repeated_read_is_prepared_once_with_its_values_as_parameters() -> None:
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for n in range(threshold + 2):
        assert Ad.objects.filter(slug=f"no-such-ad-{n}").first() is None
    mine = [text for text in prepared_statements() if '"ads_ad"."slug" = $1' in text]
    assert len(mine) == 1  # one statement for every slug: the values are not in its text
    assert "no-such-ad" not in mine[0]


def test_values_are_bound_not_quoted_into_the_text() -> None:
    """A value that would break SQL quoted into it travels as a parameter."""
    tricky = "x'); DROP TABLE ads_ad; --"
    for _ in range(settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] + 1):
        assert not Ad.objects.filter(title=tricky).exists()
    assert Ad.objects.count() == 0  # the table is still there
