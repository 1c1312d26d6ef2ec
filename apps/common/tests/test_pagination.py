"""API.md section 1, lists: `{count, next, previous, results}`, `?page=` and `?page_size=`.

Exercised on GET /api/users/blocked/, a plain paginated list.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.users.models import Block, User
from apps.users.services import block_user
from conftest import error_codes

URL = "/api/users/blocked/"
ABSOLUTE = "http://testserver/api/users/blocked/"


def block_many(blocker: User, count: int) -> list[Any]:
    others = User.objects.bulk_create(
        User(email=f"blocked{n}-{blocker.pk}@example.com", first_name=f"B{n}", last_name="X")
        for n in range(count)
    )
    return [block_user(blocker=blocker, blocked_id=other.pk)[0].pk for other in others]


@pytest.fixture
def blocks_25(user: User) -> list[Any]:
    return block_many(user, 25)


def test_default_page_is_20_with_absolute_next(auth_client: APIClient,
                                               blocks_25: list[Any]) -> None:
    response = auth_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"] == f"{ABSOLUTE}?page=2"
    assert body["previous"] is None


def test_last_page_has_absolute_previous_and_no_next(auth_client: APIClient,
                                                     blocks_25: list[Any]) -> None:
    response = auth_client.get(URL, {"page": 2})

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 25
    assert len(body["results"]) == 5
    assert body["next"] is None
    assert body["previous"] is not None
    assert body["previous"].startswith(ABSOLUTE)
    assert "page=2" not in body["previous"]


def test_page_size_is_kept_in_the_links(auth_client: APIClient, blocks_25: list[Any]) -> None:
    body = auth_client.get(URL, {"page_size": 10, "page": 2}).json()

    assert len(body["results"]) == 10
    assert body["next"].startswith(ABSOLUTE)
    assert "page=3" in body["next"] and "page_size=10" in body["next"]
    assert body["previous"].startswith(ABSOLUTE)
    assert "page_size=10" in body["previous"]


def test_pages_together_list_each_item_once(auth_client: APIClient, user: User) -> None:
    ids = block_many(user, 60)
    # Same creation time everywhere: the order must still be total for pages not to overlap.
    Block.objects.filter(pk__in=ids).update(created_at=timezone.now())

    seen = []
    for page in range(1, 10):
        body = auth_client.get(URL, {"page": page, "page_size": 7}).json()
        seen += [item["id"] for item in body["results"]]

    assert sorted(seen) == sorted(ids)


def test_page_size_over_100_is_capped_at_100(auth_client: APIClient, user: User) -> None:
    block_many(user, 101)

    body = auth_client.get(URL, {"page_size": 500}).json()

    assert body["count"] == 101
    assert len(body["results"]) == 100
    assert body["next"].startswith(ABSOLUTE)


@pytest.mark.parametrize("page_size", ["abc", "0", "-5", "", "1.5"])
def test_page_size_not_a_positive_number_means_20(auth_client: APIClient, blocks_25: list[Any],
                                                  page_size: str) -> None:
    response = auth_client.get(URL, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 20


def test_page_size_one(auth_client: APIClient, blocks_25: list[Any]) -> None:
    body = auth_client.get(URL, {"page_size": 1}).json()

    assert len(body["results"]) == 1
    assert body["count"] == 25


@pytest.mark.parametrize("page", ["abc", "0", "-1", "3", "999", "1.5"])
def test_page_not_a_number_or_past_the_end_is_404(auth_client: APIClient, blocks_25: list[Any],
                                                  page: str) -> None:
    response = auth_client.get(URL, {"page": page})

    assert response.status_code == 404
    codes = error_codes(response)
    assert [code for code, _ in codes] == ["not_found"]


def test_empty_list_has_page_one_only(auth_client: APIClient) -> None:
    body = auth_client.get(URL).json()

    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    assert auth_client.get(URL, {"page": 2}).status_code == 404


def test_query_count_does_not_grow_with_page_size(auth_client: APIClient,
                                                  blocks_25: list[Any]) -> None:
    counts = []
    for size in (1, 20):
        with CaptureQueriesContext(connection) as queries:
            assert auth_client.get(URL, {"page_size": size}).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
