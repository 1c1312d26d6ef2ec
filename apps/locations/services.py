from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from apps.common import versions
from apps.locations import selectors
from apps.locations.models import Location


def invalidate_tree() -> None:
    versions.bump_now_and_on_commit(selectors.VERSION_KEY, what="location tree")


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
