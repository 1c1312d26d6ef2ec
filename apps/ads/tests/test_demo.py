"""`manage.py seed_demo`: demo ads are live, photographed, counted, and seeded once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Count

from apps.ads.demo import DEMO_ADS
from apps.ads.models import LIVE_ACTIVE, Ad, AdStatus
from apps.ads.tests.factories import ADS
from apps.categories.models import Category
from apps.users.models import User

pytestmark = pytest.mark.django_db


def expected_counts() -> dict[int, int]:
    """Each category's active ads, its descendants' included, counted from the ads."""
    own = dict(Ad.objects.filter(LIVE_ACTIVE).order_by().values("category_id")
               .annotate(n=Count("id")).values_list("category_id", "n"))
    paths = dict(Category.objects.values_list("pk", "path"))  # "/root/.../self/"
    return {pk: sum(n for category_id, n in own.items() if f"/{pk}/" in paths[category_id])
            for pk in paths}


def test_seed_demo_is_idempotent_and_its_ads_are_live(api, media_root):
    call_command("seed_demo", verbosity=0)
    first = sorted(Ad.objects.values_list("pk", flat=True))

    call_command("seed_demo", verbosity=0)

    assert sorted(Ad.objects.values_list("pk", flat=True)) == first
    assert len(first) == len(DEMO_ADS)
    ads = list(Ad.objects.prefetch_related("images"))
    for ad in ads:
        assert ad.status == AdStatus.ACTIVE, ad.title
        assert ad.deleted_at is None
        assert ad.published_at is not None
        assert ad.expires_at is not None
        images = list(ad.images.all())
        assert len(images) == 1, ad.title
        assert images[0].thumbnail, ad.title
        assert (media_root / images[0].file.name).exists()
    # Every count matches the ads, descendants included.
    actual = dict(Category.objects.values_list("pk", "ad_count"))
    assert actual == expected_counts()
    assert sum(actual[c.pk] for c in Category.objects.filter(parent__isnull=True)) == len(ads)
    for owner in User.objects.filter(ads__isnull=False).distinct():
        assert owner.active_ads_count == Ad.objects.filter(LIVE_ACTIVE, owner=owner).count()
    # They are on the public list.
    assert api.get(ADS, {"page_size": 100}).json()["count"] == len(ads)
    cars = api.get("/api/categories/cars/").json()
    assert cars["ad_count"] == sum(1 for ad in DEMO_ADS if ad[1] == "Cars")
