"""/api/ads/saved-searches/ (API.md section 6): create, list mine, delete mine."""

from __future__ import annotations

import re

import pytest

from apps.search.models import SavedSearch
from apps.search.tests.helpers import SAVED, error_attrs, saved_url
from conftest import error_codes

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def me(buyer, client_for):
    return client_for(buyer)


def test_create_answers_201_with_the_saved_search(me, buyer, catalog):
    response = me.post(SAVED, {
        "name": "Toyotas under 1.5M", "q": "toyota",
        "filters": {"category": "cars", "max_price": 1500000, "attr_year_min": "2012",
                    "negotiable": True, "ordering": "-price"},
    }, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "name", "q", "filters", "created_at"}
    assert body["name"] == "Toyotas under 1.5M"
    assert body["q"] == "toyota"
    assert body["filters"] == {"category": "cars", "max_price": "1500000",
                               "attr_year_min": "2012", "negotiable": "true",
                               "ordering": "-price"}
    assert TIMESTAMP.match(body["created_at"])
    saved = SavedSearch.objects.get()
    assert saved.pk == body["id"] and saved.user == buyer


def test_q_and_filters_are_optional(me):
    response = me.post(SAVED, {"name": "Everything"}, format="json")

    assert response.status_code == 201
    assert response.json()["q"] == "" and response.json()["filters"] == {}


def test_q_inside_filters_is_the_text(me):
    response = me.post(SAVED, {"name": "Via filters", "filters": {"q": "fielder"}},
                       format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["q"] == "fielder"
    assert response.json()["filters"] == {}


@pytest.mark.parametrize(("body", "attr"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": None}, "name"),
    ({"name": "ok", "q": "x" * 201}, "q"),
    ({"name": "ok", "q": "bad\x00text"}, "q"),
    ({"name": "ok", "filters": ["category"]}, "filters"),
    ({"name": "ok", "filters": "category=cars"}, "filters"),
    ({"name": "ok", "filters": {"colour": "red"}}, "filters.colour"),
    ({"name": "ok", "filters": {"page": "2"}}, "filters.page"),
    ({"name": "ok", "filters": {"min_price": "cheap"}}, "filters.min_price"),
    ({"name": "ok", "filters": {"category": "no-such-category"}}, "filters.category"),
    ({"name": "ok", "filters": {"location": "atlantis"}}, "filters.location"),
    ({"name": "ok", "filters": {"condition": "broken"}}, "filters.condition"),
    ({"name": "ok", "filters": {"seller": "nobody"}}, "filters.seller"),
    ({"name": "ok", "filters": {"posted_since": "last week"}}, "filters.posted_since"),
    ({"name": "ok", "filters": {"ordering": "best"}}, "filters.ordering"),
    ({"name": "ok", "filters": {"attr_year": "old"}}, "filters.attr_year"),
    ({"name": "ok", "filters": {"attr_no_such_key": "1"}}, "filters.attr_no_such_key"),
    ({"name": "ok", "filters": {"attr_make_max": "1"}}, "filters.attr_make_max"),
    ({"name": "ok", "filters": {"category": {"slug": "cars"}}}, "filters.category"),
    ({"name": "ok", "filters": {"category": None}}, "filters.category"),
])
def test_bad_input_answers_400_and_saves_nothing(me, catalog, body, attr):
    response = me.post(SAVED, body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert error_attrs(response) == [attr]
    assert not SavedSearch.objects.exists()


def test_several_bad_filters_are_each_reported(me, catalog):
    response = me.post(SAVED, {"name": "ok", "filters": {"colour": "red", "size": "xl"}},
                       format="json")

    assert response.status_code == 400
    assert sorted(error_attrs(response)) == ["filters.colour", "filters.size"]


def test_invalid_json_is_a_parse_error(me):
    response = me.generic("POST", SAVED, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert error_codes(response) == [("parse_error", None)]


def test_list_shows_only_mine_newest_first_paginated(me, buyer, seller, client_for):
    for n in range(3):
        assert me.post(SAVED, {"name": f"Mine {n}"}, format="json").status_code == 201
    client_for(seller).post(SAVED, {"name": "Not mine"}, format="json")

    body = me.get(SAVED, {"page_size": 2}).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert [item["name"] for item in body["results"]] == ["Mine 2", "Mine 1"]
    assert body["next"].startswith("http://testserver/api/ads/saved-searches/")
    assert set(body["results"][0]) == {"id", "name", "q", "filters", "created_at"}
    assert [item["name"] for item in me.get(body["next"]).json()["results"]] == ["Mine 0"]
    assert me.get(SAVED, {"page": 3}).status_code == 404


def test_delete_mine(me):
    saved_id = me.post(SAVED, {"name": "Mine"}, format="json").json()["id"]

    assert me.delete(saved_url(saved_id)).status_code == 204
    assert not SavedSearch.objects.exists()
    assert me.delete(saved_url(saved_id)).status_code == 404


def test_another_users_saved_search_is_404_and_stays(me, seller, client_for):
    theirs = client_for(seller).post(SAVED, {"name": "Theirs"}, format="json").json()["id"]

    response = me.delete(saved_url(theirs))

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
    assert SavedSearch.objects.filter(pk=theirs).exists()


@pytest.mark.parametrize("garbage", ["abc", "0", "-1", "1.5", "99999999999999999999999",
                                     "9223372036854775808", "%20", "ab%00"])
def test_garbage_ids_are_404(me, garbage):
    assert me.delete(saved_url(garbage)).status_code == 404


def test_anonymous_gets_401(api):
    for response in (api.get(SAVED), api.post(SAVED, {"name": "x"}, format="json"),
                     api.delete(saved_url(1))):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not SavedSearch.objects.exists()


def test_other_methods_are_405(me):
    saved_id = me.post(SAVED, {"name": "Mine"}, format="json").json()["id"]

    assert me.put(saved_url(saved_id), {"name": "x"}, format="json").status_code == 405
    assert me.get(saved_url(saved_id)).status_code == 405
    assert me.delete(SAVED).status_code == 405
