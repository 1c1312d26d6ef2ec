"""attribute_schema: definitions, ad values (every type and error), filters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from drf_standardized_errors.formatter import flatten_errors
from rest_framework.exceptions import ValidationError

from apps.categories import attribute_schema as schema
from apps.categories import selectors
from apps.categories.tests.factories import make_ad, make_category

pytestmark = pytest.mark.django_db


def errors_of(exc_info):
    """(code, attr) pairs as the API's error body will show them."""
    return sorted((e.code, e.attr) for e in flatten_errors(exc_info.value.detail))


@pytest.fixture
def cars():
    vehicles = make_category("Vehicles", attributes=[
        {"key": "year", "label": "Year", "type": "int", "min": 1950, "max": 2030,
         "required": True, "filterable": True},
    ])
    return make_category("Cars", vehicles, attributes=[
        {"key": "make", "type": "choice", "choices": ["Toyota", "Land Rover"], "required": True,
         "filterable": True},
        {"key": "model", "type": "text"},
        {"key": "engine", "type": "decimal", "unit": "litres", "min": "0.6", "max": 8,
         "filterable": True},
        {"key": "mileage", "type": "int", "unit": "km", "min": 0, "filterable": True},
        {"key": "imported", "type": "bool", "filterable": True},
    ])


# --- definitions ------------------------------------------------------------------------------


def test_definitions_are_normalised():
    parsed = schema.parse_definitions([
        {"key": "screen_size", "type": "decimal", "unit": " inches ", "min": 7, "max": 21.5,
         "extra": "ignored"},
        {"key": "os", "label": " OS ", "type": "choice", "choices": ["Windows", "macOS"],
         "required": True, "unit": ""},
    ])
    assert [a.to_json() for a in parsed] == [
        {"key": "screen_size", "label": "Screen size", "type": "decimal", "required": False,
         "filterable": False, "unit": "inches", "choices": None, "min": 7, "max": 21.5},
        {"key": "os", "label": "OS", "type": "choice", "required": True, "filterable": False,
         "unit": None, "choices": ["Windows", "macOS"], "min": None, "max": None},
    ]
    assert parsed[0].max == Decimal("21.5")
    assert schema.parse_definitions(None) == []
    assert schema.parse_definitions([]) == []


def test_a_stored_definition_reads_back_the_same():
    parsed = schema.parse_definitions([{"key": "w", "type": "decimal", "min": "0.25"}])
    assert schema.Attribute.from_json(parsed[0].to_json()) == parsed[0]


@pytest.mark.parametrize(("definition", "expected"), [
    ({"key": "", "type": "int"}, [("required", "attributes.0.key")]),
    ({"key": 5, "type": "int"}, [("invalid", "attributes.0.key")]),
    ({"key": "a-b", "type": "int"}, [("invalid", "attributes.0.key")]),
    ({"key": "x" * 51, "type": "int"}, [("invalid", "attributes.0.key")]),
    ({"key": "price_max", "type": "int"}, [("invalid", "attributes.0.key")]),
    ({"key": "a", "type": "choice", "choices": "a,b"}, [("not_a_list", "attributes.0.choices")]),
    ({"key": "a", "type": "choice", "choices": [1, 2]}, [("invalid", "attributes.0.choices")]),
    ({"key": "a", "type": "decimal", "min": "1e3"}, [("invalid", "attributes.0.min")]),
    ({"key": "a", "type": "decimal", "min": 0.12345}, [("max_decimal_places", "attributes.0.min")]),
    ({"key": "a", "type": "decimal", "max": 10**16}, [("max_whole_digits", "attributes.0.max")]),
    ({"key": "a", "type": "int", "max": True}, [("invalid", "attributes.0.max")]),
    ({"key": "a", "type": "int", "max": 2**60}, [("invalid", "attributes.0.max")]),
    ({"key": "a", "type": "bool", "max": 1}, [("invalid", "attributes.0.max")]),
    ({"key": "a", "type": "int", "unit": "x" * 21}, [("max_length", "attributes.0.unit")]),
    ({"key": "a", "type": "choice", "choices": ["x" * 101]},
     [("max_length", "attributes.0.choices")]),
])
def test_bad_definitions(definition, expected):
    with pytest.raises(ValidationError) as exc_info:
        schema.parse_definitions([definition])
    assert errors_of(exc_info) == expected


def test_errors_name_the_right_index():
    with pytest.raises(ValidationError) as exc_info:
        schema.parse_definitions([{"key": "a", "type": "int"}, {"key": "b", "type": "int"},
                                  {"key": "c", "type": "x"}])
    assert errors_of(exc_info) == [("invalid_choice", "attributes.2.type")]


# --- effective schemas ------------------------------------------------------------------------


def test_effective_attributes_inherit_ancestors_first(cars, django_assert_num_queries):
    keys = [a.key for a in schema.effective_attributes(cars)]
    assert keys == ["year", "make", "model", "engine", "mileage", "imported"]
    with django_assert_num_queries(1):  # the lineage's rows, by the ids in `path`
        assert len(schema.effective_attributes(cars)) == 6


