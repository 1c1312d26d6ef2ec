"""The REST half of messages (API.md section 7): conversations, history, read receipts, tickets."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import TestCase

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus
from apps.ads.status import Actor
from apps.chat import tickets
from apps.chat.models import Conversation, Message
from apps.chat.tests.conftest import (
    CONVERSATION_AD_KEYS,
    CONVERSATION_KEYS,
    CONVERSATIONS,
    MESSAGE_KEYS,
    PAGE_KEYS,
    PUBLIC_PROFILE_KEYS,
    TICKET,
    TIMESTAMP,
    UNREAD,
    add_photo,
    block,
    make_active_ad,
    message_rows,
    messages_url,
    read_url,
    say,
    set_status,
    start,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db


def assert_message_shape(data: dict[str, Any]) -> None:
    assert set(data) == MESSAGE_KEYS, data
    assert isinstance(data["id"], int)
    assert re.match(TIMESTAMP, data["created_at"])
    assert data["read_at"] is None or re.match(TIMESTAMP, data["read_at"])


def assert_unchanged(before: tuple[int, list[Any]]) -> None:
    assert (Conversation.objects.count(), message_rows()) == before


def snapshot() -> tuple[int, list[Any]]:
    return Conversation.objects.count(), message_rows()


# --- starting a conversation ------------------------------------------------------------------


def test_start_conversation_answers_201_with_the_conversation(client_for, buyer, seller, ad):
    response = client_for(buyer).post(
        CONVERSATIONS, {"ad": str(ad.pk), "message": "  Is it still available?  "}
    )

    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == CONVERSATION_KEYS
    conversation = Conversation.objects.get()
    assert data["id"] == str(conversation.pk)
    assert (conversation.buyer_id, conversation.seller_id, conversation.ad_id) == (
        buyer.pk,
        seller.pk,
        ad.pk,
    )
    assert data["ad"] == {
        "id": str(ad.pk),
        "slug": ad.slug,
        "title": ad.title,
        "price": "2500.00",
        "currency": "KES",
        "status": "active",
        "thumbnail_url": None,
    }
    assert set(data["ad"]) == CONVERSATION_AD_KEYS
    other = data["other_party"]
    assert set(other) == PUBLIC_PROFILE_KEYS
    assert other["id"] == str(seller.pk)
    assert other["display_name"] == "Amani W."
    text = response.content.decode()
    assert seller.email not in text and seller.phone not in text
    assert "email" not in other and "phone" not in other
    message = Message.objects.get()
    assert message.body == "Is it still available?"
    assert_message_shape(data["last_message"])
    assert data["last_message"] == {
        "id": message.pk,
        "conversation": str(conversation.pk),
        "sender": str(buyer.pk),
        "body": "Is it still available?",
        "created_at": data["last_message"]["created_at"],
        "read_at": None,
        "client_id": None,
        "warning": None,
        "image": None,
    }
    assert data["unread_count"] == 0  # the buyer's own message
    assert (data["archived"], data["muted"]) == (False, False)
    assert re.match(TIMESTAMP, data["created_at"]) and re.match(TIMESTAMP, data["updated_at"])


def test_the_seller_sees_the_buyer_as_other_party_and_one_unread(client_for, buyer, seller, ad):
    client_for(buyer).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Hello"})

    data = client_for(seller).get(CONVERSATIONS).json()

    assert data["count"] == 1
    row = data["results"][0]
    assert row["other_party"]["id"] == str(buyer.pk)
    assert row["other_party"]["display_name"] == "Baraka O."
    assert set(row["other_party"]) == PUBLIC_PROFILE_KEYS
    assert row["unread_count"] == 1
    assert buyer.email not in str(data) and buyer.phone not in str(data)


def test_starting_again_appends_to_the_same_conversation(client_for, buyer, seller, ad):
    client = client_for(buyer)
    first = client.post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Hello"})
    again = client.post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Are you there?"})

    assert first.status_code == 201
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == first.json()["id"]
    assert Conversation.objects.count() == 1
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "Hello",
        "Are you there?",
    ]
    assert again.json()["last_message"]["body"] == "Are you there?"
    seller_view = client_for(seller).get(CONVERSATIONS).json()["results"][0]
    assert seller_view["unread_count"] == 2


def test_another_buyer_gets_a_conversation_of_their_own(client_for, buyer, stranger, ad):
    one = client_for(buyer).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Hello"})
    two = client_for(stranger).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Hi"})

    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["id"] != two.json()["id"]


def test_own_ad_is_refused(client_for, seller, ad):
    before = snapshot()

    response = client_for(seller).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Hello"})

    assert response.status_code == 400
    assert error_codes(response) == [("own_ad", "ad")]
    assert response.json()["type"] == "validation_error"
    assert_unchanged(before)


def _draft(ad: Ad) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=False):
        return ad_services.create_ad(
            owner=ad.owner,
            draft=True,
            category=ad.category,
            title="A draft phone ad",
            description="Draft.",
            price=ad.price,
        )


def _pending(ad: Ad) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=False):
        return ad_services.create_ad(
            owner=ad.owner,
            draft=False,
            category=ad.category,
            title="A pending phone ad",
            description="Pending.",
            price=ad.price,
        )


def _deleted(ad: Ad) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=False):
        ad_services.delete_ad(ad=ad, by=ad.owner)
    return ad


UNAVAILABLE: dict[str, Callable[[Ad], Any]] = {
    "unknown uuid": lambda ad: str(uuid.uuid4()),
    "garbage": lambda ad: "not-an-id",
    "long garbage": lambda ad: "x" * 300,
    "uuid with junk": lambda ad: f"{ad.pk}'; --",
    "number": lambda ad: 12345,
    "slug": lambda ad: ad.slug,
    "draft": _draft,
    "pending": _pending,
    "sold": lambda ad: set_status(ad, AdStatus.SOLD, Actor.OWNER),
    "expired": lambda ad: set_status(ad, AdStatus.EXPIRED, Actor.SYSTEM),
    "hidden": lambda ad: set_status(ad, AdStatus.HIDDEN, Actor.STAFF),
    "deleted": _deleted,
}


@pytest.mark.parametrize("case", list(UNAVAILABLE))
def test_an_ad_that_is_not_active_and_visible_is_unavailable(case, client_for, buyer, ad):
    target = UNAVAILABLE[case](ad)
    target_id = target.pk if isinstance(target, Ad) else target
    before = snapshot()

    response = client_for(buyer).post(CONVERSATIONS, {"ad": str(target_id), "message": "Hi"})

    assert response.status_code == 400, response.json()
    assert error_codes(response) == [("ad_unavailable", "ad")]
    assert_unchanged(before)


def test_an_existing_conversation_cannot_be_restarted_once_the_ad_is_sold(
    client_for, buyer, conversation, ad
):
    set_status(ad, AdStatus.SOLD, Actor.OWNER)
    before = snapshot()

    response = client_for(buyer).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Still?"})

    assert response.status_code == 400
    assert error_codes(response) == [("ad_unavailable", "ad")]
    assert_unchanged(before)


@pytest.mark.parametrize("who_blocks", ["seller", "buyer"])
def test_blocked_either_way_cannot_start(who_blocks, client_for, buyer, seller, ad):
    if who_blocks == "seller":
        block(seller, buyer)
    else:
        block(buyer, seller)
    before = snapshot()

    response = client_for(buyer).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Hello"})

    assert response.status_code == 403
    assert error_codes(response) == [("blocked", None)]
    assert response.json()["type"] == "client_error"
    assert_unchanged(before)


def test_a_block_after_the_first_message_stops_the_restart_too(
    client_for, buyer, seller, conversation, ad
):
    block(seller, buyer)
    before = snapshot()

    response = client_for(buyer).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Hello?"})

    assert response.status_code == 403
    assert error_codes(response) == [("blocked", None)]
    assert_unchanged(before)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"message": "Hello"}, [("required", "ad")]),
        ({"ad": "AD"}, [("required", "message")]),
        ({"ad": "AD", "message": ""}, [("blank", "message")]),
        ({"ad": "AD", "message": "   \n\t "}, [("blank", "message")]),
        ({"ad": "AD", "message": "x" * 5001}, [("max_length", "message")]),
    ],
)
def test_start_validates_the_body(payload, expected, client_for, buyer, ad):
    payload = {key: str(ad.pk) if value == "AD" else value for key, value in payload.items()}
    before = snapshot()

    response = client_for(buyer).post(CONVERSATIONS, payload)

    assert response.status_code == 400
    assert error_codes(response) == expected
    assert_unchanged(before)


def test_anonymous_callers_get_401_everywhere(api, conversation):
    calls = [
        ("get", CONVERSATIONS),
        ("post", CONVERSATIONS),
        ("get", UNREAD),
        ("post", TICKET),
        ("get", messages_url(conversation.pk)),
        ("post", messages_url(conversation.pk)),
        ("post", read_url(conversation.pk)),
    ]
    before = snapshot()
    for method, url in calls:
        response = getattr(api, method)(
            url, {"body": "x", "ad": "y", "message": "z"} if method == "post" else None
        )
        assert response.status_code == 401, (method, url)
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert error_codes(response)[0][0] == "not_authenticated"
    assert_unchanged(before)


# --- listing conversations --------------------------------------------------------------------


def test_the_list_holds_mine_latest_activity_first(client_for, buyer, seller, stranger, category):
    ad_one = make_active_ad(seller, category)
    ad_two = make_active_ad(seller, category)
    ad_three = make_active_ad(stranger, category)
    first = start(buyer, ad_one, "About the first")
    second = start(buyer, ad_two, "About the second")
    third = start(buyer, ad_three, "About the third")
    not_mine = start(stranger, make_active_ad(seller, category), "Not the buyer's")
    say(seller, first, "Reply on the first")  # the oldest conversation is now the freshest

    buyer_page = client_for(buyer).get(CONVERSATIONS).json()
    seller_page = client_for(seller).get(CONVERSATIONS).json()

    assert set(buyer_page) == PAGE_KEYS
    assert [row["id"] for row in buyer_page["results"]] == [
        str(first.pk),
        str(third.pk),
        str(second.pk),
    ]
    assert [row["unread_count"] for row in buyer_page["results"]] == [1, 0, 0]
    assert buyer_page["results"][0]["last_message"]["body"] == "Reply on the first"
    assert [row["id"] for row in seller_page["results"]] == [
        str(first.pk),
        str(not_mine.pk),
        str(second.pk),
    ]
    assert [row["unread_count"] for row in seller_page["results"]] == [1, 1, 1]
    assert str(not_mine.pk) not in {row["id"] for row in buyer_page["results"]}


def test_the_thumbnail_is_an_absolute_url_of_the_first_image(client_for, buyer, ad):
    image = add_photo(ad, thumbnail=True)
    start(buyer, ad)

    row = client_for(buyer).get(CONVERSATIONS).json()["results"][0]

    assert row["ad"]["thumbnail_url"].startswith("http://testserver/")
    assert row["ad"]["thumbnail_url"].endswith(image.thumbnail.url)


def _conversations_for(buyer: Any, seller: Any, category: Any, count: int) -> None:
    for n in range(count):
        ad = make_active_ad(seller, category)
        if n % 2:
            add_photo(ad, thumbnail=True)
        conversation = start(buyer, ad, f"Hello {n}")
        say(seller, conversation, f"Reply {n}")


LIST_QUERIES = 4  # the user, the page count, the page (ad, people, last message), the images


@pytest.mark.parametrize("page_size", [1, 20])
def test_the_list_costs_a_fixed_number_of_queries(
    page_size, client_for, buyer, seller, category, django_assert_num_queries
):
    _conversations_for(buyer, seller, category, 25)
    client = client_for(buyer)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(CONVERSATIONS, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert response.json()["count"] == 25


def test_the_list_pages_like_every_list(client_for, buyer, seller, category):
    _conversations_for(buyer, seller, category, 3)
    client = client_for(buyer)

    page = client.get(CONVERSATIONS, {"page_size": 2}).json()
    assert page["next"] == "http://testserver/api/messages/conversations/?page=2&page_size=2"
    assert page["previous"] is None
    assert client.get(CONVERSATIONS, {"page": 3, "page_size": 2}).status_code == 404
    assert client.get(CONVERSATIONS, {"page": "x"}).status_code == 404


# --- message history --------------------------------------------------------------------------


def test_history_is_newest_first(client_for, buyer, seller, conversation):
    say(seller, conversation, "Yes it is")
    say(buyer, conversation, "Great")

    response = client_for(seller).get(messages_url(conversation.pk))

    assert response.status_code == 200
    data = response.json()
    assert set(data) == PAGE_KEYS
    assert [m["body"] for m in data["results"]] == ["Great", "Yes it is", "Is it still available?"]
    ids = [m["id"] for m in data["results"]]
    assert ids == sorted(ids, reverse=True)
    for message in data["results"]:
        assert_message_shape(message)
        assert message["conversation"] == str(conversation.pk)
    assert [m["sender"] for m in data["results"]] == [str(buyer.pk), str(seller.pk), str(buyer.pk)]


def test_after_returns_only_newer_messages(client_for, buyer, seller, conversation):
    last_seen = say(seller, conversation, "Seen")
    newer = [say(buyer, conversation, "One"), say(seller, conversation, "Two")]

    data = client_for(buyer).get(messages_url(conversation.pk), {"after": last_seen.pk}).json()

    assert [m["id"] for m in data["results"]] == [newer[1].pk, newer[0].pk]
    latest = client_for(buyer).get(messages_url(conversation.pk), {"after": newer[1].pk}).json()
    assert latest["results"] == [] and latest["count"] == 0


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "", " 1", "\u00b2", "1e3", "0x10"])
def test_a_malformed_after_is_400(after, client_for, buyer, conversation):
    response = client_for(buyer).get(messages_url(conversation.pk), {"after": after})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid", "after")]


def test_an_after_beyond_any_id_is_simply_empty(client_for, buyer, conversation):
    response = client_for(buyer).get(messages_url(conversation.pk), {"after": "9" * 30})

    assert response.status_code == 200
    assert response.json()["results"] == []


HISTORY_QUERIES = 4  # the user, the conversation, the page count, the page


@pytest.mark.parametrize("page_size", [1, 20])
def test_history_costs_a_fixed_number_of_queries(
    page_size, client_for, buyer, seller, conversation, django_assert_num_queries
):
    for n in range(25):
        say(seller if n % 2 else buyer, conversation, f"Message {n}")
    client = client_for(buyer)

    with django_assert_num_queries(HISTORY_QUERIES):
        response = client.get(messages_url(conversation.pk), {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size


# --- sending ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["a", "x" * 5000, "Habari! Bei ni ngapi? 😀"])
def test_a_participant_posts_a_message(body, client_for, buyer, seller, conversation):
    response = client_for(seller).post(messages_url(conversation.pk), {"body": body})

    assert response.status_code == 201, response.json()
    data = response.json()
    assert_message_shape(data)
    stored = Message.objects.get(pk=data["id"])
    assert (stored.body, stored.sender_id, stored.conversation_id) == (
        body,
        seller.pk,
        conversation.pk,
    )
    assert data["sender"] == str(seller.pk) and data["body"] == body
    conversation.refresh_from_db()
    assert conversation.last_message_id == stored.pk


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"body": ""}, [("blank", "body")]),
        ({"body": "   \n "}, [("blank", "body")]),
        ({"body": "x" * 5001}, [("max_length", "body")]),
        ({}, [("required", "body")]),
        ({"body": None}, [("null", "body")]),
    ],
)
def test_a_bad_body_is_400_and_stores_nothing(payload, expected, client_for, seller, conversation):
    before = snapshot()

    response = client_for(seller).post(messages_url(conversation.pk), payload)

    assert response.status_code == 400
    assert error_codes(response) == expected
    assert_unchanged(before)


def test_a_resend_with_the_same_client_id_stores_nothing(client_for, seller, conversation):
    client = client_for(seller)
    client_id = str(uuid.uuid4())

    first = client.post(messages_url(conversation.pk), {"body": "Yes", "client_id": client_id})
    again = client.post(messages_url(conversation.pk), {"body": "Yes", "client_id": client_id})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["client_id"] == client_id
    assert Message.objects.filter(client_id=client_id).count() == 1


@pytest.mark.parametrize("body", ["Hello?", ""])
@pytest.mark.parametrize("who_blocks", ["seller", "buyer"])
def test_blocked_participants_cannot_post(
    who_blocks, body, client_for, buyer, seller, conversation
):
    if who_blocks == "seller":
        block(seller, buyer)
    else:
        block(buyer, seller)
    before = snapshot()

    for sender in (buyer, seller):
        response = client_for(sender).post(messages_url(conversation.pk), {"body": body})
        assert response.status_code == 403  # object permission comes before validation
        assert error_codes(response) == [("blocked", None)]
    assert_unchanged(before)
    # reading stays possible
    assert client_for(buyer).get(messages_url(conversation.pk)).status_code == 200


@pytest.mark.parametrize(("method", "path"), [("get", ""), ("post", ""), ("post", "read/")])
def test_non_participants_get_404_on_every_conversation_path(
    method, path, client_for, stranger, conversation, staff
):
    before = snapshot()
    for outsider in (stranger, staff):
        response = getattr(client_for(outsider), method)(
            messages_url(conversation.pk) + path,
            {"body": "Let me in"} if method == "post" else None,
        )
        assert response.status_code == 404
        assert error_codes(response) == [("not_found", None)]
    assert_unchanged(before)


@pytest.mark.parametrize("raw_id", ["garbage", "123", str(uuid.uuid4()), "%20", "0" * 200])
@pytest.mark.parametrize(("method", "path"), [("get", ""), ("post", ""), ("post", "read/")])
def test_unknown_conversation_ids_are_404(raw_id, method, path, client_for, buyer, conversation):
    response = getattr(client_for(buyer), method)(
        f"/api/messages/{raw_id}/{path}", {"body": "x"} if method == "post" else None
    )

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_paths_without_their_slash_are_404(client_for, buyer, conversation):
    client = client_for(buyer)
    assert client.get("/api/messages/conversations").status_code == 404
    assert client.get(f"/api/messages/{conversation.pk}").status_code == 404
    assert client.post(f"/api/messages/{conversation.pk}/read").status_code == 404


def test_a_method_the_path_lacks_is_405(client_for, buyer, conversation):
    client = client_for(buyer)
    assert client.delete(messages_url(conversation.pk)).status_code == 405
    assert client.get(read_url(conversation.pk)).status_code == 405
    assert client.get(TICKET).status_code == 405


# --- read receipts and unread counts ----------------------------------------------------------


def test_read_marks_the_other_partys_messages_read(client_for, buyer, seller, conversation):
    say(buyer, conversation, "Second question")
    own = say(seller, conversation, "My answer")

    response = client_for(seller).post(read_url(conversation.pk))

    assert response.status_code == 200
    assert response.json() == {"unread_count": 0}
    from_buyer = Message.objects.filter(conversation=conversation, sender=buyer)
    assert from_buyer.count() == 2
    assert all(m.read_at is not None for m in from_buyer)
    own.refresh_from_db()
    assert own.read_at is None  # the buyer has not read it
    history = client_for(seller).get(messages_url(conversation.pk)).json()["results"]
    assert [m["read_at"] is not None for m in history] == [False, True, True]
    assert client_for(seller).get(CONVERSATIONS).json()["results"][0]["unread_count"] == 0
    assert client_for(buyer).get(CONVERSATIONS).json()["results"][0]["unread_count"] == 1


def test_reading_twice_and_reading_with_nothing_unread_is_fine(
    client_for, seller, buyer, conversation
):
    assert client_for(seller).post(read_url(conversation.pk)).json() == {"unread_count": 0}
    first_read = Message.objects.get().read_at
    assert client_for(seller).post(read_url(conversation.pk)).json() == {"unread_count": 0}
    assert Message.objects.get().read_at == first_read
    assert client_for(buyer).post(read_url(conversation.pk)).json() == {"unread_count": 0}


def test_unread_count_sums_over_my_conversations(client_for, buyer, seller, stranger, category):
    one = start(buyer, make_active_ad(seller, category), "First")
    two = start(stranger, make_active_ad(seller, category), "Second")
    say(stranger, two, "Third")
    say(seller, one, "Seller reply")
    start(stranger, make_active_ad(buyer, category), "To the buyer")

    assert client_for(seller).get(UNREAD).json() == {"unread_count": 3}
    assert client_for(buyer).get(UNREAD).json() == {"unread_count": 2}
    assert client_for(stranger).get(UNREAD).json() == {"unread_count": 0}

    client_for(seller).post(read_url(two.pk))
    assert client_for(seller).get(UNREAD).json() == {"unread_count": 1}


# --- tickets and throttling -------------------------------------------------------------------


def test_a_ticket_is_issued_for_sixty_seconds(client_for, buyer):
    response = client_for(buyer).post(TICKET)

    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"ticket", "expires_in"}
    assert data["expires_in"] == 60
    assert len(data["ticket"]) >= 32
    other = client_for(buyer).post(TICKET).json()["ticket"]
    assert other != data["ticket"]
    assert tickets.consume_ticket(data["ticket"]) == str(buyer.pk)
    assert tickets.consume_ticket(data["ticket"]) is None  # single use


def test_message_send_throttle_answers_429_with_retry_after(
    client_for, seller, conversation, throttle_rates
):
    throttle_rates(message_send="2/m")
    client = client_for(seller)
    assert client.post(messages_url(conversation.pk), {"body": "one"}).status_code == 201
    assert client.post(messages_url(conversation.pk), {"body": "two"}).status_code == 201
    before = snapshot()

    response = client.post(messages_url(conversation.pk), {"body": "three"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert error_codes(response) == [("throttled", None)]
    assert_unchanged(before)
    # reading is not a send
    assert client.get(messages_url(conversation.pk)).status_code == 200
    assert client.post(read_url(conversation.pk)).status_code == 200


def test_the_throttle_is_per_user_and_covers_starting(
    client_for, buyer, stranger, ad, conversation, throttle_rates
):
    throttle_rates(message_send="2/m")
    client = client_for(buyer)
    assert client.post(CONVERSATIONS, {"ad": str(ad.pk), "message": "one"}).status_code == 200
    assert client.post(messages_url(conversation.pk), {"body": "two"}).status_code == 201

    response = client.post(CONVERSATIONS, {"ad": str(ad.pk), "message": "three"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert (
        client_for(stranger).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "mine"}).status_code
        == 201
    )
