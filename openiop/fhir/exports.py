"""FHIR Bulk Data export (`$export`, issue 17 point 4): the one service behind the kick-off
endpoints, the background job and `openiop export`.

An export reads, type by type, every row the requesting staff user may see (the FHIR search's
site scope and role capabilities), limited to a group's or the patients' compartment, changed
since `_since`; maps each row with the same mapping.py functions the API answers with; and
writes NDJSON files of at most FILE_LINES lines into the database (BulkExportFile), chunk by
chunk, reporting progress. Records from a Part 2 episode go only where the consents seam allows
(part2_decide: one function, the one to change when the seam does); the withheld are counted in
an OperationOutcome file. One audit entry names every patient exported; Part 2 records released
outside the organization are entered in the accounting of disclosures.

On PostgreSQL, a type with a SQL builder (export_sql.BUILDERS: Patient, Encounter, Observation)
is not mapped row by row in Python: a census of its rows by patient (one query) feeds the same
Part 2 decision (census_decide: part2_release, the same ledger), and PostgreSQL builds the lines
(the elements mapping.py produces) and stores each file in one INSERT ... SELECT, leaving out the
withheld patients' Part 2 records. Other types, and every type on SQLite, take the Python path.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from openiop.accounts.access import sees_site, site_scope
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.consents import domain as consent_domain
from openiop.consents.choices import Channel
from openiop.consents.domain import Recipient
from openiop.consents.selectors import Release, part2_release
from openiop.consents.services import DisclosureItem, disclosure_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import NotFound, NotPermitted
from openiop.fhir import bulk, export_sql, selectors
from openiop.fhir.models import BulkExport, BulkExportFile, ExportKind, ExportStatus
from openiop.fhir.part2 import FhirRecipient
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment, Site, Track

# Rows read and mapped per query (and per progress report, cancellation check, Part 2 decision).
CHUNK = 500
# Lines per NDJSON file: a type with more is split into parts (the manifest lists each).
FILE_LINES = 10_000
# At most this many ids of a type's table per statement when PostgreSQL builds the lines
# (export_sql): each statement writes one file and is a progress report and a cancellation check.
SQL_STEP = 1_000_000
# How long a finished export and its files are kept (fhir.tasks.prune_bulk_exports).
EXPORT_KEEP = dt.timedelta(days=7)
# Seconds a client is asked to wait between status polls (Retry-After).
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class ExportClient:
    """Who an export goes to: the OAuth client ("" from the command line), its name, the
    organization of the staff user it acts for (None: network-wide), its purpose of use
    (consents.choices.Purpose) and the outside organization it is registered for (empty: none),
    as the API's own recipient (fhir.part2.FhirRecipient) says them."""

    client_id: str
    name: str
    organization_id: int | None
    purpose: str = consent_domain.TREATMENT
    outside_organization: str = ""

    @classmethod
    def of(cls, recipient: FhirRecipient) -> ExportClient:
        return cls(
            client_id=recipient.client_id,
            name=recipient.client_name,
            organization_id=recipient.organization_id,
            purpose=recipient.purpose,
            outside_organization=recipient.outside_organization,
        )

    @cached_property
    def fhir_recipient(self) -> FhirRecipient:
        """The API's recipient for this client (built once: the export asks it per row)."""
        return FhirRecipient(
            client_id=self.client_id,
            client_name=self.name or self.client_id or "command-line export",
            organization_id=self.organization_id,
            purpose=self.purpose,
            outside_organization=self.outside_organization,
        )

    def inside(self, patient_organization_id: int) -> bool:
        """Whether records of a patient of this organization stay inside the program (the API's
        rule: FhirRecipient.inside)."""
        return self.fhir_recipient.inside(patient_organization_id)

    def recipient(self, *, inside: bool) -> Recipient:
        """The consents seam's recipient: program staff inside the program (a use, not a
        disclosure), else the API client for its purpose of use (FhirRecipient)."""
        if inside:
            return Recipient.program_staff(self.name or self.client_id or "command-line export")
        return self.fhir_recipient.consent_recipient()


# --- Part 2: the one decision -------------------------------------------------------------------


