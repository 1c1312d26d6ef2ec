"""Payments endpoints (API.md section 9) and the ad boost (section 6)."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ads.api.views import owned_ad_or_error
from apps.common import idempotency
from apps.common.ids import parse_uuid
from apps.common.throttles import client_ip
from apps.payments import selectors, services
from apps.payments.api import serializers as s
from apps.payments.models import Payment, Plan, Promotion
from apps.payments.providers.base import PROVIDERS, CallbackRejected
from apps.users.models import User

logger = logging.getLogger(__name__)


def me(request: Request) -> User:
    return cast(User, request.user)


class PlansView(APIView):
    @extend_schema(responses={200: s.PlanOutput(many=True)})
    def get(self, request: Request) -> Response:
        plans = Plan.objects.filter(is_active=True).order_by("price", "code")
        return Response(s.PlanOutput(plans, many=True).data)


class PaymentListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    queryset = Payment.objects.none()

    @extend_schema(responses={200: s.PaymentOutput(many=True)})
    def get(self, request: Request) -> Response:
        payments = (Payment.objects.filter(user=me(request)).select_related("plan")
                    .order_by("-created_at"))
        page = self.paginate_queryset(payments)
        return self.get_paginated_response(s.PaymentOutput(page, many=True).data)


# One item each: the schema generator wraps an example in the page {count, next, previous,
# results: [item]}.
SELLER_PROMOTION_EXAMPLES = [
    OpenApiExample(
        "A running boost", response_only=True,
        value={"ad": {"id": "3f2b8c1e-6d4a-4c1b-9a57-0e6f1d2c3b4a",
                      "slug": "toyota-axio-2016-k3m9qa", "title": "Toyota Axio 2016"},
               "tier": "boost", "starts_at": "2025-01-30T08:12:40Z",
               "ends_at": "2025-02-06T08:12:40Z", "remaining_seconds": 428400,
               "payment": "9a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"},
    ),
    OpenApiExample(
        "A featured queued behind it", response_only=True,
        value={"ad": {"id": "3f2b8c1e-6d4a-4c1b-9a57-0e6f1d2c3b4a",
                      "slug": "toyota-axio-2016-k3m9qa", "title": "Toyota Axio 2016"},
               "tier": "featured", "starts_at": "2025-02-06T08:12:40Z",
               "ends_at": "2025-02-13T08:12:40Z", "remaining_seconds": 604800,
               "payment": "5d7e9f10-2a3b-4c5d-8e9f-a0b1c2d3e4f5"},
    ),
]


class SellerPromotionsView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    queryset = Promotion.objects.none()  # the schema's model; get() reads through selectors

    @extend_schema(
        operation_id="payments_promotions_list",
        parameters=[s.PromotionListQuery],
        responses={200: s.SellerPromotionOutput(many=True),
                   400: OpenApiResponse(description="`all` other than `true` or `false`.")},
        examples=SELLER_PROMOTION_EXAMPLES,
        description=(
            "My promotions (the ones my payments bought; not in API.md: an addition), newest "
            "first. By default only those still to run: `ends_at` in the future and the ad "
            "still promoted. An ad that leaves `active` (sold, expired, hidden, draft, "
            "deleted) loses its promotion for good, so its promotions stop there; one held "
            "for moderation after an edit keeps it. A promotion bought while another runs "
            "waits for it: its `starts_at` is later than now. `?all=true` lists every "
            "promotion, ended ones with `remaining_seconds` 0; `all` other than `true` or "
            "`false` 400. Per-ad effects: GET /api/ads/{slug}/stats/."
        ),
    )
    def get(self, request: Request) -> Response:
        query = s.PromotionListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        now = timezone.now()
        promotions = selectors.promotions_of(user=me(request), now=now,
                                             include_ended=query.validated_data["all"] == "true")
        page = self.paginate_queryset(promotions)
        body = s.SellerPromotionOutput(page, many=True, context={"now": now}).data
        return self.get_paginated_response(body)


class PaymentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.PaymentOutput})
    def get(self, request: Request, payment_id: str) -> Response:
        payment = None
        if parse_uuid(payment_id) is not None:
            payment = (Payment.objects.filter(user=me(request), pk=payment_id)
                       .select_related("plan").first())
        if payment is None:
            raise NotFound()
        return Response(s.PaymentOutput(payment).data)


class CallbackView(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    @extend_schema(request=None, responses={200: None},
                   description=("Provider callbacks, verified by signature (sandbox) or a secret "
                                "token and optional source addresses (M-Pesa). Unknown provider "
                                "404; unverified or not configured here 403; idempotent."))
    def post(self, request: Request, provider: str) -> Response:
        if provider not in PROVIDERS:
            raise NotFound()
        headers = {key.lower(): value for key, value in request.headers.items()}
        headers["remote-addr"] = client_ip(request)  # X-Real-IP only behind the proxy
        try:
            services.handle_callback(provider_name=provider, body=request.body, headers=headers,
                                     query={k: str(v) for k, v in request.query_params.items()})
        except CallbackRejected as exc:
            logger.warning("payment callback rejected (%s): %s", provider, exc)
            raise PermissionDenied("Callback not accepted.") from exc
        # Daraja expects this acknowledgement shape; other providers ignore the body.
        return Response({"ResultCode": 0, "ResultDesc": "Accepted"})


class BoostView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.BoostInput, responses={202: s.BoostOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER,
                                     required=False,
                                     description="≤ 255 chars; retries answer the same.")],
        description=("Starts a payment for the plan (status pending). With an Idempotency-Key, "
                     "the same user, key and body get the same answer for 24 h; another body "
                     "422 `idempotency_key_reused`; while the first runs 409 "
                     "`idempotency_key_in_use`."),
    )
    def post(self, request: Request, slug: str) -> Response:
        ad = owned_ad_or_error(request, slug)
        body = {"ad": str(ad.pk), **(request.data if isinstance(request.data, dict) else {})}

        def boost() -> Response:
            payload = s.BoostInput(data=request.data)
            payload.is_valid(raise_exception=True)
            payment = services.start_boost(user=me(request), ad=ad,
                                           plan_code=payload.validated_data["plan"],
                                           phone=payload.validated_data.get("phone"))
            payment = Payment.objects.select_related("plan").get(pk=payment.pk)
            return Response({"payment": s.PaymentOutput(payment).data},
                            status=status.HTTP_202_ACCEPTED)

        return idempotency.run_once(user_id=me(request).pk, scope="boost",
                                    key=request.headers.get("Idempotency-Key"), body=body,
                                    handler=boost)
