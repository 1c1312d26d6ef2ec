"""Fixtures for the trust-and-safety suite: a small catalogue, people, ads made through the
ads services, conversations and reports made through their own services."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.test import TestCase

pytest.register_assert_rewrite("apps.moderation.tests.helpers")

from apps.ads import services as ad_services  # noqa: E402
from apps.ads.models import Ad  # noqa: E402
from apps.ads.tests.factories import make_ad, make_location  # noqa: E402
from apps.categories.tests.factories import make_category  # noqa: E402
from apps.chat import services as chat_services  # noqa: E402
from apps.chat.models import Conversation, Message  # noqa: E402
from apps.users.models import User  # noqa: E402

DEFAULT_WORDS = importlib.import_module("apps.moderation.migrations.0002_default_banned_words")


@pytest.fixture(autouse=True)
def default_banned_words(request: pytest.FixtureRequest) -> None:
    """The staff list as migration 0002 leaves it. A transactional test (live server, sockets)
    flushes every table when it ends, and a reused test database keeps that state, so the
    words are put back (idempotently, by the migration's own function) for each test."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    DEFAULT_WORDS.add(django_apps, None)


@pytest.fixture
def catalog(db: Any) -> SimpleNamespace:
    """Electronics > Mobile Phones, Laptops; Vehicles > Cars; Property > Land (KES 50,000 to
    50,000,000 set by staff)."""
    electronics = make_category("Electronics")
    phones = make_category("Mobile Phones", electronics)
    laptops = make_category("Laptops", electronics)
    vehicles = make_category("Vehicles")
    cars = make_category("Cars", vehicles)
    property_ = make_category("Property")
    land = make_category("Land", property_, min_price=Decimal("50000"),
                         max_price=Decimal("50000000"))
    return SimpleNamespace(electronics=electronics, phones=phones, laptops=laptops,
                           vehicles=vehicles, cars=cars, property=property_, land=land)


@pytest.fixture
def place(db: Any) -> Any:
    """Westlands, in Nairobi."""
    return make_location("Westlands", make_location("Nairobi"))


@pytest.fixture
def seller(make_user: Any) -> User:
    return make_user(first_name="Amani", last_name="Wanjiru")


@pytest.fixture
def buyer(make_user: Any) -> User:
    return make_user(first_name="Baraka", last_name="Otieno")


@pytest.fixture
def stranger(make_user: Any) -> User:
    return make_user(first_name="Chebet", last_name="Korir")


@pytest.fixture
def moderator(make_user: Any) -> User:
    return make_user(first_name="Mercy", last_name="Moderator", is_staff=True)


@pytest.fixture
def active_ad(catalog: SimpleNamespace) -> Callable[..., Ad]:
    """active_ad(owner, **fields): an active ad walked through the ads services."""

    def make(owner: User, category: Any = None, **fields: Any) -> Ad:
        return make_ad(owner=owner, category=category or catalog.phones, **fields)

    return make


@pytest.fixture
def published_ad(catalog: SimpleNamespace) -> Callable[..., Ad]:
    """published_ad(owner, **fields): an ad posted for real (create_ad, then the moderation
    task run by the commit); works in transactional tests too, where on_commit hooks fire."""

    def make(owner: User, category: Any = None, **fields: Any) -> Ad:
        fields.setdefault("title", "Samsung Galaxy A54 128GB")
        fields.setdefault("description", "Barely used, with box and charger.")
        fields.setdefault("price", Decimal("38500"))
        with TestCase.captureOnCommitCallbacks(execute=True):
            ad = ad_services.create_ad(owner=owner, category=category or catalog.phones,
                                       **fields)
        ad.refresh_from_db()
        return ad

    return make


@pytest.fixture
def ad_in(catalog: SimpleNamespace) -> Callable[..., Ad]:
    """ad_in(status, owner, **fields): an ad in any status, through the ads services."""

    def make(status: str, owner: User, category: Any = None, **fields: Any) -> Ad:
        return make_ad(owner=owner, category=category or catalog.phones, status=status,
                       **fields)

    return make


@pytest.fixture
def converse() -> Callable[..., Conversation]:
    """converse(buyer, ad): the buyer's conversation about the ad (started through the chat
    service; its socket and email side effects are dropped)."""

    def start(buyer: User, ad: Ad, body: str = "Is it still available?") -> Conversation:
        with TestCase.captureOnCommitCallbacks(execute=False):
            conversation, _, _ = chat_services.start_conversation(buyer=buyer, ad_id=ad.pk,
                                                                  body=body)
        return conversation

    return start


@pytest.fixture
def say() -> Callable[..., Message]:
    def send(sender: User, conversation: Conversation, body: str) -> Message:
        with TestCase.captureOnCommitCallbacks(execute=False):
            return chat_services.send_message(sender=sender, conversation=conversation,
                                              body=body).message

    return send
