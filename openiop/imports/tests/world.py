"""For web/tests/conftest.py's world: an imported file whose report names the world's patient, so
the walks of every page (patient data, bad input, offered actions) cover the import pages."""

from __future__ import annotations

from typing import Any

from openiop.imports.models import BatchStatus, ImportBatch, ImportFormat


def world_import_ids(site: Any, patient: Any, user: Any) -> dict[str, int]:
    batch = ImportBatch.objects.create(
        organization_id=site.organization_id,
        site=site,
        uploaded_by=user,
        source_name="World EHR (fictional)",
        file_name="world.csv",
        file_format=ImportFormat.CSV,
        content="",
        status=BatchStatus.APPLIED,
        report=[
            {
                "row": 2,
                "name": patient.legal_name,
                "outcome": "merge",
                "reasons": ["same name and date of birth"],
                "mrn": patient.mrn,
                "patient_id": patient.pk,
                "changes": [],
                "coverage": False,
                "episode": False,
            }
        ],
        summary="Imported: 0 patients created, 1 merged, 0 coverages and 0 open episodes recorded.",
    )
    return {"batch_id": batch.pk}
