"""Per-participant archive and mute: POST <id>/archive/, unarchive/, mute/, unmute/.

Each flag is the caller's own: the other participant's view never changes. Archived
conversations leave GET conversations/ (listed by ?archived=true) until a new message arrives;
muted ones get no offline email."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core import mail

from apps.chat import tasks
from apps.chat.models import Conversation, Message
from apps.chat.tests.conftest import (
    CONVERSATION_KEYS,
    CONVERSATIONS,
    block,
    make_active_ad,
    messages_url,
    say,
    start,
)
from conftest import error_codes

pytestmark = pytest.mark.django_db

FLAG_PATHS = ["archive/", "unarchive/", "mute/", "unmute/"]


def flag_url(conversation_id: object, action: str) -> str:
    return f"/api/messages/{conversation_id}/{action}/"  # action without its slash


def listed(client: Any, **params: Any) -> list[str]:
    response = client.get(CONVERSATIONS, params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def flags(conversation: Conversation) -> tuple[bool, bool, bool, bool]:
    conversation.refresh_from_db()
    return (
        conversation.buyer_archived,
        conversation.seller_archived,
        conversation.buyer_muted,
        conversation.seller_muted,
    )


# --- archive ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [("buyer", (True, False, False, False)), ("seller", (False, True, False, False))],
)
def test_archive_answers_200_with_the_conversation_for_the_caller_only(
    who, expected, client_for, buyer, seller, conversation
):
    caller, other = (buyer, seller) if who == "buyer" else (seller, buyer)

    response = client_for(caller).post(flag_url(conversation.pk, "archive"))

    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == CONVERSATION_KEYS
    assert data["id"] == str(conversation.pk)
    assert (data["archived"], data["muted"]) == (True, False)
    assert data["other_party"]["id"] == str(other.pk)
    assert flags(conversation) == expected
    other_view = client_for(other).get(CONVERSATIONS).json()["results"]
    assert [(row["id"], row["archived"]) for row in other_view] == [(str(conversation.pk), False)]


def test_archived_conversations_leave_the_list_and_archived_true_lists_them(
    client_for, buyer, seller, category
):
    first = start(buyer, make_active_ad(seller, category), "First")
    second = start(buyer, make_active_ad(seller, category), "Second")
    third = start(buyer, make_active_ad(seller, category), "Third")
    client = client_for(buyer)
    for conversation in (first, third):
        assert client.post(flag_url(conversation.pk, "archive")).status_code == 200

    assert listed(client) == [str(second.pk)]
    assert listed(client, archived="false") == [str(second.pk)]
    archived = client.get(CONVERSATIONS, {"archived": "true"}).json()
    assert [row["id"] for row in archived["results"]] == [str(third.pk), str(first.pk)]
    assert archived["count"] == 2
    assert all(row["archived"] is True for row in archived["results"])
    # the seller archived nothing
    assert listed(client_for(seller)) == [str(third.pk), str(second.pk), str(first.pk)]
    assert listed(client_for(seller), archived="true") == []


@pytest.mark.parametrize("value", ["yes", "1", "True", "all", "true "])
def test_a_bad_archived_value_is_400(value, client_for, buyer, conversation):
    response = client_for(buyer).get(CONVERSATIONS, {"archived": value})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "archived")]


def test_unarchive_brings_it_back(client_for, buyer, conversation):
    client = client_for(buyer)
    client.post(flag_url(conversation.pk, "archive"))

    response = client.post(flag_url(conversation.pk, "unarchive"))

    assert response.status_code == 200
    assert response.json()["archived"] is False
    assert listed(client) == [str(conversation.pk)]
    assert listed(client, archived="true") == []
    assert flags(conversation) == (False, False, False, False)


def test_flags_are_idempotent(client_for, buyer, conversation):
    client = client_for(buyer)
    for action, expected in [
        ("archive", True),
        ("archive", True),
        ("unarchive", False),
        ("unarchive", False),
    ]:
        response = client.post(flag_url(conversation.pk, action))
        assert response.status_code == 200
        assert response.json()["archived"] is expected
    for action, expected in [("mute", True), ("mute", True), ("unmute", False), ("unmute", False)]:
        response = client.post(flag_url(conversation.pk, action))
        assert response.status_code == 200
        assert response.json()["muted"] is expected


def test_archiving_keeps_the_conversations_place_and_messages(
    client_for, buyer, seller, conversation
):
    conversation.refresh_from_db()
    updated_at, last_message = conversation.updated_at, conversation.last_message_id
    before = list(Message.objects.values_list("id", "read_at"))

    client_for(buyer).post(flag_url(conversation.pk, "archive"))
    client_for(buyer).post(flag_url(conversation.pk, "mute"))

    conversation.refresh_from_db()
    assert (conversation.updated_at, conversation.last_message_id) == (updated_at, last_message)
    assert list(Message.objects.values_list("id", "read_at")) == before
    # the history and the unread count stay reachable
    assert client_for(buyer).get(messages_url(conversation.pk)).status_code == 200
    assert client_for(seller).get("/api/messages/unread-count/").json() == {"unread_count": 1}


@pytest.mark.parametrize("sender", ["buyer", "seller"])
def test_a_new_message_brings_it_back_for_both(sender, client_for, buyer, seller, conversation):
    for user in (buyer, seller):
        client_for(user).post(flag_url(conversation.pk, "archive"))
    assert flags(conversation) == (True, True, False, False)

    response = client_for(buyer if sender == "buyer" else seller).post(
        messages_url(conversation.pk), {"body": "Still there?"}
    )

    assert response.status_code == 201
    assert flags(conversation) == (False, False, False, False)
    for user in (buyer, seller):
        rows = client_for(user).get(CONVERSATIONS).json()["results"]
        assert [(row["id"], row["archived"]) for row in rows] == [(str(conversation.pk), False)]


def test_restarting_from_the_ad_brings_it_back(client_for, buyer, seller, conversation, ad):
    client_for(seller).post(flag_url(conversation.pk, "archive"))

    response = client_for(buyer).post(CONVERSATIONS, {"ad": str(ad.pk), "message": "Again"})

    assert response.status_code == 200
    assert listed(client_for(seller)) == [str(conversation.pk)]


def test_a_resend_does_not_bring_it_back(client_for, buyer, seller, conversation):
    client_id = str(uuid.uuid4())
    client = client_for(buyer)
    assert (
        client.post(
            messages_url(conversation.pk), {"body": "Once", "client_id": client_id}
        ).status_code
        == 201
    )
    client_for(seller).post(flag_url(conversation.pk, "archive"))

    again = client.post(messages_url(conversation.pk), {"body": "Once", "client_id": client_id})

    assert again.status_code == 200  # the stored message, nothing new
    assert flags(conversation) == (False, True, False, False)


def test_blocked_participants_can_still_archive_and_mute(client_for, buyer, seller, conversation):
    block(seller, buyer)

    for user in (buyer, seller):
        for action in ("archive", "mute"):
            assert client_for(user).post(flag_url(conversation.pk, action)).status_code == 200
    assert flags(conversation) == (True, True, True, True)


# --- mute -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [("buyer", (False, False, True, False)), ("seller", (False, False, False, True))],
)
def test_mute_answers_200_for_the_caller_only(
    who, expected, client_for, buyer, seller, conversation
):
    caller, other = (buyer, seller) if who == "buyer" else (seller, buyer)

    response = client_for(caller).post(flag_url(conversation.pk, "mute"))

    assert response.status_code == 200
    assert (response.json()["archived"], response.json()["muted"]) == (False, True)
    assert flags(conversation) == expected
    assert client_for(other).get(CONVERSATIONS).json()["results"][0]["muted"] is False
    assert listed(client_for(caller)) == [str(conversation.pk)]  # muted is not archived


def emails_to(user: Any) -> list[Any]:
    return [m for m in mail.outbox if m.to == [user.email]]


def notify(message: Message, capture: Any) -> bool:
    with capture(execute=True):
        return bool(tasks.notify_unread(str(message.pk)))


def test_a_muted_conversation_sends_no_offline_email(
    client_for, buyer, seller, conversation, django_capture_on_commit_callbacks
):
    client_for(seller).post(flag_url(conversation.pk, "mute"))
    opening = Message.objects.get()

    assert notify(opening, django_capture_on_commit_callbacks) is False
    assert emails_to(seller) == []
    # the buyer did not mute: the seller's reply is emailed to them
    reply = say(seller, conversation, "Yes, available")
    assert notify(reply, django_capture_on_commit_callbacks) is True
    assert len(emails_to(buyer)) == 1

    # unmuted, the next check emails (muting spent no quiet period)
    client_for(seller).post(flag_url(conversation.pk, "unmute"))
    assert notify(opening, django_capture_on_commit_callbacks) is True
    assert len(emails_to(seller)) == 1


def test_muting_only_that_conversation(
    client_for, buyer, seller, stranger, conversation, category, django_capture_on_commit_callbacks
):
    client_for(seller).post(flag_url(conversation.pk, "mute"))
    other = start(stranger, make_active_ad(seller, category), "Me too")

    assert (
        notify(Message.objects.get(conversation=other), django_capture_on_commit_callbacks) is True
    )
    assert len(emails_to(seller)) == 1


def test_with_an_eager_worker_a_muted_recipient_gets_nothing(
    client_for, buyer, seller, conversation
):
    client_for(seller).post(flag_url(conversation.pk, "mute"))

    client_for(buyer).post(messages_url(conversation.pk), {"body": "Hello?"})

    assert emails_to(seller) == []


def test_muting_after_the_message_still_stops_the_email(
    client_for, buyer, seller, conversation, django_capture_on_commit_callbacks
):
    message = say(buyer, conversation, "Sent before the mute")
    client_for(seller).post(flag_url(conversation.pk, "mute"))  # before the delayed check

    assert notify(message, django_capture_on_commit_callbacks) is False
    assert emails_to(seller) == []


# --- who may, and how the paths behave --------------------------------------------------------


@pytest.mark.parametrize("action", FLAG_PATHS)
def test_non_participants_get_404(action, client_for, stranger, staff, conversation):
    before = flags(conversation)
    for outsider in (stranger, staff):
        response = client_for(outsider).post(f"/api/messages/{conversation.pk}/{action}")
        assert response.status_code == 404
        assert error_codes(response) == [("not_found", None)]
    assert flags(conversation) == before


@pytest.mark.parametrize("raw_id", ["garbage", "123", str(uuid.uuid4()), "0" * 200])
@pytest.mark.parametrize("action", FLAG_PATHS)
def test_unknown_conversation_ids_are_404(raw_id, action, client_for, buyer, conversation):
    response = client_for(buyer).post(f"/api/messages/{raw_id}/{action}")

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


@pytest.mark.parametrize("action", FLAG_PATHS)
def test_anonymous_callers_get_401(action, api, conversation):
    response = api.post(f"/api/messages/{conversation.pk}/{action}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert flags(conversation) == (False, False, False, False)


@pytest.mark.parametrize("action", FLAG_PATHS)
def test_other_methods_are_405_and_the_slash_is_needed(action, client_for, buyer, conversation):
    client = client_for(buyer)
    url = f"/api/messages/{conversation.pk}/{action}"
    assert client.get(url).status_code == 405
    assert client.delete(url).status_code == 405
    assert client.post(url.rstrip("/")).status_code == 404
    assert flags(conversation) == (False, False, False, False)


# --- list cost and schema ---------------------------------------------------------------------

LIST_QUERIES = 4  # as for the plain list: user, count, page, images


@pytest.mark.parametrize("archived", [None, "true", "false"])
@pytest.mark.parametrize("page_size", [1, 20])
def test_the_filtered_list_costs_a_fixed_number_of_queries(
    archived, page_size, client_for, buyer, seller, category, django_assert_num_queries
):
    for n in range(50):
        conversation = start(buyer, make_active_ad(seller, category), f"Hello {n}")
        if n % 2:
            conversation.buyer_archived = True
        conversation.buyer_muted = n % 3 == 0
        conversation.save(update_fields=["buyer_archived", "buyer_muted"])
    client = client_for(buyer)
    params = {"page_size": str(page_size)}
    if archived is not None:
        params["archived"] = archived

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(CONVERSATIONS, params)

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 25 and len(data["results"]) == page_size
    assert {row["archived"] for row in data["results"]} == {archived == "true"}


def test_the_schema_documents_the_flags_and_their_endpoints(api):
    schema = api.get("/api/schema/").json()
    paths = schema["paths"]
    components = schema["components"]["schemas"]

    for action in FLAG_PATHS:
        operation = paths[f"/api/messages/{{conversation_id}}/{action}"]["post"]
        assert set(paths[f"/api/messages/{{conversation_id}}/{action}"]) - {"parameters"} == {
            "post"
        }
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ConversationOutput"
        }
        assert "404" in operation["responses"] and operation["description"]
    conversation = components["ConversationOutput"]
    for field in ("archived", "muted"):
        assert conversation["properties"][field]["type"] == "boolean"
        assert conversation["properties"][field]["description"]
        assert field in conversation["required"]
    listing = paths["/api/messages/conversations/"]["get"]
    archived = next(p for p in listing["parameters"] if p["name"] == "archived")
    assert archived["in"] == "query" and archived["schema"]["enum"] == ["true", "false"]
    assert "400" in listing["responses"]
