"""API.md section 10: the OpenAPI schema, offline docs pages, and the health probes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

HTTP_METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}
# API.md section 10: scripts and stylesheets come from this server, "web fonts excepted".
WEB_FONT_HOSTS = {"fonts.googleapis.com", "fonts.gstatic.com"}


# --- schema -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, */*"])
def test_schema_is_json_by_default(accept: str | None) -> None:
    headers = {"Accept": accept} if accept else None

    response = Client().get("/api/schema/", headers=headers)

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in {
        "application/json", "application/vnd.oai.openapi+json"
    }
    assert json.loads(response.content)["openapi"].startswith("3.")


def test_schema_as_yaml_by_query() -> None:
    response = Client().get("/api/schema/?format=yaml")

    assert response.status_code == 200
    assert "yaml" in response["Content-Type"]
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_schema_as_yaml_by_accept() -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/yaml")

    assert response.status_code == 200
    assert "yaml" in response["Content-Type"]
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_schema_json_and_yaml_agree(schema: dict[str, Any]) -> None:
    as_yaml = yaml.safe_load(Client().get("/api/schema/?format=yaml").content)

    assert as_yaml == schema


def test_schema_is_not_throttled(throttle_rates: Any) -> None:
    throttle_rates(anon="1/m")

    codes = {Client().get("/api/schema/").status_code for _ in range(3)}

    assert codes == {200}


def test_schema_is_openapi_3_with_info(schema: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.\d+\.\d+", schema["openapi"])
    assert schema["info"]["title"]
    assert schema["info"]["version"]
    assert schema["paths"]


def bearer_scheme_names(schema: dict[str, Any]) -> set[str]:
    schemes = schema.get("components", {}).get("securitySchemes", {})
    return {
        name for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }


def test_schema_has_a_bearer_jwt_security_scheme(schema: dict[str, Any]) -> None:
    names = bearer_scheme_names(schema)

    assert names, schema.get("components", {}).get("securitySchemes")
    schemes = schema["components"]["securitySchemes"]
    assert any(schemes[name].get("bearerFormat") == "JWT" for name in names)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_signed_in_operations_require_the_bearer_scheme(schema: dict[str, Any]) -> None:
    names = bearer_scheme_names(schema)
    profile = schema["paths"]["/api/users/profile/"]["get"]
    blocked = schema["paths"]["/api/users/blocked/"]["get"]

    for operation in (profile, blocked):
        security = operation.get("security")
        assert security, operation
        assert {} not in security  # anonymous callers are refused
        assert any(set(requirement) & names for requirement in security)
        assert "401" in operation["responses"]


def test_public_operations_allow_anonymous_callers(schema: dict[str, Any]) -> None:
    for path, method in [("/api/users/register/", "post"), ("/api/locations/", "get"),
                         ("/api/users/{user_id}/", "get")]:
        security = schema["paths"][path][method].get("security", [{}])
        assert {} in security, (path, method)


def test_schema_error_components(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    error_response = components["ErrorResponse"]
    error = components["Error"]

    assert set(error_response["properties"]) == {"type", "errors"}
    assert set(error_response["required"]) == {"type", "errors"}
    assert set(error_response["properties"]["type"]["enum"]) == {
        "validation_error", "client_error", "server_error"
    }
    assert error_response["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert set(error["properties"]) == {"code", "detail", "attr"}
    assert set(error["required"]) == {"code", "detail", "attr"}
    assert error["properties"]["attr"].get("nullable") is True
    assert "example" in error_response


def test_every_operation_documents_429_with_retry_after(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        if path == "/api/schema/":
            continue  # the schema itself is not throttled
        response = operation["responses"].get("429")
        assert response, (path, method)
        assert "Retry-After" in response.get("headers", {}), (path, method)
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }


def test_every_error_response_uses_the_error_body(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                content = response.get("content", {}).get("application/json", {})
                assert content.get("schema") == {"$ref": "#/components/schemas/ErrorResponse"}, (
                    path, method, status
                )


def test_paginated_lists_document_their_404(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if "page" in parameters:
            assert "404" in operation["responses"], (path, method)


def django_operations(prefix: str) -> set[tuple[str, str]]:
    """Every (OpenAPI path, method) that Django routes under `prefix`, from the URLconf."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], route: str) -> None:
        for pattern in patterns:
            text = route + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None)
                if view_class is None or not text.startswith(prefix.lstrip("/")):
                    continue
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
                for method in HTTP_METHODS - {"head", "options", "trace"}:
                    if hasattr(view_class, method):
                        found.add((path, method))

    walk(get_resolver().url_patterns, "")
    return found


