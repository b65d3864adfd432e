"""Every write of drug and alcohol testing (permission-checked, audited, one transaction each).

Recording a result runs the reconciliation (drugtests.domain.reconcile) against the medication
list on the day the specimen was collected, and keeps each finding that needs the prescriber's
eye as a flag. A flag is answered by the prescriber (a conversation, a plan change, a repeat test);
nothing here discharges anyone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient, require_site
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.errors import Conflict, RuleViolation
from openiop.drugtests import domain
from openiop.drugtests.models import (
    DrugTestOrder,
    DrugTestResult,
    FlagStatus,
    OrderReason,
    OrderStatus,
    RandomDraw,
    ReconciliationFlag,
    ResponseKind,
    TestKind,
)
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.medications import domain as med_domain
from openiop.medications.selectors import expected_medications
from openiop.medications.services import current_episode
from openiop.patients.models import Patient
from openiop.programs.models import Site

RECORD_CAP = Cap.DRUGTEST_RECORD
RESPOND_CAP = Cap.DRUGTEST_RESPOND


def _acting(by: Actor) -> User:
    assert by.user is not None
    return by.user


def order_create(
    *, patient: Patient, kind: str, reason: str, by: Actor, note: str = "", accession: str = ""
) -> DrugTestOrder:
    """Order a test for the patient's open episode. Raises RuleViolation for an unknown kind or
    reason or a patient without an open episode; NotPermitted (audited) without
    Cap.DRUGTEST_RECORD at the patient's site."""
    require_patient(by, RECORD_CAP, patient, object_type="drug_test")
    if kind not in TestKind.values:
        raise RuleViolation("Choose the kind of test.", code="invalid", field="kind")
    if reason not in OrderReason.values:
        raise RuleViolation("Choose why it is ordered.", code="invalid", field="reason")
    try:
        with transaction.atomic():
            episode = current_episode(patient)
            order = DrugTestOrder.objects.create(
                patient=patient,
                episode=episode,
                kind=kind,
                reason=reason,
                ordered_by=_acting(by),
                ordered_at=now(),
                accession=accession.strip()[:60],
                note=note.strip()[:500],
                part2=episode.part2_protected,
            )
            audit_record(
                by,
                action=AuditAction.CREATE,
                patient_id=patient.pk,
                object_type="drug_test",
                object_id=order.pk,
                detail={"kind": kind, "reason": reason},
            )
    except IntegrityError:
        raise RuleViolation(
            "A test with this accession number is already recorded.", code="accession_taken"
        ) from None
    return order


def expected_on(patient_id: int, day: dt.date) -> list[domain.Expected]:
    """The medications the patient takes on `day` that a test reports (from the medication list)."""
    active = med_domain.active_on(expected_medications(patient_id), day)
    known = {a.value for a in domain.Analyte}
    return [
        domain.Expected(medication=m.name, analyte=domain.Analyte(m.analyte))
        for m in active
        if m.analyte in known
    ]


def _record(
    order: DrugTestOrder,
    *,
    results: Sequence[domain.AnalyteResult],
    validity: domain.Validity,
    observed: bool,
    collected_at: dt.datetime,
    by: Actor,
    from_lab_file: str = "",
    time_known: bool = True,
) -> list[ReconciliationFlag]:
    """Inside the caller's transaction: results, reconciliation flags, the order resulted."""
    day = collected_at.astimezone(order.episode.site.tz).date()
    findings = domain.reconcile(results, validity, expected_on(order.patient_id, day))
    DrugTestResult.objects.bulk_create(
        [
            DrugTestResult(
                order=order, analyte=r.analyte.value, outcome=r.outcome.value, part2=order.part2
            )
            for r in {r.analyte: r for r in results}.values()
        ]
    )
    flags = [
        ReconciliationFlag(
            order=order,
            kind=f.kind.value,
            analyte=f.analyte.value if f.analyte else "",
            message=f.message[:500],
            part2=order.part2,
        )
        for f in findings
        if f.needs_review
    ]
    ReconciliationFlag.objects.bulk_create(flags)
    order.status = OrderStatus.RESULTED
    order.validity = validity.value
    order.observed = observed
    order.collected_at = collected_at
    order.collected_time_known = time_known
    order.resulted_at = now()
    order.resulted_by = _acting(by)
    order.from_lab_file = from_lab_file[:200]
    order.save()
    audit_record(
        by,
        action=AuditAction.UPDATE,
        patient_id=order.patient_id,
        object_type="drug_test_result",
        object_id=order.pk,
        detail={
            "validity": validity.value,
            "results": len(results),
            "flags": len(flags),
            "lab_file": from_lab_file,
        },
    )
    return flags


