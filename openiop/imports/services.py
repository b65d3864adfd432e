"""Importing patients, coverages and open episodes from another EHR: a dry run that writes
nothing but its audit entry, and the import itself in one transaction.

Rows become patients, coverages and episodes only through the apps' own services
(patients.services.patient_create / patient_update, episodes.services.episode_open,
programs.services.enrollment_start, admissions.services.inquiry_create / inquiry_link_patient,
billing.services.coverage_add), so every rule and audit entry of theirs applies. A coverage
belongs to an admissions inquiry (billing.Coverage.inquiry): it goes on the patient's latest
inquiry, or on a referral inquiry "Imported from <source>" linked to the patient.

Who may import at a site: a role with Cap.PATIENT_EDIT and Cap.EPISODE_MANAGE there (intake
coordinators, case managers, the director); rows with a coverage also need Cap.BENEFITS_MANAGE
and Cap.ADMISSIONS_MANAGE (the coverage and inquiry services check them).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction

from openiop.accounts.access import require_site, sees_site
from openiop.accounts.domain import Cap
from openiop.admissions.choices import InquiryChannel
from openiop.admissions.models import Inquiry
from openiop.admissions.services import inquiry_create, inquiry_link_patient
from openiop.audit.models import AuditAction, AuditOutcome
from openiop.audit.services import audit_record, audit_record_many
from openiop.billing.choices import CoverageRank, SubscriberRelationship
from openiop.billing.models import Coverage, Payer
from openiop.billing.services import coverage_add
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import DomainError, RuleViolation
from openiop.episodes.choices import (
    OPEN_STATUSES,
    LevelOfCare,
    ReferralSource,
    TreatmentFocus,
)
from openiop.episodes.models import Episode
from openiop.episodes.services import episode_open
from openiop.imports import domain
from openiop.imports.domain import Decision, RowDraft
from openiop.imports.fhir_bundle import read_bundle
from openiop.imports.models import BatchStatus, ImportBatch, ImportedIdentity, ImportFormat
from openiop.patients.choices import Sex
from openiop.patients.models import Patient
from openiop.patients.services import patient_create, patient_update
from openiop.programs.models import Site, Track
from openiop.programs.services import enrollment_start

# Files with more rows than this are imported by a background job (imports.tasks) from the page.
INLINE_ROWS = 200
MAX_FILE_BYTES = 5_000_000

Progress = Callable[[int, int], None]


def vocabulary() -> domain.Vocabulary:
    """The values rows may use: the apps' own choices (no list of the import's own)."""
    return domain.vocabulary_from_choices(
        sexes=Sex.choices,
        focuses=TreatmentFocus.choices,
        levels_of_care=LevelOfCare.choices,
        referral_sources=ReferralSource.choices,
        coverage_ranks=CoverageRank.choices,
        subscriber_relationships=SubscriberRelationship.choices,
    )


@dataclass(frozen=True)
class ImportReport:
    """The row-by-row outcome of a dry run or an import. `applied` is True only when the import
    wrote every row (it writes all of them or none)."""

    decisions: list[Decision]
    applied: bool = False
    dry_run: bool = True

    @property
    def summary(self) -> domain.Summary:
        return domain.summarize(self.decisions)

    @property
    def refused(self) -> list[Decision]:
        return [d for d in self.decisions if d.outcome == "refuse"]

    @property
    def sentence(self) -> str:
        s = self.summary
        if self.applied:
            return (
                f"Imported: {s.created} patients created, {s.merged} merged, {s.coverages} "
                f"coverages and {s.episodes} open episodes recorded."
            )
        if not self.dry_run:
            return f"Nothing imported: {s.refused} of {len(self.decisions)} rows refused."
        return f"Dry run: {s.sentence}."

    def rows(self) -> list[dict[str, Any]]:
        """The report as plain data (kept on the batch, shown by the page)."""
        return [
            {
                "row": d.row_no,
                "name": d.label,
                "outcome": d.outcome,
                "reasons": list(d.reasons),
                "mrn": d.mrn,
                "patient_id": d.patient_id,
                "changes": list(d.changes),
                "coverage": d.adds_coverage,
                "episode": d.opens_episode,
            }
            for d in self.decisions
        ]


def _text_of(text: str) -> str:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise RuleViolation(
            f"The file is larger than {MAX_FILE_BYTES // 1_000_000} MB: split it.",
            code="file_too_large",
            field="file",
        )
    return text


def read_rows(*, text: str, file_format: str, source_name: str, today: dt.date) -> list[RowDraft]:
    """The file's rows as drafts. Raises RuleViolation (field 'file') when the file as a whole
    cannot be read, saying why."""
    text = _text_of(text)
    try:
        if file_format == ImportFormat.FHIR:
            return read_bundle(text, vocabulary(), today=today, source_system=source_name)
        if file_format == ImportFormat.CSV:
            return domain.read_csv(text, vocabulary(), today=today)
    except domain.FileProblem as exc:
        raise RuleViolation(str(exc), code="file_unreadable", field="file") from exc
    raise RuleViolation("Choose CSV or a FHIR Bundle.", code="format", field="file_format")


def format_for(file_name: str, text: str) -> str:
    """CSV, or a FHIR Bundle for a .json file or a text that starts with '{'."""
    if file_name.lower().endswith(".json") or text.lstrip().startswith("{"):
        return ImportFormat.FHIR
    return ImportFormat.CSV


def require_import(by: Actor, site: Site) -> None:
    """Raise NotPermitted (audited) unless the actor may import patients at `site`."""
    require_site(by, site, Cap.PATIENT_EDIT, object_type="patient_import")
    require_site(by, site, Cap.EPISODE_MANAGE, object_type="patient_import")


# --- the dry run -----------------------------------------------------------------------------------


def _chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class _Context:
    """What the rows refer to, read once: candidates, payers, tracks, sites, inquiries."""

    existing: list[domain.Existing]
    current: dict[int, dict[str, object]]
    patient_sites: dict[int, int]
    focus_of_open: dict[int, str]
    has_inquiry: set[int]
    has_contact: set[int]
    payers: dict[str, Payer]
    sites: dict[str, Site]
    tracks: dict[tuple[int, str], Track]


def _context(site: Site, source_name: str, rows: Sequence[RowDraft]) -> _Context:
    org_id = site.organization_id
    drafts = [r.patient for r in rows if r.patient is not None]
    dobs = sorted({d.date_of_birth for d in drafts})
    mrns = sorted({d.mrn for d in drafts if d.mrn})
    ext_ids = sorted({d.external_id for d in drafts if d.external_id})
    links: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(ext_ids):
        for patient_id, ext in ImportedIdentity.objects.filter(
            organization_id=org_id, source_name=source_name, external_id__in=chunk
        ).values_list("patient_id", "external_id"):
            links[patient_id].add(ext)
    patients: dict[int, Patient] = {}
    keys = [("dob", c) for c in _chunks(dobs)] + [("mrn", c) for c in _chunks(mrns)]
    keys += [("pk", c) for c in _chunks(sorted(links))]
    for kind, chunk in keys:
        field = {"dob": "date_of_birth__in", "mrn": "mrn__in", "pk": "pk__in"}[kind]
        for p in Patient.objects.filter(organization_id=org_id, **{field: list(chunk)}):
            patients[p.pk] = p
    ids = sorted(patients)
    # Every external id of this source the candidates have, not only those in the file.
    for chunk in _chunks(ids):
        for patient_id, ext in ImportedIdentity.objects.filter(
            organization_id=org_id, source_name=source_name, patient_id__in=chunk
        ).values_list("patient_id", "external_id"):
            links[patient_id].add(ext)
    open_eps: dict[int, Episode] = {}
    ranks: dict[int, set[str]] = defaultdict(set)
    cov_keys: dict[int, set[tuple[str, str]]] = defaultdict(set)
    has_inquiry: set[int] = set()
    for chunk in _chunks(ids):
        for ep in Episode.objects.filter(patient_id__in=chunk, status__in=OPEN_STATUSES):
            open_eps[ep.patient_id] = ep
        for cov in Coverage.objects.filter(patient_id__in=chunk).select_related("payer"):
            assert cov.patient_id is not None
            cov_keys[cov.patient_id].add((cov.payer.name.lower(), cov.member_id))
            if cov.end_date is None:
                ranks[cov.patient_id].add(cov.rank)
        has_inquiry.update(
            Inquiry.objects.filter(patient_id__in=chunk).values_list("patient_id", flat=True)
        )
    existing = [
        domain.Existing(
            patient_id=p.pk,
            mrn=p.mrn,
            first_name=p.legal_first_name,
            last_name=p.legal_last_name,
            date_of_birth=p.date_of_birth,
            external_ids=frozenset(links.get(p.pk, set())),
            open_episode=(
                f"episode {open_eps[p.pk].pk} (admitted {open_eps[p.pk].admission_date:%Y-%m-%d})"
                if p.pk in open_eps
                else ""
            ),
            coverage_ranks=frozenset(ranks.get(p.pk, set())),
            coverage_keys=frozenset(cov_keys.get(p.pk, set())),
        )
        for p in patients.values()
    ]
    from openiop.patients.services import PATIENT_FIELDS

    current = {p.pk: {f: getattr(p, f) for f in PATIENT_FIELDS} for p in patients.values()}
    payer_names = {r.coverage.payer.lower() for r in rows if r.coverage is not None}
    payers = {
        p.name.lower(): p
        for p in Payer.objects.filter(organization_id=org_id, is_active=True)
        if p.name.lower() in payer_names
    }
    sites = {s.name.lower(): s for s in Site.objects.filter(organization_id=org_id).order_by("id")}
    tracks = {
        (t.site_id, t.name.lower()): t
        for t in Track.objects.filter(site__organization_id=org_id, is_active=True)
    }
    return _Context(
        existing=existing,
        current=current,
        patient_sites={p.pk: p.site_id for p in patients.values()},
        focus_of_open={pid: ep.focus for pid, ep in open_eps.items()},
        has_inquiry=has_inquiry,
        has_contact={p.pk for p in patients.values() if p.phone or p.email},
        payers=payers,
        sites=sites,
        tracks=tracks,
    )


def _episode_site(row: RowDraft, site: Site, ctx: _Context) -> Site | None:
    if row.episode is None or not row.episode.site:
        return site
    return ctx.sites.get(row.episode.site.lower())


def _check_references(
    decisions: list[Decision], rows: Sequence[RowDraft], site: Site, ctx: _Context, by: Actor
) -> list[Decision]:
    """Refuse the rows whose payer, site or track the organization does not have, whose match is a
    patient at a site the actor does not work at, or whose coverage has no inquiry to go on."""
    checked: list[Decision] = []
    created_focus: dict[int, str] = {}
    for decision, row in zip(decisions, rows, strict=True):
        if decision.outcome == "refuse":
            checked.append(decision)
            continue
        problems: list[str] = []
        if decision.patient_id is not None and not sees_site(
            by, ctx.patient_sites[decision.patient_id]
        ):
            problems.append(
                "This person matches a patient at a site you do not work at: ask a director "
                "to import this row."
            )
        if row.episode is not None:
            ep_site = _episode_site(row, site, ctx)
            if ep_site is None or not sees_site(by, ep_site):
                problems.append(f"episode_site '{row.episode.site}' is not one of your sites.")
            elif not ep_site.is_active:
                problems.append(f"{ep_site.name} takes no new work (inactive site).")
            elif row.episode.track and (ep_site.pk, row.episode.track.lower()) not in ctx.tracks:
                problems.append(f"{ep_site.name} has no active track named '{row.episode.track}'.")
        if row.coverage is not None and decision.adds_coverage:
            if row.coverage.payer.lower() not in ctx.payers:
                problems.append(
                    f"No active payer named '{row.coverage.payer}': add it under Payers first."
                )
            pid = decision.patient_id
            first_row = decision.same_as_row or decision.row_no
            has_inquiry = pid is not None and pid in ctx.has_inquiry
            focus = (
                (row.episode.focus if row.episode else "")
                or (ctx.focus_of_open.get(pid, "") if pid is not None else "")
                or created_focus.get(first_row, "")
            )
            contact = bool(row.patient and (row.patient.phone or row.patient.email)) or (
                pid is not None and pid in ctx.has_contact
            )
            if not has_inquiry and not focus:
                problems.append(
                    "A coverage is kept on an admissions inquiry, which needs the treatment "
                    "focus: fill the episode columns, or import the coverage once the patient "
                    "has an open episode."
                )
            elif not has_inquiry and not contact:
                problems.append(
                    "A coverage is kept on an admissions inquiry, which needs a phone number or "
                    "an email address: fill phone or email."
                )
        if row.episode is not None:
            created_focus.setdefault(decision.same_as_row or decision.row_no, row.episode.focus)
        for problem in problems:
            decision = domain.with_reason(decision, problem)
        checked.append(decision)
    return checked


def _plan(
    *, site: Site, text: str, file_format: str, source_name: str, by: Actor
) -> tuple[list[RowDraft], list[Decision], _Context]:
    require_import(by, site)
    source_name = source_name.strip()
    if not source_name:
        raise RuleViolation(
            "Name the EHR the file comes from.", code="required", field="source_name"
        )
    rows = read_rows(
        text=text,
        file_format=file_format,
        source_name=source_name,
        today=clock.local_today(site.tz),
    )
    ctx = _context(site, source_name, rows)
    user = by.user
    may_cover = (
        user is not None and user.can(Cap.BENEFITS_MANAGE) and user.can(Cap.ADMISSIONS_MANAGE)
    )
    decisions = domain.decide(
        rows,
        ctx.existing,
        current_values=ctx.current,
        may_add_coverage=may_cover,
        coverage_refusal="Your role may not record coverages: leave the coverage columns empty.",
    )
    return rows, _check_references(decisions, rows, site, ctx, by), ctx


def _matched_ids(decisions: Iterable[Decision]) -> list[int]:
    return sorted({d.patient_id for d in decisions if d.patient_id is not None})


def import_plan(
    *, site: Site, text: str, file_format: str, source_name: str, by: Actor
) -> ImportReport:
    """The dry run: what the import would create, merge or refuse, and why, row by row.

    Writes nothing but one audit entry naming the existing patients the rows matched. Raises
    NotPermitted (audited) without Cap.PATIENT_EDIT and Cap.EPISODE_MANAGE at `site`;
    RuleViolation (field 'file') for a file that cannot be read at all.
    """
    _rows, decisions, _ctx = _plan(
        site=site, text=text, file_format=file_format, source_name=source_name, by=by
    )
    report = ImportReport(decisions=decisions)
    audit_record_many(
        by,
        action=AuditAction.VIEW,
        object_type="patient_import_dry_run",
        patient_ids=_matched_ids(decisions),
        detail={"site_id": site.pk, "rows": len(decisions), "summary": report.summary.sentence},
    )
    return report


# --- the import ------------------------------------------------------------------------------------


class _Applier:
    """Writes the rows of one import through the apps' services, inside the caller's transaction."""

    def __init__(
        self, *, site: Site, source_name: str, by: Actor, ctx: _Context, batch: ImportBatch | None
    ) -> None:
        self.site = site
        self.source_name = source_name
        self.by = by
        self.ctx = ctx
        self.batch = batch
        self.patients: dict[int, Patient] = {}  # row number -> its patient (created or merged)

    def row(self, decision: Decision, row: RowDraft) -> Decision:
        assert row.patient is not None
        draft = row.patient
        if decision.same_as_row is not None:
            patient = self.patients.get(decision.same_as_row)
            if patient is None:
                raise RuleViolation(f"Row {decision.same_as_row}, the same person, was refused.")
            patient = self._merge(patient, draft)
        elif decision.outcome == "merge":
            assert decision.patient_id is not None
            patient = Patient.objects.select_related("site").get(pk=decision.patient_id)
            patient = self._merge(patient, draft)
        else:
            patient = patient_create(
                organization=self.site.organization,
                site=self.site,
                by=self.by,
                **draft.demographics(),
            )
        self.patients[decision.row_no] = patient
        self._link(patient, draft.external_id)
        focus = ""
        if row.episode is not None:
            focus = self._episode(patient, row)
        if row.coverage is not None and decision.adds_coverage:
            self._coverage(patient, row, focus)
        return replace(decision, patient_id=patient.pk, mrn=patient.mrn)

    def _merge(self, patient: Patient, draft: domain.PatientDraft) -> Patient:
        changed = {k: v for k, v in draft.demographics().items() if getattr(patient, k) != v}
        if not changed:
            return patient
        return patient_update(
            patient=patient, expected_version=patient.version, by=self.by, **changed
        )

    def _link(self, patient: Patient, external_id: str) -> None:
        if not external_id:
            return
        link, made = ImportedIdentity.objects.get_or_create(
            organization_id=patient.organization_id,
            source_name=self.source_name,
            external_id=external_id,
            defaults={"patient": patient, "batch": self.batch},
        )
        if link.patient_id != patient.pk:
            raise RuleViolation(
                f"external id {external_id} is already linked to another patient.",
                code="external_id_taken",
            )
        if made:
            audit_record(
                self.by,
                action=AuditAction.CREATE,
                patient_id=patient.pk,
                object_type="imported_identity",
                object_id=link.pk,
                detail={"source": self.source_name},
            )

    def _episode(self, patient: Patient, row: RowDraft) -> str:
        ep = row.episode
        assert ep is not None
        site = _episode_site(row, self.site, self.ctx)
        if site is None:
            raise RuleViolation(f"episode_site '{ep.site}' is not one of your sites.")
        episode = episode_open(
            patient=patient,
            site=site,
            focus=ep.focus,
            referral_source=ep.referral_source or ReferralSource.OTHER,
            referral_detail=f"Imported from {self.source_name}"[:200],
            admission_date=ep.admission_date,
            level_of_care=ep.level_of_care,
            by=self.by,
        )
        if ep.track:
            track = self.ctx.tracks.get((site.pk, ep.track.lower()))
            if track is None:
                raise RuleViolation(f"{site.name} has no active track named '{ep.track}'.")
            enrollment_start(episode=episode, track=track, start_date=ep.admission_date, by=self.by)
        return ep.focus

    def _coverage(self, patient: Patient, row: RowDraft, focus: str) -> None:
        cov = row.coverage
        assert cov is not None
        payer = self.ctx.payers.get(cov.payer.lower())
        if payer is None:
            raise RuleViolation(f"No active payer named '{cov.payer}'.")
        inquiry = Inquiry.objects.filter(patient=patient).order_by("-received_at", "-id").first()
        if inquiry is None:
            focus = (
                focus
                or Episode.objects.filter(patient=patient, status__in=OPEN_STATUSES)
                .values_list("focus", flat=True)
                .first()
                or ""
            )
            inquiry = inquiry_create(
                site=patient.site,
                by=self.by,
                channel=InquiryChannel.REFERRAL,
                referral_source=(row.episode.referral_source if row.episode else "")
                or ReferralSource.OTHER,
                referral_detail=f"Imported from {self.source_name}"[:200],
                first_name=patient.legal_first_name,
                last_name=patient.legal_last_name,
                date_of_birth=patient.date_of_birth,
                phone=patient.phone,
                email=patient.email,
                concerns=focus,
            )
            inquiry = inquiry_link_patient(inquiry=inquiry, patient=patient, by=self.by)
        fields: dict[str, Any] = {
            "rank": cov.rank,
            "member_id": cov.member_id,
            "group_number": cov.group_number,
            "subscriber_name": cov.subscriber_name,
            "start_date": cov.start_date,
            "end_date": cov.end_date,
        }
        if cov.subscriber_relationship:
            fields["subscriber_relationship"] = cov.subscriber_relationship
        coverage_add(inquiry=inquiry, payer=payer, by=self.by, **fields)


class ImportRefused(RuleViolation):
    """The import wrote nothing: rows were refused (the report says which and why)."""

    code = "import_refused"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.sentence, code="import_refused")
        self.report = report


def import_apply(
    *,
    site: Site,
    text: str,
    file_format: str,
    source_name: str,
    by: Actor,
    batch: ImportBatch | None = None,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import the file: checks every row again (a dry run now), then, when none is refused,
    creates and merges the patients, their coverages and open episodes through the apps'
    services in ONE transaction, and returns the report with `applied` True.

    When a row is refused (now, or by a service's rule while writing) nothing at all is written
    and ImportRefused carries the row-by-row report; its audit entry (outcome 'error') says so.
    Raises NotPermitted (audited) without Cap.PATIENT_EDIT and Cap.EPISODE_MANAGE at `site`;
    RuleViolation for a file that cannot be read at all.
    """
    source_name = source_name.strip()
    rows, decisions, ctx = _plan(
        site=site, text=text, file_format=file_format, source_name=source_name, by=by
    )
    report = ImportReport(decisions=decisions, dry_run=False)
    if report.refused:
        _audit_refused(by, site, report, batch)
        raise ImportRefused(report)
    done: list[Decision] = []
    failed = False
    total = len(rows)
    with transaction.atomic():
        applier = _Applier(site=site, source_name=source_name, by=by, ctx=ctx, batch=batch)
        for number, (decision, row) in enumerate(zip(decisions, rows, strict=True), start=1):
            try:
                with transaction.atomic():
                    done.append(applier.row(decision, row))
            except DomainError as exc:
                failed = True
                done.append(domain.with_reason(decision, f"Refused while importing: {exc.message}"))
            if on_progress is not None:
                on_progress(number, total)
        report = ImportReport(decisions=done, dry_run=False, applied=not failed)
        if failed:
            transaction.set_rollback(True)
        else:
            audit_record_many(
                by,
                action=AuditAction.CREATE,
                object_type="patient_import",
                patient_ids=_matched_ids(done),
                object_id=batch.pk if batch else None,
                detail={"site_id": site.pk, "rows": total, "summary": report.summary.sentence},
            )
    if failed:
        _audit_refused(by, site, report, batch)
        raise ImportRefused(report)
    return report


