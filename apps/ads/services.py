"""Ad writes: create, edit, the lifecycle, photos, favourites, views and expiry."""

from __future__ import annotations

import logging
import secrets
import string
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify

from apps.ads import status as lifecycle
from apps.ads.models import DAILY_COUNTERS, Ad, AdImage, AdStatus, Favorite, ModerationReason
from apps.ads.status import Actor
from apps.categories import attribute_schema
from apps.categories import services as category_services
from apps.categories.models import Category
from apps.common import dispatch, outbox
from apps.common.audit import audit_entries, record_action
from apps.common.errors import Conflict, FieldError
from apps.common.images import sanitize_image
from apps.common.models import AuditEntry, OutboxTask
from apps.search import services as search_services
from apps.users.models import User

logger = logging.getLogger(__name__)
RESERVED_SLUGS = {"search", "favorites", "my-ads", "saved-searches"}
REMODERATED_FIELDS = {"title", "description", "price", "category"}
EDITABLE_FIELDS = (
    "title",
    "description",
    "category",
    "location",
    "price",
    "currency",
    "negotiable",
    "condition",
    "attributes",
    "show_phone",
)
SLUG_ALPHABET = string.ascii_lowercase + string.digits


class InvalidTransition(Conflict):
    default_code = "ad_invalid_transition"
    default_detail = "The ad cannot move to that status from its current one."


# --- creating and editing ---------------------------------------------------------------------


def new_slug(title: str) -> str:
    base = slugify(title)[:100].strip("-") or "ad"
    suffix = "".join(secrets.choice(SLUG_ALPHABET) for _ in range(6))
    return f"{base}-{suffix}"  # the suffix keeps it unique and never a reserved word


def check_category(category: Category) -> None:
    # `has_live_children`: annotated by the input serializer's queryset (the same query as
    # `children.exists()`, made while reading the category), so posting reads it only once.
    has_children = getattr(category, "has_live_children", None)
    if has_children is None:
        has_children = category.children.exists()
    if has_children:
        raise FieldError("category", "Choose a category without subcategories.", "invalid_choice")


def create_ad(*, owner: User, draft: bool = False, **fields: Any) -> Ad:
    """A new ad, a draft or submitted (pending, its moderation queued on commit).

    Submitting is the lifecycle's draft -> pending move by the owner, made in the INSERT
    itself: the same row, audit entries ("ads.created", then "ads.status.pending") and task
    as creating a draft and then calling change_ad_status(), in one write instead of a draft
    INSERT, a locked re-read and an UPDATE (each write of ads_ad also runs the search
    triggers, the generated search vector and every index).

    The ad, its audit entries and its outbox rows are written by one statement (see
    `insert_together`): atomic on its own, so no transaction of its own either (inside a
    caller's transaction it is part of that one, and the tasks go on its commit)."""
    category: Category = fields["category"]
    check_category(category)
    fields["attributes"] = attribute_schema.validate_ad_attributes(
        category, fields.get("attributes") or {}
    )
    status = AdStatus.DRAFT if draft else AdStatus.PENDING
    if not draft and not lifecycle.is_allowed(AdStatus.DRAFT, status, Actor.OWNER):
        raise InvalidTransition()
    ad = Ad(owner=owner, slug=new_slug(fields["title"]), status=status, **fields)
    entries: list[tuple[str, dict[str, Any] | None]] = [("ads.created", None)]
    tasks: list[OutboxTask] = []
    if not draft:
        # What change_ad_status(DRAFT -> PENDING) records and queues; nothing was live, so no
        # counts move (a pending ad is not live).
        entries.append(
            (
                f"ads.status.{status.value}",
                {
                    "from": AdStatus.DRAFT.value,
                    "actor": Actor.OWNER.value,
                    "note": "",
                    "reason": None,
                },
            )
        )
        from apps.ads import tasks as ad_tasks

        tasks += search_services.sync_task_rows(ad_ids=[ad.pk])
        tasks.append(outbox.build(ad_tasks.moderate_ad, (str(ad.pk),)))
    audit = audit_entries(ad, entries, actor=owner)
    if not insert_together(ad, audit, tasks):
        with transaction.atomic():  # a value only the ORM can write (an expression)
            ad.save(force_insert=True)
            AuditEntry.objects.bulk_create(audit)
            for row in tasks:
                row.save(force_insert=True)
            outbox.track(tasks)
    return ad


