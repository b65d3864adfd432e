"""The bulk export's lines built by PostgreSQL (fhir.export_sql) against the Python mapping: the
same export run both ways gives the same NDJSON lines (as parsed JSON, per id), every SQL line
validates with fhir.resources, and the Part 2 outcomes (withheld counts, the OperationOutcome
file, the audit, the accounting of disclosures) are the same for each consent case."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from openiop.audit.models import AuditEntry
from openiop.consents.models import Disclosure
from openiop.consents.services import consent_record, consent_revoke
from openiop.core.actor import Actor
from openiop.episodes.choices import TreatmentFocus
from openiop.fhir import export_sql, exports
from openiop.fhir.models import BulkExportFile
from openiop.fhir.tests.conftest import World, _records_for
from openiop.testing import make_episode, make_patient, make_track

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL lines are PostgreSQL's"),
]

TYPES = sorted(export_sql.BUILDERS)


def _more_records(world: World) -> None:
    """Patients with and without the optional elements the mappings leave out when empty."""
    track = make_track(world.site)
    bare = make_patient(
        world.site,
        legal_first_name="Bare",
        phone="",
        email="",
        address_line="",
        city="",
        state="",
        postal_code="",
        language="",
        preferred_name="",
    )
    full = make_patient(
        world.site,
        legal_first_name="Full",
        preferred_name="Fee",
        phone="555-0100",
        email="full@example.invalid",
        address_line="1 Nowhere Lane",
        city="Faketown",
        state="ZZ",
        postal_code="00000",
    )
    # Mental health episodes: only the SUD patient's records are Part 2, so each case's
    # withheld or released is that patient's alone.
    for patient, focus in (
        (bare, TreatmentFocus.MENTAL_HEALTH),
        (full, TreatmentFocus.MENTAL_HEALTH),
    ):
        _records_for(patient, make_episode(patient, focus=focus), world.clinician, track)


def _run(world: World, actor: Actor, client: exports.ExportClient, *, sql: bool) -> dict[str, Any]:
    """Export TYPES as `actor` to `client`, with the SQL builders or without (the Python
    mapping); what it wrote, its audit entry and the disclosures it accounted."""
    before = Disclosure.objects.order_by("-id").values_list("id", flat=True).first() or 0
    export = exports.export_create(
        actor=actor,
        client=client,
        kind="system",
        params={"_type": [",".join(TYPES)]},
        request_url="x",
    )
    if sql:
        summary = exports.export_run(export_id=export.pk)
    else:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(exports, "sql_builder", lambda _t: None)
            summary = exports.export_run(export_id=export.pk)
    lines: dict[str, dict[str, Any]] = {}
    raw: dict[str, list[str]] = {}
    errors: list[str] = []
    for f in BulkExportFile.objects.filter(export=export).order_by("resource_type", "part"):
        if f.is_error:
            errors.append(f.ndjson)
            continue
        for line in f.ndjson.splitlines():
            resource = json.loads(line)
            lines.setdefault(f.resource_type, {})[resource["id"]] = resource
            raw.setdefault(f.resource_type, []).append(line)
    entry = AuditEntry.objects.filter(object_type="fhir_bulk_export").latest("id")
    disclosures = sorted(
        (d.patient_id, d.consent_id, d.purpose, d.channel, d.notice_attached)
        for d in Disclosure.objects.filter(id__gt=before)
    )
    return {
        "summary": summary,
        "lines": lines,
        "raw": raw,
        "errors": errors,
        "audit_patients": set(entry.patients.values_list("patient_id", flat=True)),
        "audit_detail": entry.detail,
        "disclosures": disclosures,
    }


def _consent(world: World, **terms: Any) -> Any:
    defaults: dict[str, Any] = {
        "information": "All records of treatment",
        "recipient_kind": "api_client",
        "recipient_identifier": "cid",
        "recipient_name": "Fictional Health Exchange",
        "purpose": "tpo",
        "effective_on": dt.date(2026, 1, 1),
        "signed_by_name": "Quillon Testpatient",
        "signed_at": timezone.now(),
        "by": Actor.cli(world.director, "test"),
    }
    return consent_record(patient=world.sud_patient, **{**defaults, **terms})


def _case(world: World, case: str) -> tuple[Actor, exports.ExportClient]:
    outside = (Actor.cli(world.network_user, "test"), exports.ExportClient("cid", "test", None))
    if case == "inside":
        return Actor.cli(world.director, "test"), exports.ExportClient("cid", "t", world.org.pk)
    if case == "consent":
        _consent(world)
    elif case == "revoked":
        consent_revoke(consent=_consent(world), by=Actor.cli(world.director, "test"))
    elif case == "expired":
        _consent(
            world,
            purpose="treatment",
            effective_on=dt.date(2020, 1, 1),
            expires_on=dt.date(2021, 1, 1),
        )
    elif case == "other_purpose":
        _consent(world, purpose="payment", expires_on=dt.date(2099, 1, 1))
    return outside


@pytest.mark.parametrize(
    ("case", "withheld"),
    [
        ("no_consent", True),
        ("consent", False),
        ("revoked", True),
        ("expired", True),
        ("other_purpose", True),
        ("inside", False),
    ],
)
def test_sql_and_python_exports_are_the_same(world: World, case: str, withheld: bool) -> None:
    assert all(exports.sql_builder(t) is not None for t in TYPES)  # the first run is SQL's
    _more_records(world)
    actor, client = _case(world, case)
    by_sql = _run(world, actor, client, sql=True)
    by_python = _run(world, actor, client, sql=False)
    assert set(by_sql["lines"]) == set(TYPES)
    for resource_type in TYPES:
        assert by_sql["lines"][resource_type] == by_python["lines"][resource_type], resource_type
        model = get_fhir_model_class(resource_type)
        for line in by_sql["raw"][resource_type]:
            model.model_validate_json(line)
    assert by_sql["summary"] == by_python["summary"]
    assert by_sql["errors"] == by_python["errors"]
    assert by_sql["audit_patients"] == by_python["audit_patients"]
    assert by_sql["audit_detail"] == by_python["audit_detail"]
    assert by_sql["disclosures"] == by_python["disclosures"]
    # The case did what it says: Part 2 records withheld, or released (and accounted outside).
    assert bool(by_sql["summary"].withheld) is withheld
    sud_obs = str(world.records["Observation"][0])
    assert (sud_obs in by_sql["lines"]["Observation"]) is not withheld
    assert bool(by_sql["disclosures"]) is (case == "consent")
    labelled = [r for r in by_sql["lines"]["Observation"].values() if r["meta"].get("security")]
    assert bool(labelled) is not withheld


def test_every_registered_builder_names_a_type_the_export_maps() -> None:
    from openiop.fhir import selectors

    for resource_type in export_sql.BUILDERS:
        assert selectors.resource_def(resource_type).type == resource_type
