"""Staff accounts: the one doorway that creates them (pages, CLI and demo alike)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.access import require
from openiop.accounts.domain import Cap, Role
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.programs.models import Organization, Site


def staff_create(
    *,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    credentials: str = "",
    organization: Organization | None = None,
    sites: Sequence[Site] = (),
    by: Actor,
) -> User:
    """Create a staff account with one role and its sites. Returns the user.

    The server's operator may create the first accounts from the command line (an Actor with no
    user on the cli channel); otherwise the actor needs Cap.STAFF_MANAGE. Raises RuleViolation for
    a taken username, an unknown role or a weak password (Django's validators).
    """
    if not (by.user is None and by.channel == "cli"):
        require(by, Cap.STAFF_MANAGE, object_type="staff")
    username = username.strip()
    if not username:
        raise RuleViolation("Enter a username.", field="username")
    if role not in {r.value for r in Role}:
        raise RuleViolation(
            f"'{role}' is not a role. Choose one of: {', '.join(r.value for r in Role)}.",
            field="role",
        )
    if User.objects.filter(username__iexact=username).exists():
        raise RuleViolation(f"The username '{username}' is taken.", field="username")
    candidate = User(username=username, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise RuleViolation(" ".join(exc.messages), field="password") from exc
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role,
            first_name=first_name,
            last_name=last_name,
            credentials=credentials,
            organization=organization,
        )
        user.sites.set(sites)
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="staff",
            object_id=user.pk,
            detail={"username": username, "role": role, "sites": [s.pk for s in sites]},
        )
    return user


def staff_set_supervisor(*, user: User, supervisor: User | None, by: Actor) -> User:
    """Name (or clear) the supervisor whose co-signature the user's progress notes need.

    Needs Cap.STAFF_MANAGE. Raises RuleViolation when the supervisor is the user themselves, is
    inactive, or is not clinical staff (Cap.NOTE_TEXT).
    """
    require(by, Cap.STAFF_MANAGE, object_type="staff")
    if supervisor is not None:
        if supervisor.pk == user.pk:
            raise RuleViolation("Staff cannot supervise themselves.", field="supervisor")
        if not supervisor.is_active or not supervisor.can(Cap.NOTE_TEXT):
            raise RuleViolation("Choose an active clinician as the supervisor.", field="supervisor")
    with transaction.atomic():
        user.supervisor = supervisor
        user.save(update_fields=["supervisor"])
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type="staff",
            object_id=user.pk,
            detail={"supervisor": supervisor.pk if supervisor else None},
        )
    return user
