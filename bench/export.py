"""Time a FHIR bulk export of a whole synthetic network against PostgreSQL's own
`COPY (SELECT json_build_object(...)) TO STDOUT` of the same rows, in one run (issue 17,
point 4: the export's rate at least 0.7x the COPY's).

Run with DATABASE_URL pointing at a PostgreSQL database filled by `openiop synth` (the
benchmark's 20,000-patient network, bench/run.py builds it). Prints one JSON object on its last
line; `--write` also saves it as bench/results/export.json.

1. COPY: for each type measured (Patient, Encounter, Observation), one
   `COPY (SELECT json_build_object(...) FROM ... WHERE <the network's sites>) TO STDOUT` with
   every element the FHIR resource carries (the json_build_object of fhir.export_sql, the same
   SQL the export runs), read to the end from this process; rows counted by line.
2. The export: fhir.tasks.run_bulk_export of the same types at the system level, as the
   network's director (inside the organization: every Part 2 record goes, as with COPY),
   enqueued on the app's task queue and run by a database worker in this process
   (core.jobs.run_queued), timed from enqueue to the job's end; its NDJSON lines are counted.
3. Both must have read the same number of rows. Rates are rows per second; the ratio is the
   export's rate over the COPY's. The export and its job are deleted afterwards.

Django is set up in main() only, so the pure parts (rates, verdict) import without a database
(openiop/fhir/tests/test_bulk_export.py tests them); copy_statement needs the settings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BUDGET = 0.7  # the export's rate over COPY's, at least
TYPES = ("Patient", "Encounter", "Observation")
RESULTS = Path(__file__).resolve().parent / "results"

# The rows of each type the network's director exports (the export's own site scope, as SQL):
# the COPY builds the same lines from the same rows as the export does (fhir.export_sql, the
# builder the export runs on PostgreSQL: every element of the FHIR resource, Part 2 labels
# included), so the two differ only in what the export does besides: its Part 2 decision, its
# census of patients for the audit, storing its files, progress.
_SITES = "(SELECT id FROM programs_site WHERE organization_id = %s)"
SCOPE_SQL: dict[str, str] = {
    "Patient": f"SELECT p.id FROM patients_patient p WHERE p.site_id IN {_SITES}",
    "Encounter": (
        "SELECT a.id FROM attendance_attendance a "
        "JOIN programs_groupsession g ON g.id = a.session_id "
        f"WHERE g.site_id IN {_SITES} AND a.status IN ('present', 'late', 'left_early')"
    ),
    "Observation": (
        "SELECT r.id FROM measures_response r JOIN episodes_episode e ON e.id = r.episode_id "
        f"WHERE e.site_id IN {_SITES}"
    ),
}


def copy_statement(resource_type: str, org_id: int) -> tuple[str, list[Any]]:
    """The COPY ... TO STDOUT of one type's rows of the network `org_id` as JSON lines, with its
    parameters: `COPY (SELECT json_build_object(...) ...)` of fhir.export_sql."""
    from openiop.fhir import export_sql

    builder = export_sql.builder_for(resource_type)
    if builder is None or resource_type not in SCOPE_SQL:
        raise KeyError(f"no COPY query for {resource_type}")
    return builder.copy(SCOPE_SQL[resource_type], [int(org_id)])


def rate(rows: int, seconds: float) -> float:
    """Rows per second (0 for no time: nothing was measured)."""
    return rows / seconds if seconds > 0 else 0.0


@dataclass(frozen=True)
class Verdict:
    rows: int
    copy_s: float
    export_s: float
    copy_rows_per_s: float
    export_rows_per_s: float
    ratio: float  # the export's rate over COPY's
    budget: float
    within_budget: bool


def verdict(
    *, copy_rows: int, export_rows: int, copy_s: float, export_s: float, budget: float = BUDGET
) -> Verdict:
    """Compare the two runs; raises ValueError when they did not read the same rows."""
    if copy_rows != export_rows:
        raise ValueError(f"COPY read {copy_rows} rows but the export wrote {export_rows}")
    copy_rate, export_rate = rate(copy_rows, copy_s), rate(export_rows, export_s)
    ratio = export_rate / copy_rate if copy_rate else 0.0
    return Verdict(
        rows=copy_rows,
        copy_s=round(copy_s, 3),
        export_s=round(export_s, 3),
        copy_rows_per_s=round(copy_rate, 1),
        export_rows_per_s=round(export_rate, 1),
        ratio=round(ratio, 3),
        budget=budget,
        within_budget=ratio >= budget,
    )


def time_copy(org_id: int) -> tuple[dict[str, int], float]:
    """Rows by type and the seconds all the COPYs took (read to the end in this process)."""
    from django.db import connection

    counts: dict[str, int] = {}
    connection.ensure_connection()
    raw = connection.connection
    began = time.perf_counter()
    with raw.cursor() as cursor:
        for resource_type in TYPES:
            lines = 0
            statement, params = copy_statement(resource_type, org_id)
            with cursor.copy(statement, params) as copy:
                for block in copy:
                    lines += bytes(block).count(b"\n")
            counts[resource_type] = lines
    return counts, time.perf_counter() - began


def time_export(user: Any) -> tuple[dict[str, int], float, str]:
    """Rows by type and seconds of the bulk export job, from enqueue to its end."""
    from openiop.core import jobs
    from openiop.core.actor import Actor
    from openiop.core.models import Job, JobStatus
    from openiop.fhir import exports, tasks
    from openiop.fhir.models import BulkExport

    actor = Actor(user=user, channel="task", client_addr="local", path="bench export")
    client = exports.ExportClient("bench", "bench", user.organization_id)
    began = time.perf_counter()
    export = exports.export_create(
        actor=actor,
        client=client,
        kind="system",
        params={"_type": [",".join(TYPES)]},
        request_url="bench",
    )
    row = jobs.enqueue(tasks.run_bulk_export, export.pk)
    jobs.run_queued()
    elapsed = time.perf_counter() - began
    row.refresh_from_db()
    if row.status != JobStatus.SUCCEEDED:
        sys.exit(f"the export job ended {row.status}: {row.error}")
    counts: dict[str, int] = {}
    for resource_type, is_error, text in exports.export_file_texts(export):
        if not is_error:
            counts[resource_type] = counts.get(resource_type, 0) + text.count("\n")
    BulkExport.objects.filter(pk=export.pk).delete()
    Job.objects.filter(pk=row.pk).delete()
    return counts, elapsed, row.outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write", action="store_true", help="save bench/results/export.json")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.config.settings")
    import django

    django.setup()
    from django.db import connection

    from openiop.accounts.models import User
    from openiop.programs.models import Organization

    if connection.vendor != "postgresql":
        sys.exit("COPY needs PostgreSQL: point DATABASE_URL at the synthetic network's database")
    org = Organization.objects.filter(name__startswith="Synthetic Network").order_by("id").first()
    if org is None:
        sys.exit("no synthetic network in this database: run openiop synth first")
    user = User.objects.get(username=f"o{org.pk}-director")
    copy_counts, copy_s = time_copy(org.pk)
    export_counts, export_s, outcome = time_export(user)
    for resource_type in TYPES:
        if copy_counts.get(resource_type, 0) != export_counts.get(resource_type, 0):
            sys.exit(
                f"{resource_type}: COPY read {copy_counts.get(resource_type, 0)} rows, the export "
                f"wrote {export_counts.get(resource_type, 0)}"
            )
    result: dict[str, Any] = {
        "types": list(TYPES),
        "rows_by_type": copy_counts,
        "outcome": outcome,
        **asdict(
            verdict(
                copy_rows=sum(copy_counts.values()),
                export_rows=sum(export_counts.values()),
                copy_s=copy_s,
                export_s=export_s,
            )
        ),
    }
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "export.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
