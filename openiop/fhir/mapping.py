"""OpenIOP records as FHIR R4 resources: one function per resource type, record in, resource out.

Each returns a fhir.resources model (validated on construction). No queries of their own: the
selectors load what a mapping reads (select_related / prefetch_related) so that a page of
results costs the same queries whatever its size. No rules: statuses are translated, not decided.

fhir.resources ships R5 and R4B models; the R4B ones validate the R4 resources we serve (the
resources used here have the same shape in R4 and R4B).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, cast

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel

from openiop.fhir.part2 import ACT_CODE_SYSTEM, part2_meta

OPENIOP = "http://openiop.org/fhir"
MRN_SYSTEM = f"{OPENIOP}/sid/mrn"
INSTRUMENT_SYSTEM = f"{OPENIOP}/CodeSystem/instrument"
ITEM_SYSTEM = f"{OPENIOP}/CodeSystem/instrument-item"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
QUESTIONNAIRE_BASE = f"{OPENIOP}/Questionnaire"
HOME_SITE_EXTENSION = f"{OPENIOP}/StructureDefinition/home-site"


# While as_json runs a mapping, build returns the resource's JSON as the mapping wrote it instead
# of validating it into a model (see as_json).
_as_json: ContextVar[bool] = ContextVar("fhir_mapping_as_json", default=False)


def build(resource_type: str, data: dict[str, Any]) -> FHIRAbstractModel:
    """The fhir.resources model of `data` (raises pydantic's ValidationError when invalid)."""
    if _as_json.get():
        return cast(FHIRAbstractModel, {"resourceType": resource_type, **data})
    model = get_fhir_model_class(resource_type)
    return model.model_validate({"resourceType": resource_type, **data})


def as_json(to_fhir: Callable[[Any], FHIRAbstractModel], record: Any) -> dict[str, Any]:
    """The JSON of the resource `to_fhir` (a mapping of this module, or a registry's wrapper of
    one) makes of `record`, as plain dicts, lists and strings: the same mapping, without building
    the fhir.resources model and without its serializer. That model costs a read most of its
    time (about 1.5 ms a Patient: validating, then walking the model to dump it), so the read
    endpoint answers with this.

    Not validated here: openiop/fhir/tests/test_as_json.py proves, for a record of every resource
    type the server has (SUD and mental-health, so with and without Part 2 labels), that this JSON
    validates with fhir.resources and equals the validated model's own JSON, value for value.
    A mapping must therefore write each value as the model would serialize it (instants in UTC
    with "Z", see _instant), and only through build."""
    token = _as_json.set(True)
    try:
        data = to_fhir(record)
    finally:
        _as_json.reset(token)
    if not isinstance(data, dict):
        raise TypeError(f"{to_fhir!r} did not build its resource with mapping.build")
    return data


def _ref(resource_type: str, pk: object, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"{resource_type}/{pk}"}
    if display:
        ref["display"] = display
    return ref


def _instant(value: dt.datetime) -> str:
    """An instant as fhir.resources serializes it: UTC written with "Z" (as_json's JSON must be
    the model's)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _meta(record: Any, *, part2: bool = False, version: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"lastUpdated": _instant(record.updated_at)}
    v = version if version is not None else getattr(record, "version", None)
    if v is not None:
        meta["versionId"] = str(v)
    if part2:
        meta.update(part2_meta())
    return meta


def _period(
    start: dt.date | dt.datetime | None, end: dt.date | dt.datetime | None
) -> dict[str, str]:
    out: dict[str, str] = {}
    if start is not None:
        out["start"] = _instant(start) if isinstance(start, dt.datetime) else start.isoformat()
    if end is not None:
        out["end"] = _instant(end) if isinstance(end, dt.datetime) else end.isoformat()
    return out


# --- people and places ---------------------------------------------------------------------------

GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
GENDER_TO_SEX = {"female": "female", "male": "male", "other": "intersex", "unknown": "unknown"}


def patient(p: Any) -> FHIRAbstractModel:
    names: list[dict[str, Any]] = [
        {"use": "official", "family": p.legal_last_name, "given": [p.legal_first_name]}
    ]
    if p.preferred_name:
        names.append({"use": "usual", "family": p.legal_last_name, "given": [p.preferred_name]})
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    data: dict[str, Any] = {
        "id": str(p.pk),
        "meta": _meta(p),
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": f"{MRN_SYSTEM}/{p.organization_id}",
                "value": p.mrn,
            }
        ],
        "active": True,
        "name": names,
        "gender": GENDER.get(p.sex, "unknown"),
        "birthDate": p.date_of_birth.isoformat(),
        "managingOrganization": _ref("Organization", p.organization_id),
        "extension": [{"url": HOME_SITE_EXTENSION, "valueReference": _ref("Location", p.site_id)}],
    }
    if telecom:
        data["telecom"] = telecom
    if p.address_line or p.city or p.state or p.postal_code:
        address: dict[str, Any] = {"use": "home"}
        if p.address_line:
            address["line"] = [p.address_line]
        for key, value in (("city", p.city), ("state", p.state), ("postalCode", p.postal_code)):
            if value:
                address[key] = value
        data["address"] = [address]
    if p.language:
        data["communication"] = [{"language": {"text": p.language}, "preferred": True}]
    return build("Patient", data)


def practitioner(u: Any) -> FHIRAbstractModel:
    data: dict[str, Any] = {
        "id": str(u.pk),
        "active": bool(u.is_active),
        "name": [
            {"family": u.last_name or u.username, "given": [u.first_name] if u.first_name else []}
        ],
    }
    if not data["name"][0]["given"]:
        del data["name"][0]["given"]
    if u.credentials:
        data["qualification"] = [{"code": {"text": u.credentials}}]
    return build("Practitioner", data)


def organization(o: Any) -> FHIRAbstractModel:
    data: dict[str, Any] = {
        "id": str(o.pk),
        "meta": _meta(o),
        "active": bool(o.is_active),
        "name": o.name,
    }
    if o.crisis_line:
        data["telecom"] = [{"system": "phone", "value": o.crisis_line, "use": "work"}]
    return build("Organization", data)


def location(s: Any) -> FHIRAbstractModel:
    data: dict[str, Any] = {
        "id": str(s.pk),
        "meta": _meta(s),
        "status": "active" if s.is_active else "inactive",
        "name": s.name,
        "managingOrganization": _ref("Organization", s.organization_id),
    }
    if s.address:
        data["address"] = {"text": s.address}
    return build("Location", data)


# --- care ------------------------------------------------------------------------------------------

EPISODE_STATUS = {
    "waitlisted": "waitlist",
    "active": "active",
    "on_hold": "onhold",
    "discharged": "finished",
}


def episode_of_care(e: Any) -> FHIRAbstractModel:
    data: dict[str, Any] = {
        "id": str(e.pk),
        "meta": _meta(e, part2=e.part2_protected),
        "status": EPISODE_STATUS.get(e.status, "active"),
        "type": [
            {
                "coding": [
                    {
                        "system": f"{OPENIOP}/CodeSystem/treatment-focus",
                        "code": e.focus,
                        "display": e.get_focus_display(),
                    }
                ]
            }
        ],
        "patient": _ref("Patient", e.patient_id),
        "managingOrganization": _ref("Organization", e.patient.organization_id),
        "period": _period(e.admission_date, e.discharge_date),
    }
    if e.primary_clinician_id:
        data["careManager"] = _ref("Practitioner", e.primary_clinician_id)
    return build("EpisodeOfCare", data)


def encounter(a: Any) -> FHIRAbstractModel:
    s = a.session
    data: dict[str, Any] = {
        "id": str(a.pk),
        "meta": _meta(a, part2=a.episode.part2_protected),
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "type": [
            {
                "coding": [
                    {
                        "system": f"{OPENIOP}/CodeSystem/session-kind",
                        "code": s.kind,
                        "display": s.get_kind_display(),
                    }
                ],
                "text": s.title,
            }
        ],
        "subject": _ref("Patient", a.patient_id),
        "episodeOfCare": [_ref("EpisodeOfCare", a.episode_id)],
        "participant": [{"individual": _ref("Practitioner", s.facilitator_id)}],
        "period": _period(s.starts_at, s.ends_at),
        "length": {
            "value": a.minutes_attended,
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        },
        "location": [{"location": _ref("Location", s.site_id)}],
        "serviceProvider": _ref("Organization", a.patient.organization_id),
    }
    if s.episode_id:
        data["appointment"] = [_ref("Appointment", s.pk)]
    return build("Encounter", data)


APPOINTMENT_STATUS = {"scheduled": "booked", "cancelled": "cancelled"}


def appointment(s: Any) -> FHIRAbstractModel:
    e = s.episode
    data: dict[str, Any] = {
        "id": str(s.pk),
        "meta": _meta(s, part2=e.part2_protected),
        "status": APPOINTMENT_STATUS.get(s.status, "booked"),
        "serviceType": [
            {
                "coding": [
                    {
                        "system": f"{OPENIOP}/CodeSystem/session-kind",
                        "code": s.kind,
                        "display": s.get_kind_display(),
                    }
                ]
            }
        ],
        "description": s.title,
        "start": _instant(s.starts_at),
        "end": _instant(s.ends_at),
        "minutesDuration": s.duration_minutes,
        "participant": [
            {"actor": _ref("Patient", e.patient_id), "status": "accepted"},
            {"actor": _ref("Practitioner", s.facilitator_id), "status": "accepted"},
            {"actor": _ref("Location", s.site_id), "status": "accepted"},
        ],
    }
    if s.cancel_reason:
        data["cancelationReason"] = {"text": s.cancel_reason}
    return build("Appointment", data)


PLAN_STATUS = {"draft": "draft", "signed": "active", "superseded": "revoked"}


def care_plan(plan: Any) -> FHIRAbstractModel:
    e = plan.episode
    status = PLAN_STATUS.get(plan.status, "unknown")
    if status == "active" and not e.is_open:
        status = "completed"
    goals = [g for problem in plan.problems.all() for g in problem.goals.all()]
    data: dict[str, Any] = {
        "id": str(plan.pk),
        "meta": _meta(plan, part2=plan.part2 or e.part2_protected),
        "status": status,
        "intent": "plan",
        "title": f"Treatment plan, version {plan.number}",
        "subject": _ref("Patient", plan.patient_id),
        "created": _instant(plan.created_at),
        "author": _ref("Practitioner", plan.created_by_id),
        "addresses": [_ref("Condition", p.pk) for p in plan.problems.all()],
        "goal": [_ref("Goal", g.pk) for g in goals],
        "supportingInfo": [_ref("EpisodeOfCare", plan.episode_id)],
    }
    if plan.previous_id:
        data["replaces"] = [_ref("CarePlan", plan.previous_id)]
    if not data["addresses"]:
        del data["addresses"]
    if not data["goal"]:
        del data["goal"]
    return build("CarePlan", data)


def condition(problem: Any) -> FHIRAbstractModel:
    plan = problem.plan
    data: dict[str, Any] = {
        "id": str(problem.pk),
        "meta": _meta(problem, part2=problem.part2 or plan.episode.part2_protected),
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active" if plan.episode.is_open else "inactive",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "provisional" if plan.status == "draft" else "confirmed",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": ICD10CM, "code": problem.icd10_code}],
            "text": problem.description,
        },
        "subject": _ref("Patient", plan.patient_id),
        "recordedDate": _instant(problem.created_at),
        "note": [{"text": problem.patient_words}] if problem.patient_words else None,
    }
    if data["note"] is None:
        del data["note"]
    return build("Condition", data)


GOAL_STATUS = {
    "in_progress": ("active", "in-progress"),
    "met": ("completed", "achieved"),
    "partially_met": ("active", "improving"),
    "not_met": ("cancelled", "not-achieved"),
}


def goal(g: Any) -> FHIRAbstractModel:
    plan = g.problem.plan
    lifecycle, achievement = GOAL_STATUS.get(g.status, ("active", "in-progress"))
    data: dict[str, Any] = {
        "id": str(g.pk),
        "meta": _meta(g, part2=g.part2 or plan.episode.part2_protected),
        "lifecycleStatus": lifecycle,
        "achievementStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                    "code": achievement,
                }
            ]
        },
        "description": {"text": g.text},
        "subject": _ref("Patient", plan.patient_id),
        "addresses": [_ref("Condition", g.problem_id)],
    }
    return build("Goal", data)


# --- measures --------------------------------------------------------------------------------------


def instrument_codes(definition: Any, key: str) -> list[dict[str, str]]:
    """The codings of an instrument's result: its LOINC total (or panel) code where it has one,
    and always the local instrument code."""
    codes: list[dict[str, str]] = []
    loinc = definition.loinc_total or definition.loinc_panel
    if loinc:
        codes.append({"system": LOINC, "code": loinc, "display": definition.name})
    codes.append({"system": INSTRUMENT_SYSTEM, "code": key, "display": definition.name})
    return codes


def observation(r: Any) -> FHIRAbstractModel:
    definition = r.definition
    components: list[dict[str, Any]] = []
    for item, answer in zip(definition.items, r.answers, strict=False):
        coding = [{"system": ITEM_SYSTEM, "code": f"{r.instrument}-{item.number}"}]
        if item.loinc:
            coding.insert(0, {"system": LOINC, "code": item.loinc})
        components.append(
            {"code": {"coding": coding, "text": item.text[:200]}, "valueInteger": int(answer)}
        )
    data: dict[str, Any] = {
        "id": str(r.pk),
        "meta": _meta(r, part2=r.part2 or r.episode.part2_protected),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"coding": instrument_codes(definition, r.instrument), "text": definition.label},
        "subject": _ref("Patient", r.patient_id),
        "effectiveDateTime": _instant(r.administered_at),
        "issued": _instant(r.created_at),
        "derivedFrom": [_ref("QuestionnaireResponse", r.pk)],
        "component": components,
    }
    if r.total is not None:
        data["valueInteger"] = r.total
    if r.band:
        data["interpretation"] = [{"text": r.band_label}]
    if r.flags:
        data["note"] = [{"text": "; ".join(r.flag_labels)}]
    return build("Observation", data)


def questionnaire_response(r: Any) -> FHIRAbstractModel:
    definition = r.definition
    items = [
        {
            "linkId": str(item.number),
            "text": item.text[:500],
            "answer": [{"valueInteger": int(answer)}],
        }
        for item, answer in zip(definition.items, r.answers, strict=False)
    ]
    data: dict[str, Any] = {
        "id": str(r.pk),
        "meta": _meta(r, part2=r.part2 or r.episode.part2_protected),
        "questionnaire": f"{QUESTIONNAIRE_BASE}/{r.instrument}",
        "status": "completed",
        "subject": _ref("Patient", r.patient_id),
        "authored": _instant(r.administered_at),
        "item": items,
    }
    if r.entered_by_id:
        data["author"] = _ref("Practitioner", r.entered_by_id)
    return build("QuestionnaireResponse", data)


# --- revenue cycle ---------------------------------------------------------------------------------


def coverage(c: Any, *, today: dt.date) -> FHIRAbstractModel:
    active = (c.start_date is None or c.start_date <= today) and (
        c.end_date is None or c.end_date >= today
    )
    data: dict[str, Any] = {
        "id": str(c.pk),
        "meta": _meta(c),
        "status": "active" if active else "cancelled",
        "beneficiary": _ref("Patient", c.patient_id),
        "relationship": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    "code": {"self": "self", "spouse": "spouse", "child": "child"}.get(
                        c.subscriber_relationship, "other"
                    ),
                }
            ]
        },
        "payor": [{"display": c.payer.name}],
        "order": {"primary": 1, "secondary": 2, "tertiary": 3}.get(c.rank, 1),
        "period": _period(c.start_date, c.end_date),
    }
    if c.member_id:
        data["subscriberId"] = c.member_id
    if c.group_number:
        data["class"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "group",
                        }
                    ]
                },
                "value": c.group_number,
            }
        ]
    if not data["period"]:
        del data["period"]
    return build("Coverage", data)


CLAIM_STATUS = {
    "draft": "draft",
    "ready": "draft",
    "submitted": "active",
    "accepted": "active",
    "rejected": "cancelled",
    "paid": "active",
    "partially_paid": "active",
    "denied": "active",
    "appealed": "active",
}


def claim(c: Any) -> FHIRAbstractModel:
    institutional = c.claim_form.upper().endswith("I")
    items = [
        {
            "sequence": line.number,
            "productOrService": {
                "coding": [
                    {
                        "system": "http://www.ama-assn.org/go/cpt"
                        if line.code[:1].isdigit()
                        else "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                        "code": line.code,
                    }
                ]
            },
            "servicedDate": line.service_date.isoformat(),
            "quantity": {"value": line.units},
            "net": {"value": float(line.amount), "currency": "USD"},
        }
        for line in c.lines.all()
    ]
    data: dict[str, Any] = {
        "id": str(c.pk),
        "meta": _meta(c, part2=c.episode.part2_protected),
        "identifier": [{"system": f"{OPENIOP}/sid/claim", "value": c.patient_control_number}],
        "status": CLAIM_STATUS.get(c.state, "active"),
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "institutional" if institutional else "professional",
                }
            ]
        },
        "use": "claim",
        "patient": _ref("Patient", c.patient_id),
        "billablePeriod": _period(c.statement_from, c.statement_to),
        "created": _instant(c.created_at),
        "provider": _ref("Organization", c.patient.organization_id),
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "insurer": {"display": c.payer.name},
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref("Coverage", c.coverage_id)}],
        "diagnosis": [
            {
                "sequence": n,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": code}]},
            }
            for n, code in enumerate(c.diagnoses or [], start=1)
        ],
        "total": {"value": float(c.total), "currency": "USD"},
    }
    if items:
        data["item"] = items
    if not data["diagnosis"]:
        del data["diagnosis"]
    if c.authorization:
        data["insurance"][0]["preAuthRef"] = [c.authorization]
    return build("Claim", data)


# --- medications and drug tests (issue 18) --------------------------------------------------------

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ROUTE_SYSTEM = f"{OPENIOP}/CodeSystem/medication-route"
MEDICATION_SOURCE_SYSTEM = f"{OPENIOP}/CodeSystem/medication-source"
MAT_KIND_SYSTEM = f"{OPENIOP}/CodeSystem/mat-kind"
DRUG_TEST_KIND_SYSTEM = f"{OPENIOP}/CodeSystem/drug-test-kind"
ANALYTE_SYSTEM = f"{OPENIOP}/CodeSystem/drug-test-analyte"
# HL7 v3 ObservationInterpretation POS / NEG (terminology.hl7.org CodeSystem
# v3-ObservationInterpretation: "a presence / an absence finding of the specified analyte based on
# the established threshold of the performed test"). No LOINC code is given for the panels or the
# analytes (../shared/domain.md names none): they are coded in the local systems above, with text.
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DRUG_TEST_OUTCOME = {"positive": ("POS", "Positive"), "negative": ("NEG", "Negative")}


def medication_concept(name: str, rxnorm_code: str = "") -> dict[str, Any]:
    """A medication as a CodeableConcept: RxNorm only where the row has a code, always its name."""
    concept: dict[str, Any] = {"text": name}
    if rxnorm_code:
        concept["coding"] = [{"system": RXNORM, "code": rxnorm_code, "display": name}]
    return concept


def _local(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        concept["text"] = text
    return concept


def medication_statement(m: Any) -> FHIRAbstractModel:
    """A medication on the list (medications.Medication): active until stopped, then stopped
    (with the reason); where it comes from (prescribed here, elsewhere, reported by the patient)
    as its category; dose, route and frequency as the dosage text."""
    dosage: dict[str, Any] = {
        "text": f"{m.dose}, {m.frequency}",
        "route": _local(ROUTE_SYSTEM, m.route, m.get_route_display()),
    }
    data: dict[str, Any] = {
        "id": str(m.pk),
        "meta": _meta(m, part2=m.part2 or m.episode.part2_protected),
        "status": "active" if m.stop_date is None else "stopped",
        "category": _local(MEDICATION_SOURCE_SYSTEM, m.source, m.get_source_display()),
        "medicationCodeableConcept": medication_concept(m.name, m.rxnorm_code),
        "subject": _ref("Patient", m.patient_id),
        "context": _ref("EpisodeOfCare", m.episode_id),
        "dateAsserted": _instant(m.created_at),
        "dosage": [dosage],
    }
    period = _period(m.start_date, m.stop_date)
    if period:
        data["effectivePeriod"] = period
    if m.source == "patient_reported":
        data["informationSource"] = _ref("Patient", m.patient_id)
    elif m.prescriber:
        data["informationSource"] = {"display": m.prescriber}
    if m.stop_reason:
        data["statusReason"] = [{"text": m.stop_reason}]
    return build("MedicationStatement", data)


def medication_administration(d: Any) -> FHIRAbstractModel:
    """A dose given in the clinic (medications.DoseAdministration) of a MAT episode: the MAT's
    medication (RxNorm where its list entry has a code, else the MAT kind as text), who gave it,
    when, the dose and, where recorded, the injection site and the lot (the lot on a contained
    Medication's batch, where FHIR R4 keeps it)."""
    mat = d.mat
    kind_label = mat.get_kind_display()
    if mat.medication is not None:
        concept = medication_concept(mat.medication.name, mat.medication.rxnorm_code)
    else:
        concept = medication_concept(kind_label)
    concept.setdefault("coding", []).append(
        {"system": MAT_KIND_SYSTEM, "code": mat.kind, "display": kind_label}
    )
    dosage: dict[str, Any] = {"text": d.dose}
    if d.injection_site:
        dosage["site"] = {"text": d.get_injection_site_display()}
    data: dict[str, Any] = {
        "id": str(d.pk),
        "meta": _meta(d, part2=d.part2 or mat.episode.part2_protected),
        "status": "completed",
        "subject": _ref("Patient", mat.patient_id),
        "context": _ref("EpisodeOfCare", mat.episode_id),
        "effectiveDateTime": _instant(d.given_at),
        "performer": [{"actor": _ref("Practitioner", d.given_by_id)}],
        "dosage": dosage,
    }
    if d.lot:
        data["contained"] = [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": concept,
                "batch": {"lotNumber": d.lot},
            }
        ]
        data["medicationReference"] = {"reference": "#med"}
    else:
        data["medicationCodeableConcept"] = concept
    if d.note:
        data["note"] = [{"text": d.note}]
    return build("MedicationAdministration", data)


def allergy_intolerance(a: Any) -> FHIRAbstractModel:
    """An allergy on the list (medications.Allergy): the substance as text (no code is recorded),
    the reaction and its severity where recorded."""
    data: dict[str, Any] = {
        "id": str(a.pk),
        "meta": _meta(a, part2=a.part2 or a.episode.part2_protected),
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"text": a.substance},
        "patient": _ref("Patient", a.patient_id),
        "recordedDate": _instant(a.created_at),
        "recorder": _ref("Practitioner", a.recorded_by_id),
    }
    severity = a.severity if a.severity in ("mild", "moderate", "severe") else None
    if a.reaction:
        reaction: dict[str, Any] = {"manifestation": [{"text": a.reaction}]}
        if severity:
            reaction["severity"] = severity
        data["reaction"] = [reaction]
    elif severity:
        data["note"] = [{"text": f"Severity: {a.get_severity_display()} (reaction not recorded)"}]
    return build("AllergyIntolerance", data)


