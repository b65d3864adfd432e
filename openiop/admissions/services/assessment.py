"""Screening and the level-of-care assessment: the pre-screen with its C-SSRS screener and the
tasks it raises, scheduling the assessment, rating it and deciding the level."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from openiop.accounts.domain import Cap
from openiop.admissions.choices import TaskStatus
from openiop.admissions.domain import asam, pipeline
from openiop.admissions.domain.prescreen import PrescreenAnswers, prescreen_result
from openiop.admissions.models import AdmissionTask, Assessment, Inquiry, Prescreen
from openiop.admissions.services.common import (
    acting_staff,
    audit_inquiry,
    inquiry_today,
    lock_inquiry,
    refuse_if_closed,
    refuse_while_urgent_task,
    require_inquiry,
    set_stage,
)
from openiop.audit.models import AuditAction
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import LevelOfCare
from openiop.measures.domain import AnswerError, cssrs

if TYPE_CHECKING:
    from openiop.accounts.models import User


# --- pre-screen and tasks ------------------------------------------------------------------------
def prescreen_record(
    *,
    inquiry: Inquiry,
    answers: PrescreenAnswers,
    cssrs_answers: Sequence[int],
    notes: str = "",
    by: Actor,
) -> Prescreen:
    """Record the pre-screen and C-SSRS screener; returns it with its outcome.

    A high C-SSRS tier marks the inquiry high risk and creates an urgent task for its owner (or
    whoever picks it up); the assessment and admission are refused until the task is done, so the
    flow never continues silently. The inquiry moves forward to 'pre-screen'. Raises RuleViolation
    for invalid C-SSRS answers (measures.domain.cssrs) or a closed inquiry; NotPermitted (audited)
    without Cap.ADMISSIONS_PRESCREEN (intake runs it too: the screener's screen version is made
    for non-clinicians).
    """
    require_inquiry(by, Cap.ADMISSIONS_PRESCREEN, inquiry)
    try:
        score = cssrs.score(list(cssrs_answers))
    except AnswerError as exc:
        raise RuleViolation(str(exc), code="cssrs", field=f"cssrs_{exc.item}") from exc
    tier = score.band or "none"
    try:
        result = prescreen_result(answers, tier)
    except ValueError as exc:
        raise RuleViolation(str(exc), code="prescreen") from exc
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        refuse_if_closed(current)
        screen = Prescreen.objects.create(
            inquiry=current,
            needs_24h_supervision=answers.needs_24h_supervision,
            needs_medical_withdrawal=answers.needs_medical_withdrawal,
            safe_home=answers.safe_home,
            substance_free_home=answers.substance_free_home,
            outpatient_not_enough=answers.outpatient_not_enough,
            can_attend=answers.can_attend,
            motivation=answers.motivation,
            cssrs_answers=list(cssrs_answers),
            cssrs_tier=tier,
            outcome=result.outcome,
            reasons=[*result.reasons, *result.notes],
            notes=(notes or "").strip()[:2000],
            screened_by=acting_staff(by),
        )
        if result.higher_level_now:
            AdmissionTask.objects.create(
                inquiry=current,
                urgent=True,
                title=(
                    f"C-SSRS high risk for {current.name}: same-day safety evaluation and a "
                    "higher level of care now."
                ),
                assigned_to=_urgent_task_assignee(current.owner, acting_staff(by)),
            )
            Inquiry.objects.filter(pk=current.pk).update(high_risk=True)
            inquiry.high_risk = True
        set_stage(current, pipeline.advance(current.stage, pipeline.PRESCREEN), by)
        audit_inquiry(
            by,
            current,
            AuditAction.CREATE,
            {"event": "prescreen", "outcome": result.outcome, "cssrs_tier": tier},
            object_type="prescreen",
        )
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return screen


def task_cap(*, urgent: bool) -> Cap:
    """The capability that closes a task: an urgent (safety) task is clinician-owned
    (../shared/domain.md s.7: a high C-SSRS creates a clinician-owned task), others are the
    admissions staff's."""
    return Cap.ADMISSIONS_ASSESS if urgent else Cap.ADMISSIONS_MANAGE


