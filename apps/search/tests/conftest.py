"""Fixtures for the search suite: a small catalogue, places, people, and the backend under test.

Scenario tests take `engine`: they run on PostgreSQL always and, when ELASTICSEARCH_URL is set,
again on Elasticsearch (an index of their own, dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import TestCase

from apps.categories.tests.factories import make_category

ES_PATH = "apps.search.backends.elasticsearch.ElasticsearchSearchBackend"
PG_PATH = "apps.search.backends.postgres.PostgresSearchBackend"
ES_URL = os.environ.get("ELASTICSEARCH_URL", "")
needs_elasticsearch = pytest.mark.skipif(
    not ES_URL,
    reason="ELASTICSEARCH_URL is not set: live Elasticsearch tests need a server "
           "(e.g. ELASTICSEARCH_URL=http://127.0.0.1:9200)",
)

CARS_SCHEMA = [
    {"key": "make", "type": "choice", "required": True, "filterable": True,
     "choices": ["Toyota", "Mazda", "Subaru"]},
    {"key": "model", "type": "text"},
    {"key": "year", "type": "int", "min": 1950, "max": 2030, "filterable": True},
    {"key": "mileage", "type": "int", "min": 0, "filterable": True, "unit": "km"},
    {"key": "engine_size", "type": "decimal", "min": "0.6", "max": "8.0", "filterable": True},
    {"key": "automatic", "type": "bool", "filterable": True},
    {"key": "colour", "type": "text", "filterable": True},
]
PHONES_SCHEMA = [
    {"key": "brand", "type": "choice", "filterable": True,
     "choices": ["Samsung", "Apple", "Tecno"]},
    {"key": "storage", "type": "int", "filterable": True, "unit": "GB"},
    {"key": "dual_sim", "type": "bool", "filterable": True},
]


@pytest.fixture
def catalog(db: Any) -> SimpleNamespace:
    """Vehicles > Cars, Motorcycles; Electronics > Mobile Phones, Laptops; Home > Furniture."""
    vehicles = make_category("Vehicles")
    cars = make_category("Cars", vehicles, attributes=CARS_SCHEMA)
    motorcycles = make_category("Motorcycles", vehicles)
    electronics = make_category("Electronics")
    phones = make_category("Mobile Phones", electronics, attributes=PHONES_SCHEMA)
    laptops = make_category("Laptops", electronics)
    home = make_category("Home")
    furniture = make_category("Furniture", home)
    return SimpleNamespace(vehicles=vehicles, cars=cars, motorcycles=motorcycles,
                           electronics=electronics, phones=phones, laptops=laptops,
                           home=home, furniture=furniture)


@pytest.fixture
def places(db: Any) -> SimpleNamespace:
    """Nairobi > Westlands; Mombasa > Nyali."""
    from apps.locations import services as location_services

    def place(name: str, parent: Any = None) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return location_services.ensure_location(name=name, parent=parent)

    nairobi = place("Nairobi")
    westlands = place("Westlands", nairobi)
    mombasa = place("Mombasa")
    nyali = place("Nyali", mombasa)
    return SimpleNamespace(nairobi=nairobi, westlands=westlands, mombasa=mombasa, nyali=nyali)


@pytest.fixture
def seller(make_user: Any) -> Any:
    return make_user(first_name="Amani", last_name="Wanjiru")


@pytest.fixture
def buyer(make_user: Any) -> Any:
    return make_user(first_name="Baraka", last_name="Otieno")


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@dataclass
class Engine:
    name: str
    backend: Any
    sync: Callable[[], None]  # make everything in the database searchable now
    refresh: Callable[[], None]  # make what the sync tasks wrote visible now


def _nothing() -> None:
    return None


@pytest.fixture(params=["postgres", pytest.param("elasticsearch", marks=needs_elasticsearch)])
def engine(request: Any, settings: Any) -> Iterator[Engine]:
    from apps.search.backends import base

    base._backend.cache_clear()
    if request.param == "postgres":
        settings.SEARCH_BACKEND = PG_PATH
        yield Engine("postgres", base.get_search_backend(), _nothing, _nothing)
        base._backend.cache_clear()
        return
    settings.SEARCH_BACKEND = ES_PATH
    settings.ELASTICSEARCH_URL = ES_URL
    settings.ELASTICSEARCH_INDEX = f"test-ads-{uuid.uuid4().hex[:10]}"
    backend: Any = base.get_search_backend()

    def refresh() -> None:
        backend.ensure_index()
        backend.client.indices.refresh(index=backend.alias)

    def sync() -> None:
        from apps.ads.models import Ad

        backend.index(list(Ad.objects.values_list("pk", flat=True)))
        refresh()

    yield Engine("elasticsearch", backend, sync, refresh)
    quiet = backend.client.options(ignore_status=404)
    # By name: wildcard deletes are refused by default (action.destructive_requires_name).
    for name in quiet.indices.get(index=f"{backend.alias}-*", allow_no_indices=True):
        quiet.indices.delete(index=name)
    quiet.indices.delete_index_template(name=backend.alias)
    base._backend.cache_clear()


@pytest.fixture
def search(api: Any, engine: Engine) -> Callable[..., Any]:
    """GET search/ with these parameters, after making the database searchable."""

    def get(client: Any = None, *, sync: bool = True, url: str | None = None,
            **params: Any) -> Any:
        (engine.sync if sync else engine.refresh)()
        return (client or api).get(url or "/api/ads/search/", params)

    return get


@pytest.fixture
def answers_run(settings: Any) -> None:
    """Every search runs in the backend: no kept answer (apps/search/result_cache.py). For
    tests of the backend's own freshness and statements; the cache's lag (up to
    SEARCH_RESULT_CACHE_SECONDS, as the contract allows) is tested in test_result_cache.py."""
    settings.SEARCH_RESULT_CACHE_SECONDS = 0
