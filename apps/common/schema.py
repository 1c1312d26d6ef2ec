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
    "403": (
        "Not allowed: not the object's owner, staff only, verification required, "
        "blocked, or (login) a suspended account / (callbacks) an unknown sender."
    ),
    "404": "Not found, or not visible to the caller.",
    "409": "The object's current state forbids this.",
    "413": "Upload larger than allowed (`file_too_large`).",
    "415": "Unsupported Content-Type.",
    "429": "Rate limited; `Retry-After` says how many seconds to wait.",
}
WRITE_METHODS = {"post", "put", "patch"}
# Query parameters that never cause a 400 on their own (`?page=` past the end or not a number
# is a 404; `?page_size=` is clamped).
PAGING = {"page", "page_size"}
# Statuses no rule below can infer: operation (path, method) -> extra statuses.
EXTRA_STATUSES: dict[tuple[str, str], list[str]] = {
    # An expired, malformed or blacklisted refresh token: 401 token_not_valid (SimpleJWT).
    ("/api/users/token/refresh/", "post"): ["401"],
}


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
            statuses = ["429", *EXTRA_STATUSES.get((path, method), [])]
            if method in WRITE_METHODS:
                statuses += ["400", "415"]
            query = {
                p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"
            }
            if query - PAGING:  # filters, `after`, `days`...: a value out of range is a 400
                statuses.append("400")
            paginated = any(p.get("name") == "page" for p in operation.get("parameters", []))
            if "{" in path or paginated:  # unknown id, or ?page= not a number / past the end
                statuses.append("404")
            security = operation.get("security", [])
            if security and {} not in security:
                statuses.append("401")
            if (security and {} not in security) or method in WRITE_METHODS | {"delete"}:
                statuses.append("403")  # object- or function-level authorisation
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(status, error_ref(status))
            for status, response in responses.items():
                if status in DESCRIPTIONS and "content" not in response:
                    responses[status] = error_ref(status)
    return result
