"""Payment background work: the sandbox's own confirmation, stale payments, promotion ends."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def sandbox_confirm(payment_id: str) -> bool:
    """Play the sandbox provider: send its signed callback through the real handling path."""
    from apps.payments import services
    from apps.payments.models import Payment
    from apps.payments.providers import sandbox

    payment = Payment.objects.filter(pk=payment_id, provider="sandbox").first()
    if payment is None or not payment.provider_reference:
        return False
    body = sandbox.callback_body(reference=payment.provider_reference, amount=payment.amount)
    services.handle_callback(provider_name="sandbox", body=body,
                             headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}, query={})
    return True


@shared_task(acks_late=True)
def query_stale_payments() -> int:
    from apps.payments import services

    return services.query_stale_payments()


@shared_task(acks_late=True)
def end_expired_promotions() -> int:
    from apps.payments import services

    return services.end_expired_promotions()
