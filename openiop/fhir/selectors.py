"""Reads of the FHIR API: every search and read goes through the access kernel
(openiop.accounts.access: the role's capability and the actor's sites, denials audited) and
writes the same audit entries a page does (one SEARCH entry naming every patient returned, one
VIEW per read), with the OAuth client id noted (Actor.client_id).

Records from a Part 2 episode (or rows marked part2) go to a client outside the program only
where consents.selectors.part2_release finds a consent covering the client for its purpose of use:
one decision per response, whatever the number of patients, made afresh on every request (a
revocation takes effect at once). The others are withheld and counted, never described. What went
out is appended to the accounting of disclosures (consents.services.disclosure_record, channel
FHIR API), one write per response. See openiop.fhir.part2 for what the client reads.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, Unpack

from django.conf import settings
from django.db import connections
from django.db.models import Model, Prefetch, Q, QuerySet
from django.db.models.query import ModelIterable
from fhir_core.fhirabstractmodel import FHIRAbstractModel

from openiop.accounts.access import check_for, require, site_scope
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.attendance.choices import ATTENDED_STATUSES
from openiop.attendance.models import Attendance
from openiop.audit.models import AuditAction, AuditOutcome
from openiop.audit.services import audit_record, audit_record_many
from openiop.billing.models import Claim, ClaimLine, Coverage
from openiop.billing.models.payers import in_force_q
from openiop.consents.choices import Channel
from openiop.consents.domain import Withheld
from openiop.consents.models import Consent
from openiop.consents.selectors import Release, part2_release, split_part2
from openiop.consents.services import DisclosureItem, disclosure_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import NotFound, NotPermitted, RuleViolation
from openiop.drugtests.models import DrugTestOrder, DrugTestResult
from openiop.episodes.models import Episode
from openiop.fhir import mapping
from openiop.fhir.part2 import FhirRecipient
from openiop.measures.domain import REGISTRY
from openiop.measures.models import Response
from openiop.medications.models import Allergy, DoseAdministration, Medication
from openiop.patients.models import Patient
from openiop.programs.models import GroupSession, Organization, Site
from openiop.treatment.models import PlanGoal, PlanProblem, PlanStatus, TreatmentPlan

DEFAULT_PAGE_SIZE = 20

# Parameters every search takes (beyond each type's own): result control and format.
CONTROL_PARAMS = frozenset(
    {"_count", "_offset", "_include", "_revinclude", "_format", "_pretty", "_total"}
)
# Bundle.total (FHIR's `_total`: none | estimate | accurate). By default a search counts its
# matches exactly up to this many and leaves the total out beyond it (the next link still says
# there is more), so that a page of a network-wide search costs the same at any size; a client
# that needs the exact number asks `_total=accurate`.
TOTAL_COUNT_LIMIT = 1000
TOTAL_MODES = ("none", "estimate", "accurate")


class BadSearch(RuleViolation):
    """A search parameter this server does not support, or a value it cannot read (HTTP 400)."""

    code = "bad_search_param"


# --- search parameters ----------------------------------------------------------------------------

DATE_PREFIXES = {"eq", "ne", "lt", "le", "gt", "ge", "sa", "eb"}


def _date_q(field_path: str, value: str, *, is_datetime: bool) -> Q:
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    try:
        if len(text) == 4:
            first = dt.date(int(text), 1, 1)
            last = dt.date(int(text), 12, 31)
        elif len(text) == 7:
            first = dt.date.fromisoformat(f"{text}-01")
            nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            last = nxt - dt.timedelta(days=1)
        else:
            first = last = dt.date.fromisoformat(text[:10])
    except ValueError:
        raise BadSearch(f"'{value}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD).") from None
    lookup = f"{field_path}__date" if is_datetime else field_path
    if prefix == "eq":
        return Q(**{f"{lookup}__gte": first, f"{lookup}__lte": last})
    if prefix == "ne":
        return ~Q(**{f"{lookup}__gte": first, f"{lookup}__lte": last})
    if prefix in ("lt", "eb"):
        return Q(**{f"{lookup}__lt": first})
    if prefix == "le":
        return Q(**{f"{lookup}__lte": last})
    if prefix in ("gt", "sa"):
        return Q(**{f"{lookup}__gt": last})
    return Q(**{f"{lookup}__gte": first})  # ge


# The longest value a search parameter may have, and the largest id or number it may name (a
# database integer): longer or larger values are refused as bad searches, never sent to the DB.
MAX_VALUE_LENGTH = 1000
MAX_NUMBER = 2**63 - 1


def whole_number(text: str) -> int | None:
    """`text` as a whole number from 0 to MAX_NUMBER (ASCII digits only), else None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_NUMBER else None


def _ids(value: str, name: str) -> list[int]:
    out: list[int] = []
    for part in value.split(","):
        part = part.strip()
        if "/" in part:
            part = part.rsplit("/", 1)[1]
        number = whole_number(part)
        if number is None:
            raise BadSearch(f"'{value[:40]}' is not an id for {name}.", field=name)
        out.append(number)
    return out


def _token_codes(value: str) -> list[tuple[str | None, str]]:
    """system|code pairs of a token parameter (no system: None; '|code': '')."""
    out: list[tuple[str | None, str]] = []
    for part in value.split(","):
        if "|" in part:
            system, code = part.split("|", 1)
            out.append((system, code))
        else:
            out.append((None, part))
    return out


@dataclass(frozen=True)
class Param:
    """One search parameter: how its value becomes a filter."""

    build: Callable[[str], Q]


def p_ids(path: str, name: str) -> Param:
    return Param(lambda v: Q(**{f"{path}__in": _ids(v, name)}))


def p_date(path: str, *, is_datetime: bool = False) -> Param:
    return Param(lambda v: _date_q(path, v, is_datetime=is_datetime))


