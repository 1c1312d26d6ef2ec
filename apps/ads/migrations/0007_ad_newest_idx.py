"""ad_newest_idx: listings ordered by publication time (either way) read the index instead of
sorting every live ad. Built CONCURRENTLY: no lock on ads while it builds."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ads", "0006_adimage_phash"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="ad",
            index=models.Index(
                models.F("published_at").desc(),
                models.F("id").desc(),
                condition=models.Q(("deleted_at__isnull", True), ("status", "active")),
                name="ad_newest_idx",
            ),
        ),
    ]
