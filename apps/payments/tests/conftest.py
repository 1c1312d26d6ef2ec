"""Fixtures for the payments suite: a small catalogue, plans, a seller with an active ad."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx

pytest.register_assert_rewrite("apps.payments.tests.helpers")

from apps.payments.tests.helpers import (  # noqa: E402
    CALLBACK_TOKEN,
    make_ad,
    make_category,
    make_plan,
)


@pytest.fixture
def catalog(db: Any) -> SimpleNamespace:
    """Vehicles > Cars; Electronics > Phones."""
    vehicles = make_category("Vehicles")
    cars = make_category("Cars", vehicles)
    electronics = make_category("Electronics")
    phones = make_category("Phones", electronics)
    return SimpleNamespace(vehicles=vehicles, cars=cars, electronics=electronics, phones=phones)


@pytest.fixture
def plans(db: Any) -> SimpleNamespace:
    """One plan per tier, offered everywhere, plus a second boost and a retired plan."""
    return SimpleNamespace(
        boost=make_plan("boost-7", "Boost, 7 days", "boost", 7, "299.00"),
        boost30=make_plan("boost-30", "Boost, 30 days", "boost", 30, "899.00"),
        featured=make_plan("featured-7", "Featured, 7 days", "featured", 7, "699.00"),
        vip=make_plan("vip-30", "VIP, 30 days", "vip", 30, "3999.00"),
        retired=make_plan("old-boost", "Old boost", "boost", 3, "99.00", is_active=False),
    )


@pytest.fixture
def seller(make_user: Any) -> Any:
    return make_user(first_name="Amani", last_name="Wanjiru", phone="+254712345678")


@pytest.fixture
def other(make_user: Any) -> Any:
    return make_user(first_name="Baraka", last_name="Otieno")


@pytest.fixture
def seller_client(seller: Any, client_for: Any) -> Any:
    return client_for(seller)


@pytest.fixture
def other_client(other: Any, client_for: Any) -> Any:
    return client_for(other)


@pytest.fixture
def ad(seller: Any, catalog: SimpleNamespace) -> Any:
    return make_ad(owner=seller, category=catalog.cars, price=Decimal("250000.00"))


@pytest.fixture
def sandbox(settings: Any) -> Any:
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.PAYMENT_PROVIDERS = ["sandbox"]
    settings.PAYMENT_SANDBOX_SECRET = "sandbox-test-secret"
    return settings


@pytest.fixture
def mpesa(settings: Any) -> Any:
    """M-Pesa configured next to the sandbox, boosts going to M-Pesa."""
    settings.PAYMENT_PROVIDER = "mpesa"
    settings.PAYMENT_PROVIDERS = ["sandbox", "mpesa"]
    settings.MPESA_BASE_URL = "https://daraja.test"
    settings.MPESA_CONSUMER_KEY = "consumer-key"
    settings.MPESA_CONSUMER_SECRET = "consumer-secret"
    settings.MPESA_SHORTCODE = "174379"
    settings.MPESA_PASSKEY = "test-passkey"
    settings.MPESA_CALLBACK_BASE_URL = "https://api.example.test"
    settings.MPESA_CALLBACK_TOKEN = CALLBACK_TOKEN
    settings.MPESA_CALLBACK_IPS = []
    return settings


DARAJA = "https://daraja.test"


@pytest.fixture
def daraja(mpesa: Any) -> Iterator[SimpleNamespace]:
    """Daraja mocked: OAuth gives a token, every STK push is accepted with a new
    CheckoutRequestID (ws_CO_1, ws_CO_2...); `query` answers nothing until a test says so."""
    numbers = itertools.count(1)

    def accept(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": f"ws_CO_{next(numbers)}",
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        })

    with respx.mock(base_url=DARAJA, assert_all_called=False) as router:
        oauth = router.get("/oauth/v1/generate").respond(
            200, json={"access_token": "daraja-token-1", "expires_in": "3599"})
        stk = router.post("/mpesa/stkpush/v1/processrequest").mock(side_effect=accept)
        query = router.post("/mpesa/stkpushquery/v1/query")
        yield SimpleNamespace(router=router, oauth=oauth, stk=stk, query=query)
