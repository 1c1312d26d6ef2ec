from __future__ import annotations

from rest_framework import serializers

from apps.moderation.models import ReportAction, ReportReason, TargetType
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


class ReviewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = PublicProfileOutput()
    seller = serializers.UUIDField(source="seller_id")
    ad = serializers.UUIDField(source="ad_id", allow_null=True)
    rating = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReviewPageOutput(serializers.Serializer):
    rating_average = serializers.FloatField(allow_null=True)
    rating_count = serializers.IntegerField()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReviewOutput(many=True)