def _audit_refused(by: Actor, site: Site, report: ImportReport, batch: ImportBatch | None) -> None:
    audit_record(
        by,
        action=AuditAction.CREATE,
        object_type="patient_import",
        object_id=batch.pk if batch else None,
        outcome=AuditOutcome.ERROR,
        detail={
            "site_id": site.pk,
            "rows": len(report.decisions),
            "refused_rows": [d.row_no for d in report.refused][:100],
        },
    )


# --- the page's file, kept between the dry run and the import ------------------------------------


def batch_upload(
    *, site: Site, file_name: str, text: str, source_name: str, by: Actor
) -> tuple[ImportBatch, ImportReport]:
    """Keep an uploaded file for its import, run its dry run and keep the report on it.

    The file's text stays in the database (never in a URL) until it is imported or discarded.
    Raises what import_plan raises; nothing is kept then.
    """
    file_format = format_for(file_name, text)
    report = import_plan(
        site=site, text=text, file_format=file_format, source_name=source_name, by=by
    )
    assert by.user is not None
    batch = ImportBatch.objects.create(
        organization_id=site.organization_id,
        site=site,
        uploaded_by=by.user,
        source_name=source_name.strip()[:100],
        file_name=file_name[:200],
        file_format=file_format,
        content=text,
        status=BatchStatus.PLANNED,
        report=report.rows(),
        summary=report.sentence[:300],
    )
    return batch, report


