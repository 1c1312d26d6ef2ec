"""Fixtures for the ads suite: a small catalogue with attribute schemas, places, people."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.register_assert_rewrite("apps.ads.tests.factories")

from apps.ads.tests.factories import make_location  # noqa: E402
from apps.categories.tests.factories import make_category  # noqa: E402

CARS_SCHEMA = [
    {"key": "make", "type": "choice", "required": True, "filterable": True,
     "choices": ["Toyota", "Mazda", "Subaru"]},
    {"key": "model", "type": "text"},
    {"key": "year", "type": "int", "min": 1950, "max": 2030, "filterable": True},
    {"key": "mileage", "type": "int", "min": 0, "filterable": True, "unit": "km"},
    {"key": "engine_size", "type": "decimal", "min": "0.6", "max": "8.0", "filterable": True,
     "unit": "L"},
    {"key": "automatic", "type": "bool", "filterable": True},
]
PHONES_SCHEMA = [
    {"key": "brand", "type": "choice", "filterable": True,
     "choices": ["Samsung", "Apple", "Tecno"]},
    {"key": "storage", "type": "int", "filterable": True, "unit": "GB"},
    {"key": "dual_sim", "type": "bool", "filterable": True},
]


@pytest.fixture
def catalog(db: Any) -> SimpleNamespace:
    """Vehicles > Cars, Motorcycles; Electronics > Mobile Phones, Laptops; Property > For Rent
    > Apartments."""
    vehicles = make_category("Vehicles")
    cars = make_category("Cars", vehicles, attributes=CARS_SCHEMA)
    motorcycles = make_category("Motorcycles", vehicles, attributes=[
        {"key": "year", "type": "int", "filterable": True}])
    electronics = make_category("Electronics")
    phones = make_category("Mobile Phones", electronics, attributes=PHONES_SCHEMA)
    laptops = make_category("Laptops", electronics)
    property_ = make_category("Property")
    rent = make_category("For Rent", property_)
    apartments = make_category("Apartments", rent)
    return SimpleNamespace(vehicles=vehicles, cars=cars, motorcycles=motorcycles,
                           electronics=electronics, phones=phones, laptops=laptops,
                           property=property_, rent=rent, apartments=apartments)


@pytest.fixture
def places(db: Any) -> SimpleNamespace:
    """Nairobi > Westlands, Kilimani; Mombasa > Nyali."""
    nairobi = make_location("Nairobi")
    westlands = make_location("Westlands", nairobi)
    kilimani = make_location("Kilimani", nairobi)
    mombasa = make_location("Mombasa")
    nyali = make_location("Nyali", mombasa)
    return SimpleNamespace(nairobi=nairobi, westlands=westlands, kilimani=kilimani,
                           mombasa=mombasa, nyali=nyali)


@pytest.fixture
def seller(make_user: Any) -> Any:
    return make_user(first_name="Amani", last_name="Wanjiru")


@pytest.fixture
def buyer(make_user: Any) -> Any:
    return make_user(first_name="Baraka", last_name="Otieno")


@pytest.fixture
def seller_client(seller: Any, client_for: Any) -> Any:
    return client_for(seller)


@pytest.fixture
def buyer_client(buyer: Any, client_for: Any) -> Any:
    return client_for(buyer)


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    """Every file an ads test stores lands in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)
