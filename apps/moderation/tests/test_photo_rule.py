"""The photo_duplicate rule (issue 7): a photo already seen on another seller's recent ad (stolen
photos) or on the owner's other active ad is held as `duplicate`, through the real path: POST
/api/ads/, then POST <slug>/images/ (the check runs on the upload's commit), the owner reading
the verdict. Plus the lookup's guarantees (bands, index use), the backfill command, and the
false-positive rate on 500 generated photos."""

from __future__ import annotations

import io
import itertools
import logging
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from PIL import Image

from apps.ads import services as ad_services
from apps.ads.models import Ad, AdImage, AdStatus
from apps.ads.status import Actor
from apps.ads.tests.factories import images_url
from apps.common.models import AuditEntry
from apps.moderation import checks, photos
from apps.moderation import services as moderation_services
from apps.moderation.tests import photo_corpus
from apps.moderation.tests.helpers import ADS, ad_url, public_ids
from apps.users.models import User
from apps.users.tests.helpers import upload

pytestmark = pytest.mark.django_db

HELD = ("pending", "duplicate")
LIVE = ("active", None)
WORDS = [
    "Sofa",
    "Fridge",
    "Bicycle",
    "Cooker",
    "Desk",
    "Wardrobe",
    "Blender",
    "Mattress",
    "Heater",
    "Ladder",
    "Kettle",
    "Printer",
]
_numbers = itertools.count()


