"""An ad's detail read with SQL compiled once (selectors.rows_compiled_once): later reads reuse
the first read's SQL and row converters, and give what a plain ORM read gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db.models.sql.compiler import SQLCompiler

from apps.ads import selectors
from apps.ads.models import Ad
from apps.ads.tests.factories import make_ad

pytestmark = pytest.mark.django_db

FIELDS = ("pk", "slug", "title", "price", "attributes", "created_at", "published_at",
          "expires_at", "category_id", "location_id", "status")


def test_later_reads_reuse_the_converters_and_read_the_same_values(
    catalog: Any, places: Any, seller: Any, monkeypatch: Any
) -> None:
    ads = [
        make_ad(owner=seller, category=catalog.cars, location=places.westlands,
                price=Decimal(f"{n}250.50"), attributes={"make": "Toyota", "year": 2010 + n})
        for n in range(3)
    ]
    monkeypatch.setattr(selectors, "_COMPILED", {})  # as in a fresh worker
    work_out = SQLCompiler.get_converters
    with mock.patch.object(SQLCompiler, "get_converters", autospec=True,
                           side_effect=work_out) as worked_out:
        read = [selectors.get_visible_ad(slug=ad.slug) for ad in ads]

    assert worked_out.call_count == 1  # the first read only
    for got, ad in zip(read, ads, strict=True):
        plain = Ad.objects.select_related("owner", "category", "location").get(pk=ad.pk)
        assert got is not None
        assert [getattr(got, name) for name in FIELDS] == [getattr(plain, name) for name in FIELDS]
        assert isinstance(got.price, Decimal) and got.created_at.tzinfo is not None
        assert got.owner.date_joined == plain.owner.date_joined
        assert got.owner.email == seller.email


def test_another_shape_of_query_still_works_out_its_own_converters(
    catalog: Any, seller: Any, monkeypatch: Any
) -> None:
    ad = make_ad(owner=seller, category=catalog.laptops)
    monkeypatch.setattr(selectors, "_COMPILED", {})
    assert selectors.get_visible_ad(slug=ad.slug) is not None  # kept: the detail's plan

    bare = selectors.get_visible_ad(slug=ad.slug, relations=False)  # not compiled once

    assert bare is not None and bare.price == Decimal("1500.00")
    assert bare.created_at.tzinfo is not None
