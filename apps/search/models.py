"""Saved searches and what their alerts already sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.common.models import TimeStampedModel


class SavedSearch(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="saved_searches")
    name = models.CharField(max_length=100)
    q = models.CharField(max_length=200, blank=True)
    filters = models.JSONField(default=dict, blank=True)  # query-string values by filter name
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(models.F("user"), models.F("created_at").desc(),
                                name="savedsearch_user_idx")]

    def __str__(self) -> str:
        return self.name


class SavedSearchHit(models.Model):
    """An ad already sent for a saved search: the same ad is never sent twice."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="hits")
    ad = models.ForeignKey("ads.Ad", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["saved_search", "ad"],
                                               name="unique_saved_search_hit")]

    def __str__(self) -> str:
        return f"{self.saved_search_id}:{self.ad_id}"
