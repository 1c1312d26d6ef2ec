"""GET/POST favorites/ and DELETE favorites/<ad_id>/."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ads import services
from apps.ads.models import AdStatus, Favorite
from apps.ads.status import Actor
from apps.ads.tests.factories import (
    AD_KEYS,
    FAVORITES,
    PAGE_KEYS,
    TIMESTAMP,
    detail_url,
    favorite_url,
    make_ad,
    nothing_changes,
    reload,
)
from apps.users.models import Block
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(seller, catalog):
    return make_ad(owner=seller, category=catalog.phones, title="Samsung Galaxy A54")


def add(client, ad):
    return client.post(FAVORITES, {"ad": str(ad.pk)})


def listed(client):
    response = client.get(FAVORITES)
    assert response.status_code == 200, response.json()
    return [favorite["ad"]["id"] for favorite in response.json()["results"]]


# --- add --------------------------------------------------------------------------------------


def test_add_a_favorite(buyer_client, buyer, phone):
    response = add(buyer_client, phone)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "ad", "created_at"}
    favorite = Favorite.objects.get()
    assert (body["id"], favorite.user_id, favorite.ad_id) == (favorite.pk, buyer.pk, phone.pk)
    assert re.fullmatch(TIMESTAMP, body["created_at"])
    assert set(body["ad"]) == AD_KEYS
    assert body["ad"]["id"] == str(phone.pk)
    assert body["ad"]["is_favorited"] is True
    assert body["ad"]["favorites_count"] == 1


def test_adding_again_answers_200_with_the_same_favorite(buyer_client, phone, api):
    first = add(buyer_client, phone).json()

    again = add(buyer_client, phone)

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["created_at"] == first["created_at"]
    assert Favorite.objects.count() == 1
    assert reload(phone).favorites_count == 1
    assert api.get(detail_url(phone.slug)).json()["favorites_count"] == 1


def test_favorites_count_shows_at_once(buyer_client, client_for, make_user, phone, api):
    add(buyer_client, phone)
    add(client_for(make_user()), phone)

    assert api.get(detail_url(phone.slug)).json()["favorites_count"] == 2
    assert api.get("/api/ads/").json()["results"][0]["favorites_count"] == 2

    buyer_client.delete(favorite_url(phone.pk))
    assert api.get(detail_url(phone.slug)).json()["favorites_count"] == 1


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "sold", "expired",
                                    "hidden"])
def test_a_non_active_ad_cannot_be_favorited(buyer_client, seller_client, seller, catalog,
                                             status):
    ad = make_ad(owner=seller, category=catalog.phones, status=status)

    with nothing_changes():
        response = add(buyer_client, ad)
        own = add(seller_client, ad)  # the owner sees it, but it is not public

    assert response.status_code == own.status_code == 400
    assert error_codes(response) == [("does_not_exist", "ad")]


@pytest.mark.parametrize(("value", "code"), [
    (str(uuid.uuid4()), "does_not_exist"),
    ("garbage", "does_not_exist"),
    ("12", "does_not_exist"),
    (12, "does_not_exist"),
    ("", "blank"),
    (None, "null"),
    ("x" * 65, "max_length"),
])
def test_unknown_or_garbage_ad_is_400(buyer_client, phone, value, code):
    with nothing_changes():
        response = buyer_client.post(FAVORITES, {"ad": value})

    assert response.status_code == 400, response.json()
    assert error_codes(response) == [(code, "ad")]


def test_deleted_ad_cannot_be_favorited(buyer_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones, deleted=True)

    with nothing_changes():
        response = add(buyer_client, ad)

    assert response.status_code == 400
    assert error_codes(response) == [("does_not_exist", "ad")]


def test_missing_ad_is_400(buyer_client):
    response = buyer_client.post(FAVORITES, {})

    assert response.status_code == 400
    assert error_codes(response) == [("required", "ad")]


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_an_ad_across_a_block_cannot_be_favorited(buyer_client, buyer, seller, phone, blocker):
    if blocker == "buyer":
        Block.objects.create(blocker=buyer, blocked=seller)
    else:
        Block.objects.create(blocker=seller, blocked=buyer)

    with nothing_changes():
        response = add(buyer_client, phone)

    assert response.status_code == 400
    assert error_codes(response) == [("does_not_exist", "ad")]


# --- list -------------------------------------------------------------------------------------


def test_list_is_newest_first_with_the_full_ad(buyer_client, buyer, seller, catalog):
    ads = [make_ad(owner=seller, category=catalog.phones, images=1) for _ in range(3)]
    for n, ad in enumerate(ads):
        add(buyer_client, ad)
        Favorite.objects.filter(ad=ad).update(created_at=timezone.now() - timedelta(hours=3 - n))
    make_ad(owner=seller, category=catalog.phones)  # not a favourite

    response = buyer_client.get(FAVORITES)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 3
    assert [favorite["ad"]["id"] for favorite in body["results"]] == [
        str(ad.pk) for ad in reversed(ads)]
    for favorite in body["results"]:
        assert set(favorite) == {"id", "ad", "created_at"}
        assert set(favorite["ad"]) == AD_KEYS
        assert favorite["ad"]["is_favorited"] is True
        assert len(favorite["ad"]["images"]) == 1
        assert favorite["ad"]["images"][0]["url"].startswith("http://testserver/media/")


def test_list_is_mine_only(buyer_client, client_for, make_user, phone):
    add(client_for(make_user()), phone)

    assert listed(buyer_client) == []


def test_a_favorite_that_stops_being_active_disappears(buyer_client, seller_client, seller,
                                                       catalog):
    sold = make_ad(owner=seller, category=catalog.phones)
    deleted = make_ad(owner=seller, category=catalog.phones)
    hidden = make_ad(owner=seller, category=catalog.phones)
    back = make_ad(owner=seller, category=catalog.phones)
    for ad in (sold, deleted, hidden, back):
        add(buyer_client, ad)
    assert len(listed(buyer_client)) == 4

    seller_client.patch(detail_url(sold.slug), {"status": "sold"})
    seller_client.delete(detail_url(deleted.slug))
    services.change_ad_status(ad_id=hidden.pk, to=AdStatus.HIDDEN, actor=Actor.STAFF)
    seller_client.patch(detail_url(back.slug), {"status": "draft"})
    assert listed(buyer_client) == []
    assert buyer_client.get(FAVORITES).json()["count"] == 0

    seller_client.patch(detail_url(back.slug), {"status": "active"})
    assert listed(buyer_client) == [str(back.pk)]


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_a_favorite_across_a_later_block_is_not_listed(buyer_client, buyer, seller, make_user,
                                                       phone, catalog, blocker):
    laptop = make_ad(owner=seller, category=catalog.laptops)
    unrelated = make_ad(owner=make_user(), category=catalog.laptops)
    for ad in (phone, laptop, unrelated):
        add(buyer_client, ad)
    assert len(listed(buyer_client)) == 3

    if blocker == "buyer":
        Block.objects.create(blocker=buyer, blocked=seller)
    else:
        Block.objects.create(blocker=seller, blocked=buyer)

    assert listed(buyer_client) == [str(unrelated.pk)]
    assert buyer_client.get(FAVORITES).json()["count"] == 1


# --- remove -----------------------------------------------------------------------------------


def test_remove_a_favorite(buyer_client, phone):
    add(buyer_client, phone)

    response = buyer_client.delete(favorite_url(phone.pk))

    assert response.status_code == 204
    assert Favorite.objects.count() == 0
    assert reload(phone).favorites_count == 0
    assert buyer_client.get(detail_url(phone.slug)).json()["is_favorited"] is False
    again = buyer_client.delete(favorite_url(phone.pk))
    assert again.status_code == 404
    assert error_codes(again) == [("not_found", None)]
    assert reload(phone).favorites_count == 0


@pytest.mark.parametrize("ad_id", ["garbage", "123", str(uuid.uuid4()), "%00"])
def test_remove_unknown_or_garbage_is_404(buyer_client, phone, ad_id):
    add(buyer_client, phone)

    with nothing_changes():
        response = buyer_client.delete(favorite_url(ad_id))

    assert response.status_code == 404


def test_remove_someone_elses_favorite_is_404(buyer_client, client_for, make_user, phone):
    add(client_for(make_user()), phone)

    with nothing_changes():
        response = buyer_client.delete(favorite_url(phone.pk))

    assert response.status_code == 404


def test_remove_works_after_the_ad_left_active(buyer_client, seller_client, phone):
    add(buyer_client, phone)
    seller_client.patch(detail_url(phone.slug), {"status": "sold"})

    assert buyer_client.delete(favorite_url(phone.pk)).status_code == 204
    assert Favorite.objects.count() == 0


# --- who --------------------------------------------------------------------------------------


def test_anonymous_is_401(api, phone):
    with nothing_changes():
        responses = [api.get(FAVORITES), api.post(FAVORITES, {"ad": str(phone.pk)}),
                     api.delete(favorite_url(phone.pk))]

    assert [response.status_code for response in responses] == [401, 401, 401]
    assert all(response.headers["WWW-Authenticate"].startswith("Bearer")
               for response in responses)

