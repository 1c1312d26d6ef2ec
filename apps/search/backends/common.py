"""What every backend shares: category-name matching and the facets' shapes.

Category names come from the cached tree (no SQL once cached), so both backends match them the
same way and a renamed category needs no reindex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.categories import selectors as category_selectors
from apps.locations import selectors as location_selectors
from apps.search.backends.base import Facets, price_buckets
from apps.search.text import name_has_word_prefix


def category_nodes(tree: Any = None) -> list[dict[str, Any]]:
    """The cached category tree's nodes, in tree order."""
    if tree is None:
        tree, _ = category_selectors.load_tree()
    return [tree.nodes[node_id] for node_id in tree.preorder]


# The answers of category_ids_named for the tree read last: its nodes (the same dict for as long
# as the process's tree memo holds one version) and the ids per tuple of words.
_named: tuple[dict[int, Any], dict[tuple[str, ...], list[int]]] | None = None
NAMED_MEMO_SIZE = 4096


def category_ids_named(words: list[str], tree: Any = None) -> list[int]:
    """Categories whose name has every word (as word prefixes), with their descendants.
    Remembered per tree version (a search reads every category name per word otherwise)."""
    global _named
    if not words:
        return []
    if tree is None:
        tree, _ = category_selectors.load_tree()
    memo = _named
    if memo is None or memo[0] is not tree.nodes or len(memo[1]) >= NAMED_MEMO_SIZE:
        memo = _named = (tree.nodes, {})
    key = tuple(words)
    found = memo[1].get(key)
    if found is None:
        matched: set[int] = set()
        for node in tree.nodes.values():
            if name_has_word_prefix(node["name"], words):
                matched.update(tree.descendants(node["id"]))
        found = memo[1][key] = sorted(matched)
    return list(found)


def category_suggestions(words: list[str], *, limit: int = 3) -> list[dict[str, str]]:
    """Category names having a word starting with each typed word, in tree order."""
    return [
        {"text": node["name"], "slug": node["slug"]}
        for node in category_nodes()
        if name_has_word_prefix(node["name"], words)
    ][:limit]


@dataclass(frozen=True)
class FacetScope:
    """What the location and attribute facets depend on: the selected `location` (its
    children are counted, else the top-level locations) and the choice attributes of the
    selected `category` (and its subcategories), in schema order."""

    location: str | None = None
    attributes: tuple[dict[str, Any], ...] = ()
    tree: Any = None  # the category tree it was read from (read once per search)
    category_ids: list[int] | None = None  # the selected category and its descendants
    locations: list[dict[str, Any]] | None = None  # the location tree (read once per search)

    @property
    def attribute_keys(self) -> list[str]:
        return [definition["key"] for definition in self.attributes]


def facet_scope(params: dict[str, str]) -> FacetScope:
    """From the query's (already validated) filters; no SQL once the trees are cached."""
    attributes: list[dict[str, Any]] = []
    category_ids = None
    tree, _ = category_selectors.load_tree()
    slug = params.get("category") or ""
    if slug:
        node = tree.by_slug(slug)
        if node is not None:
            category_ids = tree.descendants(node["id"])
            below = category_ids[1:]
            definitions = [
                *tree.effective_definitions(node["id"]),
                *(d for node_id in below for d in tree.nodes[node_id]["attributes"]),
            ]
            seen: set[str] = set()
            for definition in definitions:
                if definition.get("type") == "choice" and definition["key"] not in seen:
                    seen.add(definition["key"])
                    attributes.append(definition)
    return FacetScope(
        location=params.get("location") or None,
        attributes=tuple(attributes),
        tree=tree,
        category_ids=category_ids,
        locations=location_selectors.location_tree(),
    )


def location_facet(
    counts: dict[int, int], selected: str | None, roots: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Counts by an ad's own location id -> the selected location's children (or the
    top-level locations), each with its whole subtree's count; largest first. `roots`: the
    location tree if already read."""
    if roots is None:
        roots = location_selectors.location_tree()
    level = roots
    if selected:
        stack = list(roots)
        level = []
        while stack:
            node = stack.pop()
            if node["slug"] == selected:
                level = node["children"]
                break
            stack.extend(node["children"])

    def subtree_count(node: dict[str, Any]) -> int:
        total, stack = 0, [node]
        while stack:
            current = stack.pop()
            total += counts.get(current["id"], 0)
            stack.extend(current["children"])
        return total

    items = [
        {"id": node["id"], "slug": node["slug"], "name": node["name"], "count": subtree_count(node)}
        for node in level
    ]
    items = [item for item in items if item["count"] > 0]
    items.sort(key=lambda item: (-item["count"], item["name"]))
    return items


def attribute_facet(counts: dict[tuple[str, str], int], scope: FacetScope) -> list[dict[str, Any]]:
    """Counts by (key, value) -> per choice attribute of the scope, its values with a count,
    largest first (attributes without any value left out)."""
    facet: list[dict[str, Any]] = []
    for definition in scope.attributes:
        key = definition["key"]
        values: list[dict[str, Any]] = [
            {"value": value, "count": count}
            for (k, value), count in counts.items()
            if k == key and count > 0
        ]
        if values:
            values.sort(key=lambda item: (-item["count"], item["value"]))
            facet.append({"key": key, "label": definition.get("label") or key, "values": values})
    return facet


def assemble_facets(
    *,
    categories: dict[int, int],
    conditions: dict[str, int],
    buckets: dict[int, int],
    locations: dict[int, int] | None = None,
    attributes: dict[tuple[str, str], int] | None = None,
    scope: FacetScope | None = None,
) -> Facets:
    """Counts by category id, condition and price bucket (0..5) -> the contract's facets:
    categories and conditions with a count, largest first; every price bucket listed. With
    a scope, also the location and attribute facets (counts by location id, (key, value))."""
    nodes = {node["id"]: node for node in category_nodes(scope.tree if scope else None)}
    facets = Facets()
    for category_id, count in categories.items():
        node = nodes.get(category_id)
        if node is not None and count > 0:
            facets.category.append(
                {"id": node["id"], "slug": node["slug"], "name": node["name"], "count": count}
            )
    facets.condition = [
        {"value": value, "count": count}
        for value, count in conditions.items()
        if value and count > 0
    ]
    facets.category.sort(key=lambda item: (-item["count"], item["name"]))
    facets.condition.sort(key=lambda item: (-item["count"], item["value"]))
    facets.price_range = price_buckets(buckets)
    if scope is not None:
        facets.location = location_facet(locations or {}, scope.location, scope.locations)
        facets.attributes = attribute_facet(attributes or {}, scope)
    return facets