def p_status(mapping_: dict[str, str], path: str = "status") -> Param:
    """A status token: the FHIR codes (comma = or) back to the stored values."""
    reverse: dict[str, list[str]] = {}
    for stored, fhir in mapping_.items():
        reverse.setdefault(fhir, []).append(stored)

    def build(v: str) -> Q:
        stored: list[str] = []
        for _system, code in _token_codes(v):
            if code not in reverse:
                raise BadSearch(f"'{code}' is not a status this server uses.", field="status")
            stored.extend(reverse[code])
        return Q(**{f"{path}__in": stored})

    return Param(build)


def p_text(*paths: str) -> Param:
    def build(v: str) -> Q:
        q = Q()
        for path in paths:
            q |= Q(**{f"{path}__icontains": v})
        return q

    return Param(build)


def _observation_code(v: str) -> Q:
    keys: set[str] = set()
    for system, code in _token_codes(v):
        for key, definition in REGISTRY.items():
            codes = mapping.instrument_codes(definition, key)
            if any(c["code"] == code and system in (None, c["system"]) for c in codes):
                keys.add(key)
    return Q(instrument__in=sorted(keys))


def _condition_code(v: str) -> Q:
    q = Q(pk__in=[])
    for system, code in _token_codes(v):
        if system not in (None, mapping.ICD10CM):
            continue
        q |= Q(icd10_code__iexact=code)
    return q


def _patient_identifier(v: str) -> Q:
    q = Q(pk__in=[])
    for system, code in _token_codes(v):
        if system and not system.startswith(mapping.MRN_SYSTEM):
            continue
        match = Q(mrn__iexact=code)
        if system and system != mapping.MRN_SYSTEM:
            org = system.rsplit("/", 1)[1]
            org_id = whole_number(org)
            match &= Q(organization_id=org_id) if org_id is not None else Q(pk__in=[])
        q |= match
    return q


def _questionnaire(v: str) -> Q:
    keys = [part.rsplit("/", 1)[-1] for part in v.split(",")]
    return Q(instrument__in=keys)


def _gender(v: str) -> Q:
    stored = [mapping.GENDER_TO_SEX.get(code, "") for _s, code in _token_codes(v)]
    return Q(sex__in=stored)


def _active_coverage(v: str, today: dt.date) -> Q:
    active = in_force_q(today)
    codes = {code for _s, code in _token_codes(v)}
    if not codes <= {"active", "cancelled"}:
        raise BadSearch(f"'{v}' is not a status this server uses.", field="status")
    if codes == {"active"}:
        return active
    if codes == {"cancelled"}:
        return ~active
    return Q()


# --- resource types -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceDef:
    """How one FHIR resource type is read: its rows, who may see them, its search parameters."""

    type: str
    cap: Cap | None  # None: not patient data (staff, sites), any token user of the organization
    queryset: Callable[[], QuerySet[Any]]
    site_path: str  # the site id on the row, for access.site_scope
    to_fhir: Callable[[Any], FHIRAbstractModel]
    params: dict[str, Param] = field(default_factory=dict)
    patient_path: str | None = None  # the patient id on the row (None: not patient data)
    patient_of: Callable[[Any], Patient] | None = None
    part2_of: Callable[[Any], bool] | None = None
    order: tuple[str, ...] = ("pk",)
    updated_path: str | None = "updated_at"
    object_type: str = ""


def _patients() -> QuerySet[Patient]:
    return Patient.objects.all()


def _episodes() -> QuerySet[Episode]:
    return Episode.objects.select_related("patient")


def _encounters() -> QuerySet[Attendance]:
    return Attendance.objects.filter(status__in=ATTENDED_STATUSES).select_related(
        "session", "episode", "patient"
    )


def _appointments() -> QuerySet[GroupSession]:
    return GroupSession.objects.filter(episode__isnull=False).select_related("episode__patient")


def _plans() -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.select_related("episode__patient").prefetch_related(
        Prefetch("problems", queryset=PlanProblem.objects.prefetch_related("goals"))
    )


# Conditions and goals are those of the plan versions in force (a draft or the signed version):
# a superseded version's problems are the same problems again.
_CURRENT = ~Q(plan__status=PlanStatus.SUPERSEDED)


def _conditions() -> QuerySet[PlanProblem]:
    return PlanProblem.objects.filter(_CURRENT).select_related("plan__episode__patient")


def _goals() -> QuerySet[PlanGoal]:
    return PlanGoal.objects.exclude(problem__plan__status=PlanStatus.SUPERSEDED).select_related(
        "problem__plan__episode__patient"
    )


def _responses() -> QuerySet[Response]:
    return Response.objects.select_related("episode__patient")


def _coverages() -> QuerySet[Coverage]:
    return Coverage.objects.filter(patient__isnull=False).select_related("patient", "payer")


def _claims() -> QuerySet[Claim]:
    return Claim.objects.select_related("episode", "patient", "payer").prefetch_related(
        Prefetch("lines", queryset=ClaimLine.objects.order_by("number"))
    )


def _consents() -> QuerySet[Consent]:
    return Consent.objects.select_related("patient")


def _consent(c: Consent) -> FHIRAbstractModel:
    return mapping.consent(c, today=clock.now().date())


def _consent_status(v: str, today: dt.date) -> Q:
    active = Q(revoked_at__isnull=True, effective_on__lte=today) & (
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )
    codes = {code for _s, code in _token_codes(v)}
    if not codes <= {"active", "inactive"}:
        raise BadSearch(f"'{v}' is not a status this server uses.", field="status")
    if codes == {"active"}:
        return active
    if codes == {"inactive"}:
        return ~active
    return Q()


def _practitioners() -> QuerySet[User]:
    return User.objects.filter(is_active=True)


def _coverage(c: Coverage) -> FHIRAbstractModel:
    return mapping.coverage(c, today=clock.now().date())