def require_batch(by: Actor, batch: ImportBatch, *states: str) -> None:
    require_import(by, batch.site)
    if batch.status not in (states or (BatchStatus.PLANNED,)):
        raise RuleViolation(
            f"This file is already {batch.get_status_display().lower()}.", code="batch_state"
        )


def batch_apply(
    *,
    batch: ImportBatch,
    by: Actor,
    on_progress: Progress | None = None,
    from_queue: bool = False,
) -> ImportReport | None:
    """Import a kept file (import_apply) and keep the outcome on the batch; its text is cleared
    once imported. Returns the report, or None when the import was refused: nothing was written,
    the batch holds the refusal's report, and the fixed file is uploaded again. `from_queue`: the
    background job imports a batch imports.tasks.batch_queue queued."""
    require_batch(by, batch, BatchStatus.QUEUED if from_queue else BatchStatus.PLANNED)
    try:
        report = import_apply(
            site=batch.site,
            text=batch.content,
            file_format=batch.file_format,
            source_name=batch.source_name,
            by=by,
            batch=batch,
            on_progress=on_progress,
        )
    except ImportRefused as refused:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED,
            content="",
            report=refused.report.rows(),
            summary=refused.report.sentence[:300],
            updated_at=clock.now(),
        )
        batch.refresh_from_db()
        return None
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.APPLIED,
        content="",
        report=report.rows(),
        summary=report.sentence[:300],
        applied_at=clock.now(),
        updated_at=clock.now(),
    )
    batch.refresh_from_db()
    return report


def batch_discard(*, batch: ImportBatch, by: Actor) -> ImportBatch:
    """Forget a kept file that will not be imported: its text is cleared, its report stays."""
    require_batch(by, batch, BatchStatus.PLANNED, BatchStatus.FAILED)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DISCARDED, content="", updated_at=clock.now()
    )
    audit_record(
        by,
        action=AuditAction.DELETE,
        object_type="patient_import_file",
        object_id=batch.pk,
        detail={"site_id": batch.site_id},
    )
    batch.refresh_from_db()
    return batch


__all__ = [
    "INLINE_ROWS",
    "ImportRefused",
    "ImportReport",
    "batch_apply",
    "batch_discard",
    "batch_upload",
    "format_for",
    "import_apply",
    "import_plan",
    "read_rows",
    "require_batch",
    "require_import",
    "vocabulary",
]
