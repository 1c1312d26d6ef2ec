"""Chat reads: only participants see a conversation; lists cost a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Case, Count, F, Prefetch, Q, QuerySet, When

from apps.ads.models import AdImage
from apps.chat.models import Conversation, Message
from apps.chat.services import conversation_id_or_none
from apps.users.models import User


def _mine(user: User, flag: str) -> Case:
    """The caller's own side of a per-participant flag ("archived", "muted")."""
    return Case(
        When(buyer=user, then=F(f"buyer_{flag}")),
        default=F(f"seller_{flag}"),
        output_field=BooleanField(),
    )


def conversations_of(*, user: User, archived: bool | None = None) -> QuerySet[Conversation]:
    """The user's conversations, each with `unread_count`, `archived` and `muted` (the user's
    own flags); `archived` True/False keeps only those the user archived / did not archive."""
    unread = Count("messages", filter=Q(messages__read_at__isnull=True) & ~Q(messages__sender=user))
    if archived is None:
        mine = Q(buyer=user) | Q(seller=user)
    else:
        mine = Q(buyer=user, buyer_archived=archived) | Q(seller=user, seller_archived=archived)
    return (
        Conversation.objects.filter(mine)
        .select_related("ad", "buyer__location", "seller__location", "last_message")
        .prefetch_related(Prefetch("ad__images", queryset=AdImage.objects.order_by("order", "id")))
        .annotate(unread_count=unread, archived=_mine(user, "archived"), muted=_mine(user, "muted"))
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
    return (
        Message.objects.filter(
            Q(conversation__buyer=user) | Q(conversation__seller=user), read_at__isnull=True
        )
        .exclude(sender=user)
        .count()
    )
