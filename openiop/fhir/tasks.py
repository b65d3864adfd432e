"""The bulk export's background job (run by `openiop worker`) and the write that queues it. The
queueing lives here, beside the job, so that tasks imports exports and exports nothing of tasks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.db import transaction

from openiop.core.actor import Actor
from openiop.core.jobs import enqueue, job, report_progress
from openiop.fhir import exports
from openiop.fhir.models import BulkExport


@job(max_attempts=1)
def run_bulk_export(export_id: int) -> str:
    """Run the queued bulk export `export_id` (exports.export_run), reporting its progress to the
    Jobs page as well as to the export's status URL. Not retried: a failed export is marked
    failed (its status URL answers 500 with the error) and the client kicks off another."""
    try:
        summary = exports.export_run(
            export_id=export_id,
            on_progress=lambda done, total: report_progress(done, total, "resources exported"),
        )
    except Exception as exc:
        exports.export_fail(export_id=export_id, error=f"{type(exc).__name__}: {exc}")
        raise
    return summary.sentence


def export_queue(
    *,
    actor: Actor,
    client: exports.ExportClient,
    kind: str,
    params: Mapping[str, Sequence[str]],
    request_url: str,
    allowed_types: Callable[[str], bool],
    group_id: str = "",
) -> BulkExport:
    """Record a bulk export (exports.export_create: the same checks) and put it on the queue."""
    with transaction.atomic():
        export = exports.export_create(
            actor=actor,
            client=client,
            kind=kind,
            params=params,
            request_url=request_url,
            allowed_types=allowed_types,
            group_id=group_id,
        )
        enqueue(run_bulk_export, export.pk)
    return export


@job(max_attempts=3)
def prune_bulk_exports() -> str:
    """Delete bulk exports older than exports.EXPORT_KEEP with their files; says how many."""
    return f"{exports.exports_prune()} bulk export(s) older than {exports.EXPORT_KEEP.days} days deleted."
