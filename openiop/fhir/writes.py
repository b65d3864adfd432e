"""Writes through the FHIR API: parse the resource a client sent, then call the one service that
makes that change (patient_create / patient_update, response_record, session_cancel), which
checks access, owns the transaction and writes the audit entry. No rules here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from openiop.accounts.access import visible_site_ids
from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.concurrency import check_version
from openiop.core.errors import DomainError, NotFound, RuleViolation
from openiop.episodes.choices import OPEN_STATUSES
from openiop.episodes.models import Episode
from openiop.fhir import mapping
from openiop.fhir.selectors import whole_number
from openiop.measures.services import response_record
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_get
from openiop.patients.services import patient_create, patient_update
from openiop.programs.models import GroupSession, Site
from openiop.programs.selectors import session_for_edit
from openiop.programs.services.occurrences import session_cancel


class Unprocessable(RuleViolation):
    """A resource that is not valid FHIR, or that this server cannot store (HTTP 422)."""

    code = "unprocessable"
    http_status = 422


def parse(resource_type: str, body: Any) -> Any:
    """The fhir.resources model of a request body. Raises Unprocessable."""
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        raise Unprocessable(f"The body must be a {resource_type} resource.")
    try:
        return get_fhir_model_class(resource_type).model_validate(body)
    except ValidationError as exc:
        first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Unprocessable(
            f"Not a valid {resource_type}: {first.get('msg', 'invalid')} at {where or 'root'}.",
            field=where or None,
        ) from None


@contextmanager
def fhir_paths(paths: dict[str, str]) -> Iterator[None]:
    """Name a service's refusal by the FHIR element the client sent (the OperationOutcome's
    issue.expression, a FHIRPath) rather than by the service's own field name: `paths` maps
    the one to the other; a field not in it is left as it is."""
    try:
        yield
    except DomainError as exc:
        if exc.field is not None:
            exc.field = paths.get(exc.field, exc.field)
        raise


def _ref_id(ref: Any, resource_type: str, what: str) -> int:
    text = getattr(ref, "reference", None) or ""
    kind, _, pk = text.rpartition("/")
    number = whole_number(pk)
    if kind.rsplit("/", 1)[-1] != resource_type or number is None:
        raise Unprocessable(f"{what} must reference a {resource_type} (e.g. {resource_type}/12).")
    return number


# --- Patient ---------------------------------------------------------------------------------------


def _patient_fields(res: Any) -> dict[str, Any]:
    names = res.name or []
    official = next((n for n in names if n.use == "official"), names[0] if names else None)
    if official is None or not official.family or not official.given:
        raise Unprocessable("A patient needs an official name with a family and a given name.")
    if res.birthDate is None:
        raise Unprocessable("A patient needs a birthDate.", field="Patient.birthDate")
    fields: dict[str, Any] = {
        "legal_first_name": official.given[0],
        "legal_last_name": official.family,
        "date_of_birth": res.birthDate
        if isinstance(res.birthDate, dt.date)
        else dt.date.fromisoformat(str(res.birthDate)),
        "sex": mapping.GENDER_TO_SEX.get(res.gender or "unknown", "unknown"),
    }
    usual = next((n for n in names if n.use == "usual" and n.given), None)
    fields["preferred_name"] = usual.given[0] if usual else ""
    phone = next((t.value for t in res.telecom or [] if t.system == "phone"), "")
    email = next((t.value for t in res.telecom or [] if t.system == "email"), "")
    fields["phone"], fields["email"] = phone or "", email or ""
    if res.address:
        a = res.address[0]
        fields["address_line"] = (a.line or [""])[0]
        fields["city"], fields["state"] = a.city or "", a.state or ""
        fields["postal_code"] = a.postalCode or ""
    return fields


def _home_site(actor: Actor, res: Any) -> Site:
    ext = next((e for e in res.extension or [] if e.url == mapping.HOME_SITE_EXTENSION), None)
    if ext is not None and ext.valueReference is not None:
        site_id = _ref_id(ext.valueReference, "Location", "The home-site extension")
    else:
        ids = visible_site_ids(actor)
        if len(ids) != 1:
            raise Unprocessable(
                "Say which site the patient belongs to: the extension "
                f"{mapping.HOME_SITE_EXTENSION} with valueReference Location/<id>.",
                field="Patient.extension",
            )
        site_id = next(iter(ids))
    site = Site.objects.select_related("organization").filter(pk=site_id).first()
    if site is None:
        raise Unprocessable(f"There is no Location/{site_id}.", field="Patient.extension")
    return site


# The patient services' field names as the FHIR elements a client sent them in.
PATIENT_PATHS = {
    "legal_first_name": "Patient.name.given",
    "legal_last_name": "Patient.name.family",
    "preferred_name": "Patient.name.given",
    "date_of_birth": "Patient.birthDate",
    "sex": "Patient.gender",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "address_line": "Patient.address.line",
    "city": "Patient.address.city",
    "state": "Patient.address.state",
    "postal_code": "Patient.address.postalCode",
    "site": "Patient.extension",
}


def create_patient(*, actor: Actor, body: Any) -> Patient:
    """Register the Patient in `body` (patients.services.patient_create)."""
    res = parse("Patient", body)
    fields = _patient_fields(res)
    site = _home_site(actor, res)
    with fhir_paths(PATIENT_PATHS):
        return patient_create(organization=site.organization, site=site, by=actor, **fields)


def update_patient(
    *, actor: Actor, resource_id: str, body: Any, expected_version: int | None
) -> Patient:
    """Change a patient's demographics (patients.services.patient_update); the home site and
    MRN are not changed through FHIR."""
    res = parse("Patient", body)
    if res.id is not None and res.id != resource_id:
        raise Unprocessable("The resource id must match the URL.", field="Patient.id")
    patient_id = whole_number(resource_id)
    if patient_id is None:
        raise NotFound(f"There is no Patient with id '{resource_id}'.")
    patient = patient_get(
        actor=actor, patient_id=patient_id, cap=Cap.PATIENT_EDIT, purpose="fhir_Patient"
    )
    fields = _patient_fields(res)
    with fhir_paths(PATIENT_PATHS):
        return patient_update(
            patient=patient, expected_version=expected_version, by=actor, **fields
        )


# --- QuestionnaireResponse -------------------------------------------------------------------------


def create_questionnaire_response(*, actor: Actor, body: Any) -> Any:
    """Record a completed questionnaire (measures.services.response_record: scored on the
    server, safety alerts opened as in the chart). The questionnaire is
    http://openiop.org/fhir/Questionnaire/<instrument>; items linkId 1..n in the published
    order with valueInteger answers; the patient's open episode receives it."""
    res = parse("QuestionnaireResponse", body)
    if res.status != "completed":
        raise Unprocessable(
            "Only a completed questionnaire can be recorded.", field="QuestionnaireResponse.status"
        )
    canonical = str(res.questionnaire or "")
    if not canonical.startswith(mapping.QUESTIONNAIRE_BASE + "/"):
        raise Unprocessable(
            f"questionnaire must be {mapping.QUESTIONNAIRE_BASE}/<instrument>.",
            field="QuestionnaireResponse.questionnaire",
        )
    instrument = canonical.rsplit("/", 1)[1].split("|", 1)[0]
    if res.subject is None:
        raise Unprocessable(
            "subject must reference the Patient.", field="QuestionnaireResponse.subject"
        )
    patient_id = _ref_id(res.subject, "Patient", "subject")
    answers: dict[int, int] = {}
    for item in res.item or []:
        if (
            whole_number(str(item.linkId)) is None
            or not item.answer
            or item.answer[0].valueInteger is None
        ):
            raise Unprocessable(
                "Each item needs a numeric linkId (its number on the form) and a valueInteger.",
                field="QuestionnaireResponse.item",
            )
        answers[int(item.linkId)] = int(item.answer[0].valueInteger)
    ordered = [answers[n] for n in sorted(answers)]
    episode = (
        Episode.objects.select_related("patient", "site")
        .filter(patient_id=patient_id, status__in=OPEN_STATUSES)
        .first()
    )
    if episode is None:
        raise Unprocessable("The patient has no open episode to record a questionnaire in.")
    authored = res.authored if isinstance(res.authored, dt.datetime) else None
    return response_record(
        episode=episode,
        instrument=instrument,
        answers=ordered,
        administered_at=authored,
        by=actor,
    )


