"""Chat reads: only participants see a conversation; lists cost a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.ads.models import AdImage
from apps.chat.models import Conversation, Message
from apps.chat.services import conversation_id_or_none
from apps.users.models import User


def conversations_of(*, user: User) -> QuerySet[Conversation]:
    unread = Count("messages", filter=Q(messages__read_at__isnull=True)
                   & ~Q(messages__sender=user))
    return (
        Conversation.objects.filter(Q(buyer=user) | Q(seller=user))
        .select_related("ad", "buyer__location", "seller__location", "last_message")
        .prefetch_related(Prefetch("ad__images", queryset=AdImage.objects.order_by("order", "id")))
        .annotate(unread_count=unread)
        .order_by("-updated_at", "-created_at")
    )


def get_conversation_for(*, user: User, conversation_id: Any) -> Conversation | None:
    pk = conversation_id_or_none(conversation_id)
    if pk is None:
        return None
    return Conversation.objects.filter(Q(buyer=user) | Q(seller=user), pk=pk).first()


def messages_of(*, conversation: Conversation, after: int | None = None) -> QuerySet[Message]:
    messages = Message.objects.filter(conversation=conversation)
    if after is not None:
        messages = messages.filter(id__gt=after)
    return messages.order_by("-id")


def unread_count(*, user: User) -> int:
    return Message.objects.filter(
        Q(conversation__buyer=user) | Q(conversation__seller=user), read_at__isnull=True
    ).exclude(sender=user).count()
