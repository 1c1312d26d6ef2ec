"""Domain errors with the contract's stable codes; the exception handler renders them."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError


class DomainError(APIException):
    """A rule of the domain was broken; `default_code` is the contract's error code."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request cannot be completed."

    def __init__(self, detail: str | None = None, *, attr: str | None = None) -> None:
        super().__init__(detail=detail or self.default_detail, code=self.default_code)
        self.attr = attr


class FieldError(ValidationError):
    """A 400 validation error on one field with a specific code."""

    def __init__(self, attr: str, detail: str, code: str) -> None:
        super().__init__({attr: [detail]}, code=code)


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class VerificationRequired(Forbidden):
    default_code = "verification_required"
    default_detail = "Verify your email address or phone number first."


class AccountSuspended(Forbidden):
    default_code = "account_suspended"
    default_detail = "This account is suspended."


class Blocked(Forbidden):
    default_code = "blocked"
    default_detail = "You cannot interact with this user."


class FileTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"
    default_detail = "The file is larger than allowed."
