"""The OpenAPI schema and the two documentation pages, all served from this machine.

The pages come from drf-spectacular-sidecar's static copies of Swagger UI and Redoc (no CDN),
and carry a Content-Security-Policy of their own (DOCS_CSP) that allows nothing else: scripts
only from this origin (Swagger UI's start-up script is a separate request, not inline: the
split view), requests only to this origin. Inline styles are allowed (both UIs set them from
script; a style cannot run code); Redoc's search runs in a worker built from a blob: URL.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.request import Request
from rest_framework.response import Response

DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


class JsonRenderer(OpenApiJsonRenderer2):
    format = "json"


class YamlRenderer(OpenApiYamlRenderer2):
    format = "yaml"


class SchemaView(SpectacularAPIView):
    """OpenAPI as JSON by default; YAML for ?format=yaml or Accept: application/yaml."""

    renderer_classes = [JsonRenderer, OpenApiJsonRenderer, YamlRenderer, OpenApiYamlRenderer]
    throttle_classes: list[type] = []


class DocsPolicy:
    """The docs pages' own Content-Security-Policy (only these pages: the API answers JSON)."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class DocsSwaggerView(DocsPolicy, SpectacularSwaggerSplitView):
    """Swagger UI at /api/docs/; its start-up script at /api/docs/?script (no inline script)."""


class DocsRedocView(DocsPolicy, SpectacularRedocView):
    """Redoc at /api/redoc/, without the web fonts drf-spectacular's page loads from Google."""

    template_name = "docs/redoc.html"  # REDOC_UI_SETTINGS are not used (none are set)
