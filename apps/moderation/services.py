"""Reports, their resolution by staff, the staff queue of held ads, reviews of sellers (with
edits and the seller's reply), and the sellers' nightly response figures."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.ads import selectors as ad_selectors
from apps.ads import services as ad_services
from apps.ads.models import Ad, AdStatus, ModerationReason
from apps.ads.status import Actor
from apps.chat.models import Conversation, Message
from apps.common.audit import record_action
from apps.common.errors import Conflict, FieldError, Forbidden
from apps.moderation import checks
from apps.moderation import selectors as moderation_selectors
from apps.moderation.models import (
    Report,
    ReportAction,
    ReportStatus,
    Review,
    TargetType,
)
from apps.users import selectors as user_selectors
from apps.users import services as user_services
from apps.users.models import User

logger = logging.getLogger(__name__)


class Duplicate(Conflict):
    default_code = "duplicate"
    default_detail = "You already did this."


class EditWindowClosed(Conflict):
    default_code = "edit_window_closed"
    default_detail = "Reviews can be edited only in the first days after posting."


class NoConversation(Forbidden):
    default_code = "permission_denied"
    default_detail = "You can review a seller after a conversation with them."


# --- reports ----------------------------------------------------------------------------------


def resolve_target(*, reporter: User, target_type: str, target_id: str) -> Any:
    """The reported object as the reporter may see it, or a 400 on target_id."""
    target: Any = None
    if target_type == TargetType.AD:
        target = ad_selectors.get_public_ad_by_id(ad_id=target_id, viewer=reporter)
        if target is not None and target.owner_id == reporter.pk:
            raise FieldError("target_id", "You cannot report your own ad.", "invalid")
    elif target_type == TargetType.USER:
        target = user_selectors.get_public_user(user_id=target_id)
        if target is not None and target.pk == reporter.pk:
            raise FieldError("target_id", "You cannot report yourself.", "invalid")
    elif target_type == TargetType.MESSAGE and target_id.isascii() and target_id.isdigit():
        target = Message.objects.filter(
            pk=int(target_id), conversation__in=Conversation.objects.filter(
                buyer=reporter) | Conversation.objects.filter(seller=reporter)
        ).exclude(sender=reporter).first()
    if target is None:
        raise FieldError("target_id", "Nothing to report with this id.", "does_not_exist")
    return target


def create_report(*, reporter: User, target_type: str, target_id: str, reason: str,
                  details: str = "") -> Report:
    target = resolve_target(reporter=reporter, target_type=target_type, target_id=target_id)
    try:
        with transaction.atomic():
            if target_type == TargetType.AD:
                # Reports on one ad are filed one at a time, so the reporter count below sees
                # every report filed before this one (else two at once both count too few).
                target = Ad.objects.select_for_update().get(pk=target.pk)
            report = Report.objects.create(reporter=reporter, target_type=target_type,
                                           target_id=str(target.pk), reason=reason,
                                           details=details)
            record_action(report, "moderation.report.created", actor=reporter)
            if target_type == TargetType.AD:
                hold_if_reported_enough(ad=target)
    except IntegrityError as exc:
        raise Duplicate("You already have an open report on this.") from exc
    return report


def hold_if_reported_enough(*, ad: Ad) -> None:
    """Enough distinct reporters with open reports send a live ad back to pending."""
    reporters = (Report.objects.filter(target_type=TargetType.AD, target_id=str(ad.pk),
                                       status=ReportStatus.OPEN)
                 .values("reporter").distinct().count())
    if reporters >= settings.REPORT_HIDE_THRESHOLD and ad.status == AdStatus.ACTIVE:
        ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.PENDING, actor=Actor.SYSTEM,
                                     note="reported", reason=ModerationReason.REPORTED,
                                     moderate=False)


@transaction.atomic
def resolve_report(*, report: Report, staff: User, status: str, resolution_note: str = "",
                   action: str = ReportAction.NONE) -> Report:
    report = Report.objects.select_for_update().get(pk=report.pk)
    if action == ReportAction.HIDE_AD and report.target_type != TargetType.AD:
        raise FieldError("action", "hide_ad applies to ad reports only.", "invalid_choice")
    report.status = status
    report.resolution_note = resolution_note
    report.action = action
    report.resolved_at = timezone.now()
    report.resolved_by = staff
    report.save()
    record_action(report, f"moderation.report.{status}", actor=staff,
                  data={"action": action, "note": resolution_note})
    if action == ReportAction.HIDE_AD:
        hide_reported_ad(report=report, staff=staff)
    elif action == ReportAction.SUSPEND_USER:
        offender = reported_user(report)
        if offender is not None:
            user_services.suspend_user(user=offender, by=staff, note=resolution_note)
    if report.target_type == TargetType.AD:
        release_if_no_open_reports(ad_id=report.target_id, staff=staff)
    return report


def hide_reported_ad(*, report: Report, staff: User) -> None:
    ad = Ad.objects.filter(pk=report.target_id, deleted_at__isnull=True).first()
    if ad is not None and ad.status in (AdStatus.ACTIVE, AdStatus.PENDING):
        ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.HIDDEN, actor=Actor.STAFF,
                                     by=staff, note="report", reason=ModerationReason.STAFF)
    elif ad is not None and ad.status == AdStatus.HIDDEN:
        # Already hidden (its owner is suspended): record the staff decision, so ending the
        # suspension (apps.users.services.unsuspend_user) leaves this ad hidden.
        record_action(ad, f"ads.status.{AdStatus.HIDDEN.value}", actor=staff,
                      data={"from": ad.status, "actor": Actor.STAFF.value, "note": "report",
                            "reason": ModerationReason.STAFF.value})


def release_if_no_open_reports(*, ad_id: str, staff: User) -> None:
    """An ad held only because of reports goes back live once staff closed them all."""
    ad = Ad.objects.filter(pk=ad_id, deleted_at__isnull=True).first()
    if ad is None or ad.status != AdStatus.PENDING:
        return
    if ad.moderation_reason != ModerationReason.REPORTED:
        return
    still_open = Report.objects.filter(target_type=TargetType.AD, target_id=ad_id,
                                       status=ReportStatus.OPEN).exists()
    if still_open:
        return
    if User.objects.filter(pk=ad.owner_id, is_suspended=True).exists():
        # Never live while the owner is suspended: the reports are settled, so the ad waits,
        # pending without a reason, for the automatic checks once the owner is back.
        Ad.objects.filter(pk=ad.pk).update(moderation_reason=None, updated_at=timezone.now())
        record_action(ad, "ads.moderation.reports_closed", actor=staff,
                      data={"owner_suspended": True})
        return
    ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.STAFF,
                                 by=staff, note="reports closed")


def reported_user(report: Report) -> User | None:
    if report.target_type == TargetType.USER:
        return User.objects.filter(pk=report.target_id).first()
    if report.target_type == TargetType.AD:
        ad = Ad.objects.filter(pk=report.target_id).select_related("owner").first()
        return ad.owner if ad else None
    message = Message.objects.filter(pk=report.target_id).select_related("sender").first()
    return message.sender if message else None


# --- reviews ----------------------------------------------------------------------------------


def create_review(*, reviewer: User, seller_id: Any, ad_id: Any, rating: int,
                  comment: str) -> Review:
    """Checks in the contract's order: yourself, rating/ad, conversation, duplicate."""
    check_not_yourself(reviewer=reviewer, seller_id=seller_id)
    seller = user_selectors.get_public_user(user_id=seller_id)
    if seller is None:
        raise FieldError("seller", "Unknown seller.", "does_not_exist")
    check_rating(rating)
    ad = None
    if ad_id is not None:
        ad = Ad.objects.filter(pk=ad_id, owner=seller).first() if is_uuid(ad_id) else None
        if ad is None:
            raise FieldError("ad", "This ad is not the seller's.", "invalid")
    check_review_text(comment, attr="comment")  # a 400 too, so before the 403 below
    talked = Conversation.objects.filter(buyer=reviewer, seller=seller).exists() or (
        Conversation.objects.filter(buyer=seller, seller=reviewer).exists())
    if not talked:
        raise NoConversation()
    try:
        with transaction.atomic():
            review = Review.objects.create(reviewer=reviewer, seller=seller, ad=ad,
                                           rating=rating, comment=comment)
            User.objects.filter(pk=seller.pk).update(
                rating_count=F("rating_count") + 1, rating_total=F("rating_total") + rating)
            record_action(review, "moderation.review.created", actor=reviewer)
    except IntegrityError as exc:
        raise Duplicate("You already reviewed this seller for this ad.") from exc
    return review