# Medications and drug tests (issue 18): rows of substance-use care carry `part2` themselves
# (core.models.Part2Marked); the episode's mark is read too, like the other types.


def _medications() -> QuerySet[Medication]:
    return Medication.objects.select_related("patient", "episode")


def _medication_status(v: str) -> Q:
    codes = {code for _s, code in _token_codes(v)}
    if not codes <= {"active", "stopped"}:
        raise BadSearch(f"'{v}' is not a status this server uses.", field="status")
    q = Q(pk__in=[])
    if "active" in codes:
        q |= Q(stop_date__isnull=True)
    if "stopped" in codes:
        q |= Q(stop_date__isnull=False)
    return q


def _doses() -> QuerySet[DoseAdministration]:
    return DoseAdministration.objects.select_related(
        "mat__patient", "mat__episode", "mat__medication"
    )


def _allergies() -> QuerySet[Allergy]:
    return Allergy.objects.select_related("patient", "episode")


def _drug_tests() -> QuerySet[DrugTestOrder]:
    return DrugTestOrder.objects.select_related("patient", "episode__site").prefetch_related(
        Prefetch("results", queryset=DrugTestResult.objects.order_by("analyte", "id"))
    )


def _drug_test_date(v: str) -> Q:
    """A test's date is when the specimen was collected, or (not yet collected) when ordered."""
    collected = _date_q("collected_at", v, is_datetime=True)
    ordered = _date_q("ordered_at", v, is_datetime=True)
    return (Q(collected_at__isnull=False) & collected) | (Q(collected_at__isnull=True) & ordered)


def _only(code: str) -> Param:
    """A token parameter whose every row has the one value `code` (any other matches none)."""

    def build(v: str) -> Q:
        codes = {c for _s, c in _token_codes(v)}
        return Q() if code in codes else Q(pk__in=[])

    return Param(build)


