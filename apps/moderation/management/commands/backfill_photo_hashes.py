"""Perceptual hashes for ad photos stored before AdImage.phash existed (best effort).

    manage.py backfill_photo_hashes [--batch 500] [--limit N]

Reads each photo without a hash from storage, in primary-key batches, and stores its hash.
A photo whose file is missing or unreadable (the benchmark generator's photos are file names
only) is counted and skipped, and so is a flat one (blank, one colour: no usable hash); run it
again at any time: it only looks at photos still without a hash."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.ads.models import AdImage
from apps.moderation import photos


class Command(BaseCommand):
    help = "Compute the perceptual hash of ad photos that have none (best effort)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument(
            "--limit", type=int, default=None, help="stop after this many photos (default: all)"
        )

    def handle(self, *args: Any, batch: int, limit: int | None, **options: Any) -> None:
        hashed = flat = skipped = 0
        last_pk = 0
        while limit is None or hashed + flat + skipped < limit:
            size = batch if limit is None else min(batch, limit - hashed - flat - skipped)
            images = list(
                AdImage.objects.filter(phash__isnull=True, pk__gt=last_pk).order_by("pk")[
                    :size
                ]  # whole rows: see checks.photo_hashes
            )
            if not images:
                break
            last_pk = images[-1].pk
            done = []
            for image in images:
                try:
                    with image.file.open("rb") as handle:
                        image.phash = photos.perceptual_hash(handle)
                except (OSError, ValueError, SyntaxError):
                    skipped += 1
                    continue
                if image.phash is None:
                    flat += 1
                else:
                    done.append(image)
            AdImage.objects.bulk_update(done, ["phash"])
            hashed += len(done)
        self.stdout.write(
            f"{hashed} photo(s) hashed, {flat} flat (no usable hash), "
            f"{skipped} skipped (missing or unreadable)"
        )
