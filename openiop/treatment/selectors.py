"""Reads of treatment plans: access checked and audited here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Prefetch, Q, QuerySet

from openiop.accounts.access import get_for, require, site_scope
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.patients.selectors import patient_match
from openiop.treatment import domain
from openiop.treatment.models import (
    DischargeSummary,
    PlanGoal,
    PlanObjective,
    PlanProblem,
    PlanStatus,
    TreatmentPlan,
)

READ_CAP = Cap.CLINICAL_VIEW


def plans_with_tree() -> QuerySet[TreatmentPlan]:
    """Plans with problems, goals, objectives, interventions and signatures in fixed queries."""
    return TreatmentPlan.objects.select_related(
        "episode__site", "patient", "created_by", "previous"
    ).prefetch_related(
        Prefetch(
            "problems",
            queryset=PlanProblem.objects.prefetch_related(
                Prefetch(
                    "goals",
                    queryset=PlanGoal.objects.prefetch_related(
                        "objectives", "interventions__responsible"
                    ),
                )
            ),
        ),
        "signatures__recorded_by",
    )


def plan_get(*, actor: Actor, plan_id: int, purpose: str = "treatment_plan") -> TreatmentPlan:
    """One plan version with its whole tree; audited as a view of its patient.

    Raises NotFound for an unknown id; NotPermitted (audited) without Cap.CLINICAL_VIEW at the
    patient's site.
    """
    return get_for(
        actor,
        plans_with_tree(),
        plan_id,
        cap=READ_CAP,
        object_type=purpose,
        missing=NotFound("There is no treatment plan with this number.", code="plan_not_found"),
        patient_of=lambda p: p.patient,
    )


@dataclass
class EpisodePlans:
    episode: Episode
    plans: list[TreatmentPlan]
    due: domain.PlanDue | None


def last_signed_on(plans: list[TreatmentPlan], tz: dt.tzinfo) -> dt.date | None:
    signed = [p.signed_at for p in plans if p.signed_at is not None]
    return max(signed).astimezone(tz).date() if signed else None


def episode_plans(*, actor: Actor, episode_id: int, at: dt.datetime) -> EpisodePlans:
    """An episode's plan versions (newest first) and what is due next; audited."""
    episode = get_for(
        actor,
        Episode.objects.select_related("patient", "site", "primary_clinician"),
        episode_id,
        cap=READ_CAP,
        object_type="treatment_plans",
        missing=NotFound("There is no episode with this number.", code="episode_not_found"),
        patient_of=lambda e: e.patient,
    )
    plans = list(
        TreatmentPlan.objects.filter(episode=episode)
        .select_related("created_by")
        .order_by("-number")
    )
    due = None
    if episode.status != EpisodeStatus.DISCHARGED:
        due = domain.plan_due(
            admission_date=episode.admission_date,
            last_signed_on=last_signed_on(plans, episode.site.tz),
            today=at.astimezone(episode.site.tz).date(),
            due_days=settings.TREATMENT_PLAN_DUE_DAYS,
            review_days=settings.TREATMENT_PLAN_REVIEW_DAYS,
        )
    return EpisodePlans(episode=episode, plans=plans, due=due)


@dataclass
class DueRow:
    episode: Episode
    due: domain.PlanDue
    has_draft: bool


def plans_due(
    *, actor: Actor, at: dt.datetime, include_ok: bool = False, q: str = ""
) -> list[DueRow]:
    """Active and on-hold episodes at the actor's sites whose plan is due or overdue (most
    overdue first), in a fixed number of queries; one audit entry names every patient shown.
    `at` is the current instant; each episode's 'today' is taken in its site's time zone.
    `q` keeps patients matching the search box (name words, MRN or date of birth)."""
    require(actor, READ_CAP, object_type="plans_due")
    episodes = (
        Episode.objects.filter(site_scope(actor))
        .filter(status__in=[EpisodeStatus.ACTIVE, EpisodeStatus.ON_HOLD])
        .select_related("patient", "site", "primary_clinician")
        .annotate(
            last_signed=Max(
                "treatment_plans__signed_at",
                filter=Q(treatment_plans__status__in=[PlanStatus.SIGNED, PlanStatus.SUPERSEDED]),
            ),
            drafts=Max("treatment_plans__id", filter=Q(treatment_plans__status=PlanStatus.DRAFT)),
        )
    )
    episodes = episodes.filter(patient_match(q))
    rows: list[DueRow] = []
    for e in episodes:
        signed_on = e.last_signed.astimezone(e.site.tz).date() if e.last_signed else None
        due = domain.plan_due(
            admission_date=e.admission_date,
            last_signed_on=signed_on,
            today=at.astimezone(e.site.tz).date(),
            due_days=settings.TREATMENT_PLAN_DUE_DAYS,
            review_days=settings.TREATMENT_PLAN_REVIEW_DAYS,
        )
        if include_ok or due.timing != domain.PlanTiming.OK:
            rows.append(DueRow(episode=e, due=due, has_draft=e.drafts is not None))
    rows.sort(key=lambda r: (r.due.days_left, r.episode.patient.legal_last_name))
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="plans_due",
        patient_ids=[r.episode.patient_id for r in rows],
    )
    return rows


