"""Staff accounts: the one doorway that creates them (pages, CLI and demo alike)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.access import require
from openiop.accounts.domain import (
    ACCESS_APPROVER_ROLES,
    Cap,
    Role,
    access_change_needs_approval,
)
from openiop.accounts.models import AccessChangeRequest, AccessChangeStatus, User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_denied, audit_record
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
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
    reason: str = "",
    by: Actor,
) -> User:
    """Create a staff account with one role and its sites. Returns the user.

    The server's operator may create the first accounts from the command line (an Actor with no
    user on the cli channel); otherwise the actor needs Cap.STAFF_MANAGE, and when the role gives
    access to records (domain.access_change_needs_approval) and the actor is not the director, the
    account is created inactive with a pending AccessChangeRequest that activates it once approved
    (access_change_decide). Raises RuleViolation for a taken username, an unknown role, a weak
    password (Django's validators), or a site of another organization or that takes no new work.
    """
    operator = by.user is None and by.channel == "cli"
    if not operator:
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
    _check_sites(organization, sites)
    site_ids = frozenset(s.pk for s in sites)
    pending = (
        not operator
        and by.user is not None
        and by.user.role not in ACCESS_APPROVER_ROLES
        and access_change_needs_approval(
            old_role=role,
            old_active=False,
            old_site_ids=frozenset(),
            new_role=role,
            new_active=True,
            new_site_ids=site_ids,
        )
    )
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role,
            first_name=first_name,
            last_name=last_name,
            credentials=credentials,
            organization=organization,
            is_active=not pending,
        )
        user.sites.set(sites)
        change = None
        if pending:
            change = _new_request(
                user=user,
                role=role,
                site_ids=site_ids,
                activate=True,
                reason=reason,
                previous={"role": role, "site_ids": sorted(site_ids), "active": False},
                by=by,
            )
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="staff",
            object_id=user.pk,
            detail={
                "username": username,
                "role": role,
                "sites": sorted(site_ids),
                "active": user.is_active,
                "access_change": change.pk if change else None,
            },
        )
    return user


def _check_sites(
    organization: Organization | None, sites: Sequence[Site], kept: frozenset[int] = frozenset()
) -> None:
    """Refuse sites of another organization, and sites that take no new work unless the staff
    member already works there (`kept`: they keep reading its records)."""
    if organization is not None and any(s.organization_id != organization.pk for s in sites):
        raise RuleViolation("Choose sites of the staff member's organization.", field="sites")
    for site in sites:
        if site.pk not in kept and not site.takes_new_work:
            raise RuleViolation(
                f"{site} is inactive: staff are no longer added to it. Choose active sites.",
                code="site_inactive",
                field="sites",
            )


def _access_of(user: User) -> dict[str, object]:
    return {
        "role": user.role,
        "site_ids": sorted(user.sites.values_list("pk", flat=True)),
        "active": user.is_active,
    }


def _new_request(
    *,
    user: User,
    role: str,
    site_ids: frozenset[int],
    activate: bool,
    reason: str,
    previous: dict[str, object],
    by: Actor,
    status: str = AccessChangeStatus.PENDING,
) -> AccessChangeRequest:
    at = now()
    applied = status != AccessChangeStatus.PENDING
    change = AccessChangeRequest.objects.create(
        user=user,
        role=role,
        activate=activate,
        previous=previous,
        reason=reason.strip()[:300],
        status=status,
        requested_by=by.user,
        requested_at=at,
        decided_by=by.user if applied else None,
        decided_at=at if applied else None,
    )
    change.sites.set(sorted(site_ids))
    return change


def _apply_access(user: User, *, role: str, site_ids: frozenset[int], activate: bool) -> None:
    user.role = role
    fields = ["role"]
    if activate:
        user.is_active = True
        fields.append("is_active")
    user.save(update_fields=fields)
    user.sites.set(sorted(site_ids))
    user.__dict__.pop("_site_ids", None)


def staff_change_access(
    *,
    user: User,
    role: str,
    sites: Sequence[Site],
    by: Actor,
    activate: bool = False,
    reason: str = "",
) -> AccessChangeRequest:
    """Change a staff member's role and sites (and make the account active when `activate`).

    The one doorway for role, site and reactivation changes. Needs Cap.STAFF_MANAGE; nobody
    changes their own account (NotPermitted, audited). When the change grants access to records
    (domain.access_change_needs_approval: a role that reads patients, charts, note text or the
    audit log, manages staff, or sees every site, which the account did not have, or more sites
    for a role that reads patients at its sites) and the actor is not the director, it is not
    applied: it waits, as a pending AccessChangeRequest, for access_change_decide by the director
    or a second administrator. Otherwise it is applied at once. Either way one audit entry records
    the access before and after. Returns the request (its status says which).

    Raises RuleViolation for an unknown role, sites of another organization, an inactive site the
    account does not already have, or no change.
    """
    require(by, Cap.STAFF_MANAGE, object_type="staff")
    actor_user = by.user
    assert actor_user is not None
    if actor_user.pk == user.pk:
        audit_denied(by, patient_id=None, object_type="staff", reason="own access change")
        raise NotPermitted(
            "Nobody changes their own role, sites or activation: ask another administrator "
            "or the director.",
            code="own_access_change",
            field="role",
        )
    if role not in {r.value for r in Role}:
        raise RuleViolation(f"'{role}' is not a role.", field="role")
    old_site_ids = frozenset(user.sites.values_list("pk", flat=True))
    _check_sites(user.organization, sites, kept=old_site_ids)
    previous = _access_of(user)
    site_ids = frozenset(s.pk for s in sites)
    new_active = user.is_active or activate
    if role == user.role and site_ids == old_site_ids and new_active == user.is_active:
        raise RuleViolation("That is the role and sites the account already has.", field="role")
    needs_approval = access_change_needs_approval(
        old_role=user.role,
        old_active=user.is_active,
        old_site_ids=old_site_ids,
        new_role=role,
        new_active=new_active,
        new_site_ids=site_ids,
    )
    direct = not needs_approval or actor_user.role in ACCESS_APPROVER_ROLES
    with transaction.atomic():
        change = _new_request(
            user=user,
            role=role,
            site_ids=site_ids,
            activate=activate and not user.is_active,
            reason=reason,
            previous=previous,
            by=by,
            status=AccessChangeStatus.APPLIED if direct else AccessChangeStatus.PENDING,
        )
        if direct:
            _apply_access(user, role=role, site_ids=site_ids, activate=change.activate)
        audit_record(
            by,
            action=AuditAction.UPDATE if direct else AuditAction.CREATE,
            object_type="staff_access",
            object_id=user.pk,
            detail={
                "access_change": change.pk,
                "status": change.status,
                "before": previous,
                "after": {"role": role, "site_ids": sorted(site_ids), "active": new_active},
                "reason": change.reason,
            },
        )
    return change


def access_change_decide(
    *, change: AccessChangeRequest, approve: bool, by: Actor
) -> AccessChangeRequest:
    """Approve (and apply) or reject a pending access change. Returns the request.

    Needs Cap.STAFF_MANAGE (the director or an administrator); the person who requested the change
    and the person it concerns may not decide it (NotPermitted, audited). Raises RuleViolation when
    it was decided already, and Conflict when the account's access changed since it was requested
    (reject it and request again, so the approver sees what they approve).
    """
    require(by, Cap.STAFF_MANAGE, object_type="staff_access")
    actor_user = by.user
    assert actor_user is not None
    if actor_user.pk in (change.requested_by_id, change.user_id):
        audit_denied(by, patient_id=None, object_type="staff_access", reason="own access change")
        raise NotPermitted(
            "Someone other than the requester and the person concerned must decide this.",
            code="own_access_change",
        )
    with transaction.atomic():
        locked = (
            AccessChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)
        )
        if locked.status != AccessChangeStatus.PENDING:
            raise RuleViolation("This request has been decided already.")
        user = locked.user
        current = _access_of(user)
        if approve and current != locked.previous:
            raise Conflict(
                "This account's access changed since the request: reject it and request again."
            )
        site_ids = frozenset(locked.sites.values_list("pk", flat=True))
        if approve:
            _apply_access(user, role=locked.role, site_ids=site_ids, activate=locked.activate)
        locked.status = AccessChangeStatus.APPROVED if approve else AccessChangeStatus.REJECTED
        locked.decided_by = actor_user
        locked.decided_at = now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type="staff_access",
            object_id=user.pk,
            detail={
                "access_change": locked.pk,
                "status": locked.status,
                "requested_by": locked.requested_by_id,
                "before": current,
                "after": {
                    "role": locked.role,
                    "site_ids": sorted(site_ids),
                    "active": user.is_active or locked.activate,
                }
                if approve
                else current,
            },
        )
    return locked


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