def _urgent_task_assignee(*candidates: User | None) -> User | None:
    """The first of the candidates (the inquiry's owner, then whoever screened) who may close an
    urgent task, or None (any clinician at the site picks it up): the front desk runs the
    screener but the task it raises is a clinician's."""
    cap = task_cap(urgent=True)
    return next((u for u in candidates if u is not None and u.can(cap)), None)


def task_complete(*, task: AdmissionTask, outcome: str, by: Actor) -> AdmissionTask:
    """Record what was done about a task and close it. Raises RuleViolation without an outcome
    or when already done; NotPermitted (audited) without task_cap(urgent=task.urgent)."""
    cap = task_cap(urgent=task.urgent)
    require_inquiry(by, cap, task.inquiry)
    outcome = (outcome or "").strip()
    if not outcome:
        raise RuleViolation("Say what was done.", code="required", field="outcome")
    with transaction.atomic():
        current = AdmissionTask.objects.select_for_update().get(pk=task.pk)
        if current.status == TaskStatus.DONE:
            raise RuleViolation("This task is already done.", code="task_done")
        current.status = TaskStatus.DONE
        current.done_by = by.user
        current.done_at = clock.now()
        current.outcome = outcome[:500]
        current.save(update_fields=["status", "done_by", "done_at", "outcome", "updated_at"])
        audit_inquiry(
            by,
            task.inquiry,
            AuditAction.UPDATE,
            {"event": "task_done", "task": task.pk, "urgent": task.urgent},
        )
    return current


# --- assessment ----------------------------------------------------------------------------------
def assessment_schedule(*, inquiry: Inquiry, on: dt.date, by: Actor) -> Inquiry:
    """Set the assessment date; the inquiry moves forward to 'assessment scheduled'.

    Raises RuleViolation for a past date, a closed inquiry or an open urgent task; NotPermitted
    (audited) without Cap.ADMISSIONS_MANAGE or Cap.ADMISSIONS_ASSESS.
    """
    user = by.user
    cap = (
        Cap.ADMISSIONS_ASSESS
        if user is not None and user.can(Cap.ADMISSIONS_ASSESS)
        else Cap.ADMISSIONS_MANAGE
    )
    require_inquiry(by, cap, inquiry)
    if on is None:
        raise RuleViolation("Enter the assessment date.", code="required", field="on")
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        refuse_if_closed(current)
        refuse_while_urgent_task(current)
        if on < inquiry_today(current):
            raise RuleViolation("The assessment date has passed.", code="past", field="on")
        Inquiry.objects.filter(pk=current.pk).update(assessment_date=on, updated_at=clock.now())
        set_stage(current, pipeline.advance(current.stage, pipeline.ASSESSMENT_SCHEDULED), by)
        audit_inquiry(
            by, current, AuditAction.UPDATE, {"event": "assessment_date", "on": on.isoformat()}
        )
    inquiry.assessment_date = on
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return inquiry


def _ratings(ratings: Sequence[asam.DimensionRating], edition: str) -> asam.Recommendation:
    try:
        return asam.recommend_level_of_care(ratings, edition)
    except ValueError as exc:
        raise RuleViolation(str(exc), code="ratings") from exc


