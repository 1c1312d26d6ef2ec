"""Posting writes each row once: the ad INSERTed as pending (no draft INSERT + UPDATE), both
audit entries and the outbox row in the same statement (data-modifying CTEs), the outbox row
published on commit, the response rendered from the written object (no re-read)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ads import services
from apps.ads.models import Ad, AdStatus
from apps.ads.tests.factories import ADS
from apps.common.models import AuditEntry, OutboxTask

pytestmark = pytest.mark.django_db


def statements(queries: CaptureQueriesContext, prefix: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(prefix)]


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE", "WITH"))
    ]


def test_submitting_writes_the_ad_once_as_pending(
    seller, catalog, places, django_capture_on_commit_callbacks: Any
):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        ad = services.create_ad(
            owner=seller,
            title="Samsung Galaxy A54",
            description="",
            category=catalog.phones,
            location=places.westlands,
            price=38500,
            attributes={"brand": "Samsung"},
        )

    assert ad.status == AdStatus.PENDING
    assert Ad.objects.get(pk=ad.pk).status == AdStatus.PENDING
    [write] = writes(queries)  # the ad, its audit entries and its task: one statement
    assert write.count('INSERT INTO "ads_ad"') == 1
    assert write.count('INSERT INTO "common_auditentry"') == 1  # both rows
    assert write.count('INSERT INTO "common_outboxtask"') == 1
    assert not [q for q in statements(queries, "SELECT") if "FOR UPDATE" in q]
    entries = list(
        AuditEntry.objects.filter(target_id=str(ad.pk))
        .order_by("pk")
        .values_list("action", "actor_id", "data")
    )
    assert entries == [
        ("ads.created", seller.pk, {}),
        (
            "ads.status.pending",
            seller.pk,
            {"from": "draft", "actor": "owner", "note": "", "reason": None},
        ),
    ]
    assert list(OutboxTask.objects.values_list("task", "args")) == [
        ("apps.ads.tasks.moderate_ad", [str(ad.pk)])
    ]
    assert len(callbacks) == 1  # the outbox row's publication


def test_a_draft_is_one_insert_and_one_audit_entry(seller, catalog, places):
    with CaptureQueriesContext(connection) as queries:
        ad = services.create_ad(
            owner=seller,
            draft=True,
            title="Samsung Galaxy A54",
            category=catalog.phones,
            location=places.westlands,
            price=38500,
            attributes={},
        )

    assert ad.status == AdStatus.DRAFT
    [write] = writes(queries)
    assert write.count('INSERT INTO "ads_ad"') == 1
    assert write.count('INSERT INTO "common_auditentry"') == 1
    assert "common_outboxtask" not in write
    assert list(
        AuditEntry.objects.filter(target_id=str(ad.pk)).values_list("action", flat=True)
    ) == ["ads.created"]
    assert not OutboxTask.objects.exists()


def test_the_response_is_rendered_without_reading_the_ad_back(seller_client, catalog, places):
    body = {
        "title": "Samsung Galaxy A54",
        "category": catalog.phones.pk,
        "location": places.westlands.pk,
        "price": "38500",
    }
    seller_client.post(ADS, body)  # warm the trees' caches
    with CaptureQueriesContext(connection) as queries:
        response = seller_client.post(ADS, {**body, "title": "Samsung Galaxy A55"})

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert response.json()["images"] == [] and response.json()["is_favorited"] is False
    reads = statements(queries, "SELECT")
    # The moderation task the commit runs (eagerly here) reads the ad by id: nothing reads it
    # back by slug, or its photos and favourites, for the response.
    assert not [q for q in reads if '"ads_ad"."slug" =' in q]
    assert not [q for q in reads if 'FROM "ads_favorite"' in q]
