"""Ads endpoints (API.md section 6): parse, authorise, call a service, render.

Object checks follow the contract's order: 401, 403 (endpoint), 404 (not visible to the
caller), 403 (visible but not the owner's), 400, 409.
"""

from __future__ import annotations

from functools import partial
from typing import Any, cast
from uuid import UUID

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ads import selectors, services, views_counter
from apps.ads.api import render
from apps.ads.api import serializers as s
from apps.ads.filters import AdFilter
from apps.ads.models import Ad, AdImage, AdStatus, Favorite
from apps.common import cache
from apps.common.errors import FieldError
from apps.common.etag import json_response, render_json
from apps.common.pagination import ListingPagination
from apps.common.permissions import HasVerifiedContact
from apps.common.read_cache_views import AnonymousReadCache
from apps.common.throttles import AnonThrottle, ScopedUserThrottle, UserThrottle, client_ip
from apps.users.models import User


def me(request: Request) -> User:
    return cast(User, request.user)


def render_ads(ads: list[Ad], request: Request) -> list[dict[str, Any]]:
    """AdOutput of each ad (owner joined, photos a column: `selectors.for_render`, or
    prefetched: `selectors.with_relations`)."""
    favorited = selectors.favorited_ids(user=request.user, ad_ids=[ad.pk for ad in ads])
    return render.render(ads, request=request, favorited=favorited)


def render_ad(ad: Ad, request: Request) -> dict[str, Any]:
    return render_ads([ad], request)[0]


def visible_ad_or_404(request: Request, slug: str, *, relations: bool = True) -> Ad:
    ad = selectors.get_visible_ad(slug=slug, viewer=request.user, relations=relations)
    if ad is None:
        raise NotFound()
    return ad


def owned_ad_or_error(request: Request, slug: str, *, relations: bool = True) -> Ad:
    ad = visible_ad_or_404(request, slug, relations=relations)
    if ad.owner_id != request.user.pk:
        raise PermissionDenied("Only the ad's owner may do this.")
    return ad


