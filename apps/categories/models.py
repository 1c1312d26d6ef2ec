"""The category tree, stored as a materialised path.

Why a materialised path (and not django-mptt / treebeard): the tree is small (hundreds of
nodes), read on every listing and rarely written. `path` ("/1/7/42/") gives ancestors without a
query (the ids are in the string) and descendants with one indexed prefix match
(`path LIKE '/1/7/%'`, served by a text_pattern_ops index); a move rewrites the subtree's paths
in one UPDATE. Nested sets would make every insert rewrite half the table; adjacency lists
alone need recursive queries. No dependency is needed for this.

`path` is a text column, so depth is not bounded by a column length ("unlimited nesting").
`ad_count` is denormalised: `services.adjust_ad_counts()` moves it along a node's lineage (one
UPDATE over the ids in `path`) whenever an ad enters or leaves the live-active state, so lists
never count per node.

Deletion: a category nothing refers to is deleted; one still referred to by soft-deleted ads
(whose foreign key PROTECTs it) or by archived children is archived instead (`deleted_at`) and
disappears from the default manager, the API and the cached tree.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from apps.common.models import TimeStampedModel


class LiveCategoryManager(models.Manager["Category"]):
    def get_queryset(self) -> models.QuerySet[Category]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Category(TimeStampedModel):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    order = models.IntegerField(default=0)
    icon = models.CharField(max_length=100, blank=True)
    path = models.TextField(editable=False)  # "/<root id>/.../<own id>/"
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    # This node's own attribute definitions (see attribute_schema.py); children inherit them.
    attributes = models.JSONField(default=list, blank=True)
    # Staff-set plausible price range for the automatic moderation's price check.
    min_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # Active ads in this node and its descendants, kept by ads' status changes.
    ad_count = models.PositiveIntegerField(default=0, editable=False)
    # Set instead of deleting when soft-deleted ads (or archived children) still refer to it.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = LiveCategoryManager()  # live categories only: what every caller should see
    all_objects = models.Manager()

    class Meta:
        ordering = ["order", Lower("name")]
        verbose_name_plural = "categories"
        indexes = [
            models.Index(fields=["path"], name="category_path_idx",
                         opclasses=["text_pattern_ops"]),
            models.Index(fields=["parent", "order"], name="category_siblings_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        """Root first, without this node."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    @property
    def lineage_ids(self) -> list[int]:
        """Root first, this node last."""
        return [int(part) for part in self.path.strip("/").split("/") if part]
