"""Writing categories: create, update (rename, move, re-schema), delete, and ad counts.

Every category write records an audit row in its transaction and bumps the tree cache's version
on commit. `adjust_ad_counts` is the ads app's hook: it runs inside the ad's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, ProtectedError, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.text import slugify

from apps.categories import attribute_schema, selectors
from apps.categories.models import Category
from apps.common import versions
from apps.common.audit import record_action
from apps.common.errors import Conflict, FieldError

# `all/` and `admin/...` are routes beside `<slug>/`.
RESERVED_SLUGS = frozenset({"all", "admin"})
SLUG_MAX_LENGTH = 120
UPDATABLE_FIELDS = ("name", "parent", "order", "icon", "attributes", "min_price", "max_price")


class HasDependents(Conflict):
    default_code = "has_dependents"
    default_detail = "This category still has subcategories or ads; move or remove them first."


# --- cache ------------------------------------------------------------------------------------


def invalidate_tree_cache() -> None:
    """Bump the tree's cache version: the next read rebuilds from the database."""
    versions.bump(selectors.VERSION_KEY)


def _invalidate_on_commit() -> None:
    versions.bump_now_and_on_commit(selectors.VERSION_KEY, what="category tree")


# --- slugs ------------------------------------------------------------------------------------


def slug_base(name: str) -> str:
    base = slugify(name)[:SLUG_MAX_LENGTH - 10].strip("-")
    return base or "category"


def free_slug(name: str) -> str:
    """slugify(name), else the first free `-2`, `-3`... (tree-wide, archived ones included)."""
    base = slug_base(name)
    pattern = rf"^{re.escape(base)}(-[0-9]+)?$"
    taken = set(Category.all_objects.filter(slug__regex=pattern).values_list("slug", flat=True))
    taken |= RESERVED_SLUGS
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _insert(category: Category) -> None:
    """Save a new category under a free slug; a concurrent insert taking it makes us retry."""
    for _attempt in range(5):
        category.slug = free_slug(category.name)
        try:
            with transaction.atomic():
                category.save()
            return
        except IntegrityError:
            if Category.all_objects.filter(slug=category.slug).exists():
                continue
            raise
    raise FieldError("name", "Could not find a free slug for this name; try again.", "unique")


# --- validation against the rest of the tree --------------------------------------------------


def _check_attributes(
    own: list[attribute_schema.Attribute], *, tree: selectors.Tree, parent_id: int | None,
    category_id: int | None, error_field: str = "attributes",
) -> None:
    """Keys unique along every lineage through this node, one type per key tree-wide."""
    inherited: list[attribute_schema.Attribute] = []
    if parent_id is not None and parent_id in tree.nodes:
        inherited = attribute_schema.load(tree.effective_definitions(parent_id))
    below: dict[str, str] = {}
    subtree: set[int] = set()
    if category_id is not None and category_id in tree.nodes:
        subtree = set(tree.descendants(category_id))
        for node_id in sorted(subtree - {category_id}):
            for definition in tree.nodes[node_id]["attributes"]:
                below.setdefault(definition["key"], tree.nodes[node_id]["name"])
    known: dict[str, tuple[str, str]] = {}
    for node_id in tree.preorder:
        if node_id == category_id:
            continue
        for definition in tree.nodes[node_id]["attributes"]:
            known.setdefault(definition["key"], (definition["type"], tree.nodes[node_id]["name"]))
    if error_field == "attributes":
        attribute_schema.check_lineage(own, inherited=inherited, below=below)
        attribute_schema.check_consistent_types(own, known=known)
        return
    # A move: the subtree's keys (own and below) must not clash with the new ancestors'.
    inherited_keys = {attribute.key for attribute in inherited}
    clashes = sorted(({a.key for a in own} | set(below)) & inherited_keys)
    if clashes:
        raise FieldError(
            error_field,
            f"The new parent already defines {', '.join(clashes)}, which this category "
            "(or a subcategory) defines too.",
            "invalid",
        )


