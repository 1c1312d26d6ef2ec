"""The seller's contact preference (`show_phone`, an addition to API.md)."""

from __future__ import annotations

import pytest

from apps.ads.models import Ad

pytestmark = pytest.mark.django_db


def test_show_phone_defaults_to_true_and_the_phone_is_revealed(seller, seller_client,
                                                               buyer_client, catalog, places):
    seller.phone = "+254712000999"
    seller.save(update_fields=["phone"])
    created = seller_client.post("/api/ads/", {
        "title": "Toyota Axio 2016 clean", "category": catalog.cars.pk,
        "location": places.westlands.pk,
        "price": "1200000", "attributes": {"make": "Toyota", "year": 2016},
    })
    assert created.status_code == 201, created.json()
    assert created.json()["show_phone"] is True
    revealed = buyer_client.post(f"/api/ads/{created.json()['slug']}/reveal-phone/")
    assert revealed.status_code == 200
    assert revealed.json() == {"phone": "+254712000999"}
    assert Ad.objects.get(pk=created.json()["id"]).phone_reveals_count == 1


def test_hidden_phone_is_refused_to_buyers_and_not_counted(seller_client, buyer_client,
                                                           catalog, places):
    created = seller_client.post("/api/ads/", {
        "title": "Toyota Axio 2016 chat only", "category": catalog.cars.pk,
        "location": places.westlands.pk,
        "price": "1200000", "show_phone": False,
        "attributes": {"make": "Toyota", "year": 2016},
    })
    assert created.status_code == 201, created.json()
    slug = created.json()["slug"]
    refused = buyer_client.post(f"/api/ads/{slug}/reveal-phone/")
    assert refused.status_code == 403
    assert Ad.objects.get(slug=slug).phone_reveals_count == 0
    changed = seller_client.patch(f"/api/ads/{slug}/", {"show_phone": True})
    assert changed.status_code == 200
    assert changed.json()["show_phone"] is True
    assert buyer_client.post(f"/api/ads/{slug}/reveal-phone/").status_code == 200
