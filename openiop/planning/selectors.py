"""Reads of the week's plans and of the make-up proposals. Each checks access and audits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet

from openiop.accounts.access import get_for, require, require_site
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.dates import IsoWeek
from openiop.core.errors import NotFound
from openiop.episodes.models import Episode
from openiop.planning.builder import build_week, key_pk, minute_of
from openiop.planning.domain.jsonio import instance_from_dict, solution_from_dict
from openiop.planning.domain.makeup import makeup_proposals
from openiop.planning.domain.model import Shortfall
from openiop.planning.domain.reasons import hours_text
from openiop.planning.models import PlanProposal
from openiop.programs.models import GroupSession, Site

OBJECT = "plan_proposal"


def proposals_for(*, actor: Actor, site: Site) -> QuerySet[PlanProposal]:
    """The site's proposals, newest first, with their track, author and job (one query a page).
    Names no patient, so no audit entry."""
    require(actor, Cap.SCHEDULE_MANAGE, object_type=OBJECT)
    require_site(actor, site, object_type=OBJECT)
    return (
        PlanProposal.objects.filter(site=site)
        .select_related("track", "created_by", "job")
        .defer("instance", "solution")
        .order_by("-created_at", "-pk")
    )


def proposal_get(*, actor: Actor, proposal_id: int) -> PlanProposal:
    """One proposal with its site, if the actor may plan there (not audited: the view audits
    the patients it shows)."""
    require(actor, Cap.SCHEDULE_MANAGE, object_type=OBJECT)
    return get_for(
        actor,
        PlanProposal.objects.select_related("site", "track", "created_by", "job"),
        proposal_id,
        cap=Cap.ATTENDANCE_VIEW,
        object_type=OBJECT,
        missing=NotFound("That plan does not exist."),
        site_of=lambda p: p.site_id,
        action=None,
    )


@dataclass
class Line:
    """One session of the plan: who is on it already and who the plan adds."""

    session: GroupSession
    kept: list[Episode] = field(default_factory=list)
    added: list[Episode] = field(default_factory=list)
    key: str = ""


@dataclass
class ShortLine:
    episode: Episode
    shortfall: Shortfall

    @property
    def planned(self) -> str:
        return hours_text(self.shortfall.planned_minutes)

    @property
    def required(self) -> str:
        return hours_text(self.shortfall.required_minutes)


@dataclass
class ProposalView:
    proposal: PlanProposal
    lines: list[Line]
    short: list[ShortLine]
    moves: list[tuple[Episode, GroupSession]]  # the additions, by patient
    patients: list[Episode]
    status_text: str = ""


def proposal_view(*, actor: Actor, proposal: PlanProposal) -> ProposalView:
    """The plan in words: each session with the patients kept and added, the additions by
    patient, and who still falls short and why. Audited naming the patients shown."""
    if proposal.solution is None:
        return ProposalView(proposal, [], [], [], [])
    instance = instance_from_dict(proposal.instance)
    solution = solution_from_dict(proposal.solution)
    fixed = set(instance.fixed.patient_sessions)
    sessions = GroupSession.objects.select_related("track", "room", "facilitator").in_bulk(
        [key_pk(s.id) for s in instance.sessions]
    )
    episodes = Episode.objects.select_related("patient").in_bulk(
        [key_pk(p.id) for p in instance.patients]
    )
    by_session: dict[str, list[str]] = defaultdict(list)
    for p_id, s_id in solution.patient_sessions:
        by_session[s_id].append(p_id)
    lines: list[Line] = []
    moves: list[tuple[Episode, GroupSession]] = []
    for s in sorted(instance.sessions, key=lambda s: (s.start_minute, s.id)):
        row = sessions.get(key_pk(s.id))
        if row is None:
            continue
        line = Line(session=row, key=s.id)
        for p_id in by_session[s.id]:
            e = episodes.get(key_pk(p_id))
            if e is None:
                continue
            if (p_id, s.id) in fixed:
                line.kept.append(e)
            else:
                line.added.append(e)
                moves.append((e, row))
        key = lambda e: (e.patient.legal_last_name, e.patient.legal_first_name)  # noqa: E731
        line.kept.sort(key=key)
        line.added.sort(key=key)
        lines.append(line)
    moves.sort(key=lambda m: (m[0].patient.legal_last_name, m[1].starts_at))
    short = [
        ShortLine(episodes[key_pk(s.patient)], s)
        for s in solution.shortfalls
        if key_pk(s.patient) in episodes
    ]
    patients = sorted(
        episodes.values(), key=lambda e: (e.patient.legal_last_name, e.patient.legal_first_name)
    )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type=OBJECT,
        object_id=proposal.pk,
        patient_ids=[e.patient_id for e in episodes.values()],
    )
    return ProposalView(proposal, lines, short, moves, patients)


# --- make-up -------------------------------------------------------------------------------------
@dataclass
class MakeUpOption:
    session: GroupSession
    minutes: int
    seats_left: int
    suggested: bool


@dataclass
class MakeUpRow:
    episode: Episode
    short_minutes: int
    options: list[MakeUpOption]

    @property
    def short(self) -> str:
        return hours_text(self.short_minutes)


def makeup_board(*, actor: Actor, site: Site, today: dt.date) -> list[MakeUpRow]:
    """The site's active patients who cannot reach this week's minimum on the sessions ahead of
    them, each with the later sessions of this week that fit (planning.domain.makeup). Checks
    Cap.ATTENDANCE_RECORD and the site; one audit entry names the patients shown."""
    require(actor, Cap.ATTENDANCE_RECORD, object_type="makeup")
    require_site(actor, site, object_type="makeup")
    week = IsoWeek.of(today)
    built = build_week(site=site, week=week, today=today)
    from_minute = max(0, minute_of(now(), week.monday, site.tz))
    found = makeup_proposals(
        built.instance, [n for n in built.needs if n.short_minutes > 0], from_minute=from_minute
    )
    short = {n.patient: n.short_minutes for n in built.needs if n.short_minutes > 0}
    sessions = GroupSession.objects.select_related("track", "room").in_bulk(
        {key_pk(m.session) for m in found}
    )
    episodes = Episode.objects.select_related("patient").in_bulk([key_pk(p) for p in short])
    options: dict[str, list[MakeUpOption]] = defaultdict(list)
    for m in found:
        options[m.patient].append(
            MakeUpOption(sessions[key_pk(m.session)], m.minutes, m.seats_left, m.suggested)
        )
    rows = [
        MakeUpRow(episodes[key_pk(p)], minutes, options.get(p, []))
        for p, minutes in short.items()
        if key_pk(p) in episodes
    ]
    rows.sort(key=lambda r: (r.episode.patient.legal_last_name, r.episode.patient.legal_first_name))
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="makeup",
        object_id=str(week),
        patient_ids=[r.episode.patient_id for r in rows],
    )
    return rows
