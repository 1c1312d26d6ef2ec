"""Reading the category tree.

The tree's structure (names, slugs, order, icons, own attribute definitions) is built in Python
from one query and cached in Redis under a versioned key; every category write bumps the version
on commit (`services.invalidate_tree_cache`), so the next read rebuilds. `ad_count` changes with
every ad status change, so it is never cached: each response reads it fresh with one cheap query
(`SELECT id, ad_count`), or takes it from the rows a cold-cache rebuild just read. Every request
therefore costs one SQL query whatever the tree's size.

Structure comes from `parent` pointers (not `path`), so a wrong `path` cannot hide a node here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

from apps.categories.models import Category
from apps.common import versions

logger = logging.getLogger(__name__)

VERSION_KEY = "categories:tree:version"
TREE_KEY = "categories:tree:v1:{version}"  # bump "v1" when the cached layout changes
TREE_TIMEOUT = 24 * 3600  # older versions fall out on their own; the live one is rebuilt daily

NODE_FIELDS = ("id", "name", "slug", "parent", "depth", "order", "icon")
ATTRIBUTE_FIELDS = ("key", "label", "type", "required", "filterable", "unit", "choices", "min",
                    "max")
Node = dict[str, Any]


class Tree:
    """The cached structure, with the walks the API and the ads app need."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.nodes: dict[int, Node] = data["nodes"]
        self.roots: list[int] = data["roots"]
        self.slugs: dict[str, int] = data["slugs"]
        self.preorder: list[int] = data["preorder"]

    def by_slug(self, slug: str) -> Node | None:
        node_id = self.slugs.get(slug)
        return None if node_id is None else self.nodes[node_id]

    def ancestors(self, node_id: int) -> list[Node]:
        """Root first, without the node itself."""
        chain: list[Node] = []
        parent_id = self.nodes[node_id]["parent"]
        while parent_id is not None and parent_id in self.nodes:
            chain.append(self.nodes[parent_id])
            parent_id = self.nodes[parent_id]["parent"]
        chain.reverse()
        return chain

    def descendants(self, node_id: int) -> list[int]:
        """The node and everything below it, depth first."""
        result: list[int] = []
        stack = [node_id]
        while stack:
            current = stack.pop()
            result.append(current)
            stack.extend(reversed(self.nodes[current]["children"]))
        return result

    def effective_definitions(self, node_id: int) -> list[dict[str, Any]]:
        lineage = [*self.ancestors(node_id), self.nodes[node_id]]
        return [definition for node in lineage for definition in node["attributes"]]


