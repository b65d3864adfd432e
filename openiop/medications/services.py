"""Every write of the medication list, allergies, MAT episodes and doses (permission-checked,
audited, one transaction each). Each row takes `part2` from the episode it is recorded in.

Prescriptions are recorded, not sent: nothing here transmits anything to a pharmacy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import OPEN_STATUSES
from openiop.episodes.models import Episode
from openiop.medications import domain
from openiop.medications.models import (
    AdherenceNote,
    Allergy,
    DoseAdministration,
    MatEpisode,
    Medication,
    MedicationSource,
    Route,
)
from openiop.patients.models import Patient

WRITE_CAP = Cap.MEDICATION_RECORD


def _acting(by: Actor) -> User:
    assert by.user is not None  # the permission check needs one
    return by.user


def _audit(
    by: Actor, patient_id: int, object_type: str, pk: int, action: str, **detail: Any
) -> None:
    audit_record(
        by,
        action=action,
        patient_id=patient_id,
        object_type=object_type,
        object_id=pk,
        detail=detail,
    )


def _text(value: str, field: str, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(f"Enter {what}.", code="required", field=field)
    if len(value) > limit:
        raise RuleViolation(f"Keep {what} under {limit} characters.", code="too_long", field=field)
    return value


def current_episode(patient: Patient) -> Episode:
    """The patient's open episode (the latest admitted), in which new records are made.
    Raises RuleViolation when the patient has none."""
    episode = (
        Episode.objects.filter(patient=patient, status__in=OPEN_STATUSES)
        .order_by("-admission_date", "-id")
        .first()
    )
    if episode is None:
        raise RuleViolation(
            "This patient has no open episode: medications are recorded within an episode of care.",
            code="no_open_episode",
        )
    return episode


def medication_add(
    *,
    patient: Patient,
    name: str,
    dose: str,
    route: str,
    frequency: str,
    source: str,
    by: Actor,
    catalog_key: str = "",
    prescriber: str = "",
    start_date: dt.date | None = None,
    rxnorm_code: str = "",
) -> Medication:
    """Add a medication to the patient's list. A medication of the curated table takes its name,
    RxNorm code and drug-test analyte from it; a medication typed in keeps the code given (blank
    when unknown). Raises RuleViolation on missing fields; NotPermitted (audited) without
    Cap.MEDICATION_RECORD at the patient's site."""
    require_patient(by, WRITE_CAP, patient, object_type="medication")
    entry = domain.catalog_entry(catalog_key) if catalog_key else None
    if catalog_key and entry is None:
        raise RuleViolation(
            "Choose a medication from the list.", code="unknown", field="catalog_key"
        )
    if entry is not None:
        name = name.strip() or entry.name
        rxnorm_code = entry.rxnorm
    name = _text(name, "name", "the medication's name", 200)
    dose = _text(dose, "dose", "the dose", 100)
    frequency = _text(frequency, "frequency", "how often", 100)
    if route not in Route.values:
        raise RuleViolation("Choose a route.", code="invalid", field="route")
    if source not in MedicationSource.values:
        raise RuleViolation("Choose who prescribed it.", code="invalid", field="source")
    rxnorm_code = rxnorm_code.strip()
    if rxnorm_code and not rxnorm_code.isdigit():
        raise RuleViolation("An RxNorm code is a number.", code="invalid", field="rxnorm_code")
    with transaction.atomic():
        episode = current_episode(patient)
        med = Medication.objects.create(
            patient=patient,
            episode=episode,
            catalog_key=entry.key if entry else "",
            name=name,
            rxnorm_code=rxnorm_code,
            analyte=entry.analyte if entry else "",
            dose=dose,
            route=route,
            frequency=frequency,
            prescriber=prescriber.strip()[:200],
            source=source,
            start_date=start_date,
            recorded_by=_acting(by),
            part2=episode.part2_protected,
        )
        _audit(by, patient.pk, "medication", med.pk, AuditAction.CREATE, name=name, source=source)
    return med


def medication_stop(
    *, medication: Medication, stop_date: dt.date, reason: str, by: Actor
) -> Medication:
    """Stop a medication (kept on the list as stopped). Raises RuleViolation when it is already
    stopped or the stop date is before its start."""
    require_patient(by, WRITE_CAP, medication.patient, object_type="medication")
    reason = _text(reason, "reason", "why it was stopped", 300)
    problem = domain.check_dates(medication.start_date, stop_date)
    if problem:
        raise RuleViolation(problem, code="invalid", field="stop_date")
    with transaction.atomic():
        locked = Medication.objects.select_for_update().get(pk=medication.pk)
        if locked.stop_date is not None:
            raise RuleViolation("This medication is already stopped.", code="already_stopped")
        locked.stop_date = stop_date
        locked.stop_reason = reason
        locked.save(update_fields=["stop_date", "stop_reason", "updated_at"])
        _audit(
            by,
            locked.patient_id,
            "medication",
            locked.pk,
            AuditAction.UPDATE,
            stopped=stop_date.isoformat(),
        )
    medication.stop_date, medication.stop_reason = stop_date, reason
    return locked


def allergy_add(
    *, patient: Patient, substance: str, reaction: str, severity: str, by: Actor
) -> Allergy:
    require_patient(by, WRITE_CAP, patient, object_type="allergy")
    substance = _text(substance, "substance", "the substance", 200)
    if severity not in Allergy.Severity.values:
        raise RuleViolation("Choose a severity.", code="invalid", field="severity")
    with transaction.atomic():
        episode = current_episode(patient)
        allergy = Allergy.objects.create(
            patient=patient,
            episode=episode,
            substance=substance,
            reaction=reaction.strip()[:300],
            severity=severity,
            recorded_by=_acting(by),
            part2=episode.part2_protected,
        )
        _audit(by, patient.pk, "allergy", allergy.pk, AuditAction.CREATE)
    return allergy


