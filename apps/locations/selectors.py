"""The location tree, built in Python from one query and cached until a location changes.

Each process keeps the tree it read last with its version (a counter in Redis, bumped when a
location is written): a request asks Redis for the version only (a small GET, ~0.1 ms),
not for the pickled tree (~0.6 ms of unpickling for every uncached listing page, which reads
the briefs of its ads' and sellers' locations)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

from apps.common import versions
from apps.locations.models import Location

logger = logging.getLogger(__name__)

VERSION_KEY = "locations:tree:version"
TREE_KEY = "locations:tree:v2:{version}"  # bump "v2" when the cached layout changes
TREE_TIMEOUT = 24 * 3600  # older versions fall out on their own; the live one is rebuilt daily
Brief = dict[str, Any]

# (version, roots, {id: brief} of every node) of the tree this process read last.
_memo: tuple[int, list[dict[str, Any]], dict[int, Brief]] | None = None


def tree_version() -> int:
    return versions.current(VERSION_KEY, what="location tree")


def flatten(nodes: list[dict[str, Any]], into: dict[int, Brief] | None = None) -> dict[int, Brief]:
    """{id: brief} of the nodes and all under them."""
    into = {} if into is None else into
    for node in nodes:
        into[node["id"]] = {"id": node["id"], "slug": node["slug"], "name": node["name"]}
        flatten(node["children"], into)
    return into


def _current() -> tuple[list[dict[str, Any]], dict[int, Brief]]:
    global _memo
    version = tree_version()
    memo = _memo
    if version > 0 and memo is not None and memo[0] == version:
        return memo[1], memo[2]
    tree: list[dict[str, Any]] | None = None
    key = TREE_KEY.format(version=version)
    if version > 0:
        try:
            tree = cache.get(key)
        except Exception:
            logger.warning("location tree cache unavailable", exc_info=True)
    if tree is None:
        tree = build_tree()
        if version > 0:
            try:
                cache.set(key, tree, timeout=TREE_TIMEOUT)
            except Exception:
                logger.warning("location tree cache unavailable", exc_info=True)
    briefs = flatten(tree)
    if version > 0:
        _memo = (version, tree, briefs)
    return tree, briefs


def location_tree() -> list[dict[str, Any]]:
    """The regions with their nested children; shared: callers must not change it."""
    return _current()[0]


def briefs_of(roots: list[dict[str, Any]]) -> dict[int, Brief]:
    """flatten(roots), without the walk when `roots` is the tree this process keeps."""
    memo = _memo
    return memo[2] if memo is not None and memo[1] is roots else flatten(roots)


def location_briefs_by_id() -> dict[int, Brief]:
    """{id: {"id", "slug", "name"}} of every location; shared: callers must not change it."""
    return _current()[1]


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