# Columns Django writes on INSERT, per model: every concrete field but generated ones and an
# auto-incremented id (the database numbers it).
_INSERT_FIELDS: dict[type[models.Model], list[models.Field[Any, Any]]] = {}


def _insert_values(objs: list[Any]) -> tuple[str, list[Any]] | None:
    """`INSERT INTO table (cols) VALUES (%s, ...), ...` of unsaved instances of one model, one
    row each in the given order, with the parameters Django's save() would send (defaults,
    auto_now_add stamps set on the instances); None when one of them is an expression (only
    the ORM compiles those)."""
    meta = objs[0]._meta
    fields = _INSERT_FIELDS.get(type(objs[0]))
    if fields is None:
        fields = [
            f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field
        ]
        _INSERT_FIELDS[type(objs[0])] = fields
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
    if any(hasattr(value, "resolve_expression") for value in params):
        return None
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    # Table and column names from the model's meta; the values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(objs))}"
    )
    return sql, params


def insert_together(ad: Ad, audit: list[AuditEntry], tasks: list[OutboxTask]) -> bool:
    """The new ad, its audit entries and its outbox rows in ONE statement (data-modifying
    CTEs: all of it is written or none), the rows' ids read back; the outbox rows then go
    to the broker after the commit (`outbox.track`). False, with nothing written, when a value
    needs the ORM (the caller then saves through it).

    Each model's rows are one multi-row INSERT, numbered in the order given (as bulk_create's
    are): the CTEs themselves run in no set order."""
    groups: list[list[Any]] = [[ad], audit, tasks]
    parts = [_insert_values(group) for group in groups if group]
    if any(part is None for part in parts):
        return False
    inserts = cast(list[tuple[str, list[Any]]], parts)
    *first, last = inserts
    with_clause = ", ".join(f'"w{i}" AS ({sql})' for i, (sql, _params) in enumerate(first))
    returning = ' RETURNING "id"' if tasks else ""
    sql = f"WITH {with_clause} {last[0]}{returning}" if first else last[0] + returning
    params = [value for _sql, values in inserts for value in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()] if tasks else []
    for obj in (ad, *audit, *tasks):
        obj._state.adding = False
        obj._state.db = connection.alias
    for task_row, row_id in zip(tasks, ids, strict=True):
        task_row.pk = row_id
    outbox.track(tasks)
    return True


@transaction.atomic
def update_ad(*, ad: Ad, by: User, changes: dict[str, Any]) -> Ad:
    """Apply the editable fields; a live ad whose title, description, price or category
    changes goes back through moderation."""
    ad = Ad.objects.select_for_update().get(pk=ad.pk)
    edits = {
        field: value
        for field, value in changes.items()
        if field in EDITABLE_FIELDS
        and getattr(ad, field if field != "category" else "category_id")
        != (value.pk if field == "category" else value)
    }
    if "category" in edits:
        check_category(edits["category"])
    category = edits.get("category", ad.category)
    if "attributes" in changes or "category" in edits:
        cleaned = attribute_schema.validate_ad_attributes(
            category, changes.get("attributes", ad.attributes) or {}
        )
        if cleaned != ad.attributes:
            edits["attributes"] = cleaned
        else:
            edits.pop("attributes", None)
    if not edits:
        return ad
    if ad.status == AdStatus.ACTIVE and REMODERATED_FIELDS & edits.keys():
        # Leave the live state first, so the counts move off the old category.
        change_ad_status(ad_id=ad.pk, to=AdStatus.PENDING, actor=Actor.SYSTEM, by=by, note="edited")
        ad.refresh_from_db()
    old_price = ad.price
    for field, value in edits.items():
        setattr(ad, field, value)
    ad.save(update_fields=[*edits.keys(), "updated_at"])
    if "price" in edits and edits["price"] < old_price:
        from apps.ads import tasks

        dispatch.enqueue(tasks.notify_price_drop, ad.pk, str(old_price))
    search_services.schedule_sync(ad_ids=[ad.pk])
    record_action(ad, "ads.edited", actor=by, data={"fields": sorted(edits)})
    return ad


