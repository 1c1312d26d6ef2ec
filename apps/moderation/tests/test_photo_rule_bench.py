"""The photo rule's cost per ad with 100,000 stored photo hashes (PHOTO_BENCH=1 to run; skipped
otherwise, it takes about a minute). Prints the time per ad next to two floors measured in the
same run (a `SELECT 1` round trip and a primary-key lookup of an ad), the brute-force scan the
bands avoid, and EXPLAIN ANALYZE of the candidate query.

    PHOTO_BENCH=1 TEST_DB_NAME=... REDIS_TEST_DB=... .venv/bin/python -m pytest \
        apps/moderation/tests/test_photo_rule_bench.py -q -s -p no:cacheprovider
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.ads.models import Ad, AdImage, AdStatus
from apps.moderation import checks, photos

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(os.environ.get("PHOTO_BENCH") != "1", reason="PHOTO_BENCH=1 to run"),
]

STORED = 100_000
ADS = 25_000  # 4 photos per ad
SUSPECTS = 200
PHOTOS_PER_SUSPECT = 4


def timed(call: Callable[[], Any], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def test_rule_time_per_ad_at_100k_hashes(catalog: Any, make_user: Any) -> None:
    rng = random.Random(7)
    sellers = [make_user() for _ in range(200)]
    now = timezone.now()
    stored_ads = Ad.objects.bulk_create(
        [
            Ad(
                owner=sellers[i % 200],
                category=catalog.phones,
                title=f"Phone {i}",
                description="",
                price=Decimal("1000"),
                status=AdStatus.ACTIVE,
                slug=f"bench-{i}",
                published_at=now - timedelta(days=i % 30),
                created_at=now - timedelta(days=i % 30),
            )
            for i in range(ADS)
        ],
        batch_size=5000,
    )
    stored = [photos.to_signed(rng.getrandbits(64)) for _ in range(STORED)]
    AdImage.objects.bulk_create(
        [
            AdImage(
                ad=stored_ads[i % ADS],
                file=f"ads/bench/{i}.jpg",
                width=1280,
                height=960,
                phash=value,
            )
            for i, value in enumerate(stored)
        ],
        batch_size=10000,
    )
    buyer = make_user()
    suspects = Ad.objects.bulk_create(
        [
            Ad(
                owner=buyer,
                category=catalog.phones,
                title=f"Suspect {i}",
                description="",
                price=Decimal("1000"),
                status=AdStatus.PENDING,
                slug=f"suspect-{i}",
            )
            for i in range(SUSPECTS)
        ]
    )
    # One suspect in ten re-uses a stored photo with 3 bits changed (a match); the rest are new.
    suspect_images = []
    for n, ad in enumerate(suspects):
        for k in range(PHOTOS_PER_SUSPECT):
            value = photos.to_signed(rng.getrandbits(64))
            if n % 10 == 0 and k == 0:
                flips = sum(1 << bit for bit in rng.sample(range(64), 3))
                value = photos.to_signed(photos.to_unsigned(rng.choice(stored)) ^ flips)
            suspect_images.append(
                AdImage(ad=ad, file=f"ads/suspect/{n}-{k}.jpg", width=1, height=1, phash=value)
            )
    AdImage.objects.bulk_create(suspect_images)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ads_ad")
        cursor.execute("ANALYZE ads_adimage")

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def pk_lookup() -> None:
        Ad.objects.filter(pk=suspects[0].pk).values_list("pk", flat=True).first()

    found = []

    def rule_on_every_suspect() -> list[float]:
        times = []
        for ad in suspects:
            start = time.perf_counter()
            found.append(checks.photo_duplicate_of(ad))
            times.append(time.perf_counter() - start)
        return times

    brute_sql = (
        "SELECT image.ad_id FROM ads_adimage AS image WHERE image.ad_id <> %(ad)s AND EXISTS ("
        "SELECT 1 FROM unnest(%(hashes)s::bigint[]) AS mine(phash) "
        "WHERE bit_count((image.phash # mine.phash)::bit(64)) <= 6) LIMIT 1"
    )

    def brute_force() -> None:
        ad = suspects[1]
        with connection.cursor() as cursor:
            cursor.execute(brute_sql, {"ad": ad.pk, "hashes": checks.photo_hashes(ad)})
            cursor.fetchall()

    timed(select_one, 50)  # warm the connection and caches
    rule_on_every_suspect()
    found.clear()
    floor_select = summary(timed(select_one, 500))
    floor_pk = summary(timed(pk_lookup, 500))
    rule = summary(rule_on_every_suspect())
    brute = summary(timed(brute_force, 10))

    ad = suspects[1]
    hashes = checks.photo_hashes(ad)
    params: dict[str, Any] = {
        f"band{i}": v for i, v in enumerate(photos.candidate_bands(hashes, 6))
    }
    params.update(
        hashes=hashes, distance=6, ad=ad.pk, owner=ad.owner_id, since=now - timedelta(days=30)
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + checks.PHOTO_DUPLICATE_SQL, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    load = os.getloadavg()
    print(
        f"\nphoto rule at {STORED:,} stored hashes, {PHOTOS_PER_SUSPECT} photos per ad, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
    )
    for name, (median, p95) in [
        ("SELECT 1 (floor)", floor_select),
        ("ad by primary key (floor)", floor_pk),
        ("photo_duplicate_of(ad)", rule),
        ("brute force bit_count scan", brute),
    ]:
        print(
            f"  {name:28s} median {median * 1000:7.3f} ms  p95 {p95 * 1000:7.3f} ms  "
            f"= {median / floor_pk[0]:6.1f} x the pk lookup"
        )
    print(plan)

    matched = [i for i, result in enumerate(found) if result is not None]
    assert matched == list(range(0, SUSPECTS, 10))  # every planted copy, nothing else
    assert "Seq Scan on ads_adimage" not in plan
    assert rule[0] < brute[0]
