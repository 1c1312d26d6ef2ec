"""Moderation background work: thin tasks that call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def refresh_seller_response_stats() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE): the sellers' response figures on public profiles.
    Safe to run twice: it recomputes from the chat tables and writes only what changed."""
    from apps.moderation import services

    return services.refresh_seller_response_stats()


@shared_task(acks_late=True)
def check_ad_photos(ad_id: str) -> bool:
    """After a photo upload commits: the photo rule on that ad. Safe to run twice (a held ad
    is left alone)."""
    from apps.moderation import services

    ad = services.check_ad_photos(ad_id=ad_id)
    return ad is not None and ad.moderation_reason is not None