def _live_parent(parent: Category | None) -> Category | None:
    if parent is None:
        return None
    locked = Category.objects.select_for_update().filter(pk=parent.pk).first()
    if locked is None:
        raise FieldError("parent", f'Invalid pk "{parent.pk}" - object does not exist.',
                         "does_not_exist")
    return locked


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise FieldError("name", "This field may not be blank.", "blank")
    return name


def _check_price_range(min_price: Decimal | None, max_price: Decimal | None) -> None:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise FieldError("max_price", "Ensure max_price is at least min_price.", "invalid")


# --- writes -----------------------------------------------------------------------------------


def check_placement(
    *, category: Category | None, parent: Category | None,
    attributes: list[attribute_schema.Attribute] | None,
) -> None:
    """Rules that need the rest of the tree, checked without writing (the admin form uses it):
    a category cannot sit under itself or a descendant (400 on `parent`); its own keys must be
    unique along the lineage and of one type tree-wide (`attributes.N.key` / `.type`); a moved
    subtree's keys must not clash with the new ancestors' (`parent`).

    `attributes` None means "unchanged" (the category's current definitions)."""
    if category is not None and category.pk is not None and parent is not None and (
        parent.pk == category.pk or parent.path.startswith(category.path)
    ):
        raise FieldError("parent",
                         "A category cannot be moved under itself or its subcategories.",
                         "invalid")
    tree, _ = selectors.load_tree(fresh=True)
    category_id = category.pk if category is not None else None
    parent_id = parent.pk if parent is not None else None
    if attributes is not None:
        _check_attributes(attributes, tree=tree, parent_id=parent_id, category_id=category_id)
    if category is not None and category_id is not None and parent_id != category.parent_id:
        own = (attributes if attributes is not None
               else attribute_schema.load(category.attributes or []))
        _check_attributes(own, tree=tree, parent_id=parent_id, category_id=category_id,
                          error_field="parent")


@transaction.atomic
def create_category(
    *, actor: Any, name: str, parent: Category | None = None, order: int = 0, icon: str = "",
    attributes: Any = None, min_price: Decimal | None = None, max_price: Decimal | None = None,
) -> Category:
    name = _clean_name(name)
    own = attribute_schema.parse_definitions(attributes)
    parent = _live_parent(parent)
    _check_price_range(min_price, max_price)
    check_placement(category=None, parent=parent, attributes=own)
    category = Category(
        name=name, parent=parent, order=order, icon=(icon or "").strip(),
        attributes=[attribute.to_json() for attribute in own],
        min_price=min_price, max_price=max_price,
        depth=parent.depth + 1 if parent else 0, path="",
    )
    _insert(category)
    category.path = f"{parent.path if parent else '/'}{category.pk}/"
    Category.all_objects.filter(pk=category.pk).update(path=category.path)
    record_action(category, "categories.category.created", actor=actor, data={
        "name": name, "slug": category.slug, "parent": category.parent_id,
    })
    _invalidate_on_commit()
    return category


