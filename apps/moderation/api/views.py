"""Moderation endpoints (API.md section 8), and issue 7's additions: the staff queue of held
ads, review edits and the seller's reply."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ads.api.views import render_ads
from apps.ads.models import Ad, ModerationReason
from apps.common.errors import FieldError
from apps.common.permissions import IsStaff
from apps.common.throttles import AnonThrottle, ScopedUserThrottle, UserThrottle
from apps.moderation import selectors, services
from apps.moderation.api import serializers as s
from apps.moderation.models import Report, ReportReason, ReportStatus, Review, TargetType
from apps.users import selectors as user_selectors
from apps.users.models import User

FILTERS = {"status": ReportStatus.values, "target_type": TargetType.values,
           "reason": ReportReason.values}


def me(request: Request) -> User:
    return cast(User, request.user)


class ReportListCreateView(GenericAPIView):
    queryset = Report.objects.none()
    # POST only, per reporter; no rate in settings.THROTTLE_RATES["report"] means no limit.
    throttle_classes = [AnonThrottle, UserThrottle, ScopedUserThrottle]
    throttle_scope = "report"

    def get_permissions(self) -> list[Any]:
        if self.request.method == "GET":
            return [IsAuthenticated(), IsStaff()]
        return [IsAuthenticated()]

    @extend_schema(
        parameters=[OpenApiParameter(name, str, enum=values) for name, values in FILTERS.items()],
        responses={200: s.ReportOutput(many=True)},
        description="Staff only; newest first.",
    )
    def get(self, request: Request) -> Response:
        reports: QuerySet[Report] = Report.objects.order_by("-created_at", "-id")
        for name, allowed in FILTERS.items():
            value = request.query_params.get(name)
            if value is None:
                continue
            if value not in allowed:
                raise FieldError(name, f'"{value}" is not a valid choice.', "invalid_choice")
            reports = reports.filter(**{name: value})
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(s.ReportOutput(page, many=True).data)

    @extend_schema(request=s.ReportInput, responses={201: s.ReportOutput})
    def post(self, request: Request) -> Response:
        payload = s.ReportInput(data=request.data)
        payload.is_valid(raise_exception=True)
        report = services.create_report(reporter=me(request), **payload.validated_data)
        return Response(s.ReportOutput(report).data, status=status.HTTP_201_CREATED)


class ReportDetailView(APIView):
    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(request=s.ReportResolutionInput, responses={200: s.ReportOutput},
                   description=("`hide_ad` (ad reports only) hides the ad; `suspend_user` "
                                "suspends the reported user, ad owner or message sender."))
    def patch(self, request: Request, report_id: str) -> Response:
        is_number = report_id.isascii() and report_id.isdigit()  # not "²", which int() refuses
        report = Report.objects.filter(pk=int(report_id)).first() if is_number else None
        if report is None:
            raise NotFound()
        payload = s.ReportResolutionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        report = services.resolve_report(report=report, staff=me(request),
                                         **payload.validated_data)
        return Response(s.ReportOutput(report).data)


class ReviewCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.ReviewInput, responses={201: s.ReviewOutput},
                   description=("Checks in order: yourself 400; bad rating or ad not the "
                                "seller's 400; no conversation with the seller 403; a review "
                                "of that seller and ad exists 409 `duplicate`."))
    def post(self, request: Request) -> Response:
        if isinstance(request.data, dict):  # yourself comes first, before the rating's checks
            services.check_not_yourself(reviewer=me(request), seller_id=request.data.get("seller"))
        payload = s.ReviewInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        review = services.create_review(reviewer=me(request), seller_id=data["seller"],
                                        ad_id=data["ad"], rating=data["rating"],
                                        comment=data["comment"])
        review = Review.objects.select_related("reviewer__location").get(pk=review.pk)
        return Response(s.ReviewOutput(review, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


REVIEW_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH,
    description="The review's id (`id` in the review body).")
SELLER_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH,
    description="The seller's user id (API.md: `reviews/<user_id>/`).")
REVIEW_WITH_REPLY = OpenApiExample(
    "A review with the seller's reply", response_only=True,
    value={"id": 41, "reviewer": {"id": "5b0b3c9e-8f0e-4a57-9a8a-3f8c2f5e9b11",
                                  "display_name": "Baraka O.", "avatar": None, "bio": "",
                                  "location": None, "member_since": "2025-01-31T09:15:00Z",
                                  "email_verified": True, "phone_verified": False,
                                  "rating_average": None, "rating_count": 0,
                                  "active_ads_count": 0, "response_rate": None,
                                  "median_response_minutes": None},
           "seller": "0f7c2a51-2d9e-4f3b-8c61-7a0e5b9d1c22",
           "ad": "3f2b8c1e-6d4a-4c1b-9a57-0e6f1d2c3b4a", "rating": 4,
           "comment": "Car as described, slight delay on the logbook.",
           "created_at": "2025-02-01T10:00:00Z",
           "reply": {"body": "Thanks! The logbook delay was KRA's.",
                     "created_at": "2025-02-02T08:30:00Z"}},
)


def review_or_404(review_id: str) -> Review:
    review = selectors.get_visible_review(review_id=review_id)
    if review is None:
        raise NotFound()
    return review


def render_review(review: Review, request: Request) -> dict[str, Any]:
    fresh = Review.objects.select_related("reviewer__location").get(pk=review.pk)
    return cast(dict[str, Any], s.ReviewOutput(fresh, context={"request": request}).data)


class UserReviewsView(GenericAPIView):
    """GET: a seller's reviews (id = user id). PATCH: the reviewer's edit (id = review id).
    One path for both, as the contract's GET reviews/<user_id>/ and issue 7's PATCH
    reviews/<review id>/ share it."""

    queryset = Review.objects.none()

    def get_permissions(self) -> list[Any]:
        # AllowAny (not []) so the schema shows GET as open to anonymous callers.
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(parameters=[SELLER_ID], responses={200: s.ReviewPageOutput})
    def get(self, request: Request, id: str) -> Response:
        seller = user_selectors.get_public_user(user_id=id)
        if seller is None:
            raise NotFound()
        reviews = (Review.objects.filter(seller=seller).select_related("reviewer__location")
                   .order_by("-created_at", "-id"))
        page = self.paginate_queryset(reviews)
        data = s.ReviewOutput(page, many=True, context={"request": request}).data
        response = self.get_paginated_response(data)
        response.data = {"rating_average": seller.rating_average,
                         "rating_count": seller.rating_count, **response.data}
        return response

    @extend_schema(
        operation_id="moderation_reviews_update",
        parameters=[REVIEW_ID], request=s.ReviewEditInput,
        responses={200: s.ReviewOutput,
                   403: OpenApiResponse(description="You did not write this review."),
                   409: OpenApiResponse(description=(
                       "`edit_window_closed`: more than 7 days (REVIEW_EDIT_DAYS) since the "
                       "review was posted."))},
        description=(
            "Addition to API.md (issue 7). The reviewer edits `rating` (1-5) and/or `comment` "
            "within 7 days of posting; other fields are ignored. The seller's `rating_average` "
            "and `rating_count` follow at once. Checks in order: anonymous 401; unknown review "
            "(or one of a suspended seller) 404; not your review 403; bad rating, or a comment "
            "with contact details (phone, email, link) or a banned word 400 (`invalid` on "
            "`comment`); past the 7 days 409 `edit_window_closed`. An edit after the seller "
            "replied keeps the reply."),
    )
    def patch(self, request: Request, id: str) -> Response:
        review = review_or_404(id)
        if review.reviewer_id != request.user.pk:
            raise PermissionDenied("Only the reviewer may edit a review.")
        payload = s.ReviewEditInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        review = services.edit_review(review=review, reviewer=me(request),
                                      changes=dict(payload.validated_data))
        return Response(render_review(review, request))


class ReviewReplyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[REVIEW_ID], request=s.ReviewReplyInput,
        responses={201: s.ReviewOutput,
                   403: OpenApiResponse(description="Only the reviewed seller may reply."),
                   409: OpenApiResponse(description="`duplicate`: you already replied.")},
        examples=[REVIEW_WITH_REPLY],
        description=(
            "Addition to API.md (issue 7). The reviewed seller replies once; the answer is "
            "the review with its `reply` {body, created_at}. A reply cannot be edited. Checks "
            "in order: anonymous 401; unknown review 404; not the reviewed seller 403; `body` "
            "missing, blank, over 2,000 characters, or with contact details or a banned word "
            "400 (`invalid` on `body`); a second reply 409 `duplicate`."),
    )
    def post(self, request: Request, id: str) -> Response:
        review = review_or_404(id)
        if review.seller_id != request.user.pk:
            raise PermissionDenied("Only the reviewed seller may reply.")
        payload = s.ReviewReplyInput(data=request.data)
        payload.is_valid(raise_exception=True)
        review = services.reply_to_review(review=review, seller=me(request),
                                          body=payload.validated_data["body"])
        return Response(render_review(review, request), status=status.HTTP_201_CREATED)


# --- the staff queue of held ads --------------------------------------------------------------

QUEUE_DESCRIPTION = (
    "Addition to API.md (issue 7), staff only. Pending ads held by automatic moderation or "
    "by reports (`moderation_reason` set), most recently held (or edited) first; `?reason=` "
    "keeps one "
    "reason. Each item is the ad (API.md section 6 shape) plus `open_reports_count`. A page "
    "costs the same number of queries whatever its size.\n\n"
    "Besides API.md's rules, automatic moderation (settings `MODERATION_RULES`, in order, "
    "first reason wins) also holds: `duplicate` for a near copy (trigram similarity of title "
    "and description >= 0.8) of another seller's active ad in the same category published in "
    "the last 30 days; `staff` for the ads of an account under 24 hours old that created "
    "more than 5 ads in its first hour. Reviews and replies follow the ads' text rules "
    "(contact details, banned words)."
)
ACTION_DESCRIPTION = (
    " Staff only. Answers the ad with `open_reports_count`. Goes through the ad lifecycle "
    "(API.md section 6): a move it does not allow is 409 `ad_invalid_transition`. Writes "
    "the audit log (`ads.status.<status>` and `moderation.queue.<decision>`)."
)


NOT_STAFF = OpenApiResponse(description="Signed in, but not staff.")


def render_queue(ads: list[Ad], request: Request) -> list[dict[str, Any]]:
    rendered = render_ads(ads, request)
    counts = selectors.open_report_counts(ad_ids=[ad.pk for ad in ads])
    for item in rendered:
        item["open_reports_count"] = counts.get(str(item["id"]), 0)
    return rendered


class QueueAdsView(GenericAPIView):
    permission_classes = [IsAuthenticated, IsStaff]
    queryset = Ad.objects.none()

    @extend_schema(
        operation_id="moderation_queue_ads_list",
        parameters=[OpenApiParameter("reason", str, enum=ModerationReason.values,
                                     description="Only ads held for this reason.")],
        responses={200: s.QueueAdOutput(many=True), 403: NOT_STAFF},
        description=QUEUE_DESCRIPTION,
    )
    def get(self, request: Request) -> Response:
        reason = request.query_params.get("reason")
        if reason is not None and reason not in ModerationReason.values:
            raise FieldError("reason", f'"{reason}" is not a valid choice.', "invalid_choice")
        page = self.paginate_queryset(selectors.held_ads(reason=reason))
        return self.get_paginated_response(render_queue(list(page or []), request))


class QueueActionView(APIView):
    permission_classes = [IsAuthenticated, IsStaff]
    input_class: type[s.QueueNoteInput] = s.QueueNoteInput

    def decide(self, ad: Ad, staff: User, data: dict[str, Any]) -> Ad:
        raise NotImplementedError

    def post(self, request: Request, ad_id: str) -> Response:
        ad = selectors.get_ad_for_staff(ad_id=ad_id)
        if ad is None:
            raise NotFound()
        payload = self.input_class(data=request.data)
        payload.is_valid(raise_exception=True)
        self.decide(ad, me(request), dict(payload.validated_data))
        fresh = selectors.get_ad_for_staff(ad_id=ad.pk)
        return Response(render_queue([fresh or ad], request)[0])


def action_schema(summary: str, request: Any) -> Any:
    return extend_schema(
        request=request,
        parameters=[OpenApiParameter("ad_id", OpenApiTypes.UUID, OpenApiParameter.PATH,
                                     description="The ad's `id`.")],
        responses={200: s.QueueAdOutput, 403: NOT_STAFF,
                   409: OpenApiResponse(description="`ad_invalid_transition`.")},
        description=summary + ACTION_DESCRIPTION,
    )


class QueueApproveView(QueueActionView):
    @action_schema(
        "Approve: `pending` -> `active`, or `hidden` -> `active` (undoing a hide); refused "
        "with 409 while the owner is suspended. An ad "
        "held for `reported` has its open reports dismissed (staff found nothing; left open, "
        "they would count towards the next hold).", s.QueueNoteInput)
    def post(self, request: Request, ad_id: str) -> Response:
        return super().post(request, ad_id)

    def decide(self, ad: Ad, staff: User, data: dict[str, Any]) -> Ad:
        return services.approve_ad(ad_id=ad.pk, staff=staff, note=data["note"])


class QueueRejectView(QueueActionView):
    input_class = s.QueueRejectInput

    @action_schema(
        "Reject: `pending` -> `rejected`, with `reason` as the ad's `moderation_reason` (the "
        "owner sees it, may edit and resubmit). An ad held for `reported` has its open "
        "reports resolved (action `none`).", s.QueueRejectInput)
    def post(self, request: Request, ad_id: str) -> Response:
        return super().post(request, ad_id)

    def decide(self, ad: Ad, staff: User, data: dict[str, Any]) -> Ad:
        return services.reject_ad(ad_id=ad.pk, staff=staff, reason=data["reason"],
                                  note=data["note"])


class QueueHideView(QueueActionView):
    @action_schema(
        "Hide: `pending` or `active` -> `hidden` (`moderation_reason` `staff`), like the "
        "report action `hide_ad`. An ad held for `reported` has its open reports resolved "
        "with action `hide_ad`.", s.QueueNoteInput)
    def post(self, request: Request, ad_id: str) -> Response:
        return super().post(request, ad_id)

    def decide(self, ad: Ad, staff: User, data: dict[str, Any]) -> Ad:
        return services.hide_ad(ad_id=ad.pk, staff=staff, note=data["note"])