def test_writes_see_schema_changes_of_their_own_transaction(cars):
    from apps.categories import services

    selectors.category_tree()
    # Created inside a transaction that has not committed: the cache version is not bumped.
    child = services.create_category(actor=None, name="Classic", parent=cars, attributes=[
        {"key": "restored", "type": "bool"}])
    assert [a.key for a in schema.effective_attributes(child)][-1] == "restored"
    assert selectors.is_leaf(child)
    assert not selectors.is_leaf(cars)
    services.update_category(actor=None, category=child, changes={"attributes": []})
    assert [a.key for a in schema.effective_attributes(child)][-1] == "imported"


def test_filterable_attributes(cars):
    phones = make_category("Phones", attributes=[
        {"key": "storage", "type": "int", "filterable": True},
        {"key": "make", "type": "choice", "choices": ["Apple"], "filterable": True}])
    vehicles = cars.parent
    assert [a.key for a in schema.filterable_attributes(vehicles)] == [
        "year", "make", "engine", "mileage", "imported"]
    assert [a.key for a in schema.filterable_attributes(phones)] == ["storage", "make"]
    assert [a.key for a in schema.filterable_attributes(None)] == [
        "storage", "make", "year", "engine", "mileage", "imported"]
    assert selectors.attribute_types() == {
        "storage": "int", "make": "choice", "year": "int", "engine": "decimal",
        "mileage": "int", "imported": "bool"}
    assert selectors.attribute_types(filterable_only=False)["model"] == "text"


# --- ad values --------------------------------------------------------------------------------


def test_valid_values_are_cleaned(cars):
    cleaned = schema.validate_ad_attributes(cars, {
        "imported": False, "make": "Land Rover", "model": "  Defender ", "year": 2019,
        "engine": 2.5, "mileage": 0})
    assert cleaned == {"year": 2019, "make": "Land Rover", "model": "Defender",
                       "engine": "2.5", "mileage": 0, "imported": False}
    assert list(cleaned) == ["year", "make", "model", "engine", "mileage", "imported"]


@pytest.mark.parametrize(("engine", "stored"), [
    (2, "2"), (1.8, "1.8"), ("1.80", "1.80"), ("3", "3"), (" 2.0 ", "2.0"), (8, "8"),
    ("0.6", "0.6"),
])
def test_decimals_are_strings_with_their_digits(cars, engine, stored):
    cleaned = schema.validate_ad_attributes(cars, {"make": "Toyota", "year": 2010,
                                                   "engine": engine})
    assert cleaned["engine"] == stored


def test_absent_null_and_blank_optional_values_are_left_out(cars):
    cleaned = schema.validate_ad_attributes(cars, {"make": "Toyota", "year": 2010, "model": " ",
                                                   "engine": None})
    assert cleaned == {"year": 2010, "make": "Toyota"}
    assert schema.validate_ad_attributes(make_category("Bare"), {}) == {}
    assert schema.validate_ad_attributes(make_category("Bare too"), None) == {}


