"""Every write of a treatment plan goes through these functions (audited, permission-checked).

A plan version is a draft until every required signer has signed; then it is locked. An update is
`plan_revise`: a new draft that copies the signed version, which is kept (and marked superseded
when the new version is signed).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.treatment import domain
from openiop.treatment.models import (
    GoalStatus,
    Modality,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanSignature,
    PlanStatus,
    SignerRole,
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
            episode=episode, patient=episode.patient, number=1, created_by=by.user
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
            created_by=by.user,
        )
        for problem in plan.problems.prefetch_related("goals__objectives", "goals__interventions"):
            p = PlanProblem.objects.create(
                plan=new,
                position=problem.position,
                description=problem.description,
                icd10_code=problem.icd10_code,
                patient_words=problem.patient_words,
            )
            for goal in problem.goals.all():
                g = PlanGoal.objects.create(problem=p, text=goal.text, status=goal.status)
                PlanObjective.objects.bulk_create(
                    [
                        PlanObjective(goal=g, text=o.text, target_date=o.target_date)
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
        _require_draft(_locked_plan(plan))
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
        _require_draft(_locked_plan(plan))
        position = plan.problems.count() + 1
        item = PlanProblem.objects.create(
            plan=plan,
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
        _require_draft(_locked_plan(plan))
        goal = PlanGoal.objects.create(problem=problem, text=text)
        _audit(by, plan, AuditAction.UPDATE, {"added": "goal", "id": goal.pk})
    return goal


def plan_set_goal_status(*, goal: PlanGoal, status: str, by: Actor) -> PlanGoal:
    """Record progress on a goal of a draft plan (met, partially met, not met, in progress)."""
    plan = goal.problem.plan
    require_patient(by, WRITE_CAP, plan.patient, object_type="treatment_plan")
    if status not in GoalStatus.values:
        raise RuleViolation("Choose a goal status.", code="invalid_choice", field="status")
    with transaction.atomic():
        _require_draft(_locked_plan(plan))
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
        _require_draft(_locked_plan(plan))
        item = PlanObjective.objects.create(goal=goal, text=text, target_date=target_date)
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
        _require_draft(_locked_plan(plan))
        item = PlanIntervention.objects.create(
            goal=goal,
            modality=modality,
            frequency=frequency,
            responsible=responsible,
            description=description.strip(),
        )
        _audit(by, plan, AuditAction.UPDATE, {"added": "intervention", "id": item.pk})
    return item


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
    only for a minor. The clinician signs a complete plan only (see domain.plan_gaps). When every
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
        if role == SignerRole.CLINICIAN:
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
                    plan=plan, role=role, signer_name=signer_name, signed_at=at, recorded_by=user
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
            save_if_unchanged(plan, expected_version=None, fields=["status", "signed_at"])
            if plan.previous_id:
                TreatmentPlan.objects.filter(pk=plan.previous_id).update(
                    status=PlanStatus.SUPERSEDED
                )
            detail["locked"] = True
        _audit(by, plan, AuditAction.UPDATE, detail)
    return signature
