"""Ads, their photos and favourites.

Which index serves which query (all partial on live, active ads unless said):
- ad_public_feed_idx (promotion_tier DESC, published_at DESC, id DESC): the default listing
  order, read in index order with no sort (page 1 at 1M ads: 0.33 ms, bench/results/).
- ad_category_feed_idx (category, promotion_tier DESC, published_at DESC): listing filtered by
  category (IN the category and its descendants).
- ad_price_idx (price, id): ordering and ranges by price.
- ad_category_price_idx (category, price): a price range within categories: the capped count
  (an index-only read of at most 1,001 entries), the few matches of a narrow filter, and a
  category's ads in price order (24 MB at 1M ads).
- ad_newest_idx (published_at DESC, id DESC): ordering by publication time, either way.
- ad_attributes_gin (attributes jsonb_path_ops): exact attribute filters (`attributes @> {...}`).
- ad_owner_idx (owner, created_at DESC), all statuses: my-ads.
- ad_expiry_idx (expires_at) on active ads: the expiry sweep.
- ad_moderation_queue_idx (updated_at DESC, id DESC) on held ads: the staff moderation queue.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q

from apps.common.models import TimeStampedModel, UUIDModel


class AdStatus(models.TextChoices):
    DRAFT = "draft"
    PENDING = "pending"
    ACTIVE = "active"
    SOLD = "sold"
    EXPIRED = "expired"
    REJECTED = "rejected"
    HIDDEN = "hidden"


class Condition(models.TextChoices):
    NEW = "new"
    USED = "used"
    REFURBISHED = "refurbished"


class ModerationReason(models.TextChoices):
    CONTACT_DETAILS = "contact_details"
    BANNED_WORD = "banned_word"
    DUPLICATE = "duplicate"
    PRICE_OUT_OF_RANGE = "price_out_of_range"
    REPORTED = "reported"
    STAFF = "staff"


class PromotionTier(models.IntegerChoices):
    NONE = 0
    BOOST = 1
    FEATURED = 2
    VIP = 3


LIVE_ACTIVE = Q(status=AdStatus.ACTIVE, deleted_at__isnull=True)
# Pending with a moderation_reason: waiting for staff (the moderation queue).
HELD = Q(status=AdStatus.PENDING, moderation_reason__isnull=False, deleted_at__isnull=True)


class Ad(UUIDModel, TimeStampedModel):
    slug = models.SlugField(max_length=160, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="ads")
    category = models.ForeignKey("categories.Category", on_delete=models.PROTECT,
                                 related_name="ads")
    location = models.ForeignKey("locations.Location", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=5000, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="KES")
    negotiable = models.BooleanField(default=False)
    condition = models.CharField(max_length=12, choices=Condition.choices, null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # The seller's contact preference: False keeps the phone hidden (chat only).
    show_phone = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=AdStatus.choices, default=AdStatus.DRAFT)
    moderation_reason = models.CharField(max_length=20, choices=ModerationReason.choices,
                                         null=True, blank=True)
    views_count = models.PositiveIntegerField(default=0)
    favorites_count = models.PositiveIntegerField(default=0)
    phone_reveals_count = models.PositiveIntegerField(default=0)
    promotion_tier = models.PositiveSmallIntegerField(choices=PromotionTier.choices,
                                                      default=PromotionTier.NONE)
    promotion_until = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(models.F("promotion_tier").desc(), models.F("published_at").desc(),
                         models.F("id").desc(), name="ad_public_feed_idx", condition=LIVE_ACTIVE),
            # ?ordering=-published_at / published_at (backwards): newest first without
            # sorting every live ad (3.8 s at 1M ads before, bench/results/explain).
            models.Index(models.F("published_at").desc(), models.F("id").desc(),
                         name="ad_newest_idx", condition=LIVE_ACTIVE),
            models.Index(models.F("category"), models.F("promotion_tier").desc(),
                         models.F("published_at").desc(), models.F("id").desc(),
                         name="ad_category_feed_idx", condition=LIVE_ACTIVE),
            models.Index(fields=["price", "id"], name="ad_price_idx", condition=LIVE_ACTIVE),
            # ?category=&min_price=&max_price= (bench/results: the capped count read 20k-175k
            # rows by a sequential scan, 20-600 ms at 1M ads; with it, 0.2 ms).
            models.Index(fields=["category", "price"], name="ad_category_price_idx",
                         condition=LIVE_ACTIVE),
            GinIndex(fields=["attributes"], name="ad_attributes_gin",
                     opclasses=["jsonb_path_ops"], condition=LIVE_ACTIVE),
            models.Index(models.F("owner"), models.F("created_at").desc(), models.F("id").desc(),
                         name="ad_owner_idx"),
            models.Index(fields=["expires_at"], name="ad_expiry_idx", condition=LIVE_ACTIVE),
            # The staff moderation queue (apps.moderation, GET /api/moderation/queue/ads/):
            # held ads, most recently held first; small, as held ads are few.
            models.Index(models.F("updated_at").desc(), models.F("id").desc(),
                         name="ad_moderation_queue_idx", condition=HELD),
        ]

    def __str__(self) -> str:
        return self.title


class AdImage(TimeStampedModel):
    ad = models.ForeignKey(Ad, on_delete=models.CASCADE, related_name="images")
    file = models.ImageField(upload_to="ads/%Y/%m/", width_field="width", height_field="height")
    thumbnail = models.ImageField(upload_to="ads/thumbs/%Y/%m/", null=True, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    order = models.PositiveIntegerField(default=0)
    # 64-bit perceptual hash (pHash, signed), set when the photo is stored; null for photos
    # older than the field until `manage.py backfill_photo_hashes`. One expression index per
    # 16-bit band (apps/moderation/photos.py): the photo_duplicate rule's candidate lookup.
    phash = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["order", "id"]
        indexes = [
            models.Index(fields=["ad", "order", "id"], name="adimage_order_idx"),
            *(
                # Not partial: PostgreSQL keeps statistics on an expression index only when it
                # is not partial, and without them it guesses 0.5% of rows per value.
                models.Index(F("phash").bitrightshift(shift).bitand(0xFFFF),
                             name=f"adimage_phash_band{band}_idx")
                for band, shift in enumerate((48, 32, 16, 0))
            ),
        ]


class Favorite(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="favorites")
    ad = models.ForeignKey(Ad, on_delete=models.CASCADE, related_name="favorited_by")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "ad"], name="unique_favorite")]
        indexes = [models.Index(models.F("user"), models.F("created_at").desc(),
                                name="favorite_user_idx")]


DAILY_COUNTERS = ("views", "phone_reveals", "favorites", "messages")


class AdDailyStats(models.Model):
    """One row per ad per UTC day with activity: the seller's analytics (GET <slug>/stats/).

    Written only by upserts (`INSERT ... ON CONFLICT (ad_id, date) DO UPDATE SET n = n +
    excluded.n`), never read-modify-write: views arrive in the batch of
    `views_counter.flush_view_counts`, the other counters from their services
    (`ads.services.bump_daily_stats`). Days without activity have no row.
    - views: counted views (once per viewer per ad per UTC day, never the owner's).
    - phone_reveals: every reveal of the seller's phone.
    - favorites: net adds, favourites added minus removed that day (may be negative).
    - messages: every message the seller received about the ad (sent by a buyer).
    The unique constraint's index (ad_id, date) serves the per-ad date-range reads.
    """

    id = models.BigAutoField(primary_key=True)
    ad = models.ForeignKey(Ad, on_delete=models.CASCADE, related_name="daily_stats")
    date = models.DateField()
    views = models.PositiveIntegerField(default=0)
    phone_reveals = models.PositiveIntegerField(default=0)
    favorites = models.IntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ad", "date"], name="ad_daily_stats_unique")]

    def __str__(self) -> str:
        return f"{self.ad_id} on {self.date:%Y-%m-%d}"
