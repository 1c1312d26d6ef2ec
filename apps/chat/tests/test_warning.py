"""Safety notices: a message with contact details or a pay-outside-the-platform phrase carries
`warning` ("contact_details" | "off_platform_payment" | null), decided when it is stored and
shown alike over REST and the socket."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from apps.chat import safety
from apps.chat.models import Message, MessageWarning
from apps.chat.tests.conftest import CONVERSATIONS, messages_url, say, start
from apps.chat.tests.sockets import receive, run_async, send, silent, sockets
from apps.moderation import checks

CONTACT = "contact_details"
PAYMENT = "off_platform_payment"

BODIES = [
    # phone numbers, however written
    ("Call me on 0712 345 678", CONTACT),
    ("my number: +254 712 345 678", CONTACT),
    ("0712-345-678 after 5pm", CONTACT),
    ("WhatsApp 254712345678", CONTACT),
    ("Office line 020 2345678", CONTACT),
    # email addresses and links
    ("Write to amani.w@example.co.ke", CONTACT),
    ("Photos at https://example.com/album", CONTACT),
    ("See www.example.com for more", CONTACT),
    # paying outside the platform, English and Swahili, any case and spacing
    ("Please pay via paybill 123456", PAYMENT),
    ("Send money first then I dispatch", PAYMENT),
    ("SEND   MONEY\nFIRST", PAYMENT),
    ("Lipa kwa M-Pesa kwanza", PAYMENT),
    ("Tuma pesa nikutumie mzigo", PAYMENT),
    ("A deposit first, balance on delivery", PAYMENT),
    ("I only accept Western Union", PAYMENT),
    ("What is your till number?", PAYMENT),
    ("Pay in advance and I ship today", PAYMENT),
    # both: the payment notice wins
    ("Send money first to 0712 345 678", PAYMENT),
    ("Deposit first: pay@example.com", PAYMENT),
    # clean
    ("Is it still available?", None),
    ("Can you do 2,500? I can pay 25000 cash.", None),
    ("Viewing on 05/05/2025 10am works for me", None),
    ("Bei ni ngapi? Niko Nairobi.", None),
    ("iPhone 13 128GB, 2 years old, model A2633", None),
    ("I will pay on delivery after I see it", None),
    ("Nitalipa nikiona", None),
    ("The deposited cheque cleared; first time buyer", None),
    ("Serial 1234567890123", None),
]


@pytest.mark.parametrize(("body", "expected"), BODIES)
def test_warning_for(body, expected):
    assert safety.warning_for(body) == expected


def test_the_moderation_patterns_are_reused_not_copied():
    assert safety.PHONE is checks.PHONE
    assert safety.EMAIL is checks.EMAIL
    assert safety.LINK is checks.LINK
    assert safety.DATE is checks.DATE
    assert {w.value for w in MessageWarning} == {CONTACT, PAYMENT}


# --- REST -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "expected"),
    [("Call 0712 345 678", CONTACT), ("Tuma pesa kwanza", PAYMENT), ("Still available?", None)],
)
def test_a_posted_message_carries_its_warning(
    body, expected, client_for, buyer, seller, conversation
):
    response = client_for(seller).post(messages_url(conversation.pk), {"body": body})

    assert response.status_code == 201
    assert response.json()["warning"] == expected
    stored = Message.objects.get(pk=response.json()["id"])
    assert stored.warning == expected
    assert stored.body == body  # delivered as sent
    history = client_for(buyer).get(messages_url(conversation.pk)).json()["results"]
    assert history[0]["warning"] == expected
    row = client_for(buyer).get(CONVERSATIONS).json()["results"][0]
    assert row["last_message"]["warning"] == expected


@pytest.mark.django_db
def test_starting_a_conversation_computes_the_warning_too(client_for, buyer, ad):
    response = client_for(buyer).post(
        CONVERSATIONS, {"ad": str(ad.pk), "message": "Email me: b@example.com"}
    )

    assert response.status_code == 201
    assert response.json()["last_message"]["warning"] == CONTACT
    assert Message.objects.get().warning == CONTACT


@pytest.mark.django_db
def test_the_warning_is_stored_once_and_a_resend_keeps_it(
    client_for, seller, conversation, monkeypatch
):
    client_id = str(uuid.uuid4())
    client = client_for(seller)
    first = client.post(
        messages_url(conversation.pk), {"body": "Deposit first please", "client_id": client_id}
    )
    # the stored column is what is shown: later rule changes do not rewrite history
    monkeypatch.setattr(safety, "warning_for", lambda body: None)

    again = client.post(
        messages_url(conversation.pk), {"body": "Deposit first please", "client_id": client_id}
    )
    history = client.get(messages_url(conversation.pk)).json()["results"]

    assert first.json()["warning"] == PAYMENT
    assert again.status_code == 200 and again.json() == first.json()
    assert history[0]["warning"] == PAYMENT


@pytest.mark.django_db
def test_the_service_sets_the_column(buyer, seller, ad):
    conversation = start(buyer, ad, "Hello, 0733 111 222 is mine")
    reply = say(seller, conversation, "Western Union only")

    assert list(Message.objects.order_by("id").values_list("warning", flat=True)) == [
        CONTACT,
        PAYMENT,
    ]
    assert reply.warning == PAYMENT


def test_the_schema_documents_warning(api, db):
    schema = api.get("/api/schema/").json()
    message = schema["components"]["schemas"]["MessageOutput"]
    warning = message["properties"]["warning"]

    assert "warning" in message["required"]
    assert warning.get("nullable") is True or {"type": "null"} in warning.get("oneOf", [])
    assert warning["description"]
    text = str(schema["components"]["schemas"])
    assert CONTACT in text and PAYMENT in text


# --- socket -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@run_async
async def test_socket_ack_and_delivery_carry_the_warning(buyer, seller, conversation):
    async with sockets() as open_socket:
        buyer_socket, seller_socket = await open_socket(buyer), await open_socket(seller)
        for body, expected in [
            ("Lipa kwa paybill 555111", PAYMENT),
            ("My email is b@example.com", CONTACT),
            ("Thanks!", None),
        ]:
            frame = {
                "type": "message.send",
                "conversation": str(conversation.pk),
                "body": body,
                "client_id": str(uuid.uuid4()),
            }
            await send(buyer_socket, frame)

            ack = await receive(buyer_socket)
            new = await receive(seller_socket)

            assert ack["type"] == "message.ack" and ack["message"]["warning"] == expected
            assert new == {
                "type": "message.new",
                "conversation": str(conversation.pk),
                "message": ack["message"],
            }
            stored = await database_sync_to_async(Message.objects.get)(pk=ack["message"]["id"])
            assert stored.warning == expected
        await silent(buyer_socket, seller_socket)
