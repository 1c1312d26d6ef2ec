"""Django admin for categories: every write goes through the services (slugs, paths, audit,
cache), and their validation errors show on the form instead of failing the request."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.exceptions import APIException

from apps.categories import attribute_schema, services
from apps.categories.models import Category

FORM_FIELDS = ("name", "parent", "order", "icon", "attributes", "min_price", "max_price")


def _messages(detail: Any) -> list[str]:
    """Flatten a DRF error detail into "attributes.0.key: message" lines."""
    found: list[str] = []

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(value, list):
            if all(not isinstance(item, dict | list) for item in value):
                found.extend(f"{prefix}: {item}" if prefix else str(item) for item in value)
            else:
                for index, item in enumerate(value):
                    walk(item, f"{prefix}.{index}")
        else:
            found.append(f"{prefix}: {value}" if prefix else str(value))

    walk(detail, "")
    return found


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = FORM_FIELDS
        help_texts = {
            "attributes": 'Own attribute definitions, a JSON list: [{"key": "year", "label": '
                          '"Year", "type": "int", "required": true, "filterable": true, '
                          '"min": 1950}]. Types: text, int, decimal, bool, choice (with '
                          '"choices"). Subcategories inherit them.',
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        instance = self.instance if self.instance.pk else None
        try:
            own = attribute_schema.parse_definitions(cleaned.get("attributes"))
            services.check_placement(category=instance, parent=cleaned.get("parent"),
                                     attributes=own)
        except APIException as exc:
            detail: dict[str, Any] = (exc.detail if isinstance(exc.detail, dict)
                                      else {"": exc.detail})
            for field, errors in detail.items():
                if field in FORM_FIELDS:
                    self.add_error(field, _messages(errors))
                else:
                    self.add_error(None, _messages({field: errors} if field else errors))
        return cleaned


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("name", "slug", "parent", "depth", "order", "ad_count")
    list_filter = (("parent", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "slug")
    ordering = ("path",)
    readonly_fields = ("slug", "path", "depth", "ad_count")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)

    def get_fields(self, request: HttpRequest, obj: Category | None = None) -> Any:
        return (*FORM_FIELDS, *self.readonly_fields) if obj else FORM_FIELDS

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        data = {field: form.cleaned_data.get(field) for field in FORM_FIELDS}
        data["icon"] = data["icon"] or ""
        if change:
            saved = services.update_category(actor=request.user, category=obj, changes=data)
        else:
            saved = services.create_category(actor=request.user, **data)
        obj.pk, obj.slug, obj.path, obj.depth = saved.pk, saved.slug, saved.path, saved.depth

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        try:
            services.delete_category(actor=request.user, category=obj)
        except APIException as exc:
            messages.error(request, f"{obj}: {exc.detail}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        # Leaves first, so a selected parent goes after its selected children.
        for category in sorted(queryset, key=lambda c: -c.depth):
            self.delete_model(request, category)
