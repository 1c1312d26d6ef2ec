"""Reviews of sellers (API.md section 8): the checks in the contract's order, the review
shape, the seller's rating summary, and the public list."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from apps.moderation.models import Review
from apps.moderation.tests.helpers import (
    PAGE_KEYS,
    PUBLIC_PROFILE_KEYS,
    REVIEW_KEYS,
    REVIEWS,
    TIMESTAMP,
    nothing_changes,
    public_profile,
    reviews_of,
)
from apps.users.models import User
from conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ad(active_ad: Any, seller: User) -> Any:
    return active_ad(seller, title="Toyota Fielder 2015 silver")


@pytest.fixture
def talked(buyer: User, ad: Any, converse: Any) -> Any:
    """The buyer asked the seller about the ad."""
    return converse(buyer, ad)


@pytest.fixture
def buyer_client(buyer: User, client_for: Any) -> Any:
    return client_for(buyer)


def review_body(seller: Any, ad: Any = None, rating: Any = 5, comment: str = "Honest seller.",
                **extra: Any) -> dict[str, Any]:
    body = {"seller": str(seller.pk), "rating": rating, "comment": comment, **extra}
    if ad is not None:
        body["ad"] = str(ad.pk)
    return body


def post_review(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(REVIEWS, body)
    assert response.status_code == 201, response.json()
    return dict(response.json())


# --- the checks, in order ---------------------------------------------------------------------


def test_anonymous_is_401(api, seller):
    with nothing_changes():
        response = api.post(REVIEWS, review_body(seller))

    assert response.status_code == 401


@pytest.mark.parametrize("rating", [5, 0, 6, "x"])
def test_yourself_is_400_before_anything_else(buyer_client, buyer, rating):
    with nothing_changes():
        response = buyer_client.post(REVIEWS, review_body(buyer, rating=rating))

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "seller")]


@pytest.mark.parametrize("spelling", [str.upper, lambda s: "{" + s + "}", lambda s: f" {s} "])
def test_yourself_in_another_spelling_is_still_yourself(buyer_client, buyer, talked, spelling):
    response = buyer_client.post(REVIEWS, {**review_body(buyer), "seller": spelling(str(buyer.pk))})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "seller")]


@pytest.mark.parametrize(("rating", "code"), [
    (0, "invalid"), (6, "invalid"), (-1, "invalid"), (10**30, "invalid"), ("x", "invalid"),
    (4.5, "invalid"), ("", "invalid"), (None, "null"),
])
def test_a_bad_rating_is_400_even_without_a_conversation(buyer_client, seller, rating, code):
    with nothing_changes():
        response = buyer_client.post(REVIEWS, review_body(seller, rating=rating))

    assert response.status_code == 400
    assert error_codes(response) == [(code, "rating")]


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5, "4"])
def test_every_rating_from_1_to_5_is_accepted(buyer_client, seller, talked, rating):
    assert post_review(buyer_client, review_body(seller, rating=rating))["rating"] == int(rating)


def test_an_ad_that_is_not_the_sellers_is_400(buyer_client, seller, stranger, active_ad,
                                              talked):
    strangers_ad = active_ad(stranger, title="Someone else's car")

    for ad_id in (strangers_ad.pk, uuid.uuid4(), "garbage", "1"):
        with nothing_changes():
            response = buyer_client.post(REVIEWS, {**review_body(seller), "ad": str(ad_id)})
        assert response.status_code == 400
        assert error_codes(response) == [("invalid", "ad")]


def test_a_bad_ad_is_400_even_without_a_conversation(buyer_client, seller, stranger,
                                                     active_ad):
    strangers_ad = active_ad(stranger, title="Someone else's car")

    response = buyer_client.post(REVIEWS, review_body(seller, strangers_ad))

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "ad")]


@pytest.mark.parametrize("seller_id", [str(uuid.uuid4()), "garbage", "", "1"])
def test_an_unknown_seller_is_400(buyer_client, seller_id):
    with nothing_changes():
        response = buyer_client.post(REVIEWS, {"seller": seller_id, "rating": 5,
                                               "comment": "?"})

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["seller"]


@pytest.mark.parametrize("missing", ["seller", "rating", "comment"])
def test_missing_fields_are_400_required(buyer_client, seller, talked, missing):
    body = review_body(seller)
    del body[missing]

    response = buyer_client.post(REVIEWS, body)

    assert response.status_code == 400
    assert error_codes(response) == [("required", missing)]


def test_no_conversation_with_the_seller_is_403(buyer_client, seller, stranger, ad, converse):
    # A conversation with someone else does not count.
    converse(stranger, ad)

    with nothing_changes():
        response = buyer_client.post(REVIEWS, review_body(seller, ad))

    assert response.status_code == 403
    assert error_codes(response) == [("permission_denied", None)]


def test_a_conversation_either_way_counts(client_for, buyer, seller, talked):
    """The seller may review the buyer who wrote to them too: a conversation *between* them."""
    body = post_review(client_for(seller), review_body(buyer, rating=4, comment="Paid on time."))

    assert body["seller"] == str(buyer.pk)


def test_a_conversation_about_another_ad_counts(buyer_client, seller, active_ad, converse,
                                                buyer):
    first, second = active_ad(seller, title="First car"), active_ad(seller, title="Second car")
    converse(buyer, first)

    assert post_review(buyer_client, review_body(seller, second))["ad"] == str(second.pk)


def test_your_review_of_that_seller_and_ad_again_is_409_duplicate(buyer_client, seller, ad,
                                                                  talked):
    post_review(buyer_client, review_body(seller, ad, rating=5))

    with nothing_changes():
        response = buyer_client.post(REVIEWS, review_body(seller, ad, rating=1,
                                                          comment="Changed my mind"))

    assert response.status_code == 409
    assert error_codes(response) == [("duplicate", None)]


def test_your_review_of_that_seller_without_an_ad_again_is_409_duplicate(buyer_client, seller,
                                                                         talked):
    post_review(buyer_client, review_body(seller))

    with nothing_changes():
        response = buyer_client.post(REVIEWS, {**review_body(seller), "ad": None})

    assert response.status_code == 409
    assert error_codes(response) == [("duplicate", None)]


def test_one_review_per_ad_and_one_without(buyer_client, client_for, stranger, seller,
                                          active_ad, converse):
    first, second = active_ad(seller, title="First car"), active_ad(seller, title="Second car")
    converse(stranger, first)
    converse(stranger, second)

    stranger_client = client_for(stranger)
    post_review(stranger_client, review_body(seller, first, rating=5))
    post_review(stranger_client, review_body(seller, second, rating=3))
    post_review(stranger_client, review_body(seller, rating=4))

    assert Review.objects.filter(seller=seller).count() == 3
    assert User.objects.get(pk=seller.pk).rating_count == 3


def test_the_duplicate_check_comes_after_the_conversation_check(buyer_client, buyer, seller,
                                                                ad, talked):
    post_review(buyer_client, review_body(seller, ad))
    talked.delete()  # (conversation gone: the 403 answers first)

    response = buyer_client.post(REVIEWS, review_body(seller, ad))

    assert response.status_code == 403


def test_a_suspended_seller_cannot_be_reviewed(buyer_client, seller, talked):
    User.objects.filter(pk=seller.pk).update(is_suspended=True)

    response = buyer_client.post(REVIEWS, review_body(seller))

    assert response.status_code == 400
    assert [attr for _, attr in error_codes(response)] == ["seller"]


# --- success ----------------------------------------------------------------------------------


def test_a_review_answers_201_with_its_shape(buyer_client, buyer, seller, ad, talked):
    response = buyer_client.post(REVIEWS, review_body(seller, ad, rating=4,
                                                      comment="Car as described."))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == REVIEW_KEYS
    review = Review.objects.get()
    assert body["id"] == review.pk
    assert set(body["reviewer"]) == PUBLIC_PROFILE_KEYS
    assert body["reviewer"]["id"] == str(buyer.pk)
    assert body["reviewer"]["display_name"] == "Baraka O."
    assert "email" not in body["reviewer"] and "phone" not in body["reviewer"]
    assert body["seller"] == str(seller.pk)
    assert body["ad"] == str(ad.pk)
    assert (body["rating"], body["comment"]) == (4, "Car as described.")
    assert re.fullmatch(TIMESTAMP, body["created_at"])
    assert (review.reviewer_id, review.seller_id, review.ad_id) == (buyer.pk, seller.pk, ad.pk)


def test_a_review_without_an_ad_has_ad_null(buyer_client, seller, talked):
    assert post_review(buyer_client, review_body(seller))["ad"] is None


def test_unknown_and_read_only_fields_are_ignored(buyer_client, buyer, seller, stranger,
                                                 talked):
    body = post_review(buyer_client, review_body(
        seller, id=999, reviewer=str(stranger.pk), created_at="2020-01-01T00:00:00Z",
        rating_total=500))

    assert body["id"] != 999
    assert body["reviewer"]["id"] == str(buyer.pk)
    assert not body["created_at"].startswith("2020")


def test_the_sellers_rating_summary_updates_at_once(client_for, make_user, seller, ad,
                                                    converse, api):
    before = api.get(public_profile(seller.pk)).json()
    assert (before["rating_average"], before["rating_count"]) == (None, 0)

    for rating in (5, 4, 4):
        reviewer = make_user()
        converse(reviewer, ad)
        post_review(client_for(reviewer), review_body(seller, ad, rating=rating))

    after = api.get(public_profile(seller.pk)).json()
    assert (after["rating_average"], after["rating_count"]) == (4.33, 3)
    owner = client_for(seller).get("/api/users/profile/").json()
    assert (owner["rating_average"], owner["rating_count"]) == (4.33, 3)
    # The ad's owner block, everywhere, says the same.
    listed = api.get("/api/ads/").json()["results"][0]["owner"]
    assert (listed["rating_average"], listed["rating_count"]) == (4.33, 3)


# --- GET reviews/<user_id>/ -------------------------------------------------------------------


def test_the_public_list_newest_first_with_the_summary(client_for, make_user, seller, ad,
                                                       converse, api):
    posted = []
    for rating in (2, 5, 4):
        reviewer = make_user()
        converse(reviewer, ad)
        posted.append(post_review(client_for(reviewer), review_body(seller, ad, rating=rating)))

    response = api.get(reviews_of(seller.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"rating_average", "rating_count"} | PAGE_KEYS
    assert (body["rating_average"], body["rating_count"], body["count"]) == (3.67, 3, 3)
    assert (body["next"], body["previous"]) == (None, None)
    assert [r["id"] for r in body["results"]] == [p["id"] for p in reversed(posted)]
    assert body["results"][0] == posted[-1]


def test_a_seller_without_reviews(api, seller):
    body = api.get(reviews_of(seller.pk)).json()

    assert body == {"rating_average": None, "rating_count": 0, "count": 0, "next": None,
                    "previous": None, "results": []}


def test_only_that_sellers_reviews_and_pages(client_for, make_user, seller, stranger, ad,
                                            active_ad, converse, api):
    other_ad = active_ad(stranger, title="Stranger's car")
    for _ in range(3):
        reviewer = make_user()
        converse(reviewer, ad)
        converse(reviewer, other_ad)
        post_review(client_for(reviewer), review_body(seller, ad))
        post_review(client_for(reviewer), review_body(stranger, other_ad, rating=1))

    first = api.get(reviews_of(seller.pk), {"page_size": 2}).json()

    assert (first["count"], len(first["results"]), first["rating_average"]) == (3, 2, 5.0)
    assert first["next"].startswith("http://testserver/api/moderation/reviews/")
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert all(r["seller"] == str(seller.pk) for r in first["results"] + second["results"])
    assert api.get(reviews_of(seller.pk), {"page": 9}).status_code == 404


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "garbage", "1", "²"])
def test_an_unknown_or_garbage_user_is_404(api, user_id):
    response = api.get(reviews_of(user_id))

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
