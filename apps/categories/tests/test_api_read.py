"""GET ``, `all/`, `<slug>/`: shapes, order, breadcrumbs, inheritance, counts, query budget."""

from __future__ import annotations

import pytest

from apps.categories import selectors, services
from apps.categories.tests.factories import (
    ALL,
    ATTRIBUTE_KEYS,
    CATEGORIES,
    DETAIL_KEYS,
    NODE_KEYS,
    detail_url,
    make_ad,
    make_category,
    tree_names,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """Vehicles > Cars; Property > For Rent > Apartments, Houses; plus ordering traps."""
    vehicles = make_category("Vehicles", order=1, attributes=[
        {"key": "condition_grade", "type": "choice", "choices": ["A", "B"]}])
    cars = make_category("Cars", vehicles, attributes=[
        {"key": "year", "type": "int", "min": 1950, "max": 2030, "required": True,
         "filterable": True},
        {"key": "make", "type": "choice", "choices": ["Toyota", "Nissan"]},
    ])
    prop = make_category("Property", order=0)
    rent = make_category("For Rent", prop, attributes=[{"key": "bedrooms", "type": "int"}])
    houses = make_category("houses", rent)
    apartments = make_category("Apartments", rent)
    return {"vehicles": vehicles, "cars": cars, "property": prop, "rent": rent,
            "houses": houses, "apartments": apartments}


def test_tree_is_roots_with_nested_children_in_display_order(api, tree):
    make_category("electronics", order=1)  # same order as Vehicles: name decides, any case
    response = api.get(CATEGORIES)
    assert response.status_code == 200
    body = response.json()
    assert tree_names(body) == [
        ("Property", [("For Rent", ["Apartments", "houses"])]),
        "electronics",
        ("Vehicles", ["Cars"]),
    ]
    root = body[0]
    assert set(root) == NODE_KEYS | {"children"}
    assert root["parent"] is None
    assert root["depth"] == 0
    apartments = root["children"][0]["children"][0]
    assert apartments == {
        "id": tree["apartments"].pk, "name": "Apartments", "slug": "apartments",
        "parent": tree["rent"].pk, "depth": 2, "order": 0, "icon": "", "ad_count": 0,
        "children": [],
    }


def test_flat_list_has_every_node_in_tree_order(api, tree):
    response = api.get(ALL)
    assert response.status_code == 200
    body = response.json()
    assert [node["name"] for node in body] == [
        "Property", "For Rent", "Apartments", "houses", "Vehicles", "Cars"]
    assert all(set(node) == NODE_KEYS for node in body)
    assert [node["depth"] for node in body] == [0, 1, 2, 2, 0, 1]


def test_detail_has_breadcrumbs_children_and_inherited_attributes(api, tree):
    response = api.get(detail_url("apartments"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body["ancestors"] == [
        {"id": tree["property"].pk, "slug": "property", "name": "Property"},
        {"id": tree["rent"].pk, "slug": "for-rent", "name": "For Rent"},
    ]
    assert body["children"] == []
    assert [a["key"] for a in body["attributes"]] == ["bedrooms"]

    rent = api.get(detail_url("for-rent")).json()
    assert [child["slug"] for child in rent["children"]] == ["apartments", "houses"]
    assert all(set(child) == NODE_KEYS for child in rent["children"])
    assert rent["ancestors"] == [{"id": tree["property"].pk, "slug": "property",
                                  "name": "Property"}]


def test_attributes_come_ancestors_first_in_the_documented_shape(api, tree):
    body = api.get(detail_url("cars")).json()
    assert [a["key"] for a in body["attributes"]] == ["condition_grade", "year", "make"]
    year = body["attributes"][1]
    assert list(year) == ["key", "label", "type", "required", "filterable", "unit", "choices",
                          "min", "max"]
    assert set(year) == ATTRIBUTE_KEYS
    assert year == {"key": "year", "label": "Year", "type": "int", "required": True,
                    "filterable": True, "unit": None, "choices": None, "min": 1950,
                    "max": 2030}
    assert body["attributes"][2]["choices"] == ["Toyota", "Nissan"]


def test_unknown_slug_is_404_with_the_error_body(api, tree):
    response = api.get(detail_url("no-such-category"))
    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_write_routes_do_not_answer_get(api, tree):
    assert api.get(CATEGORIES + "admin/create/").status_code in (401, 405)
    assert api.post(CATEGORIES, {}).status_code == 405
    assert api.post(detail_url("cars"), {}).status_code == 405


def test_empty_tree(api):
    assert api.get(CATEGORIES).json() == []
    assert api.get(ALL).json() == []


# --- ad counts --------------------------------------------------------------------------------


def test_ad_count_includes_descendants_and_shows_at_once(api, tree, user):
    assert api.get(CATEGORIES).json()[0]["ad_count"] == 0  # the tree is cached now
    make_ad(user, tree["apartments"])
    make_ad(user, tree["apartments"])
    make_ad(user, tree["houses"])
    make_ad(user, tree["cars"])

    roots = api.get(CATEGORIES).json()
    prop = roots[0]
    assert prop["ad_count"] == 3
    assert prop["children"][0]["ad_count"] == 3
    assert [c["ad_count"] for c in prop["children"][0]["children"]] == [2, 1]
    assert roots[1]["ad_count"] == 1

    flat = {node["slug"]: node["ad_count"] for node in api.get(ALL).json()}
    assert flat == {"property": 3, "for-rent": 3, "apartments": 2, "houses": 1,
                    "vehicles": 1, "cars": 1}
    rent = api.get(detail_url("for-rent")).json()
    assert rent["ad_count"] == 3
    assert [c["ad_count"] for c in rent["children"]] == [2, 1]

    services.adjust_ad_counts(category_id=tree["apartments"].pk, delta=-1)
    assert api.get(detail_url("property")).json()["ad_count"] == 2
    assert api.get(detail_url("apartments")).json()["ad_count"] == 1


# --- query budget -----------------------------------------------------------------------------


def grow(size):
    for i in range(size):
        root = make_category(f"Root {i}")
        for j in range(3):
            child = make_category(f"Child {i} {j}", root)
            make_category(f"Leaf {i} {j}", child, attributes=[
                {"key": "weight", "type": "decimal", "unit": "kg"}])


@pytest.mark.parametrize("size", [1, 8])
@pytest.mark.parametrize("path", [CATEGORIES, ALL, detail_url("root-0"), detail_url("child-0-0")])
def test_one_query_per_request_whatever_the_tree_size(api, django_assert_num_queries, size,
                                                      path):
    grow(size)
    with django_assert_num_queries(1):  # cold cache: the rebuild reads the counts too
        assert api.get(path).status_code == 200
    with django_assert_num_queries(0):  # warm: the whole response is cached (apps.common.cache)
        assert api.get(path).status_code == 200


@pytest.mark.parametrize("path", [CATEGORIES, ALL, detail_url("root-0")])
def test_one_query_per_request_with_the_response_cache_off(api, django_assert_num_queries,
                                                           settings, path):
    settings.READ_CACHE_ENABLED = False
    grow(2)
    api.get(path)
    with django_assert_num_queries(1):  # the cached tree: only `SELECT id, ad_count`
        assert api.get(path).status_code == 200


def test_unknown_slug_costs_no_query_once_cached(api, django_assert_num_queries, tree):
    api.get(CATEGORIES)
    with django_assert_num_queries(0):
        assert api.get(detail_url("nothing-here")).status_code == 404


def test_descendant_ids_come_from_the_cache(tree, django_assert_num_queries):
    selectors.category_tree()
    with django_assert_num_queries(0):
        ids = selectors.descendant_ids("property")
    assert ids == [tree["property"].pk, tree["rent"].pk, tree["apartments"].pk,
                   tree["houses"].pk]
    assert selectors.descendant_ids("cars") == [tree["cars"].pk]
    assert selectors.descendant_ids("unknown") is None


def test_redis_unavailable_falls_back_to_the_database(api, tree, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis is away")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    response = api.get(detail_url("apartments"))
    assert response.status_code == 200
    assert response.json()["slug"] == "apartments"
    assert len(api.get(ALL).json()) == 6
