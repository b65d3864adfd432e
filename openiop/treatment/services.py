"""Every write of a treatment plan goes through these functions (audited, permission-checked).

A plan version is a draft until every required signer has signed; then it is locked. An update is
`plan_revise`: a new draft that copies the signed version, which is kept (and marked superseded
when the new version is signed).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.casemgmt.selectors import aftercare_referrals
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.medications.selectors import discharge_medications
from openiop.treatment import domain
from openiop.treatment.models import (
    AftercareReferral,
    DischargeSummary,
    GoalStatus,
    Modality,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanSignature,
    PlanStatus,
    ReferralKind,
    SignerRole,
    SummaryStatus,
    TreatmentPlan,
)

if TYPE_CHECKING:
    from openiop.accounts.models import User

WRITE_CAP = Cap.NOTE_TEXT  # the clinical roles that write clinical documentation


def _audit(by: Actor, plan: TreatmentPlan, action: str, detail: dict[str, Any]) -> None:
    audit_record(
        by,
        action=action,
        patient_id=plan.patient_id,
        object_type="treatment_plan",
        object_id=plan.pk,
        detail=detail,
    )


def _acting(by: Actor) -> User:
    """The acting staff member (services call it after the permission check, which needs one)."""
    assert by.user is not None
    return by.user


def _require_draft(plan: TreatmentPlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise RuleViolation(
            f"Plan version {plan.number} is signed and locked. Start an update to change it; "
            "the signed version is kept.",
            code="plan_locked",
        )


def _locked_plan(plan: TreatmentPlan) -> TreatmentPlan:
    locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    plan.status = locked.status
    plan.version = locked.version
    return locked


def _edit_draft(plan: TreatmentPlan, by: Actor) -> TreatmentPlan:
    """Lock a draft for a change. Signatures already on it were given to the text as it was: the
    change removes them (listed in the audit entry) and the signers sign the new text."""
    locked = _locked_plan(plan)
    _require_draft(locked)
    signatures = list(PlanSignature.objects.filter(plan=locked))
    if signatures:
        PlanSignature.objects.filter(pk__in=[s.pk for s in signatures]).delete()
        _audit(
            by,
            plan,
            AuditAction.UPDATE,
            {
                "signatures_removed": [
                    {"role": s.role, "name": s.signer_name, "at": s.signed_at.isoformat()}
                    for s in signatures
                ]
            },
        )
    return locked


def _text(value: str, field: str, what: str, *, limit: int = 0) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(f"Enter {what}.", code="required", field=field)
    if limit and len(value) > limit:
        raise RuleViolation(f"Keep {what} under {limit} characters.", code="too_long", field=field)
    return value


def plan_start(*, episode: Episode, by: Actor) -> TreatmentPlan:
    """Start the first treatment plan of an episode as a draft (version 1).

    Raises RuleViolation when the episode is discharged or already has a plan (an update of a
    signed plan is `plan_revise`); NotPermitted (audited) without Cap.NOTE_TEXT at the site.
    """
    require_patient(by, WRITE_CAP, episode.patient, object_type="treatment_plan")
    if episode.status == EpisodeStatus.DISCHARGED:
        raise RuleViolation("This episode is discharged.", code="episode_discharged")
    with transaction.atomic():
        Episode.objects.select_for_update().filter(pk=episode.pk).first()
        if TreatmentPlan.objects.filter(episode=episode).exists():
            raise RuleViolation(
                "This episode already has a treatment plan: open it, or start an update.",
                code="plan_exists",
            )
        plan = TreatmentPlan.objects.create(
            episode=episode,
            patient=episode.patient,
            number=1,
            created_by=_acting(by),
            part2=episode.part2_protected,
        )
        _audit(by, plan, AuditAction.CREATE, {"number": 1})
    return plan


def plan_revise(*, plan: TreatmentPlan, review_summary: str = "", by: Actor) -> TreatmentPlan:
    """Start an update: a new draft version copying `plan` (problems, goals, objectives,
    interventions). `plan` stays as signed. Raises RuleViolation unless `plan` is the latest
    signed version and no draft exists."""
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    with transaction.atomic():
        Episode.objects.select_for_update().filter(pk=plan.episode_id).first()
        plan = TreatmentPlan.objects.get(pk=plan.pk)
        if plan.status != PlanStatus.SIGNED:
            raise RuleViolation(
                "Only the current signed version can be updated.", code="plan_not_current"
            )
        if TreatmentPlan.objects.filter(
            episode_id=plan.episode_id, status=PlanStatus.DRAFT
        ).exists():
            raise RuleViolation(
                "An update of this plan is already in progress.", code="plan_draft_exists"
            )
        new = TreatmentPlan.objects.create(
            episode_id=plan.episode_id,
            patient_id=plan.patient_id,
            number=plan.number + 1,
            previous=plan,
            strengths=plan.strengths,
            discharge_criteria=plan.discharge_criteria,
            review_summary=review_summary,
            created_by=_acting(by),
            part2=plan.part2,
        )
        for problem in plan.problems.prefetch_related("goals__objectives", "goals__interventions"):
            p = PlanProblem.objects.create(
                plan=new,
                position=problem.position,
                description=problem.description,
                icd10_code=problem.icd10_code,
                patient_words=problem.patient_words,
                part2=new.part2,
            )
            for goal in problem.goals.all():
                g = PlanGoal.objects.create(
                    problem=p, text=goal.text, status=goal.status, part2=new.part2
                )
                PlanObjective.objects.bulk_create(
                    [
                        PlanObjective(
                            goal=g, text=o.text, target_date=o.target_date, part2=new.part2
                        )
                        for o in goal.objectives.all()
                    ]
                )
                PlanIntervention.objects.bulk_create(
                    [
                        PlanIntervention(
                            goal=g,
                            modality=i.modality,
                            description=i.description,
                            frequency=i.frequency,
                            responsible_id=i.responsible_id,
                            part2=new.part2,
                        )
                        for i in goal.interventions.all()
                    ]
                )
        _audit(by, new, AuditAction.CREATE, {"number": new.number, "previous": plan.pk})
    return new


def plan_update(
    *,
    plan: TreatmentPlan,
    strengths: str,
    discharge_criteria: str,
    review_summary: str = "",
    expected_version: int | None = None,
    by: Actor,
) -> TreatmentPlan:
    """Change the free-text parts of a draft plan. Raises RuleViolation when locked, Conflict when
    someone saved it since `expected_version` was read."""
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    with transaction.atomic():
        _edit_draft(plan, by)
        plan.strengths = strengths.strip()
        plan.discharge_criteria = discharge_criteria.strip()
        plan.review_summary = review_summary.strip()
        save_if_unchanged(
            plan,
            expected_version=expected_version,
            fields=["strengths", "discharge_criteria", "review_summary"],
        )
        _audit(by, plan, AuditAction.UPDATE, {"fields": ["strengths", "discharge_criteria"]})
    return plan


def plan_add_problem(
    *, plan: TreatmentPlan, description: str, icd10_code: str, patient_words: str, by: Actor
) -> PlanProblem:
    """Add a problem with its ICD-10-CM code and the patient's own words to a draft plan."""
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    description = _text(description, "description", "the problem", limit=300)
    patient_words = _text(patient_words, "patient_words", "the problem in the patient's words")
    code = (icd10_code or "").strip().upper()
    if problem := domain.icd10cm_problem(code):
        raise RuleViolation(problem, code="icd10_invalid", field="icd10_code")
    with transaction.atomic():
        _edit_draft(plan, by)
        position = plan.problems.count() + 1
        item = PlanProblem.objects.create(
            plan=plan,
            part2=plan.part2,
            position=position,
            description=description,
            icd10_code=code,
            patient_words=patient_words,
        )
        _audit(by, plan, AuditAction.UPDATE, {"added": "problem", "id": item.pk})
    return item


