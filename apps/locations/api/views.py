from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.common import cache
from apps.common.read_cache_views import AnonymousReadCache
from apps.locations import selectors

# Cached whole; any write to locations_location bumps the generation (apps.common.cache).
SPACES = (cache.LOCATIONS,)
TTL = 3600

BRIEF: dict[str, serializers.Field] = {
    "id": serializers.IntegerField(),
    "slug": serializers.CharField(),
    "name": serializers.CharField(),
}


class LocationTreeView(AnonymousReadCache, APIView):
    read_cache_kind = "location-tree"
    read_cache_namespaces = SPACES
    read_cache_timeout = TTL

    @extend_schema(
        responses={
            200: inline_serializer(
                "LocationNode",
                many=True,
                fields={**BRIEF, "children": serializers.ListField(child=serializers.DictField())},
            )
        },
        description="Bare array of regions, each with nested `children` (any depth), by name.",
    )
    def get(self, request: Request) -> Any:
        return cache.shared_response(
            request,
            kind="location-tree",
            namespaces=SPACES,
            build=selectors.location_tree,
            timeout=TTL,
        )


class LocationDetailView(AnonymousReadCache, APIView):
    read_cache_kind = "location"
    read_cache_namespaces = SPACES
    read_cache_timeout = TTL

    @extend_schema(
        responses={
            200: inline_serializer(
                "LocationDetail",
                fields={
                    **BRIEF,
                    "parent": serializers.IntegerField(allow_null=True),
                    "ancestors": inline_serializer("LocationAncestor", many=True, fields=BRIEF),
                    "children": inline_serializer("LocationChild", many=True, fields=BRIEF),
                },
            )
        }
    )
    def get(self, request: Request, slug: str) -> Any:
        def build() -> dict[str, Any]:
            detail = selectors.get_location_detail(slug=slug)
            if detail is None:
                raise NotFound()
            return detail

        return cache.shared_response(
            request, kind="location", namespaces=SPACES, build=build, timeout=TTL
        )