DRUG_TEST_STATUS = {"ordered": "registered", "resulted": "final", "cancelled": "cancelled"}


def _collected(o: Any) -> str:
    """When a drug test's specimen was collected: the instant, or the site's local day alone when
    only the day is known (a lab file gives the date; FHIR's dateTime takes a date)."""
    if not o.collected_time_known:
        return str(o.collected_at.astimezone(o.episode.site.tz).date().isoformat())
    return _instant(o.collected_at)


def diagnostic_report(o: Any) -> FHIRAbstractModel:
    """A drug or alcohol test (drugtests.DrugTestOrder) as a laboratory DiagnosticReport: the
    result per analyte as contained Observations (positive / negative, HL7 interpretation codes),
    the specimen's validity and whether collection was observed as its conclusion. Ordered and
    not yet resulted: registered, with no results. (Contained, so that Observation search stays
    the measures' scores.)"""
    part2 = o.part2 or o.episode.part2_protected
    contained: list[dict[str, Any]] = []
    for r in o.results.all():
        code, display = DRUG_TEST_OUTCOME.get(r.outcome, ("", r.get_outcome_display()))
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"r{r.pk}",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": _local(
                ANALYTE_SYSTEM, r.analyte, r.get_analyte_display(), r.get_analyte_display()
            ),
            "subject": _ref("Patient", o.patient_id),
            "valueCodeableConcept": {"text": r.get_outcome_display()},
        }
        if code:
            obs["interpretation"] = [
                {"coding": [{"system": INTERPRETATION, "code": code, "display": display}]}
            ]
        if o.collected_at:
            obs["effectiveDateTime"] = _collected(o)
        contained.append(obs)
    data: dict[str, Any] = {
        "id": str(o.pk),
        "meta": _meta(o, part2=part2),
        "status": DRUG_TEST_STATUS.get(o.status, "registered"),
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                        "code": "LAB",
                        "display": "Laboratory",
                    }
                ]
            }
        ],
        "code": _local(DRUG_TEST_KIND_SYSTEM, o.kind, o.get_kind_display(), o.get_kind_display()),
        "subject": _ref("Patient", o.patient_id),
        "effectiveDateTime": _collected(o) if o.collected_at else _instant(o.ordered_at),
    }
    if o.accession:
        data["identifier"] = [
            {"system": f"{OPENIOP}/sid/drug-test-accession", "value": o.accession}
        ]
    if o.resulted_at:
        data["issued"] = _instant(o.resulted_at)
    if o.resulted_by_id:
        data["performer"] = [_ref("Practitioner", o.resulted_by_id)]
    if contained:
        data["contained"] = contained
        data["result"] = [{"reference": f"#{c['id']}"} for c in contained]
    conclusion = []
    if o.validity:
        conclusion.append(f"Specimen validity: {o.get_validity_display()}.")
    if o.status == "resulted":
        conclusion.append("Collection observed." if o.observed else "Collection not observed.")
    if conclusion:
        data["conclusion"] = " ".join(conclusion)
    return build("DiagnosticReport", data)


