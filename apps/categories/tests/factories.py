"""Test helpers: categories through the services (paths, slugs, cache bump as in production),
ads straight into the table (the ads app owns their rules)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.test import TestCase

from apps.categories import services
from apps.categories.models import Category

CATEGORIES = "/api/categories/"
ALL = CATEGORIES + "all/"
CREATE = CATEGORIES + "admin/create/"
NODE_KEYS = {"id", "name", "slug", "parent", "depth", "order", "icon", "ad_count"}
DETAIL_KEYS = NODE_KEYS | {"ancestors", "children", "attributes"}
ATTRIBUTE_KEYS = {"key", "label", "type", "required", "filterable", "unit", "choices", "min",
                  "max"}

_ads = itertools.count(1)


def detail_url(slug: str) -> str:
    return f"{CATEGORIES}{slug}/"


def update_url(slug: str) -> str:
    return f"{CATEGORIES}admin/{slug}/update/"


def delete_url(slug: str) -> str:
    return f"{CATEGORIES}admin/{slug}/delete/"


def make_category(name: str, parent: Category | None = None, **fields: Any) -> Category:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.create_category(actor=None, name=name, parent=parent, **fields)


def update_category(category: Category, **changes: Any) -> Category:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.update_category(actor=None, category=category, changes=changes)


def make_ad(owner: Any, category: Category, *, status: str = "active", deleted: bool = False,
            attributes: dict[str, Any] | None = None, count: bool = True) -> Any:
    """An ad row; a live active one also moves the category counts, as the ads app does."""
    from apps.ads.models import Ad

    n = next(_ads)
    ad = Ad.objects.create(
        owner=owner, category=category, title=f"Demo ad {n}", slug=f"demo-ad-{n}",
        price=Decimal("1000.00"), status=status, attributes=attributes or {},
        deleted_at=datetime.now(tz=UTC) if deleted else None,
    )
    if count and status == "active" and not deleted:
        services.adjust_ad_counts(category_id=category.pk, delta=1)
    return ad


def reload(category: Category) -> Category:
    return Category.all_objects.get(pk=category.pk)


def tree_names(nodes: list[dict[str, Any]]) -> list[Any]:
    return [(node["name"], tree_names(node["children"])) if node["children"] else node["name"]
            for node in nodes]
