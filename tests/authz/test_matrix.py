"""The authorisation matrix, generated from the URL configuration (deny by default).

`test_every_route_has_an_entry` walks every route of `marketplace.urls` (Django's resolver, the
included apps' URL modules too) and every HTTP method its view implements; each pair needs an
entry in MATRIX (or, for the few routes that are not REST endpoints, in NOT_API with the test
that covers them). A new endpoint without an entry fails the suite.

Each entry says what the endpoint answers to four callers, on the objects of
tests/security/world.py:

    anon      no token
    stranger  a signed-in user who owns nothing here and takes part in nothing
    owner     the owner of the object (the ad's seller, the conversation's participant, the
              reviewer/the reviewed seller, the payer...)
    staff     a moderator, who owns none of these objects

(OWASP API1 object-level and API5 function-level authorisation). Every caller's request runs in
a savepoint that is rolled back, so each one meets the same world; a 4xx must leave the rows it
targets unchanged (checked for the objects with a `watch` entry).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

from conftest import CommittingAPIClient
from tests.security.world import PASSWORD, World, build_world

ROLES = ("anon", "stranger", "owner", "staff")
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Entry:
    """Expected statuses as (anon, stranger, owner, staff); `args` fills the route's
    parameters, `body` the request's data, `watch` reads the target row (unchanged on 4xx)."""

    expect: tuple[int, int, int, int]
    args: Callable[[World], dict[str, Any]] = lambda w: {}
    body: Callable[[World], dict[str, Any]] | None = None
    multipart: bool = False
    watch: Callable[[World], Any] | None = None
    note: str = ""


def jpeg() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "red.jpg"
    return buffer


def ad_row(w: World) -> Any:
    from apps.ads.models import Ad

    return Ad.objects.filter(pk=w.ad.pk).values().first()


def conversation_row(w: World) -> Any:
    from apps.chat.models import Conversation, Message

    return (
        Conversation.objects.filter(pk=w.conversation.pk).values().first(),
        Message.objects.filter(conversation=w.conversation).count(),
    )


def category_row(w: World) -> Any:
    from apps.categories.models import Category

    return Category.all_objects.filter(pk=w.spare_category.pk).values().first()


AD = lambda w: {"slug": w.ad.slug}  # noqa: E731
CONV = lambda w: {"conversation_id": w.conversation.pk}  # noqa: E731
PENDING = lambda w: {"ad_id": w.pending_ad.pk}  # noqa: E731

