"""POST /api/ads/: the ad shape, moderation on commit, drafts, who may post, validation,
ignored fields, slugs and the posting throttle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils.text import slugify

from apps.ads.models import Ad, AdStatus
from apps.ads.services import RESERVED_SLUGS
from apps.ads.tests.factories import (
    AD_KEYS,
    ADS,
    TIMESTAMP,
    active_ads_count,
    category_url,
    detail_url,
    live_count,
    nothing_changes,
    profile_url,
)
from apps.common.models import AuditEntry
from apps.users.tests.helpers import PUBLIC_PROFILE_KEYS, retry_after
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone_body(catalog, places):
    return {
        "title": "Samsung Galaxy A54 5G 128GB",
        "description": "Barely used, with box and charger.",
        "category": catalog.phones.pk,
        "location": places.westlands.pk,
        "price": "38500",
        "negotiable": True,
        "condition": "used",
        "attributes": {"brand": "Samsung", "storage": 128, "dual_sim": True},
    }


@pytest.fixture
def car_body(catalog, places):
    return {
        "title": "Toyota Fielder 2015 silver",
        "description": "Low mileage, one owner.",
        "category": catalog.cars.pk,
        "location": places.kilimani.pk,
        "price": "1350000.00",
        "attributes": {"make": "Toyota", "model": "Fielder", "year": 2015, "mileage": 84000,
                       "engine_size": "1.5", "automatic": True},
    }


def with_attributes(body, **attributes):
    return {**body, "attributes": {**body["attributes"], **attributes}}


# --- success ----------------------------------------------------------------------------------


def test_create_answers_the_full_ad_pending_then_goes_active(seller_client, seller, catalog,
                                                             places, phone_body):
    response = seller_client.post(ADS, phone_body)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == AD_KEYS
    ad = Ad.objects.get()
    assert body["id"] == str(ad.pk)
    assert body["slug"] == ad.slug
    assert body["title"] == "Samsung Galaxy A54 5G 128GB"
    assert body["description"] == "Barely used, with box and charger."
    assert body["category"] == {"id": catalog.phones.pk, "slug": "mobile-phones",
                                "name": "Mobile Phones"}
    assert body["location"] == {"id": places.westlands.pk, "slug": places.westlands.slug,
                                "name": "Westlands"}
    assert body["price"] == "38500.00"
    assert body["currency"] == "KES"
    assert body["negotiable"] is True
    assert body["condition"] == "used"
    assert body["attributes"] == {"brand": "Samsung", "storage": 128, "dual_sim": True}
    assert body["images"] == []
    assert set(body["owner"]) == PUBLIC_PROFILE_KEYS
    assert body["owner"]["id"] == str(seller.pk)
    assert body["owner"]["display_name"] == "Amani W."
    assert (body["views_count"], body["favorites_count"]) == (0, 0)
    assert body["is_favorited"] is False
    assert body["promotion"] is None
    assert re.fullmatch(TIMESTAMP, body["created_at"])
    assert re.fullmatch(TIMESTAMP, body["updated_at"])
    assert body["moderation_reason"] is None
    # In the request's own response the ad is pending and not yet published...
    assert body["status"] == "pending"
    assert body["published_at"] is None
    assert body["expires_at"] is None
    # ...and the moderation task, run by the commit, made it active and published it.
    assert ad.status == AdStatus.ACTIVE
    assert ad.published_at is not None
    assert ad.expires_at == ad.published_at + timedelta(days=30)
    assert ad.owner_id == seller.pk
    assert list(AuditEntry.objects.filter(target_id=str(ad.pk)).order_by("pk")
                .values_list("action", flat=True)) == [
        "ads.created", "ads.status.pending", "ads.status.active"]
    # Counts follow at once.
    assert live_count(catalog.phones) == live_count(catalog.electronics) == 1
    assert active_ads_count(seller) == 1


def test_created_ad_is_public_with_its_publication_dates(seller_client, api, phone_body):
    slug = seller_client.post(ADS, phone_body).json()["slug"]

    body = api.get(detail_url(slug)).json()

    assert body["status"] == "active"
    assert re.fullmatch(TIMESTAMP, body["published_at"])
    ad = Ad.objects.get()
    assert body["expires_at"] == (ad.published_at + timedelta(days=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert [item["slug"] for item in api.get(ADS).json()["results"]] == [slug]


def test_attribute_values_come_back_typed_and_cleaned(seller_client, car_body):
    car_body["attributes"]["model"] = "  Fielder  "
    car_body["attributes"]["engine_size"] = 1.5

    response = seller_client.post(ADS, car_body)

    assert response.status_code == 201, response.json()
    assert response.json()["attributes"] == {
        "make": "Toyota", "model": "Fielder", "year": 2015, "mileage": 84000,
        "engine_size": "1.5", "automatic": True}


def test_minimal_body_uses_the_defaults(seller_client, catalog, places):
    response = seller_client.post(ADS, {"title": "Old laptop for parts", "category":
                                        catalog.laptops.pk, "location": places.nyali.pk,
                                        "price": "2500"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["description"], body["currency"], body["negotiable"], body["condition"],
            body["attributes"]) == ("", "KES", False, None, {})


def test_draft_stays_a_draft(seller_client, seller, catalog, phone_body):
    response = seller_client.post(ADS, {**phone_body, "draft": True})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["published_at"] is None and body["expires_at"] is None
    ad = Ad.objects.get()
    assert ad.status == AdStatus.DRAFT
    assert ad.published_at is None and ad.expires_at is None
    assert live_count(catalog.phones) == 0
    assert active_ads_count(seller) == 0
    assert AuditEntry.objects.filter(action__startswith="ads.status.").count() == 0


def test_counts_show_on_the_category_and_the_public_profile(seller_client, api, seller,
                                                            phone_body):
    seller_client.post(ADS, phone_body)
    seller_client.post(ADS, {**phone_body, "title": "Another phone for sale"})

    assert api.get(category_url("mobile-phones")).json()["ad_count"] == 2
    assert api.get(category_url("electronics")).json()["ad_count"] == 2
    assert api.get(profile_url(seller.pk)).json()["active_ads_count"] == 2


# --- who may post -----------------------------------------------------------------------------


def test_unverified_user_cannot_post(make_user, client_for, phone_body):
    unverified = make_user(email_verified=False)

    with nothing_changes():
        response = client_for(unverified).post(ADS, phone_body)

    assert response.status_code == 403
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("verification_required", None)]


def test_unverified_user_gets_403_before_validation(make_user, client_for):
    unverified = make_user(email_verified=False)

    with nothing_changes():
        response = client_for(unverified).post(ADS, {"title": "x"})

    assert response.status_code == 403
    assert error_codes(response) == [("verification_required", None)]


def test_phone_verified_user_may_post(make_user, client_for, phone_body):
    phone_only = make_user(email_verified=False, phone="+254712345678", phone_verified=True)

    response = client_for(phone_only).post(ADS, phone_body)

    assert response.status_code == 201, response.json()
    assert Ad.objects.get().owner_id == phone_only.pk


@pytest.mark.parametrize("body", [{}, {"title": "Samsung Galaxy A54"}])
def test_anonymous_cannot_post(api, catalog, body):
    with nothing_changes():
        response = api.post(ADS, body)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_codes(response) == [("not_authenticated", None)]


# --- validation -------------------------------------------------------------------------------


def assert_rejected(client, body, expected):
    with nothing_changes():
        response = client.post(ADS, body)
    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == expected
    return response


def test_category_with_children_is_refused(seller_client, catalog, phone_body):
    assert_rejected(seller_client, {**phone_body, "category": catalog.electronics.pk,
                                    "attributes": {}},
                    [("invalid_choice", "category")])


@pytest.mark.parametrize(("field", "value", "code"), [
    ("category", 987654321, "does_not_exist"),
    ("category", "cars", "incorrect_type"),
    ("category", None, "null"),
    ("location", 987654321, "does_not_exist"),
    ("location", "nairobi", "incorrect_type"),
    ("location", None, "null"),
])
def test_unknown_category_or_location(seller_client, phone_body, field, value, code):
    assert_rejected(seller_client, {**phone_body, field: value}, [(code, field)])


@pytest.mark.parametrize("field", ["title", "category", "location", "price"])
def test_required_fields(seller_client, phone_body, field):
    body = {key: value for key, value in phone_body.items() if key != field}
    assert_rejected(seller_client, body, [("required", field)])


@pytest.mark.parametrize(("field", "value", "code"), [
    ("title", "abcd", "min_length"),
    ("title", "   abcd   ", "min_length"),
    ("title", "x" * 121, "max_length"),
    ("title", "", "blank"),
    ("description", "x" * 5001, "max_length"),
    ("price", "0", "min_value"),
    ("price", 0, "min_value"),
    ("price", "0.00", "min_value"),
    ("price", "-5", "min_value"),
    ("price", -1500, "min_value"),
    ("price", "100000000000000000000", "max_digits"),
    ("price", "1000000000000", "max_whole_digits"),
    ("price", "12.345", "max_decimal_places"),
    ("price", "cheap", "invalid"),
    ("price", "NaN", "invalid"),
    ("price", "Infinity", "invalid"),
    ("price", None, "null"),
    ("currency", "USD", "invalid_choice"),
    ("condition", "broken", "invalid_choice"),
    ("negotiable", "maybe", "invalid"),
    ("attributes", ["Samsung"], "not_a_dict"),
])
def test_field_errors(seller_client, phone_body, field, value, code):
    assert_rejected(seller_client, {**phone_body, field: value}, [(code, field)])


def test_boundaries_are_accepted(seller_client, phone_body):
    response = seller_client.post(ADS, {**phone_body, "title": "abcde", "price": "0.01",
                                        "description": "y" * 5000})
    assert response.status_code == 201, response.json()
    response = seller_client.post(ADS, {**phone_body, "title": "z" * 120,
                                        "price": "999999999999.99"})
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(("attributes", "expected"), [
    ({"colour": "red"}, [("invalid", "attributes.colour")]),  # unknown key
    ({"year": "2015"}, [("invalid", "attributes.year")]),  # wrong type
    ({"year": 2015.5}, [("invalid", "attributes.year")]),
    ({"year": True}, [("invalid", "attributes.year")]),
    ({"automatic": "yes"}, [("invalid", "attributes.automatic")]),
    ({"model": 12}, [("invalid", "attributes.model")]),
    ({"engine_size": "big"}, [("invalid", "attributes.engine_size")]),
    ({"make": "Tesla"}, [("invalid_choice", "attributes.make")]),  # outside choices
    ({"make": "toyota"}, [("invalid_choice", "attributes.make")]),  # choices are exact
    ({"year": 1949}, [("min_value", "attributes.year")]),  # below min
    ({"year": 2031}, [("max_value", "attributes.year")]),
    ({"mileage": -1}, [("min_value", "attributes.mileage")]),
    ({"engine_size": "0.5"}, [("min_value", "attributes.engine_size")]),
    ({"engine_size": 8.5}, [("max_value", "attributes.engine_size")]),
    ({"make": None}, [("required", "attributes.make")]),  # missing required
])
def test_attribute_errors(seller_client, car_body, attributes, expected):
    assert_rejected(seller_client, with_attributes(car_body, **attributes), expected)


def test_missing_required_attribute(seller_client, car_body):
    assert_rejected(seller_client, {**car_body, "attributes": {"year": 2015}},
                    [("required", "attributes.make")])
    assert_rejected(seller_client, {key: value for key, value in car_body.items()
                                    if key != "attributes"},
                    [("required", "attributes.make")])


def test_every_attribute_problem_is_listed(seller_client, car_body):
    response = assert_rejected(
        seller_client, {**car_body, "attributes": {"colour": "red", "year": 1800}},
        [("invalid", "attributes.colour"), ("required", "attributes.make"),
         ("min_value", "attributes.year")])
    assert all(error["detail"] for error in response.json()["errors"])


def test_attributes_of_another_category_are_unknown(seller_client, phone_body):
    assert_rejected(seller_client, with_attributes(phone_body, year=2015),
                    [("invalid", "attributes.year")])


def test_draft_is_validated_too(seller_client, phone_body):
    assert_rejected(seller_client, {**phone_body, "draft": True, "title": "abc"},
                    [("min_length", "title")])


# --- ignored fields ---------------------------------------------------------------------------


def test_read_only_fields_in_the_body_are_ignored(seller_client, seller, buyer, phone_body):
    forged = {
        "id": "00000000-0000-0000-0000-000000000001",
        "owner": str(buyer.pk),
        "status": "sold",
        "views_count": 999,
        "favorites_count": 42,
        "promotion": {"tier": "vip", "until": "2099-01-01T00:00:00Z"},
        "slug": "my-own-slug",
        "published_at": "2020-01-01T00:00:00Z",
        "expires_at": "2099-01-01T00:00:00Z",
        "moderation_reason": "staff",
        "created_at": "2020-01-01T00:00:00Z",
        "is_favorited": True,
        "unknown_field": "whatever",
    }

    response = seller_client.post(ADS, {**phone_body, **forged})

    assert response.status_code == 201, response.json()
    body = response.json()
    ad = Ad.objects.get()
    assert str(ad.pk) == body["id"] != forged["id"]
    assert ad.owner_id == seller.pk
    assert body["status"] == "pending"
    assert ad.status == AdStatus.ACTIVE
    assert (ad.views_count, ad.favorites_count, ad.promotion_tier) == (0, 0, 0)
    assert ad.slug != "my-own-slug"
    assert ad.published_at.year != 2020
    assert ad.moderation_reason is None
    assert body["is_favorited"] is False
    assert body["promotion"] is None


def test_status_active_on_create_does_not_skip_moderation_or_draft(seller_client, phone_body):
    response = seller_client.post(ADS, {**phone_body, "draft": True, "status": "active"})

    assert response.status_code == 201
    assert response.json()["status"] == "draft"
    assert Ad.objects.get().status == AdStatus.DRAFT


# --- slugs ------------------------------------------------------------------------------------


def test_slug_is_the_slugified_title_plus_a_suffix(seller_client, phone_body):
    slugs = [seller_client.post(ADS, phone_body).json()["slug"] for _ in range(3)]

    for slug in slugs:
        assert re.fullmatch(r"samsung-galaxy-a54-5g-128gb-[a-z0-9]+", slug), slug
    assert len(set(slugs)) == 3


@pytest.mark.parametrize("title", ["search", "Favorites", "My ads", "my-ads", "Saved searches",
                                   "saved-searches"])
def test_slug_is_never_a_reserved_word(seller_client, api, phone_body, title):
    response = seller_client.post(ADS, {**phone_body, "title": title})

    assert response.status_code == 201, response.json()
    slug = response.json()["slug"]
    assert slug not in RESERVED_SLUGS
    assert slug.startswith(slugify(title) + "-")
    assert api.get(detail_url(slug)).json()["id"] == response.json()["id"]


def test_title_without_latin_letters_still_gets_a_slug(seller_client, api, phone_body):
    response = seller_client.post(ADS, {**phone_body, "title": "!!! ??? ***"})

    assert response.status_code == 201, response.json()
    slug = response.json()["slug"]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", slug)
    assert api.get(detail_url(slug)).status_code == 200


# --- throttle ---------------------------------------------------------------------------------


def test_posting_is_throttled_per_user(seller_client, buyer_client, throttle_rates, phone_body):
    throttle_rates(ad_posting="2/h")
    assert seller_client.post(ADS, phone_body).status_code == 201
    assert seller_client.post(ADS, phone_body).status_code == 201

    with nothing_changes():
        response = seller_client.post(ADS, phone_body)

    assert retry_after(response) > 0
    assert error_codes(response) == [("throttled", None)]
    assert Ad.objects.count() == 2
    # Reading is not posting, and another user has their own allowance.
    assert seller_client.get(ADS).status_code == 200
    assert buyer_client.post(ADS, phone_body).status_code == 201
