"""Ad shapes (API.md section 6). Output serializers read only what the selectors prefetched."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Exists, Model, OuterRef
from django.utils import timezone
from rest_framework import serializers

from apps.ads.models import Ad, Condition, PromotionTier
from apps.categories.models import Category
from apps.locations.models import Location
from apps.payments.models import Tier
from apps.users.api.serializers import (
    AbsoluteMediaUrlField,
    LocationBriefOutput,
    PublicProfileOutput,
)

TIER_NAMES = {
    PromotionTier.BOOST: "boost",
    PromotionTier.FEATURED: "featured",
    PromotionTier.VIP: "vip",
}


class CategoryBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class ImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = AbsoluteMediaUrlField(source="file")
    thumbnail_url = AbsoluteMediaUrlField(source="thumbnail", allow_null=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    order = serializers.IntegerField()


class PromotionOutput(serializers.Serializer):
    tier = serializers.ChoiceField(choices=["boost", "featured", "vip"])
    until = serializers.DateTimeField()


class AdOutput(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    category = CategoryBriefOutput()
    location = LocationBriefOutput(allow_null=True)
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    negotiable = serializers.BooleanField()
    condition = serializers.CharField(allow_null=True)
    attributes = serializers.DictField()
    show_phone = serializers.BooleanField(help_text="Contact preference (addition to API.md).")
    status = serializers.CharField()
    images = ImageOutput(many=True)
    owner = PublicProfileOutput()
    views_count = serializers.IntegerField()
    favorites_count = serializers.IntegerField()
    is_favorited = serializers.SerializerMethodField()
    promotion = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    moderation_reason = serializers.SerializerMethodField()

    def get_is_favorited(self, ad: Ad) -> bool:
        return ad.pk in self.context.get("favorited_ids", ())

    def get_promotion(self, ad: Ad) -> dict[str, Any] | None:
        if not ad.promotion_tier or ad.promotion_until is None:
            return None
        if ad.promotion_until <= timezone.now():
            return None
        return {
            "tier": TIER_NAMES[PromotionTier(ad.promotion_tier)],
            "until": serializers.DateTimeField().to_representation(ad.promotion_until),
        }

    def get_moderation_reason(self, ad: Ad) -> str | None:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (user.is_staff or ad.owner_id == user.pk):
            return ad.moderation_reason
        return None


class FavoriteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    ad = AdOutput()
    created_at = serializers.DateTimeField()


class AdInput(serializers.Serializer):
    """Writable fields, nothing else (status changes go through their own field on PATCH)."""

    title = serializers.CharField(min_length=5, max_length=120)
    description = serializers.CharField(
        max_length=5000, allow_blank=True, required=False, default=""
    )
    # Read with whether it has (live) subcategories: services.check_category needs no query.
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.annotate(
            has_live_children=Exists(Category.objects.filter(parent=OuterRef("pk")))
        )
    )
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.ChoiceField(choices=["KES"], required=False, default="KES")
    negotiable = serializers.BooleanField(required=False, default=False)
    condition = serializers.ChoiceField(
        choices=Condition.choices, required=False, allow_null=True, default=None
    )
    attributes = serializers.DictField(required=False, default=dict)
    show_phone = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Contact preference (addition to API.md): false keeps the phone hidden.",
    )


class _PrereadPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """PrimaryKeyRelatedField answering from the row its serializer read up front (see
    AdCreateInput.to_internal_value); anything else (a value read differently) goes the
    stock way, with the same messages."""

    def to_internal_value(self, data: Any) -> Any:
        preread = getattr(self.parent, "_preread", {}).get(self.field_name)
        if preread is None or preread[0] is not data:
            return super().to_internal_value(data)
        if preread[1] is None:
            self.fail("does_not_exist", pk_value=data)
        return preread[1]


def _columns(model: type[Model], alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


# The category (live, with whether it has live subcategories and the attribute definitions of
# its lineage: services.check_category and the attribute check need no query of their own) and
# the location, in one statement: what the two PrimaryKeyRelatedFields and the schema read did
# in three. (Column names from the models' meta; the values are parameters.)
_PREREAD_SQL = f"""
    SELECT {_columns(Category, "c")},
        EXISTS(SELECT 1 FROM "categories_category" u
               WHERE u."deleted_at" IS NULL AND u."parent_id" = c."id"),
        (SELECT jsonb_object_agg(a."id"::text, a."attributes") FROM "categories_category" a
         WHERE a."deleted_at" IS NULL AND a."id"::text = ANY(string_to_array(c."path", '/'))),
        {_columns(Location, "l")}
    FROM (VALUES (1)) AS one(x)
    LEFT JOIN "categories_category" c ON c."id" = %s AND c."deleted_at" IS NULL
    LEFT JOIN "locations_location" l ON l."id" = %s
