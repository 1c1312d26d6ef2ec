"""JSON bodies for what Django itself answers: bad requests, unknown paths and crashes
outside DRF views."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt


def error_body(error_type: str, code: str, detail: str) -> dict[str, object]:
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": None}]}


@csrf_exempt  # bearer-only API: a POST to an unknown path is a JSON 404, not an HTML CSRF 403
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    return JsonResponse(error_body("client_error", "not_found", "Not found."), status=404)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return api_not_found(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Django's own 400s (a Host not in ALLOWED_HOSTS...), raised before any DRF view runs.
    # The contract types every 400 but parse_error as a validation error.
    return JsonResponse(error_body("validation_error", "bad_request", "Bad request."), status=400)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "error", "A server error occurred."), status=500
    )
