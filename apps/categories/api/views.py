"""Category endpoints (API.md section 5): parse, authorise, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.categories import selectors, services
from apps.categories.api import serializers as s
from apps.categories.models import Category
from apps.common import cache
from apps.common.permissions import IsStaff
from apps.common.read_cache_views import AnonymousReadCache

# Cached whole (ad_count included): every ad_count change is an UPDATE of categories_category,
# which bumps the generation (apps.common.cache). ETag/304 on every read.
TREE_SPACES = (cache.CATEGORIES,)
TREE_TTL = 300

NODE_EXAMPLE = {
    "id": 7,
    "name": "Cars",
    "slug": "cars",
    "parent": 1,
    "depth": 1,
    "order": 0,
    "icon": "car",
    "ad_count": 1234,
}
TREE_EXAMPLE = OpenApiExample(
    "Tree",
    response_only=True,
    value=[
        {
            "id": 1,
            "name": "Vehicles",
            "slug": "vehicles",
            "parent": None,
            "depth": 0,
            "order": 0,
            "icon": "vehicles",
            "ad_count": 2040,
            "children": [{**NODE_EXAMPLE, "children": []}],
        }
    ],
)
FLAT_EXAMPLE = OpenApiExample(
    "Flat list",
    response_only=True,
    value=[
        {
            "id": 1,
            "name": "Vehicles",
            "slug": "vehicles",
            "parent": None,
            "depth": 0,
            "order": 0,
            "icon": "vehicles",
            "ad_count": 2040,
        },
        NODE_EXAMPLE,
    ],
)
DETAIL_EXAMPLE = OpenApiExample(
    "Cars",
    response_only=True,
    value={
        **NODE_EXAMPLE,
        "ancestors": [{"id": 1, "slug": "vehicles", "name": "Vehicles"}],
        "children": [],
        "attributes": [
            {
                "key": "make",
                "label": "Make",
                "type": "choice",
                "required": True,
                "filterable": True,
                "unit": None,
                "choices": ["Toyota", "Nissan", "Mazda"],
                "min": None,
                "max": None,
            },
            {
                "key": "model",
                "label": "Model",
                "type": "text",
                "required": False,
                "filterable": False,
                "unit": None,
                "choices": None,
                "min": None,
                "max": None,
            },
            {
                "key": "year",
                "label": "Year",
                "type": "int",
                "required": True,
                "filterable": True,
                "unit": None,
                "choices": None,
                "min": 1950,
                "max": 2030,
            },
            {
                "key": "mileage",
                "label": "Mileage",
                "type": "int",
                "required": False,
                "filterable": True,
                "unit": "km",
                "choices": None,
                "min": 0,
                "max": None,
            },
        ],
    },
)
INPUT_EXAMPLE = OpenApiExample(
    "Category with attributes",
    request_only=True,
    value={
        "name": "Laptops",
        "parent": 42,
        "order": 0,
        "icon": "laptop",
        "attributes": [
            {
                "key": "screen_size",
                "label": "Screen size",
                "type": "decimal",
                "unit": "inches",
                "filterable": True,
                "min": 7,
                "max": 21,
            },
            {"key": "touchscreen", "label": "Touchscreen", "type": "bool"},
            {
                "key": "os",
                "label": "Operating system",
                "type": "choice",
                "choices": ["Windows", "macOS", "Linux", "ChromeOS"],
                "required": True,
            },
        ],
    },
)
WRITE_RULES = (
    "`attributes` are this category's own definitions (its ancestors' are inherited). Rules: "
    "`key` 1-50 of a-z, 0-9, _ (starting with a letter, not ending in _min/_max), unique along "
    "the lineage (neither inherited nor defined by a subcategory) and of one `type` across the "
    "tree; `type` one of text, int, decimal, bool, choice; `choices` (non-blank, unique "
    "strings) required for choice and refused otherwise; `min`/`max` for int and decimal only, "
    "min <= max. Errors name the member, e.g. `attributes.0.key`."
)


def _detail(category: Category) -> dict[str, Any]:
    # Read from the database: the cache is only bumped when this request's transaction commits.
    detail = selectors.get_category_detail(category.slug, fresh=True)
    if detail is None:  # deleted meanwhile
        raise NotFound()
    return detail


def _writable(validated: dict[str, Any]) -> dict[str, Any]:
    fields = dict(validated)
    if "icon" in fields and fields["icon"] is None:
        fields["icon"] = ""
    if "attributes" in fields and fields["attributes"] is None:
        fields["attributes"] = []
    return fields


def _get_or_404(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound()
    return category


class CategoryTreeView(AnonymousReadCache, APIView):
    read_cache_kind = "category-tree"
    read_cache_namespaces = TREE_SPACES
    read_cache_timeout = TREE_TTL

    @extend_schema(
        responses={200: s.CategoryTreeNodeOutput(many=True)},
        examples=[TREE_EXAMPLE],
        description=(
            "Bare array of the roots, each with nested `children` (the whole tree); siblings "
            "by `order`, then name (case-insensitive). `ad_count` is always current."
        ),
    )
    def get(self, request: Request) -> Any:
        return cache.shared_response(
            request,
            kind="category-tree",
            namespaces=TREE_SPACES,
            build=selectors.category_tree,
            timeout=TREE_TTL,
        )


class CategoryFlatView(AnonymousReadCache, APIView):
    read_cache_kind = "category-flat"
    read_cache_namespaces = TREE_SPACES
    read_cache_timeout = TREE_TTL

    @extend_schema(
        responses={200: s.CategoryNodeOutput(many=True)},
        examples=[FLAT_EXAMPLE],
        description="Bare array of every category, flat, in tree order (each parent before its "
        "children, siblings as in the tree).",
    )
    def get(self, request: Request) -> Any:
        return cache.shared_response(
            request,
            kind="category-flat",
            namespaces=TREE_SPACES,
            build=selectors.flat_categories,
            timeout=TREE_TTL,
        )


class CategoryDetailView(AnonymousReadCache, APIView):
    read_cache_kind = "category"
    read_cache_namespaces = TREE_SPACES
    read_cache_timeout = TREE_TTL

    @extend_schema(
        responses={200: s.CategoryDetailOutput, 404: OpenApiResponse(description="Unknown slug.")},
        examples=[DETAIL_EXAMPLE],
        description=(
            "The category with `ancestors` (breadcrumbs, root first), its direct `children` and "
            "its effective `attributes` (ancestors' first, then its own): the posting form. "
            "Ads may only be posted in a category without children."
        ),
    )
    def get(self, request: Request, slug: str) -> Any:
        def build() -> dict[str, Any]:
            detail = selectors.get_category_detail(slug)
            if detail is None:
                raise NotFound()
            return detail

        return cache.shared_response(
            request, kind="category", namespaces=TREE_SPACES, build=build, timeout=TREE_TTL
        )


class CategoryCreateView(APIView):
    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(
        request=s.CategoryInput,
        responses={201: s.CategoryDetailOutput},
        examples=[INPUT_EXAMPLE, DETAIL_EXAMPLE],
        description=(
            "Staff only. The slug is the slugified name, with `-2`, `-3`... when taken; it "
            "never changes afterwards. " + WRITE_RULES
        ),
    )
    def post(self, request: Request) -> Response:
        payload = s.CategoryInput(data=request.data)
        payload.is_valid(raise_exception=True)
        category = services.create_category(actor=request.user, **_writable(payload.validated_data))
        return Response(_detail(category), status=status.HTTP_201_CREATED)


class CategoryUpdateView(APIView):
    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(
        request=s.CategoryInput,
        responses={200: s.CategoryDetailOutput, 404: OpenApiResponse(description="Unknown slug.")},
        examples=[INPUT_EXAMPLE, DETAIL_EXAMPLE],
        description=(
            "Staff only. `name` is required; `parent`, `order`, `icon` and `attributes` change "
            "only when sent (`parent: null` makes it a root, `attributes: []` removes its own "
            "definitions). The slug survives renames. A parent that is the category itself or "
            "one of its descendants -> 400 on `parent`. Moving takes the subtree along. "
            + WRITE_RULES
        ),
    )
    def put(self, request: Request, slug: str) -> Response:
        category = _get_or_404(slug)
        payload = s.CategoryInput(data=request.data)
        payload.is_valid(raise_exception=True)
        category = services.update_category(
            actor=request.user, category=category, changes=_writable(payload.validated_data)
        )
        return Response(_detail(category))


class CategoryDeleteView(APIView):
    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(
        responses={
            204: None,
            404: OpenApiResponse(description="Unknown slug."),
            409: OpenApiResponse(
                description="`has_dependents`: it has subcategories or ads that are not deleted."
            ),
        },
        description="Staff only. Refused (409 `has_dependents`) while the category has "
        "subcategories or any ad that is not deleted.",
    )
    def delete(self, request: Request, slug: str) -> Response:
        category = _get_or_404(slug)
        services.delete_category(actor=request.user, category=category)
        return Response(status=status.HTTP_204_NO_CONTENT)