@dataclass
class Part2Ledger:
    """What the Part 2 decisions of one export let through and held back, by type and patient."""

    decided: dict[tuple[bool, int], Release] = field(default_factory=dict)
    withheld: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    withheld_patients: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Patients whose Part 2 records went to a client outside their organization: consent, types.
    disclosed: dict[int, tuple[int | None, set[str]]] = field(default_factory=dict)

    def decide(
        self, keys: Iterable[tuple[bool, int]], *, client: ExportClient, on: dt.datetime
    ) -> None:
        """Ask the consents seam (consents.selectors.part2_release) once per side (inside the
        patient's organization or not) for the (inside, patient) keys not decided yet."""
        pending: dict[bool, set[int]] = defaultdict(set)
        for is_inside, pid in keys:
            if (is_inside, pid) not in self.decided:
                pending[is_inside].add(pid)
        for is_inside, ids in pending.items():
            release = part2_release(
                patient_ids=ids,
                recipient=client.recipient(inside=is_inside),
                purpose=client.purpose,
                on=on,
            )
            for pid in ids:
                self.decided[(is_inside, pid)] = release

    def let_through(self, resource_type: str, *, is_inside: bool, pid: int, n: int = 1) -> bool:
        """Whether a decided patient's `n` Part 2 records of a type go: counted as withheld when
        not, noted as disclosed (with the consent) when they go outside the organization."""
        release = self.decided[(is_inside, pid)]
        if not release.allows(pid):
            self.withheld[resource_type] += n
            self.withheld_patients[resource_type].add(pid)
            return False
        if not is_inside:
            consent, types = self.disclosed.get(pid, (release.consent_for(pid), set()))
            types.add(resource_type)
            self.disclosed[pid] = (consent, types)
        return True


def part2_decide(
    rows: Sequence[Any],
    *,
    resource_type: str,
    client: ExportClient,
    on: dt.datetime,
    ledger: Part2Ledger,
) -> list[Any]:
    """The rows of one chunk that may go to `client`: those not from a Part 2 episode, and the
    Part 2 ones the consents seam (consents.selectors.part2_release) releases: inside the
    patients' organization always, outside it with a consent covering the client and purpose.
    The withheld are counted in `ledger`. At most one query per chunk (patients not yet decided).
    """
    d = selectors.resource_def(resource_type)
    if d.part2_of is None or d.patient_of is None:
        return list(rows)
    part2_of, patient_of = d.part2_of, d.patient_of

    def inside(row: Any) -> bool:
        return client.inside(patient_of(row).organization_id)

    ledger.decide(
        ((inside(row), patient_of(row).pk) for row in rows if part2_of(row)), client=client, on=on
    )
    return [
        row
        for row in rows
        if not part2_of(row)
        or ledger.let_through(resource_type, is_inside=inside(row), pid=patient_of(row).pk)
    ]


# --- kick-off -------------------------------------------------------------------------------------


def _group_patients(actor: Actor, group: bulk.GroupRef) -> QuerySet[Any]:
    """The patient ids of a group the actor may see. Raises NotFound for a group that does not
    exist or is at a site the actor does not see."""
    missing = NotFound(f"There is no Group with id '{group.id}'.", code="not_found")
    if group.kind == "site":
        site = Site.objects.filter(pk=group.pk).first()
        if site is None or not sees_site(actor, site):
            raise missing
        return Patient.objects.filter(site_id=site.pk).values("id")
    track = Track.objects.select_related("site").filter(pk=group.pk).first()
    if track is None or not sees_site(actor, track.site):
        raise missing
    return Enrollment.objects.filter(track_id=track.pk).values("episode__patient_id")


