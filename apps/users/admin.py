"""Staff view of accounts; suspension goes through the service (tokens, ads, sockets)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.users import services
from apps.users.models import User


@admin.action(description="Suspend (hide ads, revoke tokens, close sockets)")
def suspend(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    for user in queryset:
        services.suspend_user(user=user, by=request.user)  # type: ignore[arg-type]
    messages.info(request, f"{queryset.count()} account(s) suspended.")


@admin.action(description="Unsuspend (restore ads hidden by the suspension)")
def unsuspend(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    for user in queryset:
        services.unsuspend_user(user=user, by=request.user)  # type: ignore[arg-type]
    messages.info(request, f"{queryset.count()} account(s) unsuspended.")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "phone", "is_staff", "is_suspended",
                    "date_joined")
    list_filter = ("is_staff", "is_suspended", "email_verified", "phone_verified")
    search_fields = ("email", "phone", "first_name", "last_name")
    readonly_fields = ("password", "last_login", "date_joined", "rating_count", "rating_total",
                       "active_ads_count", "is_suspended", "suspended_at")
    exclude = ("user_permissions", "groups")
    actions = [suspend, unsuspend]
