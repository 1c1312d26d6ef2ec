from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm (typo-tolerant search) and unaccent (accent-insensitive search)."""

    dependencies = [("common", "0002_initial")]

    operations = [TrigramExtension(), UnaccentExtension()]
