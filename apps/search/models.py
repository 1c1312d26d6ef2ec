"""Saved searches and what their alerts already sent."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from apps.common.models import TimeStampedModel


class SavedSearch(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=100)
    q = models.CharField(max_length=200, blank=True)
    filters = models.JSONField(default=dict, blank=True)  # query-string values by filter name
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                models.F("user"), models.F("created_at").desc(), name="savedsearch_user_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SavedSearchHit(models.Model):
    """An ad already sent for a saved search: the same ad is never sent twice."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="hits")
    ad = models.ForeignKey("ads.Ad", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["saved_search", "ad"], name="unique_saved_search_hit")
        ]

    def __str__(self) -> str:
        return f"{self.saved_search_id}:{self.ad_id}"


# --- PostgreSQL search's derived tables (kept by triggers on ads_ad, see migration 0004) -------


class SearchVocabulary(models.Model):
    """The words of live active ads' titles (folded, `simple` lexemes) and how many ads have
    each: typo candidates come from here (trigram index on `word`). Triggers add new words
    at once; `ndoc` is refreshed (and dead words dropped) by the daily rebuild."""

    word = models.TextField(primary_key=True)
    ndoc = models.IntegerField(default=0)

    class Meta:
        indexes = [
            GinIndex(fields=["word"], opclasses=["gin_trgm_ops"], name="search_vocab_word_trgm")
        ]

    def __str__(self) -> str:
        return self.word


class FacetCount(models.Model):
    """Live active ads by (category, top-level location, condition, price bucket): the facets
    of a query with no text and no filter but `category`, read without touching ads_ad.
    Exact at all times: statement triggers on ads_ad add and remove every change."""

    category_id = models.IntegerField()
    county_id = models.IntegerField()  # the root of the ad's location; 0 for none
    condition = models.CharField(max_length=12)  # "" for none
    bucket = models.SmallIntegerField()  # 0..5, as PRICE_BOUNDS
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category_id", "county_id", "condition", "bucket"],
                name="search_facetcount_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.category_id}/{self.county_id}/{self.condition}/{self.bucket}: {self.n}"


class AttributeCount(models.Model):
    """Live active ads by (category, attribute key, string value): the enum-attribute facets
    of the same queries as FacetCount, kept the same way."""

    category_id = models.IntegerField()
    key = models.TextField()
    value = models.TextField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category_id", "key", "value"], name="search_attributecount_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category_id}/{self.key}={self.value}: {self.n}"
