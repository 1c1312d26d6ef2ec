"""What every backend shares: category-name matching and the facets' shapes.

Category names come from the cached tree (no SQL once cached), so both backends match them the
same way and a renamed category needs no reindex.
"""

from __future__ import annotations

from typing import Any

from apps.categories import selectors as category_selectors
from apps.search.backends.base import Facets, price_buckets
from apps.search.text import name_has_word_prefix


def category_nodes() -> list[dict[str, Any]]:
    """The cached category tree's nodes, in tree order."""
    tree, _ = category_selectors.load_tree()
    return [tree.nodes[node_id] for node_id in tree.preorder]


def category_ids_named(words: list[str]) -> list[int]:
    """Categories whose name has every word (as word prefixes), with their descendants."""
    if not words:
        return []
    tree, _ = category_selectors.load_tree()
    matched: set[int] = set()
    for node in tree.nodes.values():
        if name_has_word_prefix(node["name"], words):
            matched.update(tree.descendants(node["id"]))
    return sorted(matched)


def category_suggestions(words: list[str], *, limit: int = 3) -> list[dict[str, str]]:
    """Category names having a word starting with each typed word, in tree order."""
    return [
        {"text": node["name"], "slug": node["slug"]}
        for node in category_nodes()
        if name_has_word_prefix(node["name"], words)
    ][:limit]


def assemble_facets(
    *, categories: dict[int, int], conditions: dict[str, int], buckets: dict[int, int]
) -> Facets:
    """Counts by category id, condition and price bucket (0..5) -> the contract's facets:
    categories and conditions with a count, largest first; every price bucket listed."""
    nodes = {node["id"]: node for node in category_nodes()}
    facets = Facets()
    for category_id, count in categories.items():
        node = nodes.get(category_id)
        if node is not None and count > 0:
            facets.category.append({"id": node["id"], "slug": node["slug"],
                                    "name": node["name"], "count": count})
    facets.condition = [{"value": value, "count": count}
                        for value, count in conditions.items() if value and count > 0]
    facets.category.sort(key=lambda item: (-item["count"], item["name"]))
    facets.condition.sort(key=lambda item: (-item["count"], item["value"]))
    facets.price_range = price_buckets(buckets)
    return facets
