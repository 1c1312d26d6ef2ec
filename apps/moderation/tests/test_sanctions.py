"""Suspension and its undoing: hidden ads, dead tokens, refused logins, closed sockets, and the
staff tools in the Django admin (suspend/unsuspend users, resolve/dismiss reports)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.ads.models import Ad, AdStatus, ModerationReason
from apps.ads.services import approve_after_checks, change_ad_status
from apps.ads.status import Actor
from apps.ads.tasks import moderate_stuck_ads
from apps.categories.models import Category
from apps.common.models import AuditEntry
from apps.moderation.models import Report, ReportStatus
from apps.moderation.tests.helpers import (
    LOGIN,
    PROFILE,
    REFRESH,
    REPORTS,
    TICKET,
    public_ids,
    reload,
    report_url,
)
from apps.users import services as user_services
from apps.users.models import User
from conftest import PASSWORD, error_codes
from marketplace.websocket_routes import websocket_urlpatterns

pytestmark = pytest.mark.django_db

USERS_ADMIN = "/admin/users/user/"
REPORTS_ADMIN = "/admin/moderation/report/"


@pytest.fixture
def superuser(make_user: Any) -> User:
    return make_user(is_staff=True, is_superuser=True, first_name="Root")


@pytest.fixture
def admin_client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def portfolio(seller: User, ad_in: Any, catalog: Any) -> dict[str, Ad]:
    """The seller's ads in every status; `staff_hidden` was hidden by staff for a report."""
    ads = {
        "live": ad_in("active", seller, title="Live phone one"),
        "live_car": ad_in("active", seller, catalog.cars, title="Live car two"),
        "draft": ad_in("draft", seller, title="Draft phone"),
        "pending": ad_in("pending", seller, title="Held phone",
                         moderation_reason="contact_details"),
        "sold": ad_in("sold", seller, title="Sold phone"),
        "expired": ad_in("expired", seller, title="Expired phone"),
        "rejected": ad_in("rejected", seller, title="Rejected phone"),
        "staff_hidden": ad_in("hidden", seller, title="Hidden by staff"),
        "deleted": ad_in("active", seller, title="Deleted phone", deleted=True),
    }
    return ads


def statuses(ads: dict[str, Ad]) -> dict[str, tuple[str, str | None]]:
    return {name: (row.status, row.moderation_reason)
            for name, row in ((name, reload(ad)) for name, ad in ads.items())}


def login(api: Any, user: User) -> Any:
    return api.post(LOGIN, {"email": user.email, "password": PASSWORD})


# --- suspend_user -----------------------------------------------------------------------------


def test_suspension_hides_only_the_users_live_ads(seller, buyer, moderator, portfolio,
                                                  active_ad, catalog, api):
    others = active_ad(buyer, title="Buyer's own phone")
    before = statuses(portfolio)

    hidden = user_services.suspend_user(user=seller, by=moderator, note="scam")

    after = statuses(portfolio)
    assert set(hidden) == {str(portfolio["live"].pk), str(portfolio["live_car"].pk)}
    assert after["live"] == after["live_car"] == ("hidden", "staff")
    assert {k: v for k, v in after.items() if k not in ("live", "live_car")} == {
        k: v for k, v in before.items() if k not in ("live", "live_car")}
    assert reload(others).status == AdStatus.ACTIVE
    assert public_ids(api) == {str(others.pk)}
    # Counts follow at once.
    assert User.objects.get(pk=seller.pk).active_ads_count == 0
    assert Category.all_objects.get(pk=catalog.phones.pk).ad_count == 1  # the buyer's
    assert Category.all_objects.get(pk=catalog.cars.pk).ad_count == 0
    entry = AuditEntry.objects.get(action="users.suspended", target_id=str(seller.pk))
    assert entry.actor_id == moderator.pk
    assert entry.data["note"] == "scam"


