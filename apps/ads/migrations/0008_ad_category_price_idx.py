"""ad_category_price_idx: listings filtered by category and price range (the capped count, the
few matches of a narrow range, price order within a category) read an index range instead of
scanning ads (24 MB at 1M ads)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ads", "0007_ad_newest_idx"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ad",
            index=models.Index(
                fields=["category", "price"],
                condition=models.Q(("deleted_at__isnull", True), ("status", "active")),
                name="ad_category_price_idx",
            ),
        ),
    ]
