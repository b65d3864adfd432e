"""Every write of case management goes through these functions: each owns its transaction, checks
the actor's permission (Cap.CASE_MANAGE at the record's site, the patient's site for patient
records) and writes the audit entry. Patient text (outcomes, notes) is never copied into the audit
log: entries name what changed, not what was written."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient, require_site, sees_site
from openiop.accounts.domain import Cap
from openiop.audit.choices import AuditAction
from openiop.audit.services import audit_record
from openiop.casemgmt import domain
from openiop.casemgmt.choices import ReferralStatus, ResourceKind, SupportKind, SupportStatus
from openiop.casemgmt.models import CaseTask, CommunityResource, Referral, SupportRequest
from openiop.core.actor import Actor
from openiop.core.clock import local_today, now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.dates import local_datetime
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import OPEN_STATUSES
from openiop.episodes.models import Episode
from openiop.programs.choices import SessionStatus
from openiop.programs.models import Enrollment, GroupSession, Site

if TYPE_CHECKING:
    from openiop.accounts.models import User

CAP = Cap.CASE_MANAGE


def _acting(by: Actor) -> User:
    """The acting staff member (called after the permission check, which needs one)."""
    assert by.user is not None
    return by.user


def _text(value: str, field: str, what: str, *, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(f"Enter {what}.", code="required", field=field)
    if len(value) > limit:
        raise RuleViolation(f"Keep {what} under {limit} characters.", code="too_long", field=field)
    return value


def _open_episode(episode: Episode) -> None:
    if episode.status not in OPEN_STATUSES:
        raise RuleViolation(
            "This episode is closed: case management follows open episodes only.",
            code="episode_closed",
        )


# --- the resource directory ------------------------------------------------------------------
RESOURCE_FIELDS = ("kind", "name", "address", "phone", "hours", "notes", "active")


def _resource_values(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("kind") not in ResourceKind.values:
        raise RuleViolation("Choose what kind of resource this is.", code="kind", field="kind")
    clean = {
        "kind": values["kind"],
        "name": _text(values.get("name", ""), "name", "the resource's name", limit=200),
        "address": (values.get("address") or "").strip(),
        "phone": (values.get("phone") or "").strip(),
        "hours": (values.get("hours") or "").strip(),
        "notes": (values.get("notes") or "").strip(),
        "active": bool(values.get("active", True)),
    }
    return clean


def resource_create(*, site: Site, by: Actor, **values: Any) -> CommunityResource:
    """Add a resource to a site's directory (kind, name, address, phone, hours, notes, active).
    Raises RuleViolation for a missing name or kind; NotPermitted (audited) without
    Cap.CASE_MANAGE at the site."""
    require_site(by, site, CAP, object_type="community_resource")
    clean = _resource_values(values)
    with transaction.atomic():
        resource = CommunityResource.objects.create(site=site, **clean)
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="community_resource",
            object_id=resource.pk,
            detail={"kind": resource.kind, "name": resource.name},
        )
    return resource


def resource_update(
    *, resource: CommunityResource, expected_version: int | None, by: Actor, **values: Any
) -> CommunityResource:
    """Change a resource of the directory (deactivate it with active=False: referrals to it stay).
    Raises Conflict when someone else saved it meanwhile; RuleViolation, NotPermitted (audited)."""
    require_site(by, resource.site_id, CAP, object_type="community_resource")
    clean = _resource_values(values)
    changed = [f for f in RESOURCE_FIELDS if getattr(resource, f) != clean[f]]
    with transaction.atomic():
        for f, v in clean.items():
            setattr(resource, f, v)
        save_if_unchanged(
            resource, expected_version=expected_version, fields=[*RESOURCE_FIELDS, "updated_at"]
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type="community_resource",
            object_id=resource.pk,
            detail={"changed": changed},
        )
    return resource


# --- referrals -------------------------------------------------------------------------------
def referral_create(
    *,
    episode: Episode,
    resource: CommunityResource,
    follow_up_on: dt.date | None = None,
    by: Actor,
) -> Referral:
    """Refer the patient of an open episode to an active resource of the episode's site (status
    proposed). A referral of a substance-use episode is marked Part 2 from the episode. Raises
    RuleViolation (closed episode, inactive resource or another site's); NotPermitted (audited)
    without Cap.CASE_MANAGE at the patient's site."""
    require_patient(by, CAP, episode.patient, object_type="referral")
    _open_episode(episode)
    if not resource.active or resource.site_id != episode.site_id:
        raise RuleViolation(
            "Choose an active resource of this patient's site.", code="resource", field="resource"
        )
    with transaction.atomic():
        referral = Referral.objects.create(
            episode=episode,
            patient=episode.patient,
            resource=resource,
            follow_up_on=follow_up_on,
            created_by=_acting(by),
            part2=episode.part2_protected,
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="referral",
            object_id=referral.pk,
            detail={"resource": resource.pk, "kind": resource.kind},
        )
    return referral


def referral_update(
    *,
    referral: Referral,
    status: str,
    follow_up_on: dt.date | None,
    outcome: str,
    expected_version: int | None,
    by: Actor,
) -> Referral:
    """Move a referral on (domain.REFERRAL_NEXT) and record its follow-up date and outcome note.
    Raises RuleViolation for a move the rules do not allow (a closed referral stays closed),
    Conflict when it was changed meanwhile, NotPermitted (audited)."""
    require_patient(by, CAP, referral.patient, object_type="referral")
    if status not in ReferralStatus.values:
        raise RuleViolation("Choose a status.", code="status", field="status")
    old = referral.status
    if status != old and not domain.referral_can_move(old, status):
        raise RuleViolation(
            f"A referral that is {ReferralStatus(old).label.lower()} cannot become "
            f"{ReferralStatus(status).label.lower()}.",
            code="referral_status",
            field="status",
        )
    if len(outcome or "") > 2000:
        raise RuleViolation(
            "Keep the outcome under 2000 characters.", code="too_long", field="outcome"
        )
    with transaction.atomic():
        referral.status = status
        referral.follow_up_on = follow_up_on
        referral.outcome = (outcome or "").strip()
        save_if_unchanged(
            referral,
            expected_version=expected_version,
            fields=["status", "follow_up_on", "outcome", "updated_at"],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=referral.patient_id,
            object_type="referral",
            object_id=referral.pk,
            detail={"status": [old, status]} if old != status else {"status": status},
        )
    return referral


# --- tasks -----------------------------------------------------------------------------------
def task_create(
    *,
    site: Site,
    owner: User,
    title: str,
    due_on: dt.date,
    episode: Episode | None = None,
    by: Actor,
) -> CaseTask:
    """Put a task on `owner`'s list, due on a clinic-local date, about an episode's patient or
    not. The owner must be active, do case management and see the site. Raises RuleViolation;
    NotPermitted (audited) without Cap.CASE_MANAGE at the site (the patient's, for a patient)."""
    if episode is not None:
        require_patient(by, CAP, episode.patient, object_type="case_task")
        site = episode.site
    else:
        require_site(by, site, CAP, object_type="case_task")
    title = _text(title, "title", "what is to be done", limit=300)
    if not owner.is_active or not owner.can(CAP) or not sees_site(Actor(user=owner), site):
        raise RuleViolation(
            f"{owner} cannot hold this task: choose an active case manager of this site.",
            code="owner",
            field="owner",
        )
    with transaction.atomic():
        task = CaseTask.objects.create(
            site=site,
            owner=owner,
            episode=episode,
            patient=episode.patient if episode else None,
            title=title,
            due_on=due_on,
            created_by=_acting(by),
            part2=bool(episode and episode.part2_protected),
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=task.patient_id,
            object_type="case_task",
            object_id=task.pk,
            detail={"owner": owner.pk, "due_on": due_on.isoformat()},
        )
    return task


def task_set_done(*, task: CaseTask, done: bool, by: Actor) -> CaseTask:
    """Mark a task done (or open again). Only its owner, or someone who does case management at
    its site. Raises NotPermitted (audited)."""
    if task.patient_id:
        assert task.patient is not None
        require_patient(by, CAP, task.patient, object_type="case_task")
    else:
        require_site(by, task.site_id, CAP, object_type="case_task")
    with transaction.atomic():
        locked = CaseTask.objects.select_for_update().get(pk=task.pk)
        if (locked.done_at is not None) == done:
            return locked
        locked.done_at = now() if done else None
        locked.done_by = _acting(by) if done else None
        locked.save(update_fields=["done_at", "done_by", "updated_at"])
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=locked.patient_id,
            object_type="case_task",
            object_id=locked.pk,
            detail={"done": done},
        )
    task.done_at, task.done_by = locked.done_at, locked.done_by
    return task


