"""Issue 7's review additions (API.md section 8): the reviewer edits their review within 7 days
(PATCH reviews/<review id>/), the reviewed seller replies once (POST reviews/<review
id>/reply/), `reply` in the review shape, and the ads' text rules applied to review comments
and replies (contact details, banned words -> 400 `invalid`)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.common.models import AuditEntry
from apps.moderation.models import Review
from apps.moderation.tests.helpers import (
    REVIEW_KEYS,
    REVIEWS,
    TIMESTAMP,
    nothing_changes,
    public_profile,
    reply_url,
    review_url,
    reviews_of,
)
from apps.users.models import User
from conftest import error_codes

pytestmark = pytest.mark.django_db

CONTACTS = ["Call me on 0712 345 678", "WhatsApp +254-712-345-678", "amani@example.com",
            "see www.example.co.ke", "https://example.com/shop"]
BANNED = ["He sells bangi too", "Fake ID on request"]


@pytest.fixture
def ad(active_ad: Any, seller: User) -> Any:
    return active_ad(seller, title="Toyota Fielder 2015 silver")


@pytest.fixture
def buyer_client(buyer: User, client_for: Any, ad: Any, converse: Any) -> Any:
    converse(buyer, ad)
    return client_for(buyer)


@pytest.fixture
def seller_client(seller: User, client_for: Any) -> Any:
    return client_for(seller)


@pytest.fixture
def review(buyer_client: Any, seller: User, ad: Any) -> dict[str, Any]:
    response = buyer_client.post(REVIEWS, {"seller": str(seller.pk), "ad": str(ad.pk),
                                           "rating": 4, "comment": "Car as described."})
    assert response.status_code == 201, response.json()
    return dict(response.json())


def summary(user: User) -> tuple[int, int]:
    fresh = User.objects.get(pk=user.pk)
    return fresh.rating_count, fresh.rating_total


def age(review_id: int, **delta: float) -> None:
    Review.objects.filter(pk=review_id).update(created_at=timezone.now() - timedelta(**delta))


# --- the shape --------------------------------------------------------------------------------


def test_a_new_review_has_no_reply(review):
    assert set(review) == REVIEW_KEYS
    assert review["reply"] is None


# --- PATCH reviews/<review id>/ ---------------------------------------------------------------


def test_the_reviewer_edits_rating_and_comment(buyer_client, buyer, review, seller, api):
    assert summary(seller) == (1, 4)

    response = buyer_client.patch(review_url(review["id"]),
                                  {"rating": 2, "comment": "Logbook took a month."})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == REVIEW_KEYS
    assert (body["id"], body["rating"], body["comment"]) == (review["id"], 2,
                                                            "Logbook took a month.")
    assert body["created_at"] == review["created_at"]
    assert summary(seller) == (1, 2)
    profile = api.get(public_profile(seller.pk)).json()
    assert (profile["rating_average"], profile["rating_count"]) == (2.0, 1)
    listed = api.get(reviews_of(seller.pk)).json()
    assert (listed["rating_average"], listed["results"][0]["rating"]) == (2.0, 2)
    entry = AuditEntry.objects.get(action="moderation.review.edited")
    assert entry.actor_id == buyer.pk
    assert entry.data == {"from": {"rating": 4, "comment": "Car as described."},
                          "to": {"rating": 2, "comment": "Logbook took a month."}}


def test_the_summary_moves_by_the_difference_without_a_recount(buyer_client, review, seller,
                                                               make_user, client_for, ad,
                                                               converse):
    other = make_user()
    converse(other, ad)
    client_for(other).post(REVIEWS, {"seller": str(seller.pk), "rating": 5, "comment": "A+"})
    # A drifted total (never recounted) shows the edit only adds the difference.
    User.objects.filter(pk=seller.pk).update(rating_total=100)

    buyer_client.patch(review_url(review["id"]), {"rating": 1})

    assert summary(seller) == (2, 97)


@pytest.mark.parametrize("change", [{"rating": 5}, {"comment": "Great."}, {"comment": ""}])
def test_one_field_at_a_time(buyer_client, review, seller, change):
    body = buyer_client.patch(review_url(review["id"]), change).json()

    expected = {"rating": 4, "comment": "Car as described.", **change}
    assert (body["rating"], body["comment"]) == (expected["rating"], expected["comment"])
    assert summary(seller) == (1, expected["rating"])


def test_no_change_is_200_and_writes_nothing(buyer_client, review):
    with nothing_changes():
        first = buyer_client.patch(review_url(review["id"]), {})
        second = buyer_client.patch(review_url(review["id"]), {"rating": 4,
                                                                "comment": "Car as described."})

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == review


def test_read_only_and_unknown_fields_are_ignored(buyer_client, review, stranger):
    body = buyer_client.patch(review_url(review["id"]), {
        "rating": 3, "seller": str(stranger.pk), "ad": None, "id": 999,
        "created_at": "2020-01-01T00:00:00Z", "reply": {"body": "forged"}}).json()

    assert body["rating"] == 3
    assert (body["id"], body["seller"], body["ad"]) == (review["id"], review["seller"],
                                                       review["ad"])
    assert body["created_at"] == review["created_at"]
    assert body["reply"] is None


def test_anonymous_is_401(api, review):
    with nothing_changes():
        assert api.patch(review_url(review["id"]), {"rating": 1}).status_code == 401


@pytest.mark.parametrize("review_id", ["999999", "garbage", "-1", "1.5", "²", "9" * 30])
def test_an_unknown_review_is_404(buyer_client, review, review_id):
    response = buyer_client.patch(review_url(review_id), {"rating": 1})

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_someone_elses_review_is_403_even_the_sellers(client_for, stranger, seller, review):
    for user in (stranger, seller):
        with nothing_changes():
            response = client_for(user).patch(review_url(review["id"]), {"rating": 1})
        assert response.status_code == 403
        assert error_codes(response) == [("permission_denied", None)]


def test_a_review_of_a_suspended_seller_is_not_visible_so_404(buyer_client, review, seller):
    User.objects.filter(pk=seller.pk).update(is_suspended=True)

    assert buyer_client.patch(review_url(review["id"]), {"rating": 1}).status_code == 404


@pytest.mark.parametrize(("change", "code"), [
    ({"rating": 0}, "invalid"), ({"rating": 6}, "invalid"), ({"rating": "x"}, "invalid"),
    ({"rating": None}, "null"), ({"rating": 4.5}, "invalid"),
    ({"comment": "x" * 2001}, "max_length"), ({"comment": None}, "null"),
])
def test_bad_values_are_400(buyer_client, review, change, code):
    with nothing_changes():
        response = buyer_client.patch(review_url(review["id"]), change)

    assert response.status_code == 400
    assert error_codes(response) == [(code, next(iter(change)))]


@pytest.mark.parametrize("comment", CONTACTS + BANNED)
def test_a_comment_breaking_the_text_rules_is_400_invalid(buyer_client, review, comment):
    with nothing_changes():
        response = buyer_client.patch(review_url(review["id"]), {"comment": comment})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "comment")]


def test_editable_for_7_days_then_409(buyer_client, review, seller):
    age(review["id"], days=6, hours=23)
    assert buyer_client.patch(review_url(review["id"]), {"rating": 5}).status_code == 200

    age(review["id"], days=7, minutes=1)
    with nothing_changes():
        response = buyer_client.patch(review_url(review["id"]), {"rating": 1})

    assert response.status_code == 409
    assert error_codes(response) == [("edit_window_closed", None)]
    assert summary(seller) == (1, 5)


def test_validation_comes_before_the_window(buyer_client, review):
    age(review["id"], days=30)

    response = buyer_client.patch(review_url(review["id"]), {"rating": 9})

    assert response.status_code == 400


def test_the_window_is_a_setting(buyer_client, review, settings):
    settings.REVIEW_EDIT_DAYS = 1
    age(review["id"], days=1, minutes=1)

    assert buyer_client.patch(review_url(review["id"]), {"rating": 5}).status_code == 409


def test_get_still_lists_a_sellers_reviews_on_the_shared_path(api, review, seller):
    assert api.get(reviews_of(seller.pk)).json()["results"] == [review]


# --- POST reviews/<review id>/reply/ ----------------------------------------------------------


def test_the_seller_replies_once(seller_client, seller, review, api):
    response = seller_client.post(reply_url(review["id"]),
                                  {"body": "Thanks! The logbook delay was KRA's."})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == REVIEW_KEYS
    assert body["id"] == review["id"]
    assert set(body["reply"]) == {"body", "created_at"}
    assert body["reply"]["body"] == "Thanks! The logbook delay was KRA's."
    assert re.fullmatch(TIMESTAMP, body["reply"]["created_at"])
    assert api.get(reviews_of(seller.pk)).json()["results"][0]["reply"] == body["reply"]
    entry = AuditEntry.objects.get(action="moderation.review.replied")
    assert (entry.actor_id, entry.target_id) == (seller.pk, str(review["id"]))

    with nothing_changes():
        again = seller_client.post(reply_url(review["id"]), {"body": "One more thing."})

    assert again.status_code == 409
    assert error_codes(again) == [("duplicate", None)]


def test_the_reviewer_or_anyone_else_cannot_reply(client_for, buyer, stranger, moderator,
                                                  review):
    for user in (buyer, stranger, moderator):
        with nothing_changes():
            response = client_for(user).post(reply_url(review["id"]), {"body": "Hi"})
        assert response.status_code == 403
        assert error_codes(response) == [("permission_denied", None)]


def test_reply_anonymous_401_unknown_404(api, seller_client, review):
    with nothing_changes():
        assert api.post(reply_url(review["id"]), {"body": "Hi"}).status_code == 401
        for review_id in ("999999", "garbage"):
            assert seller_client.post(reply_url(review_id), {"body": "Hi"}).status_code == 404


@pytest.mark.parametrize(("body", "code"), [
    ({}, "required"), ({"body": ""}, "blank"), ({"body": "   "}, "blank"),
    ({"body": None}, "null"), ({"body": "x" * 2001}, "max_length"),
    *[({"body": text}, "invalid") for text in CONTACTS + BANNED],
])
def test_a_bad_reply_is_400_on_body(seller_client, review, body, code):
    with nothing_changes():
        response = seller_client.post(reply_url(review["id"]), body)

    assert response.status_code == 400
    assert error_codes(response) == [(code, "body")]


def test_a_bad_reply_after_a_reply_is_still_400(seller_client, review):
    seller_client.post(reply_url(review["id"]), {"body": "Thanks."})

    assert seller_client.post(reply_url(review["id"]), {"body": ""}).status_code == 400


def test_the_reviewer_may_still_edit_after_the_reply(seller_client, buyer_client, review):
    reply = seller_client.post(reply_url(review["id"]), {"body": "Thanks."}).json()["reply"]

    body = buyer_client.patch(review_url(review["id"]), {"rating": 5}).json()

    assert (body["rating"], body["reply"]) == (5, reply)


def test_a_reply_has_no_deadline(seller_client, review):
    age(review["id"], days=365)

    assert seller_client.post(reply_url(review["id"]), {"body": "Late thanks."}
                              ).status_code == 201


# --- the text rules on new reviews ------------------------------------------------------------


@pytest.mark.parametrize("comment", CONTACTS + BANNED)
def test_a_new_review_breaking_the_text_rules_is_400_invalid(buyer_client, seller, comment):
    with nothing_changes():
        response = buyer_client.post(REVIEWS, {"seller": str(seller.pk), "rating": 5,
                                               "comment": comment})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "comment")]


def test_the_text_check_is_a_400_so_it_comes_before_the_conversation_check(client_for,
                                                                          stranger, seller):
    response = client_for(stranger).post(REVIEWS, {"seller": str(seller.pk), "rating": 5,
                                                   "comment": "Call 0712 345 678"})

    assert response.status_code == 400


@pytest.mark.parametrize("comment", [
    "Sold me a 2015 Fielder, 85,000 km, for 1,250,000 as agreed on 05/05/2025.",
    "Bangili nzuri sana!", "Met at 10am, paid via M-Pesa. 5 stars.", ""])
def test_ordinary_comments_pass(buyer_client, seller, comment):
    response = buyer_client.post(REVIEWS, {"seller": str(seller.pk), "rating": 5,
                                           "comment": comment})

    assert response.status_code == 201, response.json()


# --- documented -------------------------------------------------------------------------------


def test_edit_and_reply_are_in_the_schema():
    schema = Client().get("/api/schema/").json()
    path = schema["paths"]["/api/moderation/reviews/{id}/"]

    assert {"get", "patch"} <= set(path)
    assert {} in path["get"]["security"]  # the list stays open to anonymous callers
    assert {} not in path["patch"]["security"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(path["patch"]["responses"])
    reply = schema["paths"]["/api/moderation/reviews/{id}/reply/"]["post"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(reply["responses"])
    review = schema["components"]["schemas"]["ReviewOutput"]
    assert "reply" in review["properties"]