def plan_add_goal(*, problem: PlanProblem, text: str, by: Actor) -> PlanGoal:
    plan = problem.plan
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    text = _text(text, "text", "the goal", limit=400)
    with transaction.atomic():
        _edit_draft(plan, by)
        goal = PlanGoal.objects.create(problem=problem, text=text, part2=problem.part2)
        _audit(by, plan, AuditAction.UPDATE, {"added": "goal", "id": goal.pk})
    return goal


def plan_set_goal_status(*, goal: PlanGoal, status: str, by: Actor) -> PlanGoal:
    """Record progress on a goal of a draft plan (met, partially met, not met, in progress)."""
    plan = goal.problem.plan
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    if status not in GoalStatus.values:
        raise RuleViolation("Choose a goal status.", code="invalid_choice", field="status")
    with transaction.atomic():
        _edit_draft(plan, by)
        goal.status = status
        goal.save(update_fields=["status", "updated_at"])
        _audit(by, plan, AuditAction.UPDATE, {"goal": goal.pk, "status": status})
    return goal


def plan_add_objective(
    *, goal: PlanGoal, text: str, target_date: dt.date | None, by: Actor
) -> PlanObjective:
    """Add a measurable objective with a target date to a goal of a draft plan."""
    plan = goal.problem.plan
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    text = _text(text, "text", "the measurable objective", limit=400)
    if target_date is None:
        raise RuleViolation("Enter the target date.", code="required", field="target_date")
    if target_date < plan.episode.admission_date:
        raise RuleViolation(
            "The target date cannot be before admission.", code="invalid", field="target_date"
        )
    with transaction.atomic():
        _edit_draft(plan, by)
        item = PlanObjective.objects.create(
            goal=goal, text=text, target_date=target_date, part2=goal.part2
        )
        _audit(by, plan, AuditAction.UPDATE, {"added": "objective", "id": item.pk})
    return item


