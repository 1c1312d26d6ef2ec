from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.payments import selectors
from apps.payments.models import Promotion, Tier


class PlanOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    duration_days = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class PaymentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    ad = serializers.UUIDField(source="ad_id")
    plan = serializers.CharField(source="plan.code")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    provider = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class BoostInput(serializers.Serializer):
    plan = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class BoostOutput(serializers.Serializer):
    payment = PaymentOutput()


class SellerPromotionAdOutput(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    title = serializers.CharField()


class SellerPromotionOutput(serializers.Serializer):
    """A promotion in the seller's list; `remaining_seconds` comes from the view's `now`."""

    ad = SellerPromotionAdOutput()
    tier = serializers.ChoiceField(choices=Tier.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    remaining_seconds = serializers.SerializerMethodField(
        help_text=("Promoted seconds still to come: from now (or `starts_at`, for a promotion "
                   "queued behind another) to `ends_at`; 0 once it ended, was refunded or "
                   "stopped with its ad."),
    )
    payment = serializers.UUIDField(source="payment_id")

    @extend_schema_field(serializers.IntegerField(min_value=0))
    def get_remaining_seconds(self, promotion: Promotion) -> int:
        return selectors.remaining_seconds(promotion, now=self.context["now"])


class PromotionListQuery(serializers.Serializer):
    all = serializers.ChoiceField(
        choices=["true", "false"], default="false", required=False,
        help_text="`true` adds the promotions that ended (or stopped with their ad).",
    )
