"""Rebuild the search index with no downtime (external backends).

With Elasticsearch: builds `<alias>-<timestamp>` from the ads table, swaps the alias onto it in
one step and drops the old index. With PostgreSQL the vector is a generated column: this
rebuilds the typo vocabulary and the facet count tables (apps.search.maintenance) instead.
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
            from apps.search import maintenance

            self.stdout.write(
                f"{settings.SEARCH_BACKEND} searches the ads table itself: nothing to reindex."
            )
            done = maintenance.rebuild_all()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Rebuilt the vocabulary ({done['words']:.0f} words, "
                    f"{done['vocabulary_s']:.1f} s) and the facet counts ({done['ads']:.0f} ads, "
                    f"{done['counts_s']:.1f} s)."
                )
            )
            return
        started = time.monotonic()
        count = backend.reindex_all()
        self.stdout.write(
            self.style.SUCCESS(f"Indexed {count} active ads in {time.monotonic() - started:.1f} s.")
        )