"""  # noqa: S608


def _instance(model: type[Model], values: tuple[Any, ...]) -> Any:
    """A model instance from its concrete columns, as the ORM loads it (None: no row)."""
    if values[0] is None:
        return None
    fields = model._meta.concrete_fields
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def _pk_or_none(model: type[Model], value: Any) -> Any:
    """The lookup value the ORM would use for `pk=value`; None when it would refuse it (a
    bool, a list, text that is no number...), which the stock field then reports."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return model._meta.pk.get_prep_value(value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None


class AdCreateInput(AdInput):
    draft = serializers.BooleanField(required=False, default=False)
    category = _PrereadPrimaryKeyField(queryset=AdInput._declared_fields["category"].queryset)  # type: ignore[attr-defined]
    location = _PrereadPrimaryKeyField(queryset=Location.objects.all())

    def to_internal_value(self, data: Any) -> Any:
        self._preread = self.preread(data)
        return super().to_internal_value(data)

    @staticmethod
    def preread(data: Any) -> dict[str, tuple[Any, Any]]:
        """{field: (the value sent, its row or None)} for the category and location sent as
        pk values; one query (none when neither is)."""
        if not hasattr(data, "get"):
            return {}
        sent = {"category": data.get("category"), "location": data.get("location")}
        keys = {
            "category": _pk_or_none(Category, sent["category"]),
            "location": _pk_or_none(Location, sent["location"]),
        }
        if keys["category"] is None and keys["location"] is None:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(_PREREAD_SQL, [keys["category"], keys["location"]])
            row = cursor.fetchone()
        width = len(Category._meta.concrete_fields)
        category = _instance(Category, row[:width])
        if category is not None:
            category.has_live_children = row[width]
            lineage = json.loads(row[width + 1]) if row[width + 1] else {}
            category.lineage_attributes = {int(pk): value for pk, value in lineage.items()}
        location = _instance(Location, row[width + 2 :])
        rows = {"category": category, "location": location}
        return {name: (sent[name], rows[name]) for name in rows if keys[name] is not None}


class AdUpdateInput(AdInput):
    status = serializers.CharField(required=False, max_length=20)


class ImageInput(serializers.Serializer):
    image = serializers.FileField(allow_empty_file=True)


class ImageOrderInput(serializers.Serializer):
    order = serializers.IntegerField(min_value=0, max_value=1000)


class FavoriteInput(serializers.Serializer):
    ad = serializers.CharField(max_length=64)


class PhoneOutput(serializers.Serializer):
    phone = serializers.CharField(allow_null=True)


# --- the seller's analytics (GET <slug>/stats/) -----------------------------------------------

STATS_MAX_DAYS = 90


class AdStatsQuery(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=STATS_MAX_DAYS,
        default=30,
        required=False,
        help_text="How many UTC days to show, today included (1-90, default 30).",
    )


class AdStatsCountersOutput(serializers.Serializer):
    views = serializers.IntegerField()
    phone_reveals = serializers.IntegerField()
    favorites = serializers.IntegerField(help_text="Net: favourites added minus removed.")
    messages = serializers.IntegerField(help_text="Messages the seller received.")


class AdStatsDayOutput(serializers.Serializer):
    date = serializers.DateField()
    views = serializers.IntegerField()
    phone_reveals = serializers.IntegerField()
    favorites = serializers.IntegerField()
    messages = serializers.IntegerField()
    promoted = serializers.ChoiceField(
        choices=Tier.choices,
        allow_null=True,
        help_text="The highest tier promoting the ad during any part of the day, else null.",
    )


class AdStatsAverageOutput(serializers.Serializer):
    days = serializers.IntegerField(help_text="How many days the averages cover.")
    views = serializers.FloatField()
    phone_reveals = serializers.FloatField()
    favorites = serializers.FloatField()
    messages = serializers.FloatField()


class AdStatsPromotionOutput(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    payment = serializers.UUIDField(source="payment_id")


class AdStatsOutput(serializers.Serializer):
    ad = serializers.UUIDField()
    totals = AdStatsCountersOutput(help_text="Sums over `days`.")
    days = AdStatsDayOutput(many=True)
    promotions = AdStatsPromotionOutput(many=True)
    before_promotion = AdStatsAverageOutput(allow_null=True)
    during_promotion = AdStatsAverageOutput(allow_null=True)
