"""The shared helper of the query budgets: a list costs the same number of SQL queries for a
page of 1 and a page of 50, and that number is pinned."""

from __future__ import annotations

from typing import Any

SIZES = (1, 50)


def results_of(body: Any) -> list[Any]:
    return body["results"] if isinstance(body, dict) else body


def assert_list_budget(
    client: Any,
    url: str,
    queries: int,
    assert_num_queries: Any,
    *,
    at_least: int = 2,
    params: dict[str, Any] | None = None,
) -> None:
    """GET `url` with page_size 1 and 50 (after one warming request, as in production where
    the category and location trees are cached): each costs exactly `queries` queries, the
    first shows one item and the second all of them (at least `at_least`, so both pages
    differ in size)."""
    warm = client.get(url, {**(params or {}), "page_size": 100})
    assert warm.status_code == 200, warm.content
    total = len(results_of(warm.json()))
    assert total >= at_least, f"{url}: only {total} items, the budget would prove nothing"
    for size in SIZES:
        with assert_num_queries(queries):
            response = client.get(url, {**(params or {}), "page_size": size})
        assert response.status_code == 200, response.content
        assert len(results_of(response.json())) == min(size, total)


def assert_detail_budget(client: Any, url: str, queries: int, assert_num_queries: Any) -> Any:
    """GET `url` once to warm the caches, then pin the cost of the next read."""
    assert client.get(url).status_code == 200
    with assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def anonymous_cache_off(settings: Any) -> None:
    """Budgets of the database path: the anonymous read cache would answer with no query."""
    settings.READ_CACHE_ENABLED = False
