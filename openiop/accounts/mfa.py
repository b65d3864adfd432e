"""Two-factor authentication: enrolment, the login check, replacing an authenticator, recovery
codes and an administrator's reset. Views and commands call these; nothing else changes devices.

The second factor is a TOTP authenticator app (django-otp's TOTPDevice). Ten single-use recovery
codes (django-otp's StaticDevice, one per user) stand in for it when the phone is lost. Once an
authenticator is confirmed, a new one replaces it only in a session that passed two-factor and
with a code from the old one (or a recovery code) in the same form; otherwise only an
administrator's audited reset removes it, and the next login enrols afresh. A password alone never
passes two-factor.
"""

from __future__ import annotations

import base64
import math
import re
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.accounts.models import StaffSession, User
from openiop.audit.models import AuditAction, AuditOutcome
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation

if TYPE_CHECKING:
    from django_otp.models import ThrottlingMixin

RECOVERY_CODE_COUNT = 10
# Wrong codes in a row that cost no wait (a typo, a code that changed while it was typed). After
# them django-otp's own doubling wait applies: 4, 8, 16 ... seconds before the next try.
FREE_WRONG_CODES = 3

WRONG_PROOF = {
    "verify": "That code did not match. Try the newest code from your app; a recovery code works "
    "once.",
    "replace": "That is not a code from your current authenticator or an unused recovery code. "
    "Enter the newest code from each app again.",
}

TOTP_CODE = re.compile(r"\d{6}")
RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")  # StaticToken.random_token(): 5 random bytes, base32


def normalize_code(text: str) -> str:
    """A typed code without spaces or dashes, lower case (recovery codes are shown as abcd-efgh)."""
    return re.sub(r"[\s-]", "", text).lower()


def manual_key(device: TOTPDevice) -> str:
    """The device's secret as an authenticator app takes it typed by hand: base32 (the QR code's
    secret too), without padding, in groups of four. django-otp stores it as hex."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user: User) -> int:
    left: int = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return left


def pending_device(*, user: User, device_id: object) -> tuple[TOTPDevice, bool]:
    """The unconfirmed authenticator this session is setting up (its id kept in the session), or
    a new one with a new key. Returns (device, created).

    Making one removes the user's other unconfirmed devices: a key shown to one session is never
    shown to, or confirmed by, another.
    """
    if isinstance(device_id, int):
        found = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if found is not None:
            return found, False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device, True


def _user_of(by: Actor) -> User:
    if by.user is None:
        raise NotPermitted("Log in first.", code="not_logged_in")
    return by.user


def _refuse(by: Actor, *, step: str, reason: str, message: str, field: str) -> RuleViolation:
    """Audit a refused two-factor attempt and return the error to raise."""
    audit_record(
        by,
        action=AuditAction.LOGIN_FAILED,
        outcome=AuditOutcome.DENIED,
        object_type="mfa",
        detail={"step": step, "reason": reason},
    )
    return RuleViolation(message, code=f"mfa_{reason}", field=field)


def _check(device: ThrottlingMixin, code: str, *, by: Actor, step: str, field: str) -> bool:
    """django-otp's verify_token under OpenIOP's throttle. Returns whether the code matched (a
    matching recovery code is used up). Raises RuleViolation, audited, while a wait runs after
    repeated wrong codes. The device row is locked so that two posts cannot both use one code."""
    model = type(device)
    matched = False
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=device.pk)
        if locked.throttling_failure_count < FREE_WRONG_CODES:
            locked.throttling_failure_timestamp = None  # django-otp's wait starts after these
        allowed, data = locked.verify_is_allowed()
        if allowed:
            matched = bool(locked.verify_token(code))
    if not allowed:
        until = (data or {}).get("locked_until")
        seconds = math.ceil((until - timezone.now()).total_seconds()) if until else 1
        raise _refuse(
            by,
            step=step,
            reason="throttled",
            message=(
                "Too many wrong codes in a row. Wait "
                f"{max(seconds, 1)} second{'s' if seconds > 1 else ''}, then try the newest code."
            ),
            field=field,
        )
    return matched


def _prove(user: User, code: str, *, by: Actor, step: str, field: str) -> str:
    """Check a code from the user's confirmed authenticator or one of their recovery codes.
    Returns "authenticator" or "recovery_code"; raises RuleViolation (audited) otherwise."""
    code = normalize_code(code)
    if TOTP_CODE.fullmatch(code):
        device: Device | None = confirmed_device(user)
        proof = "authenticator"
    elif RECOVERY_CODE.fullmatch(code):
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        proof = "recovery_code"
    else:
        raise _refuse(
            by,
            step=step,
            reason="malformed",
            message="Enter the 6-digit code from your app, or one of your recovery codes.",
            field=field,
        )
    if device is None or not _check(device, code, by=by, step=step, field=field):
        raise _refuse(
            by,
            step=step,
            reason="wrong_code",
            message=WRONG_PROOF.get(step, WRONG_PROOF["verify"]),
            field=field,
        )
    return proof


def _issue_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones, returned as shown."""
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    device.token_set.all().delete()
    device.throttle_reset()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return [f"{c[:4]}-{c[4:]}" for c in codes]


def mfa_verify(*, code: str, by: Actor) -> Device:
    """Pass two-factor with a code from the user's authenticator or a recovery code (used up).

    Returns the device that accepted it, for django_otp.login. Raises RuleViolation (field
    "token") for a wrong code or while a wait runs; every refusal and every pass is audited, a
    recovery code with the number left.
    """
    user = _user_of(by)
    if confirmed_device(user) is None:
        raise RuleViolation("Set up two-factor authentication first.", field="token")
    proof = _prove(user, code, by=by, step="verify", field="token")
    device: Device | None
    if proof == "authenticator":
        device = confirmed_device(user)
        detail: dict[str, object] = {"with": proof}
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        detail = {"with": proof, "recovery_codes_left": recovery_codes_left(user)}
    assert device is not None
    audit_record(by, action=AuditAction.LOGIN, object_type="mfa", detail=detail)
    return device


