"""Every write of patient demographics and contacts goes through these functions."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from openiop.accounts.access import require_patient, require_site
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.clock import local_today, now
from openiop.core.concurrency import check_version, save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.patients.domain import format_mrn, search_name_for
from openiop.patients.models import Patient, PatientContact
from openiop.programs.models import Organization, Site
from openiop.programs.services import require_site_takes_new_work

# Demographic fields a person may write (organization, site, MRN and search_name are set here).
PATIENT_FIELDS: tuple[str, ...] = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "gender_identity",
    "pronouns",
    "phone",
    "email",
    "address_line",
    "city",
    "state",
    "postal_code",
    "language",
)

CONTACT_FIELDS: tuple[str, ...] = (
    "name",
    "relationship",
    "phone",
    "email",
    "is_emergency_contact",
    "is_legal_guardian",
    "notes",
)


def _check_fields(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")


def _validate(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Run the model's field validation; the first problem becomes a RuleViolation on its field."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        label = field.replace("_", " ")
        raise RuleViolation(
            f"{label.capitalize()}: {' '.join(messages)}",
            code="invalid_field",
            field=None if field == "__all__" else field,
        ) from exc


def _check_date_of_birth(patient: Patient, site: Site) -> None:
    dob = patient.date_of_birth
    if dob > local_today(site.tz):
        raise RuleViolation(
            "The date of birth cannot be in the future.", code="dob_future", field="date_of_birth"
        )
    if dob.year < 1900:
        raise RuleViolation(
            "Check the year of the date of birth.", code="dob_implausible", field="date_of_birth"
        )


def patient_create(*, organization: Organization, site: Site, by: Actor, **fields: Any) -> Patient:
    """Register a patient at `site` with the organization's next MRN and return it.

    The MRN is f"{mrn_prefix}{n:06d}" with n taken from Organization.next_mrn under a row lock, so
    two registrations at once never get the same number. Raises NotPermitted (audited) without
    Cap.PATIENT_EDIT or for a site outside the actor's sites; RuleViolation for invalid fields or
    a site that takes no new work.
    """
    _check_fields(fields, PATIENT_FIELDS)
    require_site(by, site, Cap.PATIENT_EDIT, object_type="patient")
    if site.organization_id != organization.pk:
        raise RuleViolation(
            f"{site.name} belongs to another organization.", code="site_mismatch", field="site"
        )
    require_site_takes_new_work(site)
    patient = Patient(organization=organization, site=site, **fields)
    patient.search_name = search_name_for(
        patient.legal_first_name, patient.preferred_name, patient.legal_last_name
    )
    _validate(patient, exclude=["organization", "site", "mrn"])
    _check_date_of_birth(patient, site)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        number = org.next_mrn
        # Skip numbers already used (e.g. by an import) so the unique constraint never trips.
        while Patient.objects.filter(
            organization=org, mrn=format_mrn(org.mrn_prefix, number)
        ).exists():
            number += 1
        patient.mrn = format_mrn(org.mrn_prefix, number)
        Organization.objects.filter(pk=org.pk).update(next_mrn=number + 1)
        patient.organization = org
        patient.save()
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="patient",
            object_id=patient.pk,
            detail={"mrn": patient.mrn, "site_id": site.pk},
        )
    organization.next_mrn = number + 1
    return patient


def patient_update(
    *, patient: Patient, expected_version: int | None, by: Actor, **fields: Any
) -> Patient:
    """Change demographics; returns the patient with its new version.

    Raises Conflict when someone saved the patient since `expected_version` was read,
    NotPermitted (audited) without Cap.PATIENT_EDIT at the patient's site, RuleViolation for
    invalid fields.

    A save that changes nothing writes nothing: the version stays (so it does not turn another
    editor's copy stale) and no update is logged, but a stale `expected_version` is still
    refused as a concurrent edit.
    """
    _check_fields(fields, PATIENT_FIELDS)
    require_patient(by, Cap.PATIENT_EDIT, patient)
    changed = sorted(f for f, v in fields.items() if getattr(patient, f) != v)
    if not changed:
        check_version(patient, expected_version=expected_version)
        return patient
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.search_name = search_name_for(
        patient.legal_first_name, patient.preferred_name, patient.legal_last_name
    )
    _validate(patient, exclude=["organization", "site", "mrn"])
    _check_date_of_birth(patient, patient.site)
    patient.updated_at = now()
    with transaction.atomic():
        save_if_unchanged(
            patient,
            expected_version=expected_version,
            fields=[*fields, "search_name", "updated_at"],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=patient.pk,
            object_type="patient",
            object_id=patient.pk,
            detail={"fields": changed},
        )
    return patient


def contact_add(*, patient: Patient, by: Actor, **fields: Any) -> PatientContact:
    """Add a family member, guardian or emergency contact and return it.

    Raises NotPermitted (audited) without Cap.PATIENT_EDIT at the patient's site, RuleViolation for
    invalid fields.
    """
    _check_fields(fields, CONTACT_FIELDS)
    require_patient(by, Cap.PATIENT_EDIT, patient, object_type="patient_contact")
    contact = PatientContact(patient=patient, **fields)
    _validate(contact, exclude=["patient"])
    with transaction.atomic():
        contact.save()
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="patient_contact",
            object_id=contact.pk,
            detail={
                "relationship": contact.relationship,
                "is_legal_guardian": contact.is_legal_guardian,
                "is_emergency_contact": contact.is_emergency_contact,
            },
        )
    return contact


def contact_remove(*, contact: PatientContact, by: Actor) -> None:
    """Remove a contact from the patient's record.

    Raises NotPermitted (audited) without Cap.PATIENT_EDIT at the patient's site.
    """
    patient = contact.patient
    require_patient(by, Cap.PATIENT_EDIT, patient, object_type="patient_contact")
    with transaction.atomic():
        contact_id = contact.pk
        relationship = contact.relationship
        contact.delete()
        audit_record(
            by,
            action=AuditAction.DELETE,
            patient_id=patient.pk,
            object_type="patient_contact",
            object_id=contact_id,
            detail={"relationship": relationship},
        )
