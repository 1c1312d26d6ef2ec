"""The anonymous fast path of the read cache: cached GETs answered before DRF runs.

A cache hit for an anonymous caller costs one Redis round trip (one script: the anonymous
throttle's GCRA step, the namespaces' generations and the entry, the keys the view reads along
with it, and the view's step for a fresh entry, such as counting an ad's view; see
`cache.lookup`) and no DRF request wrapping,
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

import time
from collections.abc import Callable
from functools import partial, wraps
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


# Coalescing misses: when an entry is missing (expired, or retired by a write), the first
# request for it builds it and the others that arrive meanwhile wait for that body instead of
# each building the same page (16 connections on one listing page otherwise render it 16 times
# at once, on 2 cores). A waiter gives up after BUILD_WAIT_S and builds it itself, so a builder
# that fails or is slow costs its waiters that long at most; the claim lapses after
# BUILD_CLAIM_MS.
BUILD_CLAIM_MS = 1000
BUILD_WAIT_S = 0.25
_WAIT_STEPS_S = (0.002, 0.004, 0.008, 0.016)


def wait_for_build(look: Callable[..., cache.Lookup | None]) -> cache.Lookup | None:
    """The lookup that found the entry another request was building; None when it did not
    come within BUILD_WAIT_S (or Redis went away). A lookup that can claim the build (the
    builder's claim lapsed) returns at once: this request builds it."""
    deadline = time.monotonic() + BUILD_WAIT_S
    step = 0
    while time.monotonic() < deadline:
        time.sleep(_WAIT_STEPS_S[min(step, len(_WAIT_STEPS_S) - 1)])
        step += 1
        found = look(throttle=None)
        if found is None:
            return None
        if found.entry is not None or found.claimed:
            return found
    return None


class AnonymousReadCache:
    """Mixin for an APIView whose anonymous GET bodies are kept in the read cache.

    The view names its entries (`read_cache_kind`), the namespaces whose generations they
    depend on (`read_cache_namespaces`, or per request `read_cache_namespaces_for`) and their
    lifetime; its `get` builds the body on a miss and stores it with
    `cache.remember(cache.lookup_made_for(request), body)`. For each hit, `on_read_cache_hit`
    gives the entry to serve; the keys of `read_cache_also_for` are read with the entry and
    `read_cache_on_fresh_for` runs in Redis when it is fresh (the ad detail reads its views
    total there, counts the view, and patches a newer count into the body)."""

    read_cache_kind: ClassVar[str]
    read_cache_namespaces: ClassVar[tuple[str, ...]] = (cache.ADS,)
    read_cache_timeout: ClassVar[int | None] = None

    @classmethod
    def read_cache_namespaces_for(cls, **kwargs: Any) -> tuple[str, ...] | None:
        """The namespaces of this request's entry; None: not known yet, skip the cache."""
        return cls.read_cache_namespaces

    @classmethod
    def read_cache_also_for(cls, **kwargs: Any) -> tuple[str, ...]:
        """Redis keys whose values the lookup brings back with the entry (`Lookup.also`)."""
        return ()

    @classmethod
    def read_cache_on_fresh_for(cls, request: HttpRequest, **kwargs: Any) -> cache.OnFresh | None:
        """A step the lookup runs in Redis when the entry is fresh and the throttle allows."""
        return None

    @classmethod
    def on_read_cache_hit(
        cls, request: HttpRequest, found: cache.Lookup, entry: cache.Entry, **kwargs: Any
    ) -> cache.Entry:
        """The entry to serve for this hit (`entry`, the fresh one of `found`, by default)."""
        return entry

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
            look = partial(
                cache.lookup,
                request,
                kind=cls.read_cache_kind,
                namespaces=namespaces,
                timeout=cls.read_cache_timeout,
                also=cls.read_cache_also_for(**kwargs),
                on_fresh=cls.read_cache_on_fresh_for(request, **kwargs),
                claim_ms=BUILD_CLAIM_MS,
            )
            found = look(throttle=anon_bucket(request))
            if found is None or found.throttle_wait > 0:
                return view(request, *args, **kwargs)  # DRF answers 429 / works without cache
            setattr(request, ANON_STEP_TAKEN, True)
            if found.entry is None and not found.claimed:
                found = wait_for_build(look) or found
            if found.entry is None:
                request.read_cache = found  # type: ignore[attr-defined]
                response = view(request, *args, **kwargs)
                if response.status_code not in (200, 304):
                    cache.build_failed(found)
                return response
            entry = cls.on_read_cache_hit(request, found, found.entry, **kwargs)
            response = cached_response(request, entry)
            response["Allow"] = allow
            return response

        return serve
