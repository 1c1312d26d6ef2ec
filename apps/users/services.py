"""Account writes: registration, codes, profile, passwords, tokens and blocks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import Throttled
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.common.audit import record_action
from apps.common.errors import AccountSuspended, DomainError, FieldError
from apps.common.images import sanitize_image
from apps.common.throttles import hashed, use_daily_quota
from apps.notifications import services as notifications
from apps.users import codes, lockout
from apps.users.models import Block, CodePurpose, User, VerificationCode, normalize_email

logger = logging.getLogger(__name__)

# Runs the password hasher when the account does not exist, so that timing does not tell.
_DUMMY_PASSWORD_HASH = "pbkdf2_sha256$1000000$dummy$Y2f2a2Vb3YyQzQ0bXk0d2Z5Ym9ndXM="  # noqa: S105


class CodeError(DomainError):
    pass


class InvalidCode(CodeError):
    default_code = "invalid_code"
    default_detail = "The code is not valid."


class CodeExpired(CodeError):
    default_code = "code_expired"
    default_detail = "The code has expired; ask for a new one."


class TooManyAttempts(CodeError):
    default_code = "too_many_attempts"
    default_detail = "Too many wrong codes; ask for a new one."


class LoginFailed(DomainError):
    status_code = 401
    default_code = "authentication_failed"
    default_detail = "No active account found with the given credentials."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


# --- registration and codes -------------------------------------------------------------------


@transaction.atomic
def register_user(
    *, email: str, password: str, first_name: str, last_name: str, phone: str | None = None
) -> User:
    user = User(email=normalize_email(email), phone=phone or None, first_name=first_name,
                last_name=last_name)
    validate_new_password(password, user=user, attr="password")
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # lost a race with another registration for the same address
        field = "phone" if "phone" in str(exc) else "email"
        raise FieldError(field, f"A user with this {field} already exists.", "unique") from exc
    record_action(user, "users.registered", actor=user)
    send_code(user=user, purpose=CodePurpose.EMAIL)
    if user.phone:
        send_code(user=user, purpose=CodePurpose.PHONE)
    return user


def validate_new_password(password: str, *, user: User | None, attr: str) -> None:
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        from rest_framework.exceptions import ValidationError

        raise ValidationError(
            {attr: [str(message) for message in exc.messages]}, code="password_invalid"
        ) from exc


CODE_MESSAGES = {
    CodePurpose.EMAIL: ("Verify your email", "Your verification code is {code}."),
    CodePurpose.PHONE: ("", "Your Marketplace verification code is {code}. It expires in 10 min."),
    CodePurpose.PASSWORD_RESET: ("Reset your password", "Your password reset code is {code}."),
}


def send_code(*, user: User, purpose: CodePurpose, raise_when_capped: bool = False) -> None:
    """Issue a new code (replacing any live one) and queue it to the user's address.

    Spend cap: at most VERIFICATION_SENDS_PER_DAY codes per user and channel, and per address,
    each UTC day. Past it nothing is sent: silently (registration, profile change, password
    reset: the same answer whether or not an account exists), or 429 for an explicit resend."""
    target = user.phone if purpose == CodePurpose.PHONE else user.email
    if not target:
        return
    channel = "sms" if purpose == CodePurpose.PHONE else "email"
    wait = use_daily_quota(f"codes-{channel}", [f"user:{user.pk}", f"to:{hashed(target)}"],
                           settings.VERIFICATION_SENDS_PER_DAY)
    if wait:
        logger.warning("%s code for user %s not sent: daily cap reached", channel, user.pk)
        if raise_when_capped:
            raise Throttled(wait=wait, detail="Daily limit of codes reached; try tomorrow.")
        return
    code = codes.new_code()
    VerificationCode.objects.update_or_create(
        user=user,
        purpose=purpose,
        defaults={
            "target": target,
            "code_hash": codes.hash_code(code, purpose=purpose, user_id=user.pk),
            "expires_at": timezone.now() + settings.VERIFICATION_CODE_TTL,
            "attempts": 0,
        },
    )
    subject, template = CODE_MESSAGES[purpose]
    body = template.format(code=code) + "\n\nIf you did not ask for it, ignore this message."
    if purpose == CodePurpose.PHONE:
        notifications.queue_sms(to=target, body=template.format(code=code), sensitive=True)
    else:
        notifications.queue_email(to=target, subject=subject, body=body, sensitive=True)


def take_code(*, user: User, purpose: CodePurpose, code: str) -> CodeError | None:
    """Inside the caller's transaction: accept the live code (deleting it) or return the error.

    Returned rather than raised so that the caller commits the counted wrong try first."""
    record = (
        VerificationCode.objects.select_for_update().filter(user=user, purpose=purpose).first()
    )
    current_target = user.phone if purpose == CodePurpose.PHONE else user.email
    failure: CodeError | None = None
    if record is None or record.target != current_target:
        failure = InvalidCode(attr="code")
    elif record.attempts >= settings.VERIFICATION_CODE_MAX_ATTEMPTS:
        failure = TooManyAttempts(attr="code")
    elif record.expires_at <= timezone.now():
        failure = CodeExpired(attr="code")
    elif not codes.code_matches(code, code_hash=record.code_hash, purpose=purpose,
                                user_id=user.pk):
        record.attempts += 1
        record.save(update_fields=["attempts", "updated_at"])
        failure = InvalidCode(attr="code")
    else:
        record.delete()
    return failure


def verify_contact(*, user: User, channel: str, code: str) -> User:
    purpose = CodePurpose(channel)
    field = "phone_verified" if purpose == CodePurpose.PHONE else "email_verified"
    with transaction.atomic():
        failure = take_code(user=user, purpose=purpose, code=code)
        if failure is None:
            setattr(user, field, True)
            user.save(update_fields=[field])
            record_action(user, f"users.{channel}.verified", actor=user)
    if failure is not None:
        raise failure
    return user


def check_resend_allowed(*, user: User, channel: str) -> None:
    purpose = CodePurpose(channel)
    verified = user.phone_verified if purpose == CodePurpose.PHONE else user.email_verified
    if verified:
        raise FieldError("channel", f"Your {channel} is already verified.", "already_verified")
    if purpose == CodePurpose.PHONE and not user.phone:
        raise FieldError("channel", "Add a phone number to your profile first.", "invalid")


def resend_rate() -> str | None:
    return settings.THROTTLE_RATES.get("resend")


@transaction.atomic
def resend_code(*, user: User, channel: str) -> None:
    send_code(user=user, purpose=CodePurpose(channel), raise_when_capped=True)


# --- login and tokens -------------------------------------------------------------------------


def find_login_user(*, email: str | None, phone: str | None) -> User | None:
    if email:
        return User.objects.filter(email=normalize_email(email)).first()
    return User.objects.filter(phone=phone).first()


def login(*, identifier: str, user: User | None, password: str) -> tuple[User, TokenPair]:
    """Check credentials for a lock-out-checked identifier; failures are counted here."""
    if user is None:
        check_password(password, _DUMMY_PASSWORD_HASH)
        lockout.record_failure(identifier)
        raise LoginFailed()
    if not user.check_password(password) or not user.is_active:
        lockout.record_failure(identifier)
        raise LoginFailed()
    lockout.clear(identifier)
    if user.is_suspended:
        raise AccountSuspended()
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, issue_tokens(user=user)


def issue_tokens(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every refresh token of the user that is still live."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    rows = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def logout(*, user: User, refresh: str) -> None:
    from rest_framework_simplejwt.exceptions import TokenError

    try:
        token = RefreshToken(refresh, verify=True)  # type: ignore[arg-type]
    except TokenError as exc:
        if "blacklisted" in str(exc).lower():
            return  # already dead: logging out twice is fine
        raise FieldError("refresh", "Token is invalid or expired.", "token_not_valid") from exc
    if str(token.get("user_id")) != str(user.pk):
        raise FieldError("refresh", "Token is invalid or expired.", "token_not_valid")
    token.blacklist()


# --- profile ----------------------------------------------------------------------------------


@transaction.atomic
def update_profile(*, user: User, changes: dict[str, Any]) -> User:
    """Apply the whitelisted profile fields; a new email or phone must be verified again."""
    changed: list[str] = []
    for field in ("first_name", "last_name", "bio", "location"):
        if field in changes and getattr(user, field) != changes[field]:
            setattr(user, field, changes[field])
            changed.append(field)
    new_contacts: list[CodePurpose] = []
    if "email" in changes and normalize_email(changes["email"]) != user.email:
        user.email = normalize_email(changes["email"])
        user.email_verified = False
        changed += ["email", "email_verified"]
        new_contacts.append(CodePurpose.EMAIL)
    if "phone" in changes and changes["phone"] != user.phone:
        user.phone = changes["phone"]
        user.phone_verified = False
        changed += ["phone", "phone_verified"]
        if user.phone:
            new_contacts.append(CodePurpose.PHONE)
        else:
            VerificationCode.objects.filter(user=user, purpose=CodePurpose.PHONE).delete()
    if "avatar" in changes:
        replace_avatar(user=user, upload=changes["avatar"])
        changed.append("avatar")
    if not changed:
        return user
    try:
        with transaction.atomic():
            user.save(update_fields=[*dict.fromkeys(changed)])
    except IntegrityError as exc:
        field = "phone" if "phone" in str(exc) else "email"
        raise FieldError(field, f"A user with this {field} already exists.", "unique") from exc
    for purpose in new_contacts:
        send_code(user=user, purpose=purpose)
    record_action(user, "users.profile.updated", actor=user, data={"fields": changed})
    return user


def replace_avatar(*, user: User, upload: UploadedFile | None) -> None:
    old = user.avatar.name if user.avatar else None
    if upload is None:
        user.avatar = None
    else:
        clean = sanitize_image(upload, attr="avatar")
        user.avatar.save(clean.content.name, clean.content, save=False)
    if old:
        storage, name = user.avatar.storage, old
        transaction.on_commit(lambda: storage.delete(name))


# --- passwords --------------------------------------------------------------------------------


def request_password_reset(*, email: str) -> None:
    """Same answer for any address; an account gets a code."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        return
    with transaction.atomic():
        send_code(user=user, purpose=CodePurpose.PASSWORD_RESET)


