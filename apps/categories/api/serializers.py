"""Category shapes (API.md section 5).

Input: exactly the writable fields; attribute definitions are checked by
`attribute_schema.parse_definitions` (the one place that knows the rules, shared with the
admin). Output: the selectors build the dicts; these serializers describe them for the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.categories.attribute_schema import ATTRIBUTE_TYPES
from apps.categories.models import Category

INT32 = 2**31 - 1

# --- output -----------------------------------------------------------------------------------


class AttributeOutput(serializers.Serializer):
    key = serializers.CharField(help_text="Key of the value in an ad's `attributes`.")
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.ChoiceField(choices=ATTRIBUTE_TYPES)
    required = serializers.BooleanField()  # type: ignore[assignment]
    filterable = serializers.BooleanField(help_text="Usable as `attr_<key>` in ad filters.")
    unit = serializers.CharField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), allow_null=True,
                                    help_text="choice only: the values an ad may use, exactly.")
    min = serializers.FloatField(allow_null=True, help_text="int and decimal only.")
    max = serializers.FloatField(allow_null=True, help_text="int and decimal only.")


class CategoryNodeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
    depth = serializers.IntegerField(help_text="0 for a root.")
    order = serializers.IntegerField()
    icon = serializers.CharField()
    ad_count = serializers.IntegerField(help_text="Active ads in it and its descendants.")


class CategoryTreeNodeOutput(CategoryNodeOutput):
    pass


CategoryTreeNodeOutput._declared_fields["children"] = CategoryTreeNodeOutput(many=True)


class CategoryAncestorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class CategoryDetailOutput(CategoryNodeOutput):
    ancestors = CategoryAncestorOutput(many=True, help_text="Root first.")
    children = CategoryNodeOutput(many=True)
    attributes = AttributeOutput(many=True, help_text="Ancestors' first, then the category's own.")


# --- input ------------------------------------------------------------------------------------


class AttributeDefinitionInput(serializers.Serializer):
    """Documentation of one definition; `attribute_schema.parse_definitions` checks them."""

    key = serializers.RegexField(r"^[a-z][a-z0-9_]{0,49}$",
                                 help_text="Unique along the lineage; not ending in _min/_max.")
    label = serializers.CharField(  # type: ignore[assignment]
        required=False, help_text="Defaults from the key.")
    type = serializers.ChoiceField(choices=ATTRIBUTE_TYPES,
                                   help_text="One type per key across the whole tree.")
    required = serializers.BooleanField(  # type: ignore[assignment]
        required=False, default=False)
    filterable = serializers.BooleanField(required=False, default=False)
    unit = serializers.CharField(required=False, allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="Required for, and only for, choice.")
    min = serializers.FloatField(required=False, allow_null=True)
    max = serializers.FloatField(required=False, allow_null=True)


@extend_schema_field(AttributeDefinitionInput(many=True))
class AttributeDefinitionsField(serializers.ListField):
    child = serializers.JSONField()


class CategoryInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Category.objects.all(), allow_null=True, required=False,
        help_text="Parent category id; null or absent for a root.",
    )
    order = serializers.IntegerField(required=False, min_value=-INT32 - 1, max_value=INT32)
    icon = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                 allow_null=True)
    attributes = AttributeDefinitionsField(required=False, allow_null=True)