def results_record(
    *,
    order: DrugTestOrder,
    results: Sequence[domain.AnalyteResult],
    validity: str,
    observed: bool,
    collected_at: dt.datetime,
    by: Actor,
) -> list[ReconciliationFlag]:
    """Enter an order's results (staff, e.g. from a point-of-care cup). Returns the flags made
    for the prescriber. Raises RuleViolation for an order already resulted or cancelled, no
    result on a readable specimen, a collection in the future; NotPermitted (audited) without
    Cap.DRUGTEST_RECORD at the patient's site."""
    require_patient(by, RECORD_CAP, order.patient, object_type="drug_test_result")
    try:
        valid = domain.Validity(validity)
    except ValueError:
        raise RuleViolation(
            "Choose the specimen validity.", code="invalid", field="validity"
        ) from None
    if not results and valid not in domain.NO_CONCLUSION:
        raise RuleViolation("Enter at least one result.", code="required", field="results")
    if collected_at > now() + dt.timedelta(minutes=5):
        raise RuleViolation(
            "The collection time is in the future.", code="future", field="collected_at"
        )
    with transaction.atomic():
        locked = (
            DrugTestOrder.objects.select_for_update()
            .select_related("episode__site")
            .get(pk=order.pk)
        )
        if locked.status != OrderStatus.ORDERED:
            raise Conflict("This test already has its results (or was cancelled).")
        flags = _record(
            locked,
            results=results,
            validity=valid,
            observed=observed,
            collected_at=collected_at,
            by=by,
        )
    return flags


def flag_respond(
    *, flag: ReconciliationFlag, kind: str, text: str, by: Actor
) -> ReconciliationFlag:
    """The prescriber's response to a flag: a conversation, a plan change, a repeat test, or
    nothing to change (explained). A repeat test is ordered with it. Raises RuleViolation without
    an explanation or for a flag already answered; NotPermitted (audited) without
    Cap.DRUGTEST_RESPOND at the patient's site."""
    order = flag.order
    require_patient(by, RESPOND_CAP, order.patient, object_type="drug_test_flag")
    if kind not in ResponseKind.values:
        raise RuleViolation("Choose the response.", code="invalid", field="kind")
    text = (text or "").strip()
    if not text:
        raise RuleViolation("Say what was done or decided.", code="required", field="text")
    with transaction.atomic():
        locked = ReconciliationFlag.objects.select_for_update().get(pk=flag.pk)
        if locked.status != FlagStatus.OPEN:
            raise Conflict("This flag has already been answered.")
        locked.status = FlagStatus.RESPONDED
        locked.response_kind = kind
        locked.response_text = text[:4000]
        locked.responded_by = _acting(by)
        locked.responded_at = now()
        locked.save()
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=order.patient_id,
            object_type="drug_test_flag",
            object_id=locked.pk,
            detail={"response": kind},
        )
        if kind == ResponseKind.REPEAT_TEST:
            order_create(
                patient=order.patient,
                kind=order.kind,
                reason=OrderReason.REPEAT,
                note=f"Repeat of the test of {order.ordered_at:%Y-%m-%d}",
                by=by,
            )
    return locked


# --- the weekly random draw -------------------------------------------------------------------


def draw_population(site: Site) -> list[int]:
    """The patients in active care at the site (one id each), among whom a draw is made."""
    return sorted(
        set(
            Episode.objects.filter(site=site, status=EpisodeStatus.ACTIVE).values_list(
                "patient_id", flat=True
            )
        )
    )


def random_draw_run(
    *, site: Site, week: dt.date, rate: Decimal, by: Actor, seed: str | None = None
) -> RandomDraw:
    """Draw this week's random tests at a site and order a point-of-care test for each patient
    drawn. The seed (new and secret unless given, e.g. by a test) is kept with the draw and in
    the audit entry, so the draw can be repeated by an auditor. Once a week per site: raises
    RuleViolation for a second draw of the same week or a rate outside 0..1; NotPermitted
    (audited) without Cap.DRUGTEST_RECORD at the site."""
    require_site(by, site, RECORD_CAP, object_type="drug_test_draw")
    if not Decimal(0) <= rate <= Decimal(1):
        raise RuleViolation("The rate is a share between 0 and 1.", code="invalid", field="rate")
    week = domain.week_start(week)
    seed = seed or secrets.token_hex(16)
    population = draw_population(site)
    drawn = domain.draw(population, week, seed, rate)
    try:
        with transaction.atomic():
            record = RandomDraw.objects.create(
                site=site,
                week_start=week,
                seed=seed,
                rate=rate,
                population=population,
                drawn=drawn,
                drawn_by=_acting(by),
            )
            for patient in Patient.objects.filter(pk__in=drawn).order_by("pk"):
                episode = current_episode(patient)
                DrugTestOrder.objects.create(
                    patient=patient,
                    episode=episode,
                    kind=TestKind.POC_CUP,
                    reason=OrderReason.RANDOM,
                    ordered_by=_acting(by),
                    ordered_at=now(),
                    draw=record,
                    part2=episode.part2_protected,
                )
            audit_record_many(
                by,
                action=AuditAction.CREATE,
                object_type="drug_test_draw",
                object_id=record.pk,
                patient_ids=drawn,
                detail={
                    "site": site.pk,
                    "week": week.isoformat(),
                    "seed": seed,
                    "rate": str(rate),
                    "population": len(population),
                    "drawn": len(drawn),
                },
            )
    except IntegrityError:
        raise RuleViolation(
            "This week's draw at this site has already been made.", code="draw_exists"
        ) from None
    return record


