from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.payments import services
from apps.payments.models import Payment, PaymentEvent, Plan, Promotion


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "tier", "duration_days", "price", "currency", "is_active")
    list_filter = ("tier", "is_active")
    filter_horizontal = ("categories",)


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "source", "data", "created_at")


@admin.action(description="Refund (ends the promotion now)")
def refund(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
    done = 0
    for payment in queryset.filter(status="succeeded"):
        services.refund(payment=payment, staff=request.user,  # type: ignore[arg-type]
                        note="admin")
        done += 1
    messages.info(request, f"{done} payment(s) refunded.")


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "plan", "amount", "provider", "status", "created_at")
    list_filter = ("status", "provider")
    search_fields = ("id", "provider_reference", "receipt", "user__email")
    readonly_fields = [field.name for field in Payment._meta.fields]
    inlines = [PaymentEventInline]
    actions = [refund]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("ad", "tier", "starts_at", "ends_at", "payment")
    raw_id_fields = ("ad", "payment")
