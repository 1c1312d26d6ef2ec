"""Rebuild the search index with no downtime (external backends).

With Elasticsearch: builds `<alias>-<timestamp>` from the ads table, swaps the alias onto it in
one step and drops the old index. With PostgreSQL there is nothing to build.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.search.backends.base import get_search_backend


class Command(BaseCommand):
    help = "Rebuild the search index (Elasticsearch: new index, then an atomic alias swap)."

    def handle(self, *args: Any, **options: Any) -> None:
        backend = get_search_backend()
        if not backend.needs_sync:
            self.stdout.write(
                f"{settings.SEARCH_BACKEND} searches the ads table itself: nothing to reindex."
            )
            return
        started = time.monotonic()
        count = backend.reindex_all()
        self.stdout.write(self.style.SUCCESS(
            f"Indexed {count} active ads in {time.monotonic() - started:.1f} s."
        ))