def _defs() -> dict[str, ResourceDef]:
    patient_param = {"patient": p_ids("patient_id", "patient")}
    today = clock.now().date
    defs = [
        ResourceDef(
            "Patient",
            Cap.PATIENT_DEMOGRAPHICS,
            _patients,
            "site_id",
            mapping.patient,
            {
                "identifier": Param(_patient_identifier),
                "name": p_text("search_name", "legal_last_name", "legal_first_name"),
                "family": p_text("legal_last_name"),
                "given": p_text("legal_first_name", "preferred_name"),
                "birthdate": p_date("date_of_birth"),
                "gender": Param(_gender),
                "organization": p_ids("organization_id", "organization"),
            },
            patient_path="id",
            patient_of=lambda p: p,
            order=("legal_last_name", "legal_first_name", "id"),
        ),
        ResourceDef(
            "Practitioner",
            None,
            _practitioners,
            "sites__id",
            mapping.practitioner,
            {"name": p_text("first_name", "last_name")},
            order=("last_name", "first_name", "id"),
            updated_path=None,
        ),
        ResourceDef(
            "Organization",
            None,
            lambda: Organization.objects.all(),
            "sites__id",
            mapping.organization,
            {"name": p_text("name")},
            order=("name", "id"),
        ),
        ResourceDef(
            "Location",
            None,
            lambda: Site.objects.all(),
            "id",
            mapping.location,
            {"name": p_text("name"), "organization": p_ids("organization_id", "organization")},
            order=("name", "id"),
        ),
        ResourceDef(
            "EpisodeOfCare",
            Cap.EPISODE_VIEW,
            _episodes,
            "site_id",
            mapping.episode_of_care,
            {
                **patient_param,
                "status": p_status(mapping.EPISODE_STATUS),
                "date": p_date("admission_date"),
                "care-manager": p_ids("primary_clinician_id", "care-manager"),
            },
            patient_path="patient_id",
            patient_of=lambda e: e.patient,
            part2_of=lambda e: e.part2_protected,
            order=("-admission_date", "id"),
        ),
        ResourceDef(
            "Encounter",
            Cap.ATTENDANCE_VIEW,
            _encounters,
            "session__site_id",
            mapping.encounter,
            {
                **patient_param,
                "date": p_date("session__date"),
                "status": p_status(
                    {"present": "finished", "late": "finished", "left_early": "finished"}
                ),
                "episode-of-care": p_ids("episode_id", "episode-of-care"),
                "practitioner": p_ids("session__facilitator_id", "practitioner"),
                "location": p_ids("session__site_id", "location"),
            },
            patient_path="patient_id",
            patient_of=lambda a: a.patient,
            part2_of=lambda a: a.episode.part2_protected,
            order=("session__starts_at", "id"),
        ),
        ResourceDef(
            "Appointment",
            Cap.EPISODE_VIEW,
            _appointments,
            "site_id",
            mapping.appointment,
            {
                "patient": p_ids("episode__patient_id", "patient"),
                "date": p_date("date"),
                "status": p_status(mapping.APPOINTMENT_STATUS),
                "practitioner": p_ids("facilitator_id", "practitioner"),
            },
            patient_path="episode__patient_id",
            patient_of=lambda s: s.episode.patient,
            part2_of=lambda s: s.episode.part2_protected,
            order=("starts_at", "id"),
        ),
        ResourceDef(
            "CarePlan",
            Cap.CLINICAL_VIEW,
            _plans,
            "episode__site_id",
            mapping.care_plan,
            {
                **patient_param,
                "status": p_status(mapping.PLAN_STATUS),
                "date": p_date("created_at", is_datetime=True),
            },
            patient_path="patient_id",
            patient_of=lambda p: p.episode.patient,
            part2_of=lambda p: p.part2 or p.episode.part2_protected,
            order=("created_at", "id"),
        ),
        ResourceDef(
            "Condition",
            Cap.CLINICAL_VIEW,
            _conditions,
            "plan__episode__site_id",
            mapping.condition,
            {
                "patient": p_ids("plan__patient_id", "patient"),
                "code": Param(_condition_code),
                "recorded-date": p_date("created_at", is_datetime=True),
            },
            patient_path="plan__patient_id",
            patient_of=lambda c: c.plan.episode.patient,
            part2_of=lambda c: c.part2 or c.plan.episode.part2_protected,
            order=("created_at", "id"),
        ),
        ResourceDef(
            "Goal",
            Cap.CLINICAL_VIEW,
            _goals,
            "problem__plan__episode__site_id",
            mapping.goal,
            {
                "patient": p_ids("problem__plan__patient_id", "patient"),
                "lifecycle-status": p_status({k: v[0] for k, v in mapping.GOAL_STATUS.items()}),
            },
            patient_path="problem__plan__patient_id",
            patient_of=lambda g: g.problem.plan.episode.patient,
            part2_of=lambda g: g.part2 or g.problem.plan.episode.part2_protected,
            order=("created_at", "id"),
        ),
        ResourceDef(
            "Observation",
            Cap.CLINICAL_VIEW,
            _responses,
            "episode__site_id",
            mapping.observation,
            {
                **patient_param,
                "code": Param(_observation_code),
                "date": p_date("administered_at", is_datetime=True),
                "status": Param(lambda v: Q() if v == "final" else Q(pk__in=[])),
                "category": Param(lambda v: Q() if v.endswith("survey") else Q(pk__in=[])),
            },
            patient_path="patient_id",
            patient_of=lambda r: r.episode.patient,
            part2_of=lambda r: r.part2 or r.episode.part2_protected,
            order=("administered_at", "id"),
        ),
        ResourceDef(
            "QuestionnaireResponse",
            Cap.CLINICAL_VIEW,
            _responses,
            "episode__site_id",
            mapping.questionnaire_response,
            {
                **patient_param,
                "subject": p_ids("patient_id", "subject"),
                "authored": p_date("administered_at", is_datetime=True),
                "questionnaire": Param(_questionnaire),
                "status": Param(lambda v: Q() if v == "completed" else Q(pk__in=[])),
            },
            patient_path="patient_id",
            patient_of=lambda r: r.episode.patient,
            part2_of=lambda r: r.part2 or r.episode.part2_protected,
            order=("administered_at", "id"),
        ),
        ResourceDef(
            "MedicationStatement",
            Cap.CLINICAL_VIEW,
            _medications,
            "episode__site_id",
            mapping.medication_statement,
            {
                **patient_param,
                "subject": p_ids("patient_id", "subject"),
                "status": Param(_medication_status),
                "effective": p_date("start_date"),
                "context": p_ids("episode_id", "context"),
            },
            patient_path="patient_id",
            patient_of=lambda m: m.patient,
            part2_of=lambda m: m.part2 or m.episode.part2_protected,
            order=("name", "id"),
        ),
        ResourceDef(
            "MedicationAdministration",
            Cap.CLINICAL_VIEW,
            _doses,
            "mat__episode__site_id",
            mapping.medication_administration,
            {
                "patient": p_ids("mat__patient_id", "patient"),
                "subject": p_ids("mat__patient_id", "subject"),
                "status": _only("completed"),
                "effective-time": p_date("given_at", is_datetime=True),
                "performer": p_ids("given_by_id", "performer"),
                "context": p_ids("mat__episode_id", "context"),
            },
            patient_path="mat__patient_id",
            patient_of=lambda d: d.mat.patient,
            part2_of=lambda d: d.part2 or d.mat.episode.part2_protected,
            order=("given_at", "id"),
        ),
        ResourceDef(
            "AllergyIntolerance",
            Cap.CLINICAL_VIEW,
            _allergies,
            "episode__site_id",
            mapping.allergy_intolerance,
            {
                **patient_param,
                "clinical-status": _only("active"),
                "date": p_date("created_at", is_datetime=True),
            },
            patient_path="patient_id",
            patient_of=lambda a: a.patient,
            part2_of=lambda a: a.part2 or a.episode.part2_protected,
            order=("substance", "id"),
        ),
        ResourceDef(
            "DiagnosticReport",
            Cap.DRUGTEST_VIEW,
            _drug_tests,
            "episode__site_id",
            mapping.diagnostic_report,
            {
                **patient_param,
                "subject": p_ids("patient_id", "subject"),
                "status": p_status(mapping.DRUG_TEST_STATUS),
                "date": Param(_drug_test_date),
                "category": _only("LAB"),
                "identifier": Param(lambda v: Q(accession__in=[c for _s, c in _token_codes(v)])),
            },
            patient_path="patient_id",
            patient_of=lambda o: o.patient,
            part2_of=lambda o: o.part2 or o.episode.part2_protected,
            order=("ordered_at", "id"),
        ),
        ResourceDef(
            "Coverage",
            Cap.BENEFITS_MANAGE,
            _coverages,
            "patient__site_id",
            _coverage,
            {
                **patient_param,
                "beneficiary": p_ids("patient_id", "beneficiary"),
                "status": Param(lambda v: _active_coverage(v, today())),
            },
            patient_path="patient_id",
            patient_of=lambda c: c.patient,
            order=("rank", "id"),
        ),
        ResourceDef(
            "Claim",
            Cap.REVENUE_MANAGE,
            _claims,
            "site_id",
            mapping.claim,
            {
                **patient_param,
                "status": p_status(mapping.CLAIM_STATUS, "state"),
                "created": p_date("created_at", is_datetime=True),
                "identifier": Param(
                    lambda v: Q(patient_control_number__in=[c for _s, c in _token_codes(v)])
                ),
            },
            patient_path="patient_id",
            patient_of=lambda c: c.patient,
            part2_of=lambda c: c.episode.part2_protected,
            order=("statement_from", "id"),
        ),
        ResourceDef(
            "Consent",
            Cap.CONSENT_VIEW,
            _consents,
            "patient__site_id",
            _consent,
            {
                **patient_param,
                "status": Param(lambda v: _consent_status(v, today())),
                "date": p_date("signed_at", is_datetime=True),
            },
            patient_path="patient_id",
            patient_of=lambda c: c.patient,
            # A Part 2 consent says the patient has records of substance-use treatment: it
            # leaves the program under the same consent decision as those records do.
            part2_of=lambda c: True,
            order=("signed_at", "id"),
        ),
    ]
    return {d.type: d for d in defs}