@pytest.mark.parametrize("prefix", ["/api/users/", "/api/locations/"])
def test_every_operation_is_in_the_schema(schema: dict[str, Any], prefix: str) -> None:
    expected = django_operations(prefix)
    documented = {(path, method) for path, method, _ in operations(schema)
                  if path.startswith(prefix)}

    assert expected  # the walk found the app's routes
    assert expected <= documented, sorted(expected - documented)


def test_schema_lists_the_contracts_account_operations(schema: dict[str, Any]) -> None:
    contract = {
        ("/api/users/register/", "post"), ("/api/users/login/", "post"),
        ("/api/users/token/refresh/", "post"), ("/api/users/logout/", "post"),
        ("/api/users/verify/email/", "post"), ("/api/users/verify/phone/", "post"),
        ("/api/users/verify/resend/", "post"), ("/api/users/profile/", "get"),
        ("/api/users/profile/", "put"), ("/api/users/profile/", "patch"),
        ("/api/users/{user_id}/", "get"), ("/api/users/password/reset/", "post"),
        ("/api/users/password/reset/confirm/", "post"), ("/api/users/password/change/", "post"),
        ("/api/users/block/", "post"), ("/api/users/blocked/", "get"),
        ("/api/users/unblock/{user_id}/", "delete"),
        ("/api/locations/", "get"), ("/api/locations/{slug}/", "get"),
    }
    documented = {(path, method) for path, method, _ in operations(schema)}

    assert contract <= documented, sorted(contract - documented)


# --- docs pages -------------------------------------------------------------------------------


class AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        if tag == "link" and values.get("href"):
            self.links.append((values.get("rel", ""), values["href"]))


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What deployment does: collectstatic, then whitenoise serves STATIC_ROOT."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root


@pytest.fixture
def static_client(settings: Any, collected_static: Path) -> Client:
    settings.STATIC_ROOT = collected_static
    return Client()  # a new client builds its middleware (whitenoise) from these settings


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_scripts_and_styles_from_this_server(static_client: Client,
                                                            path: str) -> None:
    response = static_client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = AssetLinks()
    page.feed(response.content.decode())
    assert page.scripts, "no scripts on the page"

    for src in page.scripts:
        assert is_local(src), src
    for rel, href in page.links:
        if is_local(href):
            continue
        # Only web fonts may come from elsewhere; the page works offline without them.
        assert urlsplit(href).netloc in WEB_FONT_HOSTS, (rel, href)

    local_assets = page.scripts + [href for _, href in page.links if is_local(href)]
    for asset in local_assets:
        served = static_client.get(asset)
        assert served.status_code == 200, asset
        body = served.getvalue()
        assert len(body) > 100, asset


def test_swagger_page_points_at_the_schema(static_client: Client) -> None:
    """The page's start-up script is a request of its own (no inline script under the CSP)."""
    html = static_client.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script="></script>' in html

    script = static_client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/schema/",' in script.content.decode()


def test_redoc_page_points_at_the_schema(static_client: Client) -> None:
    html = static_client.get("/api/redoc/").content.decode()

    assert 'spec-url="/api/schema/"' in html


# --- health -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz/", "/healthz"])
def test_healthz(path: str) -> None:
    response = Client().get(path, follow=False)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/readyz/", "/readyz"])
def test_readyz_when_everything_answers(path: str) -> None:
    response = Client().get(path, follow=False)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}
    }


@pytest.mark.parametrize("path", ["/healthz/", "/readyz/"])
def test_probes_need_no_auth_and_are_not_throttled(path: str, throttle_rates: Any) -> None:
    throttle_rates(anon="1/m", user="1/m")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-valid-token")

    codes = [client.get(path).status_code for _ in range(3)]

    assert codes == [200, 200, 200]


@pytest.fixture
def redis_unreachable(settings: Any, closed_port: int) -> str:
    """Point the cache and the broker at a port where nothing answers, as when Redis is down."""
    from marketplace.celery import app

    url = f"redis://127.0.0.1:{closed_port}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    settings.CELERY_BROKER_URL = url
    # The Celery app reads its CELERY_ settings through django.conf.settings, so it sees this.
    assert app.conf.broker_write_url == url
    return url


def test_readyz_is_503_when_redis_is_unreachable(redis_unreachable: str) -> None:
    response = Client().get("/readyz/")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "unavailable", "broker": "unavailable"},
    }


def test_healthz_answers_while_redis_is_unreachable(redis_unreachable: str) -> None:
    response = Client().get("/healthz/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_when_only_the_cache_is_unreachable(settings: Any,
                                                          closed_port: int) -> None:
    url = f"redis://127.0.0.1:{closed_port}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}

    response = Client().get("/readyz/")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok", "redis": "unavailable", "broker": "ok"
    }
