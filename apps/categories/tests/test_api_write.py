"""Staff endpoints: create, update (rename, move, re-schema), delete; who may; nothing written
on errors; the cached tree shows every write at once."""

from __future__ import annotations

import pytest

from apps.categories.models import Category
from apps.categories.tests.factories import (
    ALL,
    CATEGORIES,
    CREATE,
    DETAIL_KEYS,
    delete_url,
    detail_url,
    make_ad,
    make_category,
    reload,
    update_url,
)
from apps.common.models import AuditEntry
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(staff, client_for):
    return client_for(staff)


@pytest.fixture
def user_api(user, client_for):
    return client_for(user)


@pytest.fixture
def vehicles():
    return make_category("Vehicles", attributes=[{"key": "year", "type": "int"}])


@pytest.fixture
def cars(vehicles):
    return make_category("Cars", vehicles, attributes=[
        {"key": "make", "type": "choice", "choices": ["Toyota"]}])


def snapshot():
    return (list(Category.all_objects.order_by("pk").values()), AuditEntry.objects.count())


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), [
    ("post", CREATE),
    ("put", update_url("cars")),
    ("delete", delete_url("cars")),
    ("put", update_url("unknown")),
    ("delete", delete_url("unknown")),
])
def test_anonymous_gets_401_and_user_403_before_anything_else(api, user_api, cars, method, url):
    before = snapshot()
    response = getattr(api, method)(url, {"name": "X"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_codes(response) == [("not_authenticated", None)]
    response = getattr(user_api, method)(url, {"name": "X"})
    assert response.status_code == 403
    assert error_codes(response) == [("permission_denied", None)]
    assert snapshot() == before


# --- create -----------------------------------------------------------------------------------


def test_staff_creates_a_root_and_a_child(staff_api, staff):
    response = staff_api.post(CREATE, {"name": "  Electronics ", "icon": "tv", "order": 3})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body | {"id": 0} == {
        "id": 0, "name": "Electronics", "slug": "electronics", "parent": None, "depth": 0,
        "order": 3, "icon": "tv", "ad_count": 0, "ancestors": [], "children": [],
        "attributes": []}
    root = Category.objects.get(pk=body["id"])
    assert root.path == f"/{root.pk}/"

    response = staff_api.post(CREATE, {"name": "Laptops", "parent": root.pk, "attributes": [
        {"key": "ram", "label": "RAM", "type": "int", "unit": "GB", "min": 1, "max": 256,
         "filterable": True}]})
    assert response.status_code == 201
    body = response.json()
    assert body["parent"] == root.pk
    assert body["depth"] == 1
    assert body["ancestors"] == [{"id": root.pk, "slug": "electronics", "name": "Electronics"}]
    assert body["attributes"] == [{"key": "ram", "label": "RAM", "type": "int",
                                   "required": False, "filterable": True, "unit": "GB",
                                   "choices": None, "min": 1, "max": 256}]
    child = Category.objects.get(pk=body["id"])
    assert child.path == f"/{root.pk}/{child.pk}/"
    entry = AuditEntry.objects.filter(action="categories.category.created").last()
    assert entry.target_id == str(child.pk)
    assert entry.actor_id == staff.pk


def test_read_only_and_unknown_fields_are_ignored(staff_api):
    response = staff_api.post(CREATE, {"name": "Jobs", "slug": "work", "id": 999, "depth": 4,
                                       "ad_count": 50, "path": "/1/", "colour": "red"})
    assert response.status_code == 201
    body = response.json()
    assert (body["slug"], body["depth"], body["ad_count"]) == ("jobs", 0, 0)
    assert body["id"] != 999


def test_slugs_are_unique_tree_wide_with_numbered_suffixes(staff_api, vehicles):
    make_category("Accessories", vehicles)
    phones = make_category("Phones")
    slugs = [staff_api.post(CREATE, {"name": "Accessories", "parent": parent}).json()["slug"]
             for parent in (phones.pk, None, phones.pk)]
    assert slugs == ["accessories-2", "accessories-3", "accessories-4"]


@pytest.mark.parametrize(("name", "slug"), [
    ("All", "all-2"), ("Admin", "admin-2"), ("!!!", "category"),
    ("Électroménager", "electromenager"),
    ("Home, Furniture & Garden", "home-furniture-garden"),
])
def test_slug_is_the_slugified_name_never_a_route(staff_api, name, slug):
    assert staff_api.post(CREATE, {"name": name}).json()["slug"] == slug


@pytest.mark.parametrize(("body", "expected"), [
    ({}, [("required", "name")]),
    ({"name": "   "}, [("blank", "name")]),
    ({"name": "x" * 101}, [("max_length", "name")]),
    ({"name": "A", "parent": 999999}, [("does_not_exist", "parent")]),
    ({"name": "A", "parent": "abc"}, [("incorrect_type", "parent")]),
    ({"name": "A", "parent": 10**30}, [("does_not_exist", "parent")]),
    ({"name": "A", "order": "first"}, [("invalid", "order")]),
    ({"name": "A", "order": 2**40}, [("max_value", "order")]),
    ({"name": "A", "attributes": "year"}, [("not_a_list", "attributes")]),
    ({"name": "A", "attributes": [{"type": "int"}]}, [("required", "attributes.0.key")]),
    ({"name": "A", "attributes": [{"key": "Year", "type": "int"}]},
     [("invalid", "attributes.0.key")]),
    ({"name": "A", "attributes": [{"key": "year_min", "type": "int"}]},
     [("invalid", "attributes.0.key")]),
    ({"name": "A", "attributes": [{"key": "year"}]}, [("required", "attributes.0.type")]),
    ({"name": "A", "attributes": [{"key": "year", "type": "date"}]},
     [("invalid_choice", "attributes.0.type")]),
    ({"name": "A", "attributes": [{"key": "ok", "type": "bool"}, {"key": "c", "type": "choice"}]},
     [("required", "attributes.1.choices")]),
    ({"name": "A", "attributes": [{"key": "c", "type": "choice", "choices": ["a", "a"]}]},
     [("unique", "attributes.0.choices")]),
    ({"name": "A", "attributes": [{"key": "c", "type": "choice", "choices": ["a", ""]}]},
     [("invalid", "attributes.0.choices")]),
    ({"name": "A", "attributes": [{"key": "t", "type": "text", "choices": ["a"]}]},
     [("invalid", "attributes.0.choices")]),
    ({"name": "A", "attributes": [{"key": "t", "type": "text", "min": 1}]},
     [("invalid", "attributes.0.min")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "int", "min": 5, "max": 1}]},
     [("invalid", "attributes.0.max")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "int", "min": 1.5}]},
     [("invalid", "attributes.0.min")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "decimal", "max": "lots"}]},
     [("invalid", "attributes.0.max")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "int", "required": "yes"}]},
     [("invalid", "attributes.0.required")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "int", "filterable": 1}]},
     [("invalid", "attributes.0.filterable")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "int", "unit": 5}]},
     [("invalid", "attributes.0.unit")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "int", "label": "x" * 101}]},
     [("max_length", "attributes.0.label")]),
    ({"name": "A", "attributes": [{"key": "n", "type": "int"}, {"key": "n", "type": "text"}]},
     [("unique", "attributes.1.key")]),
    ({"name": "A", "attributes": ["year"]}, [("invalid", "attributes.0")]),
    ({"name": "A", "attributes": [{"key": "a", "type": "int"}] * 51},
     [("max_length", "attributes")]),
])
def test_bad_input_is_400_on_the_field_and_writes_nothing(staff_api, vehicles, body, expected):
    before = snapshot()
    response = staff_api.post(CREATE, body)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == expected
    assert snapshot() == before


