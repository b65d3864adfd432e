"""Every write of the week's plan: start one (queued to planning.tasks, whose body is
planning.solve), edit, accept into the rosters, discard; and the make-up action. Each owns its transaction, permission check and
audit entry.

Accepting only adds (docs/planning-format.md, "Accepting a plan"): the plan's assignments beyond
the rosters become roster seats (attendance.services.roster_seats_add); nobody is ever taken off a
roster by a plan. When a roster of the planned week changed after the proposal was made (someone
enrolled, left, was seated or recorded, a session was moved or cancelled), accepting is refused
with the list of changes, and the director plans again.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from openiop.accounts.access import require, require_site
from openiop.accounts.domain import Cap
from openiop.attendance.services import roster_seats_add
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.clock import local_today, now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.dates import IsoWeek
from openiop.core.errors import Conflict, RuleViolation
from openiop.core.jobs import enqueue
from openiop.episodes.models import Episode
from openiop.planning.builder import build_week, key_pk
from openiop.planning.domain.edit import Edit, apply_edit
from openiop.planning.domain.jsonio import (
    instance_from_dict,
    instance_to_dict,
    solution_from_dict,
    solution_to_dict,
)
from openiop.planning.domain.model import Instance, Solution
from openiop.planning.models import PlanProposal, ProposalStatus
from openiop.planning.tasks import solve_plan
from openiop.programs.models import GroupSession, Site, Track

OBJECT = "plan_proposal"


def _require_planner(by: Actor, site: Site | int) -> None:
    require(by, Cap.SCHEDULE_MANAGE, object_type=OBJECT)
    require(by, Cap.ATTENDANCE_VIEW, object_type=OBJECT)
    require_site(by, site, object_type=OBJECT)


def proposal_start(
    *, site: Site, week: IsoWeek, track: Track | None = None, by: Actor
) -> PlanProposal:
    """Read the week from the database and queue the planner on it (planning.tasks.solve_plan).

    Returns the proposal (status queued). Refuses a week that has begun at the site (a week
    under way is the make-up planner's), a track of another site. Audited naming the patients
    the instance holds."""
    _require_planner(by, site)
    user = by.user
    assert user is not None
    today = local_today(site.tz)
    if week.monday <= today:
        raise RuleViolation(
            f"The week of {week.monday:%b %-d} has begun; plan a week still to come "
            "(for this week, see Make-up hours).",
            field="week",
        )
    if track is not None and track.site_id != site.pk:
        raise RuleViolation("That track is not at this site.", field="track")
    built = build_week(site=site, week=week, today=today, track=track)
    with transaction.atomic():
        proposal = PlanProposal.objects.create(
            site=site,
            track=track,
            week_start=week.monday,
            instance=instance_to_dict(built.instance),
            created_by=user,
        )
        job_row = enqueue(solve_plan, proposal.pk)
        PlanProposal.objects.filter(pk=proposal.pk).update(job=job_row)
        proposal.job = job_row
        audit_record_many(
            by,
            action=AuditAction.CREATE,
            object_type=OBJECT,
            object_id=proposal.pk,
            patient_ids=[key_pk(p.id) for p in built.instance.patients],
            detail={"week": str(week), "track": track.pk if track else None},
        )
    return proposal


def _draft(proposal: PlanProposal) -> tuple[Instance, Solution]:
    if proposal.status != ProposalStatus.DRAFT or proposal.solution is None:
        raise RuleViolation(
            f"This plan is {proposal.get_status_display().lower()}; only a draft can be changed.",
            code="not_draft",
        )
    return instance_from_dict(proposal.instance), solution_from_dict(proposal.solution)


_ID = re.compile(r"\b([esu])(\d+)\b")


def describe(text: str, names: dict[str, str]) -> str:
    """A checker's message with ids (e12, s34, u5) replaced by the names in `names`."""
    return _ID.sub(lambda m: names.get(m.group(0), m.group(0)), text)


def session_names(instance: Instance, site: Site) -> dict[str, str]:
    """'s34' -> 'Process group Tue Mar 3 09:00' (clinic-local), for every session of the plan."""
    tz = site.tz
    rows = GroupSession.objects.filter(pk__in=[key_pk(s.id) for s in instance.sessions]).only(
        "title", "starts_at"
    )
    return {f"s{s.pk}": f"{s.title} {s.starts_at.astimezone(tz):%a %b %-d %H:%M}" for s in rows}


def patient_names(instance: Instance) -> dict[str, str]:
    rows = Episode.objects.filter(pk__in=[key_pk(p.id) for p in instance.patients]).select_related(
        "patient"
    )
    return {f"e{e.pk}": e.patient.display_name for e in rows}


def proposal_edit(
    *, proposal: PlanProposal, edit: Edit, expected_version: int | None, by: Actor
) -> PlanProposal:
    """Apply one edit (move, remove, add) to a draft plan. An edit that breaks a hard rule
    (capacity, availability, overlap, a roster the plan must keep...) is refused with the
    checker's reasons in words, and the plan stays as it was. Raises RuleViolation, Conflict
    (someone else changed the plan since it was read)."""
    _require_planner(by, proposal.site_id)
    instance, solution = _draft(proposal)
    result = apply_edit(instance, solution, edit)
    if result.problem:
        raise RuleViolation(result.problem + " The plan is unchanged.", code="edit_refused")
    if result.violations:
        names = {**patient_names(instance), **session_names(instance, proposal.site)}
        reasons = "; ".join(dict.fromkeys(describe(v.message, names) for v in result.violations))
        raise RuleViolation(
            f"That change breaks the rules: {reasons}. The plan is unchanged.",
            code="edit_refused",
        )
    with transaction.atomic():
        proposal.solution = solution_to_dict(result.solution)
        proposal.updated_at = now()
        save_if_unchanged(
            proposal, expected_version=expected_version, fields=["solution", "updated_at"]
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=key_pk(edit.patient),
            object_type=OBJECT,
            object_id=proposal.pk,
            detail={
                "op": edit.op,
                "from": edit.from_session,
                "to": edit.to_session,
            },
        )
    return proposal


def _roster_changes(proposal: PlanProposal, then: Instance, today: dt.date) -> list[str]:
    """How the rosters and sessions of the plan's week differ now from when it was made."""
    track = Track.objects.get(pk=proposal.track_id) if proposal.track_id else None
    current = build_week(
        site=proposal.site, week=IsoWeek.of(proposal.week_start), today=today, track=track
    ).instance
    names = {
        **patient_names(then),
        **patient_names(current),
        **session_names(then, proposal.site),
    }
    changes: list[str] = []
    old_sessions = {s.id: s for s in then.sessions}
    new_sessions = {s.id: s for s in current.sessions}
    for s_id, s in old_sessions.items():
        now_s = new_sessions.get(s_id)
        if now_s is None:
            changes.append(f"{names.get(s_id, s_id)} was cancelled or moved out of the week")
        elif (now_s.start_minute, now_s.end_minute) != (s.start_minute, s.end_minute):
            changes.append(f"{names.get(s_id, s_id)} was moved")
    old_pairs = set(then.fixed.patient_sessions)
    new_pairs = {p for p in current.fixed.patient_sessions if p[1] in old_sessions}
    for p_id, s_id in sorted(new_pairs - old_pairs):
        changes.append(f"{names.get(p_id, p_id)} joined {names.get(s_id, s_id)}")
    for p_id, s_id in sorted(old_pairs - new_pairs):
        if s_id in new_sessions:
            changes.append(f"{names.get(p_id, p_id)} left {names.get(s_id, s_id)}")
    return changes


def proposal_accept(
    *, proposal: PlanProposal, expected_version: int | None, by: Actor
) -> PlanProposal:
    """Put a draft plan into the real rosters in one step: each assignment beyond the rosters
    becomes a roster seat (attendance.services.roster_seats_add), nothing is removed, one
    transaction, one audit entry naming every patient seated.

    Refused (Conflict, listing the changes) when a roster or session of the week changed since
    the proposal was made; refused (RuleViolation) once the week has begun or for a plan that
    is not a draft; Conflict when someone else edited the plan since it was read."""
    _require_planner(by, proposal.site_id)
    user = by.user
    assert user is not None
    with transaction.atomic():
        locked = PlanProposal.objects.select_for_update().select_related("site").get(pk=proposal.pk)
        if expected_version is None or locked.version != expected_version:
            raise Conflict(
                "Someone changed this plan while you were looking at it. Reload it, then accept.",
                code="stale_version",
            )
        instance, solution = _draft(locked)
        today = local_today(locked.site.tz)
        if locked.week_start <= today:
            raise RuleViolation(
                "This week has begun; its plan can no longer be accepted. Use Make-up hours.",
                code="week_begun",
            )
        changes = _roster_changes(locked, instance, today)
        if changes:
            raise Conflict(
                "The rosters changed since this plan was made, so it was not accepted (nothing "
                "was changed): " + "; ".join(changes) + ". Plan the week again.",
                code="rosters_changed",
            )
        additions = sorted(set(solution.patient_sessions) - set(instance.fixed.patient_sessions))
        sessions = GroupSession.objects.select_related("site").in_bulk(
            [key_pk(s) for _, s in additions]
        )
        episodes = Episode.objects.select_related("patient").in_bulk(
            [key_pk(p) for p, _ in additions]
        )
        roster_seats_add(
            seats=[(sessions[key_pk(s)], episodes[key_pk(p)]) for p, s in additions],
            source=f"plan {locked.pk}",
            by=by,
        )
        locked.status = ProposalStatus.ACCEPTED
        locked.decided_by = user
        locked.decided_at = now()
        locked.seats_added = len(additions)
        locked.updated_at = now()
        save_if_unchanged(
            locked,
            expected_version=expected_version,
            fields=["status", "decided_by", "decided_at", "seats_added", "updated_at"],
        )
        audit_record_many(
            by,
            action=AuditAction.UPDATE,
            object_type=OBJECT,
            object_id=locked.pk,
            patient_ids=[key_pk(p) for p, _ in additions],
            detail={"status": "accepted", "seats_added": len(additions)},
        )
    return locked


def proposal_discard(
    *, proposal: PlanProposal, expected_version: int | None, by: Actor
) -> PlanProposal:
    """Set a queued or draft plan aside (kept, marked discarded). Audited."""
    _require_planner(by, proposal.site_id)
    user = by.user
    assert user is not None
    if proposal.status not in (ProposalStatus.QUEUED, ProposalStatus.DRAFT, ProposalStatus.FAILED):
        raise RuleViolation("This plan was already decided.", code="not_draft")
    with transaction.atomic():
        proposal.status = ProposalStatus.DISCARDED
        proposal.decided_by = user
        proposal.decided_at = now()
        proposal.updated_at = now()
        save_if_unchanged(
            proposal,
            expected_version=expected_version,
            fields=["status", "decided_by", "decided_at", "updated_at"],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type=OBJECT,
            object_id=proposal.pk,
            detail={"status": "discarded"},
        )
    return proposal


def makeup_add(*, session: GroupSession, episode: Episode, by: Actor) -> None:
    """Add a patient to a later session of this week to make up hours (the roster service)."""
    roster_seats_add(seats=[(session, episode)], source="make-up", by=by)
