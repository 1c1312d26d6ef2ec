"""API.md section 1: statuses and the one error body, `{type, errors: [{code, detail, attr}]}`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import error_codes

pytestmark = pytest.mark.django_db

ERROR_ITEM_KEYS = {"code", "detail", "attr"}


def assert_error_body(response: Any, *, error_type: str) -> list[dict[str, Any]]:
    """The contract's error body, exactly: nothing more, nothing less, at every status."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] == error_type, body
    assert isinstance(body["errors"], list) and body["errors"], body
    for error in body["errors"]:
        assert set(error) == ERROR_ITEM_KEYS, error
        assert isinstance(error["code"], str) and error["code"], error
        assert isinstance(error["detail"], str) and error["detail"], error
        assert error["attr"] is None or isinstance(error["attr"], str), error
    # The type follows from the status alone: every 400 but parse_error is a validation error.
    if response.status_code == 400:
        parse_error = [e["code"] for e in body["errors"]] == ["parse_error"]
        assert body["type"] == ("client_error" if parse_error else "validation_error"), body
    elif response.status_code < 500:
        assert body["type"] == "client_error", body
    else:
        assert body["type"] == "server_error", body
    return body["errors"]


def test_invalid_json_is_a_client_parse_error(api: APIClient) -> None:
    response = api.post(
        "/api/users/register/", data='{"email": "a@example.com", ', content_type="application/json"
    )

    assert response.status_code == 400
    errors = assert_error_body(response, error_type="client_error")
    assert [(e["code"], e["attr"]) for e in errors] == [("parse_error", None)]


def test_unsupported_content_type_is_415(api: APIClient) -> None:
    response = api.post("/api/users/register/", data="email=a@example.com",
                        content_type="text/plain")

    assert response.status_code == 415
    errors = assert_error_body(response, error_type="client_error")
    assert errors[0]["code"] == "unsupported_media_type"


def test_validation_error_names_each_field(api: APIClient) -> None:
    response = api.post("/api/users/register/", {}, format="json")

    assert response.status_code == 400
    errors = assert_error_body(response, error_type="validation_error")
    assert ("required", "email") in [(e["code"], e["attr"]) for e in errors]
    assert ("required", "password") in [(e["code"], e["attr"]) for e in errors]


@pytest.mark.parametrize(
    "path",
    [
        "/api/nothing-here/",
        "/api/users/register/extra/",
        "/api/v2/users/",
        "/api/",
        "/api/users/unblock/",
    ],
)
def test_unknown_api_path_is_a_json_404(api: APIClient, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    errors = assert_error_body(response, error_type="client_error")
    assert [(e["code"], e["attr"]) for e in errors] == [("not_found", None)]


@pytest.mark.parametrize(
    "path", ["/api/users/register", "/api/users/profile", "/api/locations", "/api/schema",
             "/api/users/blocked"],
)
def test_path_without_trailing_slash_is_404_not_a_redirect(api: APIClient, path: str) -> None:
    response = api.get(path, follow=False)

    assert response.status_code == 404
    assert "Location" not in response
    assert error_codes(response) == [("not_found", None)]


def test_post_without_trailing_slash_is_404_too(api: APIClient) -> None:
    response = api.post("/api/users/register", {"email": "a@example.com"}, format="json")

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/users/register/"),
        ("get", "/api/users/login/"),
        ("put", "/api/locations/"),
        ("post", "/api/locations/"),
    ],
)
def test_method_a_path_lacks_is_405(api: APIClient, method: str, path: str) -> None:
    response = getattr(api, method)(path)

    assert response.status_code == 405
    errors = assert_error_body(response, error_type="client_error")
    assert errors[0]["code"] == "method_not_allowed"
    assert method.upper() not in response["Allow"]


def test_unknown_ids_of_any_form_are_404(api: APIClient) -> None:
    for user_id in (str(uuid.uuid4()), "not-a-uuid", "12345", "%20"):
        response = api.get(f"/api/users/{user_id}/")
        assert response.status_code == 404, user_id
        assert error_codes(response) == [("not_found", None)], user_id


def test_missing_token_is_401_with_bearer_challenge(api: APIClient) -> None:
    response = api.get("/api/users/profile/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    errors = assert_error_body(response, error_type="client_error")
    assert errors[0]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header", ["Bearer not-a-jwt", "Bearer ", "Token abc", "Basic Zm9vOmJhcg=="]
)
def test_bad_token_is_401_with_bearer_challenge(api: APIClient, header: str) -> None:
    api.credentials(HTTP_AUTHORIZATION=header)

    response = api.get("/api/users/profile/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert_error_body(response, error_type="client_error")


def test_invalid_token_error_is_a_single_item(api: APIClient) -> None:
    """simplejwt's nested `{detail, code, messages}` is folded into one error."""
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api.get("/api/users/profile/")

    assert error_codes(response) == [("token_not_valid", None)]


def test_throttled_answer_uses_the_error_body(api: APIClient, throttle_rates: Any) -> None:
    throttle_rates(anon="1/m")
    assert api.get("/api/locations/").status_code == 200

    response = api.get("/api/locations/")

    assert response.status_code == 429
    errors = assert_error_body(response, error_type="client_error")
    assert errors[0]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_unhandled_crash_is_a_json_500(monkeypatch: pytest.MonkeyPatch) -> None:
    from apps.locations.api import views

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(views.LocationTreeView, "get", crash)
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/locations/")

    assert response.status_code == 500
    errors = assert_error_body(response, error_type="server_error")
    assert "boom" not in response.content.decode()
    assert errors[0]["attr"] is None


def test_non_api_unknown_path_is_json_404_too(api: APIClient) -> None:
    response = api.get("/definitely-not-here/")

    assert response.status_code == 404
    assert_error_body(response, error_type="client_error")


# --- what Django itself refuses: still the contract's body, never a 500 ----------------------


def test_unknown_host_is_a_json_400() -> None:
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/locations/", HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    assert_error_body(response, error_type="validation_error")


@pytest.mark.parametrize("format_", ["json", "multipart"])
def test_body_over_the_upload_limit_is_413_not_500(api: APIClient, settings: Any,
                                                   format_: str) -> None:
    from apps.users.models import User

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"email": "big@example.com", "password": "x" * 2000, "first_name": "A",
            "last_name": "B"}

    response = api.post("/api/users/register/", body, format=format_)

    assert response.status_code == 413
    errors = assert_error_body(response, error_type="client_error")
    assert [e["code"] for e in errors] == ["file_too_large"]
    assert not User.objects.filter(email="big@example.com").exists()


def test_too_many_form_fields_is_400_not_500(api: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5

    response = api.post("/api/users/register/", {f"f{i}": "x" for i in range(10)},
                        format="multipart")

    assert response.status_code == 400
    errors = assert_error_body(response, error_type="client_error")
    assert [e["code"] for e in errors] == ["parse_error"]


def test_too_many_files_is_400_not_500(api: APIClient, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    files = {f"f{i}": SimpleUploadedFile(f"a{i}.txt", b"x") for i in range(3)}

    response = api.post("/api/users/register/", files, format="multipart")

    assert response.status_code == 400
    errors = assert_error_body(response, error_type="client_error")
    assert [e["code"] for e in errors] == ["parse_error"]
