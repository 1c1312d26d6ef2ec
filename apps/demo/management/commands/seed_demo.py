"""Load the local profile's demo data; safe to run on every `make run`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.ads.demo import seed_ads
from apps.categories.demo import seed_categories
from apps.locations.demo import seed_locations
from apps.payments.demo import seed_plans
from apps.users.demo import seed_users


class Command(BaseCommand):
    help = "Load demo data (idempotent): locations, staff and demo sellers."

    def handle(self, *args: Any, **options: Any) -> None:
        towns = seed_locations()
        categories = seed_categories()
        sellers = seed_users()
        ads = seed_ads(sellers)
        plans = seed_plans()
        self.stdout.write(
            f"demo data ready: {towns} new towns, {categories} new categories, "
            f"{len(sellers)} demo sellers, {ads} new ads, {plans} new plans"
        )