@transaction.atomic
def update_category(*, actor: Any, category: Category, changes: Mapping[str, Any]) -> Category:
    """Apply the given fields (PUT: the fields sent; `parent: None` moves to the root).

    The slug never changes. Moving rewrites the subtree's `path`/`depth` in one UPDATE and
    moves the subtree's active-ad count from the old ancestors to the new ones."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    changes = {field: value for field, value in changes.items() if field in UPDATABLE_FIELDS}
    changed: dict[str, Any] = {}

    if "name" in changes:
        name = _clean_name(changes["name"])
        if name != category.name:
            changed["name"] = category.name = name
    new_parent = _live_parent(changes["parent"]) if "parent" in changes else category.parent
    own = (attribute_schema.parse_definitions(changes["attributes"])
           if "attributes" in changes else None)
    check_placement(category=category, parent=new_parent, attributes=own)
    if own is not None:
        stored = [attribute.to_json() for attribute in own]
        if stored != category.attributes:
            changed["attributes"] = category.attributes = stored
    for field in ("order", "icon", "min_price", "max_price"):
        if field in changes:
            value = changes[field]
            if field == "icon":
                value = (value or "").strip()
            if value != getattr(category, field):
                changed[field] = value
                setattr(category, field, value)
    _check_price_range(category.min_price, category.max_price)
    new_parent_id = new_parent.pk if new_parent else None
    if new_parent_id != category.parent_id:
        changed["parent"] = new_parent_id
        _move(category, new_parent)

    if not changed:
        return category
    category.save()
    record_action(category, "categories.category.updated", actor=actor,
                  data={"changed": sorted(changed)})
    _invalidate_on_commit()
    return category


def _move(category: Category, new_parent: Category | None) -> None:
    old_path, old_depth = category.path, category.depth
    new_path = f"{new_parent.path if new_parent else '/'}{category.pk}/"
    new_depth = new_parent.depth + 1 if new_parent else 0
    Category.all_objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + (new_depth - old_depth),
    )
    moved = category.ad_count
    if moved:
        old_ancestors = category.ancestor_ids
        new_ancestors = new_parent.lineage_ids if new_parent else []
        Category.all_objects.filter(pk__in=old_ancestors).update(ad_count=F("ad_count") - moved)
        Category.all_objects.filter(pk__in=new_ancestors).update(ad_count=F("ad_count") + moved)
    category.parent = new_parent
    category.path, category.depth = new_path, new_depth


@transaction.atomic
def delete_category(*, actor: Any, category: Category) -> None:
    """409 `has_dependents` while it has subcategories or ads not deleted. A category still
    referred to by soft-deleted ads is archived (hidden everywhere) instead of removed."""
    from apps.ads.models import Ad

    category = Category.objects.select_for_update().get(pk=category.pk)
    if Category.objects.filter(parent_id=category.pk).exists():
        raise HasDependents("This category has subcategories; move or delete them first.")
    if Ad.objects.filter(category_id=category.pk, deleted_at__isnull=True).exists():
        raise HasDependents("This category has ads; move or delete them first.")
    archived = False
    data = {"name": category.name, "slug": category.slug, "parent": category.parent_id}
    try:
        with transaction.atomic():
            Category.all_objects.filter(pk=category.pk).delete()
    except ProtectedError:
        archived = True
        Category.all_objects.filter(pk=category.pk).update(deleted_at=timezone.now())
    record_action(category, "categories.category.deleted", actor=actor,
                  data={**data, "archived": archived})
    _invalidate_on_commit()


# --- ad counts --------------------------------------------------------------------------------

_ADJUST_SQL = """
UPDATE {table} SET ad_count = GREATEST(ad_count + %s, 0)
WHERE id IN (
    SELECT part::bigint
    FROM {table} AS node, unnest(string_to_array(trim(both '/' from node.path), '/')) AS part
    WHERE node.id = %s AND part <> ''
)
"""


def adjust_ad_counts(*, category_id: int, delta: int) -> None:
    """An ad entered (+1) or left (-1) the live-active state in this category: one UPDATE over
    the category and its ancestors (ids from its `path`). Call inside the ad's transaction."""
    if not delta:
        return
    table = connection.ops.quote_name(Category._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_ADJUST_SQL.format(table=table), [delta, category_id])


@transaction.atomic
def recount_ad_counts() -> int:
    """Recompute every `ad_count` from the ads (a repair tool); returns how many changed."""
    from apps.ads.models import LIVE_ACTIVE, Ad

    rows = (Ad.objects.filter(LIVE_ACTIVE).order_by().values("category_id")
            .annotate(n=Count("id")).values_list("category_id", "n"))
    return _store_counts(dict(rows))


def _store_counts(own: dict[int, int]) -> int:
    rows = list(Category.all_objects.select_for_update().values_list("id", "path", "ad_count"))
    totals = {category_id: 0 for category_id, _, _ in rows}
    for category_id, path, _ in rows:
        count = own.get(category_id, 0)
        if not count:
            continue
        for part in path.strip("/").split("/"):
            if part and int(part) in totals:
                totals[int(part)] += count
    changed = 0
    for category_id, _, current in rows:
        if totals[category_id] != current:
            Category.all_objects.filter(pk=category_id).update(ad_count=totals[category_id])
            changed += 1
    return changed
