"""OpenAPI: our bearer authentication is simplejwt's, documented as the `jwtAuth` scheme."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class BearerAuthenticationScheme(SimpleJWTScheme):
    target_class = "apps.users.authentication.BearerAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition: dict[str, Any] = super().get_security_definition(auto_schema)
        definition["description"] = "`Authorization: Bearer <access JWT>` (about 15 minutes)."
        return definition