DEFS: dict[str, ResourceDef] = _defs()

# _include / _revinclude: the Patient a resource names (search parameter `patient`, or the
# subject / beneficiary alias), and back from a Patient to the resources naming it.
INCLUDES = {f"{t}:patient" for t, d in DEFS.items() if "patient" in d.params}
INCLUDES |= {"QuestionnaireResponse:subject", "Coverage:beneficiary"}


def resource_def(resource_type: str) -> ResourceDef:
    d = DEFS.get(resource_type)
    if d is None:
        raise NotFound(f"This server has no resource type '{resource_type}'.", code="no_type")
    return d


# --- the search -----------------------------------------------------------------------------------


@dataclass
class SearchResult:
    """One page of a search: what may be returned and what was withheld (counted, not shown)."""

    total: int | None  # None: not counted (`_total=none`, or more than TOTAL_COUNT_LIMIT)
    offset: int
    count: int
    matches: list[FHIRAbstractModel]
    included: list[FHIRAbstractModel]
    withheld: Withheld
    disclosed: int = 0  # Part 2 records released outside the program (with the 2.32 notice)
    has_next: bool = False  # more matches after this page


def _scoped(actor: Actor, d: ResourceDef) -> QuerySet[Any]:
    qs = d.queryset().filter(site_scope(actor, d.site_path))
    if d.cap is None and "__" in d.site_path:
        qs = qs.distinct()
    if d.cap is None and actor.user is not None and actor.user.organization_id:
        org = actor.user.organization_id
        if d.type == "Organization":
            qs = qs.filter(pk=org)
        elif d.type == "Practitioner":
            qs = qs.filter(organization_id=org)
    return qs


def _require(actor: Actor, d: ResourceDef) -> None:
    if d.cap is not None:
        require(actor, d.cap, object_type=f"fhir_{d.type}")
    elif actor.user is None:
        raise NotPermitted("Your role does not allow this.", code="role_not_permitted")


@dataclass(frozen=True)
class Part2Gate:
    """The Part 2 decision of one response: the rows that may go, what was withheld (counts by
    type and patients), and per patient the Part 2 resources disclosed outside the program with
    the consent that covers them."""

    kept: list[tuple[ResourceDef, Any]]
    withheld: Withheld
    disclosed: dict[int, list[dict[str, str]]]
    release: Release | None


def part2_gate(recipient: FhirRecipient, rows: list[tuple[ResourceDef, Any]]) -> Part2Gate:
    """Decide which `rows` may go to `recipient`: rows that are not Part 2, and Part 2 rows of
    patients inside the program, go; Part 2 rows of patients outside it go only where
    consents.selectors.part2_release (ONE call, one query, for every patient of the response)
    finds a consent covering the client for its purpose. No query without an outside Part 2 row."""
    outside: set[int] = set()  # indexes of the Part 2 rows that would leave the program
    for i, (d, row) in enumerate(rows):
        if d.part2_of is None or d.patient_of is None or not d.part2_of(row):
            continue
        if not recipient.inside(d.patient_of(row).organization_id):
            outside.add(i)
    if not outside:
        return Part2Gate(kept=list(rows), withheld=Withheld(), disclosed={}, release=None)
    release = part2_release(
        patient_ids={_patient_id(rows[i][0], rows[i][1]) for i in outside},
        recipient=recipient.consent_recipient(),
        purpose=recipient.purpose,
    )
    indexed = list(enumerate(rows))
    kept, withheld = split_part2(
        indexed,
        release,
        patient_id_of=lambda ir: _patient_id(ir[1][0], ir[1][1]) if ir[0] in outside else 0,
        type_of=lambda ir: ir[1][0].type,
        is_part2=lambda ir: ir[0] in outside,
    )
    disclosed: dict[int, list[dict[str, str]]] = {}
    for i, (d, row) in kept:
        if i in outside:
            disclosed.setdefault(_patient_id(d, row), []).append(
                {"type": d.type, "id": str(row.pk)}
            )
    return Part2Gate(
        kept=[dr for _i, dr in kept], withheld=withheld, disclosed=disclosed, release=release
    )


def _account_disclosure(
    actor: Actor, recipient: FhirRecipient, gate: Part2Gate, rows: list[tuple[ResourceDef, Any]]
) -> None:
    """The accounting of what a response disclosed (42 CFR 2.25): one disclosure_record per
    disclosing organization (one, but for a network-wide client reading several), each a single
    INSERT naming every patient, the consent relied on and the resources sent."""
    if not gate.disclosed or gate.release is None:
        return
    org_of = {
        _patient_id(d, row): d.patient_of(row).organization_id
        for d, row in rows
        if d.patient_of is not None and _patient_id(d, row) in gate.disclosed
    }
    names = dict(Organization.objects.filter(pk__in=set(org_of.values())).values_list("id", "name"))
    by_org: dict[int, list[DisclosureItem]] = {}
    for pid, resources in sorted(gate.disclosed.items()):
        counts: dict[str, int] = {}
        for r in resources:
            counts[r["type"]] = counts.get(r["type"], 0) + 1
        what = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        by_org.setdefault(org_of[pid], []).append(
            DisclosureItem(
                patient_id=pid,
                consent_id=gate.release.consent_for(pid),
                description=f"FHIR API response to client {recipient.client_id}: {what}",
                resources=tuple(resources),
            )
        )
    for org_id, items in by_org.items():
        disclosure_record(
            by=actor,
            recipient=gate.release.recipient,
            purpose=recipient.purpose,
            channel=Channel.FHIR_API,
            items=items,
            discloser=names.get(org_id, ""),
        )


