"""Seed Kenya's counties and towns (idempotent)."""

from __future__ import annotations

from django.db import transaction

from apps.locations.data.kenya import COUNTIES
from apps.locations.models import Location
from apps.locations.services import ensure_location


@transaction.atomic
def seed_locations() -> int:
    if Location.objects.filter(parent__isnull=True).count() >= len(COUNTIES):
        return 0
    created = 0
    for county, towns in COUNTIES.items():
        region = ensure_location(name=county)
        for town in towns:
            ensure_location(name=town, parent=region)
            created += 1
    return created