def check_not_yourself(*, reviewer: User, seller_id: Any) -> None:
    """First of the review checks; the id in any spelling (upper case, braces) is the same."""
    from uuid import UUID

    try:
        same = UUID(str(seller_id).strip()) == reviewer.pk
    except ValueError:
        same = False
    if same:
        raise FieldError("seller", "You cannot review yourself.", "invalid")


def is_uuid(value: Any) -> bool:
    from uuid import UUID

    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def check_rating(rating: int) -> None:
    if not 1 <= rating <= 5:
        raise FieldError("rating", "Give a rating from 1 to 5.", "invalid")


def check_review_text(text: str, *, attr: str) -> None:
    """Reviews and replies follow the ads' text rules: no banned words, no contact details."""
    reason = checks.text_problem(text)
    if reason == ModerationReason.BANNED_WORD:
        raise FieldError(attr, "Remove the word our rules do not allow.", "invalid")
    if reason is not None:
        raise FieldError(attr, "Remove the phone number, email address or link.", "invalid")


@transaction.atomic
def edit_review(*, review: Review, reviewer: User, changes: dict[str, Any]) -> Review:
    """The reviewer's edit of `rating` and/or `comment` (the view checked 404 and 403): 400s
    first, then 409 `edit_window_closed` once REVIEW_EDIT_DAYS have passed. The seller's
    rating_total moves by the difference, in this transaction (no recount)."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if "rating" in changes:
        check_rating(changes["rating"])
    if "comment" in changes:
        check_review_text(changes["comment"], attr="comment")
    if timezone.now() > review.created_at + timedelta(days=settings.REVIEW_EDIT_DAYS):
        raise EditWindowClosed()
    edits = {field: value for field, value in changes.items()
             if field in ("rating", "comment") and getattr(review, field) != value}
    if not edits:
        return review
    before = {field: getattr(review, field) for field in edits}
    delta = edits.get("rating", review.rating) - review.rating
    for field, value in edits.items():
        setattr(review, field, value)
    review.save(update_fields=[*edits, "updated_at"])
    if delta:
        User.objects.filter(pk=review.seller_id).update(rating_total=F("rating_total") + delta)
    record_action(review, "moderation.review.edited", actor=reviewer,
                  data={"from": before, "to": edits})
    return review


@transaction.atomic
def reply_to_review(*, review: Review, seller: User, body: str) -> Review:
    """The reviewed seller's one reply (the view checked 404 and 403): 400 on a bad body,
    then 409 `duplicate` when they already replied (one conditional update: a race to reply
    twice stores one)."""
    check_review_text(body, attr="body")
    now = timezone.now()
    replied = Review.objects.filter(pk=review.pk, replied_at__isnull=True).update(
        reply_body=body, replied_at=now, updated_at=now)
    if not replied:
        raise Duplicate("You already replied to this review.")
    review.reply_body, review.replied_at = body, now
    record_action(review, "moderation.review.replied", actor=seller)
    return review


# --- photos added after the automatic checks ---------------------------------------------------

PHOTO_RULE = "apps.moderation.checks.photo_duplicate"


@transaction.atomic
def check_ad_photos(*, ad_id: Any) -> Ad | None:
    """Run the photo rule (when MODERATION_RULES has it) on an ad that received a photo.

    Photos are uploaded after the ad is posted, usually once the automatic checks have already
    approved it: a match then sends the live ad back to `pending` with reason `duplicate`
    (like enough reports do; only staff release it). An ad still waiting for its checks gets
    the reason now, as the pipeline would. Held, rejected, draft or deleted ads are left alone.
    A failing rule is logged and changes nothing: an ad waiting for its checks stays pending
    (the pipeline's own run fails the same way), a live one stays live (approved before the
    photo, and a misconfigured rule should not take every seller's ads down)."""
    paths = getattr(settings, "MODERATION_RULES", None)
    if paths is not None and PHOTO_RULE not in paths:
        return None
    ad = (Ad.objects.select_for_update().filter(
        pk=ad_id, deleted_at__isnull=True, moderation_reason__isnull=True,
        status__in=[AdStatus.ACTIVE, AdStatus.PENDING]).first())
    if ad is None:
        return None
    try:
        reason = checks.photo_duplicate(ad)
    except Exception:
        logger.exception("photo check failed for ad %s", ad.pk)
        return ad
    if reason is None:
        return ad
    if ad.status == AdStatus.ACTIVE:
        return ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.PENDING,
                                            actor=Actor.SYSTEM, note="photo duplicate",
                                            reason=ModerationReason(reason), moderate=False)
    ad.moderation_reason = reason
    ad.save(update_fields=["moderation_reason", "updated_at"])
    record_action(ad, "ads.moderation.held", data={"reason": reason, "rule": "photo_duplicate"})
    return ad


