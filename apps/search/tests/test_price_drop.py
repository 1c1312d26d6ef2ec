"""Price-drop alerts: lowering an active ad's price emails those who favourited it."""

from __future__ import annotations

import pytest
from django.core import mail

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus
from apps.search.tests.helpers import make_ad

pytestmark = pytest.mark.django_db


@pytest.fixture
def ad(catalog, seller):
    return make_ad(owner=seller, category=catalog.phones, title="Samsung Galaxy S21",
                   price="45000")


@pytest.fixture
def fans(ad, buyer, seller, make_user):
    others = [buyer, make_user()]
    for user in [*others, seller]:  # the owner favourites their own ad too
        ad_services.add_favorite(user=user, ad=ad)
    return others


def patch_price(client, ad, price):
    response = client.patch(f"/api/ads/{ad.slug}/", {"price": price}, format="json")
    assert response.status_code == 200, response.json()
    return response


def test_a_lower_price_emails_everyone_who_favourited_it_but_the_owner(
    client_for, ad, seller, fans
):
    mail.outbox.clear()

    patch_price(client_for(seller), ad, "39999.50")

    drops = [email for email in mail.outbox if email.subject.startswith("Price drop")]
    assert sorted(email.to[0] for email in drops) == sorted(user.email for user in fans)
    assert all(email.subject == "Price drop: Samsung Galaxy S21" for email in drops)
    assert "KES 39,999.50 (was KES 45,000.00)" in str(drops[0].body)
    assert Ad.objects.get(pk=ad.pk).status == AdStatus.ACTIVE  # back live after moderation


def test_a_higher_or_same_price_emails_nobody(client_for, ad, seller, fans):
    mail.outbox.clear()

    patch_price(client_for(seller), ad, "50000")
    patch_price(client_for(seller), ad, "50000.00")

    assert [email for email in mail.outbox if email.subject.startswith("Price drop")] == []


def test_an_edit_without_the_price_emails_nobody(client_for, ad, seller, fans):
    mail.outbox.clear()

    client_for(seller).patch(f"/api/ads/{ad.slug}/", {"negotiable": True}, format="json")

    assert [email for email in mail.outbox if email.subject.startswith("Price drop")] == []


def test_no_alert_for_an_ad_that_is_not_active(client_for, catalog, seller, buyer):
    draft = make_ad(owner=seller, category=catalog.phones, title="Draft phone", price="9000",
                    status=AdStatus.DRAFT)
    Ad.objects.filter(pk=draft.pk).update(favorites_count=1)
    from apps.ads.models import Favorite

    Favorite.objects.create(user=buyer, ad=draft)
    mail.outbox.clear()

    patch_price(client_for(seller), draft, "5000")

    assert [email for email in mail.outbox if email.subject.startswith("Price drop")] == []
