"""Reads of case management. Each page's selector checks Cap.CASE_MANAGE at the site or the
patient's site and audits the patients it shows; the helpers at the end serve other apps' pages
(the roster, the discharge summary), whose own selectors have checked access and audit."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from openiop.accounts.access import get_for, require, require_site
from openiop.accounts.domain import Cap, roles_with
from openiop.audit.choices import AuditAction
from openiop.audit.services import audit_record_many
from openiop.casemgmt import domain
from openiop.casemgmt.choices import ResourceKind, TaskView
from openiop.casemgmt.models import CaseTask, CommunityResource, Referral, SupportRequest
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import format_local
from openiop.core.errors import NotFound
from openiop.episodes.choices import OPEN_STATUSES
from openiop.episodes.models import Episode
from openiop.patients.models import Patient
from openiop.programs.choices import SessionStatus
from openiop.programs.models import Enrollment, GroupSession, Site, enrolled_q

if TYPE_CHECKING:
    from openiop.accounts.models import User

CAP = Cap.CASE_MANAGE
# How far ahead the sessions offered for a ride or childcare go.
BOOKING_DAYS_AHEAD = 21


# --- the directory ---------------------------------------------------------------------------
def resource_search(
    *, actor: Actor, site: Site, query: str = "", kind: str = "", include_inactive: bool = False
) -> QuerySet[CommunityResource]:
    """A site's resources by name: those whose name, address or notes contain `query`, of `kind`
    when given, active ones only unless `include_inactive`. NotPermitted (audited) without
    Cap.CASE_MANAGE at the site. Not patient data: not audited as a read."""
    require_site(actor, site, CAP, object_type="community_resource")
    qs = CommunityResource.objects.filter(site=site)
    if not include_inactive:
        qs = qs.filter(active=True)
    if kind in ResourceKind.values:
        qs = qs.filter(kind=kind)
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(name__icontains=query) | Q(address__icontains=query) | Q(notes__icontains=query)
        )
    return qs.order_by("name", "id")


def resource_get(*, actor: Actor, resource_id: int) -> CommunityResource:
    """One resource of a site the actor does case management at. NotFound, NotPermitted."""
    return get_for(
        actor,
        CommunityResource.objects.select_related("site"),
        resource_id,
        cap=CAP,
        object_type="community_resource",
        missing=NotFound("There is no such resource.", code="resource_not_found"),
        site_of=lambda r: r.site_id,
        action=None,  # not patient data
    )


# --- a patient's case file -------------------------------------------------------------------
@dataclass
class CaseFile:
    patient: Patient
    episodes: list[Episode]  # open ones, newest first
    referrals: list[Referral]
    requests: list[SupportRequest]
    tasks: list[CaseTask]
    resources: list[CommunityResource]  # active ones of the patient's site, to refer to
    sessions: list[GroupSession]  # upcoming sessions the patient is on, for rides and childcare
    staff: list[User]  # who may hold a task

    @property
    def episode(self) -> Episode | None:
        return self.episodes[0] if self.episodes else None


def case_file(*, actor: Actor, patient_id: int, today: dt.date | None = None) -> CaseFile:
    """A patient's referrals, ride and childcare requests and open tasks, with what the forms
    offer. `today` defaults to the clinic's local date at the patient's site (sessions are offered
    from it on). Audited once as
    'casework'. Raises NotFound; NotPermitted (audited) without Cap.CASE_MANAGE at the patient's
    site. A fixed number of queries whatever the number of records."""
    from openiop.accounts.models import User

    patient = get_for(
        actor,
        Patient.objects.select_related("site", "organization"),
        patient_id,
        cap=CAP,
        object_type="casework",
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
    )
    episodes = list(
        Episode.objects.filter(patient=patient, status__in=OPEN_STATUSES)
        .select_related("site")
        .order_by("-admission_date", "-id")
    )
    referrals = list(
        Referral.objects.filter(patient=patient).select_related("resource", "created_by")
    )
    requests = list(
        SupportRequest.objects.filter(patient=patient)
        .select_related("session__site")
        .order_by("-session__starts_at", "-id")
    )
    tasks = list(
        CaseTask.objects.filter(patient=patient, done_at__isnull=True).select_related("owner")
    )
    resources = list(
        CommunityResource.objects.filter(site_id=patient.site_id, active=True).order_by(
            "kind", "name"
        )
    )
    today = today or local_today(patient.site.tz)
    sessions = sessions_for_booking(episodes, today=today)
    # Who may hold a task about this patient: active staff who do case management and see the
    # patient's site (they work there, or their role sees every site of the organization).
    every_site = sorted(r.value for r in roles_with(CAP) & roles_with(Cap.ALL_SITES))
    staff = list(
        User.objects.filter(is_active=True, role__in=_roles_with_cap())
        .filter(
            Q(sites=patient.site_id)
            | Q(role__in=every_site, organization_id=patient.organization_id)
        )
        .distinct()
        .order_by("last_name", "first_name", "id")
    )
    return CaseFile(patient, episodes, referrals, requests, tasks, resources, sessions, staff)


def _roles_with_cap() -> list[str]:
    return sorted(r.value for r in roles_with(CAP))


def sessions_for_booking(episodes: Sequence[Episode], *, today: dt.date) -> list[GroupSession]:
    """The scheduled sessions from `today` to BOOKING_DAYS_AHEAD days on whose roster one of the
    episodes is (its track's sessions while enrolled, or its own individual sessions), by start.
    One query (none without episodes)."""
    if not episodes:
        return []
    ids = [e.pk for e in episodes]
    last = today + dt.timedelta(days=BOOKING_DAYS_AHEAD)
    # Enrolled in the session's track on the session's own date (ADR 2).
    enrolled = Enrollment.objects.filter(
        enrolled_q(OuterRef("date")),
        episode_id__in=ids,
        track_id=OuterRef("track_id"),
    )
    return list(
        GroupSession.objects.filter(date__gte=today, date__lte=last, site_id=episodes[0].site_id)
        .exclude(status=SessionStatus.CANCELLED)
        .filter(Q(episode_id__in=ids) | Q(Exists(enrolled)))
        .select_related("site", "track")
        .order_by("starts_at", "id")
    )


# --- My tasks --------------------------------------------------------------------------------
def my_tasks(*, actor: Actor, view: str, today: dt.date) -> QuerySet[CaseTask]:
    """The actor's own tasks in one list of the My tasks page: open (not done, due today or
    later), overdue (not done, due before `today`, the clinic's local date) or done; open and
    overdue by due date, soonest first, done ones latest due first. The page audits the patients
    of the rows it shows (my_tasks_shown). NotPermitted without Cap.CASE_MANAGE."""
    require(actor, CAP, object_type="my_tasks")
    assert actor.user is not None
    qs = CaseTask.objects.filter(owner=actor.user).select_related("patient", "site")
    if view == TaskView.DONE:
        return qs.filter(done_at__isnull=False).order_by("-due_on", "-id")
    qs = qs.filter(done_at__isnull=True)
    if view == TaskView.OVERDUE:
        return qs.filter(due_on__lt=today).order_by("due_on", "id")
    return qs.filter(due_on__gte=today).order_by("due_on", "id")


def my_task_counts(*, actor: Actor, today: dt.date) -> dict[str, int]:
    """How many of the actor's tasks are open, overdue and done (one query)."""
    assert actor.user is not None
    counts = {TaskView.OPEN.value: 0, TaskView.OVERDUE.value: 0, TaskView.DONE.value: 0}
    for due_on, done_at in CaseTask.objects.filter(owner=actor.user).values_list(
        "due_on", "done_at"
    ):
        counts[domain.task_state(due_on=due_on, done=done_at is not None, today=today)] += 1
    return counts


def my_tasks_shown(*, actor: Actor, tasks: Iterable[CaseTask]) -> None:
    """Audit the patients named by the tasks a page shows (one entry, none without patients)."""
    ids = [t.patient_id for t in tasks if t.patient_id]
    if ids:
        audit_record_many(actor, action=AuditAction.VIEW, object_type="my_tasks", patient_ids=ids)


def task_get(*, actor: Actor, task_id: int) -> CaseTask:
    """One task the actor may change (Cap.CASE_MANAGE at its site). NotFound, NotPermitted."""
    return get_for(
        actor,
        CaseTask.objects.select_related("patient", "site"),
        task_id,
        cap=CAP,
        object_type="case_task",
        missing=NotFound("There is no such task.", code="task_not_found"),
        site_of=lambda t: t.site_id,
        patient_id_of=lambda t: t.patient_id,
        action=None,  # the service audits the change
    )


# --- for other apps' pages -------------------------------------------------------------------
@dataclass(frozen=True)
class RosterSupport:
    """What a roster row says of a patient's ride or childcare for that session."""

    kind: str
    status: str
    label: str


def roster_support(
    *, session: GroupSession, episode_ids: Iterable[int]
) -> dict[int, list[RosterSupport]]:
    """The ride and childcare requests of a session's roster, by episode id: those that show on a
    roster (domain.shows_on_roster), with their label (pickup time in the session's site time).
    One query whatever the roster's size. No access check: for the roster's selector, which has
    checked the session and audits the patients it shows."""
    ids = list(episode_ids)
    found: dict[int, list[RosterSupport]] = defaultdict(list)
    if not ids:
        return found
    tz = session.site.tz
    rows = (
        SupportRequest.objects.filter(
            session_id=session.pk,
            episode_id__in=ids,
            status__in=sorted(domain.ROSTER_REQUEST_STATUSES),
        )
        .order_by("kind", "id")
        .values_list("episode_id", "kind", "status", "pickup_at")
    )
    for episode_id, kind, status, pickup_at in rows:
        if not domain.shows_on_roster(status):
            continue
        pickup = format_local(pickup_at, tz, with_date=False) if pickup_at else ""
        found[episode_id].append(
            RosterSupport(
                kind, status, domain.roster_label(kind=kind, status=status, pickup=pickup)
            )
        )
    return found


def aftercare_referrals(episode: Episode) -> list[dict[str, Any]]:
    """The episode's referrals for its aftercare plan, JSON-ready: open and completed ones
    (domain.referral_in_aftercare), oldest first, with the resource's kind, name, phone, address
    and hours, the status and follow-up date. One query. No access check: for the discharge
    summary's selectors and services, which check and audit."""
    rows = Referral.objects.filter(
        episode=episode, status__in=sorted(domain.AFTERCARE_REFERRAL_STATUSES)
    ).select_related("resource")
    return [
        {
            "kind": r.resource.get_kind_display(),
            "name": r.resource.name,
            "phone": r.resource.phone,
            "address": r.resource.address,
            "hours": r.resource.hours,
            "status": r.get_status_display(),
            "follow_up_on": r.follow_up_on.isoformat() if r.follow_up_on else "",
        }
        for r in sorted(rows, key=lambda r: (r.created_at, r.pk))
        if domain.referral_in_aftercare(r.status)
    ]
