"""Typed attribute schemas: staff define them per category, ads are checked against them.

A category's own definitions live in `Category.attributes` (normalised JSON, the API's attribute
shape); a category's *effective* schema is its ancestors' definitions, root first, then its own.
A key is unique along every lineage (a child cannot redefine an inherited key), and one key has
one type across the whole tree, so `attr_<key>` filters know how to read a value even without a
category (API.md section 6).

Errors are DRF ValidationErrors whose nesting gives the contract's dotted `attr`:
`attributes.0.key` for a bad definition, `attributes.<key>` for a bad ad value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Case, DecimalField, Q, When
from django.db.models.expressions import ExpressionWrapper
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from rest_framework.exceptions import ErrorDetail, ValidationError

from apps.categories import selectors
from apps.categories.models import Category

TEXT, INT, DECIMAL, BOOL, CHOICE = "text", "int", "decimal", "bool", "choice"
ATTRIBUTE_TYPES = (TEXT, INT, DECIMAL, BOOL, CHOICE)
NUMERIC_TYPES = (INT, DECIMAL)

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
RESERVED_KEY_SUFFIXES = ("_min", "_max")  # `attr_<key>_min` must stay unambiguous
MAX_ATTRIBUTES = 50
MAX_LABEL_LENGTH = 100
MAX_UNIT_LENGTH = 20
MAX_CHOICES = 200
MAX_CHOICE_LENGTH = 100
MAX_TEXT_LENGTH = 200
# JSON integers clients can hold exactly (JavaScript's safe range).
MAX_INT = 2**53 - 1
# Decimal values fit numeric(20, 4), which the ads filters cast to.
MAX_WHOLE_DIGITS = 15
MAX_DECIMAL_PLACES = 4
DECIMAL_TEXT_RE = re.compile(r"^-?\d+(\.\d+)?$")

Number = int | Decimal


@dataclass(frozen=True)
class Attribute:
    key: str
    label: str
    type: str
    required: bool = False
    filterable: bool = False
    unit: str | None = None
    choices: tuple[str, ...] | None = None
    min: Number | None = None
    max: Number | None = None

    def to_json(self) -> dict[str, Any]:
        """The API's attribute shape; also how a category stores its own definitions."""
        return {
            "key": self.key, "label": self.label, "type": self.type,
            "required": self.required, "filterable": self.filterable, "unit": self.unit,
            "choices": list(self.choices) if self.choices is not None else None,
            "min": _json_number(self.min), "max": _json_number(self.max),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attribute:
        """Read a stored (already validated) definition."""
        kind = data["type"]
        return cls(
            key=data["key"], label=data.get("label") or data["key"], type=kind,
            required=bool(data.get("required")), filterable=bool(data.get("filterable")),
            unit=data.get("unit") or None,
            choices=tuple(data["choices"]) if kind == CHOICE and data.get("choices") else None,
            min=_stored_number(kind, data.get("min")), max=_stored_number(kind, data.get("max")),
        )


def _json_number(value: Number | None) -> int | float | None:
    if value is None or isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def _stored_number(kind: str, value: Any) -> Number | None:
    if value is None or kind not in NUMERIC_TYPES:
        return None
    return int(value) if kind == INT else Decimal(str(value))


class NumberError(ValueError):
    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message, self.code = message, code


def _error(message: str, code: str) -> list[ErrorDetail]:
    return [ErrorDetail(message, code=code)]


# --- staff definitions ------------------------------------------------------------------------


def parse_definitions(raw: Any, *, field: str = "attributes") -> list[Attribute]:
    """Validate staff-provided definitions (a list of attribute objects); unknown members of an
    object are ignored. Raises ValidationError with `attr` `<field>.<index>.<member>`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError({field: _error("Expected a list of attribute definitions.",
                                             "not_a_list")})
    if len(raw) > MAX_ATTRIBUTES:
        raise ValidationError({field: _error(
            f"Ensure there are no more than {MAX_ATTRIBUTES} attributes.", "max_length")})
    parsed: list[Attribute] = []
    item_errors: list[Any] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            item_errors.append(_error("Expected an attribute object.", "invalid"))
            continue
        errors: dict[str, list[ErrorDetail]] = {}
        attribute = _parse_definition(item, errors)
        key = item.get("key")
        if "key" not in errors and isinstance(key, str):
            if key in seen:
                errors["key"] = _error(f'The key "{key}" is used twice.', "unique")
            seen.add(key)
        item_errors.append(errors)
        if attribute is not None and not errors:
            parsed.append(attribute)
    if any(item_errors):
        raise ValidationError({field: item_errors})
    return parsed


def _parse_definition(item: Mapping[str, Any], errors: dict[str, list[ErrorDetail]]
                      ) -> Attribute | None:
    key = item.get("key")
    if key is None or key == "":
        errors["key"] = _error("This field is required.", "required")
    elif not isinstance(key, str) or not KEY_RE.match(key):
        errors["key"] = _error(
            "Use 1-50 lowercase letters, digits or underscores, starting with a letter.",
            "invalid")
    elif key.endswith(RESERVED_KEY_SUFFIXES):
        errors["key"] = _error('A key cannot end with "_min" or "_max".', "invalid")

    kind = item.get("type")
    if kind is None or kind == "":
        errors["type"] = _error("This field is required.", "required")
    elif kind not in ATTRIBUTE_TYPES:
        errors["type"] = _error(
            f'"{kind}" is not a valid choice; use one of {", ".join(ATTRIBUTE_TYPES)}.',
            "invalid_choice")

    label = item.get("label")
    if label is None or (isinstance(label, str) and not label.strip()):
        label = key.replace("_", " ").capitalize() if isinstance(key, str) else ""
    elif not isinstance(label, str):
        errors["label"] = _error("Not a valid string.", "invalid")
    elif len(label.strip()) > MAX_LABEL_LENGTH:
        errors["label"] = _error(
            f"Ensure this field has no more than {MAX_LABEL_LENGTH} characters.", "max_length")

    flags: dict[str, bool] = {}
    for flag in ("required", "filterable"):
        value = item.get(flag, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            errors[flag] = _error("Must be true or false.", "invalid")
        flags[flag] = bool(value)

    unit = item.get("unit")
    if unit is not None and not isinstance(unit, str):
        errors["unit"] = _error("Not a valid string.", "invalid")
    elif isinstance(unit, str) and len(unit.strip()) > MAX_UNIT_LENGTH:
        errors["unit"] = _error(
            f"Ensure this field has no more than {MAX_UNIT_LENGTH} characters.", "max_length")

    choices = _parse_choices(kind, item.get("choices"), errors)
    low = _parse_bound(kind, "min", item.get("min"), errors)
    high = _parse_bound(kind, "max", item.get("max"), errors)
    if low is not None and high is not None and low > high and "max" not in errors:
        errors["max"] = _error("Ensure max is greater than or equal to min.", "invalid")

    if errors:
        return None
    return Attribute(
        key=str(key), label=str(label).strip(), type=str(kind), required=flags["required"],
        filterable=flags["filterable"], unit=(unit or "").strip() or None, choices=choices,
        min=low, max=high,
    )


def _parse_choices(kind: Any, raw: Any, errors: dict[str, list[ErrorDetail]]
                   ) -> tuple[str, ...] | None:
    if kind != CHOICE:
        if raw not in (None, []):
            errors["choices"] = _error("Only choice attributes take choices.", "invalid")
        return None
    if raw is None or raw == []:
        errors["choices"] = _error("A choice attribute needs a list of choices.", "required")
        return None
    if not isinstance(raw, list):
        errors["choices"] = _error("Expected a list of strings.", "not_a_list")
        return None
    if len(raw) > MAX_CHOICES:
        errors["choices"] = _error(
            f"Ensure there are no more than {MAX_CHOICES} choices.", "max_length")
        return None
    if not all(isinstance(choice, str) and choice.strip() for choice in raw):
        errors["choices"] = _error("Each choice must be a non-blank string.", "invalid")
        return None
    if any(len(choice) > MAX_CHOICE_LENGTH for choice in raw):
        errors["choices"] = _error(
            f"Ensure each choice has no more than {MAX_CHOICE_LENGTH} characters.", "max_length")
        return None
    if len(set(raw)) != len(raw):
        errors["choices"] = _error("Choices must be unique.", "unique")
        return None
    return tuple(raw)


def _parse_bound(kind: Any, name: str, raw: Any, errors: dict[str, list[ErrorDetail]]
                 ) -> Number | None:
    if raw is None:
        return None
    if kind not in NUMERIC_TYPES:
        if kind in ATTRIBUTE_TYPES:
            errors[name] = _error("Only int and decimal attributes take min and max.", "invalid")
        return None
    if kind == INT:
        if isinstance(raw, bool) or not isinstance(raw, int):
            errors[name] = _error("A valid integer is required.", "invalid")
            return None
        if abs(raw) > MAX_INT:
            errors[name] = _error(f"Ensure this value is within ±{MAX_INT}.", "invalid")
            return None
        return raw
    try:
        return _to_decimal(raw)
    except NumberError as exc:
        errors[name] = _error(exc.message, exc.code)
        return None


def _to_decimal(raw: Any) -> Decimal:
    """A JSON number or numeric string as a Decimal within numeric(20, 4)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise NumberError("A valid number is required.")
    if isinstance(raw, str):
        text = raw.strip()
        if not DECIMAL_TEXT_RE.match(text):
            raise NumberError("A valid number is required.")
    else:
        text = str(raw)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise NumberError("A valid number is required.") from None
    if not value.is_finite():
        raise NumberError("A valid number is required.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        raise NumberError(
            f"Ensure that there are no more than {MAX_DECIMAL_PLACES} decimal places.",
            "max_decimal_places")
    if abs(value) >= Decimal(10) ** MAX_WHOLE_DIGITS:
        raise NumberError(
            f"Ensure that there are no more than {MAX_WHOLE_DIGITS} digits before the decimal "
            "point.", "max_whole_digits")
    return value


def check_lineage(own: list[Attribute], *, inherited: Iterable[Attribute],
                  below: Mapping[str, str], field: str = "attributes") -> None:
    """A key must be unique along every lineage: not inherited from an ancestor, not defined
    again by a descendant (`below`: key -> descendant category name)."""
    inherited_keys = {attribute.key for attribute in inherited}
    item_errors: list[Any] = []
    for attribute in own:
        if attribute.key in inherited_keys:
            item_errors.append({"key": _error(
                f'"{attribute.key}" is already inherited from a parent category.', "unique")})
        elif attribute.key in below:
            item_errors.append({"key": _error(
                f'"{attribute.key}" is already defined by the subcategory '
                f'"{below[attribute.key]}".', "unique")})
        else:
            item_errors.append({})
    if any(item_errors):
        raise ValidationError({field: item_errors})


def check_consistent_types(own: list[Attribute], *, known: Mapping[str, tuple[str, str]],
                           field: str = "attributes") -> None:
    """One key, one type, tree-wide (`known`: key -> (type, category name) elsewhere)."""
    item_errors: list[Any] = []
    for attribute in own:
        other = known.get(attribute.key)
        if other is not None and other[0] != attribute.type:
            item_errors.append({"type": _error(
                f'"{attribute.key}" is a {other[0]} attribute in "{other[1]}"; use the same type '
                "or another key.", "invalid")})
        else:
            item_errors.append({})
    if any(item_errors):
        raise ValidationError({field: item_errors})


def load(definitions: Iterable[Mapping[str, Any]]) -> list[Attribute]:
    return [Attribute.from_json(definition) for definition in definitions]


# --- reading schemas --------------------------------------------------------------------------


def effective_attributes(category: Category) -> list[Attribute]:
    """Ancestors' definitions (root first), then the category's own; one query."""
    return load(selectors.effective_attribute_definitions(category))


def filterable_attributes(category: Category | None) -> list[Attribute]:
    """What `attr_<key>` filters accept: with a category, its effective schema plus what its
    subcategories define (a category filter includes them); without, every filterable key."""
    definitions = (selectors.subtree_attribute_definitions(category) if category is not None
                   else selectors.all_attribute_definitions())
    seen: set[str] = set()
    result: list[Attribute] = []
    for attribute in load(definitions):
        if attribute.filterable and attribute.key not in seen:
            seen.add(attribute.key)
            result.append(attribute)
    return result


# --- ad values --------------------------------------------------------------------------------


def validate_ad_attributes(category: Category, values: Any) -> dict[str, Any]:
    """Check an ad's `attributes` against its category's effective schema.

    Returns the cleaned dict in schema order: int -> int, decimal -> string (no exponent),
    bool -> bool, text -> stripped string, choice -> the exact choice; null, missing and blank
    text values are left out. Raises ValidationError({"attributes": {key: [...]}}) listing
    every problem: unknown key, wrong type, outside choices/min/max, missing required.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"attributes": _error(
            "Expected an object of attribute values.", "invalid")})
    schema = effective_attributes(category)
    by_key = {attribute.key: attribute for attribute in schema}
    errors: dict[str, list[ErrorDetail]] = {}
    for key in values:
        if key not in by_key:
            errors[str(key)] = _error("Unknown attribute for this category.", "invalid")
    cleaned: dict[str, Any] = {}
    for attribute in schema:
        raw = values.get(attribute.key)
        try:
            value = clean_value(attribute, raw)
        except ValidationError as exc:
            errors[attribute.key] = exc.detail  # type: ignore[assignment]
            continue
        if value is None:
            if attribute.required:
                errors[attribute.key] = _error("This attribute is required.", "required")
            continue
        cleaned[attribute.key] = value
    if errors:
        raise ValidationError({"attributes": errors})
    return cleaned


def clean_value(attribute: Attribute, raw: Any) -> Any:
    """One ad value; None when absent. Raises ValidationError([message]) with a DRF code."""
    if raw is None:
        return None
    kind = attribute.type
    if kind == TEXT:
        if not isinstance(raw, str):
            raise ValidationError(_error("A string is required.", "invalid"))
        text = raw.strip()
        if len(text) > MAX_TEXT_LENGTH:
            raise ValidationError(_error(
                f"Ensure this value has no more than {MAX_TEXT_LENGTH} characters.",
                "max_length"))
        return text or None
    if kind == CHOICE:
        if not isinstance(raw, str) or raw not in (attribute.choices or ()):
            raise ValidationError(_error(
                f'"{raw}" is not a valid choice.', "invalid_choice"))
        return raw
    if kind == BOOL:
        if not isinstance(raw, bool):
            raise ValidationError(_error("Must be true or false.", "invalid"))
        return raw
    if kind == INT:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationError(_error("A whole number is required.", "invalid"))
        _check_range(attribute, raw, limit=MAX_INT)
        return raw
    try:
        number = _to_decimal(raw)
    except NumberError as exc:
        raise ValidationError(_error(exc.message, exc.code)) from None
    _check_range(attribute, number)
    return format(number, "f")


def _check_range(attribute: Attribute, value: Number, *, limit: int | None = None) -> None:
    low = attribute.min if attribute.min is not None else (-limit if limit else None)
    high = attribute.max if attribute.max is not None else limit
    if low is not None and value < low:
        raise ValidationError(_error(
            f"Ensure this value is greater than or equal to {low}.", "min_value"))
    if high is not None and value > high:
        raise ValidationError(_error(
            f"Ensure this value is less than or equal to {high}.", "max_value"))


# --- query-string filters ---------------------------------------------------------------------

FILTER_PREFIX = "attr_"


@dataclass(frozen=True)
class AttributeFilter:
    """One parsed `attr_<key>[_min|_max]` parameter."""

    param: str
    key: str
    type: str
    lookup: str  # "exact", "gte" or "lte"
    value: Any  # int, Decimal, bool or str

    def as_q(self, field: str = "attributes") -> Q:
        """A condition on a JSON column holding cleaned values. Exact text, choice, bool and
        int values use containment (GIN `jsonb_path_ops`); ranges and decimals compare
        numerically, reading only values that look like numbers."""
        if self.lookup == "exact" and self.type != DECIMAL:
            return Q(**{f"{field}__contains": {self.key: self.value}})
        numeric = Case(
            When(**{f"{field}__{self.key}__regex": r"^-?[0-9]+(\.[0-9]+)?$"},
                 then=Cast(KeyTextTransform(self.key, field),
                           DecimalField(max_digits=20, decimal_places=MAX_DECIMAL_PLACES))),
            default=None,
            output_field=DecimalField(max_digits=20, decimal_places=MAX_DECIMAL_PLACES),
        )
        lookups: dict[str, type[Exact | GreaterThanOrEqual | LessThanOrEqual]] = {
            "exact": Exact, "gte": GreaterThanOrEqual, "lte": LessThanOrEqual}
        condition = lookups[self.lookup](
            ExpressionWrapper(numeric, output_field=numeric.output_field), Decimal(self.value))
        return Q(condition)


def parse_attribute_filters(params: Mapping[str, Any], *, category_slug: str | None = None
                            ) -> list[AttributeFilter]:
    """Read `attr_<key>=v`, `attr_<key>_min=v`, `attr_<key>_max=v` by the key's type.

    Known keys are the filterable ones of the category (and its subcategories), or of the whole
    tree without a category. Unknown or non-filterable key, a range on a non-numeric key, or a
    malformed value -> ValidationError on the parameter. Empty values are ignored; a
    well-formed value outside `choices`/`min`/`max` is kept (it simply matches nothing).
    """
    category = None
    if category_slug:
        category = selectors.get_category_by_slug(category_slug)
        if category is None:
            raise ValidationError({"category": _error(
                f'Unknown category "{category_slug}".', "invalid")})
    known = {attribute.key: attribute for attribute in filterable_attributes(category)}
    filters: list[AttributeFilter] = []
    for param in params:
        if not param.startswith(FILTER_PREFIX):
            continue
        raw = params[param]
        if isinstance(raw, list | tuple):
            raw = raw[-1] if raw else ""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            continue
        key, lookup = param[len(FILTER_PREFIX):], "exact"
        if key not in known and key.endswith(RESERVED_KEY_SUFFIXES):
            key, lookup = key[:-4], "gte" if key.endswith("_min") else "lte"
        attribute = known.get(key)
        if attribute is None or (lookup != "exact" and attribute.type not in NUMERIC_TYPES):
            raise ValidationError({param: _error(
                f'Unknown attribute filter "{param}".', "invalid")})
        filters.append(AttributeFilter(param=param, key=key, type=attribute.type, lookup=lookup,
                                       value=parse_filter_value(param, attribute.type, raw)))
    return filters


def parse_filter_value(param: str, kind: str, raw: Any) -> Any:
    text = str(raw).strip()
    if kind == BOOL:
        if text.lower() not in ("true", "false"):
            raise ValidationError({param: _error("Use true or false.", "invalid")})
        return text.lower() == "true"
    if kind == INT:
        if not re.fullmatch(r"-?\d{1,16}", text):
            raise ValidationError({param: _error("Enter a whole number.", "invalid")})
        return int(text)
    if kind == DECIMAL:
        if not DECIMAL_TEXT_RE.match(text) or len(text) > 40:
            raise ValidationError({param: _error("Enter a number.", "invalid")})
        return Decimal(text)
    return str(raw)