def test_every_bad_definition_is_reported(staff_api):
    response = staff_api.post(CREATE, {"name": "A", "attributes": [
        {"key": "ok", "type": "int"}, {"key": "1bad", "type": "float"},
        {"key": "c", "type": "choice"}]})
    assert response.status_code == 400
    assert sorted(error_codes(response)) == [
        ("invalid", "attributes.1.key"), ("invalid_choice", "attributes.1.type"),
        ("required", "attributes.2.choices")]


def test_a_key_cannot_be_inherited_and_defined_again(staff_api, cars):
    before = snapshot()
    response = staff_api.post(CREATE, {"name": "Hybrids", "parent": cars.pk, "attributes": [
        {"key": "colour", "type": "text"}, {"key": "year", "type": "int"}]})
    assert response.status_code == 400
    assert error_codes(response) == [("unique", "attributes.1.key")]
    assert snapshot() == before


def test_one_key_has_one_type_across_the_tree(staff_api, cars):
    response = staff_api.post(CREATE, {"name": "Phones", "attributes": [
        {"key": "make", "type": "text"}]})
    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "attributes.0.type")]
    response = staff_api.post(CREATE, {"name": "Phones", "attributes": [
        {"key": "make", "type": "choice", "choices": ["Apple"]}]})
    assert response.status_code == 201