def build_tree_data(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    nodes: dict[int, Node] = {}
    for row in rows:
        nodes[row["id"]] = {
            "id": row["id"], "name": row["name"], "slug": row["slug"],
            "parent": row["parent_id"], "depth": 0, "order": row["order"], "icon": row["icon"],
            # jsonb reorders an object's members: restore the documented order once, here.
            "attributes": [{name: definition.get(name) for name in ATTRIBUTE_FIELDS}
                           for definition in row["attributes"] or []],
            "children": [],
        }

    def sort_key(node_id: int) -> tuple[int, str, int]:
        node = nodes[node_id]
        return node["order"], node["name"].lower(), node_id

    roots: list[int] = []
    for node_id, node in nodes.items():
        parent_id = node["parent"]
        (nodes[parent_id]["children"] if parent_id in nodes else roots).append(node_id)
    roots.sort(key=sort_key)
    for node in nodes.values():
        node["children"].sort(key=sort_key)
    preorder: list[int] = []
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        node_id, depth = stack.pop()
        nodes[node_id]["depth"] = depth
        preorder.append(node_id)
        stack.extend((child, depth + 1) for child in reversed(nodes[node_id]["children"]))
    return {"nodes": nodes, "roots": roots, "preorder": preorder,
            "slugs": {node["slug"]: node_id for node_id, node in nodes.items()}}


def _read_rows() -> tuple[dict[str, Any], dict[int, int]]:
    rows: list[dict[str, Any]] = [dict(row) for row in Category.objects.order_by().values(
        "id", "name", "slug", "parent_id", "order", "icon", "attributes", "ad_count")]
    return build_tree_data(rows), {row["id"]: row["ad_count"] for row in rows}


def tree_version() -> int:
    return versions.current(VERSION_KEY, what="category tree")


# The tree this process read last, with its version: a request reads the tree several times
# (filters, rendering, facets), and unpickling it from Redis costs ~1.5 ms each time.
_memo: tuple[int, dict[str, Any]] | None = None


def load_tree(*, fresh: bool = False) -> tuple[Tree, dict[int, int] | None]:
    """The tree, and the ad counts when they were read on the way (cold cache or `fresh`).

    `fresh` reads the database and leaves the cache alone: for responses to writes, whose
    cache bump only happens on commit."""
    global _memo
    if fresh:
        rows, counts = _read_rows()
        return Tree(rows), counts
    version = tree_version()
    memo = _memo
    if version > 0 and memo is not None and memo[0] == version:
        return Tree(memo[1]), None
    key = TREE_KEY.format(version=version)
    data: dict[str, Any] | None = None
    if version >= 0:
        try:
            data = cache.get(key)
        except Exception:
            logger.warning("category tree cache unavailable", exc_info=True)
    read_counts: dict[int, int] | None = None
    if data is None:
        data, read_counts = _read_rows()
        if version >= 0:
            try:
                cache.set(key, data, timeout=TREE_TIMEOUT)
            except Exception:
                logger.warning("category tree cache unavailable", exc_info=True)
    if version > 0:
        _memo = (version, data)
    return Tree(data), read_counts


def ad_counts(ids: list[int] | None = None) -> dict[int, int]:
    """Current counts: the one query each tree response makes."""
    queryset = Category.objects.order_by()
    if ids is not None:
        queryset = queryset.filter(id__in=ids)
    return dict(queryset.values_list("id", "ad_count"))


def _node_output(node: Node, counts: dict[int, int]) -> dict[str, Any]:
    out = {field: node[field] for field in NODE_FIELDS}
    out["ad_count"] = counts.get(node["id"], 0)
    return out


# --- API reads --------------------------------------------------------------------------------


def category_tree() -> list[dict[str, Any]]:
    """Roots with nested `children`, siblings by order then name (case-insensitive)."""
    tree, counts = load_tree()
    if counts is None:
        counts = ad_counts()
    rendered: dict[int, dict[str, Any]] = {}
    for node_id in reversed(tree.preorder):  # children before parents
        node = tree.nodes[node_id]
        out = _node_output(node, counts)
        out["children"] = [rendered.pop(child) for child in node["children"]]
        rendered[node_id] = out
    return [rendered[root] for root in tree.roots]


def flat_categories() -> list[dict[str, Any]]:
    """Every node, flat, in tree order (depth first, siblings in display order)."""
    tree, counts = load_tree()
    if counts is None:
        counts = ad_counts()
    return [_node_output(tree.nodes[node_id], counts) for node_id in tree.preorder]


def get_category_detail(slug: str, *, fresh: bool = False) -> dict[str, Any] | None:
    """Node + `ancestors` (root first) + `children` + effective `attributes`; None if unknown."""
    tree, counts = load_tree(fresh=fresh)
    node = tree.by_slug(slug)
    if node is None:
        return None
    if counts is None:
        counts = ad_counts([node["id"], *node["children"]])
    detail = _node_output(node, counts)
    detail["ancestors"] = [{"id": a["id"], "slug": a["slug"], "name": a["name"]}
                           for a in tree.ancestors(node["id"])]
    detail["children"] = [_node_output(tree.nodes[child], counts) for child in node["children"]]
    detail["attributes"] = tree.effective_definitions(node["id"])
    return detail


# --- for other apps ---------------------------------------------------------------------------


def get_category(category_id: Any) -> Category | None:
    """A live category by id (any form: None when it is not a known id)."""
    try:
        return Category.objects.filter(pk=category_id).first()
    except (TypeError, ValueError):
        return None


def get_category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def descendant_ids(slug: str) -> list[int] | None:
    """The category and all its descendants' ids (for `?category=`); None for an unknown slug.
    From the cached tree: no SQL."""
    tree, _ = load_tree()
    node = tree.by_slug(slug)
    return None if node is None else tree.descendants(node["id"])


def _tree_for(category: Category) -> Tree:
    """The cached tree, or the database's when the cache does not know this node yet."""
    tree, _ = load_tree()
    node = tree.nodes.get(category.pk)
    if node is None or node["parent"] != category.parent_id:
        tree, _ = load_tree(fresh=True)
    return tree


def is_leaf(category: Category) -> bool:
    """True when the category has no (live) subcategory: only leaves take ads. Read from the
    database (one query): it guards a write."""
    return not Category.objects.filter(parent_id=category.pk).exists()


def effective_attribute_definitions(category: Category) -> list[dict[str, Any]]:
    """Stored definitions, ancestors' first (root down), then the category's own: one query
    over the ids in its `path`. From the database, not the cache: it guards ad writes, which
    must see a schema change at once (in the same transaction too)."""
    lineage = category.lineage_ids
    if not lineage or lineage[-1] != category.pk:  # no path (not made by the services)
        tree = _tree_for(category)
        if category.pk not in tree.nodes:
            return list(category.attributes or [])
        return tree.effective_definitions(category.pk)
    # Read with the category itself when the ads' input serializer loaded it (AdCreateInput).
    rows = getattr(category, "lineage_attributes", None)
    if rows is None:
        rows = dict(Category.objects.filter(pk__in=lineage).values_list("pk", "attributes"))
    return [{name: definition.get(name) for name in ATTRIBUTE_FIELDS}
            for node_id in lineage for definition in rows.get(node_id) or []]


def subtree_attribute_definitions(category: Category) -> list[dict[str, Any]]:
    """The effective schema, then what each subcategory adds (depth first)."""
    tree = _tree_for(category)
    if category.pk not in tree.nodes:
        return list(category.attributes or [])
    below = tree.descendants(category.pk)[1:]
    return [*tree.effective_definitions(category.pk),
            *(definition for node_id in below for definition in tree.nodes[node_id]["attributes"])]


def all_attribute_definitions() -> list[dict[str, Any]]:
    tree, _ = load_tree()
    return [definition for node_id in tree.preorder
            for definition in tree.nodes[node_id]["attributes"]]


def attribute_types(*, filterable_only: bool = True) -> dict[str, str]:
    """key -> type over the whole tree (one key has one type tree-wide); by default only the
    keys some category marks filterable, i.e. what `attr_<key>` filters accept."""
    types: dict[str, str] = {}
    for definition in all_attribute_definitions():
        if definition.get("filterable") or not filterable_only:
            types.setdefault(definition["key"], definition["type"])
    return types
