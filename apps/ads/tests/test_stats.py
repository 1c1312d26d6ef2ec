"""The seller's per-ad analytics: the daily counters (AdDailyStats) each event moves, and
GET /api/ads/<slug>/stats/ (owner only, `?days=`, before/during promotion averages, a fixed
number of queries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apps.ads import services, views_counter
from apps.ads.models import Ad, AdDailyStats
from apps.ads.tests.factories import FAVORITES, detail_url, favorite_url, make_ad, reload
from apps.chat import services as chat_services
from apps.common.redis import cache_key, get_redis
from apps.payments.models import Plan, Promotion
from apps.payments.tests.helpers import make_payment
from conftest import error_codes

pytestmark = pytest.mark.django_db

STATS_KEYS = {"ad", "totals", "days", "promotions", "before_promotion", "during_promotion"}
COUNTER_KEYS = {"views", "phone_reveals", "favorites", "messages"}
DAY_KEYS = {"date", *COUNTER_KEYS, "promoted"}
AVERAGE_KEYS = {"days", *COUNTER_KEYS}
# Observed once and pinned; the same whatever `days`, the daily rows and the promotions:
# the caller (token), the ad, its promotions, its daily rows.
STATS_QUERIES = 4


def stats_url(slug: str) -> str:
    return f"/api/ads/{slug}/stats/"


def reveal_url(slug: str) -> str:
    return f"/api/ads/{slug}/reveal-phone/"


def today() -> date:
    return datetime.now(UTC).date()


def day_row(ad: Ad, day: date | None = None) -> dict[str, int] | None:
    row = AdDailyStats.objects.filter(ad=ad, date=day or today()).values_list(
        "views", "phone_reveals", "favorites", "messages").first()
    return counters(*row) if row else None


def counters(views: int = 0, phone_reveals: int = 0, favorites: int = 0, messages: int = 0
             ) -> dict[str, int]:
    return {"views": views, "phone_reveals": phone_reveals, "favorites": favorites,
            "messages": messages}


def today_in_stats(client: Any, ad: Ad) -> dict[str, Any]:
    response = client.get(stats_url(ad.slug), {"days": 1})
    assert response.status_code == 200, response.content
    (day,) = response.json()["days"]
    assert day["date"] == today().isoformat()
    return {key: day[key] for key in COUNTER_KEYS}


def promote(ad: Ad, *, tier: str, starts_at: datetime, ends_at: datetime) -> Promotion:
    """A promotion row as a settled payment leaves it, at any time in the past or future."""
    plan, _ = Plan.objects.get_or_create(
        code=f"{tier}-test", defaults={"name": tier.title(), "tier": tier, "duration_days": 7,
                                       "price": Decimal("299.00")})
    payment = make_payment(user=ad.owner, ad=ad, plan=plan, status="succeeded")
    return Promotion.objects.create(payment=payment, ad=ad, tier=tier, starts_at=starts_at,
                                    ends_at=ends_at)


def history(ad: Ad, rows: dict[int, dict[str, int]]) -> None:
    """Daily rows `days_ago -> counters`, written directly for past days."""
    AdDailyStats.objects.bulk_create(
        AdDailyStats(ad=ad, date=today() - timedelta(days=back), **values)
        for back, values in rows.items()
    )


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(days_ago: int, hour: int) -> datetime:
    day = today() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# --- the counters -----------------------------------------------------------------------------


def test_views_reach_the_day_after_a_flush_in_one_statement(api, buyer_client, seller_client,
                                                            seller, catalog,
                                                            django_assert_num_queries):
    ad = make_ad(owner=seller, category=catalog.phones)
    other = make_ad(owner=seller, category=catalog.phones)
    seller_client.get(detail_url(ad.slug))  # the owner: never counted
    buyer_client.get(detail_url(ad.slug))
    buyer_client.get(detail_url(ad.slug))  # same viewer, same day
    api.get(detail_url(ad.slug), REMOTE_ADDR="10.0.0.1")
    api.get(detail_url(other.slug), REMOTE_ADDR="10.0.0.1")
    assert day_row(ad) is None  # waiting in Redis

    with django_assert_num_queries(1):  # ads_ad and the daily rows together
        assert views_counter.flush_view_counts() == 2

    assert day_row(ad) == counters(views=2)
    assert day_row(other) == counters(views=1)
    assert (reload(ad).views_count, reload(other).views_count) == (2, 1)

    api.get(detail_url(ad.slug), REMOTE_ADDR="10.0.0.2")
    views_counter.flush_view_counts()
    assert day_row(ad) == counters(views=3)  # added to the day's row, not replacing it
    assert today_in_stats(seller_client, ad) == counters(views=3)


def test_views_count_for_the_utc_day_they_happened(buyer_client, seller, catalog, monkeypatch):
    ad = make_ad(owner=seller, category=catalog.phones)

    class Yesterday(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) - timedelta(days=1)

    monkeypatch.setattr(views_counter, "datetime", Yesterday)
    buyer_client.get(detail_url(ad.slug))  # viewed "yesterday", flushed today
    monkeypatch.undo()
    buyer_client.get(detail_url(ad.slug))  # a new day: counts again
    # a count queued in the old format (no day) while the new code was deployed: today
    get_redis().hincrby(cache_key(views_counter.PENDING_KEY), str(ad.pk), 2)

    assert views_counter.flush_view_counts() == 1
    assert day_row(ad, today() - timedelta(days=1)) == counters(views=1)
    assert day_row(ad) == counters(views=3)
    assert reload(ad).views_count == 4


def test_views_of_an_ad_gone_from_the_database_are_dropped(api, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    kept = make_ad(owner=seller, category=catalog.phones)
    api.get(detail_url(ad.slug))
    api.get(detail_url(kept.slug))
    Ad.objects.filter(pk=ad.pk).delete()

    views_counter.flush_view_counts()
    assert day_row(kept) == counters(views=1)
    assert not AdDailyStats.objects.filter(ad_id=ad.pk).exists()


def test_each_phone_reveal_counts(buyer_client, seller_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    for _ in range(3):
        assert buyer_client.post(reveal_url(ad.slug)).status_code == 200

    assert day_row(ad) == counters(phone_reveals=3)
    assert reload(ad).phone_reveals_count == 3
    assert today_in_stats(seller_client, ad) == counters(phone_reveals=3)


def test_favorites_count_net_adds(buyer_client, client_for, make_user, seller_client, seller,
                                  catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    assert buyer_client.post(FAVORITES, {"ad": str(ad.pk)}, format="json").status_code == 201
    assert buyer_client.post(FAVORITES, {"ad": str(ad.pk)}, format="json").status_code == 200
    other = client_for(make_user())
    assert other.post(FAVORITES, {"ad": str(ad.pk)}, format="json").status_code == 201
    assert day_row(ad) == counters(favorites=2)  # adding twice counts once

    assert buyer_client.delete(favorite_url(ad.pk)).status_code == 204
    assert buyer_client.delete(favorite_url(ad.pk)).status_code == 404  # counts nothing

    assert day_row(ad) == counters(favorites=1)
    assert reload(ad).favorites_count == 1
    assert today_in_stats(seller_client, ad) == counters(favorites=1)


def test_a_removal_counts_on_its_own_day(seller, buyer, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    assert not services.remove_favorite(user=buyer, ad_id=ad.pk)  # not a favourite: nothing
    assert day_row(ad) is None
    services.add_favorite(user=buyer, ad=ad)
    AdDailyStats.objects.filter(ad=ad).update(date=today() - timedelta(days=2))  # added then

    services.remove_favorite(user=buyer, ad_id=ad.pk)
    assert day_row(ad, today() - timedelta(days=2)) == counters(favorites=1)
    assert day_row(ad) == counters(favorites=-1)  # net adds: this day lost one


def test_messages_count_every_message_the_seller_receives(seller, buyer, make_user,
                                                         seller_client, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    conversation, _, _ = chat_services.start_conversation(buyer=buyer, ad_id=ad.pk,
                                                          body="Is it available?",
                                                          client_id="c-1")
    chat_services.send_message(sender=buyer, conversation=conversation, body="Still there?")
    chat_services.send_message(sender=seller, conversation=conversation, body="Yes")  # not
    chat_services.send_message(sender=buyer, conversation=conversation,  # a resend: not
                               body="Is it available?", client_id="c-1")
    assert day_row(ad) == counters(messages=2)

    chat_services.start_conversation(buyer=make_user(), ad_id=ad.pk, body="Last price?")
    assert day_row(ad) == counters(messages=3)
    assert today_in_stats(seller_client, ad) == counters(messages=3)


def test_an_unknown_counter_is_refused(seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    with pytest.raises(ValueError, match="shares"):
        services.bump_daily_stats(ad_id=ad.pk, shares=1)
    assert day_row(ad) is None


# --- who may read them ------------------------------------------------------------------------


def test_anonymous_gets_401(api, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    response = api.get(stats_url(ad.slug))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_codes(response) == [("not_authenticated", None)]


def test_someone_else_gets_403_on_an_ad_they_can_see(buyer_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    response = buyer_client.get(stats_url(ad.slug))
    assert response.status_code == 403
    assert error_codes(response) == [("permission_denied", None)]
    # object permission comes before validation
    assert buyer_client.get(stats_url(ad.slug), {"days": "many"}).status_code == 403


@pytest.mark.parametrize("status", ["draft", "pending", "sold", "expired", "hidden"])
def test_someone_else_gets_404_on_an_ad_they_cannot_see(buyer_client, seller_client, seller,
                                                        catalog, status):
    ad = make_ad(owner=seller, category=catalog.phones, status=status)
    response = buyer_client.get(stats_url(ad.slug))
    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
    assert seller_client.get(stats_url(ad.slug)).status_code == 200  # the owner sees them


def test_unknown_and_deleted_ads_are_404_for_everyone(seller_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones, deleted=True)
    assert seller_client.get(stats_url(ad.slug)).status_code == 404
    assert seller_client.get(stats_url("no-such-ad")).status_code == 404


def test_a_blocked_owner_s_ad_is_404(buyer_client, buyer, seller, catalog):
    from apps.users.models import Block

    ad = make_ad(owner=seller, category=catalog.phones)
    Block.objects.create(blocker=buyer, blocked=seller)
    assert buyer_client.get(stats_url(ad.slug)).status_code == 404


# --- the body ---------------------------------------------------------------------------------


def test_shape_and_default_window(seller_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    history(ad, {0: counters(views=5, phone_reveals=1), 29: counters(views=2),
                 30: counters(views=100)})  # 30 days ago is outside the default window

    response = seller_client.get(stats_url(ad.slug))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == STATS_KEYS
    assert body["ad"] == str(ad.pk)
    assert len(body["days"]) == 30
    assert all(set(day) == DAY_KEYS for day in body["days"])
    assert [day["date"] for day in body["days"]] == [
        (today() - timedelta(days=back)).isoformat() for back in range(29, -1, -1)]
    assert body["days"][0] == {"date": (today() - timedelta(days=29)).isoformat(),
                               **counters(views=2), "promoted": None}
    assert body["days"][-1] == {"date": today().isoformat(),
                                **counters(views=5, phone_reveals=1), "promoted": None}
    assert body["days"][1] == {"date": (today() - timedelta(days=28)).isoformat(),
                               **counters(), "promoted": None}  # no activity: zeros
    assert body["totals"] == counters(views=7, phone_reveals=1)
    assert body["promotions"] == []
    assert body["before_promotion"] is None
    assert body["during_promotion"] is None


@pytest.mark.parametrize(("days", "length"), [("1", 1), ("7", 7), ("90", 90), (None, 30),
                                             ("", 30)])  # empty: as if absent
def test_days_chooses_the_window(seller_client, seller, catalog, days, length):
    ad = make_ad(owner=seller, category=catalog.phones)
    params = {} if days is None else {"days": days}
    body = seller_client.get(stats_url(ad.slug), params).json()
    assert len(body["days"]) == length
    assert body["days"][-1]["date"] == today().isoformat()


@pytest.mark.parametrize(("days", "code"), [
    ("0", "min_value"), ("-3", "min_value"), ("91", "max_value"), ("1000", "max_value"),
    ("abc", "invalid"), ("7.5", "invalid"), ("1e3", "invalid"), ("3 days", "invalid"),
])
def test_a_bad_days_is_400_on_days(seller_client, seller, catalog, days, code):
    ad = make_ad(owner=seller, category=catalog.phones)
    response = seller_client.get(stats_url(ad.slug), {"days": days})
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [(code, "days")]


def test_averages_before_and_during_promotion(seller_client, seller, catalog):
    """A constructed history: 7 quiet days, a boost, then a featured that runs on."""
    ad = make_ad(owner=seller, category=catalog.phones,
                 created_at=datetime.now(UTC) - timedelta(days=40))
    boost = promote(ad, tier="boost", starts_at=at(5, 9), ends_at=at(3, 9))
    featured = promote(ad, tier="featured", starts_at=at(3, 9), ends_at=at(-4, 9))
    history(ad, {
        20: counters(views=1000, messages=50),  # before the 7 days: ignored
        **{back: counters(views=10) for back in range(12, 6, -1)},  # days 12..7 before
        12: counters(views=10, phone_reveals=1, messages=2),
        9: counters(views=10, phone_reveals=1),
        6: counters(views=17, phone_reveals=1),  # the day before the first promotion
        5: counters(views=50, phone_reveals=5, favorites=1, messages=3),
        4: counters(views=60, phone_reveals=5, favorites=0, messages=3),
        3: counters(views=70, phone_reveals=5, favorites=2, messages=3),
        2: counters(views=80, phone_reveals=5, favorites=-1, messages=3),
        1: counters(views=90, phone_reveals=5, favorites=0, messages=4),
        0: counters(views=7),  # today, still counting: in `days`, not in the averages
    })

    body = seller_client.get(stats_url(ad.slug), {"days": 7}).json()

    assert [(day["date"], day["promoted"]) for day in body["days"]] == [
        ((today() - timedelta(days=back)).isoformat(), tier) for back, tier in
        [(6, None), (5, "boost"), (4, "boost"), (3, "featured"), (2, "featured"),
         (1, "featured"), (0, "featured")]
    ]
    assert body["totals"] == counters(views=17 + 50 + 60 + 70 + 80 + 90 + 7, phone_reveals=26,
                                      favorites=2, messages=16)
    assert body["promotions"] == [
        {"tier": "boost", "starts_at": iso(at(5, 9)), "ends_at": iso(at(3, 9)),
         "payment": str(boost.payment_id)},
        {"tier": "featured", "starts_at": iso(at(3, 9)), "ends_at": iso(at(-4, 9)),
         "payment": str(featured.payment_id)},
    ]
    # days 12..6 before: views 6 * 10 + 17 = 77, reveals 3, messages 2
    assert body["before_promotion"] == {"days": 7, "views": 11.0, "phone_reveals": 0.43,
                                        "favorites": 0.0, "messages": 0.29}
    # days 5..1: today is left out
    assert body["during_promotion"] == {"days": 5, "views": 70.0, "phone_reveals": 5.0,
                                        "favorites": 0.4, "messages": 3.2}


def test_before_counts_only_days_since_the_ad_was_created(seller_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones,
                 created_at=datetime.combine(today() - timedelta(days=5), datetime.min.time(),
                                             tzinfo=UTC) + timedelta(hours=20))
    promote(ad, tier="vip", starts_at=at(2, 12), ends_at=at(1, 12))
    history(ad, {5: counters(views=3), 4: counters(views=6), 3: counters(views=9),
                 2: counters(views=40), 1: counters(views=20)})

    body = seller_client.get(stats_url(ad.slug), {"days": 3}).json()
    assert body["before_promotion"] == {"days": 3, "views": 6.0, "phone_reveals": 0.0,
                                        "favorites": 0.0, "messages": 0.0}
    assert body["during_promotion"] == {"days": 2, "views": 30.0, "phone_reveals": 0.0,
                                        "favorites": 0.0, "messages": 0.0}
    assert [day["promoted"] for day in body["days"]] == ["vip", "vip", None]


def test_a_promotion_bought_today_has_no_during_average_yet(seller_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones,
                 created_at=datetime.now(UTC) - timedelta(days=30))
    promote(ad, tier="boost", starts_at=datetime.now(UTC) - timedelta(seconds=5),
            ends_at=datetime.now(UTC) + timedelta(days=7))
    history(ad, {1: counters(views=14), 0: counters(views=30)})

    body = seller_client.get(stats_url(ad.slug), {"days": 2}).json()
    assert body["before_promotion"] == {"days": 7, "views": 2.0, "phone_reveals": 0.0,
                                        "favorites": 0.0, "messages": 0.0}
    assert body["during_promotion"] is None
    assert [day["promoted"] for day in body["days"]] == [None, "boost"]


def test_a_promotion_refunded_before_it_began_promotes_no_day(seller_client, seller, catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    promote(ad, tier="vip", starts_at=at(-3, 9), ends_at=at(0, 0))  # ends_at set at refund

    body = seller_client.get(stats_url(ad.slug), {"days": 2}).json()
    assert [day["promoted"] for day in body["days"]] == [None, None]
    assert len(body["promotions"]) == 1
    assert body["during_promotion"] is None


def test_a_promotion_ending_at_midnight_does_not_promote_the_next_day(seller_client, seller,
                                                                      catalog):
    ad = make_ad(owner=seller, category=catalog.phones)
    promote(ad, tier="boost", starts_at=at(3, 22), ends_at=at(1, 0))

    body = seller_client.get(stats_url(ad.slug), {"days": 4}).json()
    assert [day["promoted"] for day in body["days"]] == ["boost", "boost", None, None]


# --- cost -------------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_days_rows_or_promotions(seller_client, seller, catalog,
                                                                django_assert_num_queries):
    quiet = make_ad(owner=seller, category=catalog.phones)
    busy = make_ad(owner=seller, category=catalog.phones,
                   created_at=datetime.now(UTC) - timedelta(days=120))
    history(busy, {back: counters(views=back, messages=1) for back in range(100)})
    for back in range(60, 0, -6):
        promote(busy, tier="boost", starts_at=at(back, 8), ends_at=at(back - 3, 8))

    for ad in (quiet, busy):
        for days in (1, 90):
            with django_assert_num_queries(STATS_QUERIES):
                response = seller_client.get(stats_url(ad.slug), {"days": days})
            assert response.status_code == 200
            assert len(response.json()["days"]) == days
