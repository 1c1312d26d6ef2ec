"""The docs pages' Content-Security-Policy (issue 10, item 4: "CSP for the docs pages"): on
/api/docs/, its start-up script and /api/redoc/, allowing this origin only; not on the API's
JSON answers. test_docs_browser.py shows both pages still work under it in Chromium."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.common.schema_views import DOCS_CSP

pytestmark = pytest.mark.django_db

DOCS = ["/api/docs/", "/api/docs/?script=", "/api/redoc/"]


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", DOCS)
def test_docs_pages_carry_the_policy(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == DOCS_CSP


def test_the_policy_allows_this_origin_only() -> None:
    policy = directives(DOCS_CSP)

    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no CDN
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    every_source = [value for values in policy.values() for value in values]
    assert not [v for v in every_source if "://" in v or v in ("*", "http:", "https:")]


@pytest.mark.parametrize(
    "path", ["/api/schema/", "/api/categories/", "/api/ads/", "/healthz/", "/api/nowhere/"]
)
def test_other_pages_do_not(path: str) -> None:
    response = Client().get(path)

    assert response.status_code in (200, 404)
    assert "Content-Security-Policy" not in response


def test_swagger_ui_has_no_inline_script() -> None:
    html = Client().get("/api/docs/").content.decode()

    assert html.count("<script") == html.count("<script src=") == 3
