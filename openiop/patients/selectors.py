"""Reads of patient data: access checked and audited here, so no interface can forget."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Case, Prefetch, Q, QuerySet, Value, When

from openiop.accounts.access import get_for, require, site_scope, visible_patients
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.episodes.choices import OPEN_STATUSES, AlertStatus
from openiop.episodes.models import Alert, Episode
from openiop.episodes.selectors import episodes_with_history
from openiop.patients import matching
from openiop.patients.domain import SearchQuery, parse_search_query
from openiop.patients.models import Patient, PatientContact


def _apply_query(qs: QuerySet[Patient], query: SearchQuery) -> QuerySet[Patient]:
    if query.kind == "dob" and query.date_of_birth is not None:
        return qs.filter(date_of_birth=query.date_of_birth)
    if query.kind == "mrn":
        match = Q(mrn__istartswith=query.text)
        if query.text.isdigit():  # the number without the prefix: "42" finds LH000042
            match |= Q(mrn__endswith=query.text.zfill(6))
        return qs.filter(match)
    if query.kind == "name":
        for term in query.name_terms:  # search_name is stored lower-case
            qs = qs.filter(search_name__contains=term)
        return qs
    return qs


def patient_match(query: str, prefix: str = "patient__") -> Q:
    """The patient search box as a filter on a related patient (`prefix` names the path to it):
    every word of a name (search_name is stored lower-case), an MRN with or without its prefix,
    or a date of birth, as `patient_search` reads it. An empty query matches everything."""
    parsed = parse_search_query(query)
    if parsed.kind == "dob" and parsed.date_of_birth is not None:
        return Q(**{f"{prefix}date_of_birth": parsed.date_of_birth})
    if parsed.kind == "mrn":
        match = Q(**{f"{prefix}mrn__istartswith": parsed.text})
        if parsed.text.isdigit():  # the number without the prefix: "42" finds LH000042
            match |= Q(**{f"{prefix}mrn__endswith": parsed.text.zfill(6)})
        # A word with a digit is still tried as a name (fictional test names carry numbers).
        return match | Q(**{f"{prefix}search_name__contains": parsed.text.lower()})
    match = Q()
    for term in parsed.name_terms:
        match &= Q(**{f"{prefix}search_name__contains": term})
    return match


@dataclass
class Duplicate:
    patient: Patient
    reasons: list[str]


@dataclass
class Duplicates:
    """Likely duplicates: those the actor may see, and how many more are at sites they may not."""

    shown: list[Duplicate]
    elsewhere: int = 0

    def __bool__(self) -> bool:
        return bool(self.shown or self.elsewhere)


DUPLICATE_CANDIDATES = 50


def likely_duplicates(
    *,
    actor: Actor,
    organization_id: int,
    person: matching.Person,
    object_type: str,
    object_id: object = None,
    count_elsewhere: bool = False,
) -> Duplicates:
    """The organization's patients who are likely `person` (patients.matching: the same name and
    date of birth, or the same phone), the actor's sites first.

    Only patients the actor may see are returned; with `count_elsewhere`, likely matches at other
    sites are counted (never named), so the actor can be told one exists. One audit entry
    (SEARCH, `object_type`) links every patient matched, shown or counted; none when nothing
    matched. Raises NotPermitted (audited) without Cap.PATIENT_DEMOGRAPHICS.
    """
    require(actor, Cap.PATIENT_DEMOGRAPHICS, object_type=object_type)
    phone = matching.normalize_phone(person.phone)
    query = Q()
    if person.date_of_birth:
        query |= Q(
            date_of_birth=person.date_of_birth, legal_last_name__iexact=person.last_name.strip()
        )
    if phone:
        query |= Q(phone__endswith=phone[-4:])
    if not query:
        return Duplicates(shown=[])
    scope = site_scope(actor)
    candidates = Patient.objects.filter(query, organization_id=organization_id)
    if not count_elsewhere:
        candidates = candidates.filter(scope)
    visible = (
        Case(When(scope, then=Value(True)), default=Value(False), output_field=BooleanField())
        if scope
        else Value(True)
    )
    rows = candidates.annotate(visible=visible).order_by(
        "-visible", "legal_last_name", "legal_first_name", "id"
    )[:DUPLICATE_CANDIDATES]
    shown: list[Duplicate] = []
    elsewhere: list[int] = []
    for p in rows:
        reasons = matching.match_reasons(
            person, matching.Person(p.legal_first_name, p.legal_last_name, p.date_of_birth, p.phone)
        )
        if not reasons and p.preferred_name:
            reasons = matching.match_reasons(
                person,
                matching.Person(p.preferred_name, p.legal_last_name, p.date_of_birth, p.phone),
            )
        if reasons and p.visible:
            shown.append(Duplicate(patient=p, reasons=reasons))
        elif reasons:
            elsewhere.append(p.pk)
    if shown or elsewhere:
        audit_record_many(
            actor,
            action=AuditAction.SEARCH,
            object_type=object_type,
            object_id=object_id,
            patient_ids=[d.patient.pk for d in shown] + elsewhere,
            detail={"not_shown": len(elsewhere)} if elsewhere else None,
        )
    return Duplicates(shown=shown, elsewhere=len(elsewhere))


def patient_search(*, actor: Actor, query: str) -> QuerySet[Patient]:
    """Patients at the actor's sites matching the search box, ordered by last and first name.

    The query is a partial name (legal or preferred, any case), a date of birth (YYYY-MM-DD or
    MM/DD/YYYY) or an MRN; empty lists everyone the actor may see. Each patient carries
    `open_episodes` (a list). The caller slices a page and then calls `patient_search_shown` with
    the patients it displays, which writes the audit entry. Raises NotPermitted (audited) without
    Cap.PATIENT_DEMOGRAPHICS.
    """
    require(actor, Cap.PATIENT_DEMOGRAPHICS, object_type="patient_search")
    qs = visible_patients(actor, Patient.objects.all()).select_related("site")
    qs = qs.prefetch_related(
        Prefetch(
            "episodes",
            queryset=Episode.objects.filter(status__in=OPEN_STATUSES),
            to_attr="open_episodes",
        )
    )
    return _apply_query(qs, parse_search_query(query)).order_by(
        "legal_last_name", "legal_first_name", "id"
    )


def patient_search_shown(*, actor: Actor, query: str, patients: Iterable[Patient]) -> None:
    """Audit a search: one entry naming every patient shown."""
    parsed = parse_search_query(query)
    audit_record_many(
        actor,
        action=AuditAction.SEARCH,
        object_type="patient_search",
        patient_ids=[p.pk for p in patients],
        detail={"kind": parsed.kind, "query": parsed.text[:100]},
    )


def patient_get(
    *, actor: Actor, patient_id: int, cap: Cap = Cap.PATIENT_DEMOGRAPHICS, purpose: str = "patient"
) -> Patient:
    """One patient's demographics, audited as a view (`purpose` names the page or command).

    Raises NotFound for an unknown id; NotPermitted (audited) without `cap` or at another site.
    """
    return get_for(
        actor,
        Patient.objects.select_related("site", "organization"),
        patient_id,
        cap=cap,
        object_type=purpose,
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
    )


def patient_in_organization(*, patient_id: int, organization_id: int) -> Patient | None:
    """The organization's patient with this id, or None. No access check or audit: for a service
    that checks and audits the patient itself (inquiry_link_patient)."""
    return Patient.objects.filter(pk=patient_id, organization_id=organization_id).first()


def contact_get(*, actor: Actor, patient_id: int, contact_id: int) -> PatientContact:
    """One contact of a patient for the removal page; audited. Raises NotFound, NotPermitted."""
    return get_for(
        actor,
        PatientContact.objects.select_related("patient", "patient__site").filter(
            patient_id=patient_id
        ),
        contact_id,
        cap=Cap.PATIENT_EDIT,
        object_type="patient_contact",
        missing=NotFound("This contact is not on the patient's record.", code="contact_not_found"),
        patient_of=lambda c: c.patient,
    )


@dataclass(frozen=True)
class Chart:
    """What the chart shows. Parts the actor may not see are None (never empty lists)."""

    patient: Patient
    contacts: list[PatientContact]
    episodes: list[Episode] | None  # Cap.EPISODE_VIEW
    alerts: list[Alert] | None  # Cap.CLINICAL_VIEW
    has_part2_records: bool
    # Open measures.SafetyAlert rows of any episode, closed ones too (Cap.CLINICAL_VIEW)
    safety_alerts: list[Any] | None = None

    @property
    def shows_clinical(self) -> bool:
        return self.alerts is not None

    @property
    def open_episode(self) -> Episode | None:
        return next((e for e in self.episodes or [] if e.is_open), None)


_UNSHOWN_STAFF_FIELDS = tuple(
    f"{role}__{field}"
    for role in ("primary_clinician", "case_manager")
    for field in ("password", "last_login", "is_superuser", "is_staff", "email", "date_joined")
)


def patient_chart(*, actor: Actor, patient_id: int) -> Chart:
    """The chart: demographics and contacts for Cap.PATIENT_DEMOGRAPHICS, episodes for
    Cap.EPISODE_VIEW, clinical parts (alerts) only for Cap.CLINICAL_VIEW. Audited as one view.

    Raises NotFound for an unknown id; NotPermitted (audited) without Cap.PATIENT_DEMOGRAPHICS or
    for a patient at another site.
    """
    patient = get_for(
        actor,
        Patient.objects.select_related("site", "organization"),
        patient_id,
        cap=Cap.PATIENT_DEMOGRAPHICS,
        object_type="patient_chart",
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
        action=None,  # audited below with the sections shown
    )
    user = actor.user
    assert user is not None
    contacts = list(patient.contacts.all())
    # The patient is known, so it is set on each episode instead of joined again; the staff named
    # on an episode are loaded without their password hash and login dates. Compiling the wide
    # SELECT was half of the chart's time.
    all_episodes = list(
        episodes_with_history()
        .select_related(None)
        .select_related("site", "primary_clinician", "case_manager")
        .defer(*_UNSHOWN_STAFF_FIELDS)
        .filter(patient=patient)
    )
    for episode in all_episodes:
        episode.patient = patient
    has_part2 = any(e.part2_protected for e in all_episodes)
    episodes = all_episodes if user.can(Cap.EPISODE_VIEW) else None
    alerts = None
    safety_alerts: list[Any] | None = None
    if user.can(Cap.CLINICAL_VIEW):
        alerts = list(
            Alert.objects.filter(patient=patient, status=AlertStatus.OPEN).order_by("-created_at")
        )
        from openiop.measures.choices import AlertStatus as SafetyAlertStatus
        from openiop.measures.models import SafetyAlert

        # Until someone acknowledges it, whatever became of its episode.
        safety_alerts = list(
            SafetyAlert.objects.filter(patient=patient, status=SafetyAlertStatus.OPEN).order_by(
                "-created_at"
            )
        )
    sections = ["demographics", "contacts"]
    if episodes is not None:
        sections.append("episodes")
    if alerts is not None:
        sections.append("clinical")
    audit_record(
        actor,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        object_type="patient_chart",
        object_id=patient.pk,
        detail={"sections": sections},
    )
    return Chart(
        patient=patient,
        contacts=contacts,
        episodes=episodes,
        alerts=alerts,
        has_part2_records=has_part2,
        safety_alerts=safety_alerts,
    )


def patient_id_by_mrn(mrn: str) -> int | None:
    """The id of the patient with this MRN, ignoring case (the MRN upper-case index), or None.

    Not audited: it names no one to the caller; the page that uses the id audits what it shows.
    Plain SQL: the ORM building this one look-up cost more than running it.
    """
    table = connection.ops.quote_name(Patient._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE UPPER(mrn) = UPPER(%s) ORDER BY id LIMIT 1", [mrn]
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def patient_chart_by_mrn(*, actor: Actor, mrn: str) -> Chart:
    """The chart of the patient with this MRN in the actor's organization (see patient_chart).

    Raises NotFound when no patient (or more than one, across organizations) has the MRN.
    """
    qs = Patient.objects.filter(mrn__iexact=mrn.strip())
    user = actor.user
    if user is not None and user.organization_id is not None:
        qs = qs.filter(organization_id=user.organization_id)
    ids = list(qs.values_list("id", flat=True)[:2])
    if len(ids) != 1:
        raise NotFound(f"No patient has the MRN {mrn}.", code="patient_not_found", field="mrn")
    return patient_chart(actor=actor, patient_id=ids[0])
