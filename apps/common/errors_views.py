"""JSON bodies for what Django itself answers: unknown paths and crashes outside DRF views."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def error_body(error_type: str, code: str, detail: str) -> dict[str, object]:
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": None}]}


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    return JsonResponse(error_body("client_error", "not_found", "Not found."), status=404)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return api_not_found(request)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "error", "A server error occurred."), status=500
    )