# --- the staff queue of held ads (GET /api/moderation/queue/ads/) -----------------------------

QUEUE_NOTES = {"approve": "approved by staff", "reject": "rejected by staff",
               "hide": "hidden by staff"}


def lock_ad(ad_id: Any) -> Ad:
    """The ad, locked for the decision: no report can be filed on it meanwhile
    (create_report locks the same row), so the reports settled below are all of them."""
    return Ad.objects.select_for_update().get(pk=ad_id)


@transaction.atomic
def approve_ad(*, ad_id: Any, staff: User, note: str = "") -> Ad:
    """pending -> active (or hidden -> active: undoing a hide, as the lifecycle lets staff).
    An ad held for `reported` has its open reports dismissed: staff looked and found nothing
    (left open, they would count again towards the next hold)."""
    ad = lock_ad(ad_id)
    if User.objects.filter(pk=ad.owner_id, is_suspended=True).exists():
        # Never live while the owner is suspended (unsuspend_user brings their ads back).
        raise ad_services.InvalidTransition("The ad's owner is suspended.")
    held_for = ad.moderation_reason
    ad = ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.STAFF,
                                      by=staff, note=note or QUEUE_NOTES["approve"])
    settled = []
    if held_for == ModerationReason.REPORTED:
        settled = settle_ad_reports(ad=ad, staff=staff, status=ReportStatus.DISMISSED,
                                    action=ReportAction.NONE, note=note or "ad approved")
    record_action(ad, "moderation.queue.approved", actor=staff,
                  data={"held_for": held_for, "note": note, "reports": settled})
    return ad