def current_objectives(episode_ids: list[int]) -> dict[int, list[PlanObjective]]:
    """Per episode, the objectives of its current plan (the latest signed version, else the draft),
    for linking notes to them. Two queries whatever the number of episodes. Not audited: callers
    are selectors that audit the page they build."""
    plans = (
        TreatmentPlan.objects.filter(episode_id__in=episode_ids)
        .exclude(status=PlanStatus.SUPERSEDED)
        .order_by("episode_id", "number")
        .values_list("episode_id", "id", "status")
    )
    chosen: dict[int, int] = {}
    for episode_id, plan_id, status in plans:
        if status == PlanStatus.SIGNED or episode_id not in chosen:
            chosen[episode_id] = plan_id
    by_plan: dict[int, list[PlanObjective]] = {pid: [] for pid in chosen.values()}
    for o in PlanObjective.objects.filter(
        goal__problem__plan_id__in=chosen.values()
    ).select_related("goal__problem"):
        by_plan[o.goal.problem.plan_id].append(o)
    return {eid: by_plan[pid] for eid, pid in chosen.items()}


def episode_diagnoses(episode_ids: list[int]) -> dict[int, list[str]]:
    """Per episode, the ICD-10-CM codes of its current plan's problems (the latest signed
    version, else the draft; the same plan as current_objectives), in problem order, principal
    first. Two queries whatever the number of episodes. Not audited: callers (billing's claim
    builder) audit the patients they read. Episodes without a plan are missing from the result."""
    plans = (
        TreatmentPlan.objects.filter(episode_id__in=episode_ids)
        .exclude(status=PlanStatus.SUPERSEDED)
        .order_by("episode_id", "number")
        .values_list("episode_id", "id", "status")
    )
    chosen: dict[int, int] = {}
    for episode_id, plan_id, status in plans:
        if status == PlanStatus.SIGNED or episode_id not in chosen:
            chosen[episode_id] = plan_id
    by_plan: dict[int, list[str]] = {pid: [] for pid in chosen.values()}
    for plan_id, code in PlanProblem.objects.filter(plan_id__in=chosen.values()).values_list(
        "plan_id", "icd10_code"
    ):
        if code.strip():
            by_plan[plan_id].append(code.strip())
    return {eid: by_plan[pid] for eid, pid in chosen.items()}


@dataclass
class DischargeView:
    episode: Episode
    summary: DischargeSummary | None


def discharge_summary_get(
    *, actor: Actor, episode_id: int, purpose: str = "discharge_summary"
) -> DischargeView:
    """An episode and its discharge summary (None before it is started), with referrals; audited.
    Raises NotFound / NotPermitted (audited) without Cap.CLINICAL_VIEW at the patient's site."""
    episode = get_for(
        actor,
        Episode.objects.select_related("patient", "site__organization", "primary_clinician"),
        episode_id,
        cap=READ_CAP,
        object_type=purpose,
        missing=NotFound("There is no episode with this number.", code="episode_not_found"),
        patient_of=lambda e: e.patient,
        action=None,  # audited below, naming the summary once it is known
    )
    summary = (
        DischargeSummary.objects.select_related("signed_by", "copy_given_by", "created_by")
        .prefetch_related("referrals")
        .filter(episode=episode)
        .first()
    )
    if summary is not None:
        summary.episode = episode
        summary.patient = episode.patient
    audit_record(
        actor,
        action=AuditAction.EXPORT if purpose.endswith("print") else AuditAction.VIEW,
        patient_id=episode.patient_id,
        object_type=purpose,
        object_id=summary.pk if summary else episode.pk,
    )
    return DischargeView(episode=episode, summary=summary)


def current_goals(episode_id: int) -> list[PlanGoal]:
    """The goals of an episode's current plan (the latest signed version, else the draft), each
    with its problem, in plan order. Two queries. Not audited: for a selector that audits the page
    it builds (billing's concurrent-review packet)."""
    plan = (
        TreatmentPlan.objects.filter(episode_id=episode_id)
        .exclude(status=PlanStatus.SUPERSEDED)
        .order_by("-number")
        .values_list("id", "status")
    )
    rows = list(plan)
    chosen = next((pid for pid, status in rows if status == PlanStatus.SIGNED), None)
    if chosen is None and rows:
        chosen = rows[0][0]
    if chosen is None:
        return []
    return list(
        PlanGoal.objects.filter(problem__plan_id=chosen)
        .select_related("problem")
        .order_by("problem__position", "problem_id", "id")
    )
