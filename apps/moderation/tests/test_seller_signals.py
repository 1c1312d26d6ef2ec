"""Verified-seller signals on the public profile (issue 7, additions to API.md section 3):
`response_rate` and `median_response_minutes`, computed nightly into the user row by
apps.moderation.tasks.refresh_seller_response_stats, never per request."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from apps.chat.models import Conversation, Message
from apps.moderation import services, tasks
from apps.moderation.tests.helpers import PUBLIC_PROFILE_KEYS, public_profile
from apps.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def ad(active_ad: Any, seller: User) -> Any:
    return active_ad(seller, title="Toyota Fielder 2015 silver")


@pytest.fixture
def talk(make_user: Any, converse: Any, say: Any, now: datetime) -> Any:
    """talk(ad, days_ago=1, answer=None, buyer=None): a buyer writes about the ad `days_ago`
    days ago; the seller answers `answer` minutes later (None: never). Returns the
    conversation."""

    def start(ad: Any, days_ago: float = 1, answer: float | None = None,
              buyer: User | None = None) -> Conversation:
        asked_at = now - timedelta(days=days_ago)
        conversation = converse(buyer or make_user(), ad, "Is it still available?")
        Conversation.objects.filter(pk=conversation.pk).update(created_at=asked_at)
        Message.objects.filter(conversation=conversation).update(created_at=asked_at)
        # The buyer's follow-up is no answer.
        follow_up = say(conversation.buyer, conversation, "Hello?")
        Message.objects.filter(pk=follow_up.pk).update(created_at=asked_at
                                                       + timedelta(minutes=1))
        if answer is not None:
            reply = say(ad.owner, conversation, "Yes, still available.")
            Message.objects.filter(pk=reply.pk).update(
                created_at=asked_at + timedelta(minutes=answer))
            later = say(ad.owner, conversation, "Come and see it.")
            Message.objects.filter(pk=later.pk).update(
                created_at=asked_at + timedelta(minutes=answer + 300))
        return conversation

    return start


def figures(user: User) -> tuple[float | None, int | None]:
    fresh = User.objects.get(pk=user.pk)
    return fresh.response_rate, fresh.median_response_minutes


def test_rate_and_median_over_the_sellers_conversations(talk, ad, seller, now, api):
    talk(ad, answer=10)
    talk(ad, answer=20, days_ago=30)
    talk(ad, answer=90, days_ago=89)
    talk(ad, answer=None)

    changed = services.refresh_seller_response_stats(now=now)

    assert figures(seller) == (0.75, 20)
    assert changed >= 1
    profile = api.get(public_profile(seller.pk)).json()
    assert set(profile) == PUBLIC_PROFILE_KEYS
    assert (profile["response_rate"], profile["median_response_minutes"]) == (0.75, 20)


def test_the_median_of_an_even_count_rounds_to_the_nearest_minute(talk, ad, seller, now):
    talk(ad, answer=10)
    talk(ad, answer=25)  # median 17.5 minutes

    services.refresh_seller_response_stats(now=now)

    assert figures(seller) == (1.0, 18)


def test_a_fast_answer_counts_in_minutes(talk, ad, seller, now):
    talk(ad, answer=0.2)

    services.refresh_seller_response_stats(now=now)

    assert figures(seller) == (1.0, 0)


def test_rates_have_two_decimals(talk, ad, seller, now):
    talk(ad, answer=5)
    talk(ad)
    talk(ad)

    services.refresh_seller_response_stats(now=now)

    assert figures(seller) == (0.33, 5)


def test_no_answers_is_rate_zero_and_median_null(talk, ad, seller, now, api):
    talk(ad)
    talk(ad)

    services.refresh_seller_response_stats(now=now)

    assert figures(seller) == (0.0, None)
    profile = api.get(public_profile(seller.pk)).json()
    assert (profile["response_rate"], profile["median_response_minutes"]) == (0.0, None)


def test_without_conversations_both_are_null(seller, buyer, now, api):
    services.refresh_seller_response_stats(now=now)

    for user in (seller, buyer):
        profile = api.get(public_profile(user.pk)).json()
        assert (profile["response_rate"], profile["median_response_minutes"]) == (None, None)


def test_only_the_last_90_days_count(talk, ad, seller, now, settings):
    talk(ad, answer=10, days_ago=91)
    talk(ad, days_ago=120)

    services.refresh_seller_response_stats(now=now)
    assert figures(seller) == (None, None)

    settings.SELLER_RESPONSE_DAYS = 180
    services.refresh_seller_response_stats(now=now)
    assert figures(seller) == (0.5, 10)


def test_only_conversations_as_the_seller_count(talk, ad, seller, buyer, active_ad, now):
    """The seller also asked about someone else's ad and never got an answer: that is the
    other seller's figure, not theirs."""
    other_ad = active_ad(buyer, title="Mazda Demio 2014")
    talk(other_ad, buyer=seller)
    talk(ad, answer=15)

    services.refresh_seller_response_stats(now=now)

    assert figures(seller) == (1.0, 15)
    assert figures(buyer) == (0.0, None)


def test_conversations_aged_out_clear_the_figures_and_unchanged_rows_are_not_rewritten(
        talk, ad, seller, now):
    talk(ad, answer=10, days_ago=85)
    services.refresh_seller_response_stats(now=now)
    assert figures(seller) == (1.0, 10)

    assert services.refresh_seller_response_stats(now=now) == 0  # nothing new: no writes

    assert services.refresh_seller_response_stats(now=now + timedelta(days=6)) == 1
    assert figures(seller) == (None, None)


def test_the_nightly_task_runs_the_refresh(talk, ad, seller):
    talk(ad, answer=30)

    assert tasks.refresh_seller_response_stats.apply().get() == 1
    assert figures(seller) == (1.0, 30)


def test_it_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-seller-response-stats"]

    assert entry["task"] == "apps.moderation.tasks.refresh_seller_response_stats"
    assert entry["task"] == tasks.refresh_seller_response_stats.name


def test_the_figures_show_wherever_the_public_profile_does(talk, ad, seller, now, client_for,
                                                           api, buyer):
    talk(ad, answer=12)
    services.refresh_seller_response_stats(now=now)

    owner = api.get("/api/ads/").json()["results"][0]["owner"]
    own = client_for(seller).get("/api/users/profile/").json()
    for shape in (owner, own):
        assert (shape["response_rate"], shape["median_response_minutes"]) == (1.0, 12)


def test_a_profile_costs_one_query_whatever_the_figures(talk, ad, seller, now, api,
                                                        django_assert_num_queries):
    for n in range(5):
        talk(ad, answer=n * 10 if n % 2 else None)
    services.refresh_seller_response_stats(now=now)

    with django_assert_num_queries(1):
        response = api.get(public_profile(seller.pk))

    assert response.json()["response_rate"] == 0.4


def test_the_fields_are_documented():
    schema = Client().get("/api/schema/").json()
    profile = schema["components"]["schemas"]["PublicProfileOutput"]["properties"]

    for name in ("response_rate", "median_response_minutes"):
        assert profile[name].get("nullable") is True
        assert profile[name].get("description")
