"""Reads of kept import files and their reports: access checked and audited by the kernel."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from openiop.accounts.access import get_for, site_scope
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.imports.models import ImportBatch


def batch_list(*, actor: Actor) -> QuerySet[ImportBatch]:
    """The import files kept at the actor's sites, newest first (names of files, no rows)."""
    return (
        ImportBatch.objects.filter(site_scope(actor))
        .select_related("site", "uploaded_by")
        .defer("content", "report")
        .order_by("-created_at", "-id")
    )


def batch_get(*, actor: Actor, batch_id: int) -> ImportBatch:
    """One kept import file with its report, for someone who may import at its site; audited
    naming the patients its report names (merged or imported). Raises NotFound, or NotPermitted
    (audited) for another site or a role that may not import."""
    batch = get_for(
        actor,
        ImportBatch.objects.select_related("site", "site__organization", "uploaded_by", "job"),
        batch_id,
        cap=Cap.PATIENT_EDIT,
        object_type="patient_import_file",
        site_of=lambda b: b.site,
        missing=NotFound("No such import.", code="import_not_found"),
        action=None,
    )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="patient_import_file",
        object_id=batch.pk,
        patient_ids=sorted({int(r["patient_id"]) for r in batch.report if r.get("patient_id")}),
        detail={"site_id": batch.site_id},
    )
    return batch


def report_rows(batch: ImportBatch, *, search: str = "", outcome: str = "") -> list[dict[str, Any]]:
    """The batch's report rows whose name or reasons contain `search`, with `outcome` if given."""
    rows: list[dict[str, Any]] = list(batch.report or [])
    if outcome:
        rows = [r for r in rows if r.get("outcome") == outcome]
    if search:
        needle = search.lower()
        rows = [
            r
            for r in rows
            if needle in str(r.get("name", "")).lower()
            or needle in " ".join(r.get("reasons", [])).lower()
            or needle in str(r.get("mrn", "")).lower()
            or needle == str(r.get("row"))
        ]
    return rows
