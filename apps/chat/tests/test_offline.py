"""Offline notice (API.md section 7, ARCHITECTURE.md section 7): a recipient with no open socket
gets one email per conversation per quiet period about messages still unread."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from apps.chat import presence, services, tasks
from apps.chat.models import Message
from apps.chat.tests.conftest import make_active_ad, messages_url, read_url, say, start
from apps.chat.tests.sockets import CLOSE_WAIT, run_async, sockets
from apps.notifications.models import Channel, OutboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def notify(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the task now (as the worker would after its countdown) and deliver its email."""

    def run(message: Message) -> bool:
        with django_capture_on_commit_callbacks(execute=True):
            return bool(tasks.notify_unread(str(message.pk)))

    return run


def emails_to(user: Any) -> list[Any]:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_an_unread_message_to_an_offline_recipient_is_emailed(
    notify, buyer, seller, conversation, ad
):
    message = Message.objects.get()

    assert notify(message) is True

    (email,) = emails_to(seller)
    assert ad.title in email.subject
    assert "1 unread message" in email.body
    assert str(conversation.pk) in email.body
    assert emails_to(buyer) == []
    assert OutboundMessage.objects.filter(channel=Channel.EMAIL, to=seller.email).count() == 1


def test_one_email_per_conversation_per_quiet_period(
    notify, buyer, seller, stranger, conversation, category
):
    first = Message.objects.get()
    second = say(buyer, conversation, "Hello again")
    third = say(buyer, conversation, "And again")

    assert [notify(m) for m in (first, second, third)] == [True, False, False]
    assert len(emails_to(seller)) == 1

    # another conversation of the same recipient has its own quiet period
    other = start(stranger, make_active_ad(seller, category), "Me too")
    assert notify(Message.objects.get(conversation=other)) is True
    assert len(emails_to(seller)) == 2

    # and so does the other direction of the same conversation
    reply = say(seller, conversation, "Yes, available")
    assert notify(reply) is True
    assert len(emails_to(buyer)) == 1
    assert len(emails_to(seller)) == 2


def test_after_the_quiet_period_the_next_unread_message_is_emailed(
    notify, monkeypatch, buyer, seller, conversation
):
    monkeypatch.setattr(tasks, "QUIET_PERIOD", 1)
    assert notify(Message.objects.get()) is True

    time.sleep(1.2)
    later = say(buyer, conversation, "Anyone there?")

    assert notify(later) is True
    assert len(emails_to(seller)) == 2
    assert "2 unread message" in emails_to(seller)[-1].body


def test_a_read_message_is_not_emailed(notify, client_for, buyer, seller, conversation):
    message = Message.objects.get()
    client_for(seller).post(read_url(conversation.pk))

    assert notify(message) is False
    assert mail.outbox == []
    assert not OutboundMessage.objects.exists()


def test_a_read_does_not_spend_the_quiet_period(notify, buyer, seller, conversation):
    services.mark_read(user=seller, conversation=conversation)
    assert notify(Message.objects.get()) is False

    later = say(buyer, conversation, "One more thing")
    assert notify(later) is True
    assert len(emails_to(seller)) == 1


def test_an_online_recipient_is_not_emailed(notify, buyer, seller, conversation):
    message = Message.objects.get()
    presence.connected(seller.pk)

    assert notify(message) is False
    assert mail.outbox == []

    # once the last socket closes, the next check emails (being online spent no quiet period)
    presence.disconnected(seller.pk)
    assert notify(message) is True
    assert len(emails_to(seller)) == 1


def test_presence_counts_every_open_socket(seller, buyer):
    assert presence.is_online(seller.pk) is False
    presence.connected(seller.pk)
    presence.connected(seller.pk)
    presence.disconnected(seller.pk)
    assert presence.is_online(seller.pk) is True
    assert presence.is_online(buyer.pk) is False
    presence.disconnected(seller.pk)
    assert presence.is_online(seller.pk) is False
    presence.disconnected(seller.pk)  # a stray extra close never goes negative
    presence.connected(seller.pk)
    assert presence.is_online(seller.pk) is True


def test_an_inactive_recipient_is_not_emailed(notify, buyer, seller, conversation):
    seller.is_active = False
    seller.save(update_fields=["is_active"])

    assert notify(Message.objects.get()) is False
    assert mail.outbox == []


def test_unknown_or_deleted_messages_are_ignored(conversation):
    message_id = Message.objects.get().pk
    Message.objects.filter(pk=message_id).delete()

    assert tasks.notify_unread(str(message_id)) is False
    assert tasks.notify_unread("999999999") is False
    assert mail.outbox == []


def scheduled_checks(monkeypatch: Any) -> list[tuple[tuple[str, ...], float]]:
    """notify_unread's publishes as (args, delay in seconds), whether given as countdown or as
    an eta (the outbox publishes with one)."""
    scheduled: list[tuple[tuple[str, ...], float]] = []

    def apply_async(args: Any, countdown: int = 0, eta: Any = None, **options: Any) -> None:
        delay = countdown if eta is None else round((eta - timezone.now()).total_seconds())
        scheduled.append((tuple(args), delay))

    monkeypatch.setattr(tasks.notify_unread, "apply_async", apply_async)
    return scheduled