def assessment_save(
    *,
    inquiry: Inquiry,
    edition: str,
    ratings: Sequence[asam.DimensionRating],
    by: Actor,
    assessment: Assessment | None = None,
    expected_version: int | None = None,
) -> Assessment:
    """Rate the six dimensions and store the recommendation (asam.recommend_level_of_care).

    With `assessment`, re-rates that draft. A decided assessment never changes. Raises
    RuleViolation for missing or invalid ratings, a decided assessment, a closed inquiry or an open
    urgent task; Conflict on a stale version; NotPermitted (audited) without Cap.ADMISSIONS_ASSESS.
    """
    require_inquiry(by, Cap.ADMISSIONS_ASSESS, inquiry)
    rec = _ratings(ratings, edition)
    stored = [
        {"dimension": r.dimension, "rating": r.rating, "notes": (r.notes or "").strip()[:2000]}
        for r in sorted(ratings, key=lambda r: r.dimension)
    ]
    values = {
        "edition": str(edition),
        "ratings": stored,
        "recommended_level": rec.level,
        "withdrawal_management": rec.withdrawal_management,
        "reasons": rec.reasons,
        "why_not_lower": rec.why_not_lower,
        "why_not_higher": rec.why_not_higher,
    }
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        refuse_if_closed(current)
        refuse_while_urgent_task(current)
        if assessment is None:
            assessment = Assessment.objects.create(
                inquiry=current, assessed_by=acting_staff(by), **values
            )
            action = AuditAction.CREATE
        else:
            if assessment.inquiry_id != current.pk:
                raise RuleViolation("That assessment belongs to another inquiry.", code="mismatch")
            if Assessment.objects.filter(pk=assessment.pk, decided_at__isnull=False).exists():
                raise RuleViolation(
                    "This assessment is decided and cannot change; start a new one.",
                    code="decided",
                )
            for name, value in values.items():
                setattr(assessment, name, value)
            assessment.updated_at = clock.now()
            save_if_unchanged(
                assessment, expected_version=expected_version, fields=[*values, "updated_at"]
            )
            action = AuditAction.UPDATE
        audit_inquiry(
            by,
            current,
            action,
            {"assessment": assessment.pk, "recommended_level": rec.level},
            object_type="assessment",
        )
    return assessment


def assessment_decide(
    *,
    assessment: Assessment,
    chosen_level: str,
    justification: str = "",
    by: Actor,
    expected_version: int | None = None,
) -> Assessment:
    """Accept the recommended level, or override it with a justification; then it is fixed.

    The inquiry moves forward to 'assessed'. Raises RuleViolation for an override without a
    justification, an unknown level or an assessment already decided; Conflict on a stale version;
    NotPermitted (audited) without Cap.ADMISSIONS_ASSESS.
    """
    inquiry = assessment.inquiry
    require_inquiry(by, Cap.ADMISSIONS_ASSESS, inquiry)
    if chosen_level not in LevelOfCare.values:
        raise RuleViolation("Choose a level of care.", code="invalid", field="chosen_level")
    justification = (justification or "").strip()
    if chosen_level != assessment.recommended_level and not justification:
        raise RuleViolation(
            f"Choosing Level {chosen_level} instead of the recommended Level "
            f"{assessment.recommended_level} needs a justification for the record.",
            code="justification_required",
            field="justification",
        )
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        if Assessment.objects.filter(pk=assessment.pk, decided_at__isnull=False).exists():
            raise RuleViolation("This assessment is already decided.", code="decided")
        refuse_while_urgent_task(current)
        assessment.chosen_level = chosen_level
        assessment.override_justification = (
            justification if chosen_level != assessment.recommended_level else ""
        )
        assessment.decided_by = by.user
        assessment.decided_at = clock.now()
        assessment.updated_at = assessment.decided_at
        save_if_unchanged(
            assessment,
            expected_version=expected_version,
            fields=[
                "chosen_level",
                "override_justification",
                "decided_by_id",
                "decided_at",
                "updated_at",
            ],
        )
        if current.stage in pipeline.OPEN_STAGES:
            verified = current.coverages.filter(verifications__isnull=False).exists()
            target = pipeline.BENEFITS_VERIFIED if verified else pipeline.ASSESSED
            set_stage(current, pipeline.advance(current.stage, target), by)
        audit_inquiry(
            by,
            current,
            AuditAction.UPDATE,
            {
                "event": "decide",
                "assessment": assessment.pk,
                "recommended_level": assessment.recommended_level,
                "chosen_level": chosen_level,
                "override": assessment.is_override,
            },
            object_type="assessment",
        )
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return assessment
