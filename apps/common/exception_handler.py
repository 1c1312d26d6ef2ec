"""The one place that turns exceptions into the contract's error body.

Built on drf-standardized-errors, which already produces `{"type", "errors": [{"code",
"detail", "attr"}]}`; this adds the contract's refinements: domain errors that name a field,
simplejwt's nested token errors folded into one, and `parse_error` as a client error.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler, exception_handler
from drf_standardized_errors.types import VALIDATION_ERROR, ErrorResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from apps.common.errors import DomainError, FileTooLarge


def handle_api_exception(exc: Exception, context: Any) -> Response | None:
    return exception_handler(exc, context)


class DatabaseUnavailable(exceptions.APIException):
    """PostgreSQL (or, for what cannot work without it, Redis) unreachable: 503 with
    Retry-After, never a 500."""

    status_code = 503
    default_code = "service_unavailable"
    default_detail = "The service is temporarily unavailable; retry shortly."


class ContractExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(as_serializer_error(exc))
        # Django's request limits (DATA_UPLOAD_MAX_*) refuse client input: never a 500.
        if isinstance(exc, RequestDataTooBig):
            return FileTooLarge("The request body is larger than allowed.")
        if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
            return exceptions.ParseError(str(exc))
        if isinstance(exc, DatabaseOperationalError | DatabaseInterfaceError):
            return DatabaseUnavailable()
        if isinstance(exc, RedisConnectionError | RedisTimeoutError):
            return DatabaseUnavailable()  # a feature that needs Redis (tickets) while it is down
        if (
            isinstance(exc, exceptions.APIException)
            and not isinstance(exc, exceptions.ValidationError)
            and isinstance(exc.detail, dict)
            and "detail" in exc.detail
        ):
            # simplejwt raises {"detail", "code", "messages"}: keep one error.
            detail = exc.detail
            code = str(detail.get("code") or exc.default_code)
            folded = exceptions.APIException(detail=str(detail["detail"]), code=code)
            folded.status_code = exc.status_code
            for attribute in ("auth_header", "wait"):
                if hasattr(exc, attribute):
                    setattr(folded, attribute, getattr(exc, attribute))
            return folded
        return super().convert_known_exceptions(exc)

    def get_headers(self, exc: exceptions.APIException) -> dict[str, str]:
        headers = super().get_headers(exc)
        if isinstance(exc, exceptions.Throttled):
            headers["Retry-After"] = str(max(1, int(getattr(exc, "wait", None) or 1)))
        if isinstance(exc, DatabaseUnavailable):
            from apps.common.middleware import DB_RETRY_AFTER

            headers["Retry-After"] = str(DB_RETRY_AFTER)
        return headers


class ContractExceptionFormatter(ExceptionFormatter):
    def get_error_type(self) -> Any:
        # The contract: every 400 is a validation error (domain ones such as `invalid_code`
        # included), except a body that could not be parsed.
        if self.exc.status_code == 400 and not isinstance(self.exc, exceptions.ParseError):
            return VALIDATION_ERROR
        return super().get_error_type()

    def get_error_response(self, error_type: Any, errors: list[Any]) -> ErrorResponse:
        if isinstance(self.exc, DomainError) and self.exc.attr and len(errors) == 1:
            errors[0].attr = self.exc.attr
        return super().get_error_response(error_type, errors)
