"""The demo tree, and the Django admin writing through the services."""

from __future__ import annotations

import json

import pytest

from apps.categories import attribute_schema, selectors
from apps.categories.demo import seed_categories
from apps.categories.models import Category
from apps.categories.tests.factories import make_category
from apps.common.models import AuditEntry

pytestmark = pytest.mark.django_db

BRIEF_ROOTS = ["Vehicles", "Property", "Mobile Phones & Tablets", "Electronics",
               "Home, Furniture & Garden", "Fashion", "Jobs", "Services", "Animals & Pets",
               "Babies & Kids", "Health & Beauty", "Repair & Construction",
               "Agriculture & Food", "Commercial Equipment"]


@pytest.fixture
def demo():
    seed_categories()


def test_seed_is_idempotent():
    created = seed_categories()
    assert created == Category.objects.count() > 100
    assert seed_categories() == 0
    assert Category.objects.count() == created


def test_seed_keeps_staff_edits_and_adds_what_is_missing(demo):
    Category.objects.filter(slug="cars").update(name="Cars")  # untouched
    Category.objects.filter(slug="short-let").delete()
    assert seed_categories() == 1
    assert Category.objects.filter(slug="short-let-2").exists() or Category.objects.filter(
        slug="short-let").exists()


def test_demo_roots_in_the_briefs_order(demo):
    roots = [node["name"] for node in selectors.category_tree()]
    assert roots == BRIEF_ROOTS


def test_demo_tree_is_three_levels_deep_with_the_briefs_subcategories(demo):
    tree, _ = selectors.load_tree()
    by_slug = {node["slug"]: node for node in tree.nodes.values()}
    children = {slug: [tree.nodes[c]["name"] for c in node["children"]]
                for slug, node in by_slug.items()}
    assert {"Cars", "Motorcycles & Scooters", "Vehicle Parts & Accessories"} <= set(
        children["vehicles"])
    assert children["mobile-phones-tablets"][:3] == ["Mobile Phones", "Tablets", "Accessories"]
    assert {"Houses & Apartments for Rent", "Houses & Apartments for Sale",
            "Land & Plots for Sale"} <= set(children["property"])
    assert children["houses-apartments-for-rent"] == [
        "Apartments for Rent", "Houses for Rent", "Bedsitters & Studios for Rent"]
    assert "Laptops" in children["computers"]
    assert max(node["depth"] for node in tree.nodes.values()) == 2
    for leaf in ("cars", "mobile-phones", "laptops", "apartments-for-rent"):
        assert children[leaf] == []


def test_demo_schemas(demo):
    cars = {a.key: a for a in attribute_schema.effective_attributes(
        Category.objects.get(slug="cars"))}
    assert [(k, a.type) for k, a in cars.items()] == [
        ("make", "choice"), ("model", "text"), ("year", "int"), ("mileage", "int"),
        ("transmission", "choice"), ("fuel", "choice")]
    assert [k for k, a in cars.items() if a.filterable] == [
        "make", "year", "mileage", "transmission", "fuel"]
    assert {"Toyota", "Nissan", "Mazda", "Subaru", "Mercedes-Benz", "Land Rover"} <= set(
        cars["make"].choices)
    assert cars["transmission"].choices == ("automatic", "manual")
    assert cars["fuel"].choices == ("petrol", "diesel", "hybrid", "electric")
    assert (cars["year"].min, cars["year"].max, cars["mileage"].unit) == (1950, 2030, "km")

    phones = {a.key: a for a in attribute_schema.effective_attributes(
        Category.objects.get(slug="mobile-phones"))}
    assert (phones["brand"].type, phones["storage"].unit, phones["ram"].unit) == (
        "choice", "GB", "GB")
    flat = {a.key: a for a in attribute_schema.effective_attributes(
        Category.objects.get(slug="apartments-for-rent"))}
    assert list(flat) == ["size", "bedrooms", "bathrooms", "furnished", "parking"]
    assert (flat["size"].type, flat["size"].unit, flat["furnished"].type) == (
        "decimal", "sqm", "bool")


def test_demo_values_validate(demo):
    cars = Category.objects.get(slug="cars")
    assert attribute_schema.validate_ad_attributes(cars, {
        "make": "Toyota", "model": "Fielder", "year": 2015, "mileage": 98000,
        "transmission": "automatic", "fuel": "petrol"})["year"] == 2015
    house = Category.objects.get(slug="houses-for-sale")
    assert attribute_schema.validate_ad_attributes(house, {
        "bedrooms": 4, "size": 220.5, "furnished": True}) == {
        "size": "220.5", "bedrooms": 4, "furnished": True}


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    superuser = make_user(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def test_admin_lists_and_searches(admin_client, demo):
    assert admin_client.get("/admin/categories/category/").status_code == 200
    response = admin_client.get("/admin/categories/category/?q=laptop")
    assert response.status_code == 200
    assert b"Laptops" in response.content


def test_admin_add_goes_through_the_services(admin_client):
    parent = make_category("Electronics")
    response = admin_client.post("/admin/categories/category/add/", {
        "name": "Cameras", "parent": parent.pk, "order": 2, "icon": "camera",
        "attributes": json.dumps([{"key": "megapixels", "type": "int"}]),
        "min_price": "", "max_price": ""})
    assert response.status_code == 302, response.content
    camera = Category.objects.get(name="Cameras")
    assert (camera.slug, camera.path, camera.depth) == (
        "cameras", f"/{parent.pk}/{camera.pk}/", 1)
    assert camera.attributes[0]["label"] == "Megapixels"
    assert AuditEntry.objects.filter(action="categories.category.created",
                                     target_id=str(camera.pk)).exists()


@pytest.mark.parametrize("attributes", [
    [{"key": "Bad Key", "type": "int"}],
    [{"key": "year", "type": "int"}],  # inherited from the parent
])
def test_admin_shows_rule_errors_and_writes_nothing(admin_client, attributes):
    parent = make_category("Vehicles", attributes=[{"key": "year", "type": "int"}])
    before = Category.objects.count()
    response = admin_client.post("/admin/categories/category/add/", {
        "name": "Cars", "parent": parent.pk, "order": 0, "icon": "",
        "attributes": json.dumps(attributes), "min_price": "", "max_price": ""})
    assert response.status_code == 200
    assert b"attributes.0.key" in response.content or b"errorlist" in response.content
    assert Category.objects.count() == before


def test_admin_refuses_a_cycle(admin_client):
    root = make_category("Root")
    child = make_category("Child", root)
    response = admin_client.post(f"/admin/categories/category/{root.pk}/change/", {
        "name": "Root", "parent": child.pk, "order": 0, "icon": "", "attributes": "[]",
        "min_price": "", "max_price": ""})
    assert response.status_code == 200
    assert Category.objects.get(pk=root.pk).parent_id is None


def test_admin_change_and_delete(admin_client):
    category = make_category("Old name")
    response = admin_client.post(f"/admin/categories/category/{category.pk}/change/", {
        "name": "New name", "parent": "", "order": 5, "icon": "", "attributes": "[]",
        "min_price": "", "max_price": ""})
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.slug, category.order) == ("New name", "old-name", 5)
    response = admin_client.post(f"/admin/categories/category/{category.pk}/delete/",
                                 {"post": "yes"})
    assert response.status_code == 302
    assert not Category.all_objects.filter(pk=category.pk).exists()