@transaction.atomic
def reject_ad(*, ad_id: Any, staff: User, reason: str | None = None, note: str = "") -> Ad:
    """pending -> rejected with `reason` (default: why it was held, else `staff`); the owner
    sees it and may edit and resubmit. An ad held for `reported` has its open reports
    resolved (upheld, action `none`)."""
    ad = lock_ad(ad_id)
    held_for = ad.moderation_reason
    why = ModerationReason(reason or held_for or ModerationReason.STAFF)
    ad = ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.REJECTED, actor=Actor.STAFF,
                                      by=staff, note=note or QUEUE_NOTES["reject"], reason=why)
    settled = []
    if held_for == ModerationReason.REPORTED:
        settled = settle_ad_reports(ad=ad, staff=staff, status=ReportStatus.RESOLVED,
                                    action=ReportAction.NONE, note=note or "ad rejected")
    record_action(ad, "moderation.queue.rejected", actor=staff,
                  data={"held_for": held_for, "reason": why.value, "note": note,
                        "reports": settled})
    return ad


@transaction.atomic
def hide_ad(*, ad_id: Any, staff: User, note: str = "") -> Ad:
    """pending or active -> hidden (reason `staff`), as the report action `hide_ad` does. An
    ad held for `reported` has its open reports resolved with action `hide_ad`."""
    ad = lock_ad(ad_id)
    held_for = ad.moderation_reason if ad.status == AdStatus.PENDING else None
    ad = ad_services.change_ad_status(ad_id=ad.pk, to=AdStatus.HIDDEN, actor=Actor.STAFF,
                                      by=staff, note=note or QUEUE_NOTES["hide"],
                                      reason=ModerationReason.STAFF)
    settled = []
    if held_for == ModerationReason.REPORTED:
        settled = settle_ad_reports(ad=ad, staff=staff, status=ReportStatus.RESOLVED,
                                    action=ReportAction.HIDE_AD, note=note or "ad hidden")
    record_action(ad, "moderation.queue.hidden", actor=staff,
                  data={"held_for": held_for, "note": note, "reports": settled})
    return ad


def settle_ad_reports(*, ad: Ad, staff: User, status: str, action: str, note: str) -> list[int]:
    """Close every open report on the ad (the caller holds the ad's lock), each audited as
    resolve_report does. Returns their ids."""
    reports = list(Report.objects.select_for_update().filter(
        target_type=TargetType.AD, target_id=str(ad.pk), status=ReportStatus.OPEN
    ).order_by("id"))
    now = timezone.now()
    for report in reports:
        report.status, report.action, report.resolution_note = status, action, note
        report.resolved_at, report.resolved_by, report.updated_at = now, staff, now
    Report.objects.bulk_update(reports, ["status", "action", "resolution_note", "resolved_at",
                                         "resolved_by", "updated_at"])
    for report in reports:
        record_action(report, f"moderation.report.{status}", actor=staff,
                      data={"action": action, "note": note, "via": "queue"})
    return [report.pk for report in reports]


# --- sellers' response figures (nightly) ------------------------------------------------------


def refresh_seller_response_stats(*, now: datetime | None = None) -> int:
    """Recompute every seller's response_rate and median_response_minutes over the
    conversations started in the last SELLER_RESPONSE_DAYS days (one read, two writes).
    Returns how many users' figures changed."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.SELLER_RESPONSE_DAYS)
    stats = moderation_selectors.seller_response_stats(since=since, until=now)
    return user_services.store_response_stats(
        stats={seller_id: (figures.rate, figures.median_minutes)
               for seller_id, figures in stats.items()})