# --- the lab's CSV file -----------------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    mrn: str
    accession: str
    outcome: str  # "posted", "would post", "refused"
    reasons: list[str] = field(default_factory=list)
    patient_id: int | None = None
    patient_name: str = ""
    flags: int = 0


@dataclass
class ImportReport:
    file_name: str
    dry_run: bool
    errors: list[str]
    rows: list[ImportRow]

    @property
    def posted(self) -> int:
        return sum(1 for r in self.rows if r.outcome in ("posted", "would post"))

    @property
    def refused(self) -> int:
        return sum(1 for r in self.rows if r.outcome == "refused")


class _RowRefused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def lab_import(*, site: Site, text: str, file_name: str, dry_run: bool, by: Actor) -> ImportReport:
    """Import a lab's results file for one site, row by row (domain.parse_lab_csv's format).

    Each row is its own transaction: it posts whole (the order found by accession or a new lab
    panel order, its results, its flags) or not at all, with the reasons. A dry run makes the same
    checks and writes nothing. One audit entry names the patients of the rows read.
    NotPermitted (audited) without Cap.DRUGTEST_RECORD at the site."""
    require_site(by, site, RECORD_CAP, object_type="drug_test_import")
    parsed = domain.parse_lab_csv(text)
    report = ImportReport(file_name=file_name[:200], dry_run=dry_run, errors=parsed.errors, rows=[])
    mrns = {r.mrn for r in parsed.rows if r.mrn}
    patients = {
        p.mrn: p for p in Patient.objects.filter(organization_id=site.organization_id, mrn__in=mrns)
    }
    for row in parsed.rows:
        out = ImportRow(line=row.line, mrn=row.mrn, accession=row.accession, outcome="refused")
        report.rows.append(out)
        patient = patients.get(row.mrn)
        if patient is not None and patient.site_id == site.pk:
            out.patient_id, out.patient_name = patient.pk, patient.display_name
        if row.errors:
            out.reasons = list(row.errors)
            continue
        if patient is None or patient.site_id != site.pk:
            out.reasons = ["no patient with this MRN at this site"]
            continue
        assert row.collected_on is not None and row.validity is not None
        # The lab file gives the day only: noon at the site keeps the day whatever the zone.
        collected_at = dt.datetime.combine(row.collected_on, dt.time(12, 0), tzinfo=site.tz)
        if collected_at.date() > now().astimezone(site.tz).date():
            out.reasons = ["collected_on is in the future"]
            continue
        try:
            with transaction.atomic():
                order = (
                    DrugTestOrder.objects.select_for_update()
                    .select_related("episode__site")
                    .filter(patient=patient, accession=row.accession)
                    .first()
                )
                if order is not None and order.status != OrderStatus.ORDERED:
                    raise _RowRefused("this accession number already has results")
                if order is None:
                    try:
                        episode = current_episode(patient)
                    except RuleViolation:
                        raise _RowRefused("the patient has no open episode") from None
                    if dry_run:
                        out.outcome = "would post"
                        continue
                    order = DrugTestOrder.objects.create(
                        patient=patient,
                        episode=episode,
                        kind=TestKind.LAB_PANEL,
                        reason=OrderReason.SCHEDULED,
                        ordered_by=_acting(by),
                        ordered_at=now(),
                        accession=row.accession,
                        part2=episode.part2_protected,
                    )
                    audit_record(
                        by,
                        action=AuditAction.CREATE,
                        patient_id=patient.pk,
                        object_type="drug_test",
                        object_id=order.pk,
                        detail={"lab_file": report.file_name},
                    )
                if dry_run:
                    out.outcome = "would post"
                    continue
                flags = _record(
                    order,
                    results=row.results,
                    validity=row.validity,
                    observed=row.observed,
                    collected_at=collected_at,
                    by=by,
                    from_lab_file=report.file_name,
                    time_known=False,  # the file gives the day of collection only
                )
                out.outcome, out.flags = "posted", len(flags)
        except _RowRefused as refused:
            out.reasons = [refused.reason]
        except IntegrityError:
            out.reasons = ["this row conflicts with a result already recorded"]
    named = [r.patient_id for r in report.rows if r.patient_id is not None]
    audit_record_many(
        by,
        action=AuditAction.VIEW if dry_run else AuditAction.CREATE,
        object_type="drug_test_import",
        patient_ids=named,
        detail={
            "site": site.pk,
            "file": report.file_name,
            "dry_run": dry_run,
            "posted": 0 if dry_run else report.posted,
            "refused": report.refused,
            "file_errors": len(report.errors),
        },
    )
    return report
