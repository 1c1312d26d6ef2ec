"""Staff view of ads: status moves go through the lifecycle service, never a raw save."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.ads import services
from apps.ads.models import Ad, AdImage, AdStatus, ModerationReason
from apps.ads.status import Actor


class AdImageInline(admin.TabularInline):
    model = AdImage
    extra = 0
    fields = ("file", "thumbnail", "width", "height", "order")
    readonly_fields = ("file", "thumbnail", "width", "height")


def move(request: HttpRequest, queryset: QuerySet[Ad], to: AdStatus,
         reason: ModerationReason | None = None) -> None:
    done = failed = 0
    for ad in queryset:
        try:
            services.change_ad_status(ad_id=ad.pk, to=to, actor=Actor.STAFF,
                                      by=request.user,  # type: ignore[arg-type]
                                      note="admin", reason=reason)
            done += 1
        except services.InvalidTransition:
            failed += 1
    messages.info(request, f"{done} ad(s) moved to {to.value}; {failed} could not move.")


@admin.action(description="Approve (pending → active)")
def approve(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Ad]) -> None:
    move(request, queryset, AdStatus.ACTIVE)


@admin.action(description="Reject (pending → rejected)")
def reject(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Ad]) -> None:
    move(request, queryset, AdStatus.REJECTED, ModerationReason.STAFF)


@admin.action(description="Hide (active → hidden)")
def hide(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Ad]) -> None:
    move(request, queryset, AdStatus.HIDDEN, ModerationReason.STAFF)


@admin.action(description="Unhide (hidden → active)")
def unhide(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Ad]) -> None:
    move(request, queryset, AdStatus.ACTIVE)


@admin.register(Ad)
class AdAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "moderation_reason", "category", "price", "owner",
                    "published_at", "expires_at")
    list_filter = ("status", "moderation_reason", "promotion_tier")
    search_fields = ("title", "slug", "owner__email")
    readonly_fields = ("status", "slug", "owner", "views_count", "favorites_count",
                       "phone_reveals_count", "published_at", "expires_at", "deleted_at",
                       "promotion_tier", "promotion_until", "moderation_reason")
    raw_id_fields = ("category", "location")
    actions = [approve, reject, hide, unhide]
    inlines = [AdImageInline]
    date_hierarchy = "created_at"
    list_select_related = ("category", "owner")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
