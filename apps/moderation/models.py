"""Reports from users, reviews of sellers, and the staff's banned-word list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.common.models import TimeStampedModel


class TargetType(models.TextChoices):
    AD = "ad"
    USER = "user"
    MESSAGE = "message"


class ReportReason(models.TextChoices):
    SCAM = "scam"
    PROHIBITED = "prohibited"
    WRONG_CATEGORY = "wrong_category"
    DUPLICATE = "duplicate"
    OFFENSIVE = "offensive"
    SPAM = "spam"
    OTHER = "other"


class ReportStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class ReportAction(models.TextChoices):
    NONE = "none"
    HIDE_AD = "hide_ad"
    SUSPEND_USER = "suspend_user"


class Report(TimeStampedModel):
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="reports_made")
    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    details = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=ReportStatus.choices,
                              default=ReportStatus.OPEN)
    resolution_note = models.TextField(max_length=2000, blank=True)
    action = models.CharField(max_length=20, choices=ReportAction.choices,
                              default=ReportAction.NONE)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reporter", "target_type", "target_id"],
                                    condition=Q(status="open"), name="one_open_report_per_target"),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id", "status"], name="report_target_idx"),
            models.Index(models.F("status"), models.F("created_at").desc(),
                         name="report_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} report on {self.target_type} {self.target_id}"


class Review(TimeStampedModel):
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="reviews_written")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="reviews_received")
    ad = models.ForeignKey("ads.Ad", null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=2000, blank=True)
    # The reviewed seller's one public reply (issue 7): set once, with replied_at, never edited.
    reply_body = models.TextField(max_length=2000, blank=True, default="")
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reviewer", "seller", "ad"],
                                    name="one_review_per_seller_ad"),
            models.UniqueConstraint(fields=["reviewer", "seller"], condition=Q(ad__isnull=True),
                                    name="one_review_per_seller_without_ad"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5),
                                   name="rating_1_to_5"),
        ]
        indexes = [models.Index(models.F("seller"), models.F("created_at").desc(),
                                name="review_seller_idx")]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.seller_id}"


class BannedWord(models.Model):
    """Staff-edited list; an ad whose title or description has one of these (as a whole word,
    any case) is held for review."""

    word = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.word