@pytest.fixture(autouse=True)
def media_root(tmp_path: Any, settings: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg(seed: int) -> bytes:
    return photo_corpus.encoded(photo_corpus.photo(seed))


def blank(colour: tuple[int, int, int] = (240, 240, 240)) -> bytes:
    return photo_corpus.encoded(Image.new("RGB", (400, 300), colour))


def text() -> dict[str, str]:
    """A title and description unlike any other ad's (only the photo rule may object)."""
    n = next(_numbers)
    word = WORDS[n % len(WORDS)]
    return {
        "title": f"{word} in good shape, lot {n}",
        "description": f"{word} number {n} of the {n * 7}th batch, collected from Ruaka.",
    }


PATHS = {
    AdStatus.DRAFT: [],
    AdStatus.PENDING: [(AdStatus.PENDING, Actor.OWNER)],
    AdStatus.ACTIVE: [(AdStatus.PENDING, Actor.OWNER), (AdStatus.ACTIVE, Actor.SYSTEM)],
    AdStatus.SOLD: [
        (AdStatus.PENDING, Actor.OWNER),
        (AdStatus.ACTIVE, Actor.SYSTEM),
        (AdStatus.SOLD, Actor.OWNER),
    ],
    AdStatus.EXPIRED: [
        (AdStatus.PENDING, Actor.OWNER),
        (AdStatus.ACTIVE, Actor.SYSTEM),
        (AdStatus.EXPIRED, Actor.SYSTEM),
    ],
    AdStatus.HIDDEN: [
        (AdStatus.PENDING, Actor.OWNER),
        (AdStatus.ACTIVE, Actor.SYSTEM),
        (AdStatus.HIDDEN, Actor.STAFF),
    ],
    AdStatus.REJECTED: [(AdStatus.PENDING, Actor.OWNER), (AdStatus.REJECTED, Actor.SYSTEM)],
}


@pytest.fixture
def listed(catalog: Any) -> Any:
    """listed(owner, photo=None, status="active", **forced): an ad of `owner` with `photo`,
    brought to `status` straight through the services (no automatic check runs: nothing
    commits in these tests outside the API client); `forced` fields written afterwards."""

    def make(
        owner: User, photo: bytes | None = None, status: str = AdStatus.ACTIVE, **forced: Any
    ) -> Ad:
        ad = ad_services.create_ad(
            owner=owner, draft=True, category=catalog.phones, price=Decimal("1500"), **text()
        )
        if photo is not None:
            ad_services.add_image(ad=ad, upload=upload("photo.jpg", photo), by=owner)
        for to, actor in PATHS[AdStatus(status)]:
            ad_services.change_ad_status(ad_id=ad.pk, to=to, actor=actor, by=owner, moderate=False)
        if forced:
            Ad.objects.filter(pk=ad.pk).update(**forced)
        ad.refresh_from_db()
        return ad

    return make


@pytest.fixture
def post_ad(client_for: Any, catalog: Any, place: Any) -> Any:
    """post_ad(user, photo=None, draft=False) -> the owner's view of the ad after POST /api/ads/
    and, with a photo, POST <slug>/images/ (each request's commit runs its background work)."""

    def post(user: User, photo: bytes | None = None, draft: bool = False) -> dict[str, Any]:
        client = client_for(user)
        response = client.post(
            ADS,
            {
                **text(),
                "category": catalog.phones.pk,
                "location": place.pk,
                "price": "38500",
                "draft": draft,
            },
        )
        assert response.status_code == 201, response.json()
        slug = response.json()["slug"]
        if photo is not None:
            response = client.post(
                images_url(slug), {"image": upload("photo.jpg", photo)}, format="multipart"
            )
            assert response.status_code == 201, response.json()
        return dict(client.get(ad_url(slug)).json())

    return post


def verdict(ad: dict[str, Any]) -> tuple[str, str | None]:
    return ad["status"], ad["moderation_reason"]


# --- stolen photos: another seller's ad -------------------------------------------------------


def test_another_sellers_photo_uploaded_again_holds_the_ad_as_duplicate(
    listed, post_ad, seller, buyer, stranger, client_for, api
):
    original = listed(buyer, jpeg(1))

    copy = post_ad(seller, jpeg(1))

    assert verdict(copy) == HELD  # what the owner reads on their ad
    mine = client_for(seller).get(ADS + "my-ads/").json()["results"]
    assert [(a["id"], a["status"], a["moderation_reason"]) for a in mine] == [
        (copy["id"], "pending", "duplicate")
    ]
    assert copy["id"] not in public_ids(api)
    assert client_for(stranger).get(ad_url(copy["slug"])).status_code == 404
    assert Ad.objects.get(pk=original.pk).status == AdStatus.ACTIVE  # the original is untouched
    held = AuditEntry.objects.get(
        target_id=copy["id"], action="ads.status.pending", data__note="photo duplicate"
    )
    assert held.data["reason"] == "duplicate"


@pytest.mark.parametrize("edit", list(photo_corpus.EDITS))
def test_an_edited_copy_of_the_photo_is_still_caught(listed, post_ad, seller, buyer, edit):
    listed(buyer, jpeg(2))

    copy = post_ad(seller, photo_corpus.EDITS[edit](photo_corpus.photo(2)))

    assert verdict(copy) == HELD


def test_an_unrelated_photo_is_approved(listed, post_ad, seller, buyer):
    listed(buyer, jpeg(3))
    listed(buyer, jpeg(4))

    assert verdict(post_ad(seller, jpeg(5))) == LIVE
    assert verdict(post_ad(seller)) == LIVE  # and an ad without photos


def test_blank_photos_never_match(listed, post_ad, seller, buyer):
    """A flat picture has no usable hash (every flat picture hashes the same): two sellers'
    blank photos are not the same photo."""
    listed(buyer, blank())

    assert verdict(post_ad(seller, blank((20, 20, 20)))) == LIVE
    assert AdImage.objects.filter(phash__isnull=False).count() == 0


def test_the_photo_of_one_ad_among_several_is_enough(listed, post_ad, seller, buyer, client_for):
    listed(buyer, jpeg(6))
    ad = post_ad(seller, jpeg(7))
    assert verdict(ad) == LIVE

    client = client_for(seller)
    response = client.post(
        images_url(ad["slug"]), {"image": upload("p.jpg", jpeg(6))}, format="multipart"
    )

    assert response.status_code == 201  # the upload itself succeeds...
    assert verdict(client.get(ad_url(ad["slug"])).json()) == HELD  # ...and the ad is held


@pytest.mark.parametrize(
    ("status", "days_ago", "held"),
    [
        (AdStatus.ACTIVE, 0, True),
        (AdStatus.PENDING, 0, True),
        (AdStatus.SOLD, 0, True),
        (AdStatus.EXPIRED, 0, True),
        (AdStatus.HIDDEN, 0, True),
        (AdStatus.REJECTED, 0, True),
        (AdStatus.ACTIVE, 200, True),  # live ads count however old
        (AdStatus.DRAFT, 0, False),  # never shown to anyone
        (AdStatus.EXPIRED, 31, False),
        (AdStatus.SOLD, 31, False),  # older than the window
    ],
)
def test_which_of_another_sellers_ads_count(listed, post_ad, seller, buyer, status, days_ago, held):
    listed(buyer, jpeg(8), status=status, created_at=timezone.now() - timedelta(days=days_ago))

    assert verdict(post_ad(seller, jpeg(8))) == (HELD if held else LIVE)


def test_a_deleted_ad_does_not_count(listed, post_ad, seller, buyer):
    original = listed(buyer, jpeg(9))
    ad_services.delete_ad(ad=original, by=buyer)

    assert verdict(post_ad(seller, jpeg(9))) == LIVE


def test_the_window_is_a_setting(listed, post_ad, seller, buyer, settings):
    listed(buyer, jpeg(10), status=AdStatus.SOLD, created_at=timezone.now() - timedelta(days=10))
    settings.MODERATION_PHOTO_DUPLICATE_DAYS = 7

    assert verdict(post_ad(seller, jpeg(10))) == LIVE


# --- the same seller posting the same item twice ----------------------------------------------


def test_the_owners_other_active_ad_with_that_photo_holds_the_new_one(post_ad, seller):
    first = post_ad(seller, jpeg(11))
    assert verdict(first) == LIVE

    second = post_ad(seller, photo_corpus.EDITS["half size"](photo_corpus.photo(11)))

    assert verdict(second) == HELD
    assert Ad.objects.get(pk=first["id"]).status == AdStatus.ACTIVE


@pytest.mark.parametrize(
    "status", [AdStatus.SOLD, AdStatus.EXPIRED, AdStatus.DRAFT, AdStatus.REJECTED, AdStatus.HIDDEN]
)
def test_the_owners_ads_that_are_not_live_do_not_count(listed, post_ad, seller, status):
    """Re-listing a sold or expired item with its old photo is fine."""
    listed(seller, jpeg(12), status=status)

    assert verdict(post_ad(seller, jpeg(12))) == LIVE


def test_photos_of_the_same_ad_do_not_match_each_other(post_ad, seller, client_for):
    ad = post_ad(seller, jpeg(13))
    client = client_for(seller)
    response = client.post(
        images_url(ad["slug"]), {"image": upload("p.jpg", jpeg(13))}, format="multipart"
    )
    assert response.status_code == 201

    assert verdict(client.get(ad_url(ad["slug"])).json()) == LIVE


# --- through the pipeline, the setting, and a rule that fails ---------------------------------


def test_a_draft_with_a_copied_photo_is_held_when_published(
    listed, post_ad, seller, buyer, client_for
):
    listed(buyer, jpeg(14))
    draft = post_ad(seller, jpeg(14), draft=True)
    assert verdict(draft) == ("draft", None)  # drafts are not checked

    client = client_for(seller)
    response = client.patch(ad_url(draft["slug"]), {"status": "active"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    assert verdict(client.get(ad_url(draft["slug"])).json()) == HELD
    assert AuditEntry.objects.filter(
        target_id=draft["id"], action="ads.moderation.held", data__reason="duplicate"
    ).exists()


def test_the_distance_is_a_setting(listed, post_ad, seller, buyer, settings):
    original = photo_corpus.photo(32)
    edited = photo_corpus.EDITS["shrunk, brighter, recompressed"](original)
    distance = photos.hamming(
        photos.perceptual_hash(io.BytesIO(jpeg(32))), photos.perceptual_hash(io.BytesIO(edited))
    )
    assert 0 < distance <= 6
    listed(buyer, jpeg(32))

    settings.MODERATION_PHOTO_DUPLICATE_DISTANCE = distance - 1
    assert verdict(post_ad(seller, edited)) == LIVE
    settings.MODERATION_PHOTO_DUPLICATE_DISTANCE = distance
    assert verdict(post_ad(seller, edited)) == HELD


def test_left_out_of_moderation_rules_it_does_not_run(listed, post_ad, seller, buyer, settings):
    listed(buyer, jpeg(16))
    settings.MODERATION_RULES = ["apps.moderation.checks.contact_details"]

    assert verdict(post_ad(seller, jpeg(16))) == LIVE
    draft = post_ad(seller, jpeg(16), draft=True)
    ad_services.change_ad_status(
        ad_id=draft["id"], to=AdStatus.PENDING, actor=Actor.OWNER, by=seller, moderate=False
    )
    ad_services.approve_after_checks(ad_id=draft["id"])
    assert Ad.objects.get(pk=draft["id"]).status == AdStatus.ACTIVE


def test_a_failing_photo_rule_never_approves_and_is_logged(
    listed, post_ad, seller, buyer, settings, caplog, client_for
):
    listed(buyer, jpeg(17))
    settings.MODERATION_PHOTO_DUPLICATE_DISTANCE = 64  # out of range: the rule raises
    draft = post_ad(seller, jpeg(17), draft=True)

    with caplog.at_level(logging.ERROR):
        response = client_for(seller).patch(ad_url(draft["slug"]), {"status": "active"})

    assert response.status_code == 200
    ad = client_for(seller).get(ad_url(draft["slug"])).json()
    assert verdict(ad) == ("pending", None)  # held without a verdict, never approved
    assert any(
        "automatic moderation failed" in r.getMessage()
        and r.exc_info
        and "MODERATION_PHOTO_DUPLICATE_DISTANCE" in str(r.exc_info[1])
        for r in caplog.records
    )
    assert not AuditEntry.objects.filter(target_id=ad["id"], action="ads.status.active").exists()

    settings.MODERATION_PHOTO_DUPLICATE_DISTANCE = 6  # fixed: the next sweep holds it
    ad_services.approve_after_checks(ad_id=ad["id"])
    assert (Ad.objects.get(pk=ad["id"]).status, Ad.objects.get(pk=ad["id"]).moderation_reason) == (
        "pending",
        "duplicate",
    )


def test_a_failing_photo_check_after_upload_leaves_a_live_ad_live_and_logs(
    listed, post_ad, seller, buyer, settings, caplog, client_for
):
    listed(buyer, jpeg(18))
    ad = post_ad(seller)
    assert verdict(ad) == LIVE
    settings.MODERATION_PHOTO_DUPLICATE_DISTANCE = -1

    with caplog.at_level(logging.ERROR, logger="apps.moderation.services"):
        response = client_for(seller).post(
            images_url(ad["slug"]), {"image": upload("p.jpg", jpeg(18))}, format="multipart"
        )

    assert response.status_code == 201
    assert verdict(client_for(seller).get(ad_url(ad["slug"])).json()) == LIVE
    assert any("photo check failed" in r.getMessage() and r.exc_info for r in caplog.records)

    settings.MODERATION_PHOTO_DUPLICATE_DISTANCE = 6  # fixed: checking again holds it
    moderation_services.check_ad_photos(ad_id=ad["id"])
    assert verdict(client_for(seller).get(ad_url(ad["slug"])).json()) == HELD


def test_a_held_ad_is_left_alone_by_the_photo_check(listed, post_ad, seller, buyer, client_for):
    listed(buyer, jpeg(19))
    ad = post_ad(seller, jpeg(19))
    assert verdict(ad) == HELD
    audit = AuditEntry.objects.filter(target_id=ad["id"]).count()

    moderation_services.check_ad_photos(ad_id=ad["id"])  # the task delivered twice

    assert verdict(client_for(seller).get(ad_url(ad["slug"])).json()) == HELD
    assert AuditEntry.objects.filter(target_id=ad["id"]).count() == audit


# --- hashes: stored on upload, backfilled, looked up by band ----------------------------------


def test_the_hash_is_stored_with_the_photo(post_ad, seller):
    ad = post_ad(seller, jpeg(20))

    stored = AdImage.objects.get(ad_id=ad["id"])
    assert stored.phash == photos.perceptual_hash(io.BytesIO(jpeg(20)))
    assert stored.phash is not None and -(2**63) <= stored.phash < 2**63


def test_photos_without_a_hash_get_one_when_their_ad_is_checked(listed, post_ad, seller, buyer):
    original = listed(buyer, jpeg(21))
    AdImage.objects.filter(ad=original).update(phash=None)  # stored before hashes existed
    copy = listed(seller, jpeg(21), status=AdStatus.PENDING)
    AdImage.objects.filter(ad=copy).update(phash=None)

    ad_services.approve_after_checks(ad_id=copy.pk)  # hashes its own photos, not the others'

    assert (Ad.objects.get(pk=copy.pk).status, Ad.objects.get(pk=copy.pk).moderation_reason) == (
        "active",
        None,
    )
    assert AdImage.objects.get(ad=copy).phash is not None
    assert AdImage.objects.get(ad=original).phash is None


def test_backfill_hashes_what_it_can_read_and_skips_the_rest(listed, seller, buyer):
    readable = listed(buyer, jpeg(22))
    AdImage.objects.filter(ad=readable).update(phash=None)
    named_only = listed(buyer)
    AdImage.objects.create(
        ad=named_only, file="ads/2025/01/bench-only.jpg", width=1280, height=960
    )  # what bench/generate.py writes: a name, no file
    flat = listed(buyer, blank())
    out = io.StringIO()

    call_command("backfill_photo_hashes", "--batch", "1", stdout=out)

    assert out.getvalue().strip() == (
        "1 photo(s) hashed, 1 flat (no usable hash), 1 skipped (missing or unreadable)"
    )
    assert AdImage.objects.get(ad=readable).phash == photos.perceptual_hash(io.BytesIO(jpeg(22)))
    assert AdImage.objects.get(ad=named_only).phash is None
    assert AdImage.objects.get(ad=flat).phash is None
    # A second run finds only what it could not read.
    out = io.StringIO()
    call_command("backfill_photo_hashes", stdout=out)
    assert out.getvalue().strip() == (
        "0 photo(s) hashed, 1 flat (no usable hash), 1 skipped (missing or unreadable)"
    )


@pytest.mark.parametrize("distance", [3, 6, 7, 11, 15])
def test_every_hash_within_the_distance_shares_a_candidate_band(distance):
    """The pigeonhole behind the lookup, on 2,000 random pairs per distance: flipping up to
    `distance` bits always leaves some band within floor(distance / 4) bits."""
    rng = random.Random(distance)
    for _ in range(2000):
        mine = photos.to_signed(rng.getrandbits(64))
        flips = rng.sample(range(64), rng.randint(0, distance))
        theirs = photos.to_signed(photos.to_unsigned(mine) ^ sum(1 << bit for bit in flips))
        assert photos.hamming(mine, theirs) == len(flips)
        bands = photos.candidate_bands([mine], distance)
        assert any(photos.band(theirs, i) in bands[i] for i in range(photos.BANDS))


def test_band_values_match_the_sql_expressions():
    value = photos.to_signed(0xFEDC_BA98_7654_3210)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (%(v)s::bigint >> 48) & 65535, (%(v)s::bigint >> 32) & 65535, "
            "(%(v)s::bigint >> 16) & 65535, (%(v)s::bigint >> 0) & 65535, "
            "bit_count((%(v)s::bigint # %(w)s::bigint)::bit(64))",
            {"v": value, "w": photos.to_signed(0x7EDC_BA98_7654_3211)},
        )
        row = cursor.fetchone()
    assert (
        list(row[:4])
        == [photos.band(value, i) for i in range(4)]
        == [0xFEDC, 0xBA98, 0x7654, 0x3210]
    )
    assert row[4] == 2


def test_the_candidates_come_from_the_band_indexes(listed, seller, buyer, catalog, make_user):
    """EXPLAIN over 20,000 stored hashes (4,000 ads of 40 sellers): a BitmapOr of the four band
    indexes, never a scan of every photo (the 100,000 figure: test_photo_rule_bench.py)."""
    sellers = [make_user() for _ in range(40)]
    now = timezone.now()
    ads = Ad.objects.bulk_create(
        [
            Ad(
                owner=sellers[i % 40],
                category=catalog.phones,
                title=f"Phone {i}",
                description="",
                price=Decimal("1000"),
                status=AdStatus.ACTIVE,
                slug=f"explain-{i}",
                published_at=now,
            )
            for i in range(4000)
        ]
    )
    rng = random.Random(1)
    AdImage.objects.bulk_create(
        [
            AdImage(
                ad=ads[i % 4000],
                file=f"ads/bench/{i}.jpg",
                width=1280,
                height=960,
                phash=photos.to_signed(rng.getrandbits(64)),
            )
            for i in range(20000)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ads_ad")
        cursor.execute("ANALYZE ads_adimage")
    suspect = listed(seller, jpeg(23))
    hashes = checks.photo_hashes(suspect)
    bands = photos.candidate_bands(hashes, 6)
    params: dict[str, Any] = {f"band{i}": values for i, values in enumerate(bands)}
    params.update(
        hashes=hashes,
        distance=6,
        ad=suspect.pk,
        owner=seller.pk,
        since=timezone.now() - timedelta(days=30),
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + checks.PHOTO_DUPLICATE_SQL, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    for band in range(4):
        assert f"adimage_phash_band{band}_idx" in plan, plan
    assert "Seq Scan on ads_adimage" not in plan, plan


# --- the false-positive rate on distinct photos -----------------------------------------------


def test_false_positive_rate_on_500_distinct_generated_photos(capsys, settings):
    """500 generated photos (gradients, shapes, noise), all distinct: how many would be held as
    another's duplicate at the default distance, and how many edited copies are still caught."""
    distance = settings.MODERATION_PHOTO_DUPLICATE_DISTANCE
    originals = [photo_corpus.photo(seed) for seed in range(1000, 1500)]
    hashes = [photos.perceptual_hash(io.BytesIO(photo_corpus.encoded(p))) for p in originals]
    usable = [(p, h) for p, h in zip(originals, hashes, strict=True) if h is not None]
    near = [
        (i, j)
        for (i, (_, a)), (j, (_, b)) in itertools.combinations(enumerate(usable), 2)
        if photos.hamming(a, b) <= distance
    ]
    flagged = {i for pair in near for i in pair}
    caught = total = 0
    for image, value in usable[:40]:
        for edit in photo_corpus.EDITS.values():
            total += 1
            edited = photos.perceptual_hash(io.BytesIO(edit(image)))
            caught += edited is not None and photos.hamming(edited, value) <= distance
    with capsys.disabled():
        print(
            f"\nphoto_duplicate at distance {distance}: {len(flagged)}/{len(usable)} distinct "
            f"photos within reach of another ({len(near)} of "
            f"{len(usable) * (len(usable) - 1) // 2} pairs; {500 - len(usable)} flat, not "
            f"hashed); edited copies caught {caught}/{total}"
        )
    assert len(usable) >= 495
    assert len(flagged) / len(usable) <= 0.01
    assert caught / total >= 0.95