def plan_add_intervention(
    *,
    goal: PlanGoal,
    modality: str,
    frequency: str,
    responsible: User | None,
    description: str = "",
    by: Actor,
) -> PlanIntervention:
    """Add an intervention (modality, frequency, responsible staff) to a goal of a draft plan."""
    plan = goal.problem.plan
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    if modality not in Modality.values:
        raise RuleViolation("Choose a modality.", code="invalid_choice", field="modality")
    frequency = _text(frequency, "frequency", "how often", limit=100)
    if responsible is None or not responsible.is_active or not responsible.can(Cap.CLINICAL_VIEW):
        raise RuleViolation(
            "Choose an active member of the clinical staff as responsible.",
            code="not_clinical_staff",
            field="responsible",
        )
    with transaction.atomic():
        _edit_draft(plan, by)
        item = PlanIntervention.objects.create(
            goal=goal,
            part2=goal.part2,
            modality=modality,
            frequency=frequency,
            responsible=responsible,
            description=description.strip(),
        )
        _audit(by, plan, AuditAction.UPDATE, {"added": "intervention", "id": item.pk})
    return item


REMOVABLE = {
    "problem": (PlanProblem, "plan"),
    "goal": (PlanGoal, "problem__plan"),
    "objective": (PlanObjective, "goal__problem__plan"),
    "intervention": (PlanIntervention, "goal__problem__plan"),
}


def plan_remove_item(*, plan: TreatmentPlan, kind: str, item_id: int, by: Actor) -> None:
    """Remove a problem (with its goals), goal, objective or intervention from a draft plan.

    Signed versions never change. Raises RuleViolation for a locked plan or an item not in it.
    """
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    if kind not in REMOVABLE:
        raise RuleViolation("Choose what to remove.", code="invalid_choice")
    model, path = REMOVABLE[kind]
    with transaction.atomic():
        _edit_draft(plan, by)
        deleted, _ = model.objects.filter(pk=item_id, **{path: plan}).delete()  # type: ignore[attr-defined]
        if not deleted:
            raise RuleViolation(f"That {kind} is not in this plan.", code="not_in_plan")
        _audit(by, plan, AuditAction.UPDATE, {"removed": kind, "id": item_id})


def plan_outline(plan: TreatmentPlan) -> list[domain.ProblemOutline]:
    """The plan as the pure completeness check sees it (uses prefetched rows when present)."""
    return [
        domain.ProblemOutline(
            description=p.description,
            icd10_code=p.icd10_code,
            patient_words=p.patient_words,
            goals=tuple(
                domain.GoalOutline(
                    text=g.text,
                    objectives=tuple(
                        domain.ObjectiveOutline(o.text, o.target_date) for o in g.objectives.all()
                    ),
                    intervention_count=len(g.interventions.all()),
                )
                for g in p.goals.all()
            ),
        )
        for p in plan.problems.all()
    ]


def required_signers(plan: TreatmentPlan, on: dt.date) -> tuple[str, ...]:
    return domain.signatures_required(date_of_birth=plan.patient.date_of_birth, on=on)