@pytest.mark.parametrize(("values", "expected"), [
    ({"make": "Toyota"}, [("required", "attributes.year")]),
    ({"year": 2010}, [("required", "attributes.make")]),
    ({"make": "Toyota", "year": None}, [("required", "attributes.year")]),
    ({"make": "Toyota", "year": 2010, "colour": "red"}, [("invalid", "attributes.colour")]),
    ({"make": "toyota", "year": 2010}, [("invalid_choice", "attributes.make")]),
    ({"make": "Toyota ", "year": 2010}, [("invalid_choice", "attributes.make")]),
    ({"make": 1, "year": 2010}, [("invalid_choice", "attributes.make")]),
    ({"make": "Toyota", "year": "2010"}, [("invalid", "attributes.year")]),
    ({"make": "Toyota", "year": 2010.5}, [("invalid", "attributes.year")]),
    ({"make": "Toyota", "year": True}, [("invalid", "attributes.year")]),
    ({"make": "Toyota", "year": 1949}, [("min_value", "attributes.year")]),
    ({"make": "Toyota", "year": 2031}, [("max_value", "attributes.year")]),
    ({"make": "Toyota", "year": 2010, "mileage": -1}, [("min_value", "attributes.mileage")]),
    ({"make": "Toyota", "year": 2010, "mileage": 2**60}, [("max_value", "attributes.mileage")]),
    ({"make": "Toyota", "year": 2010, "engine": "big"}, [("invalid", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "engine": "1e1"}, [("invalid", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "engine": "NaN"}, [("invalid", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "engine": True}, [("invalid", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "engine": [2]}, [("invalid", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "engine": 0.5}, [("min_value", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "engine": "8.01"}, [("max_value", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "engine": "1.23456"},
     [("max_decimal_places", "attributes.engine")]),
    ({"make": "Toyota", "year": 2010, "imported": "true"}, [("invalid", "attributes.imported")]),
    ({"make": "Toyota", "year": 2010, "imported": 1}, [("invalid", "attributes.imported")]),
    ({"make": "Toyota", "year": 2010, "model": 300}, [("invalid", "attributes.model")]),
    ({"make": "Toyota", "year": 2010, "model": "x" * 201}, [("max_length", "attributes.model")]),
    ({"colour": "red", "year": "old"}, [("invalid", "attributes.colour"),
                                       ("invalid", "attributes.year"),
                                       ("required", "attributes.make")]),
])
def test_bad_values_name_the_attribute(cars, values, expected):
    with pytest.raises(ValidationError) as exc_info:
        schema.validate_ad_attributes(cars, values)
    assert errors_of(exc_info) == expected


def test_not_an_object(cars):
    with pytest.raises(ValidationError) as exc_info:
        schema.validate_ad_attributes(cars, ["make"])
    assert errors_of(exc_info) == [("invalid", "attributes")]


def test_the_error_body_names_the_attribute(cars, rf):
    """Through the project's exception handler: `attr` is `attributes.<key>`."""
    from rest_framework.views import APIView

    from apps.common.exception_handler import handle_api_exception

    with pytest.raises(ValidationError) as exc_info:
        schema.validate_ad_attributes(cars, {"make": "Toyota", "year": 1800})
    response = handle_api_exception(exc_info.value, {"view": APIView(), "request": rf.get("/")})
    assert response.status_code == 400
    assert response.data["type"] == "validation_error"
    assert [(e["code"], e["attr"]) for e in response.data["errors"]] == [
        ("min_value", "attributes.year")]


# --- filters ----------------------------------------------------------------------------------


def test_parse_filters_by_type(cars):
    filters = schema.parse_attribute_filters({
        "attr_make": "Toyota", "attr_year_min": "2010", "attr_year_max": "2015",
        "attr_engine": "2.0", "attr_imported": "true", "attr_mileage": "", "category": "cars",
        "page": "2"})
    assert [(f.key, f.lookup, f.value) for f in filters] == [
        ("make", "exact", "Toyota"), ("year", "gte", 2010), ("year", "lte", 2015),
        ("engine", "exact", Decimal("2.0")), ("imported", "exact", True)]


@pytest.mark.parametrize(("params", "attr"), [
    ({"attr_colour": "red"}, "attr_colour"),
    ({"attr_model": "Corolla"}, "attr_model"),  # not filterable
    ({"attr_make_min": "A"}, "attr_make_min"),  # ranges are for numbers
    ({"attr_year": "recent"}, "attr_year"),
    ({"attr_year_min": "2010.5"}, "attr_year_min"),
    ({"attr_engine_max": "big"}, "attr_engine_max"),
    ({"attr_imported": "yes"}, "attr_imported"),
])
def test_bad_filters_are_400_on_the_parameter(cars, params, attr):
    with pytest.raises(ValidationError) as exc_info:
        schema.parse_attribute_filters(params)
    assert errors_of(exc_info) == [("invalid", attr)]


def test_category_scopes_the_filterable_keys(cars):
    phones = make_category("Phones", attributes=[{"key": "storage", "type": "int",
                                                  "filterable": True}])
    assert schema.parse_attribute_filters({"attr_storage": "64"})[0].value == 64
    assert schema.parse_attribute_filters({"attr_year": "2010"}, category_slug="vehicles")
    with pytest.raises(ValidationError) as exc_info:
        schema.parse_attribute_filters({"attr_storage": "64"}, category_slug="cars")
    assert errors_of(exc_info) == [("invalid", "attr_storage")]
    with pytest.raises(ValidationError) as exc_info:
        schema.parse_attribute_filters({"attr_storage": "64"}, category_slug="nope")
    assert errors_of(exc_info) == [("invalid", "category")]
    assert phones.pk


def test_filters_select_ads(cars, user):
    from apps.ads.models import Ad

    def ad(**attributes):
        return make_ad(user, cars, attributes=schema.validate_ad_attributes(cars, attributes))

    old = ad(make="Toyota", year=2005, engine=1.5, imported=True)
    mid = ad(make="Toyota", year=2012, engine="2.50", imported=False)
    new = ad(make="Land Rover", year=2020, engine=3, mileage=10)
    legacy = make_ad(user, cars, attributes={"engine": "big", "year": "old"})  # older schema

    def matching(**params):
        q = [f.as_q() for f in schema.parse_attribute_filters(params)]
        queryset = Ad.objects.all()
        for condition in q:
            queryset = queryset.filter(condition)
        return set(queryset)

    assert matching(attr_make="Toyota") == {old, mid}
    assert matching(attr_year_min="2010") == {mid, new}
    assert matching(attr_year_min="2005", attr_year_max="2012") == {old, mid}
    assert matching(attr_engine="2.5") == {mid}
    assert matching(attr_engine_min="1.6", attr_engine_max="3") == {mid, new}
    assert matching(attr_imported="false") == {mid}
    assert matching(attr_year="2020") == {new}
    assert matching(attr_year="1800") == set()  # outside min/max: matches nothing
    assert matching(attr_make="Tesla") == set()
    assert legacy not in matching(attr_engine_max="100")
