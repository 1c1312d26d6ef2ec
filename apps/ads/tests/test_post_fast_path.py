"""Posting's cheaper path keeps its behaviour: the category and location read in one query
answer as the stock PrimaryKeyRelatedFields did, the ad, its audit entries and its task are
written together or not at all, and the moderation task still goes through the broker on commit
(and runs)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from apps.ads import services
from apps.ads.api.serializers import AdCreateInput, AdInput
from apps.ads.models import Ad, AdStatus
from apps.ads.tests.factories import ADS, make_location
from apps.categories.tests.factories import make_category
from apps.common.models import AuditEntry, OutboxTask
from apps.common.redis import get_redis


@pytest.fixture
def body(catalog: Any, places: Any) -> dict[str, Any]:
    return {
        "title": "Samsung Galaxy A54 5G 128GB",
        "description": "Barely used, with box and charger.",
        "category": catalog.phones.pk,
        "location": places.westlands.pk,
        "price": "38500",
        "attributes": {"brand": "Samsung", "storage": 128},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "abc"),
        ("category", True),
        ("category", [1]),
        ("category", {"id": 1}),
        ("category", 2.5),
        ("category", "7.0"),
        ("category", 99_999_999),
        ("category", 2**40),
        ("category", None),
        ("category", ""),
        ("location", "x"),
        ("location", False),
        ("location", 99_999_999),
        ("location", None),
        ("both", 99_999_999),
    ],
)
def test_pk_errors_are_the_stock_fields_errors(
    body: dict[str, Any], field: str, value: Any
) -> None:
    data = {
        **body,
        **({"category": value, "location": value} if field == "both" else {field: value}),
    }
    ours, stock = AdCreateInput(data=data), AdInput(data=data)

    assert ours.is_valid() is False
    stock.is_valid()
    assert ours.errors == stock.errors
    assert ours.errors  # the case is an error at all


@pytest.mark.django_db
def test_a_pk_sent_as_text_finds_the_rows_as_the_stock_fields_do(
    body: dict[str, Any], catalog: Any, places: Any
) -> None:
    data = {**body, "category": str(catalog.phones.pk), "location": str(places.westlands.pk)}
    ours = AdCreateInput(data=data)

    with CaptureQueriesContext(connection) as queries:
        assert ours.is_valid(), ours.errors

    assert len(queries.captured_queries) == 1  # category, its lineage and location at once
    assert ours.validated_data["category"] == catalog.phones
    assert ours.validated_data["category"].has_live_children is False
    assert ours.validated_data["location"] == places.westlands
    assert ours.validated_data["location"].name == places.westlands.name


def test_an_archived_category_or_a_parent_is_refused(
    seller_client: Any, body: dict[str, Any], catalog: Any
) -> None:
    from apps.categories.models import Category

    response = seller_client.post(ADS, {**body, "category": catalog.electronics.pk})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "category"
    assert response.json()["errors"][0]["code"] == "invalid_choice"

    Category.all_objects.filter(pk=catalog.laptops.pk).update(deleted_at="2026-01-01T00:00:00Z")
    response = seller_client.post(ADS, {**body, "category": catalog.laptops.pk, "attributes": {}})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "does_not_exist",
            "detail": f'Invalid pk "{catalog.laptops.pk}" - object does not exist.',
            "attr": "category",
        }
    ]


def test_inherited_attributes_are_checked_and_a_schema_change_shows_at_once(
    seller_client: Any, places: Any
) -> None:
    from apps.categories import services as category_services

    parent = make_category(
        "Gadgets",
        attributes=[{"key": "colour", "type": "choice", "choices": ["red", "blue"]}],
    )
    leaf = make_category("Watches", parent, attributes=[{"key": "strap", "type": "text"}])
    body = {"title": "A fine watch", "category": leaf.pk, "location": places.nyali.pk}
    body["price"] = "1000"

    ok = seller_client.post(ADS, {**body, "attributes": {"colour": "red", "strap": "steel"}})
    assert ok.status_code == 201, ok.json()
    assert ok.json()["attributes"] == {"colour": "red", "strap": "steel"}
    bad = seller_client.post(ADS, {**body, "attributes": {"colour": "green"}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "attributes.colour"

    category_services.update_category(
        actor=None,
        category=parent,
        changes={"attributes": [{"key": "colour", "type": "choice", "choices": ["green"]}]},
    )
    now_ok = seller_client.post(ADS, {**body, "attributes": {"colour": "green"}})
    assert now_ok.status_code == 201, now_ok.json()


def test_the_moderation_task_is_published_on_commit_and_runs(
    seller_client: Any, body: dict[str, Any]
) -> None:
    response = seller_client.post(ADS, body)

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"  # answered before the task ran
    ad = Ad.objects.get(pk=response.json()["id"])
    assert ad.status == AdStatus.ACTIVE  # the task ran (eagerly here) after the commit
    row = OutboxTask.objects.get()
    assert row.task == "apps.ads.tasks.moderate_ad" and row.args == [str(ad.pk)]
    assert row.sent_at is not None and row.done_at is not None


@pytest.fixture
def no_eager_tasks() -> Any:
    """Tasks go to the broker (the test Redis database), as in production, not run in place."""
    from marketplace.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def test_the_task_goes_through_the_broker_with_its_outbox_key(
    seller_client: Any, body: dict[str, Any], no_eager_tasks: Any
) -> None:
    redis = get_redis()
    redis.delete("default")

    response = seller_client.post(ADS, body)

    assert response.status_code == 201, response.json()
    ad = Ad.objects.get(pk=response.json()["id"])
    assert ad.status == AdStatus.PENDING  # no worker here: the task waits in the queue
    row = OutboxTask.objects.get()
    assert row.sent_at is not None and row.done_at is None
    [raw] = redis.lrange("default", 0, -1)  # the default queue, as routed before
    message = json.loads(raw)
    headers = message["headers"]
    assert headers["task"] == "apps.ads.tasks.moderate_ad"
    assert headers["id"] == str(row.key)
    assert headers["outbox_key"] == str(row.key)
    args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == [str(ad.pk)] and kwargs == {}
    redis.delete("default")


@pytest.mark.django_db(transaction=True)
def test_nothing_is_written_when_the_statement_fails(make_user: Any) -> None:
    """Outside any transaction (as in production) the one statement is all or nothing: an
    owner deleted meanwhile fails it, and no audit entry or task is left behind."""
    from apps.users.models import User

    owner = make_user()
    leaf = make_category("Bikes", make_category("Vehicles"))
    place = make_location("Kisumu")
    User.objects.filter(pk=owner.pk).delete()

    assert not connection.in_atomic_block
    with pytest.raises(IntegrityError):
        services.create_ad(
            owner=owner, title="Road bike", category=leaf, location=place, price=15000
        )

    assert not Ad.objects.exists()
    assert not AuditEntry.objects.filter(target_type="ads.ad").exists()
    assert not OutboxTask.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_task_is_published_at_once(make_user: Any) -> None:
    owner = make_user()
    leaf = make_category("Bikes", make_category("Vehicles"))
    place = make_location("Kisumu")

    ad = services.create_ad(
        owner=owner, title="Road bike", category=leaf, location=place, price=15000
    )

    assert Ad.objects.get(pk=ad.pk).status == AdStatus.ACTIVE  # the eager task ran
    assert list(
        AuditEntry.objects.filter(target_id=str(ad.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["ads.created", "ads.status.pending", "ads.status.active"]
    row = OutboxTask.objects.get()
    assert row.sent_at is not None and row.done_at is not None
