from __future__ import annotations

from rest_framework import serializers

from apps.payments.models import Tier


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