def adherence_note_add(
    *, patient: Patient, text: str, by: Actor, medication: Medication | None = None
) -> AdherenceNote:
    """An adherence note (what the patient says of taking it, missed doses, side effects).
    Written by those who record medications."""
    require_patient(by, WRITE_CAP, patient, object_type="adherence_note")
    text = _text(text, "text", "the note", 4000)
    if medication is not None and medication.patient_id != patient.pk:
        raise RuleViolation("That medication is not on this patient's list.", code="not_found")
    with transaction.atomic():
        episode = current_episode(patient)
        note = AdherenceNote.objects.create(
            patient=patient,
            episode=episode,
            medication=medication,
            text=text,
            recorded_by=_acting(by),
            part2=episode.part2_protected,
        )
        _audit(by, patient.pk, "adherence_note", note.pk, AuditAction.CREATE)
    return note


def mat_start(
    *,
    patient: Patient,
    kind: str,
    started_on: dt.date,
    by: Actor,
    medication: Medication | None = None,
    dispensing_program: str = "",
    notes: str = "",
) -> MatEpisode:
    """Start a MAT episode. Raises RuleViolation for an unknown kind, a methadone episode without
    the program that dispenses it, or a second open episode of the same kind."""
    require_patient(by, WRITE_CAP, patient, object_type="mat_episode")
    try:
        mat_kind = domain.MatKind(kind)
    except ValueError:
        raise RuleViolation("Choose the medication.", code="invalid", field="kind") from None
    if mat_kind == domain.MatKind.METHADONE_ELSEWHERE and not dispensing_program.strip():
        raise RuleViolation(
            "Name the opioid treatment program that dispenses the methadone.",
            code="required",
            field="dispensing_program",
        )
    if medication is not None and medication.patient_id != patient.pk:
        raise RuleViolation("That medication is not on this patient's list.", code="not_found")
    try:
        with transaction.atomic():
            episode = current_episode(patient)
            mat = MatEpisode.objects.create(
                patient=patient,
                episode=episode,
                kind=mat_kind.value,
                medication=medication,
                started_on=started_on,
                dispensing_program=dispensing_program.strip()[:200],
                notes=notes.strip(),
                started_by=_acting(by),
                part2=episode.part2_protected,
            )
            _audit(by, patient.pk, "mat_episode", mat.pk, AuditAction.CREATE, kind=mat_kind.value)
    except IntegrityError:
        raise RuleViolation(
            "This patient already has an open episode of this medication.", code="mat_open"
        ) from None
    return mat


def mat_end(*, mat: MatEpisode, ended_on: dt.date, reason: str, by: Actor) -> MatEpisode:
    require_patient(by, WRITE_CAP, mat.patient, object_type="mat_episode")
    reason = _text(reason, "reason", "why it ended", 300)
    if ended_on < mat.started_on:
        raise RuleViolation("The end date is before the start.", code="invalid", field="ended_on")
    with transaction.atomic():
        locked = MatEpisode.objects.select_for_update().get(pk=mat.pk)
        if locked.ended_on is not None:
            raise RuleViolation("This MAT episode has already ended.", code="mat_ended")
        locked.ended_on, locked.end_reason = ended_on, reason
        locked.save(update_fields=["ended_on", "end_reason", "updated_at"])
        _audit(
            by, locked.patient_id, "mat_episode", locked.pk, AuditAction.UPDATE, ended=str(ended_on)
        )
    mat.ended_on, mat.end_reason = ended_on, reason
    return locked


def dose_record(
    *,
    mat: MatEpisode,
    dose: str,
    by: Actor,
    given_at: dt.datetime | None = None,
    lot: str = "",
    injection_site: str = "",
    note: str = "",
) -> DoseAdministration:
    """Record a dose given in the clinic by the acting nurse or prescriber (`given_at`: now when
    not given). An extended-release naltrexone injection needs its lot and injection site.
    Raises RuleViolation for an ended episode, a dose in the future or a missing field."""
    require_patient(by, WRITE_CAP, mat.patient, object_type="dose")
    dose = _text(dose, "dose", "the dose", 100)
    at = given_at or now()
    if at > now() + dt.timedelta(minutes=5):
        raise RuleViolation(
            "A dose is recorded once given, not ahead.", code="future", field="given_at"
        )
    lot = lot.strip()[:60]
    if domain.needs_injection_site(mat.kind):
        if not injection_site:
            raise RuleViolation(
                "Record the injection site.", code="required", field="injection_site"
            )
        if not lot:
            raise RuleViolation("Record the lot number.", code="required", field="lot")
    if injection_site and injection_site not in {
        c[0] for c in DoseAdministration._meta.get_field("injection_site").choices or []
    }:
        raise RuleViolation("Choose the injection site.", code="invalid", field="injection_site")
    if mat.kind == domain.MatKind.METHADONE_ELSEWHERE:
        raise RuleViolation(
            "Methadone is dispensed by its treatment program, not given here.",
            code="dispensed_elsewhere",
        )
    with transaction.atomic():
        locked = MatEpisode.objects.select_for_update().get(pk=mat.pk)
        if locked.ended_on is not None:
            raise RuleViolation("This MAT episode has ended.", code="mat_ended")
        given = DoseAdministration.objects.create(
            mat=locked,
            given_at=at,
            dose=dose,
            lot=lot,
            injection_site=injection_site,
            given_by=_acting(by),
            note=note.strip()[:500],
            part2=locked.part2,
        )
        _audit(by, locked.patient_id, "dose", given.pk, AuditAction.CREATE, mat=locked.pk)
    return given
