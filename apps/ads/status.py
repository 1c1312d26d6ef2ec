"""The ad lifecycle as data: which moves exist and who may make each.

`apps.ads.services.change_ad_status()` is the only writer of `Ad.status`; it consults
`TRANSITIONS` and refuses any other move (409 `ad_invalid_transition`).
"""

from __future__ import annotations

from enum import StrEnum

from apps.ads.models import AdStatus


class Actor(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    SYSTEM = "system"


S = AdStatus
OWNER, STAFF, SYSTEM = Actor.OWNER, Actor.STAFF, Actor.SYSTEM

TRANSITIONS: dict[tuple[AdStatus, AdStatus], frozenset[Actor]] = {
    (S.DRAFT, S.PENDING): frozenset({OWNER}),  # submit / publish
    (S.REJECTED, S.PENDING): frozenset({OWNER}),  # resubmit after an edit
    (S.EXPIRED, S.PENDING): frozenset({OWNER}),  # renew
    (S.PENDING, S.ACTIVE): frozenset({SYSTEM, STAFF}),  # checks pass / staff approves
    (S.PENDING, S.REJECTED): frozenset({SYSTEM, STAFF}),
    (S.ACTIVE, S.PENDING): frozenset({SYSTEM}),  # edit of title/description/price/category
    (S.ACTIVE, S.SOLD): frozenset({OWNER}),
    (S.ACTIVE, S.DRAFT): frozenset({OWNER}),
    (S.ACTIVE, S.EXPIRED): frozenset({SYSTEM}),
    (S.ACTIVE, S.HIDDEN): frozenset({STAFF, SYSTEM}),  # report action / suspension
    (S.HIDDEN, S.ACTIVE): frozenset({STAFF, SYSTEM}),  # undo
    (S.PENDING, S.HIDDEN): frozenset({STAFF, SYSTEM}),
}

# What the owner may ask for with PATCH {"status": ...}, and the move it stands for: asking for
# `active` from draft, rejected or expired means "publish again", which goes through moderation.
OWNER_REQUESTS: dict[AdStatus, dict[AdStatus, AdStatus]] = {
    S.ACTIVE: {S.DRAFT: S.PENDING, S.REJECTED: S.PENDING, S.EXPIRED: S.PENDING},
    S.SOLD: {S.ACTIVE: S.SOLD},
    S.DRAFT: {S.ACTIVE: S.DRAFT},
}


def is_allowed(current: AdStatus, target: AdStatus, actor: Actor) -> bool:
    return actor in TRANSITIONS.get((current, target), frozenset())
