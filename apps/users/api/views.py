"""Accounts endpoints (API.md section 3): parse, authorise, call a service, render."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView as SimpleJWTRefreshView

from apps.common.throttles import AnonThrottle, ScopedIPThrottle, UserThrottle, consume
from apps.users import lockout, selectors, services
from apps.users.api import serializers as s
from apps.users.models import Block, User

SCOPED_IP = [AnonThrottle, UserThrottle, ScopedIPThrottle]

PROFILE_EXAMPLE = OpenApiExample(
    "Own profile",
    value={
        "id": "5b0b3c9e-8f0e-4a57-9a8a-3f8c2f5e9b11", "email": "amani@example.com",
        "phone": "+254712345678", "first_name": "Amani", "last_name": "Wanjiru",
        "display_name": "Amani W.", "avatar": None, "bio": "", "location": None,
        "email_verified": False, "phone_verified": False, "is_staff": False,
        "member_since": "2025-01-31T09:15:00Z", "rating_average": None, "rating_count": 0,
        "active_ads_count": 0, "response_rate": None, "median_response_minutes": None,
    },
    response_only=True,
)


PUBLIC_PROFILE_EXAMPLE = OpenApiExample(
    "Public profile",
    value={
        "id": "5b0b3c9e-8f0e-4a57-9a8a-3f8c2f5e9b11", "display_name": "Amani W.",
        "avatar": None, "bio": "Genuine phones and laptops, Westlands.",
        "location": {"id": 12, "slug": "westlands", "name": "Westlands"},
        "member_since": "2025-01-31T09:15:00Z", "email_verified": True,
        "phone_verified": True, "rating_average": 4.67, "rating_count": 3,
        "active_ads_count": 5, "response_rate": 0.92, "median_response_minutes": 14,
    },
    response_only=True,
)
PROFILE_UPDATE_EXAMPLE = OpenApiExample(
    "Update", request_only=True,
    value={"first_name": "Amani", "bio": "Genuine phones and laptops.", "location": 12},
)
REFRESH_EXAMPLE = OpenApiExample("Refresh token", request_only=True,
                                 value={"refresh": "eyJhbGciOiJIUzI1NiIs..."})
TOKENS_EXAMPLE = OpenApiExample(
    "Tokens", response_only=True,
    value={"access": "eyJhbGciOiJIUzI1NiIs...", "refresh": "eyJhbGciOiJIUzI1NiIs..."},
)


def me(request: Request) -> User:
    """The signed-in user (views that call this require IsAuthenticated)."""
    return cast(User, request.user)


def own_profile(user: User, request: Request) -> dict[str, Any]:
    return s.OwnProfileOutput(user, context={"request": request}).data


class RegisterView(APIView):
    throttle_classes = SCOPED_IP
    throttle_scope = "register"

    @extend_schema(
        request=s.RegisterInput,
        responses={201: s.OwnProfileOutput},
        examples=[
            OpenApiExample(
                "Register", request_only=True,
                value={"email": "amani@example.com", "password": "a long passphrase",
                       "first_name": "Amani", "last_name": "Wanjiru", "phone": "0712345678"},
            ),
            PROFILE_EXAMPLE,
        ],
        description="Creates the account and sends an email code (and an SMS code to a phone).",
    )
    def post(self, request: Request) -> Response:
        payload = s.RegisterInput(data=request.data)
        payload.is_valid(raise_exception=True)
        user = services.register_user(**payload.validated_data)
        return Response(own_profile(user, request), status=status.HTTP_201_CREATED)


class LoginView(APIView):
    throttle_classes = SCOPED_IP
    throttle_scope = "login"

    @extend_schema(
        request=s.LoginInput,
        responses={200: s.LoginOutput, 401: OpenApiResponse(description="Wrong credentials.")},
        examples=[
            OpenApiExample("By email", request_only=True,
                           value={"email": "amani@example.com", "password": "a long passphrase"}),
            OpenApiExample("By phone", request_only=True,
                           value={"phone": "0712 345 678", "password": "a long passphrase"}),
        ],
        description=(
            "After 5 failed logins for one identifier within 15 minutes, every login for it "
            "answers 429 until the oldest failure leaves the window. Suspended: 403 "
            "`account_suspended`."
        ),
    )
    def post(self, request: Request) -> Response:
        payload = s.LoginInput(data=request.data)
        payload.is_valid(raise_exception=True)
        email, phone = payload.validated_data.get("email"), payload.validated_data.get("phone")
        identifier = (email or "").strip().lower() or phone
        wait = lockout.seconds_locked(identifier)
        if wait:
            raise Throttled(wait=wait)
        user = services.find_login_user(email=email, phone=phone)
        user, tokens = services.login(
            identifier=identifier, user=user, password=payload.validated_data["password"]
        )
        return Response(
            {"access": tokens.access, "refresh": tokens.refresh,
             "user": own_profile(user, request)}
        )


class TokenRefreshView(SimpleJWTRefreshView):
    throttle_classes = [AnonThrottle, UserThrottle]

    @extend_schema(
        request=s.RefreshInput,
        responses={200: s.TokenPairOutput},
        description="Rotates the refresh token; the old one is blacklisted.",
        examples=[REFRESH_EXAMPLE, TOKENS_EXAMPLE],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.RefreshInput, responses={204: None}, examples=[REFRESH_EXAMPLE],
                   description=("Blacklists this refresh token. Not the caller's, malformed or "
                                "expired: 400 `token_not_valid`; already blacklisted: 204."))
    def post(self, request: Request) -> Response:
        payload = s.RefreshInput(data=request.data)
        payload.is_valid(raise_exception=True)
        services.logout(user=me(request), refresh=payload.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyView(APIView):
    permission_classes = [IsAuthenticated]
    channel = ""

    @extend_schema(
        request=s.CodeInput,
        responses={200: s.OwnProfileOutput},
        examples=[OpenApiExample("Code", value={"code": "482913"}, request_only=True)],
        description=(
            "Codes: 6 digits, valid 10 minutes. Wrong: 400 `invalid_code`; expired: "
            "`code_expired`; from the 6th try on: `too_many_attempts` until a new code is sent."
        ),
    )
    def post(self, request: Request) -> Response:
        payload = s.CodeInput(data=request.data)
        payload.is_valid(raise_exception=True)
        user = services.verify_contact(
            user=me(request), channel=self.channel, code=payload.validated_data["code"]
        )
        return Response(own_profile(user, request))


class VerifyEmailView(VerifyView):
    channel = "email"


class VerifyPhoneView(VerifyView):
    channel = "phone"


class ResendView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.ResendInput,
        responses={202: s.DetailOutput},
        description="One resend per user and channel per 60 s (scope `resend`), else 429.",
        examples=[
            OpenApiExample("Email", value={"channel": "email"}, request_only=True),
            OpenApiExample("Sent", value={"detail": "A new code was sent to your email."},
                           response_only=True, status_codes=["202"]),
        ],
    )
    def post(self, request: Request) -> Response:
        payload = s.ResendInput(data=request.data)
        payload.is_valid(raise_exception=True)
        channel = payload.validated_data["channel"]
        services.check_resend_allowed(user=me(request), channel=channel)
        wait = consume("resend", f"{me(request).pk}:{channel}",
                       services.resend_rate())
        if wait > 0:
            raise Throttled(wait=wait)
        services.resend_code(user=me(request), channel=channel)
        return Response({"detail": f"A new code was sent to your {channel}."},
                        status=status.HTTP_202_ACCEPTED)


class ProfileView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.OwnProfileOutput}, examples=[PROFILE_EXAMPLE])
    def get(self, request: Request) -> Response:
        return Response(own_profile(me(request), request))

    @extend_schema(
        request={"application/json": s.ProfileInput, "multipart/form-data": s.ProfileInput},
        responses={200: s.OwnProfileOutput},
        examples=[PROFILE_UPDATE_EXAMPLE, PROFILE_EXAMPLE],
        description=(
            "Writable: first_name, last_name, email, phone, bio, location (id), avatar "
            "(multipart; null removes). A new email or phone resets its verified flag and "
            "gets a code. PUT and PATCH both update only the fields given."
        ),
    )
    def put(self, request: Request) -> Response:
        return self.update(request)

    @extend_schema(
        request={"application/json": s.ProfileInput, "multipart/form-data": s.ProfileInput},
        responses={200: s.OwnProfileOutput},
        examples=[PROFILE_UPDATE_EXAMPLE, PROFILE_EXAMPLE],
    )
    def patch(self, request: Request) -> Response:
        return self.update(request)

    def update(self, request: Request) -> Response:
        payload = s.ProfileInput(data=request.data, context={"user": me(request)})
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        if "avatar" in changes and changes["avatar"] in ("", None):
            changes["avatar"] = None
        user = services.update_profile(user=me(request), changes=changes)
        return Response(own_profile(user, request))


class PublicProfileView(APIView):
    @extend_schema(responses={200: s.PublicProfileOutput}, examples=[PUBLIC_PROFILE_EXAMPLE])
    def get(self, request: Request, user_id: str) -> Response:
        user = selectors.get_public_user(user_id=user_id)
        if user is None:
            raise NotFound()
        return Response(s.PublicProfileOutput(user, context={"request": request}).data)


class PasswordResetView(APIView):
    throttle_classes = SCOPED_IP
    throttle_scope = "password_reset"

    @extend_schema(
        request=s.PasswordResetInput, responses={200: s.DetailOutput},
        description="Same answer for any address; an account gets a 6-digit code.",
        examples=[OpenApiExample("Request", value={"email": "amani@example.com"},
                                 request_only=True)],
    )
    def post(self, request: Request) -> Response:
        payload = s.PasswordResetInput(data=request.data)
        payload.is_valid(raise_exception=True)
        services.request_password_reset(email=payload.validated_data["email"])
        return Response({"detail": "If an account uses this address, a code was sent to it."})


class PasswordResetConfirmView(APIView):
    throttle_classes = SCOPED_IP
    throttle_scope = "password_reset"

    @extend_schema(
        request=s.PasswordResetConfirmInput, responses={200: s.DetailOutput},
        description="Revokes all the user's refresh tokens.",
        examples=[OpenApiExample(
            "Confirm", request_only=True,
            value={"email": "amani@example.com", "code": "482913",
                   "new_password": "another long passphrase"})],
    )
    def post(self, request: Request) -> Response:
        payload = s.PasswordResetConfirmInput(data=request.data)
        payload.is_valid(raise_exception=True)
        services.confirm_password_reset(**payload.validated_data)
        return Response({"detail": "Your password was changed."})


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.PasswordChangeInput, responses={200: s.TokenPairOutput},
        description="Returns new tokens; older refresh tokens are revoked.",
        examples=[
            OpenApiExample("Change", request_only=True,
                           value={"old_password": "a long passphrase",
                                  "new_password": "another long passphrase"}),
            TOKENS_EXAMPLE,
        ],
    )
    def post(self, request: Request) -> Response:
        payload = s.PasswordChangeInput(data=request.data)
        payload.is_valid(raise_exception=True)
        tokens = services.change_password(user=me(request), **payload.validated_data)
        return Response({"access": tokens.access, "refresh": tokens.refresh})


class BlockView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.BlockInput, responses={201: s.BlockOutput, 200: s.BlockOutput},
        description="Blocking twice answers 200 with the same block.",
        examples=[OpenApiExample("Block", request_only=True,
                                 value={"user": "5b0b3c9e-8f0e-4a57-9a8a-3f8c2f5e9b11"})],
    )
    def post(self, request: Request) -> Response:
        payload = s.BlockInput(data=request.data)
        payload.is_valid(raise_exception=True)
        block, created = services.block_user(
            blocker=me(request), blocked_id=payload.validated_data["user"]
        )
        body = s.BlockOutput(block, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BlockedListView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.BlockOutput

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Block.objects.none()
        return selectors.blocks_made_by(user=me(self.request))


class UnblockView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, user_id: str) -> Response:
        try:
            blocked_id = UUID(user_id)
        except ValueError as exc:
            raise NotFound() from exc
        if not services.unblock_user(blocker=me(request), blocked_id=blocked_id):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