@transaction.atomic
def edit_ad(*, ad: Ad, by: User, changes: dict[str, Any], requested_status: str | None) -> Ad:
    """PUT/PATCH: field edits and an optional status request, all or nothing."""
    ad = update_ad(ad=ad, by=by, changes=changes)
    if requested_status is not None:
        ad = request_status(ad=ad, by=by, requested=requested_status)
    return ad


def request_status(*, ad: Ad, by: User, requested: str) -> Ad:
    """The owner's PATCH {"status": ...}: same value is a no-op, unknown values 400, a known
    value from a status it cannot follow 409."""
    not_allowed = FieldError("status", f'"{requested}" is not a valid choice.', "invalid_choice")
    try:
        target = AdStatus(requested)
    except ValueError as exc:
        raise not_allowed from exc
    if target == ad.status:
        return ad
    moves = lifecycle.OWNER_REQUESTS.get(target)
    if moves is None:
        raise not_allowed
    if ad.status not in moves:
        raise InvalidTransition()
    return change_ad_status(ad_id=ad.pk, to=moves[AdStatus(ad.status)], actor=Actor.OWNER, by=by)


# --- the lifecycle ----------------------------------------------------------------------------


def is_live(status: str, deleted_at: Any) -> bool:
    return status == AdStatus.ACTIVE and deleted_at is None


@transaction.atomic
def change_ad_status(
    *,
    ad_id: UUID,
    to: AdStatus,
    actor: Actor,
    by: User | None = None,
    note: str = "",
    reason: ModerationReason | None = None,
    moderate: bool = True,
) -> Ad:
    """The only writer of Ad.status: checks the move, stamps dates, keeps counts, audits.

    A move to pending queues the automatic checks unless `moderate` is False (held by reports:
    only staff release it)."""
    ad = Ad.objects.select_for_update().get(pk=ad_id)
    current = AdStatus(ad.status)
    if ad.deleted_at is not None or not lifecycle.is_allowed(current, to, actor):
        raise InvalidTransition()
    now = timezone.now()
    was_live = is_live(ad.status, ad.deleted_at)
    ad.status = to
    if to == AdStatus.ACTIVE:
        ad.moderation_reason = None
        if ad.published_at is None or ad.expires_at is None or ad.expires_at <= now:
            ad.published_at = now  # first publication, or a renewal that bumps the ad
            ad.expires_at = now + timedelta(days=settings.AD_LIFETIME_DAYS)
            ad.expiry_warned_at = None
    elif to in (AdStatus.PENDING, AdStatus.REJECTED, AdStatus.HIDDEN):
        ad.moderation_reason = reason
    elif to == AdStatus.DRAFT:
        ad.moderation_reason = None
    if to in (AdStatus.SOLD, AdStatus.EXPIRED, AdStatus.HIDDEN, AdStatus.DRAFT):
        end_promotion(ad)
    ad.save(
        update_fields=[
            "status",
            "moderation_reason",
            "published_at",
            "expires_at",
            "expiry_warned_at",
            "promotion_tier",
            "promotion_until",
            "updated_at",
        ]
    )
    adjust_live_counts(ad, was_live=was_live, now_live=is_live(ad.status, ad.deleted_at))
    search_services.schedule_sync(ad_ids=[ad.pk])
    record_action(
        ad,
        f"ads.status.{to.value}",
        actor=by,
        data={
            "from": current.value,
            "actor": actor.value,
            "note": note,
            "reason": reason.value if reason else None,
        },
    )
    if to == AdStatus.PENDING and moderate:
        from apps.ads import tasks

        dispatch.enqueue(tasks.moderate_ad, ad.pk)
    return ad


