"""The anonymous fast path of the read cache: cached GETs answered before DRF runs.

A cache hit for an anonymous caller costs one Redis round trip (the anonymous throttle's GCRA
step, the namespaces' generations and the entry, pipelined) and no DRF request wrapping,
authentication, negotiation or throttle objects: about what the framework floor of `make bench`
costs. Everything else (signed-in callers, other methods, an `Accept` that is not JSON, a
refused throttle step, a miss) goes to the DRF view as before; a miss carries the lookup on the
request (`cache.lookup_made_for`) so the view stores what it builds under the generation read
here, and the anonymous throttle is not stepped twice.

The answer is the one the view would give: same body, ETag (stored with the body), 304 on a
matching `If-None-Match`, `Cache-Control`, `Vary` and `Allow`; the middleware around the view
(security headers, CORS, request id, metrics) runs as for any request.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse

from apps.common import cache
from apps.common.etag import json_response
from apps.common.throttles import ANON_STEP_TAKEN, anon_bucket


def _wants_json(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return not accept or "json" in accept or "*/*" in accept


def accepts_gzip(request: HttpRequest) -> bool:
    """Whether Accept-Encoding takes gzip (or *) with a q above 0 (RFC 9110 section 12.5.3)."""
    for part in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in {"gzip", "*"}:
            continue
        name, _, value = params.strip().partition("=")
        if name.strip().lower() != "q":
            return True
        try:
            return float(value) > 0
        except ValueError:
            return False
    return False


def cached_response(request: HttpRequest, entry: cache.Entry) -> HttpResponse:
    """The stored body, gzip-compressed as stored when the client takes gzip (nginx passes an
    encoded response through as is). As Django's GZipMiddleware does, the compressed
    representation carries the ETag made weak; If-None-Match compares weakly, so either one
    revalidates to 304."""
    if entry.gzipped is not None and accepts_gzip(request):
        response = json_response(request, entry.gzipped, etag="W/" + entry.etag)
        if response.status_code == 200:
            response["Content-Encoding"] = "gzip"
        return response
    return json_response(request, entry.body, etag=entry.etag)


def _allow_header(view_class: type) -> str:
    """What DRF puts in `Allow`: the handlers the view has, HEAD with GET, OPTIONS always."""
    methods = [
        method.upper()
        for method in view_class.http_method_names  # type: ignore[attr-defined]
        if hasattr(view_class, method) or (method == "head" and hasattr(view_class, "get"))
    ]
    return ", ".join(methods)


class AnonymousReadCache:
    """Mixin for an APIView whose anonymous GET bodies are kept in the read cache.

    The view names its entries (`read_cache_kind`), the namespaces whose generations they
    depend on (`read_cache_namespaces`, or per request `read_cache_namespaces_for`) and their
    lifetime; its `get` builds the body on a miss and stores it with
    `cache.remember(cache.lookup_made_for(request), body)`. `on_read_cache_hit` runs for each
    hit (the ad detail counts the view there)."""

    read_cache_kind: ClassVar[str]
    read_cache_namespaces: ClassVar[tuple[str, ...]] = (cache.ADS,)
    read_cache_timeout: ClassVar[int | None] = None

    @classmethod
    def read_cache_namespaces_for(cls, **kwargs: Any) -> tuple[str, ...] | None:
        """The namespaces of this request's entry; None: not known yet, skip the cache."""
        return cls.read_cache_namespaces

    @classmethod
    def on_read_cache_hit(cls, request: HttpRequest, entry: cache.Entry, **kwargs: Any) -> None:
        return None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        view = super().as_view(**initkwargs)  # type: ignore[misc]
        allow = _allow_header(cls)

        @wraps(view)
        def serve(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (
                request.method != "GET"
                or "HTTP_AUTHORIZATION" in request.META
                or not _wants_json(request)
            ):
                return view(request, *args, **kwargs)
            namespaces = cls.read_cache_namespaces_for(**kwargs)
            if namespaces is None:
                return view(request, *args, **kwargs)
            found = cache.lookup(
                request,
                kind=cls.read_cache_kind,
                namespaces=namespaces,
                timeout=cls.read_cache_timeout,
                throttle=anon_bucket(request),
            )
            if found is None or found.throttle_wait > 0:
                return view(request, *args, **kwargs)  # DRF answers 429 / works without cache
            setattr(request, ANON_STEP_TAKEN, True)
            if found.entry is None:
                request.read_cache = found  # type: ignore[attr-defined]
                return view(request, *args, **kwargs)
            cls.on_read_cache_hit(request, found.entry, **kwargs)
            response = cached_response(request, found.entry)
            response["Allow"] = allow
            return response

        return serve
