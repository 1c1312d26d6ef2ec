"""Rows the fault tests need, made through the services (autocommit: these tests commit)."""

from __future__ import annotations

from typing import Any

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus
from apps.ads.status import Actor


def active_ad(owner: Any, category: Any, title: str) -> Ad:
    ad = ad_services.create_ad(
        owner=owner,
        draft=False,
        category=category,
        title=title,
        description="Boxed, with charger.",
        price="9000.00",
    )
    ad.refresh_from_db()  # moderation may have run already (eagerly, on commit)
    if ad.status != AdStatus.ACTIVE:
        ad = ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.SYSTEM)
    return ad
