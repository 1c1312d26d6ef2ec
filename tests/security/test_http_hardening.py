"""Security misconfiguration (OWASP API8): production headers, CORS by allowlist, CSRF where
cookies are used, the admin at a configurable and rate-limited path, secrets only from the
environment, and the JSON contract for what Django itself answers."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import clear_url_caches

from conftest import CommittingAPIClient, error_codes

ALLOWED_ORIGIN = "http://localhost:3000"  # the test profile's CORS_ALLOWED_ORIGINS
EVIL_ORIGIN = "https://evil.example"


def import_prod(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    """marketplace.settings.prod as a server with exactly this environment would load it."""
    for name in (
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_ADMIN_URL",
        "ADMIN_URL",
        "CORS_ALLOWED_ORIGINS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "marketplace.settings.prod", raising=False)
    monkeypatch.delitem(sys.modules, "marketplace.settings.base")  # re-read, restored after
    try:
        return importlib.import_module("marketplace.settings.prod")
    finally:
        sys.modules.pop("marketplace.settings.prod", None)


PROD_ENV = {"DJANGO_SECRET_KEY": "prod-test-" + "k" * 50, "DJANGO_ALLOWED_HOSTS": "api.example.com"}


# --- secrets only from the environment ----------------------------------------------------------


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_secrets(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != missing}

    with pytest.raises(ImproperlyConfigured, match=missing):
        import_prod(monkeypatch, **env)


def test_production_has_no_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    prod = import_prod(monkeypatch, **PROD_ENV)

    secret = prod.SECRET_KEY
    assert secret == PROD_ENV["DJANGO_SECRET_KEY"]
    assert prod.DEBUG is False
    assert prod.PAYMENT_SANDBOX_SECRET == ""  # the sandbox refuses everything
    assert prod.CORS_ALLOWED_ORIGINS == [] and prod.CORS_ALLOW_ALL_ORIGINS is False
    assert prod.CORS_ALLOW_CREDENTIALS is False


def test_production_security_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    prod = import_prod(
        monkeypatch,
        **PROD_ENV,
        CORS_ALLOWED_ORIGINS="https://app.example.com",
        ADMIN_URL="staff-7f3a/",
    )

    assert prod.SECURE_HSTS_SECONDS >= 31_536_000 and prod.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert prod.SECURE_SSL_REDIRECT and prod.SESSION_COOKIE_SECURE and prod.CSRF_COOKIE_SECURE
    assert prod.SECURE_CONTENT_TYPE_NOSNIFF and prod.X_FRAME_OPTIONS == "DENY"
    assert prod.SECURE_REFERRER_POLICY == "same-origin"
    assert prod.SECURE_CROSS_ORIGIN_OPENER_POLICY == "same-origin"
    assert prod.CORS_ALLOWED_ORIGINS == ["https://app.example.com"]
    assert prod.ADMIN_URL == "staff-7f3a/"
    assert prod.SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] and prod.SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"]
    assert prod.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() <= 15 * 60


# --- headers as production sends them -------------------------------------------------------------


@pytest.fixture
def prod_like(settings: Any) -> Any:
    """The production profile's HTTP security settings on the test server."""
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_CONTENT_TYPE_NOSNIFF = True
    settings.SECURE_REFERRER_POLICY = "same-origin"
    settings.SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    settings.X_FRAME_OPTIONS = "DENY"
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/categories/", "/api/users/profile/", "/api/nowhere/"])
def test_every_answer_carries_the_security_headers(prod_like: Any, path: str) -> None:
    response = Client().get(path, HTTP_X_FORWARDED_PROTO="https")

    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_but_probes_are_not(prod_like: Any) -> None:
    assert Client().get("/api/categories/").status_code == 301
    assert Client().get("/healthz").status_code == 200


# --- CORS by allowlist -------------------------------------------------------------------------


