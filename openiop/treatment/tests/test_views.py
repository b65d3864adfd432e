"""Treatment-plan pages: build a plan through the page, sign it, see it locked; the due list."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.testing import make_user
from openiop.treatment import services
from openiop.treatment.models import PlanStatus, TreatmentPlan
from openiop.treatment.tests.test_services import build_plan, sign_all

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django import DjangoAssertNumQueries

    from openiop.notes.tests.conftest import Clinic


def test_plan_built_and_signed_through_the_page(clinic: Clinic, client: Client) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    client.force_login(clinic.clinician)
    response = client.post(reverse("treatment:plan_start", kwargs={"episode_id": episode.pk}))
    plan = TreatmentPlan.objects.get(episode=episode)
    url = reverse("treatment:plan", kwargs={"treatment_plan_id": plan.pk})
    assert response["Location"] == url
    steps = [
        {"action": "problem", "description": "Opioid use disorder", "icd10_code": "F11.20",
         "patient_words": "I can't stop on my own."},
    ]  # fmt: skip
    for data in steps:
        assert client.post(url, data).status_code == 302
    problem = plan.problems.get()
    assert (
        client.post(
            url, {"action": "goal", "goal-problem": problem.pk, "goal-text": "Stay on MAT"}
        ).status_code
        == 302
    )
    goal = problem.goals.get()
    target = (episode.admission_date + dt.timedelta(days=28)).isoformat()
    client.post(
        url,
        {
            "action": "objective",
            "objective-goal": goal.pk,
            "objective-text": "Take buprenorphine daily, 28 of 28 days",
            "objective-target_date": target,
        },
    )
    client.post(
        url,
        {
            "action": "intervention",
            "iv-goal": goal.pk,
            "iv-modality": "mat",
            "iv-frequency": "Weekly prescriber visit",
            "iv-responsible": clinic.clinician.pk,
        },
    )
    assert client.post(url, {"action": "sign", "sign-role": "clinician"}).status_code == 302
    assert (
        client.post(
            url,
            {"action": "sign", "sign-role": "patient", "sign-signer_name": "Rosalind Plansworth"},
        ).status_code
        == 302
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SIGNED
    html = client.get(url).content.decode()
    assert "Signed and locked" in html and "I can&#39;t stop on my own." in html
    assert 'value="problem"' not in html  # no editing forms on a locked plan


def test_a_locked_plan_refuses_edits_posted_anyway(clinic: Clinic, client: Client) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    plan = build_plan(clinic, episode)
    sign_all(clinic, plan)
    client.force_login(clinic.clinician)
    url = reverse("treatment:plan", kwargs={"treatment_plan_id": plan.pk})
    response = client.post(
        url, {"action": "problem", "description": "x", "icd10_code": "F10.20", "patient_words": "w"}
    )
    assert response.status_code == 422
    assert "signed and locked" in response.content.decode()
    assert plan.problems.count() == 1


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.CLINICIAN, True),
        (Role.CASE_MANAGER, True),
        (Role.INTAKE, False),
        (Role.BILLING, False),
    ],
)
def test_who_may_open_a_plan(clinic: Clinic, client: Client, role: Role, allowed: bool) -> None:
    plan = build_plan(clinic, clinic.patient("Rosalind", "Plansworth"))
    client.force_login(make_user(role, sites=[clinic.site], org=clinic.org))
    response = client.get(reverse("treatment:plan", kwargs={"treatment_plan_id": plan.pk}))
    assert response.status_code == (200 if allowed else 403)


def test_plan_page_query_count_does_not_grow_with_the_plan(
    clinic: Clinic, client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    from openiop.treatment import services

    episode = clinic.patient("Rosalind", "Plansworth")
    plan = build_plan(clinic, episode)
    client.force_login(clinic.clinician)
    url = reverse("treatment:plan", kwargs={"treatment_plan_id": plan.pk})
    with django_assert_max_num_queries(40) as small:
        client.get(url)
    for i in range(3):
        p = services.plan_add_problem(
            plan=plan, description=f"P{i}", icd10_code="F33.1", patient_words="w", by=clinic.actor
        )
        g = services.plan_add_goal(problem=p, text="g", by=clinic.actor)
        services.plan_add_objective(
            goal=g, text="o", target_date=episode.admission_date, by=clinic.actor
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_due_list_page_pins_its_queries(
    clinic: Clinic, client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    client.force_login(clinic.clinician)
    for i in range(2):
        clinic.patient(f"Due{i}a", "Listed")
    with django_assert_max_num_queries(20) as small:
        response = client.get(reverse("treatment:due"))
    assert response.status_code == 200
    for i in range(5):
        clinic.patient(f"Due{i}b", "Listed")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("treatment:due"))
    assert response.content.decode().count("Listed") == 7


def test_due_list_searches_by_name(clinic: Clinic, client: Client) -> None:
    client.force_login(clinic.clinician)
    clinic.patient("Wilhelmina", "Duesearch")
    other = clinic.patient("Bartholomew", "Otherdue")
    url = reverse("treatment:due")
    body = client.get(url, {"q": "wilhelmina duesearch"}).content.decode()
    assert "Duesearch" in body and "Otherdue" not in body
    by_mrn = client.get(url, {"q": other.patient.mrn}).content.decode()
    assert "Otherdue" in by_mrn and "Duesearch" not in by_mrn
    assert 'value="wilhelmina duesearch"' in body  # the search keeps what was typed
    none = client.get(url, {"q": "Nobodyhere"}).content.decode()
    assert "No patient with a plan due matches" in none and "Otherdue" not in none


def test_removing_a_problem_asks_first_and_names_what_goes_with_it(
    clinic: Clinic, client: Client
) -> None:
    plan = build_plan(clinic, clinic.patient("Rosalind", "Asksfirst"))
    problem = plan.problems.get()
    client.force_login(clinic.clinician)
    url = reverse("treatment:plan", kwargs={"treatment_plan_id": plan.pk})
    asked = client.post(url, {"action": "remove", "kind": "problem", "item": problem.pk})
    body = asked.content.decode()
    assert asked.status_code == 200 and 'data-testid="confirm-remove"' in body
    assert "with its 1 goal, their objectives and interventions" in body
    assert 'name="confirm" value="1"' in body
    assert plan.problems.filter(pk=problem.pk).exists()
    client.post(url, {"action": "remove", "kind": "problem", "item": problem.pk, "confirm": "1"})
    assert not plan.problems.exists()


def test_items_are_removed_from_a_draft_only(clinic: Clinic, client: Client) -> None:
    episode = clinic.patient("Rosalind", "Plansworth")
    plan = build_plan(clinic, episode)
    objective = plan.problems.get().goals.get().objectives.get()
    client.force_login(clinic.clinician)
    url = reverse("treatment:plan", kwargs={"treatment_plan_id": plan.pk})
    assert 'aria-label="Remove this objective"' in client.get(url).content.decode()
    remove = {"action": "remove", "kind": "objective", "item": objective.pk}
    asked = client.post(url, remove).content.decode()  # the first click only asks
    assert "Remove the objective" in asked and objective.text in asked
    assert plan.problems.get().goals.get().objectives.exists()
    client.post(url, {**remove, "confirm": "1"})
    assert not plan.problems.get().goals.get().objectives.exists()
    other = build_plan(clinic, clinic.patient("Sorrel", "Otherplan"))
    foreign = other.problems.get()
    client.post(url, {"action": "remove", "kind": "problem", "item": foreign.pk})
    client.post(url, {"action": "remove", "kind": "problem", "item": foreign.pk, "confirm": "1"})
    assert other.problems.filter(pk=foreign.pk).exists()  # not in this plan: refused
    services.plan_add_objective(
        goal=plan.problems.get().goals.get(), text="again", target_date=episode.admission_date,
        by=clinic.actor,
    )  # fmt: skip
    sign_all(clinic, plan)
    assert "Remove this" not in client.get(url).content.decode()
    client.post(url, {"action": "remove", "kind": "problem", "item": plan.problems.get().pk})
    assert plan.problems.count() == 1


def test_a_signed_plan_prints_with_its_signatures(clinic: Clinic, client: Client) -> None:
    import io

    from pypdf import PdfReader

    plan = build_plan(clinic, clinic.patient("Rosalind", "Plansworth"))
    sign_all(clinic, plan)
    client.force_login(clinic.clinician)
    response = client.get(reverse("treatment:plan_pdf", kwargs={"treatment_plan_id": plan.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ["F10.20", "I drink every night to fall asleep.", "Wind-down routine",
                     "CBT", "Patient: The Patient"]:  # fmt: skip
        assert expected in text, expected


@pytest.mark.parametrize("version", [None, "x"])
def test_plan_text_posted_without_its_version_is_refused_and_not_saved(
    clinic: Clinic, client: Client, version: str | None
) -> None:
    plan = build_plan(clinic, clinic.patient("Rosalind", "Plansworth"))
    client.force_login(clinic.clinician)
    data = {"action": "text", "strengths": "Overwritten", "discharge_criteria": ""}
    if version is not None:
        data["version"] = version
    response = client.post(reverse("treatment:plan", kwargs={"treatment_plan_id": plan.pk}), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "sent without a valid version" in body and "Overwritten" in body
    plan.refresh_from_db()
    assert plan.strengths != "Overwritten"
