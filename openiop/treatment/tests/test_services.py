"""Treatment plans through their services: build, sign (clinician, patient, guardian), lock, update."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.testing import make_user
from openiop.treatment import selectors, services
from openiop.treatment.models import PlanStatus, TreatmentPlan

if TYPE_CHECKING:
    from pytest_django import Settings

    from openiop.episodes.models import Episode
    from openiop.notes.tests.conftest import Clinic


def build_plan(clinic: Clinic, episode: Episode) -> TreatmentPlan:
    plan = services.plan_start(episode=episode, by=clinic.actor)
    problem = services.plan_add_problem(
        plan=plan,
        description="Alcohol use disorder, moderate",
        icd10_code="f10.20",
        patient_words="I drink every night to fall asleep.",
        by=clinic.actor,
    )
    goal = services.plan_add_goal(problem=problem, text="Sleep without alcohol", by=clinic.actor)
    services.plan_add_objective(
        goal=goal,
        text="Wind-down routine on 5 nights a week for 3 weeks",
        target_date=episode.admission_date + dt.timedelta(days=30),
        by=clinic.actor,
    )
    services.plan_add_intervention(
        goal=goal, modality="cbt", frequency="3 groups a week", responsible=clinic.clinician,
        by=clinic.actor,
    )  # fmt: skip
    return plan


def test_a_plan_records_icd10_the_patients_words_goals_objectives_interventions(
    clinic: Clinic,
) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    plan = build_plan(clinic, episode)
    problem = plan.problems.get()
    assert problem.icd10_code == "F10.20"
    goal = problem.goals.get()
    assert goal.objectives.get().target_date == episode.admission_date + dt.timedelta(days=30)
    assert goal.interventions.get().get_modality_display() == "CBT"
    assert (
        AuditEntry.objects.filter(
            object_type="treatment_plan", patient_id=episode.patient_id
        ).count()
        >= 5
    )


def test_icd10_shape_is_checked(clinic: Clinic) -> None:
    plan = services.plan_start(episode=clinic.patient("Rosalind", "Plansworth"), by=clinic.actor)
    with pytest.raises(RuleViolation) as exc:
        services.plan_add_problem(
            plan=plan, description="x", icd10_code="10.2", patient_words="w", by=clinic.actor
        )
    assert exc.value.field == "icd10_code"


def test_clinician_cannot_sign_an_incomplete_plan(clinic: Clinic) -> None:
    plan = services.plan_start(episode=clinic.patient("Rosalind", "Plansworth"), by=clinic.actor)
    with pytest.raises(RuleViolation, match="not complete"):
        services.plan_sign(plan=plan, role="clinician", by=clinic.actor)


def test_adult_plan_locks_after_clinician_and_patient_sign(clinic: Clinic) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    plan = build_plan(clinic, episode)
    services.plan_sign(plan=plan, role="clinician", by=clinic.actor)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    with pytest.raises(RuleViolation, match="guardian"):
        services.plan_sign(plan=plan, role="guardian", signer_name="Someone", by=clinic.actor)
    with pytest.raises(RuleViolation, match="name"):
        services.plan_sign(plan=plan, role="patient", signer_name=" ", by=clinic.actor)
    services.plan_sign(
        plan=plan, role="patient", signer_name="Rosalind Plansworth", by=clinic.actor
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SIGNED and plan.signed_at is not None
    with pytest.raises(RuleViolation, match="locked"):
        services.plan_add_goal(problem=plan.problems.get(), text="More", by=clinic.actor)


def test_a_minor_needs_a_guardian_before_the_plan_locks(clinic: Clinic) -> None:
    today = timezone.localdate()
    episode = clinic.patient(
        "Tamsin",
        "Youngling",
        date_of_birth=today.replace(year=today.year - 15) - dt.timedelta(days=3),
    )
    plan = build_plan(clinic, episode)
    services.plan_sign(plan=plan, role="clinician", by=clinic.actor)
    services.plan_sign(plan=plan, role="patient", signer_name="Tamsin Youngling", by=clinic.actor)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    services.plan_sign(plan=plan, role="guardian", signer_name="Orla Youngling", by=clinic.actor)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SIGNED
    assert set(plan.signatures.values_list("role", flat=True)) == {
        "clinician",
        "patient",
        "guardian",
    }


def sign_all(clinic: Clinic, plan: TreatmentPlan) -> None:
    services.plan_sign(plan=plan, role="clinician", by=clinic.actor)
    services.plan_sign(plan=plan, role="patient", signer_name="The Patient", by=clinic.actor)


def test_an_update_is_a_new_version_and_keeps_the_old_one(clinic: Clinic) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    v1 = build_plan(clinic, episode)
    with pytest.raises(RuleViolation, match="current signed"):
        services.plan_revise(plan=v1, by=clinic.actor)
    sign_all(clinic, v1)
    v2 = services.plan_revise(plan=v1, review_summary="Sleeping 6 h", by=clinic.actor)
    assert v2.number == 2 and v2.previous_id == v1.pk and v2.status == PlanStatus.DRAFT
    assert v2.problems.get().goals.get().objectives.count() == 1
    with pytest.raises(RuleViolation, match="already in progress"):
        services.plan_revise(plan=v1, by=clinic.actor)
    goal = v2.problems.get().goals.get()
    services.plan_set_goal_status(goal=goal, status="met", by=clinic.actor)
    sign_all(clinic, v2)
    v1.refresh_from_db()
    assert v1.status == PlanStatus.SUPERSEDED
    assert v1.problems.get().goals.get().status == "in_progress"  # the old version is unchanged
    assert TreatmentPlan.objects.filter(episode=episode).count() == 2


def test_only_one_plan_is_started_per_episode(clinic: Clinic) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    services.plan_start(episode=episode, by=clinic.actor)
    with pytest.raises(RuleViolation, match="already has"):
        services.plan_start(episode=episode, by=clinic.actor)


@pytest.mark.parametrize("role", [Role.BILLING, Role.INTAKE, Role.AUDITOR])
def test_roles_without_clinical_writing_are_refused(clinic: Clinic, role: Role) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    user = make_user(role, sites=[clinic.site], org=clinic.org)
    with pytest.raises(NotPermitted):
        services.plan_start(episode=episode, by=Actor(user=user))


def test_due_list_shows_initial_and_review_deadlines(clinic: Clinic, settings: Settings) -> None:
    settings.TREATMENT_PLAN_DUE_DAYS = 7
    settings.TREATMENT_PLAN_REVIEW_DAYS = 30
    at = timezone.now()
    today = at.astimezone(clinic.site.tz).date()
    overdue = clinic.patient("Umbra", "Overdue")
    overdue.admission_date = today - dt.timedelta(days=10)
    overdue.save()
    fresh = clinic.patient("Vesper", "Fresh")
    fresh.admission_date = today - dt.timedelta(days=2)
    fresh.save()
    reviewed = clinic.patient("Wren", "Reviewed")
    reviewed.admission_date = today - dt.timedelta(days=10)
    reviewed.save()
    sign_all(clinic, build_plan(clinic, reviewed))
    rows = selectors.plans_due(actor=clinic.actor, at=at)
    by_episode = {r.episode.pk: r.due for r in rows}
    assert by_episode[overdue.pk].timing == "overdue" and by_episode[overdue.pk].days_left == -3
    assert by_episode[fresh.pk].timing == "due" and by_episode[fresh.pk].days_left == 5
    assert reviewed.pk not in by_episode  # review due in 30 days: not listed
    assert rows[0].episode.pk == overdue.pk  # most overdue first
    settings.TREATMENT_PLAN_REVIEW_DAYS = 5  # configurable
    rows = selectors.plans_due(actor=clinic.actor, at=at)
    assert {r.episode.pk: r.due.kind for r in rows}[reviewed.pk] == "review"


def test_a_stale_plan_edit_is_a_conflict(clinic: Clinic) -> None:
    from openiop.core.errors import Conflict

    plan = services.plan_start(episode=clinic.patient("Rosalind", "Plansworth"), by=clinic.actor)
    seen = plan.version
    services.plan_update(
        plan=plan, strengths="Loves hiking", discharge_criteria="", expected_version=seen,
        by=clinic.actor,
    )  # fmt: skip
    with pytest.raises(Conflict):
        services.plan_update(
            plan=plan, strengths="Other", discharge_criteria="", expected_version=seen,
            by=clinic.actor,
        )  # fmt: skip


def test_the_database_allows_one_draft_per_episode(clinic: Clinic) -> None:
    from django.db import IntegrityError, transaction

    episode = clinic.patient("Rosalind", "Plansworth")
    services.plan_start(episode=episode, by=clinic.actor)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.create(
            episode=episode, patient=episode.patient, number=2, created_by=clinic.clinician
        )


def test_changing_a_partly_signed_draft_removes_the_signatures_so_no_one_signs_unseen_text(
    clinic: Clinic,
) -> None:
    episode = clinic.patient("Rosalind", "Signedtext")
    plan = build_plan(clinic, episode)
    services.plan_sign(
        plan=plan, role="patient", signer_name="Rosalind Signedtext", by=clinic.actor
    )
    services.plan_add_goal(problem=plan.problems.get(), text="A goal added later", by=clinic.actor)
    assert not plan.signatures.exists()  # the patient signed a text that has since changed
    removed = AuditEntry.objects.filter(
        object_type="treatment_plan",
        object_id=str(plan.pk),
        detail__signatures_removed__isnull=False,
    )
    assert removed.exists()
    # The clinician's signature now locks nothing on its own: the patient signs the new text.
    goal = plan.problems.get().goals.get(text="A goal added later")
    services.plan_add_objective(
        goal=goal, text="Walk daily", target_date=dt.date(2026, 4, 1), by=clinic.actor
    )
    services.plan_add_intervention(
        goal=goal, modality="cbt", frequency="weekly", responsible=clinic.clinician, by=clinic.actor
    )
    services.plan_sign(plan=plan, role="clinician", by=clinic.actor)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_no_one_signs_an_incomplete_plan(clinic: Clinic) -> None:
    episode = clinic.patient("Rosalind", "Incomplete")
    plan = services.plan_start(episode=episode, by=clinic.actor)
    for role, name in (("patient", "Rosalind Incomplete"), ("clinician", "")):
        with pytest.raises(RuleViolation, match="not complete"):
            services.plan_sign(plan=plan, role=role, signer_name=name, by=clinic.actor)
    assert not plan.signatures.exists()
