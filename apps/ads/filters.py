"""Listing filters (API.md section 6), shared by the list, search and saved searches.

Malformed values answer 400 with the parameter as `attr`; well-formed values that match
nothing give an empty page.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import django_filters as filters
from django.db.models import DecimalField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from rest_framework.exceptions import ValidationError

from apps.ads.models import Ad, Condition
from apps.categories import selectors as category_selectors
from apps.locations import selectors as location_selectors

BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]
ORDERINGS = {
    "-published_at": ("-published_at", "-id"),
    "published_at": ("published_at", "id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
}
ATTRIBUTE_PREFIX = "attr_"


def invalid(param: str, message: str) -> ValidationError:
    return ValidationError({param: [message]}, code="invalid")


class AdFilter(filters.FilterSet):
    category = filters.CharFilter(method="filter_category")
    location = filters.CharFilter(method="filter_location")
    min_price = filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = filters.NumberFilter(field_name="price", lookup_expr="lte")
    condition = filters.ChoiceFilter(choices=Condition.choices)
    negotiable = filters.ChoiceFilter(choices=BOOLEAN_CHOICES, method="filter_negotiable")
    has_images = filters.ChoiceFilter(choices=BOOLEAN_CHOICES, method="filter_has_images")
    seller = filters.UUIDFilter(field_name="owner_id")
    posted_since = filters.DateFilter(field_name="published_at", lookup_expr="date__gte")
    q = filters.CharFilter(method="filter_text")
    ordering = filters.ChoiceFilter(choices=[(key, key) for key in ORDERINGS],
                                    method="filter_ordering")

    class Meta:
        model = Ad
        fields: list[str] = []

    def filter_category(self, queryset: QuerySet[Ad], name: str, value: str) -> QuerySet[Ad]:
        ids = category_selectors.descendant_ids(value)
        if ids is None:
            raise invalid("category", f'Unknown category "{value}".')
        return queryset.filter(category_id__in=ids)

    def filter_location(self, queryset: QuerySet[Ad], name: str, value: str) -> QuerySet[Ad]:
        ids = location_selectors.descendant_ids(slug=value)
        if ids is None:
            raise invalid("location", f'Unknown location "{value}".')
        return queryset.filter(location_id__in=ids)

    def filter_negotiable(self, queryset: QuerySet[Ad], name: str, value: str) -> QuerySet[Ad]:
        return queryset.filter(negotiable=value == "true")

    def filter_has_images(self, queryset: QuerySet[Ad], name: str, value: str) -> QuerySet[Ad]:
        with_images = Q(images__isnull=False)
        if value == "true":
            return queryset.filter(pk__in=Ad.objects.filter(with_images).values("pk"))
        return queryset.exclude(pk__in=Ad.objects.filter(with_images).values("pk"))

    def filter_text(self, queryset: QuerySet[Ad], name: str, value: str) -> QuerySet[Ad]:
        from apps.search.backends import postgres

        return postgres.filter_text(queryset, value)

    def filter_ordering(self, queryset: QuerySet[Ad], name: str, value: str) -> QuerySet[Ad]:
        return queryset.order_by(*ORDERINGS[value])

    def filter_queryset(self, queryset: QuerySet[Ad]) -> QuerySet[Ad]:
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by("-promotion_tier", "-published_at", "-id")
        queryset = super().filter_queryset(queryset)
        return filter_attributes(queryset, self.data)


def filter_attributes(queryset: QuerySet[Ad], params: Any) -> QuerySet[Ad]:
    """attr_<key>=v (exact), attr_<key>_min / _max (inclusive) for int and decimal keys."""
    names = [param for param in params if param.startswith(ATTRIBUTE_PREFIX)]
    if not names:  # no attribute filter: no need for the attribute types (a cached tree read)
        return queryset
    types = category_selectors.attribute_types()
    for param in names:
        raw = params.get(param)
        key, bound = param[len(ATTRIBUTE_PREFIX):], None
        if key not in types and key.endswith(("_min", "_max")):
            key, bound = key[:-4], key[-3:]
        kind = types.get(key)
        if kind is None or (bound is not None and kind not in ("int", "decimal")):
            raise invalid(param, f'Unknown attribute filter "{param}".')
        value = parse_attribute_value(param, kind, raw)
        if bound is None and kind in ("text", "choice", "bool", "int"):
            queryset = queryset.filter(attributes__contains={key: value})
        else:
            numeric = Cast(KeyTextTransform(key, "attributes"),
                           DecimalField(max_digits=20, decimal_places=4))
            lookup = {"min": "gte", "max": "lte", None: "exact"}[bound]
            queryset = queryset.alias(**{f"attr_{key}_value": numeric}).filter(
                **{f"attr_{key}_value__{lookup}": value}
            )
    return queryset


def parse_attribute_value(param: str, kind: str, raw: str) -> Any:
    # PostgreSQL text and jsonb cannot hold NUL: refuse it here (400), never a DataError (500).
    if "\x00" in raw:
        raise invalid(param, "Null characters are not allowed.")
    if kind == "bool":
        if raw not in ("true", "false"):
            raise invalid(param, "Use true or false.")
        return raw == "true"
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise invalid(param, "Enter a whole number.") from None
    if kind == "decimal":
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise invalid(param, "Enter a number.") from None
        if not number.is_finite():  # NaN, Infinity: no number to compare with
            raise invalid(param, "Enter a number.")
        return number
    return raw
