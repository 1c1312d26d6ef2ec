"""Messages endpoints (API.md section 7); non-participants get 404 on every conversation path."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chat import selectors, services, tickets
from apps.chat.api import serializers as s
from apps.chat.models import Conversation, Message
from apps.common.throttles import AnonThrottle, ScopedUserThrottle, UserThrottle
from apps.users.models import User

THROTTLES = [AnonThrottle, UserThrottle, ScopedUserThrottle]


def me(request: Request) -> User:
    return cast(User, request.user)


def conversation_or_404(request: Request, conversation_id: str) -> Conversation:
    conversation = selectors.get_conversation_for(user=me(request), conversation_id=conversation_id)
    if conversation is None:
        raise NotFound()
    return conversation


def render_conversation(conversation_id: Any, request: Request) -> dict[str, Any]:
    conversation = selectors.conversations_of(user=me(request)).get(pk=conversation_id)
    return dict(s.ConversationOutput(conversation, context={"request": request}).data)


class ConversationListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = THROTTLES
    throttle_scope = "message_send"
    queryset = Conversation.objects.none()

    @extend_schema(
        parameters=[s.ConversationListQuery],
        responses={
            200: s.ConversationOutput(many=True),
            400: OpenApiResponse(description="`archived` not true/false."),
        },
        description=(
            "Latest activity first. Conversations the caller archived are "
            "left out; `?archived=true` lists only those."
        ),
    )
    def get(self, request: Request) -> Response:
        query = s.ConversationListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        archived = query.validated_data["archived"] == "true"
        page = self.paginate_queryset(
            selectors.conversations_of(user=me(request), archived=archived)
        )
        data = s.ConversationOutput(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=s.StartConversationInput,
        responses={201: s.ConversationOutput, 200: s.ConversationOutput},
        description="A buyer's second start for the same ad appends to it (200).",
    )
    def post(self, request: Request) -> Response:
        payload = s.StartConversationInput(data=request.data)
        payload.is_valid(raise_exception=True)
        conversation, _, created = services.start_conversation(
            buyer=me(request),
            ad_id=payload.validated_data["ad"],
            body=payload.validated_data["message"],
            client_id=payload.validated_data.get("client_id"),
        )
        return Response(
            render_conversation(conversation.pk, request),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ConversationMessagesView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = THROTTLES
    throttle_scope = "message_send"
    queryset = Message.objects.none()

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Only messages newer than this")],
        responses={
            200: s.MessageOutput(many=True),
            400: OpenApiResponse(description="`after` is not a message id."),
        },
        description="Newest first.",
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = conversation_or_404(request, conversation_id)
        raw_after = request.query_params.get("after")
        after = None
        if raw_after is not None:
            if not (raw_after.isascii() and raw_after.isdigit()):  # "²".isdigit() is True
                from apps.common.errors import FieldError

                raise FieldError("after", "A message id.", "invalid")
            after = int(raw_after)
        page = self.paginate_queryset(selectors.messages_of(conversation=conversation, after=after))
        return self.get_paginated_response(
            s.MessageOutput(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request={"application/json": s.MessageInput, "multipart/form-data": s.MessageInput},
        responses={201: s.MessageOutput, 200: s.MessageOutput},
        description=(
            "`{body, client_id?}` as JSON, or multipart/form-data with an "
            "optional `image` too. A resend (same client_id) answers 200 "
            "with the original message and stores nothing."
        ),
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        conversation = conversation_or_404(request, conversation_id)
        # API.md section 1: object permission (403 blocked) before validation (400).
        services.check_not_blocked(me(request), conversation.other_party_id(me(request).pk))
        payload = s.MessageInput(data=request.data)
        payload.is_valid(raise_exception=True)
        sent = services.send_message(
            sender=me(request),
            conversation=conversation,
            body=payload.validated_data["body"],
            client_id=payload.validated_data.get("client_id"),
            image=payload.validated_data.get("image"),
            absolute=request.build_absolute_uri,
        )
        return Response(
            s.MessageOutput(sent.message, context={"request": request}).data,
            status=status.HTTP_201_CREATED if sent.created else status.HTTP_200_OK,
        )


class MarkReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.UnreadCountOutput})
    def post(self, request: Request, conversation_id: str) -> Response:
        conversation = conversation_or_404(request, conversation_id)
        services.mark_read(user=me(request), conversation=conversation)
        return Response({"unread_count": 0})


class ConversationFlagView(APIView):
    """POST <id>/archive/, unarchive/, mute/, unmute/: the caller's own flag, idempotent; the
    other participant sees no change."""

    permission_classes = [IsAuthenticated]
    flag = ""
    value = False

    def set_flag(self, request: Request, conversation_id: str) -> Response:
        conversation = conversation_or_404(request, conversation_id)
        services.set_flag(
            user=me(request), conversation=conversation, flag=self.flag, value=self.value
        )
        return Response(render_conversation(conversation.pk, request))


def flag_schema(description: str) -> Any:
    return extend_schema(
        request=None,
        responses={200: s.ConversationOutput},
        description=description + " Only the caller's view changes; "
        "participants only (others: 404); idempotent.",
    )


class ArchiveView(ConversationFlagView):
    flag, value = "archived", True

    @flag_schema(
        "Archive for the caller: left out of GET conversations/ (listed by "
        "`?archived=true`) until a new message arrives in it."
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        return self.set_flag(request, conversation_id)


class UnarchiveView(ConversationFlagView):
    flag, value = "archived", False

    @flag_schema("Back in the caller's GET conversations/.")
    def post(self, request: Request, conversation_id: str) -> Response:
        return self.set_flag(request, conversation_id)


class MuteView(ConversationFlagView):
    flag, value = "muted", True

    @flag_schema(
        "Mute for the caller: no offline email about its messages; sockets still get them."
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        return self.set_flag(request, conversation_id)


class UnmuteView(ConversationFlagView):
    flag, value = "muted", False

    @flag_schema("Offline emails about it again.")
    def post(self, request: Request, conversation_id: str) -> Response:
        return self.set_flag(request, conversation_id)


class UnreadCountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UnreadCountOutput})
    def get(self, request: Request) -> Response:
        return Response({"unread_count": selectors.unread_count(user=me(request))})


class TicketView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={201: s.TicketOutput},
        description="Open ws(s)://<host>/ws/messages/?ticket=<ticket> within 60 s.",
    )
    def post(self, request: Request) -> Response:
        ticket = tickets.issue_ticket(user_id=me(request).pk)
        return Response(
            {"ticket": ticket, "expires_in": tickets.TICKET_TTL}, status=status.HTTP_201_CREATED
        )