def test_a_new_message_schedules_the_check_after_a_delay(
    client_for, buyer, seller, conversation, ad, monkeypatch
):
    scheduled = scheduled_checks(monkeypatch)
    client_id = str(uuid.uuid4())

    sent = (
        client_for(seller)
        .post(messages_url(conversation.pk), {"body": "Yes", "client_id": client_id})
        .json()
    )
    client_for(seller).post(
        messages_url(conversation.pk), {"body": "Yes", "client_id": client_id}
    )  # resend: nothing new

    assert scheduled == [((str(sent["id"]),), tasks.UNREAD_EMAIL_DELAY)]
    assert tasks.UNREAD_EMAIL_DELAY > 0


def test_one_check_is_pending_per_conversation_and_recipient(
    client_for,
    buyer,
    seller,
    stranger,
    conversation,
    ad,
    category,
    monkeypatch,
):
    """A burst of messages costs one check (it covers them all), not one task per message;
    the other direction and other conversations have their own."""
    from apps.common.redis import cache_key, get_redis

    get_redis().delete(cache_key("chat-unread-check", conversation.pk, seller.pk))
    scheduled = scheduled_checks(monkeypatch)
    first = client_for(buyer).post(messages_url(conversation.pk), {"body": "One"}).json()
    for body in ("Two", "Three"):
        client_for(buyer).post(messages_url(conversation.pk), {"body": body})
    reply = client_for(seller).post(messages_url(conversation.pk), {"body": "Hi"}).json()
    other = (
        client_for(stranger)
        .post(
            "/api/messages/conversations/",
            {"ad": str(make_active_ad(seller, category).pk), "message": "Mine?"},
        )
        .json()
    )
    # the pending check's time is up (its key expires with it): the next message schedules
    get_redis().delete(cache_key("chat-unread-check", conversation.pk, seller.pk))
    later = client_for(buyer).post(messages_url(conversation.pk), {"body": "Four"}).json()

    assert [args for args, _ in scheduled] == [
        (str(first["id"]),),
        (str(reply["id"]),),
        (str(other["last_message"]["id"]),),
        (str(later["id"]),),
    ]
    assert {delay for _, delay in scheduled} == {tasks.UNREAD_EMAIL_DELAY}
    ttl = get_redis().ttl(cache_key("chat-unread-check", conversation.pk, buyer.pk))
    assert 0 < ttl <= tasks.UNREAD_EMAIL_DELAY


def test_the_check_covers_messages_sent_after_its_own_was_read(
    notify, client_for, buyer, seller, conversation
):
    first = Message.objects.get()
    client_for(seller).post(read_url(conversation.pk))  # the first one is read...
    second = say(buyer, conversation, "Still there?")  # ...one more comes meanwhile

    assert notify(first) is True  # the pending check (for the first) emails about the second
    (email,) = emails_to(seller)
    assert "1 unread message" in email.body
    second.read_at = timezone.now()
    second.save(update_fields=["read_at"])
    assert notify(first) is False


def test_with_an_eager_worker_a_rest_message_emails_the_offline_recipient_once(
    client_for, buyer, seller, conversation
):
    from apps.common.redis import cache_key, get_redis

    # the fixture's own message scheduled a check that never runs here (its on-commit hooks
    # are dropped): as if its time were up
    get_redis().delete(cache_key("chat-unread-check", conversation.pk, seller.pk))
    client = client_for(buyer)
    client.post(messages_url(conversation.pk), {"body": "First"})
    client.post(messages_url(conversation.pk), {"body": "Second"})

    assert len(emails_to(seller)) == 1
    assert emails_to(buyer) == []


@pytest.mark.django_db(transaction=True)
@run_async
async def test_an_open_socket_keeps_the_email_away(buyer, seller, conversation):
    from channels.db import database_sync_to_async

    from apps.common.redis import get_redis

    message = await database_sync_to_async(Message.objects.get)()
    # Outside a test transaction the fixture's message already ran the (eager) check: start over.
    await database_sync_to_async(get_redis().flushdb)()
    emailed_before = await database_sync_to_async(
        OutboundMessage.objects.filter(to=seller.email).count
    )()

    async def check() -> bool:
        def run() -> bool:
            return bool(tasks.notify_unread(str(message.pk)))

        return await database_sync_to_async(run)()

    async with sockets() as open_socket:
        socket = await open_socket(seller)
        assert await database_sync_to_async(presence.is_online)(seller.pk) is True
        assert await check() is False
        await socket.disconnect(timeout=CLOSE_WAIT)

    assert await database_sync_to_async(presence.is_online)(seller.pk) is False
    assert await check() is True
    count = await database_sync_to_async(OutboundMessage.objects.filter(to=seller.email).count)()
    assert count == emailed_before + 1
