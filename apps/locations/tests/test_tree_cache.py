"""The location tree each process keeps (apps.locations.selectors): read once per version, a
new location shows at once, another process's change is seen on the next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import TestCase
from rest_framework.test import APIClient

from apps.common import versions
from apps.locations import selectors, services
from apps.locations.models import Location

pytestmark = pytest.mark.django_db


def slugs(nodes: list[dict[str, Any]]) -> set[str]:
    return {node["slug"] for node in nodes} | {
        slug for node in nodes for slug in slugs(node["children"])
    }


def test_an_unchanged_tree_is_read_from_memory(django_assert_num_queries: Any) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ensure_location(name="Nairobi")
    first = selectors.location_tree()
    with django_assert_num_queries(0):
        again = selectors.location_tree()
        briefs = selectors.location_briefs_by_id()
    assert again is first  # the process's copy: no unpickling
    nairobi = Location.objects.get(slug="nairobi")
    assert briefs[nairobi.pk] == {"id": nairobi.pk, "slug": "nairobi", "name": "Nairobi"}


def test_a_new_location_shows_at_once() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        nairobi = services.ensure_location(name="Nairobi")
    assert "westlands-nairobi" not in slugs(selectors.location_tree())
    with TestCase.captureOnCommitCallbacks(execute=True):
        westlands = services.ensure_location(name="Westlands", parent=nairobi)
    assert westlands.slug in slugs(selectors.location_tree())
    assert selectors.location_briefs_by_id()[westlands.pk]["name"] == "Westlands"
    body = APIClient().get("/api/locations/").json()
    assert [child["slug"] for child in body[0]["children"]] == [westlands.slug]


def test_another_process_change_is_seen_on_the_next_read() -> None:
    """Another process wrote a location and bumped the version: this process's copy is old."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ensure_location(name="Mombasa")
    selectors.location_tree()
    Location.objects.create(name="Kisumu", slug="kisumu")  # not through this process's service
    assert "kisumu" not in slugs(selectors.location_tree())
    versions.bump(selectors.VERSION_KEY)  # what the other process's commit did
    assert "kisumu" in slugs(selectors.location_tree())


def test_a_version_lost_with_redis_starts_a_new_counter() -> None:
    """Redis restarted empty: the counter starts again at the clock, never at a version an
    earlier counter reached, so the kept copy cannot match."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ensure_location(name="Nakuru")
    kept = selectors.tree_version()
    selectors.location_tree()
    cache.delete(selectors.VERSION_KEY)
    Location.objects.create(name="Eldoret", slug="eldoret")
    assert selectors.tree_version() > kept
    assert "eldoret" in slugs(selectors.location_tree())
