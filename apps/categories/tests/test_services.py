"""Services: slugs, paths, moves, deletion, ad counts, audit and cache versioning."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.categories import selectors, services
from apps.categories.models import Category
from apps.categories.tests.factories import make_ad, make_category, reload, update_category
from apps.common.errors import FieldError
from apps.common.models import AuditEntry

pytestmark = pytest.mark.django_db


def version():
    return selectors.tree_version()  # starts the counter at an epoch if Redis has none


def test_paths_and_depths_follow_the_tree():
    a = make_category("A")
    b = make_category("B", a)
    c = make_category("C", b)
    d = make_category("D", c)
    assert d.path == f"/{a.pk}/{b.pk}/{c.pk}/{d.pk}/"
    assert (reload(d).depth, d.lineage_ids, d.ancestor_ids) == (
        3, [a.pk, b.pk, c.pk, d.pk], [a.pk, b.pk, c.pk])


def test_free_slug_counts_past_taken_suffixes():
    for _ in range(3):
        make_category("Toys")
    make_category("Toys 7")
    assert list(Category.objects.order_by("pk").values_list("slug", flat=True)) == [
        "toys", "toys-2", "toys-3", "toys-7"]
    assert services.free_slug("Toys") == "toys-4"
    assert services.free_slug("toys-2") == "toys-2-2"


def test_a_long_name_still_gets_a_unique_slug():
    name = "x" * 100
    slugs = {make_category(name).slug for _ in range(3)}
    assert len(slugs) == 3
    assert all(len(slug) <= 120 for slug in slugs)


def test_slug_survives_rename_and_move():
    a, b = make_category("A"), make_category("B")
    child = make_category("Child", a)
    child = update_category(child, name="Renamed", parent=b)
    assert reload(child).slug == "child"
    assert reload(child).name == "Renamed"


def test_the_cache_version_moves_at_the_write_and_again_on_commit(
        django_capture_on_commit_callbacks):
    start = version()
    with django_capture_on_commit_callbacks(execute=True):
        category = services.create_category(actor=None, name="New")
        assert version() == start + 1  # this transaction reads its own write
        assert [n["name"] for n in selectors.category_tree()] == ["New"]
    assert version() == start + 2  # retires whatever was cached before the commit
    update_category(category, name="Renamed")
    assert version() == start + 4
    assert [n["name"] for n in selectors.category_tree()] == ["Renamed"]


def test_move_updates_the_whole_subtree_in_one_statement(django_assert_max_num_queries):
    root = make_category("Root")
    mid = make_category("Mid", root)
    leaves = [make_category(f"Leaf {i}", mid) for i in range(5)]
    target = make_category("Target")
    with CaptureQueriesContext(connection) as queries:
        update_category(mid, parent=target)
    rewrites = [q["sql"] for q in queries.captured_queries
                if q["sql"].startswith('UPDATE "categories_category" SET "path"')]
    assert len(rewrites) == 1
    for leaf in leaves:
        leaf = reload(leaf)
        assert leaf.path == f"/{target.pk}/{mid.pk}/{leaf.pk}/"
        assert leaf.depth == 2


def test_move_moves_the_subtree_counts(user):
    a = make_category("A")
    a1 = make_category("A1", a)
    leaf = make_category("Leaf", a1)
    b = make_category("B")
    b1 = make_category("B1", b)
    make_ad(user, leaf)
    make_ad(user, leaf)
    make_ad(user, a1)
    update_category(a1, parent=b1)
    counts = {c.name: c.ad_count for c in Category.objects.all()}
    assert counts == {"A": 0, "A1": 3, "Leaf": 2, "B": 3, "B1": 3}
    assert services.recount_ad_counts() == 0  # consistent with the ads themselves


def test_adjust_ad_counts_is_one_update_over_the_lineage(user, django_assert_num_queries):
    a = make_category("A")
    b = make_category("B", a)
    c = make_category("C", b)
    sibling = make_category("Sibling", a)
    with django_assert_num_queries(1):
        services.adjust_ad_counts(category_id=c.pk, delta=1)
    services.adjust_ad_counts(category_id=c.pk, delta=2)
    counts = {x.name: x.ad_count for x in Category.objects.all()}
    assert counts == {"A": 3, "B": 3, "C": 3, "Sibling": 0}
    services.adjust_ad_counts(category_id=c.pk, delta=-1)
    assert reload(a).ad_count == 2
    assert reload(sibling).ad_count == 0
    with django_assert_num_queries(0):
        services.adjust_ad_counts(category_id=c.pk, delta=0)


def test_counts_never_go_negative():
    a = make_category("A")
    services.adjust_ad_counts(category_id=a.pk, delta=-1)
    assert reload(a).ad_count == 0


def test_recount_repairs_counts_from_live_active_ads(user):
    a = make_category("A")
    b = make_category("B", a)
    make_ad(user, b, count=False)
    make_ad(user, b, count=False)
    make_ad(user, b, status="sold", count=False)
    make_ad(user, b, deleted=True, count=False)
    make_ad(user, a, count=False)
    assert services.recount_ad_counts() == 2
    assert (reload(a).ad_count, reload(b).ad_count) == (3, 2)
    assert services.recount_ad_counts() == 0


def test_create_under_an_archived_parent_is_refused(user):
    parent = make_category("Old")
    make_ad(user, parent, deleted=True)
    services.delete_category(actor=None, category=parent)
    stale = Category.all_objects.get(pk=parent.pk)
    with pytest.raises(FieldError):
        services.create_category(actor=None, name="New", parent=stale)


def test_deleting_records_whether_it_archived(user):
    gone = make_category("Gone")
    kept = make_category("Kept")
    make_ad(user, kept, deleted=True)
    services.delete_category(actor=None, category=gone)
    services.delete_category(actor=None, category=kept)
    entries = AuditEntry.objects.filter(action="categories.category.deleted").order_by("id")
    assert [(e.target_id, e.data["archived"]) for e in entries] == [
        (str(gone.pk), False), (str(kept.pk), True)]


def test_archived_children_do_not_block_their_parent(user):
    parent = make_category("Parent")
    child = make_category("Child", parent)
    make_ad(user, child, deleted=True)
    services.delete_category(actor=None, category=child)
    assert selectors.is_leaf(reload(parent))
    services.delete_category(actor=None, category=parent)
    assert reload(parent).deleted_at is not None


def test_a_category_nothing_refers_to_is_really_deleted():
    parent = make_category("Parent")
    child = make_category("Child", parent)
    services.delete_category(actor=None, category=child)
    services.delete_category(actor=None, category=parent)
    assert not Category.all_objects.exists()


def test_price_range_is_checked():
    with pytest.raises(FieldError):
        services.create_category(actor=None, name="X", min_price=10, max_price=5)


def test_the_version_counter_restarts_from_a_new_epoch_after_redis_loses_it():
    """A process keeps the last tree it read with its version: a counter that restarted at a
    number it had reached before (Redis emptied) would hand it the old tree."""
    first = version()
    cache.delete(selectors.VERSION_KEY)
    make_category("Added while the counter was gone")

    assert version() > first
    assert "Added while the counter was gone" in [n["name"] for n in selectors.category_tree()]
