"""Saved-search alerts: services.send_digest and the beat task send_saved_search_digests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.ads.models import AdStatus
from apps.search import services, tasks
from apps.search.models import SavedSearch, SavedSearchHit
from apps.search.tests.helpers import make_ad, minutes_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_digests(django_capture_on_commit_callbacks):
    """The beat task, with the emails it queues delivered (mail.outbox)."""

    def run() -> list:
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_saved_search_digests.apply()
        return mail.outbox[before:]

    return run


def save(user, name="Toyotas", q="toyota", **filters):
    search = services.create_saved_search(user=user, name=name, q=q, filters=filters)
    # Created a while ago, so "published after it was saved" is well defined.
    created = timezone.now() - timedelta(hours=2)
    SavedSearch.objects.filter(pk=search.pk).update(created_at=created, last_checked_at=created)
    search.refresh_from_db()
    return search


def car(owner, catalog, title, published=30, **fields):
    fields.setdefault("attributes", {"make": "Toyota"})
    return make_ad(owner=owner, category=catalog.cars, title=title,
                   published_at=minutes_ago(published), **fields)


def test_one_email_per_user_with_the_new_matches(run_digests, catalog, seller, buyer):
    save(buyer)
    save(buyer, name="Cheap cars", q="", category="cars", max_price="600000")
    car(seller, catalog, "Toyota Vitz 2010", price="550000")
    car(seller, catalog, "Toyota Premio 2016", price="1250000")
    car(seller, catalog, "Toyota Axio older", published=60 * 5)  # before the searches
    car(seller, catalog, "Mazda Demio", price="450000", attributes={"make": "Mazda"})
    make_ad(owner=seller, category=catalog.phones, title="Toyota phone case", price="900",
            published_at=minutes_ago(10))
    car(seller, catalog, "Toyota Fielder pending", status=AdStatus.PENDING)

    sent = run_digests()

    assert len(sent) == 1
    email = sent[0]
    assert email.to == [buyer.email]
    assert email.subject == "4 new ads match your saved searches"
    body = str(email.body)
    toyotas, cheap = body.split("Cheap cars:")
    assert "Toyotas:" in toyotas
    for title in ("Toyota Vitz 2010", "Toyota Premio 2016", "Toyota phone case"):
        assert title in toyotas
    assert "Mazda Demio" in cheap
    assert "Toyota Vitz 2010" not in cheap  # each ad once per email
    assert "Axio older" not in body and "pending" not in body
    assert "KES 550,000.00" in body


def test_never_the_same_ad_twice_across_runs(run_digests, catalog, seller, buyer):
    search = save(buyer)
    car(seller, catalog, "Toyota Vitz")

    assert len(run_digests()) == 1
    assert run_digests() == []  # nothing new

    newer = car(seller, catalog, "Toyota Noah", published=0)
    second = run_digests()
    assert len(second) == 1
    assert "Toyota Noah" in str(second[0].body) and "Vitz" not in str(second[0].body)

    # Even if the clock of the search went back, what was sent stays sent.
    SavedSearch.objects.filter(pk=search.pk).update(last_checked_at=search.created_at)
    assert run_digests() == []
    assert SavedSearchHit.objects.filter(saved_search=search).count() == 2
    assert SavedSearchHit.objects.filter(saved_search=search, ad=newer).exists()


def test_nothing_when_there_is_nothing_new(run_digests, catalog, seller, buyer):
    save(buyer)
    car(seller, catalog, "Mazda Demio", attributes={"make": "Mazda"})

    assert run_digests() == []
    assert services.send_digest(user_id=buyer.pk) == 0


def test_own_ads_blocked_sellers_and_inactive_ads_are_left_out(run_digests, catalog, seller,
                                                              buyer, make_user):
    from apps.users import services as user_services

    save(buyer)
    car(buyer, catalog, "Toyota of my own")
    rude = make_user()
    car(rude, catalog, "Toyota from a blocked seller")
    user_services.block_user(blocker=buyer, blocked_id=rude.pk)
    car(seller, catalog, "Toyota sold already", status=AdStatus.SOLD)
    car(seller, catalog, "Toyota deleted", deleted=True)

    assert run_digests() == []


def test_each_user_gets_their_own_email(run_digests, catalog, seller, buyer, make_user):
    other = make_user()
    save(buyer)
    save(other, name="Fielders", q="fielder")
    car(seller, catalog, "Toyota Fielder")

    sent = run_digests()

    assert sorted(email.to[0] for email in sent) == sorted([buyer.email, other.email])
    assert all("Toyota Fielder" in str(email.body) for email in sent)


def test_suspended_users_get_nothing(run_digests, catalog, seller, buyer):
    save(buyer)
    car(seller, catalog, "Toyota Vitz")
    buyer.is_suspended = True
    buyer.save(update_fields=["is_suspended"])

    assert run_digests() == []


def test_searches_whose_filters_went_stale_are_skipped(run_digests, catalog, seller, buyer):
    stale = save(buyer, name="Gone", q="toyota")
    SavedSearch.objects.filter(pk=stale.pk).update(filters={"category": "no-longer-there"})
    save(buyer, name="Fine", q="vitz")
    car(seller, catalog, "Toyota Vitz")

    sent = run_digests()

    assert len(sent) == 1
    assert "Fine:" in str(sent[0].body) and "Gone:" not in str(sent[0].body)


def test_only_ads_published_after_the_search_was_saved(run_digests, catalog, seller, buyer):
    car(seller, catalog, "Toyota before", published=1)
    services.create_saved_search(user=buyer, name="Fresh", q="toyota", filters={})

    assert run_digests() == []
    car(seller, catalog, "Toyota after", published=-1)
    assert ["Toyota after" in str(email.body) for email in run_digests()] == [True]
