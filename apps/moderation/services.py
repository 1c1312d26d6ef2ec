"""Reports, their resolution by staff, and reviews of sellers."""

from __future__ import annotations

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


class Duplicate(Conflict):
    default_code = "duplicate"
    default_detail = "You already did this."


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
    if not 1 <= rating <= 5:
        raise FieldError("rating", "Give a rating from 1 to 5.", "invalid")
    ad = None
    if ad_id is not None:
        ad = Ad.objects.filter(pk=ad_id, owner=seller).first() if is_uuid(ad_id) else None
        if ad is None:
            raise FieldError("ad", "This ad is not the seller's.", "invalid")
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
