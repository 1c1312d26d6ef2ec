"""One small marketplace for the security suites (fuzzing, authorisation matrix, abuse caps).

Every row is made through the apps' own services, as a client's requests would make it:

- `owner` owns an active ad (with a photo), a pending ad (in the moderation queue), a saved
  search, a favourite (on the buyer's ad), a report (on the buyer's ad), a payment (a boost of
  the active ad), a review of the buyer and a block on `pest`;
- `buyer` started a conversation on the owner's ad (so the owner takes part in it as seller)
  and reviewed the owner;
- `stranger` owns nothing and takes part in nothing ("another user" in the matrix);
- `staff` is a moderator.

On-commit side effects of the set-up (moderation, sockets, emails) are dropped: the world is
in a known state when the first request arrives.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdImage, AdStatus
from apps.ads.status import Actor
from apps.categories import services as category_services
from apps.categories.models import Category
from apps.chat import services as chat_services
from apps.chat.models import Conversation, Message
from apps.locations import services as location_services
from apps.locations.models import Location
from apps.moderation import services as moderation_services
from apps.moderation.models import Report, Review
from apps.payments.models import Payment, Plan
from apps.payments.services import start_boost
from apps.search import services as search_services
from apps.search.models import SavedSearch
from apps.users import services as user_services
from apps.users.models import User

PASSWORD = "a-long-demo-passphrase"
_numbers = itertools.count(1)


@dataclass
class World:
    owner: User
    buyer: User
    stranger: User
    staff: User
    pest: User
    category: Category
    parent_category: Category
    spare_category: Category
    location: Location
    ad: Ad
    image: AdImage
    pending_ad: Ad
    buyer_ad: Ad
    conversation: Conversation
    message: Message
    saved_search: SavedSearch
    report: Report
    review_by_owner: Review
    review_of_owner: Review
    payment: Payment
    plan: Plan
    tokens: dict[str, str] = field(default_factory=dict)  # filled by the suites that need them

    def user(self, role: str) -> User | None:
        return None if role == "anon" else getattr(self, role)


def make_user(**fields: Any) -> User:
    n = next(_numbers)
    fields.setdefault("email", f"world{n}-{fields.get('first_name', 'u').lower()}@example.com")
    fields.setdefault("email_verified", True)
    return User.objects.create_user(password=PASSWORD, **fields)


def jpeg_upload() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 60)).save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def active_ad(owner: User, category: Category, location: Location, title: str) -> Ad:
    ad = ad_services.create_ad(
        owner=owner,
        draft=False,
        category=category,
        location=location,
        title=title,
        description=f"{title}, well kept, with box.",
        price=Decimal("25000.00"),
    )
    ad.refresh_from_db()
    if ad.status != AdStatus.ACTIVE:
        ad = ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.SYSTEM)
    ad.refresh_from_db()
    return ad


def build_world() -> World:
    n = next(_numbers)
    with TestCase.captureOnCommitCallbacks(execute=False):
        owner = make_user(
            first_name="Owner", last_name="Amani", phone=f"+2547120{n:05d}", phone_verified=True
        )
        buyer = make_user(first_name="Buyer", last_name="Baraka", phone=f"+2547220{n:05d}")
        stranger = make_user(first_name="Stranger", last_name="Chebet")
        staff = make_user(first_name="Staff", last_name="Mercy", is_staff=True)
        pest = make_user(first_name="Pest", last_name="Dalia")
        parent = category_services.create_category(actor=None, name=f"Electronics {n}")
        category = category_services.create_category(actor=None, name=f"Phones {n}", parent=parent)
        spare = category_services.create_category(actor=None, name=f"Spare {n}")
        location = location_services.ensure_location(name=f"Westlands {n}", parent=None)
        ad = active_ad(owner, category, location, "Samsung Galaxy A54 128GB")
        image = ad_services.add_image(ad=ad, upload=jpeg_upload(), by=owner)
        pending = ad_services.create_ad(
            owner=owner,
            draft=True,
            category=category,
            title="Tecno Spark 20 Pro",
            price=Decimal("15000"),
            description="Brand new, sealed in its box.",
        )
        pending = ad_services.change_ad_status(
            ad_id=pending.pk, to=AdStatus.PENDING, actor=Actor.OWNER, by=owner, moderate=False
        )
        buyer_ad = active_ad(buyer, category, location, "Apple iPhone 12 64GB")
        conversation, sent, _ = chat_services.start_conversation(
            buyer=buyer, ad_id=ad.pk, body="Is it still available?"
        )
        ad_services.add_favorite(user=owner, ad=buyer_ad)
        saved = search_services.create_saved_search(
            user=owner, name="Phones", q="samsung", filters={}
        )
        report = moderation_services.create_report(
            reporter=owner,
            target_type="ad",
            target_id=str(buyer_ad.pk),
            reason="scam",
            details="Asks for payment up front.",
        )
        review_by_owner = moderation_services.create_review(
            reviewer=owner, seller_id=buyer.pk, ad_id=None, rating=5, comment="Quick reply."
        )
        review_of_owner = moderation_services.create_review(
            reviewer=buyer, seller_id=owner.pk, ad_id=ad.pk, rating=4, comment="Good phone."
        )
        user_services.block_user(blocker=owner, blocked_id=pest.pk)
        plan = Plan.objects.create(
            code=f"boost-7-{n}",
            name="Boost, 7 days",
            tier="boost",
            duration_days=7,
            price=Decimal("299.00"),
            currency="KES",
        )
        payment = start_boost(user=owner, ad=ad, plan_code=plan.code)
    return World(
        owner=owner,
        buyer=buyer,
        stranger=stranger,
        staff=staff,
        pest=pest,
        category=category,
        parent_category=parent,
        spare_category=spare,
        location=location,
        ad=Ad.objects.get(pk=ad.pk),
        image=image,
        pending_ad=pending,
        buyer_ad=buyer_ad,
        conversation=conversation,
        message=sent.message,
        saved_search=saved,
        report=report,
        review_by_owner=review_by_owner,
        review_of_owner=review_of_owner,
        payment=payment,
        plan=plan,
    )


def access_token(user: User) -> str:
    return user_services.issue_tokens(user=user).access