def export_create(
    *,
    actor: Actor,
    client: ExportClient,
    kind: str,
    params: Mapping[str, Sequence[str]],
    request_url: str,
    allowed_types: Callable[[str], bool] = lambda _t: True,
    group_id: str = "",
) -> BulkExport:
    """Record a bulk export as asked (queued; fhir.tasks.export_queue puts it on the queue, the
    command line runs it at once with export_run).

    `allowed_types` is the token's scopes. Without _type, the level's types that the scopes and
    the actor's role allow; with it, each named type must be allowed. Raises BadExportRequest
    (unsupported parameter, type, _since), NotFound (a group that is not there for the actor),
    NotPermitted (audited for the role: a type named that the scopes or role do not allow)."""
    if actor.user is None:
        raise NotPermitted("An export acts for a staff user.", code="role_not_permitted")
    if kind == ExportKind.GROUP:
        group = bulk.parse_group_id(group_id)
        if group is None:
            raise NotFound(
                f"There is no Group with id '{group_id[:40]}' (groups are track-<id> or "
                "site-<id>).",
                code="not_found",
            )
        _group_patients(actor, group)
    request = bulk.parse_kickoff(params, kind)
    if request.types is None:
        types = [
            t
            for t in bulk.types_for(kind)
            if allowed_types(t) and selectors.may_read_type(actor, t)
        ]
    else:
        types = list(request.types)
        for t in types:
            if not allowed_types(t):
                raise NotPermitted(
                    f"The token's scopes do not allow read of {t}.", code="out_of_scope"
                )
            selectors.require_type(actor, t)
    if not types:
        raise NotPermitted(
            "Neither the token's scopes nor your role allow any type this export holds.",
            code="role_not_permitted",
        )
    if request.patients:
        seen = Patient.objects.filter(pk__in=request.patients).filter(site_scope(actor))
        if seen.count() != len(request.patients):
            raise NotFound("A patient named is not there for you.", code="not_found")
    return BulkExport.objects.create(
        client_id=client.client_id,
        requested_by=actor.user,
        kind=kind,
        group_id=group_id if kind == ExportKind.GROUP else "",
        request_url=request_url[:2000],
        params={
            "types": types,
            "since": request.since.isoformat() if request.since else None,
            "patients": list(request.patients),
            "client_name": client.name,
            "organization_id": client.organization_id,
            "purpose": client.purpose,
            "outside_organization": client.outside_organization,
        },
        created_at=clock.now(),
    )


# --- the run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: resources by type, withheld by type, patients named."""

    counts: dict[str, int]
    withheld: dict[str, int]
    patients: int
    cancelled: bool = False

    @property
    def sentence(self) -> str:
        if self.cancelled:
            return "Export cancelled."
        held = sum(self.withheld.values())
        return (
            f"{sum(self.counts.values())} resource(s) of {len(self.counts)} type(s) for "
            f"{self.patients} patient(s) exported; {held} withheld under 42 CFR Part 2."
        )


def client_of(export: BulkExport) -> ExportClient:
    p = export.params
    return ExportClient(
        client_id=export.client_id,
        name=str(p.get("client_name") or ""),
        organization_id=p.get("organization_id"),
        purpose=str(p.get("purpose") or consent_domain.TREATMENT),
        outside_organization=str(p.get("outside_organization") or ""),
    )


def _rows(actor: Actor, export: BulkExport, resource_type: str) -> QuerySet[Any]:
    d = selectors.resource_def(resource_type)
    qs = selectors.export_queryset(actor=actor, resource_type=resource_type)
    if export.kind == ExportKind.GROUP and d.patient_path:
        group = bulk.parse_group_id(export.group_id)
        assert group is not None
        qs = qs.filter(**{f"{d.patient_path}__in": _group_patients(actor, group)})
    patients = export.params.get("patients")
    if patients and d.patient_path:
        qs = qs.filter(**{f"{d.patient_path}__in": patients})
    since = export.params.get("since")
    if since and d.updated_path:
        qs = qs.filter(Q(**{f"{d.updated_path}__gte": dt.datetime.fromisoformat(since)}))
    return qs.order_by("pk")


class _Files:
    """NDJSON lines of one type, written as a BulkExportFile each FILE_LINES lines."""

    def __init__(self, export: BulkExport, resource_type: str) -> None:
        self.export, self.resource_type = export, resource_type
        self.lines: list[str] = []
        self.part = 0
        self.count = 0

    def add(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.lines.append(line)
            if len(self.lines) >= FILE_LINES:
                self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        self.part += 1
        BulkExportFile.objects.create(
            export=self.export,
            resource_type=self.resource_type,
            part=self.part,
            count=len(self.lines),
            ndjson="\n".join(self.lines) + "\n",
        )
        self.count += len(self.lines)
        self.lines = []


def _still_running(export: BulkExport, done: int, total: int) -> bool:
    """Record progress; False when the export was cancelled meanwhile (one query)."""
    return bool(
        BulkExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            progress_done=done, progress_total=total
        )
    )