MAPPERS: dict[str, Callable[..., FHIRAbstractModel]] = {
    "Patient": patient,
    "Practitioner": practitioner,
    "Organization": organization,
    "Location": location,
    "EpisodeOfCare": episode_of_care,
    "Encounter": encounter,
    "Appointment": appointment,
    "CarePlan": care_plan,
    "Condition": condition,
    "Goal": goal,
    "Observation": observation,
    "QuestionnaireResponse": questionnaire_response,
    "Claim": claim,
    "MedicationStatement": medication_statement,
    "MedicationAdministration": medication_administration,
    "AllergyIntolerance": allergy_intolerance,
    "DiagnosticReport": diagnostic_report,
}


# --- consents (42 CFR Part 2) ----------------------------------------------------------------------

ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CLIENT_ID_SYSTEM = f"{OPENIOP}/sid/fhir-client"
# A consent's purpose (consents.choices.Purpose) as v3 ActReason purposes of use.
CONSENT_PURPOSES: dict[str, list[tuple[str, str]]] = {
    "tpo": [
        ("TREAT", "treatment"),
        ("HPAYMT", "healthcare payment"),
        ("HOPERAT", "healthcare operations"),
    ],
    "treatment": [("TREAT", "treatment")],
    "payment": [("HPAYMT", "healthcare payment")],
    "operations": [("HOPERAT", "healthcare operations")],
    "patient_request": [("PATRQT", "patient requested")],
}


