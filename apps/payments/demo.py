"""Demo promotion plans: each tier for 7 and 30 days (idempotent)."""

from __future__ import annotations

from decimal import Decimal

from apps.payments.models import Plan, Tier

PLANS = [
    ("boost-7", "Boost, 7 days", Tier.BOOST, 7, "299.00"),
    ("boost-30", "Boost, 30 days", Tier.BOOST, 30, "899.00"),
    ("featured-7", "Featured, 7 days", Tier.FEATURED, 7, "699.00"),
    ("featured-30", "Featured, 30 days", Tier.FEATURED, 30, "1999.00"),
    ("vip-7", "VIP, 7 days", Tier.VIP, 7, "1499.00"),
    ("vip-30", "VIP, 30 days", Tier.VIP, 30, "3999.00"),
]


def seed_plans() -> int:
    created = 0
    for code, name, tier, days, price in PLANS:
        _, was_created = Plan.objects.get_or_create(
            code=code, defaults={"name": name, "tier": tier, "duration_days": days,
                                 "price": Decimal(price), "currency": "KES"})
        created += was_created
    return created