def confirm_password_reset(*, email: str, code: str, new_password: str) -> None:
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    validate_new_password(new_password, user=user, attr="new_password")
    if user is None:
        raise InvalidCode(attr="code")
    with transaction.atomic():
        failure = take_code(user=user, purpose=CodePurpose.PASSWORD_RESET, code=code)
        if failure is None:
            user.set_password(new_password)
            user.save(update_fields=["password"])
            revoke_refresh_tokens(user=user)
            record_action(user, "users.password.reset", actor=user)
    if failure is not None:
        raise failure
    lockout.clear(user.email)


@transaction.atomic
def change_password(*, user: User, old_password: str, new_password: str) -> TokenPair:
    if not user.check_password(old_password):
        raise FieldError("old_password", "Your old password is not correct.", "invalid_password")
    validate_new_password(new_password, user=user, attr="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoke_refresh_tokens(user=user)
    record_action(user, "users.password.changed", actor=user)
    return issue_tokens(user=user)


# --- blocks -----------------------------------------------------------------------------------


def block_user(*, blocker: User, blocked_id: Any) -> tuple[Block, bool]:
    """Return (block, created); blocking twice returns the first block."""
    from apps.users import selectors

    if str(blocked_id) == str(blocker.pk):
        raise FieldError("user", "You cannot block yourself.", "invalid")
    blocked = selectors.get_public_user(user_id=blocked_id)
    if blocked is None:
        raise FieldError("user", "User not found.", "does_not_exist")
    with transaction.atomic():
        block, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
        if created:
            record_action(block, "users.blocked", actor=blocker, data={"blocked": str(blocked.pk)})
    return block, created


@transaction.atomic
def unblock_user(*, blocker: User, blocked_id: Any) -> bool:
    deleted, _ = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()
    return deleted > 0


# --- sanctions --------------------------------------------------------------------------------


@transaction.atomic
def suspend_user(*, user: User, by: User | None, note: str = "") -> list[str]:
    """Suspend: no login, tokens revoked, open sockets closed, live ads hidden (and only those
    come back on unsuspension). Returns the ids of the ads hidden."""
    from apps.ads import services as ad_services
    from apps.ads.models import Ad, AdStatus, ModerationReason
    from apps.ads.status import Actor
    from apps.common import dispatch

    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_suspended:
        return []
    user.is_suspended = True
    user.suspended_at = timezone.now()
    user.save(update_fields=["is_suspended", "suspended_at"])
    hidden: list[str] = []
    live = Ad.objects.filter(owner=user, status=AdStatus.ACTIVE, deleted_at__isnull=True)
    for ad_id in live.values_list("pk", flat=True):
        ad_services.change_ad_status(ad_id=ad_id, to=AdStatus.HIDDEN, actor=Actor.SYSTEM,
                                     by=by, note="owner suspended",
                                     reason=ModerationReason.STAFF)
        hidden.append(str(ad_id))
    revoke_refresh_tokens(user=user)
    record_action(user, "users.suspended", actor=by, data={"hidden_ads": hidden, "note": note})
    dispatch.publish(f"user.{user.pk}", {"type": "chat.close", "code": 4403})
    return hidden


@transaction.atomic
def unsuspend_user(*, user: User, by: User | None) -> list[str]:
    from apps.ads import services as ad_services
    from apps.ads.models import Ad, AdStatus
    from apps.ads.status import Actor
    from apps.common.models import AuditEntry

    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_suspended:
        return []
    user.is_suspended = False
    user.suspended_at = None
    user.save(update_fields=["is_suspended", "suspended_at"])
    last = (AuditEntry.objects.filter(action="users.suspended", target_type="users.user",
                                      target_id=str(user.pk)).order_by("-id").first())
    restored: list[str] = []
    for ad_id in (last.data.get("hidden_ads", []) if last else []):
        # Staff touched its status since (hid it for a report, unhid and hid it...): theirs.
        touched = last is not None and AuditEntry.objects.filter(
            target_type="ads.ad", target_id=ad_id, action__startswith="ads.status.",
            id__gt=last.id).exists()
        if touched:
            continue
        if Ad.objects.filter(pk=ad_id, status=AdStatus.HIDDEN, deleted_at__isnull=True).exists():
            ad_services.change_ad_status(ad_id=ad_id, to=AdStatus.ACTIVE, actor=Actor.SYSTEM,
                                         by=by, note="owner unsuspended")
            restored.append(ad_id)
    record_action(user, "users.unsuspended", actor=by, data={"restored_ads": restored})
    return restored


# --- seller signals (issue 7) -----------------------------------------------------------------

_STORE_RESPONSE_STATS = """
UPDATE users_user AS u
SET response_rate = s.rate, median_response_minutes = s.minutes
FROM unnest(%(ids)s::uuid[], %(rates)s::float8[], %(minutes)s::integer[]) AS s(id, rate, minutes)
WHERE u.id = s.id
  AND (u.response_rate IS DISTINCT FROM s.rate
       OR u.median_response_minutes IS DISTINCT FROM s.minutes)
"""
_CLEAR_RESPONSE_STATS = """
UPDATE users_user SET response_rate = NULL, median_response_minutes = NULL
WHERE (response_rate IS NOT NULL OR median_response_minutes IS NOT NULL)
  AND NOT (id = ANY(%(ids)s::uuid[]))
"""


@transaction.atomic
def store_response_stats(*, stats: dict[Any, tuple[float, int | None]]) -> int:
    """{user id: (response_rate, median_response_minutes)} written onto the users, in two
    statements; every other user's figures become null (no conversations in the window).
    Rows whose figures did not change are not rewritten. Returns the rows updated."""
    from django.db import connection

    ids = list(stats)
    params = {"ids": ids, "rates": [stats[pk][0] for pk in ids],
              "minutes": [stats[pk][1] for pk in ids]}
    with connection.cursor() as cursor:
        cursor.execute(_STORE_RESPONSE_STATS, params)
        changed = cursor.rowcount
        cursor.execute(_CLEAR_RESPONSE_STATS, {"ids": ids})
        changed += cursor.rowcount
    return changed