def consent_is_active(c: Any, today: dt.date) -> bool:
    """Whether a consent is in force on `today` by its record (not revoked, within its dates).
    An end-of-treatment expiry is not read here: the disclosure decision reads it."""
    return (
        c.revoked_at is None
        and c.effective_on <= today
        and (c.expires_on is None or c.expires_on >= today)
    )


def consent(c: Any, *, today: dt.date) -> FHIRAbstractModel:
    """A patient's Part 2 consent (consents.Consent) as a FHIR Consent: a privacy consent under
    the 42CFRPart2 policy that permits disclosure to its recipient for its purposes, over its
    dates. Revoked or expired: inactive. Every consent carries the Part 2 labels: it says the
    patient has records of substance-use treatment."""
    actor: dict[str, Any] = {"display": c.recipient_words}
    if c.recipient_kind == "api_client" and c.recipient_identifier:
        actor["identifier"] = {"system": CLIENT_ID_SYSTEM, "value": c.recipient_identifier}
    provision: dict[str, Any] = {
        "type": "permit",
        "period": _period(c.effective_on, c.expires_on or (c.revoked_at and c.revoked_at.date())),
        "actor": [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                            "display": "information recipient",
                        }
                    ]
                },
                "reference": actor,
            }
        ],
        "purpose": [
            {"system": ACT_REASON, "code": code, "display": display}
            for code, display in CONSENT_PURPOSES.get(c.purpose, [])
        ],
    }
    data: dict[str, Any] = {
        "id": str(c.pk),
        "meta": _meta(c, part2=True),
        "status": "active" if consent_is_active(c, today) else "inactive",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": ACT_CODE_SYSTEM,
                        "code": "IDSCL",
                        "display": "information disclosure",
                    }
                ],
                "text": c.information[:500],
            }
        ],
        "patient": _ref("Patient", c.patient_id),
        "dateTime": _instant(c.signed_at),
        "organization": [_ref("Organization", c.patient.organization_id, c.discloser)],
        "policyRule": {"coding": [{"system": ACT_CODE_SYSTEM, "code": "42CFRPart2"}]},
        "provision": provision,
    }
    return build("Consent", data)