# (route as written in the URL configuration, method) -> Entry
MATRIX: dict[tuple[str, str], Entry] = {
    # --- users -----------------------------------------------------------------------------
    ("api/users/register/", "post"): Entry(
        (201, 201, 201, 201),
        body=lambda w: {
            "email": "new.person@example.com",
            "password": "a long passphrase 9",
            "first_name": "New",
            "last_name": "Person",
        },
    ),
    ("api/users/login/", "post"): Entry(
        (200, 200, 200, 200), body=lambda w: {"email": w.owner.email, "password": PASSWORD}
    ),
    ("api/users/token/refresh/", "post"): Entry(
        (200, 200, 200, 200), body=lambda w: {"refresh": w.tokens["owner_refresh"]}
    ),
    ("api/users/logout/", "post"): Entry(
        (401, 400, 204, 400),
        body=lambda w: {"refresh": w.tokens["owner_refresh"]},
        note="another user's refresh token is 400 token_not_valid",
    ),
    ("api/users/verify/email/", "post"): Entry(
        (401, 400, 400, 400), body=lambda w: {"code": "000000"}
    ),
    ("api/users/verify/phone/", "post"): Entry(
        (401, 400, 400, 400), body=lambda w: {"code": "000000"}
    ),
    ("api/users/verify/resend/", "post"): Entry(
        (401, 400, 400, 400),
        body=lambda w: {"channel": "email"},
        note="every caller's email is already verified",
    ),
    ("api/users/profile/", "get"): Entry((401, 200, 200, 200)),
    ("api/users/profile/", "put"): Entry(
        (401, 200, 200, 200), body=lambda w: {"first_name": "Renamed"}
    ),
    ("api/users/profile/", "patch"): Entry(
        (401, 200, 200, 200), body=lambda w: {"last_name": "Renamed"}
    ),
    ("api/users/password/reset/", "post"): Entry(
        (200, 200, 200, 200), body=lambda w: {"email": w.owner.email}
    ),
    ("api/users/password/reset/confirm/", "post"): Entry(
        (400, 400, 400, 400),
        body=lambda w: {
            "email": w.owner.email,
            "code": "000000",
            "new_password": "another long passphrase",
        },
    ),
    ("api/users/password/change/", "post"): Entry(
        (401, 200, 200, 200),
        body=lambda w: {"old_password": PASSWORD, "new_password": "another long passphrase"},
    ),
    ("api/users/block/", "post"): Entry(
        (401, 201, 200, 201),
        body=lambda w: {"user": w.pest.pk},
        note="the owner already blocks pest: 200",
    ),
    ("api/users/blocked/", "get"): Entry((401, 200, 200, 200)),
    ("api/users/unblock/<str:user_id>/", "delete"): Entry(
        (401, 404, 204, 404),
        args=lambda w: {"user_id": w.pest.pk},
        note="only the owner blocks pest; not blocked -> 404",
    ),
    ("api/users/<str:user_id>/", "get"): Entry(
        (200, 200, 200, 200), args=lambda w: {"user_id": w.owner.pk}
    ),
    # --- locations, categories ---------------------------------------------------------------
    ("api/locations/", "get"): Entry((200, 200, 200, 200)),
    ("api/locations/<str:slug>/", "get"): Entry(
        (200, 200, 200, 200), args=lambda w: {"slug": w.location.slug}
    ),
    ("api/categories/", "get"): Entry((200, 200, 200, 200)),
    ("api/categories/all/", "get"): Entry((200, 200, 200, 200)),
    ("api/categories/<str:slug>/", "get"): Entry(
        (200, 200, 200, 200), args=lambda w: {"slug": w.category.slug}
    ),
    ("api/categories/admin/create/", "post"): Entry(
        (401, 403, 403, 201), body=lambda w: {"name": "Garden Tools"}, note="staff only"
    ),
    ("api/categories/admin/<str:slug>/update/", "put"): Entry(
        (401, 403, 403, 200),
        args=lambda w: {"slug": w.spare_category.slug},
        body=lambda w: {"name": "Spare Renamed"},
        watch=category_row,
    ),
    ("api/categories/admin/<str:slug>/delete/", "delete"): Entry(
        (401, 403, 403, 204), args=lambda w: {"slug": w.spare_category.slug}, watch=category_row
    ),
    # --- ads ---------------------------------------------------------------------------------
    ("api/ads/", "get"): Entry((200, 200, 200, 200)),
    ("api/ads/", "post"): Entry(
        (401, 201, 201, 201),
        body=lambda w: {
            "title": "Nokia 3310 classic",
            "description": "Works, long battery.",
            "category": w.category.pk,
            "location": w.location.pk,
            "price": "3000.00",
        },
    ),
    ("api/ads/my-ads/", "get"): Entry((401, 200, 200, 200)),
    ("api/ads/favorites/", "get"): Entry((401, 200, 200, 200)),
    ("api/ads/favorites/", "post"): Entry(
        (401, 201, 200, 201),
        body=lambda w: {"ad": w.buyer_ad.pk},
        note="the owner already has it: 200",
    ),
    ("api/ads/favorites/<str:ad_id>/", "delete"): Entry(
        (401, 404, 204, 404), args=lambda w: {"ad_id": w.buyer_ad.pk}
    ),
    ("api/ads/search/", "get"): Entry((200, 200, 200, 200)),
    ("api/ads/search/suggest/", "get"): Entry((200, 200, 200, 200)),
    ("api/ads/saved-searches/", "get"): Entry((401, 200, 200, 200)),
    ("api/ads/saved-searches/", "post"): Entry(
        (401, 201, 201, 201), body=lambda w: {"name": "Cheap", "q": "nokia"}
    ),
    ("api/ads/saved-searches/<str:saved_search_id>/", "delete"): Entry(
        (401, 404, 204, 404), args=lambda w: {"saved_search_id": w.saved_search.pk}
    ),
    ("api/ads/<slug:slug>/", "get"): Entry((200, 200, 200, 200), args=AD),
    ("api/ads/<slug:slug>/", "put"): Entry(
        (401, 403, 200, 403),
        args=AD,
        watch=ad_row,
        body=lambda w: {
            "title": "Samsung Galaxy A54 256GB",
            "description": "Upgraded.",
            "category": w.category.pk,
            "location": w.location.pk,
            "price": "26000.00",
        },
    ),
    ("api/ads/<slug:slug>/", "patch"): Entry(
        (401, 403, 200, 403), args=AD, watch=ad_row, body=lambda w: {"price": "24000.00"}
    ),
    ("api/ads/<slug:slug>/", "delete"): Entry((401, 403, 204, 403), args=AD, watch=ad_row),
    ("api/ads/<slug:slug>/similar/", "get"): Entry((200, 200, 200, 200), args=AD),
    ("api/ads/<slug:slug>/images/", "post"): Entry(
        (401, 403, 201, 403), args=AD, body=lambda w: {"image": jpeg()}, multipart=True
    ),
    ("api/ads/<slug:slug>/images/<str:image_id>/", "patch"): Entry(
        (401, 403, 200, 403),
        args=lambda w: {"slug": w.ad.slug, "image_id": w.image.pk},
        body=lambda w: {"order": 3},
    ),
    ("api/ads/<slug:slug>/images/<str:image_id>/", "delete"): Entry(
        (401, 403, 204, 403), args=lambda w: {"slug": w.ad.slug, "image_id": w.image.pk}
    ),
    ("api/ads/<slug:slug>/boost/", "post"): Entry(
        (401, 403, 202, 403), args=AD, body=lambda w: {"plan": w.plan.code}, watch=ad_row
    ),
    ("api/ads/<slug:slug>/reveal-phone/", "post"): Entry((401, 200, 200, 200), args=AD),
    ("api/ads/<slug:slug>/stats/", "get"): Entry(
        (401, 403, 200, 403), args=AD, note="seller analytics: the owner only"
    ),
    # --- chat --------------------------------------------------------------------------------
    ("api/messages/conversations/", "get"): Entry((401, 200, 200, 200)),
    ("api/messages/conversations/", "post"): Entry(
        (401, 201, 400, 201),
        body=lambda w: {"ad": w.ad.pk, "message": "Still for sale?"},
        note="the owner cannot start one on their own ad: 400 own_ad",
    ),
    ("api/messages/unread-count/", "get"): Entry((401, 200, 200, 200)),
    ("api/messages/ws-ticket/", "post"): Entry((401, 201, 201, 201)),
    ("api/messages/<str:conversation_id>/", "get"): Entry((401, 404, 200, 404), args=CONV),
    ("api/messages/<str:conversation_id>/", "post"): Entry(
        (401, 404, 201, 404),
        args=CONV,
        body=lambda w: {"body": "Yes, it is."},
        watch=conversation_row,
    ),
    ("api/messages/<str:conversation_id>/read/", "post"): Entry(
        (401, 404, 200, 404), args=CONV, watch=conversation_row
    ),
    ("api/messages/<str:conversation_id>/archive/", "post"): Entry(
        (401, 404, 200, 404), args=CONV, watch=conversation_row
    ),
    ("api/messages/<str:conversation_id>/unarchive/", "post"): Entry(
        (401, 404, 200, 404), args=CONV, watch=conversation_row
    ),
    ("api/messages/<str:conversation_id>/mute/", "post"): Entry(
        (401, 404, 200, 404), args=CONV, watch=conversation_row
    ),
    ("api/messages/<str:conversation_id>/unmute/", "post"): Entry(
        (401, 404, 200, 404), args=CONV, watch=conversation_row
    ),
    # --- moderation --------------------------------------------------------------------------
    ("api/moderation/reports/", "get"): Entry((401, 403, 403, 200), note="staff only"),
    ("api/moderation/reports/", "post"): Entry(
        (401, 201, 409, 201),
        body=lambda w: {"target_type": "ad", "target_id": str(w.buyer_ad.pk), "reason": "spam"},
        note="the owner already has an open report on it: 409 duplicate",
    ),
    ("api/moderation/reports/<str:report_id>/", "patch"): Entry(
        (401, 403, 403, 200),
        args=lambda w: {"report_id": w.report.pk},
        body=lambda w: {"status": "dismissed"},
        note="staff only (the owner is the reporter)",
    ),
    ("api/moderation/reviews/", "post"): Entry(
        (401, 403, 400, 403),
        body=lambda w: {"seller": w.owner.pk, "rating": 5, "comment": "Great seller."},
        note="no conversation with the owner: 403; reviewing yourself: 400",
    ),
    ("api/moderation/reviews/<str:id>/", "get"): Entry(
        (200, 200, 200, 200), args=lambda w: {"id": w.owner.pk}
    ),
    ("api/moderation/reviews/<str:id>/", "patch"): Entry(
        (401, 403, 200, 403),
        args=lambda w: {"id": w.review_by_owner.pk},
        body=lambda w: {"rating": 3},
    ),
    ("api/moderation/reviews/<str:id>/reply/", "post"): Entry(
        (401, 403, 201, 403),
        args=lambda w: {"id": w.review_of_owner.pk},
        body=lambda w: {"body": "Thank you!"},
        note="owner = the reviewed seller",
    ),
    ("api/moderation/queue/ads/", "get"): Entry((401, 403, 403, 200)),
    ("api/moderation/queue/ads/<str:ad_id>/approve/", "post"): Entry(
        (401, 403, 403, 200), args=PENDING
    ),
    ("api/moderation/queue/ads/<str:ad_id>/reject/", "post"): Entry(
        (401, 403, 403, 200), args=PENDING, body=lambda w: {"reason": "banned_word"}
    ),
    ("api/moderation/queue/ads/<str:ad_id>/hide/", "post"): Entry(
        (401, 403, 403, 200), args=PENDING
    ),
    # --- payments ----------------------------------------------------------------------------
    ("api/payments/plans/", "get"): Entry((200, 200, 200, 200)),
    ("api/payments/", "get"): Entry((401, 200, 200, 200)),
    ("api/payments/promotions/", "get"): Entry((401, 200, 200, 200)),
    ("api/payments/callback/<str:provider>/", "post"): Entry(
        (403, 403, 403, 403),
        args=lambda w: {"provider": "sandbox"},
        body=lambda w: {"reference": str(w.payment.pk), "status": "succeeded"},
        note="unsigned: refused whoever sends it",
    ),
    ("api/payments/<str:payment_id>/", "get"): Entry(
        (401, 404, 200, 404), args=lambda w: {"payment_id": w.payment.pk}
    ),
    # --- operations --------------------------------------------------------------------------
    ("metrics/?$", "get"): Entry(
        (404, 404, 404, 404),
        note="Prometheus: only METRICS_TOKEN or METRICS_ALLOWED_IPS; a user's JWT (staff "
        "included) is not enough, and the endpoint does not reveal itself",
    ),
    # --- documentation -----------------------------------------------------------------------
    ("api/schema/", "get"): Entry((200, 200, 200, 200)),
    ("api/docs/", "get"): Entry((200, 200, 200, 200)),
    ("api/redoc/", "get"): Entry((200, 200, 200, 200)),
}

