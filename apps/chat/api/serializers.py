from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.chat import events
from apps.chat.models import Conversation, Message, MessageWarning
from apps.users.api.serializers import PublicProfileOutput


class MessageImageOutput(serializers.Serializer):
    url = serializers.URLField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.UUIDField(source="conversation_id")
    sender = serializers.UUIDField(source="sender_id")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    client_id = serializers.CharField(allow_null=True)
    warning = serializers.ChoiceField(
        choices=MessageWarning.choices,
        allow_null=True,
        help_text=(
            "A safety notice for clients to show beside the message, decided when it "
            "was stored: `contact_details` (a phone number, email address or link), "
            "`off_platform_payment` (asks for payment outside the platform: paybill, "
            "deposit first, Western Union...; wins over `contact_details`), or null. "
            "The message is delivered as sent either way."
        ),
    )
    image = serializers.SerializerMethodField(
        help_text=(
            "The message's photo, or null: `{url (absolute), width, height}` of the "
            "stored image. Sent as the multipart field `image` of POST "
            "<conversation_id>/; the same in socket frames (message.ack, message.new)."
        )
    )

    @extend_schema_field(MessageImageOutput(allow_null=True))
    def get_image(self, message: Message) -> dict[str, Any] | None:
        request = self.context.get("request")
        return events.image_payload(message, request.build_absolute_uri if request else None)


class ConversationAdOutput(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.CharField()
    thumbnail_url = serializers.SerializerMethodField()

    def get_thumbnail_url(self, ad: Any) -> str | None:
        images = list(ad.images.all())  # prefetched, ordered
        if not images:
            return None
        picture = images[0].thumbnail or images[0].file
        request = self.context.get("request")
        return request.build_absolute_uri(picture.url) if request else picture.url


class ConversationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    ad = ConversationAdOutput()
    other_party = serializers.SerializerMethodField()
    last_message = MessageOutput(allow_null=True)
    unread_count = serializers.IntegerField()
    archived = serializers.BooleanField(
        help_text=(
            "The caller archived it (POST <id>/archive/): it is left out of "
            "GET conversations/ but for ?archived=true. A new message in it, from "
            "either side, clears the flag for both participants."
        )
    )
    muted = serializers.BooleanField(
        help_text="The caller muted it (POST <id>/mute/): no offline email about it."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_other_party(self, conversation: Conversation) -> dict[str, Any]:
        request = self.context["request"]
        other = (
            conversation.seller if request.user.pk == conversation.buyer_id else conversation.buyer
        )
        return dict(PublicProfileOutput(other, context=self.context).data)


class ConversationListQuery(serializers.Serializer):
    archived = serializers.ChoiceField(
        choices=["true", "false"],
        default="false",
        required=False,
        help_text=(
            "`true` lists only the conversations the caller archived; `false` "
            "(default) only the others. Any other value: 400."
        ),
    )


class StartConversationInput(serializers.Serializer):
    ad = serializers.CharField()  # any unknown id, however long, is ad_unavailable
    message = serializers.CharField(max_length=5000)
    client_id = serializers.CharField(max_length=64, required=False)


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
    client_id = serializers.CharField(max_length=64, required=False)
    image = serializers.FileField(
        required=False,
        allow_empty_file=True,
        help_text=(
            "Optional photo (multipart/form-data): JPEG, PNG or WebP by content, at most "
            "10 MiB (else 413 `file_too_large`) and 50 Mpx (else 400 `invalid_image`), "
            "stored re-encoded without metadata, as ad photos are. One per message."
        ),
    )


class UnreadCountOutput(serializers.Serializer):
    unread_count = serializers.IntegerField()


class TicketOutput(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField()
