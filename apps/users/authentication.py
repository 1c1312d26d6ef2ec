"""Bearer JWT authentication that also shuts out suspended and deactivated accounts."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed


class BearerAuthentication(JWTAuthentication):
    def authenticate_header(self, request: Request) -> str:
        return "Bearer"

    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        if getattr(user, "is_suspended", False):
            raise AuthenticationFailed("This account is suspended.", code="account_suspended")
        return user