def export_run(
    *,
    export_id: int,
    channel: str = "task",
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> ExportSummary:
    """Run a queued export as the staff user who asked for it: write its NDJSON files, the
    OperationOutcome file of what Part 2 withheld, one audit entry naming every patient, the
    accounting of Part 2 disclosures outside the organization; mark it done. An export cancelled
    before it starts does nothing; one cancelled while it runs stops at its next chunk and keeps
    no file. Raises NotFound for an export neither queued nor cancelled."""
    export = BulkExport.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is not None and export.status == ExportStatus.CANCELLED:
        return ExportSummary(counts={}, withheld={}, patients=0, cancelled=True)
    if export is None or export.status != ExportStatus.QUEUED:
        raise NotFound(f"There is no queued bulk export {export_id}.", code="not_found")
    user: User = export.requested_by
    client = client_of(export)
    actor = Actor(
        user=user,
        channel=channel,
        client_addr="local",
        path=f"fhir bulk export {export.pk}"[:500],
        client_id=client.client_id,
    )
    started = clock.now()
    claimed = BulkExport.objects.filter(pk=export.pk, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, transaction_time=started
    )
    if not claimed:
        raise NotFound(f"There is no queued bulk export {export_id}.", code="not_found")
    export.status, export.transaction_time = ExportStatus.RUNNING, started
    types: list[str] = list(export.params["types"])
    if not user.is_active:
        raise NotPermitted("The staff user of this export is no longer active.")
    builders = {t: b for t in types if (b := sql_builder(t)) is not None}
    censuses = {t: _census(actor, export, b) for t, b in builders.items()}
    totals = {
        t: censuses[t].rows if t in censuses else _rows(actor, export, t).count() for t in types
    }
    total = sum(totals.values())
    done = 0
    ledger = Part2Ledger()
    patient_ids: set[int] = set()
    counts: dict[str, int] = {}
    on_progress(0, total)
    for resource_type in types:
        d = selectors.resource_def(resource_type)
        files = _Files(export, resource_type)
        if resource_type in builders:
            withheld = census_decide(
                censuses[resource_type],
                resource_type=resource_type,
                client=client,
                on=started,
                ledger=ledger,
                patient_ids=patient_ids,
            )
            for lines in _write_sql(
                actor, export, builders[resource_type], censuses[resource_type], withheld, files
            ):
                done += lines
                if not _still_running(export, done, total):
                    return _cancelled(export)
                on_progress(done, total)
            counts[resource_type] = files.count
            done += totals[resource_type] - files.count  # the withheld
            if not _still_running(export, done, total):
                return _cancelled(export)
            on_progress(done, total)
            continue
        chunk: list[Any] = []
        for row in _rows(actor, export, resource_type).iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                _write(d, chunk, files, client, started, ledger, patient_ids)
                done += len(chunk)
                chunk = []
                if not _still_running(export, done, total):
                    return _cancelled(export)
                on_progress(done, total)
        _write(d, chunk, files, client, started, ledger, patient_ids)
        done += len(chunk)
        files.flush()
        counts[resource_type] = files.count
        if not _still_running(export, done, total):
            return _cancelled(export)
        on_progress(done, total)
    return _finish(export, actor, client, ledger, counts, patient_ids)


# --- PostgreSQL builds the lines (export_sql) -------------------------------------------------------


def sql_builder(resource_type: str) -> export_sql.SqlBuilder | None:
    """The SQL builder of a type on PostgreSQL; None (map in Python) elsewhere or for a type
    without one."""
    if connection.vendor != "postgresql":
        return None
    return export_sql.builder_for(resource_type)


def _scope_sql(
    actor: Actor, export: BulkExport, resource_type: str, **filters: Any
) -> tuple[str, list[Any]]:
    """The ids of the rows an export reads (_rows: scope, group, patients, _since) as SQL with
    its parameters."""
    qs = _rows(actor, export, resource_type).filter(**filters).order_by().values("pk")
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


@dataclass(frozen=True)
class Census:
    """A type's rows in an export by (audit patient, Part 2 patient, that patient's organization,
    is Part 2): how many, and the lowest and highest id read."""

    groups: list[tuple[int | None, int | None, int | None, bool, int]]
    first_id: int | None
    last_id: int | None

    @property
    def rows(self) -> int:
        return sum(g[4] for g in self.groups)


def _census(actor: Actor, export: BulkExport, builder: export_sql.SqlBuilder) -> Census:
    sql, params = builder.census(*_scope_sql(actor, export, builder.type))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return Census(
        groups=[(a, p, o, bool(p2), int(n)) for a, p, o, p2, n, _lo, _hi in found],
        first_id=min((r[5] for r in found), default=None),
        last_id=max((r[6] for r in found), default=None),
    )


def census_decide(
    census: Census,
    *,
    resource_type: str,
    client: ExportClient,
    on: dt.datetime,
    ledger: Part2Ledger,
    patient_ids: set[int],
) -> list[int]:
    """part2_decide for a type whose lines PostgreSQL builds: the same decisions (one
    part2_release per side, the ledger's withheld and disclosed), made on the census's patients
    instead of the rows. Notes the patients exported; returns the patients whose Part 2 records
    are withheld (the SQL leaves them out)."""
    ledger.decide(
        (
            (client.inside(org), pid)
            for _audit, pid, org, part2, _n in census.groups
            if part2 and pid is not None and org is not None
        ),
        client=client,
        on=on,
    )
    withheld: set[int] = set()
    for audit, pid, org, part2, n in census.groups:
        if part2 and pid is not None and org is not None:
            is_inside = client.inside(org)
            if not ledger.let_through(resource_type, is_inside=is_inside, pid=pid, n=n):
                withheld.add(pid)
                continue
        if audit is not None:
            patient_ids.add(int(audit))
    return sorted(withheld)


@functools.cache
def _has_lz4() -> bool:
    """Whether the PostgreSQL server can compress with lz4 (built with it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _write_sql(
    actor: Actor,
    export: BulkExport,
    builder: export_sql.SqlBuilder,
    census: Census,
    withheld: list[int],
    files: _Files,
) -> Iterator[int]:
    """Have PostgreSQL build and store a type's files, one statement a file: a range of ids
    sized from the census to hold at most FILE_LINES lines (about 90% of them); a range that
    holds more writes nothing and is halved. Yields the lines written by each statement."""
    if census.first_id is None or census.last_id is None or not census.rows:
        return
    span = census.last_id - census.first_id + 1
    ids_per_line = span / census.rows
    low = census.first_id
    while low <= census.last_id:
        step = max(1, min(SQL_STEP, int(FILE_LINES * 0.9 * ids_per_line)))
        high = low + step
        scope_sql, scope_params = _scope_sql(actor, export, builder.type, pk__gte=low, pk__lt=high)
        sql, params = builder.insert_file(
            scope_sql,
            scope_params,
            withheld,
            id_range=(low, high),
            export_id=export.pk,
            part=files.part + 1,
            file_lines=FILE_LINES,
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # The lines of a file are sorted in memory rather than on disk, and the file is
            # compressed with lz4 where the server has it (a fraction of pglz's time; a value
            # says its own method, so every reader reads either).
            cursor.execute("SET LOCAL work_mem = '256MB'")
            if _has_lz4():
                cursor.execute("SET LOCAL default_toast_compression = 'lz4'")
            cursor.execute(sql, params)
            found, lines = cursor.fetchone()
        if found > FILE_LINES:  # more than a file: nothing was written, try half the range
            ids_per_line = step / 2 / (FILE_LINES * 0.9)
            continue
        if lines:
            files.part += 1
            files.count += int(lines)
        if found:  # the next range sized from this one's density
            ids_per_line = step / found
        low = high
        yield int(lines)


def _write(
    d: selectors.ResourceDef,
    rows: list[Any],
    files: _Files,
    client: ExportClient,
    on: dt.datetime,
    ledger: Part2Ledger,
    patient_ids: set[int],
) -> None:
    """Map the releasable rows of one chunk to NDJSON lines, noting their patients."""
    if not rows:
        return
    kept = part2_decide(rows, resource_type=d.type, client=client, on=on, ledger=ledger)
    files.add(d.to_fhir(r).model_dump_json() for r in kept)
    if d.patient_path:
        patient_ids.update(int(selectors.patient_id_of(d.type, r) or 0) for r in kept)


def _cancelled(export: BulkExport) -> ExportSummary:
    BulkExportFile.objects.filter(export_id=export.pk).delete()
    return ExportSummary(counts={}, withheld={}, patients=0, cancelled=True)


def _finish(
    export: BulkExport,
    actor: Actor,
    client: ExportClient,
    ledger: Part2Ledger,
    counts: dict[str, int],
    patient_ids: set[int],
) -> ExportSummary:
    withheld = {t: n for t, n in ledger.withheld.items() if n}
    outcomes = bulk.withheld_outcomes(
        withheld, {t: len(p) for t, p in ledger.withheld_patients.items()}
    )
    patient_ids.discard(0)
    with transaction.atomic():
        if outcomes:
            BulkExportFile.objects.create(
                export=export,
                resource_type="OperationOutcome",
                is_error=True,
                count=len(outcomes),
                ndjson="".join(json.dumps(o) + "\n" for o in outcomes),
            )
        audit_record_many(
            actor,
            action=AuditAction.EXPORT,
            object_type="fhir_bulk_export",
            object_id=export.pk,
            patient_ids=sorted(patient_ids),
            detail={
                "kind": export.kind,
                "group": export.group_id,
                "resources": counts,
                **({"withheld_part2": withheld} if withheld else {}),
            },
        )
        if ledger.disclosed:
            disclosure_record(
                by=actor,
                recipient=client.recipient(inside=False),
                purpose=client.purpose,
                channel=Channel.BULK_EXPORT,
                # Each Part 2 resource carries the 42 CFR 2.32 notice in its meta (part2_meta).
                notice_attached=True,
                items=[
                    DisclosureItem(
                        patient_id=pid,
                        consent_id=consent,
                        description=f"FHIR bulk export {export.pk}: {', '.join(sorted(types))}",
                    )
                    for pid, (consent, types) in sorted(ledger.disclosed.items())
                ],
            )
        BulkExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE, finished_at=clock.now()
        )
    return ExportSummary(counts=counts, withheld=withheld, patients=len(patient_ids))


def export_fail(*, export_id: int, error: str) -> None:
    """Mark an export failed with `error` (counts and classes, never patient data) and drop
    whatever files it had written."""
    with transaction.atomic():
        BulkExportFile.objects.filter(export_id=export_id).delete()
        BulkExport.objects.filter(
            pk=export_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
        ).update(status=ExportStatus.FAILED, error=error[:2000], finished_at=clock.now())


# --- status, files, cancel, prune ---------------------------------------------------------------


def export_for_client(*, client_id: str, export_id: int) -> BulkExport:
    """The export `export_id` of this OAuth client. Raises NotFound for another client's, a
    command-line one, or a cancelled one (the IG: a deleted export's status is 404)."""
    export = (
        BulkExport.objects.filter(pk=export_id, client_id=client_id)
        .exclude(client_id="")
        .exclude(status=ExportStatus.CANCELLED)
        .first()
    )
    if export is None:
        raise NotFound(f"There is no bulk export {export_id} of this client.", code="not_found")
    return export


def export_files(export: BulkExport) -> list[BulkExportFile]:
    """The files of a done export, without their text (for the manifest)."""
    return list(
        BulkExportFile.objects.filter(export=export).defer("ndjson").order_by("is_error", "id")
    )


def export_file(*, actor: Actor, export_id: int, file_id: int) -> BulkExportFile:
    """One file of the client's done export, its download audited. Raises NotFound."""
    export = export_for_client(client_id=actor.client_id, export_id=export_id)
    found = BulkExportFile.objects.filter(pk=file_id, export=export).first()
    if found is None or export.status != ExportStatus.DONE:
        raise NotFound(f"Bulk export {export_id} has no file {file_id}.", code="not_found")
    audit_record(
        actor,
        action=AuditAction.EXPORT,
        object_type="fhir_bulk_file",
        object_id=found.pk,
        detail={"export": export.pk, "type": found.resource_type, "count": found.count},
    )
    return found


def export_cancel(*, actor: Actor, export_id: int) -> BulkExport:
    """Cancel the client's export (DELETE on its status URL): a running one stops at its next
    chunk; its files are deleted. Raises NotFound."""
    export = export_for_client(client_id=actor.client_id, export_id=export_id)
    with transaction.atomic():
        BulkExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.CANCELLED, finished_at=clock.now()
        )
        BulkExportFile.objects.filter(export=export).delete()
        audit_record(
            actor, action=AuditAction.DELETE, object_type="fhir_bulk_export", object_id=export.pk
        )
    export.refresh_from_db()
    return export


def exports_prune(*, now: dt.datetime | None = None) -> int:
    """Delete exports (and their files) created more than EXPORT_KEEP ago; returns how many."""
    cutoff = (now or clock.now()) - EXPORT_KEEP
    old = BulkExport.objects.filter(created_at__lt=cutoff)
    count = old.count()
    BulkExportFile.objects.filter(export__in=old).delete()
    old.delete()
    return count


def export_file_texts(export: BulkExport) -> Iterator[tuple[str, bool, str]]:
    """Each file of an export (type, is_error, NDJSON text), parts of a type in order: for the
    command line, which writes them to disk (one file per type)."""
    files = BulkExportFile.objects.filter(export=export).order_by(
        "is_error", "resource_type", "part"
    )
    for found in files.iterator(chunk_size=1):
        yield found.resource_type, found.is_error, found.ndjson


def export_drop_files(export: BulkExport) -> None:
    """Delete an export's files from the database (the command line keeps them on disk)."""
    BulkExportFile.objects.filter(export=export).delete()