def _page_params(params: dict[str, list[str]]) -> tuple[int, int]:
    def one(name: str, default: int) -> int:
        values = params.get(name)
        if not values:
            return default
        number = whole_number(values[-1])
        if number is None:
            raise BadSearch(f"{name} must be a whole number.", field=name)
        return number

    count = min(one("_count", DEFAULT_PAGE_SIZE), int(settings.FHIR_MAX_PAGE_SIZE))
    return count, one("_offset", 0)


def search(
    *,
    actor: Actor,
    recipient: FhirRecipient,
    resource_type: str,
    params: dict[str, list[str]],
    allowed_types: Callable[[str], bool],
) -> SearchResult:
    """One page of `resource_type` matching `params` among the rows the actor may see.

    `params` maps each query parameter to its values (a repeated parameter is AND). Supported:
    _id, _lastUpdated, each type's own (DEFS), _count (at most FHIR_MAX_PAGE_SIZE), _offset,
    _include / _revinclude of a type's `patient` (only types `allowed_types` accepts: the token's
    scopes). Records of a Part 2 episode that part2_release refuses are withheld and counted.
    One SEARCH audit entry names every patient returned (and counts the withheld).

    Raises BadSearch for an unknown parameter or unreadable value, NotPermitted (audited)
    without the type's capability.
    """
    d = resource_def(resource_type)
    _require(actor, d)
    qs = _scoped(actor, d)
    for name, values in params.items():
        if any(len(v) > MAX_VALUE_LENGTH for v in values):
            raise BadSearch(
                f"The value of {name[:40]} is longer than {MAX_VALUE_LENGTH} characters.",
                field=name[:40],
            )
        if name in CONTROL_PARAMS:
            continue
        base = name.split(":", 1)[0]
        for value in values:
            if base == "_id":
                qs = qs.filter(pk__in=_ids(value, "_id"))
            elif base == "_lastUpdated" and d.updated_path:
                qs = qs.filter(_date_q(d.updated_path, value, is_datetime=True))
            elif base in d.params and ":" not in name:
                qs = qs.filter(d.params[base].build(value))
            else:
                raise BadSearch(
                    f"'{name}' is not a search parameter of {resource_type} on this server.",
                    field=name,
                )
    count, offset = _page_params(params)
    mode = _total_mode(params)
    # One row past the page says whether there is a next one, without counting every match.
    rows = list(qs.order_by(*d.order)[offset : offset + count + 1]) if count else []
    has_next = len(rows) > count
    rows = rows[:count]
    total = _total(qs, mode, offset=offset, count=count, page_rows=len(rows), has_next=has_next)
    candidates: list[tuple[ResourceDef, Any]] = [(d, r) for r in rows]
    for rev in params.get("_revinclude", []):
        candidates.extend(_revinclude(actor, d, rev, rows, allowed_types))
    gate = part2_gate(recipient, candidates)
    shown = [r for rd, r in gate.kept if rd is d]
    included_rows = [(rd, r) for rd, r in gate.kept if rd is not d]
    for inc in params.get("_include", []):
        included_rows.extend(_include(actor, d, inc, shown, allowed_types))
    if d.patient_path is not None:
        patient_ids = {_patient_id(d, r) for r in shown}
        patient_ids |= {_patient_id(rd, r) for rd, r in included_rows if rd.patient_path}
        detail: dict[str, Any] = {
            "fhir": resource_type,
            "query": "&".join(f"{k}={v}" for k, vs in sorted(params.items()) for v in vs)[:300],
        }
        if gate.withheld.total:
            detail["withheld_part2"] = gate.withheld.total
        if gate.disclosed:
            detail["disclosed_part2"] = sum(len(v) for v in gate.disclosed.values())
        audit_record_many(
            actor,
            action=AuditAction.SEARCH,
            object_type=f"fhir_{resource_type}",
            patient_ids=sorted(patient_ids),
            detail=detail,
        )
    _account_disclosure(actor, recipient, gate, candidates)
    return SearchResult(
        total=total,
        offset=offset,
        count=count,
        matches=[d.to_fhir(r) for r in shown],
        included=[rd.to_fhir(r) for rd, r in included_rows],
        withheld=gate.withheld,
        disclosed=sum(len(v) for v in gate.disclosed.values()),
        has_next=has_next,
    )


def _total_mode(params: dict[str, list[str]]) -> str:
    values = params.get("_total")
    if not values:
        return "estimate"
    if values[-1] not in TOTAL_MODES:
        raise BadSearch("_total must be none, estimate or accurate.", field="_total")
    return values[-1]


def _total(
    qs: QuerySet[Any], mode: str, *, offset: int, count: int, page_rows: int, has_next: bool
) -> int | None:
    """Bundle.total for `mode`: none, the exact count (accurate), or by default (estimate) the
    exact count when it is known from the page itself (the last page) or is at most
    TOTAL_COUNT_LIMIT, and no total beyond that."""
    if mode == "none":
        return None
    if mode == "accurate":
        return qs.count()
    if count and not has_next and (page_rows or offset == 0):
        return offset + page_rows  # the last page: every match before it and on it is known
    capped = qs.order_by()[: TOTAL_COUNT_LIMIT + 1].count()
    return capped if capped <= TOTAL_COUNT_LIMIT else None


def _patient_id(d: ResourceDef, row: Any) -> int:
    assert d.patient_path is not None
    value = row
    for part in d.patient_path.split("__"):
        value = getattr(value, part)
    return int(value)


