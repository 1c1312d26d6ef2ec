"""Search, suggestions and saved searches (API.md section 6)."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apps.ads import selectors as ad_selectors
from apps.ads.api import render
from apps.common.pagination import PageNumberPagination
from apps.search import result_cache, services
from apps.search.api import serializers as s
from apps.search.backends.base import SearchQuery, get_search_backend
from apps.search.models import SavedSearch
from apps.users.models import User

# What apps.ads.api.render reads of an ad and its owner. As the listing does: the owner joined,
# the photos prefetched, category and location briefs from the cached trees (joining them made
# 100 more model instances a page: a quarter of the view's CPU time), no column nobody shows.
RENDERED_COLUMNS: tuple[str, ...] = (
    "id",
    "slug",
    "owner_id",
    "category_id",
    "location_id",
    "title",
    "description",
    "price",
    "currency",
    "negotiable",
    "condition",
    "attributes",
    "show_phone",
    "status",
    "moderation_reason",
    "views_count",
    "favorites_count",
    "promotion_tier",
    "promotion_until",
    "created_at",
    "updated_at",
    "published_at",
    "expires_at",
    "owner__id",
    "owner__first_name",
    "owner__last_name",
    "owner__avatar",
    "owner__bio",
    "owner__location_id",
    "owner__date_joined",
    "owner__email_verified",
    "owner__phone_verified",
    "owner__rating_count",
    "owner__rating_total",
    "owner__active_ads_count",
    "owner__response_rate",
    "owner__median_response_minutes",
)


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    try:
        number = int(raw)
    except ValueError:
        raise NotFound("Invalid page.") from None
    if number < 1:
        raise NotFound("Invalid page.")
    return number


class SearchView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description=(
                    "Any text; typo tolerant. The last word also matches as a prefix, unless "
                    "it is a common word typed whole (in SEARCH_WHOLE_WORD_MIN_ADS ads or "
                    "more): then it matches as itself or a common word it begins."
                ),
            )
        ],
        responses={200: s.SearchPageOutput},
        description=(
            "Active ads matching `q` and the listing filters, by relevance (every word in the "
            "title, then anywhere, then typo matches), then promotion tier, then newest; "
            "`ordering` overrides. Facets cover the whole filtered result, except when more "
            "ads match than the server counts (SEARCH_COUNT_CAP, a few thousand): then "
            "`count` is that number, `count_is_estimate` is true, the facets cover those ads "
            "only, and pages end there. A search with words is answered from the same "
            "search's answer of the last SEARCH_RESULT_CACHE_SECONDS (5) when there is one: "
            "which ads match, their order, `count` and the facets may lag that long (as the "
            "contract allows search to); the ads on the page are always as they are now."
        ),
    )
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        size = paginator.get_page_size(request)
        number = page_number(request)
        params = {key: request.query_params.get(key, "") for key in request.query_params}
        query = SearchQuery(
            text=params.pop("q", "") or "",
            params=params,
            ordering=params.get("ordering"),
            offset=(number - 1) * size,
            limit=size,
            viewer=request.user,
        )
        result = result_cache.search(query)
        if number > 1 and query.offset >= result.total:
            raise NotFound("Invalid page.")
        ads = ad_selectors.load_relations(
            ad_selectors.public_ads_with_ids(result.ids, columns=RENDERED_COLUMNS)
        )
        url = request.build_absolute_uri()
        next_url = (
            replace_query_param(url, "page", number + 1)
            if query.offset + size < result.total
            else None
        )
        previous_url = None
        if number > 1:
            previous_url = (
                remove_query_param(url, "page")
                if number == 2
                else replace_query_param(url, "page", number - 1)
            )
        return Response(
            {
                "count": result.total,
                "next": next_url,
                "previous": previous_url,
                "results": render.render(
                    ads,
                    request=request,
                    favorited=ad_selectors.favorited_ids(
                        user=request.user, ad_ids=[ad.pk for ad in ads]
                    ),
                    category_tree=result.category_tree,
                    location_roots=result.location_roots,
                ),
                "facets": result.facets.as_dict(),
                "count_is_estimate": result.estimated,
            }
        )


class SuggestView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="A prefix (2 characters or more).")],
        responses={200: s.SuggestionsOutput},
        examples=[
            OpenApiExample(
                "Suggestions",
                response_only=True,
                value={
                    "suggestions": [
                        {"text": "Cars", "type": "category", "slug": "cars"},
                        {
                            "text": "Toyota Fielder 2015 silver",
                            "type": "ad",
                            "slug": "toyota-fielder-2015-silver-k2j9xq",
                        },
                    ]
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        prefix = request.query_params.get("q", "")
        suggestions = get_search_backend().suggest(prefix) if len(prefix.strip()) >= 2 else []
        return Response(
            {
                "suggestions": [
                    {"text": item.text, "type": item.type, "slug": item.slug}
                    for item in suggestions
                ]
            }
        )


class SavedSearchListView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.SavedSearchOutput

    def get_queryset(self) -> QuerySet[SavedSearch]:
        if getattr(self, "swagger_fake_view", False):
            return SavedSearch.objects.none()
        user = cast(User, self.request.user)
        return SavedSearch.objects.filter(user=user).order_by("-created_at", "-id")

    @extend_schema(
        request=s.SavedSearchInput,
        responses={201: s.SavedSearchOutput},
        description="New matches are emailed in a daily digest (each ad once).",
        examples=[
            OpenApiExample(
                "Saved search",
                request_only=True,
                value={
                    "name": "Toyotas under 1.5M",
                    "q": "toyota",
                    "filters": {
                        "category": "cars",
                        "max_price": "1500000",
                        "attr_year_min": "2012",
                    },
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        payload = s.SavedSearchInput(data=request.data)
        payload.is_valid(raise_exception=True)
        saved = services.create_saved_search(
            user=cast(User, request.user), **payload.validated_data
        )
        return Response(s.SavedSearchOutput(saved).data, status=status.HTTP_201_CREATED)


class SavedSearchDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, saved_search_id: str) -> Response:
        if not saved_search_id.isdigit() or not services.delete_saved_search(
            user=cast(User, request.user), saved_search_id=int(saved_search_id)
        ):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
