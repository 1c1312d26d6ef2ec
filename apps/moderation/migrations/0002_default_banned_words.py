from django.db import migrations

# English and Swahili defaults; staff edit the list in the admin.
DEFAULTS = [
    "cocaine", "heroin", "bhang", "weed for sale", "counterfeit", "fake id", "fake passport",
    # Phrases, not single everyday words: "Ford Escort", "ivory gown", "glue gun for sale" and
    # "not stolen" are ordinary ads.
    "elephant ivory", "ivory tusks", "rhino horn", "firearm", "pistol for sale", "ponografia",
    "mihadarati", "bangi", "pembe za ndovu", "bunduki", "hela haraka",
]


def add(apps, schema_editor):
    BannedWord = apps.get_model("moderation", "BannedWord")
    for word in DEFAULTS:
        BannedWord.objects.get_or_create(word=word)


def remove(apps, schema_editor):
    apps.get_model("moderation", "BannedWord").objects.filter(word__in=DEFAULTS).delete()


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(add, remove)]