def mfa_enrol(*, pending: TOTPDevice, code: str, by: Actor) -> list[str]:
    """Confirm the user's first authenticator with a code from it. Returns new recovery codes,
    to be shown once. Raises RuleViolation (field "token") for a wrong code, or when an
    authenticator is already confirmed (replacing one needs mfa_replace)."""
    user = _user_of(by)
    if pending.user_id != user.pk or pending.confirmed:
        raise RuleViolation("That set-up is not yours to confirm.", field="token")
    if confirmed_device(user) is not None:
        raise _refuse(
            by,
            step="enrol",
            reason="already_enrolled",
            message="Two-factor is already set up. Replace it from the two-factor page.",
            field="token",
        )
    if not _check(pending, normalize_code(code), by=by, step="enrol", field="token"):
        raise _refuse(
            by,
            step="enrol",
            reason="wrong_code",
            message=(
                "That code did not match. Check the time on your phone and try the newest code."
            ),
            field="token",
        )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():  # another session won
            raise RuleViolation("Two-factor is already set up.", field="token")
        return _confirm(pending, by=by, action=AuditAction.CREATE, detail={})


def mfa_replace(
    *, pending: TOTPDevice, code: str, current: str, session_verified: bool, by: Actor
) -> list[str]:
    """Replace the user's authenticator with `pending`: `code` comes from the new one, `current`
    from the old one or is a recovery code. Only in a session that passed two-factor. Returns new
    recovery codes (the old ones stop working), to be shown once.

    The new code is checked first, so a mistyped new code does not use up a recovery code.
    Raises NotPermitted (audited) for a session that has not passed two-factor, RuleViolation
    (field "token" or "current", audited) for a wrong code.
    """
    user = _user_of(by)
    if not session_verified:
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type="mfa_device",
            outcome=AuditOutcome.DENIED,
            detail={"reason": "session has not passed two-factor"},
        )
        raise NotPermitted("Enter your two-factor code first.", code="mfa_not_verified")
    old = confirmed_device(user)
    if old is None:
        raise RuleViolation("There is no authenticator to replace.", field="token")
    if pending.user_id != user.pk or pending.confirmed:
        raise RuleViolation("That set-up is not yours to confirm.", field="token")
    if not _check(pending, normalize_code(code), by=by, step="replace", field="token"):
        raise _refuse(
            by,
            step="replace",
            reason="wrong_code",
            message=(
                "That code from the new authenticator did not match. Check the time on your "
                "phone and try its newest code."
            ),
            field="token",
        )
    proof = _prove(user, current, by=by, step="replace", field="current")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        return _confirm(
            pending,
            by=by,
            action=AuditAction.UPDATE,
            detail={"replaced": old.pk, "proved_with": proof},
        )


def _confirm(pending: TOTPDevice, *, by: Actor, action: str, detail: dict[str, Any]) -> list[str]:
    """Make `pending` the user's authenticator (inside the caller's transaction, the user row
    locked): other unconfirmed devices go, new recovery codes are issued and returned, audited."""
    TOTPDevice.objects.filter(pk=pending.pk).update(confirmed=True)
    pending.confirmed = True
    TOTPDevice.objects.filter(user_id=pending.user_id, confirmed=False).delete()
    codes = _issue_recovery_codes(pending.user)
    audit_record(
        by,
        action=action,
        object_type="mfa_device",
        object_id=pending.pk,
        detail={**detail, "recovery_codes": len(codes)},
    )
    return codes


def recovery_codes_issue(*, session_verified: bool, by: Actor) -> list[str]:
    """A new set of recovery codes for the user (the old ones stop working), to be shown once.
    Only in a session that passed two-factor (NotPermitted, audited, otherwise)."""
    user = _user_of(by)
    if not session_verified or confirmed_device(user) is None:
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="mfa_recovery_codes",
            outcome=AuditOutcome.DENIED,
            detail={"reason": "session has not passed two-factor"},
        )
        raise NotPermitted("Enter your two-factor code first.", code="mfa_not_verified")
    with transaction.atomic():
        before = recovery_codes_left(user)
        codes = _issue_recovery_codes(user)
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="mfa_recovery_codes",
            detail={"count": len(codes), "unused_replaced": before},
        )
    return codes


def mfa_reset(*, user: User, by: Actor) -> None:
    """An administrator's reset: remove the user's authenticator and recovery codes and end their
    sessions, so that their next login enrols a new authenticator. Needs Cap.STAFF_MANAGE; refuses
    the actor's own account (another administrator resets it). Audited."""
    require(by, Cap.STAFF_MANAGE, object_type="mfa_device")
    assert by.user is not None
    if by.user.pk == user.pk:
        raise RuleViolation(
            "You cannot reset your own two-factor. Ask another administrator.", field="user"
        )
    with transaction.atomic():
        _, deleted = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        sessions, _ = StaffSession.objects.filter(user_id=user.pk).delete()
        audit_record(
            by,
            action=AuditAction.DELETE,
            object_type="mfa_device",
            object_id=user.pk,
            detail={
                "username": user.username,
                "authenticators": deleted.get(TOTPDevice._meta.label, 0),
                "sessions_ended": sessions,
            },
        )
