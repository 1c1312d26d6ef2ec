"""Test helpers for the payments suite: URLs, shapes, rows made through the services, and
provider callbacks as the providers send them."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from django.test import TestCase

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus
from apps.ads.status import Actor
from apps.categories import services as category_services
from apps.categories.models import Category
from apps.payments.models import Payment, PaymentEvent, Plan, Promotion
from apps.payments.providers import sandbox
from apps.users.models import User

ADS = "/api/ads/"
PAYMENTS = "/api/payments/"
PLANS = PAYMENTS + "plans/"
SANDBOX_CALLBACK = PAYMENTS + "callback/sandbox/"
MPESA_CALLBACK = PAYMENTS + "callback/mpesa/"
CALLBACK_TOKEN = "cb-token-123"  # MPESA_CALLBACK_TOKEN in the `mpesa` fixture

PLAN_KEYS = {"code", "name", "tier", "duration_days", "price", "currency"}
PAYMENT_KEYS = {"id", "ad", "plan", "amount", "currency", "provider", "status", "created_at",
                "updated_at"}
PAGE_KEYS = {"count", "next", "previous", "results"}
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"

_titles = itertools.count(1)


def boost_url(slug: str) -> str:
    return f"{ADS}{slug}/boost/"


def ad_url(slug: str) -> str:
    return f"{ADS}{slug}/"


def payment_url(payment_id: object) -> str:
    return f"{PAYMENTS}{payment_id}/"


# --- rows -------------------------------------------------------------------------------------


def make_category(name: str, parent: Category | None = None) -> Category:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return category_services.create_category(actor=None, name=name, parent=parent)


def make_plan(code: str, name: str, tier: str, days: int, price: str, *,
              currency: str = "KES", is_active: bool = True,
              categories: list[Category] | None = None) -> Plan:
    plan = Plan.objects.create(code=code, name=name, tier=tier, duration_days=days,
                               price=Decimal(price), currency=currency, is_active=is_active)
    if categories:
        plan.categories.set(categories)
    return plan


PATHS: dict[str, list[tuple[AdStatus, Actor]]] = {
    AdStatus.DRAFT: [],
    AdStatus.PENDING: [(AdStatus.PENDING, Actor.OWNER)],
    AdStatus.ACTIVE: [(AdStatus.PENDING, Actor.OWNER), (AdStatus.ACTIVE, Actor.SYSTEM)],
    AdStatus.SOLD: [(AdStatus.PENDING, Actor.OWNER), (AdStatus.ACTIVE, Actor.SYSTEM),
                    (AdStatus.SOLD, Actor.OWNER)],
    AdStatus.HIDDEN: [(AdStatus.PENDING, Actor.OWNER), (AdStatus.ACTIVE, Actor.SYSTEM),
                      (AdStatus.HIDDEN, Actor.STAFF)],
    AdStatus.EXPIRED: [(AdStatus.PENDING, Actor.OWNER), (AdStatus.ACTIVE, Actor.SYSTEM),
                       (AdStatus.EXPIRED, Actor.SYSTEM)],
}


def make_ad(*, owner: User, category: Category, status: str = AdStatus.ACTIVE,
            price: Decimal = Decimal("1500.00"), **forced: Any) -> Ad:
    """An ad walked through the real lifecycle (counts and audit right); `forced` fields
    (published_at, promotion_tier...) are written onto the row afterwards."""
    n = next(_titles)
    ad = ad_services.create_ad(owner=owner, draft=True, category=category,
                               title=f"Payments sample ad {n}",
                               description=f"A well kept item, sample {n}.", price=price)
    for to, actor in PATHS[status]:
        ad.refresh_from_db()
        if ad.status == to:  # with real commits the moderation task already made this move
            continue
        ad = ad_services.change_ad_status(ad_id=ad.pk, to=to, actor=actor,
                                          by=owner if actor == Actor.OWNER else None)
    if forced:
        Ad.objects.filter(pk=ad.pk).update(**forced)
    ad.refresh_from_db()
    return ad


def make_payment(*, user: User, ad: Ad, plan: Plan, provider: str = "sandbox",
                 reference: str | None = None, status: str = "pending", **fields: Any
                 ) -> Payment:
    """A payment row as start_boost leaves it, without asking any provider."""
    payment = Payment.objects.create(user=user, ad=ad, plan=plan, amount=plan.price,
                                     currency=plan.currency, provider=provider,
                                     status=status, **fields)
    payment.provider_reference = reference if reference is not None else f"sbx-{payment.pk}"
    payment.save(update_fields=["provider_reference"])
    PaymentEvent.objects.create(payment=payment, to_status="pending", source="boost")
    return payment


def reload(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)


# --- callbacks --------------------------------------------------------------------------------


def sandbox_callback(client: Any, payment: Payment, *, succeeded: bool = True,
                     amount: Decimal | None = None, signature: str | None = None,
                     body: bytes | None = None) -> Any:
    """POST the sandbox's signed callback (`signature=""` sends none)."""
    if body is None:
        body = sandbox.callback_body(reference=payment.provider_reference,
                                     amount=payment.amount if amount is None else amount,
                                     succeeded=succeeded)
    headers = {}
    sig = sandbox.sign(body) if signature is None else signature
    if sig:
        headers["HTTP_X_SANDBOX_SIGNATURE"] = sig
    return client.post(SANDBOX_CALLBACK, data=body, content_type="application/json", **headers)


def daraja_success(checkout_id: str, *, amount: Any = 299, receipt: str = "NLJ7RT61SV",
                   phone: int = 254712345678) -> dict[str, Any]:
    """A Daraja STK callback for a completed payment, as Safaricom sends it."""
    return {"Body": {"stkCallback": {
        "MerchantRequestID": "29115-34620561-1",
        "CheckoutRequestID": checkout_id,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "CallbackMetadata": {"Item": [
            {"Name": "Amount", "Value": amount},
            {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "Balance"},
            {"Name": "TransactionDate", "Value": 20191219102115},
            {"Name": "PhoneNumber", "Value": phone},
        ]},
    }}}


def daraja_cancelled(checkout_id: str) -> dict[str, Any]:
    """A Daraja STK callback when the buyer dismissed the prompt (no CallbackMetadata)."""
    return {"Body": {"stkCallback": {
        "MerchantRequestID": "29115-34620561-1",
        "CheckoutRequestID": checkout_id,
        "ResultCode": 1032,
        "ResultDesc": "Request cancelled by user",
    }}}


def mpesa_callback(client: Any, payload: dict[str, Any], *,
                   token: str | None = CALLBACK_TOKEN) -> Any:
    url = MPESA_CALLBACK if token is None else f"{MPESA_CALLBACK}?token={token}"
    return client.post(url, data=json.dumps(payload), content_type="application/json")


# --- state ------------------------------------------------------------------------------------


def payment_state() -> dict[str, Any]:
    """Everything a callback may write."""
    return {
        "payments": sorted((str(p.pk), p.status, p.receipt)
                           for p in Payment.objects.all()),
        "events": PaymentEvent.objects.count(),
        "promotions": Promotion.objects.count(),
        "ads": sorted((str(pk), tier, until) for pk, tier, until in
                      Ad.objects.values_list("pk", "promotion_tier", "promotion_until")),
    }