def plan_sign(*, plan: TreatmentPlan, role: str, signer_name: str = "", by: Actor) -> PlanSignature:
    """Record one signature on a draft plan; the last required one locks the plan.

    The clinician signs as themselves (the acting user); the patient's and a guardian's signatures
    are witnessed and recorded by the acting staff member with the signer's name. A guardian signs
    only for a minor. Everyone signs a complete plan only (see domain.plan_gaps); a change to
    a draft removes the signatures already on it (_edit_draft). When every
    required signer has signed, the plan becomes signed (locked) and the version it updates is
    marked superseded. Raises RuleViolation naming what is missing.
    """
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    user = by.user
    assert user is not None
    if role not in SignerRole.values:
        raise RuleViolation("Choose who signs.", code="invalid_choice", field="role")
    at = now()
    today = at.astimezone(plan.episode.site.tz).date()
    required = required_signers(plan, today)
    if role not in required:
        raise RuleViolation(
            "A guardian signs only for a patient under 18.",
            code="signer_not_required",
            field="role",
        )
    if role == SignerRole.CLINICIAN:
        signer_name = str(user)
    else:
        signer_name = _text(signer_name, "signer_name", "the name of the person signing", limit=200)
    with transaction.atomic():
        locked = _locked_plan(plan)
        _require_draft(locked)
        # Every signer signs a complete plan (the patient too: nothing is left blank to fill later).
        fresh = TreatmentPlan.objects.prefetch_related(
            "problems__goals__objectives", "problems__goals__interventions"
        ).get(pk=plan.pk)
        gaps = domain.plan_gaps(plan_outline(fresh))
        if gaps:
            raise RuleViolation(
                "The plan is not complete: " + " ".join(gaps), code="plan_incomplete"
            )
        try:
            with transaction.atomic():
                signature = PlanSignature.objects.create(
                    plan=plan,
                    role=role,
                    signer_name=signer_name,
                    signed_at=at,
                    recorded_by=user,
                    part2=plan.part2,
                )
        except IntegrityError as exc:
            raise RuleViolation(
                f"The {SignerRole(role).label.lower()} has already signed this version.",
                code="already_signed",
                field="role",
            ) from exc
        signed_roles = list(plan.signatures.values_list("role", flat=True))
        missing = domain.missing_signatures(required, signed_roles)
        detail: dict[str, Any] = {"signed": role}
        if not missing:
            plan.status = PlanStatus.SIGNED
            plan.signed_at = at
            save_if_unchanged(plan, expected_version=locked.version, fields=["status", "signed_at"])
            if plan.previous_id:
                TreatmentPlan.objects.filter(pk=plan.previous_id).update(
                    status=PlanStatus.SUPERSEDED
                )
            detail["locked"] = True
        _audit(by, plan, AuditAction.UPDATE, detail)
    return signature


# --- discharge summary ----------------------------------------------------------------------------
CRISIS_DEFAULT = (
    "988 Suicide & Crisis Lifeline: call or text 988, or chat at 988lifeline.org (24/7; veterans "
    "press 1). In an emergency call 911 or go to the nearest emergency department."
)


def _scores(episode: Episode) -> dict[str, Any]:
    """First and latest questionnaire scores, from openiop.measures when that app is installed.

    Reads `openiop.measures.selectors.score_summary_for_episode(episode=...)` without an actor: the
    discharge summary's own selector has checked access and audited the read.
    """
    from django.apps import apps

    if not apps.is_installed("openiop.measures"):
        return {"available": False, "rows": []}
    # Imported by name: openiop.measures is built in parallel and may not be in this install.
    measures_selectors = importlib.import_module("openiop.measures.selectors")

    rows = []
    for s in measures_selectors.score_summary_for_episode(episode=episode):
        rows.append(
            {
                "instrument": str(getattr(s, "instrument", "")),
                "label": str(getattr(s, "label", getattr(s, "instrument", ""))),
                "count": int(getattr(s, "count", 0) or 0),
                "first_total": getattr(s, "first_total", None),
                "first_band": str(getattr(s, "first_band", "") or ""),
                "first_date": str(getattr(s, "first_date", "") or ""),
                "latest_total": getattr(s, "latest_total", None),
                "latest_band": str(getattr(s, "latest_band", "") or ""),
                "latest_date": str(getattr(s, "latest_date", "") or ""),
            }
        )
    return {"available": True, "rows": rows}