# --- Appointment status ----------------------------------------------------------------------------

# session_cancel's fields as the FHIR elements they come from.
APPOINTMENT_PATHS = {"reason": "Appointment.cancelationReason"}


def update_appointment(
    *, actor: Actor, resource_id: str, body: Any, expected_version: int | None
) -> GroupSession:
    """Change an appointment's status: cancelling is the one change a client may make
    (programs.services.occurrences.session_cancel, with cancelationReason.text as the reason)."""
    res = parse("Appointment", body)
    session_id = whole_number(resource_id)
    if session_id is None:
        raise NotFound(f"There is no Appointment with id '{resource_id}'.")
    session = session_for_edit(actor=actor, session_id=session_id)
    if session.episode_id is None:
        raise NotFound(f"There is no Appointment with id '{resource_id}'.")
    current = mapping.APPOINTMENT_STATUS.get(session.status, "booked")
    if res.status == current:
        # Nothing to change, but a stale If-Match is still a concurrent edit (412).
        check_version(session, expected_version=expected_version)
        return session
    if res.status != "cancelled":
        raise Unprocessable(
            "The one status change a client may make is to cancelled.", field="Appointment.status"
        )
    reason = res.cancelationReason.text if res.cancelationReason is not None else ""
    with fhir_paths(APPOINTMENT_PATHS):
        return session_cancel(
            session=session, expected_version=expected_version, reason=reason or "", by=actor
        )
