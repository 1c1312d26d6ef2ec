"""One small marketplace with at least three items in every list a user can page through."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import TestCase

from apps.ads.services import add_favorite
from apps.ads.tests.factories import add_photo, make_ad, make_location
from apps.categories.tests.factories import make_category
from apps.chat import services as chat_services
from apps.moderation import services as moderation_services
from apps.payments import services as payment_services
from apps.payments.tests.helpers import make_payment, make_plan
from apps.search import services as search_services
from apps.users.models import Block


@pytest.fixture
def world(make_user: Any, staff: Any) -> SimpleNamespace:
    vehicles = make_category("Vehicles")
    cars = make_category(
        "Cars",
        vehicles,
        attributes=[
            {"key": "make", "type": "choice", "filterable": True, "choices": ["Toyota", "Mazda"]}
        ],
    )
    electronics = make_category("Electronics")
    phones = make_category("Phones", electronics)
    nairobi = make_location("Nairobi")
    westlands = make_location("Westlands", nairobi)
    mombasa = make_location("Mombasa")
    sellers = [make_user(location=place) for place in (westlands, mombasa, None, nairobi)]
    buyer, buyer2 = make_user(), make_user()
    for _ in range(3):
        Block.objects.create(blocker=buyer, blocked=make_user())
    ads = []
    for n in range(8):
        ad = make_ad(
            owner=sellers[n % 4],
            category=(cars, phones)[n % 2],
            location=(westlands, None, mombasa)[n % 3],
            attributes={"make": "Toyota"} if n % 2 == 0 else {},
        )
        for _ in range(2):
            add_photo(ad)
        ads.append(ad)
    for status in ("draft", "pending", "sold"):
        make_ad(owner=sellers[0], category=phones, status=status)
    for seller in sellers[1:]:  # held for staff (the moderation queue)
        make_ad(owner=seller, category=phones, status="pending", moderation_reason="reported")
    with TestCase.captureOnCommitCallbacks(execute=True):
        for ad in ads[:4]:
            add_favorite(user=buyer, ad=ad)
        conversations = []
        for ad in ads[:4]:
            conversation, _, _ = chat_services.start_conversation(
                buyer=buyer, ad_id=ad.pk, body="Is it still available?"
            )
            chat_services.send_message(
                sender=ad.owner, conversation=conversation, body="Yes it is", announce=False
            )
            chat_services.send_message(
                sender=buyer,
                conversation=conversation,
                body="Great, when can I see it?",
                announce=False,
            )
            conversations.append(conversation)
        chat_services.start_conversation(buyer=buyer2, ad_id=ads[0].pk, body="Hello there")
        chat_services.start_conversation(buyer=buyer2, ad_id=ads[4].pk, body="Hello again")
        for reviewer in (buyer, buyer2):
            moderation_services.create_review(
                reviewer=reviewer,
                seller_id=sellers[0].pk,
                ad_id=ads[0].pk,
                rating=4,
                comment="Honest seller, smooth deal.",
            )
        for ad in ads[:3]:
            moderation_services.create_report(
                reporter=buyer, target_type="ad", target_id=str(ad.pk), reason="spam"
            )
        for n in range(3):
            search_services.create_saved_search(
                user=buyer, name=f"Cars {n}", q="toyota", filters={"category": "cars"}
            )
    plans = [
        make_plan("boost-7", "Boost", "boost", 7, "299.00"),
        make_plan("featured-7", "Featured", "featured", 7, "699.00"),
        make_plan("vip-30", "VIP", "vip", 30, "3999.00"),
    ]
    payments = []
    for ad, plan in zip((ad for ad in ads if ad.owner == sellers[0]), plans, strict=False):
        payment = make_payment(user=sellers[0], ad=ad, plan=plan, status="succeeded")
        payment_services.apply_promotion(payment=payment)
        payments.append(payment)
    payments.append(make_payment(user=sellers[0], ad=ads[0], plan=plans[0]))
    return SimpleNamespace(
        cars=cars,
        phones=phones,
        vehicles=vehicles,
        nairobi=nairobi,
        sellers=sellers,
        buyer=buyer,
        buyer2=buyer2,
        staff=staff,
        ads=ads,
        conversations=conversations,
        payments=payments,
    )
