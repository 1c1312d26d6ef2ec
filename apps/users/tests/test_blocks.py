"""block/, blocked/ and unblock/<user_id>/."""

from __future__ import annotations

import re
import uuid

import pytest

from apps.users.models import Block, User
from apps.users.tests.helpers import (
    BLOCK,
    BLOCKED,
    PUBLIC_PROFILE_KEYS,
    nothing_changes,
    unblock_url,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(make_user):
    return make_user(first_name="Amani", last_name="Wanjiru")


@pytest.fixture
def client(me, client_for):
    return client_for(me)


@pytest.fixture
def pest(make_user):
    return make_user(first_name="Baraka", last_name="Otieno", email="baraka@example.com",
                     phone="+254722000111")


# --- block ------------------------------------------------------------------------------------


def test_block(client, me, pest):
    response = client.post(BLOCK, {"user": str(pest.pk)})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "user", "created_at"}
    assert set(body["user"]) == PUBLIC_PROFILE_KEYS
    assert body["user"]["id"] == str(pest.pk)
    assert body["user"]["display_name"] == "Baraka O."
    assert "baraka@example.com" not in response.content.decode()
    assert "722000111" not in response.content.decode()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    block = Block.objects.get()
    assert (block.pk, block.blocker_id, block.blocked_id) == (body["id"], me.pk, pest.pk)


def test_blocking_again_returns_the_same_block(client, me, pest):
    first = client.post(BLOCK, {"user": str(pest.pk)})

    with nothing_changes(me, pest):
        again = client.post(BLOCK, {"user": str(pest.pk)})

    assert again.status_code == 200
    assert again.json() == first.json()


def test_block_in_the_other_direction_is_a_new_block(client, client_for, me, pest):
    client_for(pest).post(BLOCK, {"user": str(me.pk)})

    response = client.post(BLOCK, {"user": str(pest.pk)})

    assert response.status_code == 201
    assert Block.objects.count() == 2


def test_cannot_block_yourself(client, me):
    with nothing_changes(me):
        response = client.post(BLOCK, {"user": str(me.pk)})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [attr for _, attr in error_codes(response)] == ["user"]


@pytest.mark.parametrize("target", [str(uuid.uuid4()), "not-a-uuid", "12", "x" * 64])
def test_cannot_block_unknown_users(client, me, target):
    with nothing_changes(me):
        response = client.post(BLOCK, {"user": target})

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [attr for _, attr in error_codes(response)] == ["user"]


@pytest.mark.parametrize("fields", [{"is_suspended": True}, {"is_active": False}])
def test_cannot_block_hidden_accounts(client, me, pest, fields):
    User.objects.filter(pk=pest.pk).update(**fields)

    with nothing_changes(me):
        response = client.post(BLOCK, {"user": str(pest.pk)})

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["user"]


@pytest.mark.parametrize(("body", "code"), [({}, "required"), ({"user": ""}, "blank")])
def test_block_needs_a_user(client, me, body, code):
    with nothing_changes(me):
        response = client.post(BLOCK, body)

    assert response.status_code == 400
    assert error_codes(response) == [(code, "user")]


# --- blocked list -----------------------------------------------------------------------------


def test_blocked_lists_only_blocks_i_made(client, client_for, me, pest, make_user):
    others = [make_user() for _ in range(3)]
    for other in others:
        client.post(BLOCK, {"user": str(other.pk)})
    client_for(pest).post(BLOCK, {"user": str(me.pk)})  # a block against me
    client_for(others[0]).post(BLOCK, {"user": str(pest.pk)})  # someone else's

    response = client.get(BLOCKED)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert {item["user"]["id"] for item in body["results"]} == {str(o.pk) for o in others}
    for item in body["results"]:
        assert set(item) == {"id", "user", "created_at"}
        assert set(item["user"]) == PUBLIC_PROFILE_KEYS


def test_blocked_is_paginated(client, me, make_user):
    for _ in range(3):
        client.post(BLOCK, {"user": str(make_user().pk)})

    first = client.get(BLOCKED, {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/users/blocked/?")
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert second["previous"].startswith("http://testserver/api/users/blocked/")
    ids = [item["id"] for item in first["results"] + second["results"]]
    assert sorted(ids) == sorted(Block.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("page", ["2", "0", "abc"])
def test_blocked_page_out_of_range_is_404(client, me, pest, page):
    client.post(BLOCK, {"user": str(pest.pk)})

    response = client.get(BLOCKED, {"page": page})

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_blocked_empty(client, me):
    assert client.get(BLOCKED).json() == {"count": 0, "next": None, "previous": None,
                                          "results": []}


# --- unblock ----------------------------------------------------------------------------------


def test_unblock(client, me, pest):
    client.post(BLOCK, {"user": str(pest.pk)})

    response = client.delete(unblock_url(pest.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert not Block.objects.exists()

    with nothing_changes(me, pest):
        again = client.delete(unblock_url(pest.pk))
    assert again.status_code == 404
    assert error_codes(again) == [("not_found", None)]


def test_unblock_does_not_touch_blocks_against_me(client, client_for, me, pest):
    client_for(pest).post(BLOCK, {"user": str(me.pk)})

    with nothing_changes(me, pest):
        response = client.delete(unblock_url(pest.pk))

    assert response.status_code == 404
    assert Block.objects.filter(blocker=pest, blocked=me).exists()


@pytest.mark.parametrize("target", ["not-a-uuid", "12", str(uuid.uuid4())])
def test_unblock_unknown(client, me, pest, target):
    client.post(BLOCK, {"user": str(pest.pk)})

    with nothing_changes(me, pest):
        response = client.delete(unblock_url(target))

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


# --- anonymous --------------------------------------------------------------------------------


def test_anonymous_is_401(api, me, pest, client):
    client.post(BLOCK, {"user": str(pest.pk)})

    with nothing_changes(me, pest):
        responses = [
            api.post(BLOCK, {"user": str(pest.pk)}),
            api.get(BLOCKED),
            api.delete(unblock_url(pest.pk)),
        ]

    for response in responses:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert error_codes(response) == [("not_authenticated", None)]
