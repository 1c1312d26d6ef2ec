"""Input serializers list exactly the writable fields; output serializers only shape data."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from apps.locations.models import Location
from apps.users.models import User, normalize_email
from apps.users.phone import InvalidPhoneNumber, to_e164

# --- output -----------------------------------------------------------------------------------


class LocationBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class AbsoluteMediaUrlField(serializers.ImageField):
    """A stored file as an absolute URL, or null."""

    def to_representation(self, value: Any) -> str | None:
        if not value:
            return None
        request = self.context.get("request")
        url = value.url
        return request.build_absolute_uri(url) if request is not None else url


class PublicProfileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()
    avatar = AbsoluteMediaUrlField(allow_null=True)
    bio = serializers.CharField()
    location = LocationBriefOutput(allow_null=True)
    member_since = serializers.DateTimeField(source="date_joined")
    email_verified = serializers.BooleanField()
    phone_verified = serializers.BooleanField()
    rating_average = serializers.FloatField(allow_null=True)
    rating_count = serializers.IntegerField()
    active_ads_count = serializers.IntegerField()
    # Seller signals (issue 7; additions to API.md section 3), recomputed nightly.
    response_rate = serializers.FloatField(
        allow_null=True,
        help_text=("Share (0 to 1, two decimals) of the conversations buyers started in the "
                   "last 90 days that the seller answered; null without such conversations. "
                   "Recomputed nightly."))
    median_response_minutes = serializers.IntegerField(
        allow_null=True,
        help_text=("Median minutes from a buyer's first message to the seller's first answer "
                   "over the same conversations; null without answers. Recomputed nightly."))


class OwnProfileOutput(PublicProfileOutput):
    email = serializers.EmailField()
    phone = serializers.CharField(allow_null=True)
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    is_staff = serializers.BooleanField()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginOutput(TokenPairOutput):
    user = OwnProfileOutput()


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class BlockOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = PublicProfileOutput(source="blocked")
    created_at = serializers.DateTimeField()


# --- input ------------------------------------------------------------------------------------


class PhoneField(serializers.CharField):
    """A phone number in any Kenyan spelling, returned as E.164."""

    def to_internal_value(self, data: Any) -> str:
        raw = super().to_internal_value(data)
        try:
            return to_e164(raw)
        except InvalidPhoneNumber as exc:
            message = "Enter a valid phone number."
            raise serializers.ValidationError(message, code="invalid") from exc


def check_email_free(email: str, *, exclude: User | None = None) -> str:
    email = normalize_email(email)
    taken = User.objects.filter(email=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise serializers.ValidationError("A user with this email already exists.", code="unique")
    return email


def check_phone_free(phone: str | None, *, exclude: User | None = None) -> str | None:
    if not phone:
        return None
    taken = User.objects.filter(phone=phone)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise serializers.ValidationError("A user with this phone already exists.", code="unique")
    return phone


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    first_name = serializers.CharField(max_length=60)
    last_name = serializers.CharField(max_length=60)
    phone = PhoneField(max_length=32, required=False, allow_null=True, allow_blank=True)

    def validate_email(self, value: str) -> str:
        return check_email_free(value)

    def validate_phone(self, value: str | None) -> str | None:
        return check_phone_free(value)


class LoginInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    phone = PhoneField(max_length=32, required=False)
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("email")) == bool(attrs.get("phone")):
            raise serializers.ValidationError(
                "Give either an email or a phone number.", code="invalid"
            )
        return attrs


class TokenRefreshInput(TokenRefreshSerializer):
    """simplejwt's rotation + blacklist, refusing suspended or deactivated accounts."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The account is checked before simplejwt's own check, which answers 500 for a deleted
        # account and `no_active_account` for a deactivated one: both are `token_not_valid`.
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = User.objects.filter(pk=str(user_id)).only("is_active", "is_suspended").first()
        if user is None or not user.is_active or user.is_suspended:
            refresh.blacklist()
            raise InvalidToken("Token is invalid or expired.")
        return super().validate(attrs)


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField()


class CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class ResendInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=["email", "phone"])


class ProfileInput(serializers.Serializer):
    first_name = serializers.CharField(max_length=60, required=False)
    last_name = serializers.CharField(max_length=60, required=False)
    email = serializers.EmailField(max_length=254, required=False)
    phone = PhoneField(max_length=32, required=False, allow_null=True, allow_blank=True)
    bio = serializers.CharField(max_length=500, required=False, allow_blank=True)
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True
    )
    avatar = serializers.FileField(required=False, allow_null=True, allow_empty_file=True)

    def validate_email(self, value: str) -> str:
        return check_email_free(value, exclude=self.context["user"])

    def validate_phone(self, value: str | None) -> str | None:
        return check_phone_free(value, exclude=self.context["user"])


class PasswordResetInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    code = serializers.CharField(max_length=12)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class BlockInput(serializers.Serializer):
    user = serializers.CharField(max_length=64)


