"""The Elasticsearch backend's wiring against a fake client (fake_es.py): what it indexes and
when, the alias swap, how it reads answers, and that it validates filters like the listing.
What a real server does with the queries is covered by the live tests (`engine`)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any
from uuid import uuid4

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.ads.models import Ad, AdStatus
from apps.search import services, tasks
from apps.search.backends import base, es_builders
from apps.search.backends import elasticsearch as es_backend
from apps.search.backends.base import SearchIndexError, SearchQuery
from apps.search.tests.conftest import ES_PATH, PG_PATH
from apps.search.tests.fake_es import FakeElasticsearch
from apps.search.tests.helpers import SEARCH, SUGGEST, error_attrs, ids, make_ad

pytestmark = pytest.mark.django_db
ALIAS = "test-ads"


@pytest.fixture
def fake(settings, monkeypatch) -> Any:
    client = FakeElasticsearch()
    settings.SEARCH_BACKEND = ES_PATH
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9200"
    settings.ELASTICSEARCH_INDEX = ALIAS
    monkeypatch.setattr(es_backend, "make_client", lambda: client)
    base._backend.cache_clear()
    yield client
    base._backend.cache_clear()


@pytest.fixture
def backend(fake) -> es_backend.ElasticsearchSearchBackend:
    return base.get_search_backend()  # type: ignore[return-value]


def hits_response(
    ads: list[Ad], *, total: int | None = None, aggs: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "hits": {
            "total": {"value": len(ads) if total is None else total, "relation": "eq"},
            "hits": [{"_id": str(ad.pk), "sort": [0, n]} for n, ad in enumerate(ads)],
        },
        "aggregations": aggs or {},
    }


# --- keeping the index in step ----------------------------------------------------------------


def test_postgres_needs_no_sync(settings, catalog, seller, django_capture_on_commit_callbacks):
    settings.SEARCH_BACKEND = PG_PATH
    base._backend.cache_clear()
    ad = make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")

    with django_capture_on_commit_callbacks() as callbacks:
        services.schedule_sync(ad_ids=[ad.pk])

    assert callbacks == []
    assert services.reconcile_index(minutes=10) == 0


def test_one_task_with_the_ids_after_commit(
    fake, catalog, seller, django_capture_on_commit_callbacks
):
    first = make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")
    second = make_ad(owner=seller, category=catalog.phones, title="Tecno Camon")

    with django_capture_on_commit_callbacks() as callbacks:
        services.schedule_sync(ad_ids=[second.pk, first.pk, first.pk])

    assert len(callbacks) == 1
    assert fake.calls == []  # nothing before the commit
    callbacks[0]()
    assert set(fake.documents(ALIAS)) == {str(first.pk), str(second.pk)}


def test_posting_an_ad_queues_its_sync_in_the_posting_statement(
    fake, client_for, catalog, places, seller
):
    """create_ad writes its outbox rows with the ad (one statement): with an external index,
    the sync task's row is among them, next to moderation's."""
    from apps.common.models import OutboxTask

    response = client_for(seller).post(
        "/api/ads/",
        {
            "title": "Nokia G21 dual sim",
            "description": "Works well.",
            "category": catalog.phones.pk,
            "price": "9500",
            "location": places.westlands.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    ad_id = response.json()["id"]
    queued = list(
        OutboxTask.objects.filter(args=[ad_id]).order_by("id").values_list("task", flat=True)
    )
    # Written with the ad, before moderation's row (a later approval queues a sync of its own).
    assert queued[:2] == [tasks.sync_ads.name, "apps.ads.tasks.moderate_ad"]


def test_lifecycle_changes_reach_the_index(
    fake, client_for, catalog, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ad = make_ad(
            owner=seller,
            category=catalog.phones,
            title="Pixel 7",
            attributes={"brand": "Tecno", "storage": 128},
        )
    doc = fake.documents(ALIAS)[str(ad.pk)]
    assert doc["title"] == "Pixel 7"
    assert doc["attributes"] == [
        {"key": "brand", "keyword": "Tecno"},
        {"key": "storage", "keyword": "128", "number": 128.0},
    ]

    owner = client_for(seller)
    owner.patch(f"/api/ads/{ad.slug}/", {"negotiable": True}, format="json")
    assert fake.documents(ALIAS)[str(ad.pk)]["negotiable"] is True

    owner.patch(f"/api/ads/{ad.slug}/", {"title": "Pixel 7 Pro"}, format="json")  # re-moderated
    assert fake.documents(ALIAS)[str(ad.pk)]["title"] == "Pixel 7 Pro"

    owner.patch(f"/api/ads/{ad.slug}/", {"status": "sold"}, format="json")
    assert str(ad.pk) not in fake.documents(ALIAS)

    owner.patch(f"/api/ads/{ad.slug}/", {"status": "draft"}, format="json")
    assert str(ad.pk) not in fake.documents(ALIAS)


def test_photos_update_has_images(fake, client_for, catalog, seller):
    from apps.search.tests.helpers import photo

    ad = make_ad(owner=seller, category=catalog.phones, title="Pixel 7")
    fake_backend = base.get_search_backend()
    fake_backend.index([ad.pk])
    assert fake.documents(ALIAS)[str(ad.pk)]["has_images"] is False

    response = client_for(seller).post(
        f"/api/ads/{ad.slug}/images/", {"image": photo()}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert fake.documents(ALIAS)[str(ad.pk)]["has_images"] is True

    client_for(seller).delete(f"/api/ads/{ad.slug}/images/{response.json()['id']}/")
    assert fake.documents(ALIAS)[str(ad.pk)]["has_images"] is False


def test_index_keeps_live_active_ads_only(backend, fake, catalog, seller):
    live = make_ad(owner=seller, category=catalog.phones, title="Live one")
    sold = make_ad(owner=seller, category=catalog.phones, title="Sold one", status=AdStatus.SOLD)
    gone = make_ad(owner=seller, category=catalog.phones, title="Deleted one", deleted=True)
    draft = make_ad(owner=seller, category=catalog.phones, title="Draft one", status=AdStatus.DRAFT)
    never_existed = uuid4()

    backend.index([live.pk, sold.pk, gone.pk, draft.pk, never_existed])
    backend.index([str(live.pk)])  # again: idempotent

    assert set(fake.documents(ALIAS)) == {str(live.pk)}
    assert fake.versions[fake.live_index(ALIAS)][str(live.pk)] == es_builders.version_of(live)
    assert fake.templates[ALIAS]["index_patterns"] == [f"{ALIAS}-*"]
    assert fake.live_index(ALIAS).startswith(f"{ALIAS}-")


def test_a_late_stale_sync_never_overwrites_a_newer_state(backend, fake, catalog, seller):
    ad = make_ad(owner=seller, category=catalog.phones, title="Current title")
    index = backend.alias
    backend.ensure_index()
    newer = es_builders.version_of(ad) + 10
    fake.bulk(
        operations=[
            {
                "index": {
                    "_index": index,
                    "_id": str(ad.pk),
                    "version": newer,
                    "version_type": "external_gte",
                }
            },
            {"title": "Newer"},
        ]
    )

    backend.index([ad.pk])  # answers 409 for the item: fine, not an error

    assert fake.documents(ALIAS)[str(ad.pk)] == {"title": "Newer"}


def test_failed_bulk_items_raise_so_the_task_retries(backend, fake, catalog, seller):
    ad = make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")
    fake.fail_items[str(ad.pk)] = {"status": 429, "error": {"type": "es_rejected_execution"}}

    with pytest.raises(SearchIndexError):
        backend.index([ad.pk])
    for task in (tasks.sync_ads, tasks.sync_ad):
        assert SearchIndexError in task.autoretry_for
        assert ConnectionError in task.autoretry_for
        assert task.max_retries == 8


def test_remove_ignores_missing_documents(backend, fake):
    backend.remove([uuid4(), uuid4()])

    assert fake.documents(ALIAS) == {}


def test_a_concurrent_first_index_is_fine(backend, fake):
    other = es_backend.ElasticsearchSearchBackend(client=fake, alias=ALIAS)
    other.ensure_index()
    backend._ready = False
    original = fake.indices.exists_alias
    answers = iter([False, True])
    fake.indices.exists_alias = lambda name: next(answers)  # lost the race

    backend.ensure_index()

    fake.indices.exists_alias = original
    assert len([name for name in fake.docs if name.startswith(ALIAS)]) == 1


# --- reindex ----------------------------------------------------------------------------------


def test_reindex_builds_a_new_index_and_swaps_the_alias(backend, fake, catalog, seller):
    ads = [make_ad(owner=seller, category=catalog.phones, title=f"Phone {n}") for n in range(3)]
    make_ad(owner=seller, category=catalog.phones, title="Sold", status=AdStatus.SOLD)
    backend.index([ads[0].pk])
    old = fake.live_index(ALIAS)
    fake.docs[old]["stale"] = {"title": "left behind"}

    count = backend.reindex_all()

    assert count == 3
    new = fake.live_index(ALIAS)
    assert new != old and new.startswith(f"{ALIAS}-")
    assert old not in fake.docs  # dropped
    assert set(fake.documents(ALIAS)) == {str(ad.pk) for ad in ads}
    swaps = [call for call in fake.calls if call[0] == "update_aliases"]
    assert swaps == [
        (
            "update_aliases",
            [
                {"remove": {"index": old, "alias": ALIAS}},
                {"add": {"index": new, "alias": ALIAS, "is_write_index": True}},
            ],
        )
    ]
    created = fake.bodies[new]
    assert created["settings"]["refresh_interval"] == "-1"  # while loading
    assert ("put_settings", new, {"refresh_interval": None}) in fake.calls
    assert ("refresh", new) in fake.calls
    assert created["mappings"] == es_builders.index_settings_and_mappings()["mappings"]


def test_reindex_replaces_a_concrete_index_named_like_the_alias(backend, fake, catalog, seller):
    make_ad(owner=seller, category=catalog.phones, title="Phone")
    fake.indices.create(index=ALIAS)  # auto-created by a write before any alias existed

    assert backend.reindex_all() == 1

    swap = next(call for call in fake.calls if call[0] == "update_aliases")[1]
    assert {"remove_index": {"index": ALIAS}} in swap
    assert fake.live_index(ALIAS).startswith(f"{ALIAS}-")


def test_reindex_command(fake, catalog, seller, settings):
    make_ad(owner=seller, category=catalog.phones, title="Phone")
    out = StringIO()

    call_command("search_reindex", stdout=out)

    assert "Indexed 1 active ads" in out.getvalue()
    assert len(fake.documents(ALIAS)) == 1


def test_reindex_command_with_postgres(settings):
    settings.SEARCH_BACKEND = PG_PATH
    base._backend.cache_clear()
    out = StringIO()

    call_command("search_reindex", stdout=out)

    assert "nothing to reindex" in out.getvalue()
    assert "Rebuilt the vocabulary" in out.getvalue()


# --- reconciliation ---------------------------------------------------------------------------


def test_reconcile_resyncs_what_changed_recently(backend, fake, catalog, seller):
    recent = make_ad(owner=seller, category=catalog.phones, title="Changed just now")
    old = make_ad(owner=seller, category=catalog.phones, title="Untouched for days")
    Ad.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    missed_sale = make_ad(owner=seller, category=catalog.phones, title="Sold, sync lost")
    backend.index([missed_sale.pk])
    Ad.objects.filter(pk=missed_sale.pk).update(status=AdStatus.SOLD, updated_at=timezone.now())
    lapsed = make_ad(
        owner=seller,
        category=catalog.phones,
        title="Promotion just ended",
        promotion_tier=3,
        promotion_until=timezone.now() - timedelta(minutes=1),
    )
    Ad.objects.filter(pk=lapsed.pk).update(updated_at=timezone.now() - timedelta(days=2))

    synced = tasks.reconcile_index.apply(kwargs={"minutes": 10}).get()

    assert synced == 3
    assert set(fake.documents(ALIAS)) == {str(recent.pk), str(lapsed.pk)}


# --- reading ----------------------------------------------------------------------------------


def test_search_sends_the_query_and_renders_the_answer_in_its_order(fake, api, catalog, seller):
    first = make_ad(
        owner=seller, category=catalog.cars, title="Toyota Vitz", attributes={"make": "Toyota"}
    )
    second = make_ad(owner=seller, category=catalog.phones, title="Toyota phone case")
    stale = make_ad(
        owner=seller,
        category=catalog.phones,
        title="Toyota sold, index behind",
        status=AdStatus.SOLD,
    )
    fake.indices.create(index=f"{ALIAS}-1", aliases={ALIAS: {}})
    fake.responses.append(
        hits_response(
            [second, stale, first],
            total=3,
            aggs={
                "category": {
                    "buckets": [
                        {"key": str(catalog.phones.pk), "doc_count": 2},
                        {"key": str(catalog.cars.pk), "doc_count": 1},
                    ]
                },
                "condition": {"buckets": []},
                "price": {"buckets": [{"key": "0", "doc_count": 3}]},
            },
        )
    )

    response = api.get(
        SEARCH, {"q": "toyota", "category": "vehicles", "attr_year_min": "2010", "page_size": "5"}
    )

    assert response.status_code == 200, response.json()
    assert ids(response) == [str(second.pk), str(first.pk)]  # the sold one is not shown
    body = response.json()
    assert body["count"] == 3
    assert body["facets"]["category"][0] == {
        "id": catalog.phones.pk,
        "slug": "mobile-phones",
        "name": "Mobile Phones",
        "count": 2,
    }
    assert [bucket["count"] for bucket in body["facets"]["price_range"]] == [3, 0, 0, 0, 0, 0]
    sent = fake.searches[0]
    assert sent["size"] == 5 and sent["from"] == 0
    assert {
        "terms": {
            "category_id": [
                str(catalog.vehicles.pk),
                str(catalog.cars.pk),
                str(catalog.motorcycles.pk),
            ]
        }
    } in sent["query"]["bool"]["filter"]
    assert "dis_max" in sent["query"]["bool"]["must"][0]


def test_a_signed_in_viewer_never_gets_ads_across_a_block(fake, client_for, buyer, make_user):
    from apps.users import services as user_services

    rude = make_user()
    user_services.block_user(blocker=buyer, blocked_id=rude.pk)
    fake.indices.create(index=f"{ALIAS}-1", aliases={ALIAS: {}})

    client_for(buyer).get(SEARCH, {"q": "x"})

    assert fake.searches[0]["query"]["bool"]["must_not"] == [
        {"terms": {"owner_id": [str(rude.pk)]}}
    ]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"min_price": "cheap"}, "min_price"),
        ({"category": "nope"}, "category"),
        ({"location": "nope"}, "location"),
        ({"ordering": "best"}, "ordering"),
        ({"seller": "x"}, "seller"),
        ({"attr_nope": "1"}, "attr_nope"),
        ({"attr_year": "old"}, "attr_year"),
        ({"attr_make_min": "1"}, "attr_make_min"),
        ({"attr_colour": "a\x00"}, "attr_colour"),
    ],
)
def test_filters_are_validated_like_the_listing(fake, api, catalog, params, attr):
    response = api.get(SEARCH, {"q": "toyota", **params})

    assert response.status_code == 400
    assert error_attrs(response) == [attr]
    assert fake.searches == []


def test_deep_pages_walk_with_search_after(backend, fake, catalog, seller, monkeypatch):
    monkeypatch.setattr(es_builders, "MAX_RESULT_WINDOW", 10)
    ads = [make_ad(owner=seller, category=catalog.phones, title=f"Phone {n}") for n in range(20)]
    fake.indices.create(index=f"{ALIAS}-1", aliases={ALIAS: {}})
    fake.responses.extend(
        [
            hits_response([], total=20),  # total and facets
            hits_response(ads[:10]),  # walk...
            hits_response(ads[10:15]),
            hits_response(ads[15:20]),  # ...the page
        ]
    )

    page = backend.search(SearchQuery(text="", params={}, ordering=None, offset=15, limit=5))

    assert page.total == 20
    assert page.ids == [ad.pk for ad in ads[15:20]]
    first, walk1, walk2, last = fake.searches
    assert first["size"] == 0 and "aggs" in first
    assert walk1["size"] == 10 and "search_after" not in walk1 and walk1["from"] == 0
    assert walk2["size"] == 5 and walk2["search_after"] == [0, 9]
    assert last["size"] == 5 and last["search_after"] == [0, 4]


def test_a_missing_index_falls_back_to_postgres(backend, fake, api, catalog, seller):
    ad = make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")

    page = backend.search(SearchQuery(text="tecno", params={}, ordering=None, offset=0, limit=20))

    assert page.ids == [ad.pk] and page.total == 1
    assert [s.text for s in backend.suggest("tec")] == ["Tecno Spark"]
    assert ids(api.get(SEARCH, {"q": "tecno"})) == [str(ad.pk)]


@pytest.mark.parametrize("failure", ["connection", "timeout", "503", "429"])
def test_an_unavailable_index_falls_back_to_postgres(
    fake, api, catalog, seller, failure, monkeypatch
):
    from elastic_transport import ConnectionError as EsConnectionError
    from elastic_transport import ConnectionTimeout
    from elasticsearch import ApiError

    from apps.search.tests.fake_es import meta

    errors = {
        "connection": EsConnectionError("refused"),
        "timeout": ConnectionTimeout("slow"),
        "503": ApiError("unavailable", meta(503), {}),
        "429": ApiError("too many requests", meta(429), {}),
    }

    def fail(**_: Any) -> Any:
        raise errors[failure]

    monkeypatch.setattr(fake, "search", fail)
    ad = make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")

    response = api.get(SEARCH, {"q": "tecno", "category": "electronics"})

    assert response.status_code == 200
    assert ids(response) == [str(ad.pk)]
    assert api.get(SUGGEST, {"q": "tecn"}).json()["suggestions"][0]["text"] == "Tecno Spark"
    assert api.get(SEARCH, {"q": "tecno", "min_price": "x"}).status_code == 400


def test_a_malformed_query_is_not_hidden_by_the_fallback(backend, fake, monkeypatch):
    from elasticsearch import BadRequestError

    from apps.search.tests.fake_es import meta

    def fail(**_: Any) -> Any:
        raise BadRequestError("parsing_exception", meta(400), {})

    monkeypatch.setattr(fake, "search", fail)

    with pytest.raises(BadRequestError):
        backend.search(SearchQuery(text="x", params={}, ordering=None, offset=0, limit=20))


def test_suggest_reads_titles_categories_first_each_once(backend, fake, api, catalog, seller):
    fake.indices.create(index=f"{ALIAS}-1", aliases={ALIAS: {}})
    fake.responses.append(
        {
            "hits": {
                "total": {"value": 3},
                "hits": [
                    {
                        "_id": "1",
                        "_source": {"title": "Mobile charger", "slug": "mobile-charger-a"},
                    },
                    {
                        "_id": "2",
                        "_source": {"title": "mobile CHARGER ", "slug": "mobile-charger-b"},
                    },
                    {"_id": "3", "_source": {"title": "Automobile parts", "slug": "automobile"}},
                ],
            }
        }
    )

    response = api.get(SUGGEST, {"q": "Mob"})

    assert response.json() == {
        "suggestions": [
            {"text": "Mobile Phones", "type": "category", "slug": "mobile-phones"},
            {"text": "Mobile charger", "type": "ad", "slug": "mobile-charger-a"},
        ]
    }
    assert fake.searches[0]["query"]["bool"]["filter"] == [
        {"match": {"title.suggest": {"query": "mob", "operator": "and"}}}
    ]


def test_saved_search_digest_works_on_elasticsearch(
    fake, catalog, seller, buyer, django_capture_on_commit_callbacks
):
    from django.core import mail

    saved = services.create_saved_search(user=buyer, name="Phones", q="tecno", filters={})
    ad = make_ad(
        owner=seller,
        category=catalog.phones,
        title="Tecno Spark",
        published_at=timezone.now() + timedelta(seconds=1),
    )
    fake.indices.create(index=f"{ALIAS}-1", aliases={ALIAS: {}})
    fake.responses.append(hits_response([ad]))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_digest(user_id=buyer.pk) == 1

    assert "Tecno Spark" in str(mail.outbox[-1].body)
    assert fake.searches[0]["sort"] == [{"published_at": "desc"}, {"id": "desc"}]
    assert saved.hits.count() == 1
