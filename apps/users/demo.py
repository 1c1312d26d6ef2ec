"""Demo accounts for the local profile; their logins are printed in the README."""

from __future__ import annotations

import os

from django.db import transaction

from apps.locations.models import Location
from apps.users.models import User

DEMO_PASSWORD = "demo-pass-2025"  # noqa: S105  (local demo data only, printed in the README)
STAFF_EMAIL = "admin@marketplace.local"
SELLERS = [
    ("amani@demo.marketplace.local", "Amani", "Wanjiru", "+254712000001", "westlands"),
    ("baraka@demo.marketplace.local", "Baraka", "Otieno", "+254712000002", "kisumu-kisumu"),
    ("chebet@demo.marketplace.local", "Chebet", "Kiprop", "+254712000003", "eldoret"),
    ("dalia@demo.marketplace.local", "Dalia", "Hassan", "+254712000004", "nyali"),
]


@transaction.atomic
def seed_users() -> list[User]:
    password = os.environ.get("DEMO_PASSWORD", DEMO_PASSWORD)
    if not User.objects.filter(email=STAFF_EMAIL).exists():
        User.objects.create_superuser(STAFF_EMAIL, password, first_name="Staff",
                                      last_name="Admin")
    sellers = []
    for email, first, last, phone, location_slug in SELLERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, password, first_name=first, last_name=last, phone=phone,
                email_verified=True, phone_verified=True,
                location=Location.objects.filter(slug=location_slug).first(),
            )
        sellers.append(user)
    return sellers
