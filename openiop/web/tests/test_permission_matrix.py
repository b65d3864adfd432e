"""Who may open which page: the role-by-page matrix, allowed and denied, written out by hand.

Y = the page opens (200); N = refused (403) and the refusal is in the audit log.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openiop.audit.models import AuditEntry

ROLES = [
    "intake",
    "clinician",
    "case_manager",
    "prescriber",
    "billing",
    "director",
    "admin",
    "auditor",
]

#                      page name                  kwargs          intake clin  cm   presc bill dir  admin audit
MATRIX: list[tuple[str, tuple[str, ...], str]] = [
    ("web:today", (), "Y Y Y Y Y Y Y N"),
    ("patients:list", (), "Y Y Y Y Y Y N N"),
    ("patients:chart", ("patient_id",), "Y Y Y Y Y Y N N"),
    ("episodes:detail", ("episode_id",), "Y Y Y Y Y Y N N"),
    ("episodes:discharge", ("episode_id",), "Y Y Y N N Y N N"),  # the clinician's own patient
    ("attendance:session", ("session_id",), "N Y Y Y Y Y N N"),
    ("attendance:patient_hours", ("patient_id",), "N Y Y Y Y Y N N"),
    ("attendance:below_hours", (), "N Y Y Y Y Y N N"),
    ("programs:schedule", (), "Y Y Y Y Y Y Y N"),
    ("programs:track_list", (), "Y Y Y Y Y Y Y N"),
    ("audit:log", (), "N N N N N Y N Y"),
    ("treatment:plan", ("treatment_plan_id",), "N Y Y Y N Y N N"),
    ("treatment:episode_plans", ("episode_id",), "N Y Y Y N Y N N"),
    ("treatment:due", (), "N Y Y Y N Y N N"),
    ("treatment:discharge", ("episode_id",), "N Y Y Y N Y N N"),
    ("notes:group", ("session_id",), "N Y N Y N Y N N"),  # case managers: no note text
    ("notes:section", ("section_id",), "N Y N Y N Y N N"),  # case managers: no note text
    ("notes:patient_notes", ("patient_id",), "N Y N Y N Y N N"),  # case managers: no note text
    ("notes:late", (), "N Y N Y N Y N N"),  # case managers: no note text
    ("admissions:board", (), "Y Y Y Y Y Y N N"),
    ("admissions:inquiry", ("inquiry_id",), "Y Y Y Y Y Y N N"),
    ("admissions:inquiry_new", (), "Y N Y N N Y N N"),
    ("admissions:prescreen", ("inquiry_id",), "Y Y Y Y N Y N N"),
    ("admissions:assessment_new", ("inquiry_id",), "N Y Y Y N Y N N"),
    ("admissions:assessment", ("assessment_id",), "Y Y Y Y Y Y N N"),
    ("billing:payers", (), "Y N N N Y Y N N"),
    ("billing:verify", ("coverage_id",), "Y N N N Y Y N N"),
    ("billing:worklist", (), "N N N N Y Y N N"),
    ("billing:claim", ("claim_id",), "N N N N Y Y N N"),
    ("billing:claim_file", ("export_id",), "N N N N Y Y N N"),
    ("admissions:packet", ("episode_id",), "Y N Y N N Y N N"),
    ("measures:episode", ("episode_id",), "N Y Y Y N Y N N"),
    ("measures:enter", ("episode_id", "instrument"), "N Y Y Y N Y N N"),
    ("measures:plan", ("plan_id",), "N Y Y Y N Y N N"),
    ("measures:alerts", (), "N Y Y Y N Y N N"),
    ("measures:due", (), "N Y Y Y N Y N N"),
    ("measures:program", (), "N Y Y Y N Y N N"),
    ("casemgmt:resources", (), "N N Y N N Y N N"),
    ("casemgmt:resource_new", (), "N N Y N N Y N N"),
    ("casemgmt:tasks", (), "N N Y N N Y N N"),
    ("casemgmt:patient", ("patient_id",), "N N Y N N Y N N"),
]

CASES = [
    (page, kwargs, role, flags.split()[i] == "Y")
    for page, kwargs, flags in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(
    ("page", "kwargs", "role", "allowed"), CASES, ids=[f"{p}-{r}" for p, _, r, _ in CASES]
)
def test_role_page_matrix(
    page: str,
    kwargs: tuple[str, ...],
    role: str,
    allowed: bool,
    world: Any,
    client: Any,
    mfa_passed: Any,
) -> None:
    user = world.users[role]
    client.force_login(user)
    url = reverse(page, kwargs={k: world.ids[k] for k in kwargs})
    response = client.get(url)
    if allowed:
        assert response.status_code == 200, f"{role} should open {page}"
    else:
        assert response.status_code == 403, f"{role} should be refused {page}"
        assert AuditEntry.objects.filter(user_id=user.pk, outcome="denied").exists()


def test_clinician_of_another_site_is_refused_the_chart_and_the_refusal_names_the_patient(
    world: Any, client: Any
) -> None:
    client.force_login(world.other_site_clinician)
    response = client.get(reverse("patients:chart", kwargs={"patient_id": world.patient.pk}))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(
        user_id=world.other_site_clinician.pk, patient_id=world.patient.pk, outcome="denied"
    ).exists()


def test_clinician_patient_list_shows_only_their_sites(world: Any, client: Any) -> None:
    client.force_login(world.users["clinician"])
    body = client.get(reverse("patients:list")).content.decode()
    assert "Moonwhistle" in body
    assert "Farberry" not in body


@pytest.mark.parametrize("role", ["intake", "billing"])
def test_intake_and_billing_see_demographics_but_no_clinical_section(
    role: str, world: Any, client: Any, mfa_passed: Any
) -> None:
    client.force_login(world.users[role])
    body = client.get(
        reverse("patients:chart", kwargs={"patient_id": world.patient.pk})
    ).content.decode()
    assert world.patient.mrn in body
    assert 'data-section="clinical"' not in body
    assert "2 unexcused absences in a row" not in body


def test_clinician_sees_the_clinical_section(world: Any, client: Any) -> None:
    client.force_login(world.users["clinician"])
    body = client.get(
        reverse("patients:chart", kwargs={"patient_id": world.patient.pk})
    ).content.decode()
    assert 'data-section="clinical"' in body
