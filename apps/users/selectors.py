"""Reads about users: public profiles and who is blocked on either side."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

from apps.users.models import Block, User


def public_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("location")


def get_public_user(*, user_id: UUID | str) -> User | None:
    try:
        pk = user_id if isinstance(user_id, UUID) else UUID(str(user_id))
    except ValueError:
        return None
    return public_users().filter(is_suspended=False, pk=pk).first()


def get_user_by_email(email: str) -> User | None:
    from apps.users.models import normalize_email

    return User.objects.filter(email=normalize_email(email)).first()


def blocks_made_by(*, user: User) -> QuerySet[Block]:
    # `id` breaks ties in created_at, so pages never overlap or skip a block.
    return (
        Block.objects.filter(blocker=user)
        .select_related("blocked__location")
        .order_by("-created_at", "-id")
    )


def blocked_user_ids(*, user: User) -> set[UUID]:
    """Users on either side of a block with `user`: neither sees nor messages the other."""
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list(
        "blocker_id", "blocked_id"
    )
    return {other for pair in pairs for other in pair if other != user.pk}


def is_blocked_between(*, user_a: User, user_b: User) -> bool:
    return Block.objects.filter(
        Q(blocker=user_a, blocked=user_b) | Q(blocker=user_b, blocked=user_a)
    ).exists()