@pytest.mark.django_db
def test_cors_allows_a_listed_origin(api: CommittingAPIClient) -> None:
    response = api.get("/api/categories/", HTTP_ORIGIN=ALLOWED_ORIGIN)
    preflight = api.options(
        "/api/ads/",
        HTTP_ORIGIN=ALLOWED_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )

    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "Access-Control-Allow-Credentials" not in response
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "authorization" in preflight["Access-Control-Allow-Headers"]


@pytest.mark.django_db
def test_cors_refuses_an_unlisted_origin(api: CommittingAPIClient) -> None:
    response = api.get("/api/categories/", HTTP_ORIGIN=EVIL_ORIGIN)
    preflight = api.options(
        "/api/ads/", HTTP_ORIGIN=EVIL_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in preflight


# --- CSRF: the admin (cookies) yes, the bearer-only API no --------------------------------------


@pytest.mark.django_db
def test_admin_sign_in_needs_the_csrf_token(staff: Any) -> None:
    from conftest import PASSWORD

    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_api_ignores_cookies_and_needs_no_csrf_token(staff: Any, user: Any) -> None:
    """A staff session cookie (signed in to the admin) is not an API credential: a cross-site
    request carrying it is anonymous, so CSRF cannot act through the API."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    profile = client.get("/api/users/profile/")
    write = client.post(
        "/api/categories/admin/create/", {"name": "Forged"}, content_type="application/json"
    )

    assert profile.status_code == 401 and write.status_code == 401


@pytest.mark.django_db
def test_unsafe_method_on_an_unknown_api_path_is_a_json_404() -> None:
    """Found by fuzzing: the /api/ catch-all answered an HTML CSRF 403 to POST/PATCH."""
    client = Client(enforce_csrf_checks=True)

    for method in ("post", "patch", "put", "delete"):
        response = getattr(client, method)("/api/ads/%C3%86/reveal-phone/")

        assert response.status_code == 404, method
        assert error_codes(response) == [("not_found", None)]


@pytest.mark.django_db
def test_options_is_a_json_405_not_a_crash(auth_client: Any) -> None:
    """Found by fuzzing: OPTIONS on list views without serializer_class was a 500."""
    for path in ("/api/messages/conversations/", "/api/moderation/reports/", "/api/ads/"):
        response = auth_client.options(path)

        assert response.status_code == 405, path
        assert error_codes(response) == [("method_not_allowed", None)]


# --- the admin: configurable path, rate-limited sign-in ------------------------------------------


@pytest.fixture
def admin_at(settings: Any) -> Iterator[Any]:
    """Reload the URL configuration with another ADMIN_URL; restore it afterwards."""
    import marketplace.urls

    def move(path: str) -> None:
        settings.ADMIN_URL = path
        importlib.reload(marketplace.urls)
        clear_url_caches()

    original = settings.ADMIN_URL
    yield move
    settings.ADMIN_URL = original
    importlib.reload(marketplace.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_the_admin_lives_at_the_configured_path(admin_at: Any) -> None:
    admin_at("staff-7f3a/")

    assert Client().get("/staff-7f3a/login/").status_code == 200
    assert Client().get("/admin/login/").status_code == 404


@pytest.mark.django_db
def test_admin_sign_in_is_rate_limited_per_ip(settings: Any, staff: Any) -> None:
    from conftest import PASSWORD

    settings.ADMIN_LOGIN_RATE = "3/m"
    client = Client()
    wrong = {"username": staff.email, "password": "not-the-password"}

    answers = [client.post("/admin/login/", wrong).status_code for _ in range(3)]
    blocked = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    other_ip = Client(REMOTE_ADDR="10.0.0.9").post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD}
    )

    assert answers == [200, 200, 200]  # the form again, with an error
    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 20
    assert "_auth_user_id" not in client.session  # even the right password waits
    assert other_ip.status_code == 302  # another address signs in


@pytest.mark.django_db
def test_admin_sign_in_page_itself_is_not_limited(settings: Any) -> None:
    settings.ADMIN_LOGIN_RATE = "1/m"

    assert [Client().get("/admin/login/").status_code for _ in range(3)] == [200, 200, 200]
