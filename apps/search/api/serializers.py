from __future__ import annotations

from rest_framework import serializers

from apps.ads.api.serializers import AdOutput


class CategoryFacetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class ConditionFacetOutput(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class PriceFacetOutput(serializers.Serializer):
    min = serializers.CharField()
    max = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class LocationFacetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class AttributeValueOutput(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class AttributeFacetOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named `label`
    values = AttributeValueOutput(many=True)


class FacetsOutput(serializers.Serializer):
    category = CategoryFacetOutput(many=True)
    condition = ConditionFacetOutput(many=True)
    price_range = PriceFacetOutput(many=True)
    location = LocationFacetOutput(
        many=True,
        help_text="Additive: the top-level locations, or the children of the "
        "selected `location`, each counting its whole subtree; largest first.",
    )
    attributes = AttributeFacetOutput(
        many=True,
        help_text="Additive: with a `category`, its choice attributes (and its "
        "subcategories'), each value with its count, largest first; `[]` without one.",
    )


class SearchPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AdOutput(many=True)
    facets = FacetsOutput()
    count_is_estimate = serializers.BooleanField(
        help_text="Additive. True when more ads match than the server counts "
        "(SEARCH_COUNT_CAP, a few thousand): `count` is then that number (a lower bound), the "
        "facets cover those ads only, and pages end there. False means every count is exact."
    )


class SuggestionOutput(serializers.Serializer):
    text = serializers.CharField()
    type = serializers.ChoiceField(choices=["ad", "category"])
    slug = serializers.CharField()


class SuggestionsOutput(serializers.Serializer):
    suggestions = SuggestionOutput(many=True)


class SavedSearchInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    q = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    filters = serializers.JSONField(required=False, default=dict)


class SavedSearchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    q = serializers.CharField()
    filters = serializers.DictField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