def end_promotion(ad: Ad) -> None:
    ad.promotion_tier = 0
    ad.promotion_until = None


def adjust_live_counts(ad: Ad, *, was_live: bool, now_live: bool) -> None:
    """Category ad_count and the owner's active_ads_count follow the ad in one transaction."""
    if was_live == now_live:
        return
    delta = 1 if now_live else -1
    category_services.adjust_ad_counts(category_id=ad.category_id, delta=delta)
    User.objects.filter(pk=ad.owner_id).update(active_ads_count=F("active_ads_count") + delta)


@transaction.atomic
def delete_ad(*, ad: Ad, by: User) -> None:
    """Soft delete: the row stays for conversations, reports and the audit log."""
    ad = Ad.objects.select_for_update().get(pk=ad.pk)
    if ad.deleted_at is not None:
        return
    was_live = is_live(ad.status, ad.deleted_at)
    ad.deleted_at = timezone.now()
    end_promotion(ad)
    ad.save(update_fields=["deleted_at", "promotion_tier", "promotion_until", "updated_at"])
    adjust_live_counts(ad, was_live=was_live, now_live=False)
    search_services.schedule_sync(ad_ids=[ad.pk])
    record_action(ad, "ads.deleted", actor=by)


def approve_after_checks(*, ad_id: UUID) -> Ad | None:
    """The automatic moderation's verdict for a pending ad (rules arrive with moderation)."""
    from apps.moderation import checks

    # A suspended owner's ad waits (the stuck-ads sweep checks it once they are unsuspended).
    ad = (
        Ad.objects.filter(
            pk=ad_id,
            status=AdStatus.PENDING,
            deleted_at__isnull=True,
            moderation_reason__isnull=True,
            owner__is_suspended=False,
        )
        .select_related("category")
        .first()
    )
    if ad is None:
        return None
    try:
        reason = checks.first_problem(ad)
    except Exception:  # a broken rule must never approve an ad: it stays pending
        logger.exception("automatic moderation failed for ad %s", ad.pk)
        return ad
    with transaction.atomic():
        # The rules ran without a lock: a photo check or a report may have held the ad meanwhile.
        locked = Ad.objects.select_for_update().get(pk=ad.pk)
        if locked.status != AdStatus.PENDING or locked.moderation_reason is not None:
            return locked
        if reason is not None:
            locked.moderation_reason = reason
            locked.save(update_fields=["moderation_reason", "updated_at"])
            record_action(locked, "ads.moderation.held", data={"reason": reason})
            return locked
        return change_ad_status(
            ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.SYSTEM, note="automatic checks passed"
        )


