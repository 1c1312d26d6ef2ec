"""GET /api/ads/ filters (API.md section 6): each filter, the orderings, and malformed values."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.ads.models import PromotionTier
from apps.ads.tests.factories import ADS, make_ad
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(seller, buyer, catalog, places):
    now = timezone.now()

    def car(title, make, year, mileage, engine, automatic, price, **fields):
        return make_ad(owner=seller, category=catalog.cars, title=title, price=price,
                       attributes={"make": make, "year": year, "mileage": mileage,
                                   "engine_size": engine, "automatic": automatic}, **fields)

    toyota = car("Toyota Fielder silver", "Toyota", 2015, 84000, "1.5", True, 1350000,
                 location=places.westlands, condition="used", negotiable=True, images=1,
                 published_at=now - timedelta(days=3))
    mazda = car("Mazda Demio hatchback", "Mazda", 2010, 150000, "1.3", False, 720000,
                location=places.nyali, condition="used", negotiable=False,
                published_at=now - timedelta(days=10))
    subaru = car("Subaru Forester turbo", "Subaru", 2018, 40000, "2.0", True, 2150000,
                 location=places.kilimani, condition="new", negotiable=True, images=2,
                 published_at=now - timedelta(hours=1))
    bike = make_ad(owner=buyer, category=catalog.motorcycles, title="Boxer BM150 bike",
                   price=98000, location=places.nyali, condition="used",
                   attributes={"year": 2015}, published_at=now - timedelta(days=5))
    samsung = make_ad(owner=buyer, category=catalog.phones, title="Samsung Galaxy A54",
                      description="Comes with the original charger.", price=38500,
                      location=places.westlands, condition="new", negotiable=True, images=1,
                      attributes={"brand": "Samsung", "storage": 128, "dual_sim": True},
                      published_at=now - timedelta(days=2))
    iphone = make_ad(owner=buyer, category=catalog.phones, title="iPhone 13 midnight",
                     price=72000, condition="refurbished",
                     attributes={"brand": "Apple", "storage": 256, "dual_sim": False},
                     published_at=now - timedelta(days=20))
    flat = make_ad(owner=seller, category=catalog.apartments, title="Two bedroom flat",
                   price=65000, location=places.kilimani, published_at=now - timedelta(days=1))
    # Never listed, whatever the filter.
    make_ad(owner=seller, category=catalog.cars, status="draft", title="Toyota Fielder draft",
            attributes={"make": "Toyota", "year": 2015}, location=places.westlands)
    make_ad(owner=seller, category=catalog.phones, status="sold", title="Samsung sold",
            attributes={"brand": "Samsung", "storage": 128})
    make_ad(owner=buyer, category=catalog.cars, deleted=True, title="Toyota deleted",
            attributes={"make": "Toyota", "year": 2015})
    return SimpleNamespace(toyota=toyota, mazda=mazda, subaru=subaru, bike=bike,
                           samsung=samsung, iphone=iphone, flat=flat, now=now)


def found(api, **params):
    response = api.get(ADS, params)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == len(body["results"])
    return [ad["title"] for ad in body["results"]]


def titles(*ads):
    return [ad.title for ad in ads]


def test_no_filter_lists_every_active_ad_newest_first(api, market):
    m = market
    assert found(api) == titles(m.subaru, m.flat, m.samsung, m.toyota, m.bike, m.mazda,
                                m.iphone)


def test_category_includes_descendants(api, market):
    m = market
    assert found(api, category="vehicles") == titles(m.subaru, m.toyota, m.bike, m.mazda)
    assert found(api, category="cars") == titles(m.subaru, m.toyota, m.mazda)
    assert found(api, category="motorcycles") == titles(m.bike)
    assert found(api, category="property") == titles(m.flat)  # two levels down
    assert found(api, category="for-rent") == titles(m.flat)
    assert found(api, category="laptops") == []


def test_location_includes_descendants(api, market, places):
    m = market
    assert found(api, location="nairobi") == titles(m.subaru, m.flat, m.samsung, m.toyota)
    assert found(api, location="westlands") == titles(m.samsung, m.toyota)
    assert found(api, location="mombasa") == titles(m.bike, m.mazda)
    assert found(api, location=places.nyali.slug) == titles(m.bike, m.mazda)


def test_price_range_is_inclusive(api, market):
    m = market
    assert found(api, min_price="720000") == titles(m.subaru, m.toyota, m.mazda)
    assert found(api, max_price="72000") == titles(m.flat, m.samsung, m.iphone)
    assert found(api, min_price="38500.00", max_price="72000") == titles(
        m.flat, m.samsung, m.iphone)
    assert found(api, min_price="38500.01", max_price="71999.99") == titles(m.flat)
    assert found(api, min_price="5000000") == []


def test_condition(api, market):
    m = market
    assert found(api, condition="new") == titles(m.subaru, m.samsung)
    assert found(api, condition="used") == titles(m.toyota, m.bike, m.mazda)
    assert found(api, condition="refurbished") == titles(m.iphone)


def test_negotiable(api, market):
    m = market
    assert found(api, negotiable="true") == titles(m.subaru, m.samsung, m.toyota)
    assert found(api, negotiable="false") == titles(m.flat, m.bike, m.mazda, m.iphone)


def test_has_images(api, market):
    m = market
    assert found(api, has_images="true") == titles(m.subaru, m.samsung, m.toyota)
    assert found(api, has_images="false") == titles(m.flat, m.bike, m.mazda, m.iphone)


def test_seller(api, market, seller, buyer, make_user):
    m = market
    assert found(api, seller=str(seller.pk)) == titles(m.subaru, m.flat, m.toyota, m.mazda)
    assert found(api, seller=str(buyer.pk)) == titles(m.samsung, m.bike, m.iphone)
    assert found(api, seller=str(make_user().pk)) == []


def test_posted_since_is_that_utc_day_or_later(api, market):
    m = market
    day = (m.now - timedelta(days=3)).date()
    assert found(api, posted_since=day.isoformat()) == titles(m.subaru, m.flat, m.samsung,
                                                              m.toyota)
    assert found(api, posted_since=(m.now + timedelta(days=1)).date().isoformat()) == []
    assert found(api, posted_since="2000-01-01") == found(api)


def test_q_matches_title_or_description_words(api, market):
    m = market
    assert found(api, q="toyota") == titles(m.toyota)
    assert found(api, q="CHARGER") == titles(m.samsung)  # description, any case
    assert found(api, q="samsung charger") == titles(m.samsung)
    assert found(api, q="  ") == found(api)


@pytest.mark.parametrize("q", ["100%", "'quoted' \"text\"", "\\", "_", "a & b | !c", "x" * 500,
                               "\U0001f697 car"])
def test_any_q_is_answered(api, market, q):
    active = set(found(api))

    assert set(found(api, q=q)) <= active


def test_attribute_exact_for_choice_int_and_bool(api, market):
    m = market
    assert found(api, attr_make="Toyota") == titles(m.toyota)
    assert found(api, attr_make="Tesla") == []  # outside the choices: matches nothing
    assert found(api, attr_brand="Samsung") == titles(m.samsung)
    assert found(api, attr_storage="256") == titles(m.iphone)
    assert found(api, attr_automatic="true") == titles(m.subaru, m.toyota)
    assert found(api, attr_automatic="false") == titles(m.mazda)
    assert found(api, attr_dual_sim="true") == titles(m.samsung)


def test_attribute_filters_work_without_a_category(api, market):
    m = market
    # `year` is an int in Cars and in Motorcycles.
    assert found(api, attr_year="2015") == titles(m.toyota, m.bike)
    assert found(api, attr_year="2015", category="cars") == titles(m.toyota)
    assert found(api, attr_year="2015", category="electronics") == []


def test_attribute_ranges_for_int(api, market):
    m = market
    assert found(api, attr_year_min="2015") == titles(m.subaru, m.toyota, m.bike)
    assert found(api, attr_year_max="2015") == titles(m.toyota, m.bike, m.mazda)
    assert found(api, attr_year_min="2011", attr_year_max="2017") == titles(m.toyota, m.bike)
    assert found(api, attr_mileage_max="84000") == titles(m.subaru, m.toyota)
    assert found(api, attr_mileage_min="84000", attr_mileage_max="84000") == titles(m.toyota)


def test_attribute_ranges_and_exact_for_decimal(api, market):
    m = market
    assert found(api, attr_engine_size_min="1.5") == titles(m.subaru, m.toyota)
    assert found(api, attr_engine_size_max="1.5") == titles(m.toyota, m.mazda)
    assert found(api, attr_engine_size_min="1.31", attr_engine_size_max="1.99") == titles(
        m.toyota)
    # Numbers compare numerically: "2", "2.0" and "2.000" are the same value.
    assert found(api, attr_engine_size="2") == titles(m.subaru)
    assert found(api, attr_engine_size="2.000") == titles(m.subaru)


def test_filters_combine(api, market):
    m = market
    assert found(api, category="vehicles", location="nairobi", attr_automatic="true",
                 max_price="2000000", has_images="true") == titles(m.toyota)


@pytest.mark.parametrize(("params", "expected"), [
    ({"attr_year": "1800"}, []),  # below the schema's min
    ({"attr_year": "2999"}, []),
    ({"attr_year_min": "3000"}, []),
    ({"attr_year_max": "1000"}, []),
    ({"attr_engine_size_min": "99"}, []),
    ({"attr_mileage_max": "-5"}, []),
    ({"min_price": "0", "max_price": "1"}, []),
])
def test_well_formed_values_outside_the_schema_match_nothing(api, market, params, expected):
    response = api.get(ADS, params)

    assert response.status_code == 200, response.json()
    assert response.json()["results"] == expected
    assert response.json()["count"] == 0


def test_orderings(api, market):
    m = market
    by_price = titles(m.samsung, m.flat, m.iphone, m.bike, m.mazda, m.toyota, m.subaru)
    assert found(api, ordering="price") == by_price
    assert found(api, ordering="-price") == list(reversed(by_price))
    newest = titles(m.subaru, m.flat, m.samsung, m.toyota, m.bike, m.mazda, m.iphone)
    assert found(api, ordering="-published_at") == newest
    assert found(api, ordering="published_at") == list(reversed(newest))


def test_ordering_ignores_promotion_but_the_default_does_not(api, market):
    from apps.ads.models import Ad

    m = market
    Ad.objects.filter(pk=m.iphone.pk).update(promotion_tier=PromotionTier.VIP,
                                             promotion_until=m.now + timedelta(days=2))

    assert found(api)[0] == m.iphone.title
    assert found(api, ordering="-published_at")[-1] == m.iphone.title
    assert found(api, ordering="-price")[-1] == m.samsung.title


def test_filtered_pages_link_with_the_filters(api, market):
    body = api.get(ADS, {"category": "cars", "page_size": 1}).json()

    assert body["count"] == 3
    assert body["next"].startswith("http://testserver/api/ads/?")
    assert "category=cars" in body["next"] and "page=2" in body["next"]


@pytest.mark.parametrize(("param", "value", "code"), [
    ("min_price", "cheap", "invalid"),
    ("max_price", "1,000", "invalid"),
    ("min_price", "NaN", "invalid"),
    ("category", "no-such-category", "invalid"),
    ("location", "atlantis", "invalid"),
    ("ordering", "cheapest", "invalid_choice"),
    ("ordering", "-promotion_tier", "invalid_choice"),
    ("condition", "broken", "invalid_choice"),
    ("negotiable", "maybe", "invalid_choice"),
    ("negotiable", "1", "invalid_choice"),
    ("has_images", "yes", "invalid_choice"),
    ("seller", "not-a-uuid", "invalid"),
    ("posted_since", "yesterday", "invalid"),
    ("posted_since", "2025-02-30", "invalid"),
    ("attr_year", "abc", "invalid"),
    ("attr_year", "2015.5", "invalid"),
    ("attr_year_min", "old", "invalid"),
    ("attr_automatic", "yes", "invalid"),
    ("attr_engine_size_min", "big", "invalid"),
    ("attr_engine_size", "NaN", "invalid"),
    ("attr_engine_size_max", "Infinity", "invalid"),
    ("attr_colour", "red", "invalid"),  # no such key anywhere
    ("attr_model", "Fielder", "invalid"),  # exists, but not filterable
    ("attr_make_min", "Mazda", "invalid"),  # a range on a choice
    ("attr_automatic_max", "true", "invalid"),  # a range on a bool
    ("attr_", "x", "invalid"),
])
def test_malformed_values_are_400_on_the_parameter(api, market, param, value, code):
    response = api.get(ADS, {param: value})

    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [(code, param)]
