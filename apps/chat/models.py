"""Conversations between a buyer and a seller about one ad, and their messages.

Message ids are increasing integers: clients use them as a cursor (`?after=<id>`) to catch up
after a reconnect, and `message.read`'s `up_to` names one.

Archive and mute are each participant's own: a flag per side on the conversation (no extra
table, so the list stays one query). A new message clears both sides' archive flags.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ad = models.ForeignKey("ads.Ad", on_delete=models.CASCADE, related_name="conversations")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations_as_buyer"
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations_as_seller"
    )
    last_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True, db_index=True)  # last activity
    buyer_archived = models.BooleanField(default=False)
    seller_archived = models.BooleanField(default=False)
    buyer_muted = models.BooleanField(default=False)  # no offline email to the buyer
    seller_muted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ad", "buyer"], name="one_conversation_per_buyer"),
            models.CheckConstraint(
                condition=~Q(buyer=models.F("seller")), name="buyer_is_not_seller"
            ),
        ]
        indexes = [
            models.Index(
                models.F("buyer"), models.F("updated_at").desc(), name="conversation_buyer_idx"
            ),
            models.Index(
                models.F("seller"), models.F("updated_at").desc(), name="conversation_seller_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.buyer_id} -> {self.seller_id} about {self.ad_id}"

    def other_party_id(self, user_id: Any) -> Any:
        return self.seller_id if user_id == self.buyer_id else self.buyer_id

    def side_of(self, user_id: Any) -> str:
        """ "buyer" or "seller": the prefix of that participant's own flags."""
        return "buyer" if user_id == self.buyer_id else "seller"

    def is_muted_for(self, user_id: Any) -> bool:
        return bool(self.buyer_muted if user_id == self.buyer_id else self.seller_muted)


class MessageWarning(models.TextChoices):
    """Why a message deserves a safety notice in the recipient's client (computed when stored)."""

    CONTACT_DETAILS = "contact_details"
    OFF_PLATFORM_PAYMENT = "off_platform_payment"


class Message(models.Model):
    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=5000)
    client_id = models.CharField(max_length=64, null=True, blank=True)
    warning = models.CharField(max_length=32, choices=MessageWarning.choices, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # An optional photo (REST multipart `image`), checked and re-encoded like ad photos
    # (apps/common/images.py). Its size is kept in plain fields: an ImageField's width_field
    # would re-read them on every Message instantiated (a post_init hook).
    image = models.ImageField(upload_to="chat/%Y/%m/", max_length=200, blank=True, default="")
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                name="unique_client_id",
                condition=Q(client_id__isnull=False),
            ),
        ]
        indexes = [
            models.Index(
                models.F("conversation"), models.F("id").desc(), name="message_history_idx"
            ),
            models.Index(
                fields=["conversation", "sender"],
                name="message_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.id}"