# Routes that are not REST endpoints of the contract, and where they are tested.
NOT_API = {
    "healthz/?$": "probe, no data (apps/common/tests/test_docs_and_health.py)",
    "readyz/?$": "probe, no data (apps/common/tests/test_docs_and_health.py)",
    "<admin>": "Django admin: staff session + CSRF (tests/security/test_admin.py)",
    "<media>": "uploaded files, test profile only (nginx serves them: tests/security)",
    "api/": "catch-all: JSON 404 for unknown /api/ paths (apps/common/tests)",
}


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    from django.conf import settings

    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            if route == settings.ADMIN_URL:
                yield "<admin>", None
                continue
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            if route.startswith(settings.ADMIN_URL):  # the rate-limited admin sign-in
                yield "<admin>", None
                continue
            if route.startswith(settings.MEDIA_URL.lstrip("/")):
                yield "<media>", None
                continue
            yield route, pattern.callback


def view_methods(callback: Any) -> list[str]:
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:  # a plain function view
        return ["get"]
    return [m for m in METHODS if hasattr(view, m)]


def routes() -> list[tuple[str, str]]:
    found = []
    for route, callback in walk(get_resolver().url_patterns):
        if route in NOT_API:
            continue
        found += [(route, method) for method in view_methods(callback)]
    return found


