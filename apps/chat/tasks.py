"""Offline notice: a message still unread after a short delay, to a recipient with no open
socket, is emailed; at most one email per conversation and recipient per quiet period. A
recipient who muted the conversation gets none (muting spends no quiet period). One check is
pending per conversation and recipient at a time; it covers the messages sent meanwhile."""

from __future__ import annotations

from celery import shared_task

UNREAD_EMAIL_DELAY = 60
QUIET_PERIOD = 15 * 60


@shared_task(acks_late=True)
def notify_unread(message_id: str) -> bool:
    from apps.chat import presence
    from apps.chat.models import Message
    from apps.common.redis import cache_key, get_redis
    from apps.notifications import services as notifications
    from apps.users.models import User

    message = Message.objects.select_related("conversation__ad").filter(pk=int(message_id)).first()
    if message is None:
        return False
    conversation = message.conversation
    recipient_id = conversation.other_party_id(message.sender_id)
    # One check stands for every message to the recipient sent while it was pending
    # (services.schedule_unread_check): this one or a later one still unread.
    if (
        not Message.objects.filter(
            conversation=conversation, id__gte=message.pk, read_at__isnull=True
        )
        .exclude(sender_id=recipient_id)
        .exists()
    ):
        return False
    if conversation.is_muted_for(recipient_id):
        return False
    if presence.is_online(recipient_id):
        return False
    recipient = User.objects.filter(pk=recipient_id, is_active=True).first()
    if recipient is None:
        return False
    quiet_key = cache_key("chat-email", conversation.pk, recipient_id)
    if not get_redis().set(quiet_key, "1", nx=True, ex=QUIET_PERIOD):
        return False  # already emailed about this conversation lately
    unread = (
        Message.objects.filter(conversation=conversation, read_at__isnull=True)
        .exclude(sender_id=recipient_id)
        .count()
    )
    notifications.queue_email(
        to=recipient.email,
        subject=f"New messages about \u201c{conversation.ad.title}\u201d",
        body=(
            f"You have {unread} unread message(s) about \u201c{conversation.ad.title}\u201d.\n"
            f"Open the conversation: /api/messages/{conversation.pk}/"
        ),
    )
    return True