# --- rides and childcare for sessions --------------------------------------------------------
def _on_roster(session: GroupSession, episode: Episode) -> bool:
    if session.episode_id == episode.pk:
        return True
    return bool(
        session.track_id
        and Enrollment.objects.on(session.date)
        .filter(track_id=session.track_id, episode=episode)
        .exists()
    )


def support_request_create(
    *,
    episode: Episode,
    session: GroupSession,
    kind: str,
    pickup_address: str = "",
    pickup_time: dt.time | None = None,
    notes: str = "",
    by: Actor,
) -> SupportRequest:
    """Ask for a ride (the van) or childcare so that the patient can come to one session.

    The session must be scheduled, not past (clinic-local date), at the patient's site, and the
    patient on its roster (enrolled in its track that day, or the session is theirs). A ride needs
    a pickup address; its pickup time, clinic-local on the session's date, must be before the
    session starts. One live request per session, patient and kind. Marked Part 2 from the
    episode. Raises RuleViolation; NotPermitted (audited) without Cap.CASE_MANAGE."""
    require_patient(by, CAP, episode.patient, object_type="support_request")
    _open_episode(episode)
    if kind not in SupportKind.values:
        raise RuleViolation("Choose a ride or childcare.", code="kind", field="kind")
    tz = session.site.tz
    if (
        session.site_id != episode.site_id
        or session.status == SessionStatus.CANCELLED
        or session.date < local_today(tz)
        or not _on_roster(session, episode)
    ):
        raise RuleViolation(
            "Choose an upcoming session this patient is on the roster of.",
            code="session",
            field="session",
        )
    pickup_at = None
    address = (pickup_address or "").strip()
    if kind == SupportKind.TRANSPORTATION:
        address = _text(address, "pickup_address", "the pickup address", limit=300)
        if pickup_time is not None:
            pickup_at = local_datetime(session.date, pickup_time, tz)
            if pickup_at >= session.starts_at:
                raise RuleViolation(
                    "The pickup must be before the session starts.",
                    code="pickup_time",
                    field="pickup_time",
                )
    try:
        with transaction.atomic():
            request = SupportRequest.objects.create(
                episode=episode,
                patient=episode.patient,
                session=session,
                kind=kind,
                pickup_address=address,
                pickup_at=pickup_at,
                notes=(notes or "").strip()[:500],
                created_by=_acting(by),
                part2=episode.part2_protected,
            )
            audit_record(
                by,
                action=AuditAction.CREATE,
                patient_id=episode.patient_id,
                object_type="support_request",
                object_id=request.pk,
                detail={"kind": kind, "session": session.pk},
            )
    except IntegrityError:
        raise RuleViolation(
            f"There is already a {SupportKind(kind).label.lower()} request for this patient and "
            "session: change that one.",
            code="request_exists",
            field="session",
        ) from None
    return request


def support_request_set_status(
    *, request: SupportRequest, status: str, expected_version: int | None, by: Actor
) -> SupportRequest:
    """Book a request, put it back to requested, or cancel it (domain.REQUEST_NEXT). Raises
    RuleViolation (a cancelled request stays cancelled), Conflict, NotPermitted (audited)."""
    require_patient(by, CAP, request.patient, object_type="support_request")
    old = request.status
    if status not in SupportStatus.values or not domain.request_can_move(old, status):
        raise RuleViolation(
            f"A {old} request cannot become {status or 'that'}.", code="request_status"
        )
    with transaction.atomic():
        request.status = status
        save_if_unchanged(
            request, expected_version=expected_version, fields=["status", "updated_at"]
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=request.patient_id,
            object_type="support_request",
            object_id=request.pk,
            detail={"status": [old, status]},
        )
    return request