def test_every_route_has_an_entry() -> None:
    """Deny by default: a route or method nobody classified fails here."""
    found = routes()
    missing = [pair for pair in found if pair not in MATRIX]
    assert not missing, f"routes without an authorisation entry: {missing}"
    stale = [pair for pair in MATRIX if pair not in found]
    assert not stale, f"entries for routes that no longer exist: {stale}"
    assert len(found) >= 70


def test_every_non_api_route_still_exists() -> None:
    names = {route for route, _ in walk(get_resolver().url_patterns)}
    assert set(NOT_API) <= names


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """One world for the module, in a transaction rolled back at the end."""
    from apps.users.services import issue_tokens

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = build_world()
            w.tokens = {
                "owner_refresh": issue_tokens(user=w.owner).refresh,
                **{role: issue_tokens(user=getattr(w, role)).access for role in ROLES[1:]},
            }
            yield w
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def url_for(route: str, args: dict[str, Any]) -> str:
    import re

    def fill(match: re.Match[str]) -> str:
        return str(args[match.group(1)])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, route)


def call(world: World, role: str, route: str, method: str, entry: Entry) -> tuple[int, Any]:
    client = CommittingAPIClient()
    if role != "anon":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[role]}")
    url = url_for(route, entry.args(world))
    kwargs: dict[str, Any] = {}
    if entry.body is not None:
        kwargs["data"] = entry.body(world)
        kwargs["format"] = "multipart" if entry.multipart else "json"
    with transaction.atomic():
        response = getattr(client, method)(url, **kwargs)
        after = entry.watch(world) if entry.watch else None
        transaction.set_rollback(True)
    return response.status_code, after


@pytest.mark.parametrize(("route", "method"), sorted(MATRIX), ids=lambda v: str(v))
def test_authorisation(world: World, db: Any, settings: Any, route: str, method: str) -> None:
    settings.THROTTLE_RATES = dict.fromkeys(settings.THROTTLE_RATES, "100000/m")
    entry = MATRIX[(route, method)]
    before = entry.watch(world) if entry.watch else None
    got = {}
    for role in ROLES:
        status, after = call(world, role, route, method, entry)
        got[role] = status
        if entry.watch and 400 <= status < 500:
            assert after == before, f"{role}: a {status} changed the target"
    assert tuple(got.values()) == entry.expect, (
        f"{method.upper()} /{route}: got {got}, "
        f"expected {dict(zip(ROLES, entry.expect, strict=True))}"
    )
