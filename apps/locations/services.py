from __future__ import annotations

import logging

from django.db import transaction
from django.utils.text import slugify

from apps.locations import selectors
from apps.locations.models import Location

logger = logging.getLogger(__name__)


def invalidate_tree() -> None:
    """Bump the tree's version now (this transaction reads its own writes) and again on
    commit (a read between the write and the commit may have cached the old tree under the
    new version: the second bump retires it)."""
    try:
        selectors.bump_version()
    except Exception:  # Redis away: the commit bump will do
        logger.warning("could not bump the location tree cache", exc_info=True)
    transaction.on_commit(selectors.bump_version, robust=True)


@transaction.atomic
def ensure_location(*, name: str, parent: Location | None = None) -> Location:
    """Idempotent: the seed and demo data call it on every run."""
    base = slugify(name) if parent is None else f"{slugify(name)}-{parent.slug}"
    existing = Location.objects.filter(name=name, parent=parent).first()
    if existing is not None:
        return existing
    slug = slugify(name) if not Location.objects.filter(slug=slugify(name)).exists() else base
    location = Location.objects.create(name=name, slug=slug, parent=parent)
    invalidate_tree()
    return location
