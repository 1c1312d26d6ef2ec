"""The location tree, built in Python from one query and cached until a location changes."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from apps.locations.models import Location

TREE_CACHE_KEY = "locations:tree:v1"


def location_tree() -> list[dict[str, Any]]:
    tree: list[dict[str, Any]] | None = cache.get(TREE_CACHE_KEY)
    if tree is None:
        tree = build_tree()
        cache.set(TREE_CACHE_KEY, tree, timeout=None)
    return tree


def build_tree() -> list[dict[str, Any]]:
    nodes: dict[int, dict[str, Any]] = {}
    parents: dict[int, int | None] = {}
    for row in Location.objects.order_by("name").values("id", "name", "slug", "parent_id"):
        nodes[row["id"]] = {"id": row["id"], "name": row["name"], "slug": row["slug"],
                            "children": []}
        parents[row["id"]] = row["parent_id"]
    roots: list[dict[str, Any]] = []
    for node_id, node in nodes.items():
        parent_id = parents[node_id]
        (nodes[parent_id]["children"] if parent_id in nodes else roots).append(node)
    return roots


def get_location_detail(*, slug: str) -> dict[str, Any] | None:
    location = Location.objects.filter(slug=slug).first()
    if location is None:
        return None
    ancestors: list[dict[str, Any]] = []
    parent_id = location.parent_id
    by_id = {row["id"]: row for row in Location.objects.values("id", "slug", "name", "parent_id")}
    while parent_id is not None:
        row = by_id[parent_id]
        ancestors.insert(0, {"id": row["id"], "slug": row["slug"], "name": row["name"]})
        parent_id = row["parent_id"]
    children = [
        {"id": row["id"], "slug": row["slug"], "name": row["name"]}
        for row in sorted(by_id.values(), key=lambda r: r["name"])
        if row["parent_id"] == location.pk
    ]
    return {"id": location.pk, "name": location.name, "slug": location.slug,
            "parent": location.parent_id, "ancestors": ancestors, "children": children}


def descendant_ids(*, slug: str) -> list[int] | None:
    """The location and everything under it (from the cached tree), or None if unknown."""

    def subtree(node: dict[str, Any]) -> list[int]:
        return [node["id"], *(i for child in node["children"] for i in subtree(child))]

    stack = list(location_tree())
    while stack:
        node = stack.pop()
        if node["slug"] == slug:
            return subtree(node)
        stack.extend(node["children"])
    return None


def nearby_ids(*, location_id: int | None) -> list[int]:
    """The location's region (its parent, or itself when it is a region) and all under it."""
    if location_id is None:
        return []
    parents: dict[int, int | None] = {}
    stack: list[tuple[dict[str, Any], int | None]] = [(node, None) for node in location_tree()]
    slugs: dict[int, str] = {}
    while stack:
        node, parent = stack.pop()
        parents[node["id"]], slugs[node["id"]] = parent, node["slug"]
        stack.extend((child, node["id"]) for child in node["children"])
    if location_id not in parents:
        return []
    region = parents[location_id] or location_id
    return descendant_ids(slug=slugs[region]) or []