class AdListCreateView(AnonymousReadCache, GenericAPIView):
    read_cache_kind = "ads-list"
    read_cache_namespaces = (cache.ADS, cache.ADS_LIST)
    filter_backends = [DjangoFilterBackend]
    filterset_class = AdFilter
    pagination_class = ListingPagination
    throttle_classes = [AnonThrottle, UserThrottle, ScopedUserThrottle]
    throttle_scope = "ad_posting"

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [IsAuthenticated(), HasVerifiedContact()]
        return []

    def get_queryset(self) -> QuerySet[Ad]:
        return selectors.public_ads(viewer=self.request.user)

    @extend_schema(
        responses={200: s.AdOutput(many=True)},
        description=(
            "Active ads; default order: promotion tier (vip first), then newest. Filters: "
            "category, location (slugs, with descendants), min_price, max_price, condition, "
            "negotiable, has_images, seller, posted_since, q, attr_<key>, attr_<key>_min/_max, "
            "ordering.\n\n`count` is exact (from stored totals) for the whole listing and "
            "for a category alone; with other filters it is capped at 1,000 (`count_exact` "
            "false past that; page numbers stop there, `next` links go on). `next` links carry "
            "a keyset `cursor`: following them, page 500 costs what page 1 costs. "
            "Anonymous pages are cached and "
            "invalidated by any change they show (only `views_count` may lag, up to 5 s); "
            "every page has an `ETag` and answers 304 to a matching `If-None-Match`."
        ),
        parameters=[OpenApiParameter("attr_<key>", str, description="Attribute filter")],
    )
    def get(self, request: Request) -> Any:
        # A cached page was answered before DRF (AnonymousReadCache): this is a miss or a
        # signed-in caller.
        body = render_json(self.page(request).data)
        found = cache.lookup_made_for(request)
        etag = cache.remember(found, body) if found is not None else None
        return json_response(request, body, etag=etag, private=request.user.is_authenticated)

    def page(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        count, exact = selectors.listing_count(
            queryset=queryset, params=request.query_params, viewer=request.user
        )
        paginator = cast(ListingPagination, self.paginator)
        ads = paginator.paginate(
            selectors.with_photos(selectors.with_owner(queryset)),
            request,
            count=count,
            exact=exact,
            keyset=selectors.keyset_for(queryset),
            first_rows=partial(selectors.feed_first_rows, params=request.query_params)
            if not exact and selectors.feed_first_pays(request.query_params)
            else None,
        )
        return paginator.get_paginated_response(render_ads(selectors.load_relations(ads), request))

    @extend_schema(request=s.AdCreateInput, responses={201: s.AdOutput})
    def post(self, request: Request) -> Response:
        payload = s.AdCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        ad = services.create_ad(owner=me(request), **payload.validated_data)
        # Rendered from the object just written (no re-read): its owner, category and
        # location are loaded, and a new ad has no photos and nobody's favourite yet. Its
        # status is the one it was created with (moderation runs after the commit).
        setattr(ad, selectors.PHOTO_ROWS, None)  # no photos yet: no queryset to build
        body = render.render([ad], request=request, favorited=set())[0]
        return Response(body, status=status.HTTP_201_CREATED)


# slug -> id of ads this process has served (a slug never changes): an anonymous detail's
# entry depends on its ad's own generation (cache.ad_namespace), named by id, so the fast path
# needs the id before it reads. The first request for a slug in a process reads the database.
_AD_IDS: dict[str, UUID] = {}
_AD_IDS_MAX = 20_000


def _remember_ad_id(slug: str, ad_id: UUID) -> None:
    if slug not in _AD_IDS:
        if len(_AD_IDS) >= _AD_IDS_MAX:
            _AD_IDS.pop(next(iter(_AD_IDS)), None)  # the oldest
        _AD_IDS[slug] = ad_id


# Where the views count's digits start in a rendered ad: the last `"views_count":` of the body
# is the ad's own, as every field after it has fixed keys (user-chosen `attributes` keys come
# before it, and quotes inside strings are escaped).
_VIEWS_COUNT_KEY = b'"views_count":'


def _views_count_at(body: bytes) -> int | None:
    found = body.rfind(_VIEWS_COUNT_KEY)
    return None if found < 0 else found + len(_VIEWS_COUNT_KEY)


class AdDetailView(AnonymousReadCache, APIView):
    """An anonymous detail entry depends on ADS and the ad's own generation, not on its views:
    the view counter's flush publishes each counted ad's total (`views_counter.total_key`),
    read in the same Redis round trip as the entry, and a hit whose body carries an older count
    is served (and stored back) with the new one patched in. So an entry lives its whole
    timeout while its ad is viewed."""

    read_cache_kind = "ad"
    # 300 s: rebuilt when something it shows changes (generations), else every 5 minutes. It
    # must stay below cache.PER_AD_GENERATION_KEEP (< PER_AD_GENERATION_TTL): the per-ad
    # generation key has to outlive every entry stored under its number, or a counter that
    # expired and restarted at 0 could reach that number again while a stale entry is still
    # there. It must also stay below views_counter.TOTAL_TTL (an entry never outlives the
    # published totals of the flushes after its render). Both checked by the tests.
    read_cache_timeout = 300

    @classmethod
    def read_cache_namespaces_for(cls, **kwargs: Any) -> tuple[str, ...] | None:
        ad_id = _AD_IDS.get(kwargs.get("slug", ""))
        return None if ad_id is None else (cache.ADS, cache.ad_namespace(ad_id))

    @classmethod
    def read_cache_also_for(cls, **kwargs: Any) -> tuple[str, ...]:
        ad_id = _AD_IDS.get(kwargs.get("slug", ""))
        return () if ad_id is None else (views_counter.total_key(ad_id),)

    @classmethod
    def read_cache_on_fresh_for(cls, request: Any, **kwargs: Any) -> cache.OnFresh | None:
        # The view is counted in the lookup's script, and only for a fresh entry: an ad hidden,
        # sold or deleted since has moved its generation on, so its stale entry counts nothing
        # (the request goes on to the view, which answers it as it does any miss).
        ad_id = _AD_IDS.get(kwargs.get("slug", ""))
        if ad_id is None:
            return None
        return views_counter.record_step(ad_id=ad_id, viewer=f"ip:{client_ip(request)}")

    @classmethod
    def on_read_cache_hit(
        cls, request: Any, found: cache.Lookup, entry: cache.Entry, **kwargs: Any
    ) -> cache.Entry:
        """The entry, with the published views total patched in when it is larger than the
        count the body carries (counts only grow: a smaller total is an older flush's, see
        views_counter.publish_totals)."""
        total = found.also[0] if found.also else None
        _, _, at = entry.extra.partition(" ")
        if total is None or not at:
            return entry
        start = int(at)
        end = entry.body.index(b",", start)  # `favorites_count` follows
        if int(total) <= int(entry.body[start:end]):
            return entry
        return cache.replace(found, entry, entry.body[:start] + total + entry.body[end:])

    def get_permissions(self) -> list[Any]:
        return [] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        responses={200: s.AdOutput},
        description=(
            "Counts one view per viewer (user, else IP) per UTC day. The "
            "anonymous representation is cached for up to 300 s and "
            "invalidated at once by any change it shows but `views_count`, "
            "which is refreshed from the view counter's flush (it may lag up "
            "to 5 s); `ETag` (it changes with the count) with 304 on a "
            "matching `If-None-Match`."
        ),
    )
    def get(self, request: Request, slug: str) -> Any:
        ad = visible_ad_or_404(request, slug)
        _remember_ad_id(ad.slug, ad.pk)
        if ad.owner_id != request.user.pk:
            self.count_view(request, ad.pk)
        body = render_json(render_ad(ad, request))
        found = cache.lookup_made_for(request)
        etag = None
        if found is not None:
            at = _views_count_at(body)
            extra = str(ad.pk) if at is None else f"{ad.pk} {at}"
            etag = cache.remember(found, body, extra=extra)
        return json_response(request, body, etag=etag, private=request.user.is_authenticated)

    @staticmethod
    def count_view(request: Request, ad_id: UUID) -> None:
        viewer = (
            f"u:{request.user.pk}"
            if request.user.is_authenticated
            else (f"ip:{client_ip(request)}")
        )
        views_counter.record_view(ad_id=ad_id, viewer=viewer)

    @extend_schema(request=s.AdUpdateInput, responses={200: s.AdOutput})
    def put(self, request: Request, slug: str) -> Response:
        return self.update(request, slug, partial=False)

    @extend_schema(
        request=s.AdUpdateInput,
        responses={200: s.AdOutput},
        description=(
            "`status` may be set to active (from draft, rejected, expired: "
            "goes through moderation), sold or draft (from active)."
        ),
    )
    def patch(self, request: Request, slug: str) -> Response:
        return self.update(request, slug, partial=True)

    def update(self, request: Request, slug: str, *, partial: bool) -> Response:
        ad = owned_ad_or_error(request, slug)
        payload = s.AdUpdateInput(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        requested_status = changes.pop("status", None)
        ad = services.edit_ad(
            ad=ad, by=me(request), changes=changes, requested_status=requested_status
        )
        fresh = selectors.get_visible_ad(slug=ad.slug, viewer=request.user)
        return Response(render_ad(fresh or ad, request))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str) -> Response:
        ad = owned_ad_or_error(request, slug)
        services.delete_ad(ad=ad, by=me(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyAdsView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.AdOutput
    queryset = Ad.objects.none()  # the schema's model; get() reads through selectors

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=list(AdStatus.values))])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = request.query_params.get("status")
        if wanted is not None and wanted not in AdStatus.values:
            raise FieldError("status", f'"{wanted}" is not a valid status.', "invalid_choice")
        page = self.paginate_queryset(selectors.ads_of_owner(owner=me(request), status=wanted))
        return self.get_paginated_response(render_ads(list(page or []), request))


