"""Moderation endpoints (API.md section 8)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.errors import FieldError
from apps.common.permissions import IsStaff
from apps.common.throttles import AnonThrottle, ScopedUserThrottle, UserThrottle
from apps.moderation import services
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


class UserReviewsView(GenericAPIView):
    queryset = Review.objects.none()

    @extend_schema(responses={200: s.ReviewPageOutput})
    def get(self, request: Request, user_id: str) -> Response:
        seller = user_selectors.get_public_user(user_id=user_id)
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