def discharge_facts(episode: Episode) -> dict[str, Any]:
    """What the record says for the discharge summary, as JSON-ready data: dates, length of stay,
    reason, level of care at discharge, sessions attended by type with hours, first and latest
    scores, the goals of the current plan with whether each was met, and the episode's community
    referrals that are open or completed (casemgmt), and the medications at discharge: the
    patient's active medication list and open MAT episodes (medications). Not audited: the callers
    are services and selectors that check access and audit."""
    from openiop.attendance.choices import ATTENDED_STATUSES
    from openiop.attendance.models import Attendance
    from openiop.programs.choices import SessionKind

    attended = Attendance.objects.filter(episode=episode, status__in=ATTENDED_STATUSES).values_list(
        "session__kind", "minutes_attended"
    )
    totals = domain.totals_by_kind(domain.AttendedSession(k, m) for k, m in attended)
    labels = dict(SessionKind.choices)
    plan = (
        TreatmentPlan.objects.filter(episode=episode)
        .exclude(status=PlanStatus.SUPERSEDED)
        .order_by("-status", "-number")  # descending: 'signed' before 'draft'
        .first()
    )
    goals = []
    if plan is not None:
        for goal in PlanGoal.objects.filter(problem__plan=plan).select_related("problem"):
            goals.append(
                {
                    "key": f"{goal.problem.icd10_code}|{goal.text}",
                    "problem": f"{goal.problem.icd10_code} {goal.problem.description}",
                    "goal": goal.text,
                    "status": goal.get_status_display(),
                    "met": goal.status == GoalStatus.MET,
                }
            )
    discharge = episode.discharge_date
    return {
        "admission_date": episode.admission_date.isoformat(),
        "discharge_date": discharge.isoformat() if discharge else "",
        "length_of_stay_days": domain.length_of_stay_days(episode.admission_date, discharge)
        if discharge
        else None,
        "reason": episode.get_discharge_reason_display() if episode.discharge_reason else "",
        "level_of_care": episode.get_level_of_care_display(),
        "services": [
            {
                "kind": t.kind,
                "label": labels.get(t.kind, t.kind),
                "sessions": t.sessions,
                "minutes": t.minutes,
            }
            for t in totals
        ],
        "total_minutes": sum(t.minutes for t in totals),
        "scores": _scores(episode),
        "plan_version": plan.number if plan else None,
        "goals": goals,
        "community_referrals": aftercare_referrals(episode),
        "medications_at_discharge": discharge_medications(
            episode.patient_id, part2_allowed=episode.part2_protected
        ),
    }


def _audit_summary(
    by: Actor, summary: DischargeSummary, action: str, detail: dict[str, Any]
) -> None:
    audit_record(
        by,
        action=action,
        patient_id=summary.patient_id,
        object_type="discharge_summary",
        object_id=summary.pk,
        detail=detail,
    )


def _summary_draft(summary: DischargeSummary) -> DischargeSummary:
    locked = DischargeSummary.objects.select_for_update().get(pk=summary.pk)
    if locked.status != SummaryStatus.DRAFT:
        raise RuleViolation("The discharge summary is signed and locked.", code="summary_locked")
    summary.version = locked.version
    return locked


def discharge_summary_start(*, episode: Episode, by: Actor) -> DischargeSummary:
    """Start the discharge summary of an episode, prefilled from the record (facts) and with the
    crisis lines (988 and the organization's crisis line). Raises RuleViolation if one exists."""
    require_patient(by, WRITE_CAP, episode.patient, object_type="discharge_summary")
    crisis = CRISIS_DEFAULT
    org_line = episode.site.organization.crisis_line
    if org_line:
        crisis += f"\nProgram crisis line: {org_line}."
    with transaction.atomic():
        Episode.objects.select_for_update().filter(pk=episode.pk).first()
        if DischargeSummary.objects.filter(episode=episode).exists():
            raise RuleViolation(
                "This episode already has a discharge summary.", code="summary_exists"
            )
        summary = DischargeSummary.objects.create(
            episode=episode,
            patient_id=episode.patient_id,
            facts=discharge_facts(episode),
            crisis_resources=crisis,
            next_level_of_care="",
            created_by=_acting(by),
            part2=episode.part2_protected,
        )
        _audit_summary(by, summary, AuditAction.CREATE, {})
    return summary


