"""Ad background work: thin, idempotent tasks that reload by id and call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def moderate_ad(ad_id: str) -> None:
    from apps.ads import services

    services.approve_after_checks(ad_id=ad_id)  # type: ignore[arg-type]


@shared_task(acks_late=True)
def moderate_stuck_ads() -> int:
    """Beat sweep: pending ads without a verdict whose task was lost go through again."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.ads.models import Ad, AdStatus

    cutoff = timezone.now() - timedelta(minutes=1)
    stuck = Ad.objects.filter(status=AdStatus.PENDING, moderation_reason__isnull=True,
                              deleted_at__isnull=True, updated_at__lt=cutoff,
                              owner__is_suspended=False)
    ids = list(stuck.values_list("pk", flat=True)[:500])
    for ad_id in ids:
        moderate_ad.apply_async(args=(str(ad_id),))
    return len(ids)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=2, max_retries=5)
def make_thumbnail(image_id: str) -> bool:
    from apps.ads import services

    return services.make_thumbnail(image_id=int(image_id))


@shared_task(acks_late=True)
def thumbnail_missing_images() -> int:
    from django.db.models import Q

    from apps.ads.models import AdImage

    missing = Q(thumbnail="") | Q(thumbnail__isnull=True)
    ids = list(AdImage.objects.filter(missing).values_list("pk", flat=True)[:500])
    for image_id in ids:
        make_thumbnail.apply_async(args=(str(image_id),))
    return len(ids)


@shared_task(acks_late=True)
def expire_due_ads() -> int:
    from apps.ads import services

    return services.expire_due_ads()


@shared_task(acks_late=True)
def warn_expiring_ads() -> int:
    from apps.ads import services

    return services.warn_expiring_ads()


@shared_task(acks_late=True)
def flush_view_counts() -> int:
    from apps.ads import views_counter

    return views_counter.flush_view_counts()


@shared_task(acks_late=True)
def notify_price_drop(ad_id: str, old_price: str) -> int:
    from apps.ads import services

    return services.notify_price_drop(ad_id=ad_id, old_price=old_price)  # type: ignore[arg-type]
