"""Fixtures for the chat suite: a seller with an active ad, a buyer, a stranger."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdImage, AdStatus
from apps.ads.status import Actor
from apps.categories import services as category_services
from apps.categories.models import Category
from apps.chat import services
from apps.chat.models import Conversation, Message
from apps.users.api.serializers import PublicProfileOutput
from apps.users.models import User

MESSAGES = "/api/messages/"
CONVERSATIONS = MESSAGES + "conversations/"
UNREAD = MESSAGES + "unread-count/"
TICKET = MESSAGES + "ws-ticket/"

MESSAGE_KEYS = {
    "id",
    "conversation",
    "sender",
    "body",
    "created_at",
    "read_at",
    "client_id",
    "warning",
    "image",
}
CONVERSATION_KEYS = {
    "id",
    "ad",
    "other_party",
    "last_message",
    "unread_count",
    "archived",
    "muted",
    "created_at",
    "updated_at",
}
CONVERSATION_AD_KEYS = {"id", "slug", "title", "price", "currency", "status", "thumbnail_url"}
# other_party is the users app's public profile, whatever fields that one grows (its own suite
# checks them); the chat suite checks that it is that profile and that nothing private leaks.
PUBLIC_PROFILE_KEYS = set(PublicProfileOutput().fields)
PAGE_KEYS = {"count", "next", "previous", "results"}
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"

_numbers = itertools.count(1)


def messages_url(conversation_id: object) -> str:
    return f"{MESSAGES}{conversation_id}/"


def read_url(conversation_id: object) -> str:
    return f"{MESSAGES}{conversation_id}/read/"


def make_active_ad(owner: User, category: Category, **fields: Any) -> Ad:
    """An active ad, walked through the ads services (draft -> pending -> active)."""
    n = next(_numbers)
    fields.setdefault("title", f"Chat sample ad {n}")
    fields.setdefault("description", f"A well kept item for the chat suite, number {n}.")
    fields.setdefault("price", Decimal("2500.00"))
    with TestCase.captureOnCommitCallbacks(execute=False):
        ad = ad_services.create_ad(owner=owner, draft=False, category=category, **fields)
    ad.refresh_from_db()  # outside a test transaction, moderation may already have run
    if ad.status != AdStatus.ACTIVE:
        with TestCase.captureOnCommitCallbacks(execute=False):
            ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.SYSTEM)
        ad.refresh_from_db()
    assert ad.status == AdStatus.ACTIVE
    return ad


def add_photo(ad: Ad, *, thumbnail: bool = False) -> AdImage:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 60)).save(buffer, "JPEG")
    upload = SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")
    with TestCase.captureOnCommitCallbacks(execute=False):
        image = ad_services.add_image(ad=ad, upload=upload, by=ad.owner)
    if thumbnail:
        ad_services.make_thumbnail(image_id=image.pk)
        image.refresh_from_db()
    return image


def set_status(ad: Ad, to: AdStatus, actor: Actor) -> Ad:
    with TestCase.captureOnCommitCallbacks(execute=False):
        return ad_services.change_ad_status(
            ad_id=ad.pk, to=to, actor=actor, by=ad.owner if actor == Actor.OWNER else None
        )


def start(buyer: User, ad: Ad, body: str = "Is it still available?", **kw: Any) -> Conversation:
    """A conversation started through the service (its on-commit side effects are dropped)."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        conversation, _, _ = services.start_conversation(buyer=buyer, ad_id=ad.pk, body=body, **kw)
    return conversation


def say(sender: User, conversation: Conversation, body: str, **kw: Any) -> Message:
    with TestCase.captureOnCommitCallbacks(execute=False):
        return services.send_message(
            sender=sender, conversation=conversation, body=body, **kw
        ).message


def block(blocker: User, blocked: User) -> None:
    from apps.users import services as user_services

    with TestCase.captureOnCommitCallbacks(execute=False):
        user_services.block_user(blocker=blocker, blocked_id=blocked.pk)


def message_rows() -> list[tuple[Any, ...]]:
    return list(
        Message.objects.order_by("id").values_list(
            "id", "conversation_id", "sender_id", "body", "read_at", "client_id"
        )
    )


@pytest.fixture
def category(db: Any) -> Category:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return category_services.create_category(actor=None, name=f"Chat Phones {next(_numbers)}")


@pytest.fixture
def seller(make_user: Any) -> User:
    return make_user(first_name="Amani", last_name="Wanjiru", phone="+254712345678")


@pytest.fixture
def buyer(make_user: Any) -> User:
    return make_user(first_name="Baraka", last_name="Otieno", phone="+254722000111")


@pytest.fixture
def stranger(make_user: Any) -> User:
    return make_user(first_name="Chebet", last_name="Kiprop")


@pytest.fixture
def ad(seller: User, category: Category) -> Ad:
    return make_active_ad(seller, category)


@pytest.fixture
def conversation(buyer: User, ad: Ad) -> Conversation:
    return start(buyer, ad)


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def _fresh_channel_layer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own channel layer object (its receive buffers and loop pools).

    A 1 s blocking receive (channels_redis waits 5 s) lets a closing consumer stop quickly, which
    keeps the suite fast; test_socket.py's idle test restores 5 s to prove idle sockets live."""
    from channels.layers import channel_layers
    from channels_redis.core import RedisChannelLayer

    monkeypatch.setattr(RedisChannelLayer, "brpop_timeout", 1)
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}