def expire_due_ads(*, now: Any = None, limit: int = 500) -> int:
    now = now or timezone.now()
    due = list(
        Ad.objects.filter(status=AdStatus.ACTIVE, deleted_at__isnull=True, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    for ad_id in due:
        try:
            change_ad_status(ad_id=ad_id, to=AdStatus.EXPIRED, actor=Actor.SYSTEM, note="expired")
        except InvalidTransition:
            continue  # changed meanwhile
    return len(due)


def warn_expiring_ads(*, now: Any = None, limit: int = 500) -> int:
    """One email per ad, 3 days before it expires."""
    from apps.notifications import services as notifications

    now = now or timezone.now()
    soon = now + timedelta(days=settings.AD_EXPIRY_WARNING_DAYS)
    sent = 0
    with transaction.atomic():
        ads = list(
            Ad.objects.select_for_update(skip_locked=True)
            .filter(
                status=AdStatus.ACTIVE,
                deleted_at__isnull=True,
                expiry_warned_at__isnull=True,
                expires_at__lte=soon,
                expires_at__gt=now,
            )
            .select_related("owner")[:limit]
        )
        for ad in ads:
            notifications.queue_email(
                to=ad.owner.email,
                subject=f"Your ad \u201c{ad.title}\u201d expires soon",
                body=(
                    f"Your ad \u201c{ad.title}\u201d expires on {ad.expires_at:%Y-%m-%d}. "
                    "Renew it from My ads to keep it online."
                ),
            )
            ad.expiry_warned_at = now
            ad.save(update_fields=["expiry_warned_at"])
            sent += 1
    return sent


# --- photos -----------------------------------------------------------------------------------


@transaction.atomic
def add_image(*, ad: Ad, upload: UploadedFile, by: User) -> AdImage:
    ad = Ad.objects.select_for_update().get(pk=ad.pk)
    if ad.images.count() >= settings.MAX_IMAGES_PER_AD:
        raise FieldError(
            "image",
            f"An ad may have at most {settings.MAX_IMAGES_PER_AD} images.",
            "too_many_images",
        )
    clean = sanitize_image(upload, attr="image")
    from apps.moderation import photos

    last = ad.images.aggregate(last=Max("order"))["last"]
    image = AdImage(
        ad=ad, order=0 if last is None else last + 1, phash=photos.perceptual_hash(clean.content)
    )
    image.file.save(clean.content.name, clean.content, save=False)
    image.save()
    record_action(ad, "ads.image.added", actor=by, data={"image": image.pk})
    from apps.ads import tasks
    from apps.moderation import tasks as moderation_tasks

    dispatch.enqueue(tasks.make_thumbnail, image.pk)
    # A photo added after the automatic checks ran (the usual order: post, then upload) is
    # checked on its own; an ad still waiting for them gets it checked with the rest.
    dispatch.enqueue(moderation_tasks.check_ad_photos, ad.pk)
    search_services.schedule_sync(ad_ids=[ad.pk])  # `has_images` is indexed (external search)
    return image


@transaction.atomic
def reorder_image(*, image: AdImage, order: int, by: User) -> AdImage:
    image.order = order
    image.save(update_fields=["order", "updated_at"])
    return image


@transaction.atomic
def delete_image(*, image: AdImage, by: User) -> None:
    files = [f for f in (image.file, image.thumbnail) if f]
    storage_names = [(f.storage, f.name) for f in files]
    record_action(image.ad, "ads.image.deleted", actor=by, data={"image": image.pk})
    ad_id = image.ad_id
    image.delete()
    search_services.schedule_sync(ad_ids=[ad_id])  # `has_images` is indexed (external search)

    def remove_files() -> None:
        for storage, name in storage_names:
            storage.delete(name)

    transaction.on_commit(remove_files)


def make_thumbnail(*, image_id: int) -> bool:
    """Idempotent: an image that has its thumbnail is left alone."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    image = AdImage.objects.filter(pk=image_id).first()
    if image is None or image.thumbnail:
        return False
    with image.file.open("rb") as handle, Image.open(handle) as source:
        source.thumbnail((settings.THUMBNAIL_SIZE, settings.THUMBNAIL_SIZE))
        buffer = io.BytesIO()
        fmt = source.format or "JPEG"
        source.save(buffer, fmt, quality=80)
    name = image.file.name.rsplit("/", 1)[-1]
    image.thumbnail.save(name, ContentFile(buffer.getvalue()), save=False)
    AdImage.objects.filter(pk=image.pk).update(thumbnail=image.thumbnail.name)
    return True


# --- favourites -------------------------------------------------------------------------------


def add_favorite(*, user: User, ad: Ad) -> tuple[Favorite, bool]:
    with transaction.atomic():
        favorite, created = Favorite.objects.get_or_create(user=user, ad=ad)
        if created:
            Ad.objects.filter(pk=ad.pk).update(favorites_count=F("favorites_count") + 1)
            bump_daily_stats(ad_id=ad.pk, favorites=1)
    return favorite, created


@transaction.atomic
def remove_favorite(*, user: User, ad_id: UUID) -> bool:
    deleted, _ = Favorite.objects.filter(user=user, ad_id=ad_id).delete()
    if deleted:
        Ad.objects.filter(pk=ad_id, favorites_count__gt=0).update(
            favorites_count=F("favorites_count") - 1
        )
        bump_daily_stats(ad_id=ad_id, favorites=-1)  # the day's favourites are net adds
    return deleted > 0


def notify_price_drop(*, ad_id: UUID, old_price: str) -> int:
    """Email everyone who favourited the ad (but its owner) that its price went down."""
    from apps.notifications import services as notifications

    ad = Ad.objects.filter(pk=ad_id, status=AdStatus.ACTIVE, deleted_at__isnull=True).first()
    if ad is None:
        return 0
    emails = list(
        Favorite.objects.filter(ad=ad, user__is_active=True, user__is_suspended=False)
        .exclude(user_id=ad.owner_id)
        .values_list("user__email", flat=True)
    )
    with transaction.atomic():
        for email in emails:
            notifications.queue_email(
                to=email,
                subject=f"Price drop: {ad.title}",
                body=(
                    f"\u201c{ad.title}\u201d, in your favourites, now costs KES "
                    f"{ad.price:,.2f} (was KES {Decimal(old_price):,.2f}).\n/api/ads/{ad.slug}/"
                ),
            )
    return len(emails)


# --- counters ---------------------------------------------------------------------------------


@transaction.atomic
def reveal_phone(*, ad: Ad) -> str | None:
    Ad.objects.filter(pk=ad.pk).update(phone_reveals_count=F("phone_reveals_count") + 1)
    bump_daily_stats(ad_id=ad.pk, phone_reveals=1)
    return ad.owner.phone


# --- daily stats (the seller's analytics, models.AdDailyStats) ---------------------------------

# One statement, no read before the write: concurrent writers of the same (ad, day) wait for
# each other on that one row (for the rest of their transaction), never on a row lock taken
# per event up front. Selecting from ads_ad skips an ad that no longer exists (no FK error)
# and lets the caller exclude the ad's owner without a query of its own.
_UPSERT_DAILY_STATS = """
    INSERT INTO ads_addailystats (ad_id, date, views, phone_reveals, favorites, messages)
    SELECT ads_ad.id, %(day)s, %(views)s, %(phone_reveals)s, %(favorites)s, %(messages)s
    FROM ads_ad WHERE ads_ad.id = %(ad_id)s AND ads_ad.owner_id IS DISTINCT FROM %(not_owner)s
    ON CONFLICT (ad_id, date) DO UPDATE SET
        views = ads_addailystats.views + excluded.views,
        phone_reveals = ads_addailystats.phone_reveals + excluded.phone_reveals,
        favorites = ads_addailystats.favorites + excluded.favorites,
        messages = ads_addailystats.messages + excluded.messages
"""


def utc_today() -> date:
    return datetime.now(UTC).date()


def bump_daily_stats(
    *, ad_id: UUID, day: date | None = None, not_owner: Any = None, **increments: int
) -> None:
    """Add `increments` (views, phone_reveals, favorites, messages) to the ad's row for the
    UTC day (today by default) in one upsert; with `not_owner`, only if that user does not
    own the ad. Views come in batches from views_counter.flush_view_counts instead."""
    unknown = set(increments) - set(DAILY_COUNTERS)
    if unknown:
        raise ValueError(f"unknown daily counters: {sorted(unknown)}")
    params: dict[str, Any] = {name: increments.get(name, 0) for name in DAILY_COUNTERS}
    params.update(ad_id=ad_id, day=day or utc_today(), not_owner=not_owner)
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_DAILY_STATS, params)


def count_message(*, ad_id: UUID, sender_id: Any) -> None:
    """Chat's hook (chat.services.store_message, for each new message, resends aside): the
    seller received a message about the ad, so it counts unless the sender owns the ad. Every
    such message counts, not only a buyer's first: follow-ups are interest too, and it costs
    no query to find out whether one is the first."""
    bump_daily_stats(ad_id=ad_id, not_owner=sender_id, messages=1)
