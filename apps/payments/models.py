"""Promotion plans, payments with their ledger, and the promotions payments bought.

Money is Decimal with two places, never float; a payment keeps the plan's price and currency
at purchase.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.common.models import TimeStampedModel


class Tier(models.TextChoices):
    BOOST = "boost"
    FEATURED = "featured"
    VIP = "vip"


TIER_RANK: dict[str, int] = {Tier.BOOST: 1, Tier.FEATURED: 2, Tier.VIP: 3}


class Plan(TimeStampedModel):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    tier = models.CharField(max_length=10, choices=Tier.choices)
    duration_days = models.PositiveSmallIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="KES")
    is_active = models.BooleanField(default=True)
    # Empty: offered in every category; else only in these (and their descendants).
    categories = models.ManyToManyField("categories.Category", blank=True, related_name="+")

    class Meta:
        ordering = ["price", "code"]

    def __str__(self) -> str:
        return self.code


class PaymentStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class Payment(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="payments")
    ad = models.ForeignKey("ads.Ad", on_delete=models.PROTECT, related_name="payments")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices,
                              default=PaymentStatus.PENDING)
    phone = models.CharField(max_length=20, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True, db_index=True)
    receipt = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(models.F("user"), models.F("created_at").desc(),
                         name="payment_user_idx"),
            models.Index(fields=["status", "created_at"], name="payment_pending_idx",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} for {self.ad_id}: {self.status}"


class PaymentEvent(models.Model):
    """The ledger: every state change of a payment and what caused it."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    source = models.CharField(max_length=30)  # "boost", "callback:mpesa", "status_query"...
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.from_status} -> {self.to_status}"


class Promotion(models.Model):
    """What one successful payment bought; unique per payment, so it applies once."""

    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="promotion")
    ad = models.ForeignKey("ads.Ad", on_delete=models.CASCADE, related_name="promotions")
    tier = models.CharField(max_length=10, choices=Tier.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ad", "ends_at"], name="promotion_ad_idx")]

    def __str__(self) -> str:
        return f"{self.tier} on {self.ad_id} until {self.ends_at:%Y-%m-%d}"
