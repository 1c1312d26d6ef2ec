"""Listing filters (API.md section 6), shared by the list, search and saved searches.

Malformed values answer 400 with the parameter as `attr`; well-formed values that match
nothing give an empty page.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import django_filters as filters
from django import forms
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
    ordering = filters.ChoiceFilter(
        choices=[(key, key) for key in ORDERINGS], method="filter_ordering"
    )

    class Meta:
        model = Ad
        fields: list[str] = []

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Ad] | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
    ) -> None:
        """django-filter's FilterSet, made for the filters the data names: FilterSet copies
        (deepcopy) every declared filter per instance and builds a form of all of them, ~1.5 ms
        of CPU a listing request for the 2-3 filters it uses. Filters the data does not name
        filter nothing (an absent or empty value is skipped), so leaving them out changes no
        page and no 400; a form class per set of names is built once (`form_class_for`)."""
        if data is not None and prefix is None:
            # The instance's own `base_filters` (the class's keep them all) for the copy that
            # FilterSet.__init__ makes, dropped once done.
            every: dict[str, Any] = type(self).base_filters  # type: ignore[has-type]
            self.base_filters = {name: filter_ for name, filter_ in every.items() if name in data}
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.__dict__.pop("base_filters", None)

    def get_form_class(self) -> type[forms.Form]:
        return form_class_for(type(self), tuple(self.filters), super().get_form_class)

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


# (FilterSet class, filter names) -> its form class: the fields of a filter are the same for
# every instance (labels included: the model is the class's), the form copies them per instance.
_FORM_CLASSES: dict[tuple[type[filters.FilterSet], tuple[str, ...]], type[forms.Form]] = {}


def form_class_for(
    filterset_class: type[filters.FilterSet],
    names: tuple[str, ...],
    build: Any,
) -> type[forms.Form]:
    key = (filterset_class, names)
    form_class = _FORM_CLASSES.get(key)
    if form_class is None:
        form_class = _FORM_CLASSES[key] = build()
    return form_class


def filter_attributes(queryset: QuerySet[Ad], params: Any) -> QuerySet[Ad]:
    """attr_<key>=v (exact), attr_<key>_min / _max (inclusive) for int and decimal keys."""
    names = [param for param in params if param.startswith(ATTRIBUTE_PREFIX)]
    if not names:  # no attribute filter: no need for the attribute types (a cached tree read)
        return queryset
    types = category_selectors.attribute_types()
    for param in names:
        raw = params.get(param)
        key, bound = param[len(ATTRIBUTE_PREFIX) :], None
        if key not in types and key.endswith(("_min", "_max")):
            key, bound = key[:-4], key[-3:]
        kind = types.get(key)
        if kind is None or (bound is not None and kind not in ("int", "decimal")):
            raise invalid(param, f'Unknown attribute filter "{param}".')
        value = parse_attribute_value(param, kind, raw)
        if bound is None and kind in ("text", "choice", "bool", "int"):
            queryset = queryset.filter(attributes__contains={key: value})
        else:
            numeric = Cast(
                KeyTextTransform(key, "attributes"), DecimalField(max_digits=20, decimal_places=4)
            )
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
