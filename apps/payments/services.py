"""Payments: start a boost, apply a provider's answer exactly once, end promotions on time."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.ads.models import Ad, AdStatus, PromotionTier
from apps.categories.models import Category
from apps.common.audit import record_action
from apps.common.errors import FieldError
from apps.payments.models import TIER_RANK, Payment, PaymentEvent, PaymentStatus, Plan, Promotion
from apps.payments.providers.base import (
    CallbackRejected,
    Outcome,
    ProviderError,
    configured_providers,
    get_provider,
)
from apps.search import services as search_services
from apps.users.models import User
from apps.users.phone import InvalidPhoneNumber, to_e164

logger = logging.getLogger(__name__)
SAFARICOM_PREFIXES = ("+2547", "+2541")


def plan_available(plan: Plan, category: Category) -> bool:
    allowed = set(plan.categories.values_list("pk", flat=True))
    return not allowed or bool(allowed & set(category.lineage_ids))


def mpesa_phone(raw: str | None, user: User) -> str:
    try:
        phone = to_e164(raw) if raw else (user.phone or "")
    except InvalidPhoneNumber:
        phone = ""
    if not phone.startswith(SAFARICOM_PREFIXES) or len(phone) != 13:
        raise FieldError("phone", "Give a Kenyan M-Pesa number (07XX or 01XX).", "invalid")
    return phone


def mpesa_billable(plan: Plan) -> bool:
    """M-Pesa collects whole Kenyan shillings: anything else would be billed another amount."""
    return plan.currency == "KES" and plan.price == plan.price.to_integral_value()


def start_boost(*, user: User, ad: Ad, plan_code: str, phone: str | None = None) -> Payment:
    """Create a pending payment for the plan and ask the provider to collect it."""
    plan = Plan.objects.filter(code=plan_code, is_active=True).first()
    if plan is None:
        raise FieldError("plan", f'Unknown plan "{plan_code}".', "invalid_choice")
    if ad.status != AdStatus.ACTIVE or ad.deleted_at is not None:
        raise FieldError("ad", "Only active ads can be promoted.", "invalid")
    if not plan_available(plan, ad.category):
        raise FieldError("plan", "This plan is not offered in the ad's category.", "invalid")
    provider_name = settings.PAYMENT_PROVIDER
    if provider_name == "mpesa" and not mpesa_billable(plan):
        raise FieldError("plan", "This plan cannot be paid with M-Pesa.", "invalid")
    payment_phone = mpesa_phone(phone, user) if provider_name == "mpesa" else (phone or "")
    with transaction.atomic():
        payment = Payment.objects.create(user=user, ad=ad, plan=plan, amount=plan.price,
                                         currency=plan.currency, provider=provider_name,
                                         phone=payment_phone)
        PaymentEvent.objects.create(payment=payment, to_status=PaymentStatus.PENDING,
                                    source="boost", data={"plan": plan.code})
        record_action(payment, "payments.started", actor=user, data={"plan": plan.code})
    try:
        # The provider's follow-ups (the sandbox's own confirmation) are queued on commit:
        # the reference is stored in the same transaction, so they always find it.
        with transaction.atomic():
            reference = get_provider(provider_name).start(payment=payment)
            Payment.objects.filter(pk=payment.pk).update(provider_reference=reference)
    except (ProviderError, ValueError) as exc:
        logger.warning("payment %s could not start: %s", payment.pk, exc)
        settle(payment_id=payment.pk, outcome=Outcome(reference="", succeeded=False,
                                                       detail=str(exc)[:200]),
               source="start")
        payment.refresh_from_db()
        return payment
    payment.provider_reference = reference
    return payment


def handle_callback(*, provider_name: str, body: bytes, headers: dict[str, str],
                    query: dict[str, str]) -> Payment | None:
    """Verify and apply a provider callback; raises CallbackRejected (403) when unverified."""
    if provider_name not in configured_providers():
        raise CallbackRejected(f"provider {provider_name} is not configured here")
    outcome = get_provider(provider_name).parse_callback(body=body, headers=headers,
                                                         query=query)
    payment = Payment.objects.filter(provider=provider_name,
                                     provider_reference=outcome.reference).first()
    if payment is None:
        logger.warning("callback for unknown payment %s/%s", provider_name, outcome.reference)
        return None
    if outcome.amount is not None and outcome.succeeded and outcome.amount != payment.amount:
        logger.warning("callback amount %s != %s for payment %s; ignored", outcome.amount,
                       payment.amount, payment.pk)
        raise CallbackRejected("amount does not match the payment")
    settle(payment_id=payment.pk, outcome=outcome, source=f"callback:{provider_name}")
    payment.refresh_from_db()
    return payment


@transaction.atomic
def settle(*, payment_id: Any, outcome: Outcome, source: str) -> bool:
    """Apply a final answer once: the payment row is locked and a final payment is left
    alone, so repeated or out-of-order callbacks change nothing. True if this call applied."""
    payment = Payment.objects.select_for_update().select_related("plan").get(pk=payment_id)
    if payment.status != PaymentStatus.PENDING or outcome.succeeded is None:
        return False
    new_status = PaymentStatus.SUCCEEDED if outcome.succeeded else PaymentStatus.FAILED
    PaymentEvent.objects.create(payment=payment, from_status=payment.status,
                                to_status=new_status, source=source,
                                data={"receipt": outcome.receipt, "detail": outcome.detail})
    payment.status = new_status
    payment.receipt = outcome.receipt[:100]
    payment.save(update_fields=["status", "receipt", "updated_at"])
    record_action(payment, f"payments.{new_status}", data={"source": source})
    if new_status == PaymentStatus.SUCCEEDED:
        apply_promotion(payment=payment)
        send_receipt(payment=payment)
    return True


def apply_promotion(*, payment: Payment) -> Promotion:
    """The higher tier of the ad's and the plan's; until = max(now, until) + duration."""
    ad = Ad.objects.select_for_update().get(pk=payment.ad_id)
    now = timezone.now()
    plan = payment.plan
    current_tier = ad.promotion_tier if ad.promotion_until and ad.promotion_until > now else 0
    start = max(now, ad.promotion_until or now)
    until = start + timedelta(days=plan.duration_days)
    promotion = Promotion.objects.create(payment=payment, ad=ad, tier=plan.tier,
                                         starts_at=start, ends_at=until)
    if ad.status == AdStatus.ACTIVE and ad.deleted_at is None:
        ad.promotion_tier = max(current_tier, TIER_RANK[plan.tier])
        ad.promotion_until = until
        ad.save(update_fields=["promotion_tier", "promotion_until", "updated_at"])
        search_services.schedule_sync(ad_ids=[ad.pk])
    record_action(ad, "ads.promoted", data={"tier": plan.tier, "until": until.isoformat(),
                                             "payment": str(payment.pk)})
    return promotion


def send_receipt(*, payment: Payment) -> None:
    from apps.notifications import services as notifications

    user = User.objects.get(pk=payment.user_id)
    ad_title = Ad.objects.filter(pk=payment.ad_id).values_list("title", flat=True).first()
    notifications.queue_email(
        to=user.email,
        subject=f"Receipt: {payment.plan.name}",
        body=(f"Thank you. We received {payment.currency} {payment.amount:,.2f} for "
              f"{payment.plan.name} on \u201c{ad_title}\u201d.\n"
              f"Payment: {payment.pk}\nReceipt: {payment.receipt or '-'}"),
    )


@transaction.atomic
def refund(*, payment: Payment, staff: User, note: str = "") -> Payment:
    """Staff refund: the payment is marked refunded and its promotion ends now."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != PaymentStatus.SUCCEEDED:
        from apps.ads.services import InvalidTransition

        raise InvalidTransition("Only succeeded payments can be refunded.")
    PaymentEvent.objects.create(payment=payment, from_status=payment.status,
                                to_status=PaymentStatus.REFUNDED, source="staff",
                                data={"note": note, "by": str(staff.pk)})
    payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["status", "updated_at"])
    now = timezone.now()
    Promotion.objects.filter(payment=payment, ends_at__gt=now).update(ends_at=now)
    recompute_promotion(ad_id=payment.ad_id)
    record_action(payment, "payments.refunded", actor=staff, data={"note": note})
    return payment