def test_suspension_kills_tokens_and_logins(seller, moderator, api, client_for):
    tokens = login(api, seller).json()
    access_client = client_for(seller)
    assert access_client.get(PROFILE).status_code == 200

    user_services.suspend_user(user=seller, by=moderator)

    refreshed = api.post(REFRESH, {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401
    assert error_codes(refreshed) == [("token_not_valid", None)]
    assert access_client.get(PROFILE).status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get(PROFILE).status_code == 401
    api.credentials()
    refused = login(api, seller)
    assert refused.status_code == 403
    assert error_codes(refused) == [("account_suspended", None)]


def test_a_suspended_user_disappears_from_public_views(seller, moderator, portfolio, api):
    user_services.suspend_user(user=seller, by=moderator)

    assert api.get(f"/api/users/{seller.pk}/").status_code == 404
    assert api.get(f"/api/moderation/reviews/{seller.pk}/").status_code == 404
    assert api.get(f"/api/ads/{portfolio['live'].slug}/").status_code == 404


def test_suspending_twice_changes_nothing_more(seller, moderator, portfolio):
    first = user_services.suspend_user(user=seller, by=moderator)
    entries = AuditEntry.objects.count()

    assert user_services.suspend_user(user=seller, by=moderator) == []
    assert AuditEntry.objects.count() == entries
    assert len(first) == 2


def test_a_suspended_users_pending_ad_is_not_approved_meanwhile(seller, moderator, ad_in, api):
    """An ad still waiting for the automatic checks (reason null) when its owner is
    suspended: neither the moderation task nor the stuck-ads sweep makes it live, and the
    sweep checks it once the owner is back."""
    waiting = ad_in("pending", seller, title="Waiting phone")
    user_services.suspend_user(user=seller, by=moderator)
    Ad.objects.filter(pk=waiting.pk).update(updated_at=waiting.updated_at - timedelta(hours=1))

    approve_after_checks(ad_id=waiting.pk)
    assert moderate_stuck_ads() == 0
    assert reload(waiting).status == AdStatus.PENDING

    user_services.unsuspend_user(user=seller, by=moderator)
    assert moderate_stuck_ads() == 1
    assert reload(waiting).status == AdStatus.ACTIVE
    assert str(waiting.pk) in public_ids(api)


# --- unsuspend_user ---------------------------------------------------------------------------


def test_unsuspension_restores_exactly_the_ads_the_suspension_hid(seller, moderator, portfolio,
                                                                  api, client_for):
    before = statuses(portfolio)
    hidden = user_services.suspend_user(user=seller, by=moderator)

    restored = user_services.unsuspend_user(user=seller, by=moderator)

    assert sorted(restored) == sorted(hidden)
    assert statuses(portfolio) == before
    assert reload(portfolio["staff_hidden"]).status == AdStatus.HIDDEN
    assert public_ids(api) == {str(portfolio["live"].pk), str(portfolio["live_car"].pk)}
    assert User.objects.get(pk=seller.pk).active_ads_count == 2
    assert login(api, seller).status_code == 200
    assert client_for(seller).get(PROFILE).status_code == 200


def test_an_ad_staff_hid_for_a_report_during_the_suspension_stays_hidden(
        seller, buyer, moderator, portfolio, client_for, api):
    """A report filed on the ad before the suspension, resolved with hide_ad while the owner
    is suspended (the ad is already hidden then): staff decided about that ad, so ending the
    suspension does not bring it back."""
    report = client_for(buyer).post(REPORTS, {"target_type": "ad", "reason": "scam",
                                              "target_id": str(portfolio["live"].pk)}).json()
    user_services.suspend_user(user=seller, by=moderator)
    response = client_for(moderator).patch(report_url(report["id"]),
                                           {"status": "resolved", "action": "hide_ad"})
    assert response.status_code == 200, response.json()

    restored = user_services.unsuspend_user(user=seller, by=moderator)

    assert restored == [str(portfolio["live_car"].pk)]
    assert reload(portfolio["live"]).status == AdStatus.HIDDEN
    assert public_ids(api) == {str(portfolio["live_car"].pk)}


def test_an_ad_staff_unhid_and_hid_again_during_the_suspension_stays_hidden(
        seller, moderator, portfolio):
    user_services.suspend_user(user=seller, by=moderator)
    ad = portfolio["live"]
    change_ad_status(ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.STAFF, by=moderator)
    change_ad_status(ad_id=ad.pk, to=AdStatus.HIDDEN, actor=Actor.STAFF, by=moderator,
                     reason=ModerationReason.STAFF)

    restored = user_services.unsuspend_user(user=seller, by=moderator)

    assert restored == [str(portfolio["live_car"].pk)]
    assert reload(ad).status == AdStatus.HIDDEN


def test_only_the_last_suspension_is_undone(seller, moderator, ad_in, portfolio):
    user_services.suspend_user(user=seller, by=moderator)
    user_services.unsuspend_user(user=seller, by=moderator)
    change_ad_status(ad_id=portfolio["live"].pk, to=AdStatus.HIDDEN, actor=Actor.STAFF,
                     by=moderator, reason=ModerationReason.STAFF)
    user_services.suspend_user(user=seller, by=moderator)

    assert user_services.unsuspend_user(user=seller, by=moderator) == [
        str(portfolio["live_car"].pk)]
    assert reload(portfolio["live"]).status == AdStatus.HIDDEN


def test_unsuspending_someone_not_suspended_does_nothing(seller, moderator, portfolio):
    before = statuses(portfolio)

    assert user_services.unsuspend_user(user=seller, by=moderator) == []
    assert statuses(portfolio) == before


# --- open sockets -----------------------------------------------------------------------------


async def receive_json(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return dict(json.loads(await communicator.receive_from(timeout=5)))


@pytest.mark.django_db(transaction=True)
def test_suspension_closes_the_users_open_sockets_with_4403(make_user, client_for):
    user, other, moderator = make_user(), make_user(), make_user(is_staff=True)
    tickets = [client_for(user).post(TICKET).json()["ticket"] for _ in range(2)]
    other_ticket = client_for(other).post(TICKET).json()["ticket"]
    spare_ticket = client_for(user).post(TICKET).json()["ticket"]
    application = URLRouter(websocket_urlpatterns)

    async def scenario() -> None:
        sockets = [WebsocketCommunicator(application, f"/ws/messages/?ticket={t}")
                   for t in (*tickets, other_ticket)]
        for socket in sockets:
            connected, _ = await socket.connect(timeout=5)
            assert connected
            assert (await receive_json(socket))["type"] == "ready"

        await database_sync_to_async(user_services.suspend_user)(user=user, by=moderator)

        for socket in sockets[:2]:  # every socket of the user
            assert await socket.receive_output(timeout=5) == {"type": "websocket.close",
                                                              "code": 4403}
        # Someone else's socket stays open.
        assert await sockets[2].receive_nothing(timeout=0.5)
        await sockets[2].disconnect()
        # A ticket issued before the suspension opens nothing afterwards.
        late = WebsocketCommunicator(application, f"/ws/messages/?ticket={spare_ticket}")
        connected, _ = await late.connect(timeout=5)
        assert connected
        assert await late.receive_output(timeout=5) == {"type": "websocket.close",
                                                        "code": 4401}

    asyncio.run(scenario())


# --- the Django admin -------------------------------------------------------------------------


def admin_action(client: Client, url: str, action: str, ids: list[Any]) -> Any:
    response = client.post(url, {"action": action, "_selected_action": [str(i) for i in ids],
                                 "index": 0}, follow=True)
    assert response.status_code == 200
    return response


def test_admin_suspend_and_unsuspend_actions(admin_client, seller, buyer, portfolio, api,
                                            client_for):
    seller_client = client_for(seller)
    before = statuses(portfolio)

    response = admin_action(admin_client, USERS_ADMIN, "suspend", [seller.pk])

    assert "1 account(s) suspended." in response.content.decode()
    assert User.objects.get(pk=seller.pk).is_suspended
    assert not User.objects.get(pk=buyer.pk).is_suspended
    assert seller_client.get(PROFILE).status_code == 401
    assert login(api, seller).status_code == 403
    assert public_ids(api) == set()

    response = admin_action(admin_client, USERS_ADMIN, "unsuspend", [seller.pk])

    assert "1 account(s) unsuspended." in response.content.decode()
    assert not User.objects.get(pk=seller.pk).is_suspended
    assert statuses(portfolio) == before
    assert login(api, seller).status_code == 200


def test_admin_user_list_filters_suspended(admin_client, seller, buyer, moderator):
    user_services.suspend_user(user=seller, by=moderator)

    response = admin_client.get(USERS_ADMIN, {"is_suspended__exact": "1"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [User.objects.get(pk=seller.pk)]


def test_admin_resolve_and_dismiss_reports(admin_client, superuser, make_user, client_for,
                                           seller, active_ad):
    ad = active_ad(seller)
    files = [client_for(make_user()).post(REPORTS, {
        "target_type": "ad", "target_id": str(ad.pk), "reason": "scam"}).json()
        for _ in range(3)]
    assert reload(ad).status == AdStatus.PENDING  # held by three reporters

    response = admin_action(admin_client, REPORTS_ADMIN, "resolve", [files[0]["id"]])
    assert "1 report(s) resolved." in response.content.decode()
    admin_action(admin_client, REPORTS_ADMIN, "dismiss", [f["id"] for f in files])

    rows = {r.pk: r for r in Report.objects.all()}
    assert rows[files[0]["id"]].status == ReportStatus.RESOLVED  # not re-closed as dismissed
    assert [rows[f["id"]].status for f in files[1:]] == [ReportStatus.DISMISSED] * 2
    assert all(r.resolved_by_id == superuser.pk and r.resolved_at for r in rows.values())
    # With every report closed, the ad held by them is live again.
    assert reload(ad).status == AdStatus.ACTIVE


def test_admin_report_queue_opens_and_filters(admin_client, buyer, seller, client_for):
    client_for(buyer).post(REPORTS, {"target_type": "user", "target_id": str(seller.pk),
                                     "reason": "offensive"})
    report = Report.objects.get()

    assert admin_client.get(REPORTS_ADMIN, {"status__exact": "open"}).status_code == 200
    assert admin_client.get(f"{REPORTS_ADMIN}{report.pk}/change/").status_code == 200
    assert admin_client.get(f"{REPORTS_ADMIN}add/").status_code == 403


def test_the_admin_is_closed_to_non_staff(client_for, buyer):
    client = Client()
    client.force_login(buyer)

    response = client.get(USERS_ADMIN)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