def _include(
    actor: Actor,
    d: ResourceDef,
    spec: str,
    rows: list[Any],
    allowed_types: Callable[[str], bool],
) -> list[tuple[ResourceDef, Any]]:
    """The Patients `rows` name (`X:patient`), among those the actor may see."""
    source, _, _param = spec.partition(":")
    if source != d.type or spec not in INCLUDES:
        raise BadSearch(f"_include={spec} is not supported on {d.type}.", field="_include")
    pd = DEFS["Patient"]
    if not allowed_types("Patient"):
        raise NotPermitted("The token's scopes do not allow read of Patient.", code="scope")
    _require(actor, pd)
    ids = sorted({_patient_id(d, r) for r in rows})
    if not ids:
        return []
    return [(pd, p) for p in _scoped(actor, pd).filter(pk__in=ids).order_by("pk")]


def _revinclude(
    actor: Actor,
    d: ResourceDef,
    spec: str,
    rows: list[Any],
    allowed_types: Callable[[str], bool],
) -> list[tuple[ResourceDef, Any]]:
    """The resources of type X naming the Patients of `rows` (`X:patient` on a Patient search),
    before the Part 2 decision (the caller makes one for the whole response)."""
    target, _, _param = spec.partition(":")
    if d.type != "Patient" or spec not in INCLUDES or target not in DEFS:
        raise BadSearch(f"_revinclude={spec} is not supported on {d.type}.", field="_revinclude")
    if not allowed_types(target):
        raise NotPermitted(f"The token's scopes do not allow read of {target}.", code="scope")
    td = DEFS[target]
    _require(actor, td)
    ids = [r.pk for r in rows]
    if not ids:
        return []
    assert td.patient_path is not None
    qs = _scoped(actor, td).filter(**{f"{td.patient_path}__in": ids}).order_by(*td.order)
    limit = int(settings.FHIR_MAX_PAGE_SIZE)
    return [(td, r) for r in qs[:limit]]


# --- read -----------------------------------------------------------------------------------------


class Part2Withheld(NotPermitted):
    """A record of a Part 2 episode that no consent lets go to this client (HTTP 403); the
    message counts what was withheld, never its content or the patient's consents."""

    code = "part2_withheld"


@functools.cache
def _pk_plan(
    model: type[Model], alias: str
) -> tuple[str, list[str], list[tuple[int, Any, list[Any]]]]:
    """SELECT every concrete column of `model` WHERE its key = %s, the fields' attribute names,
    and the database converters of each column that has any (as the ORM's compiler applies
    them: the backend's, then the field's), for _row_by_pk. Built once per model."""
    conn = connections[alias]
    quote = conn.ops.quote_name
    meta = model._meta
    fields = list(meta.concrete_fields)
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s"
    converters = []
    for i, f in enumerate(fields):
        col = f.get_col(meta.db_table)
        found = conn.ops.get_db_converters(col) + f.get_db_converters(conn)  # type: ignore[attr-defined]
        if found:
            converters.append((i, col, found))
    return sql, [f.attname for f in fields], converters


def _plain(qs: QuerySet[Any]) -> bool:
    """Whether `qs` is a model's plain rows (no filter, join, prefetch, annotation or deferral:
    a Patient), which one SELECT built once per model (_pk_plan) reads as the ORM would."""
    query = qs.query
    return (
        query.select_related is False
        and not qs._prefetch_related_lookups  # type: ignore[attr-defined]
        and not query.where
        and not query.annotations
        and not query.extra
        and not query.distinct
        and not query.is_sliced
        and query.deferred_loading == (frozenset(), True)
        and qs._iterable_class is ModelIterable
    )


def _from_values(qs: QuerySet[Any], names: list[str], converters: list[Any], row: Any) -> Any:
    """The instance of `qs`'s model from _pk_plan's column values (None: no row), converted
    as the ORM converts them and made by Model.from_db, as the ORM makes it."""
    if row is None or row[names.index(qs.model._meta.pk.attname)] is None:
        return None  # no row; or the empty side of a LEFT JOIN (its key NULL)
    conn = connections[qs.db]
    values = list(row)
    for i, col, found in converters:
        for convert in found:
            values[i] = convert(values[i], col, conn)
    return qs.model.from_db(qs.db, names, values)


def _row_by_pk(qs: QuerySet[Any], pk: int) -> Any:
    """The row of `qs` whose key is `pk`, or None. Plain rows (_plain) are read with one SELECT
    built once per model, its values converted as the ORM converts them (_from_values):
    compiling the ORM's query cost more than running it. Any other goes through the ORM,
    without ORDER BY."""
    if not _plain(qs):
        return next(iter(qs.filter(pk=pk).order_by()[:1]), None)
    sql, names, converters = _pk_plan(qs.model, qs.db)  # type: ignore[arg-type]
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    return _from_values(qs, names, converters, row)


@dataclass(frozen=True)
class RowRead:
    """A read's row as one SELECT by key that another statement may run for it (fhir.auth runs
    it in the token's statement: one round trip for both), and how its values become the row."""

    sql: str
    pk: int
    columns: int
    build: Callable[[Any], Any]


def row_read(resource_type: str, resource_id: str) -> RowRead | None:
    """The RowRead of `resource_type/resource_id` when its type's rows are plain (_plain) and
    the id a key; None otherwise (read_record then reads the row itself, as it reports a bad id
    or an unknown type)."""
    d = DEFS.get(resource_type)
    pk = whole_number(resource_id)
    if d is None or pk is None:
        return None
    qs = d.queryset()
    if not _plain(qs):
        return None
    sql, names, converters = _pk_plan(qs.model, qs.db)  # type: ignore[arg-type]
    return RowRead(sql, pk, len(names), functools.partial(_from_values, qs, names, converters))


