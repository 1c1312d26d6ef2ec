"""Mass assignment (OWASP API3 2023): every writable endpoint, sent read-only and privileged
fields next to a valid change. The request succeeds or answers 400, and the privileged fields
are unchanged in the database (API.md section 1: unknown and read-only fields are ignored)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from apps.ads.models import Ad, AdImage, Favorite
from apps.categories.models import Category
from apps.chat.models import Conversation, Message
from apps.moderation.models import Report, Review
from apps.payments.models import Payment
from apps.search.models import SavedSearch
from apps.users.models import User
from conftest import bearer_client
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

PAST = "2001-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


def ok_or_400(response: Any) -> None:
    assert response.status_code < 300 or response.status_code == 400, response.content


def privileged_ad_fields(w: World) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "slug": "hijacked-slug",
        "owner": str(w.stranger.pk),
        "owner_id": str(w.stranger.pk),
        "status": "sold",
        "views_count": 9999,
        "favorites_count": 9999,
        "phone_reveals_count": 9999,
        "promotion": "vip",
        "promotion_tier": 3,
        "promotion_until": FUTURE,
        "published_at": PAST,
        "expires_at": FUTURE,
        "moderation_reason": None,
        "deleted_at": PAST,
        "is_featured": True,
    }


def test_new_ad_ignores_owner_counters_promotion_and_dates(world: World) -> None:
    body = {
        "title": "Nokia 3310 classic",
        "description": "Works, long battery.",
        "category": world.category.pk,
        "location": world.location.pk,
        "price": "3000.00",
        **privileged_ad_fields(world),
    }
    body.pop("status")  # `status` on create is covered below (a 400 or ignored)

    response = bearer_client(world.owner).post("/api/ads/", body, format="json")

    assert response.status_code == 201, response.content
    ad = Ad.objects.get(title="Nokia 3310 classic")
    assert ad.owner_id == world.owner.pk
    assert str(ad.pk) != body["id"] and ad.slug != "hijacked-slug"
    assert (ad.views_count, ad.favorites_count, ad.phone_reveals_count) == (0, 0, 0)
    assert ad.promotion_tier == 0 and ad.promotion_until is None
    assert ad.deleted_at is None
    assert ad.published_at is None or ad.published_at.year > 2001
    assert ad.expires_at is None or ad.expires_at.year < 2099


@pytest.mark.parametrize("status", ["active", "sold", "hidden"])
def test_new_ad_cannot_choose_its_status(world: World, status: str) -> None:
    body = {
        "title": "Nokia 3310 classic",
        "category": world.category.pk,
        "price": "3000.00",
        "location": world.location.pk,
        "status": status,
        "draft": True,
    }

    response = bearer_client(world.owner).post("/api/ads/", body, format="json")

    ok_or_400(response)
    ad = Ad.objects.filter(title="Nokia 3310 classic").first()
    assert ad is None or ad.status == "draft"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_ad_edit_ignores_privileged_fields(world: World, method: str) -> None:
    before = Ad.objects.filter(pk=world.ad.pk).values().get()
    body = {
        "title": "Samsung Galaxy A54 256GB",
        "description": "Upgraded storage.",
        "category": world.category.pk,
        "location": world.location.pk,
        "price": "26000.00",
        **privileged_ad_fields(world),
    }
    body.pop("status")

    response = getattr(bearer_client(world.owner), method)(
        f"/api/ads/{world.ad.slug}/", body, format="json"
    )

    assert response.status_code == 200, response.content
    after = Ad.objects.filter(pk=world.ad.pk).values().get()
    assert after["title"] == "Samsung Galaxy A54 256GB"  # the real change went through
    for name in (
        "id",
        "slug",
        "owner_id",
        "status",
        "views_count",
        "favorites_count",
        "phone_reveals_count",
        "promotion_tier",
        "promotion_until",
        "published_at",
        "expires_at",
        "deleted_at",
        "moderation_reason",
    ):
        assert after[name] == before[name], name


@pytest.mark.parametrize("status", ["hidden", "pending", "rejected", "expired"])
def test_owner_cannot_move_an_ad_to_a_staff_or_system_status(world: World, status: str) -> None:
    response = bearer_client(world.owner).patch(
        f"/api/ads/{world.ad.slug}/", {"status": status}, format="json"
    )

    assert response.status_code in (400, 409), response.content
    assert Ad.objects.get(pk=world.ad.pk).status == "active"


def test_image_reorder_cannot_move_the_image_to_another_ad(world: World) -> None:
    response = bearer_client(world.owner).patch(
        f"/api/ads/{world.ad.slug}/images/{world.image.pk}/",
        {"order": 2, "ad": str(world.buyer_ad.pk), "id": 999, "width": 1, "height": 1},
        format="json",
    )

    ok_or_400(response)
    image = AdImage.objects.get(pk=world.image.pk)
    assert image.ad_id == world.ad.pk
    assert (image.width, image.height) == (world.image.width, world.image.height)


PRIVILEGED_USER_FIELDS = {
    "is_staff": True,
    "is_superuser": True,
    "is_active": True,
    "is_suspended": False,
    "email_verified": True,
    "phone_verified": True,
    "rating_count": 500,
    "rating_total": 2500,
    "active_ads_count": 77,
    "id": str(uuid.uuid4()),
    "date_joined": PAST,
    "password": "x",
    "response_rate": 1.0,
    "median_response_minutes": 1,
}


def user_state(user: User) -> dict[str, Any]:
    row = User.objects.filter(pk=user.pk).values().get()
    return {
        k: v for k, v in row.items() if k not in {"first_name", "last_name", "bio", "last_login"}
    }


@pytest.mark.parametrize("method", ["put", "patch"])
def test_profile_update_cannot_grant_staff_or_verification(world: World, method: str) -> None:
    stranger = world.stranger
    User.objects.filter(pk=stranger.pk).update(email_verified=False)
    before = user_state(stranger)

    response = getattr(bearer_client(stranger), method)(
        "/api/users/profile/", {"first_name": "Renamed", **PRIVILEGED_USER_FIELDS}, format="json"
    )

    ok_or_400(response)
    assert user_state(stranger) == before
    assert User.objects.get(pk=stranger.pk).first_name == (
        "Renamed" if response.status_code == 200 else stranger.first_name
    )


def test_registration_cannot_grant_staff_or_verification(db: Any) -> None:
    from conftest import CommittingAPIClient

    response = CommittingAPIClient().post(
        "/api/users/register/",
        {
            **PRIVILEGED_USER_FIELDS,
            "email": "mallory@example.com",
            "password": "a long passphrase 9",
            "first_name": "Mallory",
            "last_name": "Evil",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    user = User.objects.get(email="mallory@example.com")
    assert not (
        user.is_staff
        or user.is_superuser
        or user.email_verified
        or user.phone_verified
        or user.is_suspended
    )
    assert (user.rating_count, user.active_ads_count) == (0, 0)
    assert user.check_password("a long passphrase 9")


def test_saved_search_belongs_to_the_caller(world: World) -> None:
    response = bearer_client(world.stranger).post(
        "/api/ads/saved-searches/",
        {
            "name": "Mine",
            "q": "nokia",
            "user": str(world.owner.pk),
            "id": 1,
            "last_checked_at": FUTURE,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    saved = SavedSearch.objects.get(name="Mine")
    assert saved.user_id == world.stranger.pk
    assert saved.last_checked_at is None or saved.last_checked_at.year < 2099


def test_favorite_belongs_to_the_caller(world: World) -> None:
    response = bearer_client(world.stranger).post(
        "/api/ads/favorites/", {"ad": str(world.ad.pk), "user": str(world.owner.pk)}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Favorite.objects.filter(ad=world.ad, user=world.stranger).exists()
    assert not Favorite.objects.filter(ad=world.ad, user=world.owner).exists()


def test_report_is_filed_open_by_the_caller(world: World) -> None:
    response = bearer_client(world.stranger).post(
        "/api/moderation/reports/",
        {
            "target_type": "ad",
            "target_id": str(world.ad.pk),
            "reason": "spam",
            "status": "resolved",
            "action": "suspend_user",
            "reporter": str(world.owner.pk),
            "resolved_by": str(world.staff.pk),
            "resolution_note": "done",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    report = Report.objects.get(reporter=world.stranger)
    assert (report.status, report.action, report.resolved_by_id) == ("open", "none", None)
    assert report.resolution_note == ""
    assert not User.objects.get(pk=world.owner.pk).is_suspended


def test_staff_resolving_a_report_cannot_rewrite_its_target(world: World) -> None:
    response = bearer_client(world.staff).patch(
        f"/api/moderation/reports/{world.report.pk}/",
        {
            "status": "dismissed",
            "target_id": str(world.ad.pk),
            "target_type": "user",
            "reporter": str(world.stranger.pk),
            "reason": "other",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    report = Report.objects.get(pk=world.report.pk)
    assert report.status == "dismissed"
    assert (report.target_type, report.target_id, report.reporter_id, report.reason) == (
        "ad",
        str(world.buyer_ad.pk),
        world.owner.pk,
        "scam",
    )


def test_review_edit_cannot_move_it_or_forge_a_reply(world: World) -> None:
    review = world.review_by_owner
    response = bearer_client(world.owner).patch(
        f"/api/moderation/reviews/{review.pk}/",
        {
            "rating": 2,
            "seller": str(world.stranger.pk),
            "reviewer": str(world.buyer.pk),
            "ad": str(world.ad.pk),
            "reply": {"body": "forged"},
            "reply_body": "forged",
            "created_at": PAST,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    after = Review.objects.get(pk=review.pk)
    assert after.rating == 2
    assert (after.seller_id, after.reviewer_id, after.ad_id) == (
        world.buyer.pk,
        world.owner.pk,
        None,
    )
    assert after.reply_body == "" and after.replied_at is None
    assert after.created_at == review.created_at


def test_new_review_is_written_by_the_caller(world: World) -> None:
    response = bearer_client(world.buyer).post(
        "/api/moderation/reviews/",
        {
            "seller": str(world.owner.pk),
            "rating": 5,
            "comment": "Second time, still good.",
            "reviewer": str(world.stranger.pk),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Review.objects.get(pk=response.json()["id"]).reviewer_id == world.buyer.pk
    assert not Review.objects.filter(reviewer=world.stranger).exists()


def test_conversation_and_message_belong_to_the_caller(world: World) -> None:
    client = bearer_client(world.stranger)
    started = client.post(
        "/api/messages/conversations/",
        {
            "ad": str(world.ad.pk),
            "message": "Hello",
            "buyer": str(world.buyer.pk),
            "seller": str(world.stranger.pk),
        },
        format="json",
    )
    assert started.status_code == 201, started.content
    conversation = Conversation.objects.get(pk=started.json()["id"])
    assert (conversation.buyer_id, conversation.seller_id) == (world.stranger.pk, world.owner.pk)

    sent = client.post(
        f"/api/messages/{conversation.pk}/",
        {
            "body": "Are you there?",
            "sender": str(world.owner.pk),
            "read_at": PAST,
            "conversation": str(world.conversation.pk),
        },
        format="json",
    )

    assert sent.status_code == 201, sent.content
    message = Message.objects.get(pk=sent.json()["id"])
    assert (message.sender_id, message.conversation_id, message.read_at) == (
        world.stranger.pk,
        conversation.pk,
        None,
    )
    assert Message.objects.filter(conversation=world.conversation).count() == 1


def test_boost_charges_the_plan_price_to_the_caller(world: World) -> None:
    response = bearer_client(world.owner).post(
        f"/api/ads/{world.ad.slug}/boost/",
        {
            "plan": world.plan.code,
            "amount": "1.00",
            "currency": "USD",
            "status": "succeeded",
            "user": str(world.stranger.pk),
            "provider": "free",
        },
        format="json",
    )

    assert response.status_code == 202, response.content
    payment = Payment.objects.get(pk=response.json()["payment"]["id"])
    assert (payment.user_id, payment.amount, payment.currency) == (
        world.owner.pk,
        world.plan.price,
        "KES",
    )
    assert payment.provider == "sandbox"
    # settled by the provider's (signed) callback, never by the request's "status"
    assert payment.events.order_by("pk").values_list("source", flat=True).first() == "boost"


def test_category_update_keeps_derived_fields(world: World) -> None:
    spare = world.spare_category
    response = bearer_client(world.staff).put(
        f"/api/categories/admin/{spare.slug}/update/",
        {
            "name": "Spare Parts",
            "ad_count": 999,
            "path": "/1/",
            "depth": 9,
            "slug": "hijack",
            "id": 12345,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    after = Category.all_objects.get(pk=spare.pk)
    assert after.name == "Spare Parts"
    assert after.ad_count == 0 and after.depth == spare.depth and after.path == spare.path