def _refreshed_facts(summary: DischargeSummary) -> dict[str, Any]:
    """The facts from the record again, keeping the clinician's met / not met decisions."""
    decided = {g.get("key"): g["met"] for g in summary.facts.get("goals", []) if g.get("decided")}
    facts = discharge_facts(summary.episode)
    for g in facts["goals"]:
        if g["key"] in decided:
            g["met"], g["decided"] = decided[g["key"]], True
    return facts


def discharge_summary_fill(*, summary: DischargeSummary, by: Actor) -> DischargeSummary:
    """Fill the derived facts of a draft in from the record as its page opens: length of stay,
    sessions and hours attended, first and latest scores, level of care and goals (decided goal
    outcomes are kept). Saved and audited only when something changed (the changed keys are
    listed); a signed summary keeps the facts it was signed with. Returns the summary."""
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    if summary.status != SummaryStatus.DRAFT:
        return summary
    facts = json.loads(json.dumps(_refreshed_facts(summary)))  # as the JSON column returns them
    if facts == summary.facts:
        return summary
    with transaction.atomic():
        locked = _summary_draft(summary)
        changed = sorted(
            k for k in facts.keys() | locked.facts.keys() if facts.get(k) != locked.facts.get(k)
        )
        summary.facts = facts
        save_if_unchanged(summary, expected_version=locked.version, fields=["facts"])
        _audit_summary(by, summary, AuditAction.UPDATE, {"filled": changed})
    return summary


def discharge_summary_refresh(*, summary: DischargeSummary, by: Actor) -> DischargeSummary:
    """Fill the facts in again from the record (a draft only), keeping decided goal outcomes."""
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    with transaction.atomic():
        locked = _summary_draft(summary)
        summary.facts = _refreshed_facts(summary)
        save_if_unchanged(summary, expected_version=locked.version, fields=["facts"])
        _audit_summary(by, summary, AuditAction.UPDATE, {"refreshed": True})
    return summary


def discharge_summary_decide_goal(
    *, summary: DischargeSummary, key: str, met: bool, by: Actor
) -> DischargeSummary:
    """The clinician decides whether a plan goal was met at discharge (prefilled from the goal's
    status on the plan); kept when the facts are filled in again. Raises RuleViolation for a goal
    that is not on the summary."""
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    with transaction.atomic():
        locked = _summary_draft(summary)
        facts = dict(locked.facts)
        goals = [dict(g) for g in facts.get("goals", [])]
        target = next((g for g in goals if g.get("key") == key), None)
        if target is None:
            raise RuleViolation("That goal is not on this summary.", code="not_on_summary")
        target["met"], target["decided"] = bool(met), True
        facts["goals"] = goals
        summary.facts = facts
        save_if_unchanged(summary, expected_version=locked.version, fields=["facts"])
        _audit_summary(by, summary, AuditAction.UPDATE, {"goal": key, "met": bool(met)})
    return summary


SUMMARY_TEXT_FIELDS = (
    "narrative",
    "next_level_of_care",
    "relapse_prevention",
    "crisis_resources",
    "medication_continuity",
)


def discharge_summary_update(
    *,
    summary: DischargeSummary,
    narrative: str,
    next_level_of_care: str,
    relapse_prevention: str,
    crisis_resources: str,
    medication_continuity: str,
    expected_version: int | None = None,
    by: Actor,
) -> DischargeSummary:
    """Change the clinician's narrative and the aftercare plan of a draft summary."""
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    values = {
        "narrative": narrative,
        "next_level_of_care": next_level_of_care[:200],
        "relapse_prevention": relapse_prevention,
        "crisis_resources": crisis_resources,
        "medication_continuity": medication_continuity,
    }
    with transaction.atomic():
        _summary_draft(summary)
        for key, value in values.items():
            setattr(summary, key, (value or "").strip())
        save_if_unchanged(
            summary, expected_version=expected_version, fields=list(SUMMARY_TEXT_FIELDS)
        )
        _audit_summary(by, summary, AuditAction.UPDATE, {"fields": list(SUMMARY_TEXT_FIELDS)})
    return summary


