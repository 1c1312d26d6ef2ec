"""Chat writes. The database is the truth: a message is stored first, then announced to both
participants' sockets after commit; a resend with the same client_id returns the stored one."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from uuid import UUID

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from apps.ads import selectors as ad_selectors
from apps.chat import events, safety
from apps.chat.models import Conversation, Message
from apps.common import dispatch
from apps.common.errors import Blocked, DomainError, FieldError
from apps.common.images import sanitize_image
from apps.common.redis import cache_key, get_redis
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
    # (group, event) pairs of message.new, published on commit unless announce=False
    events: tuple[tuple[str, dict[str, Any]], ...] = ()


def check_not_blocked(user: User, other_id: Any) -> None:
    if other_id in user_selectors.blocked_user_ids(user=user):
        raise Blocked()


def start_conversation(
    *, buyer: User, ad_id: Any, body: str, client_id: str | None = None
) -> tuple[Conversation, Sent, bool]:
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
        sent = store_message(
            sender=buyer, conversation=conversation, body=body, client_id=client_id
        )
    return conversation, sent, created


def send_message(
    *,
    sender: User,
    conversation: Conversation,
    body: str,
    client_id: str | None = None,
    image: UploadedFile | None = None,
    absolute: Callable[[str], str] | None = None,
    announce: bool = True,
) -> Sent:
    """Store a message (see store_message); `announce=False` leaves the message.new events in
    `Sent.events` for the caller to publish (the socket consumer does, on its event loop)."""
    return store_message(
        sender=sender,
        conversation=conversation,
        body=body,
        client_id=client_id,
        image=image,
        absolute=absolute,
        announce=announce,
    )


# One statement, so one round trip and atomic on its own: unless either participant blocked
# the other, insert the message, make it the conversation's last one (a new message brings an
# archived conversation back for both participants) and count it in the ad's daily stats when
# the sender is not the ad's owner (apps.ads.services.count_message's rule, AdDailyStats.
# messages). A client_id the sender used already inserts nothing (ON CONFLICT on
# unique_client_id). The answer: (blocked, new message id or NULL).
_STORE_MESSAGE = """
WITH b AS (
    SELECT EXISTS (SELECT 1 FROM users_block
                    WHERE (blocker_id = %(sender)s AND blocked_id = %(other)s)
                       OR (blocker_id = %(other)s AND blocked_id = %(sender)s)) AS blocked
), m AS (
    INSERT INTO chat_message (conversation_id, sender_id, body, client_id, warning, created_at,
                              read_at, image, image_width, image_height)
    SELECT %(conversation)s, %(sender)s, %(body)s, %(client_id)s, %(warning)s, %(now)s, NULL,
           %(image)s, %(width)s, %(height)s
      FROM b WHERE NOT b.blocked
    ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
    RETURNING id
), c AS (
    UPDATE chat_conversation
       SET last_message_id = m.id, updated_at = %(now)s, buyer_archived = false,
           seller_archived = false
      FROM m WHERE chat_conversation.id = %(conversation)s
), s AS (
    INSERT INTO ads_addailystats (ad_id, date, views, phone_reveals, favorites, messages)
    SELECT %(ad)s, %(day)s, 0, 0, 0, 1 FROM m WHERE %(counted)s
    ON CONFLICT (ad_id, date) DO UPDATE SET messages = ads_addailystats.messages + 1
)
SELECT (SELECT blocked FROM b), (SELECT id FROM m)
"""


def store_message(
    *,
    sender: User,
    conversation: Conversation,
    body: str,
    client_id: str | None,
    image: UploadedFile | None = None,
    absolute: Callable[[str], str] | None = None,
    announce: bool = True,
) -> Sent:
    """Store the message unless the participants blocked each other (Blocked); a resend (same
    sender and client_id) stores nothing and returns the original. `image`: checked and
    re-encoded as ad photos are (bad type 400 invalid_image, over 10 MiB 413 file_too_large:
    nothing stored either way).

    Cost, the hot path of the socket: one statement (_STORE_MESSAGE), plus, for the first
    message in a while to this recipient in this conversation, the offline check's outbox row
    in the same transaction (schedule_unread_check)."""
    body = body.strip()
    if not body:
        raise FieldError("body", "This field may not be blank.", "blank")
    client_id = client_id or None
    other = conversation.other_party_id(sender.pk)
    if client_id and image is not None:  # a resend of a photo: no second upload stored
        existing = Message.objects.filter(sender=sender, client_id=client_id).first()
        if existing is not None:
            return Sent(existing, created=False)
    stored_name = ""
    width: int | None = None
    height: int | None = None
    if image is not None:
        clean = sanitize_image(image, attr="image")
        stored_name = default_storage.save(
            timezone.now().strftime("chat/%Y/%m/") + str(clean.content.name), clean.content
        )
        width, height = clean.width, clean.height
    now = timezone.now()
    message = Message(
        conversation_id=conversation.pk,
        sender_id=sender.pk,
        body=body,
        client_id=client_id,
        warning=safety.warning_for(body),
        created_at=now,
        read_at=None,
        image=stored_name,
        image_width=width,
        image_height=height,
    )
    check_key = cache_key("chat-unread-check", conversation.pk, other)
    schedule = claim_unread_check(check_key)
    try:
        with transaction.atomic() if schedule else contextlib.nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(
                    _STORE_MESSAGE,
                    {
                        "conversation": conversation.pk,
                        "sender": sender.pk,
                        "other": other,
                        "body": body,
                        "client_id": client_id,
                        "warning": message.warning,
                        "now": now,
                        "image": stored_name,
                        "width": width,
                        "height": height,
                        "ad": conversation.ad_id,
                        "day": now.astimezone(UTC).date(),
                        "counted": sender.pk != conversation.seller_id,
                    },
                )
                blocked, message_id = cursor.fetchone()
            if message_id is not None and schedule:
                from apps.chat import tasks

                dispatch.enqueue(
                    tasks.notify_unread, message_id, countdown=tasks.UNREAD_EMAIL_DELAY
                )
    except BaseException:
        if stored_name:  # nothing committed: the photo must not stay behind
            default_storage.delete(stored_name)
        if schedule:
            release_unread_check(check_key)
        raise
    if message_id is None:
        if schedule:
            release_unread_check(check_key)
        if stored_name:
            default_storage.delete(stored_name)
        if blocked:
            raise Blocked()
        # the client_id was used already (a resend, or a race from another socket)
        return Sent(Message.objects.get(sender=sender, client_id=client_id), created=False)
    message.id = message_id
    message._state.adding = False
    payload = events.message_payload(message, absolute)
    event = events.message_new(conversation.pk, payload)  # encoded once for both groups
    announced = tuple(
        (events.user_group(user_id), event)
        for user_id in (conversation.buyer_id, conversation.seller_id)
    )
    if announce:
        for group, event in announced:
            dispatch.publish(group, event)
    return Sent(message, created=True, events=announced)


def claim_unread_check(key: str) -> bool:
    """Whether this message schedules the offline-email check (tasks.notify_unread).

    One check is pending per conversation and recipient at a time (the key lives as long as
    the check's delay): a message sent while one is pending schedules none, since that check
    looks at every message still unread, this one too. A busy conversation thus costs one task
    a minute, not one per message (each task is an outbox row, a broker publish and a stamp).
    Without Redis, every message schedules one, as before."""
    from apps.chat import tasks

    try:
        return bool(get_redis().set(key, "1", nx=True, ex=tasks.UNREAD_EMAIL_DELAY))
    except RedisError:
        return True


def release_unread_check(key: str) -> None:
    """The message was not stored after all: the next one schedules the check."""
    with contextlib.suppress(RedisError):
        get_redis().delete(key)


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
        dispatch.publish(
            events.user_group(other),
            events.message_read(conversation.pk, reader=user.pk, up_to=newest),
        )
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
