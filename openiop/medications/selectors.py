"""Reads of the medication list, allergies and MAT episodes: access checked and audited here.

Who reads: Cap.CLINICAL_VIEW (clinicians, case managers, prescribers and nurses, the director). A
case manager sees the list (pharmacy access, coordinating MAT with a program elsewhere), not
drug test results (openiop.drugtests). Intake, billing, administrators and auditors do not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet

from openiop.accounts.access import get_for
from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.medications import domain
from openiop.medications.models import (
    AdherenceNote,
    Allergy,
    DoseAdministration,
    MatEpisode,
    Medication,
)
from openiop.patients.models import Patient

READ_CAP = Cap.CLINICAL_VIEW


@dataclass
class MedicationList:
    patient: Patient
    medications: QuerySet[Medication]
    allergies: list[Allergy]
    mat_episodes: list[MatEpisode]
    adherence: list[AdherenceNote]


def _patient(actor: Actor, patient_id: int, purpose: str) -> Patient:
    return get_for(
        actor,
        Patient.objects.select_related("site", "organization"),
        patient_id,
        cap=READ_CAP,
        object_type=purpose,
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
    )


def medication_list(
    *, actor: Actor, patient_id: int, q: str = "", show_stopped: bool = True
) -> MedicationList:
    """A patient's medications (active first, then stopped; `q` filters by name), allergies, MAT
    episodes and the latest adherence notes. One audit entry (the view of the list). The
    medications are a queryset for the page to paginate."""
    patient = _patient(actor, patient_id, "medication_list")
    meds = Medication.objects.filter(patient=patient).select_related("recorded_by")
    if q:
        meds = meds.filter(Q(name__icontains=q) | Q(prescriber__icontains=q))
    if not show_stopped:
        meds = meds.filter(stop_date__isnull=True)
    meds = meds.order_by(F("stop_date").desc(nulls_first=True), "name", "id")  # active first
    allergies = list(Allergy.objects.filter(patient=patient).select_related("recorded_by"))
    mats = list(
        MatEpisode.objects.filter(patient=patient).select_related("medication", "started_by")
    )
    notes = list(
        AdherenceNote.objects.filter(patient=patient).select_related("recorded_by", "medication")[
            :10
        ]
    )
    return MedicationList(
        patient=patient, medications=meds, allergies=allergies, mat_episodes=mats, adherence=notes
    )


def medication_get(*, actor: Actor, medication_id: int) -> Medication:
    return get_for(
        actor,
        Medication.objects.select_related("patient__site", "episode"),
        medication_id,
        cap=READ_CAP,
        object_type="medication",
        missing=NotFound("There is no medication with this number.", code="medication_not_found"),
        patient_of=lambda m: m.patient,
    )


def mat_get(*, actor: Actor, mat_id: int) -> MatEpisode:
    """A MAT episode with its doses (newest first, with who gave them); audited."""
    return get_for(
        actor,
        MatEpisode.objects.select_related(
            "patient__site", "episode", "medication", "started_by"
        ).prefetch_related(
            Prefetch("doses", queryset=DoseAdministration.objects.select_related("given_by"))
        ),
        mat_id,
        cap=READ_CAP,
        object_type="mat_episode",
        missing=NotFound("There is no MAT episode with this number.", code="mat_not_found"),
        patient_of=lambda m: m.patient,
    )


def expected_medications(patient_id: int) -> list[domain.ActiveMedication]:
    """The patient's medications that a drug test may find (those with an analyte), whatever
    their dates (the caller keeps those taken on the day). Not audited: for a service that
    audits what it records (drugtests.services)."""
    rows = Medication.objects.filter(patient_id=patient_id).exclude(analyte="")
    return [
        domain.ActiveMedication(
            name=m.name, analyte=m.analyte, start_date=m.start_date, stop_date=m.stop_date
        )
        for m in rows.only("name", "analyte", "start_date", "stop_date")
    ]


def discharge_medications(patient_id: int, *, part2_allowed: bool = True) -> dict[str, Any]:
    """The medications at discharge for the discharge summary, JSON-ready: the patient's active
    medication list (not stopped), by name, and their open MAT episodes, oldest first. Two
    queries. No access check: for the discharge summary's services and selectors, which check
    and audit (a signed summary keeps what this returned when it was signed).

    A summary that is not itself a Part 2 record (`part2_allowed` false: a mental-health episode)
    leaves out the medications and MAT of substance-use care, which 42 CFR Part 2 keeps to that
    care's records, and says how many it left out (`part2_left_out`), not what they were."""
    medications = Medication.objects.filter(patient_id=patient_id, stop_date__isnull=True)
    mat = MatEpisode.objects.filter(patient_id=patient_id, ended_on__isnull=True)
    med_rows = list(medications.order_by("name", "id"))
    mat_rows = list(mat.order_by("started_on", "id"))
    shown_meds = [m for m in med_rows if part2_allowed or not m.part2]
    shown_mat = [m for m in mat_rows if part2_allowed or not m.part2]
    return {
        "medications": [
            {
                "name": m.name,
                "dose": m.dose,
                "route": m.get_route_display(),
                "frequency": m.frequency,
                "prescriber": m.prescriber,
                "source": m.get_source_display(),
                "start_date": m.start_date.isoformat() if m.start_date else "",
            }
            for m in shown_meds
        ],
        "mat": [
            {
                "kind": m.get_kind_display(),
                "started_on": m.started_on.isoformat(),
                "dispensing_program": m.dispensing_program,
            }
            for m in shown_mat
        ],
        "part2_left_out": (len(med_rows) - len(shown_meds)) + (len(mat_rows) - len(shown_mat)),
    }


@dataclass(frozen=True)
class HeaderMat:
    """The current MAT the patient header shows: "MAT: buprenorphine since Nov 2"."""

    kind: str
    label: str
    started_on: dt.date


def header_mat(patient_id: int) -> HeaderMat | None:
    """The patient's open MAT episode that started last (None without one), for the patient
    header. One query. Not audited on its own: it is part of a page whose selector audits the view,
    and the caller shows it only to users with Cap.CLINICAL_VIEW."""
    row = (
        MatEpisode.objects.filter(patient_id=patient_id, ended_on__isnull=True)
        .order_by("-started_on", "-id")
        .values_list("kind", "started_on")
        .first()
    )
    if row is None:
        return None
    kind, started_on = row
    return HeaderMat(kind=kind, label=domain.mat_short_label(kind), started_on=started_on)
