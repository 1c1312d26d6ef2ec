from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.ads.api.serializers import AdOutput
from apps.ads.models import ModerationReason
from apps.moderation.models import ReportAction, ReportReason, Review, TargetType
from apps.users.api.serializers import PublicProfileOutput


class ReportInput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = serializers.CharField(max_length=64)
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    default="")


class ReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    reason = serializers.CharField()
    details = serializers.CharField()
    status = serializers.CharField()
    resolution_note = serializers.CharField()
    action = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class ReportResolutionInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["resolved", "dismissed"])
    resolution_note = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                            default="")
    action = serializers.ChoiceField(choices=ReportAction.choices, required=False,
                                     default=ReportAction.NONE)


class ReviewInput(serializers.Serializer):
    seller = serializers.CharField(max_length=64)
    ad = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)
    rating = serializers.IntegerField()
    comment = serializers.CharField(max_length=2000, allow_blank=True)


class ReviewReplyOutput(serializers.Serializer):
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = PublicProfileOutput()
    seller = serializers.UUIDField(source="seller_id")
    ad = serializers.UUIDField(source="ad_id", allow_null=True)
    rating = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()
    reply = serializers.SerializerMethodField(
        help_text="The reviewed seller's reply, or null (addition to API.md, issue 7).")

    @extend_schema_field(ReviewReplyOutput(allow_null=True))
    def get_reply(self, review: Review) -> dict[str, Any] | None:
        if review.replied_at is None:
            return None
        return dict(ReviewReplyOutput({"body": review.reply_body,
                                       "created_at": review.replied_at}).data)


class ReviewEditInput(serializers.Serializer):
    rating = serializers.IntegerField(required=False)
    comment = serializers.CharField(max_length=2000, allow_blank=True, required=False)


class ReviewReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=2000)


class ReviewPageOutput(serializers.Serializer):
    rating_average = serializers.FloatField(allow_null=True)
    rating_count = serializers.IntegerField()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReviewOutput(many=True)


# --- the staff queue of held ads --------------------------------------------------------------


class QueueAdOutput(AdOutput):
    """The ad (API.md section 6 shape, `moderation_reason` shown: the caller is staff) plus
    how many open reports it has."""

    open_reports_count = serializers.IntegerField(help_text="Open reports on this ad.")


class QueueNoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                 help_text="Kept in the audit log.")


class QueueRejectInput(QueueNoteInput):
    reason = serializers.ChoiceField(
        choices=ModerationReason.choices, required=False, allow_null=True, default=None,
        help_text="The moderation_reason the owner sees; default: why the ad was held, else "
                  "`staff`.")
