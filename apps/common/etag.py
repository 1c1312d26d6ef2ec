"""ETag and conditional GET for JSON read endpoints (RFC 9110 section 13).

The ETag is a strong validator: a hash of the exact response body, so two responses share it
only when they are byte for byte the same. `If-None-Match` matching it answers 304 with no
body. No Last-Modified: the catalogue changes several times a second and HTTP dates have a
resolution of one second, so a date could not tell two versions apart (the ETag does).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from rest_framework.request import Request


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def render_json(data: Any) -> bytes:
    """The same bytes DRF's JSONRenderer writes (compact, UTF-8)."""
    from rest_framework.renderers import JSONRenderer

    return JSONRenderer().render(data)


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def json_response(
    request: Request | Any,
    body: bytes,
    *,
    etag: str | None = None,
    status: int = 200,
    private: bool = False,
) -> HttpResponse:
    """200 with the body and its ETag, or 304 when the client already holds it."""
    etag = etag or etag_of(body)
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if status == 200 and header and _matches(header, etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, status=status, content_type="application/json")
    response["ETag"] = etag
    # Clients may keep the body but must revalidate; what a signed-in user sees is theirs only.
    response["Cache-Control"] = "private, no-cache" if private else "public, no-cache"
    # Accept-Encoding: cached bodies may go out gzip-compressed (apps.common.read_cache_views).
    patch_vary_headers(response, ("Authorization", "Accept-Encoding"))
    return response


def data_response(request: Request | Any, data: Any, *, status: int = 200) -> HttpResponse:
    private = bool(getattr(getattr(request, "user", None), "is_authenticated", False))
    return json_response(request, render_json(data), status=status, private=private)
