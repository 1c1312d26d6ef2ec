"""Chat writes. The database is the truth: a message is stored first, then announced to both
participants' sockets after commit; a resend with the same client_id returns the stored one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.ads import selectors as ad_selectors
from apps.chat import events, safety
from apps.chat.models import Conversation, Message
from apps.common import dispatch
from apps.common.errors import Blocked, DomainError, FieldError
from apps.users import selectors as user_selectors
from apps.users.models import User


class AdUnavailable(DomainError):
    default_code = "ad_unavailable"
    default_detail = "This ad is not available."


class OwnAd(DomainError):
    default_code = "own_ad"
    default_detail = "You cannot start a conversation about your own ad."


@dataclass(frozen=True)
class Sent:
    message: Message
    created: bool


def check_not_blocked(user: User, other_id: Any) -> None:
    if other_id in user_selectors.blocked_user_ids(user=user):
        raise Blocked()


def start_conversation(*, buyer: User, ad_id: Any, body: str,
                       client_id: str | None = None) -> tuple[Conversation, Sent, bool]:
    """The buyer's conversation about the ad (new or existing) with the message appended."""
    ad = ad_selectors.get_public_ad_by_id(ad_id=ad_id)
    if ad is None:
        raise AdUnavailable(attr="ad")
    if ad.owner_id == buyer.pk:
        raise OwnAd(attr="ad")
    check_not_blocked(buyer, ad.owner_id)
    with transaction.atomic():
        conversation, created = Conversation.objects.get_or_create(
            ad=ad, buyer=buyer, defaults={"seller_id": ad.owner_id}
        )
        sent = store_message(sender=buyer, conversation=conversation, body=body,
                             client_id=client_id)
    return conversation, sent, created


def send_message(*, sender: User, conversation: Conversation, body: str,
                 client_id: str | None = None) -> Sent:
    check_not_blocked(sender, conversation.other_party_id(sender.pk))
    with transaction.atomic():
        return store_message(sender=sender, conversation=conversation, body=body,
                             client_id=client_id)


def store_message(*, sender: User, conversation: Conversation, body: str,
                  client_id: str | None) -> Sent:
    body = body.strip()
    if not body:
        raise FieldError("body", "This field may not be blank.", "blank")
    if client_id:
        existing = Message.objects.filter(sender=sender, client_id=client_id).first()
        if existing is not None:
            return Sent(existing, created=False)
    try:
        with transaction.atomic():
            message = Message.objects.create(conversation=conversation, sender=sender,
                                             body=body, client_id=client_id or None,
                                             warning=safety.warning_for(body))
    except IntegrityError:  # the same client_id raced in from another socket
        return Sent(Message.objects.get(sender=sender, client_id=client_id), created=False)
    # A new message brings an archived conversation back for both participants.
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message=message, updated_at=message.created_at, buyer_archived=False,
        seller_archived=False)
    from apps.ads import services as ad_services  # seller's per-ad stats: AdDailyStats.messages
    ad_services.count_message(ad_id=conversation.ad_id, sender_id=sender.pk)  # buyers' only
    payload = events.message_payload(message)
    for user_id in (conversation.buyer_id, conversation.seller_id):
        dispatch.publish(events.user_group(user_id),
                         events.message_new(conversation.pk, payload))
    from apps.chat import tasks

    dispatch.enqueue(tasks.notify_unread, message.pk, countdown=tasks.UNREAD_EMAIL_DELAY)
    return Sent(message, created=True)


def mark_read(*, user: User, conversation: Conversation) -> int | None:
    """Mark the other party's messages read; returns the newest id marked (or None)."""
    with transaction.atomic():
        unread = Message.objects.filter(conversation=conversation, read_at__isnull=True).exclude(
            sender=user
        )
        newest = unread.order_by("-id").values_list("id", flat=True).first()
        if newest is None:
            return None
        unread.filter(id__lte=newest).update(read_at=timezone.now())
        other = conversation.other_party_id(user.pk)
        dispatch.publish(events.user_group(other),
                         events.message_read(conversation.pk, reader=user.pk, up_to=newest))
    return newest


FLAGS = frozenset({"archived", "muted"})


def set_flag(*, user: User, conversation: Conversation, flag: str, value: bool) -> None:
    """Archive/unarchive or mute/unmute the conversation for `user` alone (idempotent).

    Neither changes `updated_at`: the conversation keeps its place in the list."""
    if flag not in FLAGS:
        raise ValueError(flag)
    field = f"{conversation.side_of(user.pk)}_{flag}"
    Conversation.objects.filter(pk=conversation.pk).update(**{field: value})
    setattr(conversation, field, value)


def conversation_id_or_none(raw: Any) -> UUID | None:
    try:
        return raw if isinstance(raw, UUID) else UUID(str(raw))
    except ValueError:
        return None
