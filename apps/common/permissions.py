from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.common.errors import VerificationRequired


class IsStaff(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class HasVerifiedContact(BasePermission):
    """Posting needs a verified email or phone (403 verification_required)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user: Any = request.user
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        if not (user.email_verified or user.phone_verified):
            raise VerificationRequired()
        return True