def discharge_summary_add_referral(
    *,
    summary: DischargeSummary,
    kind: str,
    name: str,
    phone: str = "",
    address: str = "",
    hours: str = "",
    by: Actor,
) -> AftercareReferral:
    """Add an aftercare referral (therapist, prescriber, support group, sober living, alumni…)."""
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    if kind not in ReferralKind.values:
        raise RuleViolation("Choose the kind of referral.", code="invalid_choice", field="kind")
    name = _text(name, "name", "the name of the referral", limit=200)
    if not (phone.strip() or address.strip()):
        raise RuleViolation(
            "Give a phone number or an address so the patient can reach them.",
            code="required",
            field="phone",
        )
    with transaction.atomic():
        _summary_draft(summary)
        referral = AftercareReferral.objects.create(
            summary=summary,
            part2=summary.part2,
            kind=kind,
            name=name,
            phone=phone.strip(),
            address=address.strip(),
            hours=hours.strip(),
        )
        _audit_summary(by, summary, AuditAction.UPDATE, {"referral": referral.pk})
    return referral


def discharge_summary_sign(*, summary: DischargeSummary, by: Actor) -> DischargeSummary:
    """Sign the summary: the facts are filled in once more from the record and it locks.

    Refused (RuleViolation, code 'incomplete', or 'not_discharged' when the episode is still open)
    listing everything still missing at once (`domain.summary_gaps`): the discharge the derived
    fields come from, the narrative, the next level of care, crisis resources, a referral.
    """
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    with transaction.atomic():
        locked = _summary_draft(summary)
        locked.episode = summary.episode
        if gaps := summary_gaps(locked):
            discharged = summary.episode.status == EpisodeStatus.DISCHARGED
            raise RuleViolation(
                "Before signing, complete the summary. " + " ".join(gaps),
                code="incomplete" if discharged else "not_discharged",
            )
        summary.facts = _refreshed_facts(summary)
        summary.status = SummaryStatus.SIGNED
        summary.signed_by = by.user
        summary.signed_at = now()
        save_if_unchanged(
            summary,
            expected_version=locked.version,
            fields=["facts", "status", "signed_by", "signed_at"],
        )
        _audit_summary(by, summary, AuditAction.UPDATE, {"signed": True})
    return summary


def summary_gaps(summary: DischargeSummary) -> list[str]:
    """What keeps the summary from being signed ([] = ready), from the summary, its episode and its
    referrals (prefetched ones are used). Not audited: callers have read the summary."""
    episode = summary.episode
    return domain.summary_gaps(
        domain.SummaryOutline(
            discharged=episode.status == EpisodeStatus.DISCHARGED,
            discharge_reason=episode.discharge_reason,
            narrative=summary.narrative,
            next_level_of_care=summary.next_level_of_care,
            crisis_resources=summary.crisis_resources,
            referral_count=len(summary.referrals.all()),
        )
    )


def discharge_summary_remove_referral(
    *, summary: DischargeSummary, referral_id: int, by: Actor
) -> None:
    """Remove an aftercare referral from a draft summary (the page asks for confirmation first).

    Refused (RuleViolation) once the summary is signed ('summary_locked': the signed plan never
    changes) and for a referral that is not on this summary. The audit entry names what was removed.
    """
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    with transaction.atomic():
        _summary_draft(summary)
        referral = AftercareReferral.objects.filter(pk=referral_id, summary=summary).first()
        if referral is None:
            raise RuleViolation(
                "That referral is not on this summary.", code="not_on_summary", field="referral"
            )
        removed = {"id": referral.pk, "kind": referral.kind, "name": referral.name}
        referral.delete()
        _audit_summary(by, summary, AuditAction.DELETE, {"referral_removed": removed})


def discharge_summary_copy_given(
    *, summary: DischargeSummary, how: str, by: Actor
) -> DischargeSummary:
    """Record that the patient was handed a copy of the signed summary (audited as a disclosure to
    the individual)."""
    require_patient(by, WRITE_CAP, summary.patient, object_type="discharge_summary")
    if summary.status != SummaryStatus.SIGNED:
        raise RuleViolation("Sign the summary before giving the patient a copy.", code="unsigned")
    how = _text(how, "how", "how the copy was given", limit=100)
    with transaction.atomic():
        locked = DischargeSummary.objects.select_for_update().get(pk=summary.pk)
        summary.copy_given_at = now()
        summary.copy_given_by = by.user
        summary.copy_given_how = how
        save_if_unchanged(
            summary,
            expected_version=locked.version,
            fields=["copy_given_at", "copy_given_by", "copy_given_how"],
        )
        _audit_summary(by, summary, AuditAction.EXPORT, {"copy_to": "patient", "how": how})
    return summary