def read_record(
    *,
    actor: Actor,
    recipient: FhirRecipient,
    resource_type: str,
    resource_id: str,
    response_to: str = "",
    prefetched: tuple[RowRead, Any] | None = None,
) -> Any:
    """The row behind `resource_type/resource_id` for this actor, audited as a VIEW (patient
    data) naming the client. A Part 2 record read by a client outside the program is a
    disclosure: it goes only under a consent (part2_gate) and is then appended to the accounting
    of disclosures. Raises NotFound, NotPermitted (audited: role, site), Part2Withheld (audited
    as denied, with the decision's reason: no consent covers this client and purpose).

    The answer to a write (the created or updated resource echoed back) is such a read too, made
    once the write is done: `response_to` names the interaction ("create", "update"), noted in
    the audit entries' detail; empty for a plain read. `prefetched`: the RowRead of this very
    row and the values another statement read for it (the token's), used in place of reading
    the row again, after the same role check."""
    d = resource_def(resource_type)
    missing = NotFound(f"There is no {resource_type} with id '{resource_id}'.", code="not_found")
    pk = whole_number(resource_id)
    if pk is None:
        raise missing
    _require(actor, d)
    if prefetched is not None and prefetched[0].pk == pk:
        row = prefetched[0].build(prefetched[1])
    else:
        row = _row_by_pk(d.queryset(), pk)
    if row is None:
        raise missing
    if d.patient_of is None:
        if not _scoped(actor, d).filter(pk=row.pk).exists():
            raise missing  # staff, sites and organizations of others are not there for this actor
        return row
    object_type = f"fhir_{resource_type}"
    check_for(
        actor,
        row,
        cap=d.cap or Cap.PATIENT_DEMOGRAPHICS,
        object_type=object_type,
        patient_of=d.patient_of,
        action=None,
    )
    patient = d.patient_of(row)
    echo = {"response_to": response_to} if response_to else {}
    gate = part2_gate(recipient, [(d, row)])
    if gate.withheld.total:
        assert gate.release is not None
        audit_record(
            actor,
            action=AuditAction.VIEW,
            patient_id=patient.pk,
            object_type=object_type,
            object_id=row.pk,
            outcome=AuditOutcome.DENIED,
            detail={
                "reason": "withheld under 42 CFR Part 2",
                "decision": gate.release.withheld[patient.pk].reason[:200],
                **echo,
            },
        )
        raise Part2Withheld(gate.withheld.sentence)
    audit_record(
        actor,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        object_type=object_type,
        object_id=row.pk,
        detail=echo or None,
    )
    _account_disclosure(actor, recipient, gate, [(d, row)])
    return row


class ReadArgs(TypedDict):
    """read_record's keywords, as read takes them to pass on (mypy checks the two agree)."""

    actor: Actor
    recipient: FhirRecipient
    resource_type: str
    resource_id: str
    response_to: NotRequired[str]
    prefetched: NotRequired[tuple[RowRead, Any] | None]


def read(**args: Unpack[ReadArgs]) -> dict[str, Any]:
    """The JSON of the resource `resource_type/resource_id` (read_record, mapped with
    mapping.as_json: the test of as_json proves it the validated model's JSON for every type)."""
    row = read_record(**args)
    return mapping.as_json(resource_def(args["resource_type"]).to_fhir, row)


@dataclass(frozen=True)
class WrittenAnswer:
    """What the answer to a write may carry: the resource's JSON as a read of it would give the
    client, or, that read refused, why (`refusal`; `part2`: withheld under 42 CFR Part 2) and the
    version the write made (for the ETag)."""

    resource: dict[str, Any] | None
    refusal: str = ""
    part2: bool = False
    version: int | None = None


def written_answer(
    *,
    actor: Actor,
    recipient: FhirRecipient,
    resource_type: str,
    pk: int,
    version: int | None,
    interaction: str,
    first: Callable[[], None],
) -> WrittenAnswer:
    """The answer to a create or update of `resource_type/pk` the actor has just made: the read
    of it (read: access, the Part 2 decision, the VIEW audit noting the interaction, the
    accounting of a disclosure) after `first` (the interface's own check, e.g. the token's read
    scope), or, where either refuses (NotPermitted: a Part 2 record no consent lets go to this
    client, a role that may write but not read the type, a token without read scope), the
    refusal's reason and `version`: the write stands, its content is not returned. `version` is
    the one the write saved (its row's, None for a type without versions), so the refused
    answer names it without reading the row again."""
    try:
        first()
        found = read(
            actor=actor,
            recipient=recipient,
            resource_type=resource_type,
            resource_id=str(pk),
            response_to=interaction,
        )
    except NotPermitted as exc:
        return WrittenAnswer(
            None,
            refusal=exc.message,
            part2=isinstance(exc, Part2Withheld),
            version=version,
        )
    return WrittenAnswer(found)


def model_type_of(model: type[Model]) -> str | None:
    """The FHIR resource type a model is served as (for tests and the capability statement)."""
    for d in DEFS.values():
        if d.queryset().model is model:
            return d.type
    return None


# --- bulk export ----------------------------------------------------------------------------------


def export_queryset(*, actor: Actor, resource_type: str) -> QuerySet[Any]:
    """Every row of `resource_type` the actor may see (the search's site scope, no paging), for
    the bulk export (fhir.exports), which checks the capability, filters, audits and withholds
    Part 2 records itself."""
    return _scoped(actor, resource_def(resource_type))


def may_read_type(actor: Actor, resource_type: str) -> bool:
    """Whether the actor's role may read `resource_type` at all (no audit: for choosing an
    export's default types; an export naming the type checks with require, audited)."""
    d = resource_def(resource_type)
    if actor.user is None:
        return False
    return d.cap is None or actor.user.can(d.cap)


def require_type(actor: Actor, resource_type: str) -> None:
    """Raise NotPermitted (audited) unless the actor's role may read `resource_type`."""
    _require(actor, resource_def(resource_type))


def patient_id_of(resource_type: str, row: Any) -> int | None:
    """The patient a row of `resource_type` belongs to (None: not patient data)."""
    d = resource_def(resource_type)
    return _patient_id(d, row) if d.patient_path else None
