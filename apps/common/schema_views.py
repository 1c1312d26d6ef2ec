from __future__ import annotations

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView


class JsonRenderer(OpenApiJsonRenderer2):
    format = "json"


class YamlRenderer(OpenApiYamlRenderer2):
    format = "yaml"


class SchemaView(SpectacularAPIView):
    """OpenAPI as JSON by default; YAML for ?format=yaml or Accept: application/yaml."""

    renderer_classes = [JsonRenderer, OpenApiJsonRenderer, YamlRenderer, OpenApiYamlRenderer]
    throttle_classes: list[type] = []
