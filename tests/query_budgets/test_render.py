"""Ads read with their photos as a column of their own row (apps.ads.selectors.PHOTOS_SQL)
render as the documented serializer renders the same ads read with prefetched AdImages; and
the detail whose SQL is compiled once per process reads each request's own ad."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from apps.ads import selectors, services
from apps.ads.api import render
from apps.ads.api.serializers import AdOutput
from apps.ads.models import Ad, AdImage
from apps.ads.tests.factories import add_photo, make_ad, make_location
from apps.categories.tests.factories import make_category

pytestmark = pytest.mark.django_db

ADS = "/api/ads/"


@pytest.fixture
def shop(make_user: Any) -> Any:
    phones = make_category("Phones")
    seller = make_user(location=make_location("Nairobi"))
    with_photos = make_ad(owner=seller, category=phones, title="Three photos")
    first = add_photo(with_photos, size=(64, 48))
    add_photo(with_photos, size=(32, 32), thumbnail=True)
    last = add_photo(with_photos, size=(40, 20))
    # Order no longer follows the ids: the column must sort as the prefetch does.
    services.reorder_image(image=first, order=9, by=seller)
    services.reorder_image(image=last, order=0, by=seller)
    bare = make_ad(owner=seller, category=phones, title="No photo")
    return with_photos, bare


def documented(ads: list[Ad], request: Any, favorited: set[Any]) -> list[dict[str, Any]]:
    rows = list(selectors.with_relations(Ad.objects.filter(pk__in=[ad.pk for ad in ads])))
    by_id = {ad.pk: ad for ad in rows}
    context = {"request": request, "favorited_ids": favorited}
    return [dict(AdOutput(by_id[ad.pk], context=context).data) for ad in ads]


@pytest.mark.parametrize("who", ["anonymous", "buyer", "owner", "no request"])
def test_photos_read_as_a_column_render_as_the_serializer_does(
    shop: Any, who: str, make_user: Any
) -> None:
    with_photos, bare = shop
    buyer = make_user()
    services.add_favorite(user=buyer, ad=bare)
    request: Any = None
    if who != "no request":
        request = RequestFactory().get(ADS)
        request.user = {"buyer": buyer, "owner": with_photos.owner}.get(who)
        if request.user is None:
            from django.contrib.auth.models import AnonymousUser

            request.user = AnonymousUser()
    viewer = request.user if request is not None else None
    ids = [with_photos.pk, bare.pk]
    favorited = selectors.favorited_ids(user=viewer, ad_ids=ids)
    expected = documented([with_photos, bare], request, favorited)
    assert [image["order"] for image in expected[0]["images"]] == [0, 1, 9]
    assert expected[0]["images"][1]["thumbnail_url"] is not None
    assert expected[1]["images"] == []

    # One query: the ads, their owners and their photos.
    column = {ad.pk: ad for ad in selectors.for_render(Ad.objects.filter(pk__in=ids))}
    assert (
        render.render([column[pk] for pk in ids], request=request, favorited=favorited) == expected
    )
    # Read without them (a keyset page, a search page): load_relations adds the column.
    plain = {ad.pk: ad for ad in Ad.objects.filter(pk__in=ids).select_related("owner")}
    loaded = selectors.load_relations([plain[pk] for pk in ids])
    assert render.render(loaded, request=request, favorited=favorited) == expected


def test_load_relations_reads_only_the_ads_without_their_photos(
    shop: Any, django_assert_num_queries: Any
) -> None:
    with_photos, bare = shop
    read = list(selectors.with_photos(Ad.objects.filter(pk__in=[with_photos.pk, bare.pk])))
    with django_assert_num_queries(0):
        selectors.load_relations(read)
    plain = list(Ad.objects.filter(pk__in=[with_photos.pk, bare.pk]))
    with django_assert_num_queries(1):
        selectors.load_relations(plain)


def test_the_listing_and_detail_show_the_photos_in_their_order(
    api: Any, shop: Any, settings: Any
) -> None:
    settings.READ_CACHE_ENABLED = False
    with_photos, bare = shop
    images = AdImage.objects.filter(ad=with_photos).order_by("order", "id")
    expected = [image.pk for image in images]
    listed = {item["slug"]: item for item in api.get(ADS).json()["results"]}
    assert [image["id"] for image in listed[with_photos.slug]["images"]] == expected
    assert listed[bare.slug]["images"] == []
    detail = api.get(f"{ADS}{with_photos.slug}/").json()
    assert [image["id"] for image in detail["images"]] == expected
    assert all(image["url"].startswith("http://testserver/") for image in detail["images"])

    # A photo added is shown at once: the column is read with the ad, not remembered.
    added = add_photo(bare)
    again = api.get(f"{ADS}{bare.slug}/").json()
    assert [image["id"] for image in again["images"]] == [added.pk]


def test_the_detail_compiled_once_reads_each_requests_own_ad(
    api: Any, shop: Any, make_user: Any, settings: Any
) -> None:
    settings.READ_CACHE_ENABLED = False
    with_photos, bare = shop
    # The detail's SQL is compiled by whichever request comes first in the process; the
    # others must read their own ad through it, and a hidden one must stay hidden.
    for ad in (with_photos, bare, with_photos):
        body = api.get(f"{ADS}{ad.slug}/").json()
        assert (body["id"], body["title"]) == (str(ad.pk), ad.title)
    draft = make_ad(owner=make_user(), category=with_photos.category, status="draft")
    assert api.get(f"{ADS}{draft.slug}/").status_code == 404
    assert api.get(f"{ADS}no-such-ad/").status_code == 404