class SimilarAdsView(APIView):
    @extend_schema(
        responses={200: s.AdOutput(many=True)},
        description="Up to 12 other active ads, same category first.",
    )
    def get(self, request: Request, slug: str) -> Response:
        ad = selectors.get_visible_ad(slug=slug, viewer=request.user)
        if ad is None or ad.status != AdStatus.ACTIVE:
            raise NotFound()
        return Response(render_ads(selectors.similar_ads(ad=ad, viewer=request.user), request))


class AdImagesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request={"multipart/form-data": s.ImageInput},
        responses={201: s.ImageOutput},
        description=(
            "JPEG, PNG or WebP by content; ≤ 10 MiB (else 413), ≤ 50 Mpx, "
            "at most 20 per ad. Stored re-encoded without metadata."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        ad = owned_ad_or_error(request, slug)
        payload = s.ImageInput(data=request.data)
        payload.is_valid(raise_exception=True)
        image = services.add_image(ad=ad, upload=payload.validated_data["image"], by=me(request))
        body = s.ImageOutput(image, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class AdImageDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def get_image(self, request: Request, slug: str, image_id: str) -> AdImage:
        ad = owned_ad_or_error(request, slug)
        image = AdImage.objects.filter(ad=ad, pk=int(image_id) if image_id.isdigit() else 0).first()
        if image is None:
            raise NotFound()
        return image

    @extend_schema(request=s.ImageOrderInput, responses={200: s.ImageOutput})
    def patch(self, request: Request, slug: str, image_id: str) -> Response:
        image = self.get_image(request, slug, image_id)
        payload = s.ImageOrderInput(data=request.data)
        payload.is_valid(raise_exception=True)
        image = services.reorder_image(
            image=image, order=payload.validated_data["order"], by=me(request)
        )
        return Response(s.ImageOutput(image, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, image_id: str) -> Response:
        image = self.get_image(request, slug, image_id)
        services.delete_image(image=image, by=me(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoritesView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.FavoriteOutput

    def get_queryset(self) -> QuerySet[Favorite]:
        if getattr(self, "swagger_fake_view", False):
            return Favorite.objects.none()
        return selectors.favorites_of(user=me(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = list(self.paginate_queryset(self.get_queryset()) or [])
        rendered = render_ads(selectors.load_relations([favorite.ad for favorite in page]), request)
        results = [
            {
                "id": favorite.pk,
                "ad": ad,
                "created_at": s.FavoriteOutput()
                .fields["created_at"]
                .to_representation(favorite.created_at),
            }
            for favorite, ad in zip(page, rendered, strict=True)
        ]
        return self.get_paginated_response(results)

    @extend_schema(
        request=s.FavoriteInput,
        responses={201: s.FavoriteOutput, 200: s.FavoriteOutput},
        description="Adding twice answers 200 with the same favourite.",
    )
    def post(self, request: Request) -> Response:
        payload = s.FavoriteInput(data=request.data)
        payload.is_valid(raise_exception=True)
        ad = selectors.get_public_ad_by_id(ad_id=payload.validated_data["ad"], viewer=request.user)
        if ad is None:
            raise FieldError("ad", "This ad is not available.", "does_not_exist")
        favorite, created = services.add_favorite(user=me(request), ad=ad)
        ad = selectors.get_visible_ad(slug=ad.slug, viewer=request.user) or ad
        body = {
            "id": favorite.pk,
            "ad": render_ad(ad, request),
            "created_at": s.FavoriteOutput()
            .fields["created_at"]
            .to_representation(favorite.created_at),
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FavoriteDeleteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, ad_id: str) -> Response:
        try:
            parsed = UUID(ad_id)
        except ValueError as exc:
            raise NotFound() from exc
        if not services.remove_favorite(user=me(request), ad_id=parsed):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevealPhoneView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: s.PhoneOutput},
        description=(
            "The seller's phone number for a signed-in buyer; each reveal "
            "is counted on the ad (seller analytics). Not in API.md: an "
            "addition for the \u201cshow contact\u201d button. 403 when "
            "the ad's `show_phone` is false."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        ad = visible_ad_or_404(request, slug)
        if not ad.show_phone and ad.owner_id != request.user.pk:
            raise PermissionDenied("The seller prefers to be contacted by chat.")
        return Response({"phone": services.reveal_phone(ad=ad)})


AD_STATS_EXAMPLE = OpenApiExample(
    "?days=3, boosted yesterday",
    response_only=True,
    value={
        "ad": "3f2b8c1e-6d4a-4c1b-9a57-0e6f1d2c3b4a",
        "totals": {"views": 112, "phone_reveals": 8, "favorites": 3, "messages": 6},
        "days": [
            {
                "date": "2025-01-29",
                "views": 14,
                "phone_reveals": 1,
                "favorites": 1,
                "messages": 0,
                "promoted": None,
            },
            {
                "date": "2025-01-30",
                "views": 61,
                "phone_reveals": 5,
                "favorites": 3,
                "messages": 4,
                "promoted": "boost",
            },
            {
                "date": "2025-01-31",
                "views": 37,
                "phone_reveals": 2,
                "favorites": -1,
                "messages": 2,
                "promoted": "boost",
            },
        ],
        "promotions": [
            {
                "tier": "boost",
                "starts_at": "2025-01-30T08:12:40Z",
                "ends_at": "2025-02-06T08:12:40Z",
                "payment": "9a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b",
            },
        ],
        "before_promotion": {
            "days": 7,
            "views": 13.71,
            "phone_reveals": 0.86,
            "favorites": 0.57,
            "messages": 0.71,
        },
        "during_promotion": {
            "days": 1,
            "views": 61.0,
            "phone_reveals": 5.0,
            "favorites": 3.0,
            "messages": 4.0,
        },
    },
)


class AdStatsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="ads_stats_retrieve",
        parameters=[s.AdStatsQuery],
        responses={
            200: s.AdStatsOutput,
            400: OpenApiResponse(description="`days` not a whole number from 1 to 90."),
            403: OpenApiResponse(description="The ad is visible to you but not yours."),
        },
        examples=[AD_STATS_EXAMPLE],
        description=(
            "The owner's analytics for one ad (not in API.md: an addition), per UTC day:\n\n"
            "- `days`: the last `days` UTC days, oldest first, today (still counting) "
            "included; days without activity are zeros. `views` are counted views (once per "
            "viewer per day, never the owner's; they lag up to 5 s), `phone_reveals` every "
            "reveal of the seller's phone, `favorites` net adds (added minus removed, may be "
            "negative), `messages` every message the seller received about the ad. "
            "`promoted`: the highest tier promoting the ad during any part of that day, "
            "else null.\n"
            "- `totals`: the sums over `days`.\n"
            "- `promotions`: every promotion the ad had, oldest first (a refund ends one at "
            "the refund time).\n"
            "- `before_promotion`: average per day over the up to 7 whole UTC days before "
            "the day the first promotion started (counting only days since the ad was "
            "created; `days` says how many); null without a promotion or such a day.\n"
            "- `during_promotion`: average per day over the whole UTC days any promotion "
            "covered (today left out); null until there is one.\n\n"
            "Counting began when these stats were introduced: older activity shows only in "
            "the ad's `views_count` and `favorites_count`. Anonymous 401; an ad you cannot "
            "see 404; someone else's visible ad 403; then a bad `days` 400."
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        ad = owned_ad_or_error(request, slug, relations=False)
        query = s.AdStatsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        stats = selectors.ad_stats(ad=ad, days=query.validated_data["days"])
        return Response(s.AdStatsOutput(stats).data)
