"""Medication services: who may record, Part 2 from the episode, the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.core.part2 import unmarked_part2_rows
from openiop.medications import selectors, services
from openiop.medications.models import DoseAdministration, Medication
from openiop.medications.tests.conftest import Clinic
from openiop.testing import make_user


def add_bup(clinic: Clinic, patient: object, role: Role = Role.PRESCRIBER) -> Medication:
    return services.medication_add(
        patient=patient,  # type: ignore[arg-type]
        catalog_key="buprenorphine_naloxone",
        name="",
        dose="8 mg/2 mg",
        route="sublingual",
        frequency="once a day",
        source="here",
        prescriber="Dr. Fennimore Quill (fictional)",
        start_date=dt.date(2026, 1, 5),
        by=clinic.actor(role),
    )


def test_a_catalog_medication_takes_its_name_code_and_analyte_and_part2(clinic: Clinic) -> None:
    episode = clinic.patient(focus="substance_use")
    assert episode.part2_protected
    med = services.medication_add(
        patient=episode.patient,
        catalog_key="methadone",
        name="",
        dose="80 mg",
        route="oral",
        frequency="daily",
        source="elsewhere",
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert (med.name, med.rxnorm_code, med.analyte, med.part2) == (
        "Methadone",
        "6813",
        "methadone",
        True,
    )
    entry = AuditEntry.objects.get(object_type="medication", action="create")
    assert entry.patient_id == episode.patient_id and entry.object_id == str(med.pk)
    assert not unmarked_part2_rows(Medication).exists()


def test_an_uncoded_medication_keeps_a_blank_code(clinic: Clinic) -> None:
    episode = clinic.patient()
    med = add_bup(clinic, episode.patient)
    assert med.rxnorm_code == ""  # not confirmed from a source: never guessed
    typed = services.medication_add(
        patient=episode.patient,
        name="Melatonin",
        dose="3 mg",
        route="oral",
        frequency="at night",
        source="patient_reported",
        by=clinic.actor(Role.PRESCRIBER),
    )
    assert (typed.rxnorm_code, typed.analyte) == ("", "")
    with pytest.raises(RuleViolation) as err:
        services.medication_add(
            patient=episode.patient,
            name="X",
            dose="1",
            route="oral",
            frequency="d",
            source="here",
            rxnorm_code="abc",
            by=clinic.actor(Role.PRESCRIBER),
        )
    assert err.value.field == "rxnorm_code"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.PRESCRIBER, True),
        (Role.CLINICIAN, False),
        (Role.CASE_MANAGER, False),
        (Role.DIRECTOR, False),
        (Role.BILLING, False),
        (Role.INTAKE, False),
    ],
)
def test_only_prescribers_and_nurses_record_medications(
    clinic: Clinic, role: Role, allowed: bool
) -> None:
    episode = clinic.patient()
    if allowed:
        add_bup(clinic, episode.patient, role)
    else:
        with pytest.raises(NotPermitted):
            add_bup(clinic, episode.patient, role)
        assert AuditEntry.objects.filter(outcome="denied", patient_id=episode.patient_id).exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.CLINICIAN, True),
        (Role.CASE_MANAGER, True),
        (Role.PRESCRIBER, True),
        (Role.BILLING, False),
        (Role.INTAKE, False),
        (Role.AUDITOR, False),
    ],
)
def test_who_reads_the_medication_list(clinic: Clinic, role: Role, allowed: bool) -> None:
    episode = clinic.patient()
    add_bup(clinic, episode.patient)
    if allowed:
        data = selectors.medication_list(actor=clinic.actor(role), patient_id=episode.patient_id)
        assert [m.name for m in data.medications] == ["Buprenorphine/naloxone"]
        assert AuditEntry.objects.filter(
            object_type="medication_list", patient_id=episode.patient_id, outcome="ok"
        ).exists()
    else:
        with pytest.raises(NotPermitted):
            selectors.medication_list(actor=clinic.actor(role), patient_id=episode.patient_id)


def test_a_prescriber_of_another_site_is_refused(clinic: Clinic) -> None:
    episode = clinic.patient()
    elsewhere = make_user(Role.PRESCRIBER, sites=[clinic.other_site], org=clinic.org)
    from openiop.core.actor import Actor

    with pytest.raises(NotPermitted):
        services.medication_add(
            patient=episode.patient,
            name="X",
            dose="1",
            route="oral",
            frequency="d",
            source="here",
            by=Actor(user=elsewhere, client_addr="127.0.0.1"),
        )
    denied = AuditEntry.objects.get(outcome="denied", user_id=elsewhere.pk)
    assert denied.patient_id == episode.patient_id
    assert not Medication.objects.exists()


def test_stopping_keeps_the_medication_and_refuses_a_stop_before_its_start(
    clinic: Clinic,
) -> None:
    episode = clinic.patient()
    med = add_bup(clinic, episode.patient)
    with pytest.raises(RuleViolation):
        services.medication_stop(
            medication=med,
            stop_date=dt.date(2026, 1, 1),
            reason="x",
            by=clinic.actor(Role.PRESCRIBER),
        )
    services.medication_stop(
        medication=med,
        stop_date=dt.date(2026, 2, 1),
        reason="Tapered off",
        by=clinic.actor(Role.PRESCRIBER),
    )
    med.refresh_from_db()
    assert med.stop_date == dt.date(2026, 2, 1) and not med.is_active
    with pytest.raises(RuleViolation):
        services.medication_stop(
            medication=med,
            stop_date=dt.date(2026, 2, 2),
            reason="again",
            by=clinic.actor(Role.PRESCRIBER),
        )


def test_a_patient_without_an_open_episode_gets_no_new_medication(clinic: Clinic) -> None:
    episode = clinic.patient(status="discharged")
    with pytest.raises(RuleViolation) as err:
        add_bup(clinic, episode.patient)
    assert err.value.code == "no_open_episode"


def test_xr_naltrexone_dose_needs_lot_and_site_and_records_the_nurse(clinic: Clinic) -> None:
    episode = clinic.patient(focus="substance_use")
    nurse = clinic.actor(Role.PRESCRIBER)
    mat = services.mat_start(
        patient=episode.patient, kind="naltrexone_xr", started_on=dt.date(2026, 2, 1), by=nurse
    )
    with pytest.raises(RuleViolation) as err:
        services.dose_record(mat=mat, dose="380 mg", lot="L123", by=nurse)
    assert err.value.field == "injection_site"
    with pytest.raises(RuleViolation) as err:
        services.dose_record(mat=mat, dose="380 mg", injection_site="left_gluteal", by=nurse)
    assert err.value.field == "lot"
    dose = services.dose_record(
        mat=mat, dose="380 mg", lot="L123", injection_site="left_gluteal", by=nurse
    )
    assert dose.given_by == clinic.users[Role.PRESCRIBER] and dose.part2
    assert not unmarked_part2_rows(DoseAdministration).exists()
    assert AuditEntry.objects.filter(object_type="dose", object_id=str(dose.pk)).exists()


def test_methadone_needs_its_program_and_is_not_dosed_here(clinic: Clinic) -> None:
    episode = clinic.patient()
    nurse = clinic.actor(Role.PRESCRIBER)
    with pytest.raises(RuleViolation):
        services.mat_start(
            patient=episode.patient,
            kind="methadone_elsewhere",
            started_on=dt.date(2026, 2, 1),
            by=nurse,
        )
    mat = services.mat_start(
        patient=episode.patient,
        kind="methadone_elsewhere",
        started_on=dt.date(2026, 2, 1),
        dispensing_program="Harborlight OTP (fictional)",
        by=nurse,
    )
    with pytest.raises(RuleViolation):
        services.dose_record(mat=mat, dose="80 mg", by=nurse)
    with pytest.raises(RuleViolation) as err:
        services.mat_start(
            patient=episode.patient,
            kind="methadone_elsewhere",
            started_on=dt.date(2026, 2, 2),
            dispensing_program="Another (fictional)",
            by=nurse,
        )
    assert err.value.code == "mat_open"


def test_allergy_and_adherence_note_are_recorded_and_marked(clinic: Clinic) -> None:
    episode = clinic.patient(focus="substance_use")
    nurse = clinic.actor(Role.PRESCRIBER)
    allergy = services.allergy_add(
        patient=episode.patient,
        substance="Penicillin",
        reaction="Hives",
        severity="moderate",
        by=nurse,
    )
    note = services.adherence_note_add(
        patient=episode.patient, text="Missed two doses over the weekend.", by=nurse
    )
    assert allergy.part2 and note.part2
    with pytest.raises(NotPermitted):
        services.allergy_add(
            patient=episode.patient,
            substance="Latex",
            reaction="",
            severity="mild",
            by=clinic.actor(Role.CLINICIAN),
        )