def test_a_parent_cannot_define_a_key_a_child_already_has(staff_api, cars):
    response = staff_api.put(update_url("vehicles"), {"name": "Vehicles", "attributes": [
        {"key": "year", "type": "int"}, {"key": "make", "type": "choice", "choices": ["BMW"]}]})
    assert response.status_code == 400
    assert error_codes(response) == [("unique", "attributes.1.key")]


# --- update -----------------------------------------------------------------------------------


def test_rename_keeps_the_slug_and_shows_at_once(staff_api, api, cars):
    assert api.get(detail_url("cars")).json()["name"] == "Cars"  # cached
    response = staff_api.put(update_url("cars"), {"name": "Cars & Vans"})
    assert response.status_code == 200
    assert response.json()["slug"] == "cars"
    assert response.json()["name"] == "Cars & Vans"
    assert api.get(detail_url("cars")).json()["name"] == "Cars & Vans"
    assert api.get(CATEGORIES).json()[0]["children"][0]["name"] == "Cars & Vans"
    assert api.get(detail_url("cars-vans")).status_code == 404
    # A new category with the old name gets a new slug; the renamed one keeps its own.
    assert staff_api.post(CREATE, {"name": "Cars"}).json()["slug"] == "cars-2"


def test_put_changes_only_what_is_sent(staff_api, cars, vehicles):
    update = staff_api.put(update_url("cars"), {"name": "Cars", "order": 4, "icon": "car"})
    assert update.status_code == 200
    body = update.json()
    assert (body["parent"], body["order"], body["icon"]) == (vehicles.pk, 4, "car")
    assert [a["key"] for a in body["attributes"]] == ["year", "make"]
    body = staff_api.put(update_url("cars"), {"name": "Cars", "attributes": []}).json()
    assert [a["key"] for a in body["attributes"]] == ["year"]


def test_an_update_is_audited_and_a_no_op_is_not(staff_api, cars):
    count = AuditEntry.objects.filter(action="categories.category.updated").count()
    staff_api.put(update_url("cars"), {"name": "Cars"})
    assert AuditEntry.objects.filter(action="categories.category.updated").count() == count
    staff_api.put(update_url("cars"), {"name": "Motorcars", "order": 2})
    entry = AuditEntry.objects.filter(action="categories.category.updated").last()
    assert entry.data == {"changed": ["name", "order"]}


def test_update_unknown_slug_is_404(staff_api):
    response = staff_api.put(update_url("nothing"), {"name": "X"})
    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_move_rewrites_the_subtree_and_carries_its_ads(staff_api, api, user, vehicles):
    cars = make_category("Cars", vehicles)
    used = make_category("Used Cars", cars)
    japanese = make_category("Japanese", used)
    other = make_category("Other Root")
    make_ad(user, japanese)
    make_ad(user, japanese)
    api.get(CATEGORIES)  # warm the cache

    response = staff_api.put(update_url("used-cars"), {"name": "Used Cars", "parent": other.pk})
    assert response.status_code == 200
    assert response.json()["ancestors"] == [
        {"id": other.pk, "slug": "other-root", "name": "Other Root"}]
    used, japanese = reload(used), reload(japanese)
    assert (used.path, used.depth) == (f"/{other.pk}/{used.pk}/", 1)
    assert (japanese.path, japanese.depth) == (f"/{other.pk}/{used.pk}/{japanese.pk}/", 2)
    counts = {node["slug"]: node["ad_count"] for node in api.get(ALL).json()}
    assert counts == {"vehicles": 0, "cars": 0, "other-root": 2, "used-cars": 2, "japanese": 2}
    assert api.get(detail_url("japanese")).json()["depth"] == 2

    response = staff_api.put(update_url("used-cars"), {"name": "Used Cars", "parent": None})
    assert response.status_code == 200
    assert reload(japanese).path == f"/{used.pk}/{japanese.pk}/"
    assert [node["slug"] for node in api.get(CATEGORIES).json()] == [
        "other-root", "used-cars", "vehicles"]


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_moving_under_itself_or_a_descendant_is_400(staff_api, vehicles, target):
    cars = make_category("Cars", vehicles)
    parents = {"self": vehicles, "child": cars, "grandchild": make_category("Used", cars)}
    before = snapshot()
    response = staff_api.put(update_url("vehicles"),
                             {"name": "Vehicles", "parent": parents[target].pk})
    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "parent")]
    assert snapshot() == before