def recompute_promotion(*, ad_id: Any) -> None:
    """The ad's tier and until from its promotions still running (after a refund or expiry)."""
    now = timezone.now()
    ad = Ad.objects.select_for_update().get(pk=ad_id)
    running = list(Promotion.objects.filter(ad_id=ad_id, ends_at__gt=now,
                                            payment__status=PaymentStatus.SUCCEEDED))
    live = ad.status == AdStatus.ACTIVE and ad.deleted_at is None
    if running and live:
        ad.promotion_tier = max(TIER_RANK[p.tier] for p in running)
        ad.promotion_until = max(p.ends_at for p in running)
    else:
        ad.promotion_tier, ad.promotion_until = PromotionTier.NONE, None
    ad.save(update_fields=["promotion_tier", "promotion_until", "updated_at"])
    search_services.schedule_sync(ad_ids=[ad.pk])


def end_expired_promotions(*, limit: int = 1000) -> int:
    now = timezone.now()
    due = list(Ad.objects.filter(promotion_tier__gt=0, promotion_until__lte=now)
               .values_list("pk", flat=True)[:limit])
    for ad_id in due:
        with transaction.atomic():
            recompute_promotion(ad_id=ad_id)
    return len(due)


def query_stale_payments(*, older_than_seconds: int = 120, limit: int = 200) -> int:
    """Payments whose callback never came: ask the provider; give up after the timeout."""
    now = timezone.now()
    stale = Payment.objects.filter(status=PaymentStatus.PENDING,
                                   created_at__lt=now - timedelta(seconds=older_than_seconds))
    checked = 0
    for payment in stale.order_by("created_at")[:limit]:
        checked += 1
        try:
            outcome = get_provider(payment.provider).query_status(payment=payment)
        except ProviderError as exc:
            logger.warning("status query for %s failed: %s", payment.pk, exc)
            continue
        if outcome.succeeded is None:
            timeout = timedelta(minutes=settings.PAYMENT_PENDING_TIMEOUT_MINUTES)
            if payment.created_at < now - timeout:
                outcome = Outcome(reference=payment.provider_reference, succeeded=False,
                                  detail="no answer from the provider in time")
            else:
                continue
        settle(payment_id=payment.pk, outcome=outcome, source="status_query")
    return checked

