"""OpenAPI additions: the error body as components, and the error statuses of every operation."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "example": "required"},
        "detail": {"type": "string", "example": "This field is required."},
        "attr": {"type": "string", "nullable": True, "example": "email"},
    },
    "required": ["code", "detail", "attr"],
}
ERROR_RESPONSE_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["validation_error", "client_error", "server_error"]},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
    },
    "required": ["type", "errors"],
    "example": {
        "type": "validation_error",
        "errors": [{"code": "required", "detail": "This field is required.", "attr": "email"}],
    },
}

DESCRIPTIONS = {
    "400": "Invalid input (`validation_error`); nothing was changed.",
    "401": "Missing, invalid or expired access token (`WWW-Authenticate: Bearer`).",
    "403": "Authenticated but not allowed.",
    "404": "Not found, or not visible to the caller.",
    "409": "The object's current state forbids this.",
    "413": "Upload larger than allowed (`file_too_large`).",
    "415": "Unsupported Content-Type.",
    "429": "Rate limited; `Retry-After` says how many seconds to wait.",
}
WRITE_METHODS = {"post", "put", "patch"}


def error_ref(status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    if status == "429":
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["ErrorResponse"] = ERROR_RESPONSE_SCHEMA
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in WRITE_METHODS | {"get", "delete"}:
                continue
            statuses = ["429"]
            if method in WRITE_METHODS:
                statuses += ["400", "415"]
            paginated = any(p.get("name") == "page" for p in operation.get("parameters", []))
            if "{" in path or paginated:  # unknown id, or ?page= not a number / past the end
                statuses.append("404")
            security = operation.get("security", [])
            if security and {} not in security:
                statuses.append("401")
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(status, error_ref(status))
            for status, response in responses.items():
                if status in DESCRIPTIONS and "content" not in response:
                    responses[status] = error_ref(status)
    return result