def test_moving_where_a_key_would_repeat_is_400_on_parent(staff_api, cars):
    other = make_category("Machines", attributes=[
        {"key": "make", "type": "choice", "choices": ["CAT"]}])
    response = staff_api.put(update_url("cars"), {"name": "Cars", "parent": other.pk})
    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "parent")]
    assert reload(cars).parent_id != other.pk


# --- delete -----------------------------------------------------------------------------------


def test_delete_a_leaf(staff_api, api, cars, staff):
    api.get(CATEGORIES)
    response = staff_api.delete(delete_url("cars"))
    assert response.status_code == 204
    assert not Category.all_objects.filter(pk=cars.pk).exists()
    assert api.get(detail_url("cars")).status_code == 404
    assert api.get(CATEGORIES).json()[0]["children"] == []
    entry = AuditEntry.objects.filter(action="categories.category.deleted").last()
    assert entry.target_id == str(cars.pk)
    assert entry.actor_id == staff.pk
    assert staff_api.delete(delete_url("cars")).status_code == 404


def test_delete_with_children_is_409(staff_api, cars):
    before = snapshot()
    response = staff_api.delete(delete_url("vehicles"))
    assert response.status_code == 409
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == [("has_dependents", None)]
    assert snapshot() == before


@pytest.mark.parametrize("status", ["active", "draft", "pending", "sold", "expired", "hidden"])
def test_delete_with_an_undeleted_ad_of_any_status_is_409(staff_api, cars, user, status):
    make_ad(user, cars, status=status)
    before = snapshot()
    response = staff_api.delete(delete_url("cars"))
    assert response.status_code == 409
    assert error_codes(response) == [("has_dependents", None)]
    assert snapshot() == before


def test_a_category_with_only_deleted_ads_is_archived(staff_api, api, cars, user, vehicles):
    ad = make_ad(user, cars, deleted=True)
    response = staff_api.delete(delete_url("cars"))
    assert response.status_code == 204
    archived = reload(cars)
    assert archived.deleted_at is not None
    ad.refresh_from_db()
    assert ad.category_id == cars.pk  # the deleted ad keeps its category for chats and audit
    assert api.get(detail_url("cars")).status_code == 404
    assert "cars" not in [node["slug"] for node in api.get(ALL).json()]
    assert not Category.objects.filter(pk=cars.pk).exists()
    # Vehicles is a leaf again, and can go too (archived, as an archived child still points at it).
    assert api.get(detail_url("vehicles")).json()["children"] == []
    assert staff_api.delete(delete_url("vehicles")).status_code == 204
    assert reload(vehicles).deleted_at is not None
    # The slug stays taken.
    assert staff_api.post(CREATE, {"name": "Cars"}).json()["slug"] == "cars-2"
    assert staff_api.put(update_url("cars"), {"name": "X"}).status_code == 404


# --- cache ------------------------------------------------------------------------------------


def test_every_write_shows_in_the_next_read(staff_api, api, vehicles):
    assert [n["slug"] for n in api.get(ALL).json()] == ["vehicles"]
    created = staff_api.post(CREATE, {"name": "Boats", "parent": vehicles.pk}).json()
    assert [n["slug"] for n in api.get(ALL).json()] == ["vehicles", "boats"]
    assert [c["slug"] for c in api.get(detail_url("vehicles")).json()["children"]] == ["boats"]
    staff_api.put(update_url("boats"), {"name": "Boats", "attributes": [
        {"key": "length", "type": "decimal", "unit": "m"}]})
    assert [a["key"] for a in api.get(detail_url("boats")).json()["attributes"]] == [
        "year", "length"]
    staff_api.delete(delete_url("boats"))
    assert [n["id"] for n in api.get(ALL).json()] == [vehicles.pk]
    assert created["id"] not in [n["id"] for n in api.get(CATEGORIES).json()]
