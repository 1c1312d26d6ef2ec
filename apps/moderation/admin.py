"""Staff queue: open reports first, with resolve/dismiss actions through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.moderation import services
from apps.moderation.models import BannedWord, Report, ReportStatus, Review


def close(request: HttpRequest, queryset: QuerySet[Report], status: str) -> None:
    done = 0
    for report in queryset.filter(status=ReportStatus.OPEN):
        services.resolve_report(report=report, staff=request.user,  # type: ignore[arg-type]
                                status=status, resolution_note="admin")
        done += 1
    messages.info(request, f"{done} report(s) {status}.")


@admin.action(description="Resolve (no action)")
def resolve(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Report]) -> None:
    close(request, queryset, ReportStatus.RESOLVED)


@admin.action(description="Dismiss")
def dismiss(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Report]) -> None:
    close(request, queryset, ReportStatus.DISMISSED)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "target_type", "target_id", "reason", "status", "action", "reporter",
                    "created_at")
    list_filter = ("status", "target_type", "reason", "action")
    search_fields = ("target_id", "details", "reporter__email")
    readonly_fields = ("reporter", "target_type", "target_id", "reason", "details", "status",
                       "action", "resolved_at", "resolved_by", "resolution_note")
    actions = [resolve, dismiss]
    ordering = ("status", "-created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("id", "seller", "reviewer", "rating", "created_at")
    search_fields = ("seller__email", "reviewer__email", "comment")
    raw_id_fields = ("seller", "reviewer", "ad")


@admin.register(BannedWord)
class BannedWordAdmin(admin.ModelAdmin):
    list_display = ("word", "created_at")
    search_fields = ("word",)
