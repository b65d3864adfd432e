"""FHIR Bulk Data export (issue 17 point 4): kick-off, status, manifest, files, the three levels,
_type and _since, another client, cancelling, Part 2 withheld and released with consent, the
command line, and the pure parts (fhir.bulk)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from oauth2_provider.models import Application

from openiop.audit.models import AuditEntry
from openiop.consents.choices import Channel
from openiop.consents.domain import REDISCLOSURE_NOTICE
from openiop.consents.models import Disclosure
from openiop.consents.services import consent_record
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.core.jobs import run_queued
from openiop.core.models import Job, JobStatus
from openiop.episodes.choices import TreatmentFocus
from openiop.fhir import bulk, exports
from openiop.fhir.models import BulkExport, BulkExportFile, ExportStatus
from openiop.fhir.part2 import ACT_CODE_SYSTEM
from openiop.fhir.services import fhir_client_create
from openiop.fhir.tests.conftest import World, _records_for, client_credentials_token, token_for
from openiop.programs.models import Enrollment
from openiop.testing import make_episode, make_patient, make_track

pytestmark = pytest.mark.django_db

ASYNC: dict[str, Any] = {"HTTP_PREFER": "respond-async"}
# Issue 18 point 4: the medication list, MAT doses, allergies and drug tests.
CARE = ("MedicationStatement", "MedicationAdministration", "AllergyIntolerance", "DiagnosticReport")


def _auth(token: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def kickoff(client: Client, token: str, path: str = "$export", **params: Any) -> Any:
    return client.get(f"/fhir/R4/{path}", params, **_auth(token), **ASYNC)


def status_path(response: Any) -> str:
    url = str(response["Content-Location"])
    assert "/fhir/R4/$export-status/" in url
    return url.split("testserver", 1)[1]


def finished(client: Client, token: str, response: Any) -> dict[str, Any]:
    """Run the queued export as the worker does and read its manifest."""
    assert response.status_code == 202, response.content
    run_queued()
    done = client.get(status_path(response), **_auth(token))
    assert done.status_code == 200, done.content
    body: dict[str, Any] = done.json()
    return body


def lines(client: Client, token: str, url: str) -> list[dict[str, Any]]:
    r = client.get(url.split("testserver", 1)[1], **_auth(token))
    assert r.status_code == 200, r.content
    assert r["Content-Type"] == "application/fhir+ndjson"
    return [json.loads(line) for line in r.content.decode().splitlines()]


def resources(client: Client, token: str, manifest: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in manifest["output"]:
        got = lines(client, token, f["url"])
        assert len(got) == f["count"]
        out.setdefault(f["type"], []).extend(got)
    return out


def ids(found: dict[str, list[Any]], resource_type: str) -> set[int]:
    return {int(r["id"]) for r in found.get(resource_type, [])}


def client_id_of(user: Any) -> str:
    return str(Application.objects.filter(user=user).latest("id").client_id)


# --- kick-off and status --------------------------------------------------------------------------


def test_kickoff_answers_202_with_a_status_url_and_status_202_with_progress_while_queued(
    client: Client, world: World
) -> None:
    token = token_for(world.director)
    r = kickoff(client, token)
    assert r.status_code == 202
    path = status_path(r)
    queued = client.get(path, **_auth(token))
    assert queued.status_code == 202
    assert queued["X-Progress"] == "queued" and queued["Retry-After"] == "5"
    export = BulkExport.objects.get()
    BulkExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, progress_done=3, progress_total=12
    )
    running = client.get(path, **_auth(token))
    assert running.status_code == 202
    assert running["X-Progress"] == "running: 25% (3 of 12 resources)"


def test_kickoff_without_prefer_respond_async_is_a_400_operation_outcome(
    client: Client, world: World
) -> None:
    r = client.get("/fhir/R4/$export", **_auth(token_for(world.director)))
    assert r.status_code == 400
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert "respond-async" in body["issue"][0]["diagnostics"]
    assert not BulkExport.objects.exists()


def test_kickoff_needs_a_token(client: Client, world: World) -> None:
    assert client.get("/fhir/R4/$export", **ASYNC).status_code == 401


def test_done_export_answers_the_manifest_with_counts_and_valid_ndjson(
    client: Client, world: World
) -> None:
    token = token_for(world.director)
    manifest = finished(client, token, kickoff(client, token))
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/fhir/R4/$export")
    assert dt.datetime.fromisoformat(manifest["transactionTime"]) <= timezone.now()
    assert manifest["error"] == []
    found = resources(client, token, manifest)
    for resource_type, rows in found.items():
        for row in rows:
            parsed = get_fhir_model_class(row["resourceType"]).model_validate(row)
            assert parsed.get_resource_type() == resource_type
    for resource_type, expected in world.records.items():
        assert set(expected) <= ids(found, resource_type), resource_type
    counts = {f["type"]: f["count"] for f in manifest["output"]}
    assert counts["Patient"] == 2 and counts["Observation"] == 2
    # The same resource as the API's read.
    obs_id = world.records["Observation"][0]
    api = client.get(f"/fhir/R4/Observation/{obs_id}", **_auth(token)).json()
    assert next(o for o in found["Observation"] if o["id"] == str(obs_id)) == api


def test_the_export_is_audited_once_with_every_patient(client: Client, world: World) -> None:
    token = token_for(world.director)
    finished(client, token, kickoff(client, token))
    entry = AuditEntry.objects.get(object_type="fhir_bulk_export")
    assert entry.action == "export"
    linked = set(entry.patients.values_list("patient_id", flat=True))
    assert linked == {world.sud_patient.pk, world.mh_patient.pk}
    assert entry.detail["resources"]["Patient"] == 2


def test_a_large_type_is_split_into_parts(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "FILE_LINES", 1)
    monkeypatch.setattr(exports, "CHUNK", 1)
    token = token_for(world.director)
    manifest = finished(client, token, kickoff(client, token, _type="Patient"))
    assert [(f["type"], f["count"]) for f in manifest["output"]] == [("Patient", 1)] * 2
    assert ids(resources(client, token, manifest), "Patient") == {
        world.sud_patient.pk,
        world.mh_patient.pk,
    }


def test_a_failed_export_answers_500_with_an_operation_outcome(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "_finish", broken)
    token = token_for(world.director)
    r = kickoff(client, token, _type="Patient")
    run_queued()
    failed = client.get(status_path(r), **_auth(token))
    assert failed.status_code == 500
    assert "disk on fire" in failed.json()["issue"][0]["diagnostics"]
    assert not BulkExportFile.objects.exists()


def test_the_capability_statement_names_the_export_operations(client: Client) -> None:
    cs = client.get("/fhir/R4/metadata").json()
    assert {o["name"] for o in cs["rest"][0]["operation"]} == {
        "export",
        "patient-export",
        "group-export",
    }


def test_the_run_reads_a_fixed_number_of_queries_whatever_the_number_of_records(
    world: World,
) -> None:
    """Chunks are read with their related rows: more records of every type, no more queries."""

    def run() -> int:
        export = exports.export_create(
            actor=Actor.cli(world.network_user, "test"),
            client=exports.ExportClient("cid", "test", None),
            kind="system",
            params={},
            request_url="x",
        )
        with CaptureQueriesContext(connection) as queries:
            exports.export_run(export_id=export.pk)
        return len(queries)

    before = run()
    for n in range(3):
        patient = make_patient(world.site, legal_first_name=f"Extra{n}")
        episode = make_episode(patient, focus=TreatmentFocus.SUBSTANCE_USE)
        _records_for(patient, episode, world.clinician, make_track(world.site))
    assert run() == before


# --- levels, _type, _since --------------------------------------------------------------------------


def test_patient_level_exports_only_patient_compartment_types(client: Client, world: World) -> None:
    token = token_for(world.director)
    manifest = finished(client, token, kickoff(client, token, "Patient/$export"))
    types = {f["type"] for f in manifest["output"]}
    assert "Patient" in types and "Observation" in types
    assert not types & bulk.NON_PATIENT_TYPES


def test_group_level_exports_only_the_tracks_or_sites_patients(
    client: Client, world: World
) -> None:
    not_enrolled = make_patient(world.site, legal_first_name="Tobiah")
    elsewhere = make_patient(world.other_site, legal_first_name="Zephyrine")
    token = token_for(world.director)
    track = make_track(world.site, name="Evening IOP (fictional)")
    Enrollment.objects.create(
        episode=world.sud_episode, track=track, start_date=dt.date(2026, 1, 5)
    )
    by_track = finished(
        client,
        token,
        kickoff(client, token, f"Group/track-{track.pk}/$export", _type="Patient,Observation"),
    )
    found = resources(client, token, by_track)
    assert ids(found, "Patient") == {world.sud_patient.pk}
    assert ids(found, "Observation") == {world.records["Observation"][0]}
    by_site = finished(
        client,
        token,
        kickoff(client, token, f"Group/site-{world.site.pk}/$export", _type="Patient,Encounter"),
    )
    found = resources(client, token, by_site)
    assert ids(found, "Patient") == {world.sud_patient.pk, world.mh_patient.pk, not_enrolled.pk}
    assert elsewhere.pk not in ids(found, "Patient")
    assert ids(found, "Encounter") == set(world.records["Encounter"])


def test_an_unknown_or_unseen_group_is_404(client: Client, world: World) -> None:
    token = token_for(world.other_clinician)
    for group in ("track-999999", "clinic-1", f"site-{world.site.pk}"):
        r = kickoff(client, token, f"Group/{group}/$export")
        assert r.status_code == 404, group
        assert r.json()["resourceType"] == "OperationOutcome"


def test_type_limits_the_files_and_a_bad_type_is_400(client: Client, world: World) -> None:
    token = token_for(world.director)
    manifest = finished(client, token, kickoff(client, token, _type="Patient,Observation"))
    assert {f["type"] for f in manifest["output"]} == {"Patient", "Observation"}
    bad = kickoff(client, token, _type="Patient,Spaceship")
    assert bad.status_code == 400 and "Spaceship" in bad.json()["issue"][0]["diagnostics"]
    assert kickoff(client, token, "Patient/$export", _type="Location").status_code == 400
    assert kickoff(client, token, _typeFilter="Patient?x=1").status_code == 400


def test_since_exports_only_what_changed_after_it(client: Client, world: World) -> None:
    from openiop.patients.models import Patient

    long_ago = timezone.now() - dt.timedelta(days=30)
    Patient.objects.filter(pk=world.mh_patient.pk).update(updated_at=long_ago)
    token = token_for(world.director)
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    manifest = finished(client, token, kickoff(client, token, _type="Patient", _since=since))
    assert ids(resources(client, token, manifest), "Patient") == {world.sud_patient.pk}
    assert kickoff(client, token, _since="yesterday").status_code == 400


def test_post_kickoff_takes_a_parameters_resource(client: Client, world: World) -> None:
    token = token_for(world.director)
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient"},
            {"name": "patient", "valueReference": {"reference": f"Patient/{world.mh_patient.pk}"}},
        ],
    }
    r = client.post(
        "/fhir/R4/Patient/$export",
        json.dumps(body),
        content_type="application/fhir+json",
        **_auth(token),
        **ASYNC,
    )
    manifest = finished(client, token, r)
    assert ids(resources(client, token, manifest), "Patient") == {world.mh_patient.pk}


def test_a_type_outside_the_tokens_scopes_is_refused(client: Client, world: World) -> None:
    token = token_for(world.director, "system/Patient.read")
    assert kickoff(client, token, _type="Observation").status_code == 403
    manifest = finished(client, token, kickoff(client, token))
    assert {f["type"] for f in manifest["output"]} == {"Patient"}


# --- who sees it, cancelling ----------------------------------------------------------------------


def test_another_client_cannot_read_the_status_or_the_files(client: Client, world: World) -> None:
    token = token_for(world.director)
    r = kickoff(client, token, _type="Patient")
    manifest = finished(client, token, r)
    other = token_for(world.director)  # the same staff user, another client
    assert client.get(status_path(r), **_auth(other)).status_code == 404
    url = manifest["output"][0]["url"].split("testserver", 1)[1]
    assert client.get(url, **_auth(other)).status_code == 404
    assert client.delete(status_path(r), **_auth(other)).status_code == 404
    assert client.get(url).status_code == 401


def test_delete_cancels_the_export(client: Client, world: World) -> None:
    token = token_for(world.director)
    r = kickoff(client, token)
    cancelled = client.delete(status_path(r), **_auth(token))
    assert cancelled.status_code == 202
    assert BulkExport.objects.get().status == ExportStatus.CANCELLED
    run_queued()  # the job finds it cancelled and writes nothing
    assert not BulkExportFile.objects.exists()
    job = Job.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.outcome == "Export cancelled."
    assert client.get(status_path(r), **_auth(token)).status_code == 404


def test_a_running_export_cancelled_stops_at_its_next_chunk(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK", 1)
    monkeypatch.setattr(exports, "SQL_STEP", 1)  # PostgreSQL: a statement per id
    export = exports.export_create(
        actor=Actor.cli(world.director, "test"),
        client=exports.ExportClient("cid", "test", world.org.pk),
        kind="system",
        params={},
        request_url="x",
    )
    seen: list[int] = []

    def cancel_on_first(done: int, total: int) -> None:
        seen.append(done)
        if done == 1:
            BulkExport.objects.filter(pk=export.pk).update(status=ExportStatus.CANCELLED)

    summary = exports.export_run(export_id=export.pk, on_progress=cancel_on_first)
    assert summary.cancelled and seen == [0, 1]
    assert not BulkExportFile.objects.exists()


def test_old_exports_are_pruned_with_their_files(client: Client, world: World) -> None:
    token = token_for(world.director)
    finished(client, token, kickoff(client, token, _type="Patient"))
    assert exports.exports_prune(now=timezone.now()) == 0
    later = timezone.now() + exports.EXPORT_KEEP + dt.timedelta(minutes=1)
    assert exports.exports_prune(now=later) == 1
    assert not BulkExportFile.objects.exists() and not BulkExport.objects.exists()


# --- Part 2 --------------------------------------------------------------------------------------


def test_inside_the_organization_part2_records_are_exported_with_their_labels(
    client: Client, world: World
) -> None:
    token = token_for(world.director)
    manifest = finished(client, token, kickoff(client, token, _type="Observation"))
    found = resources(client, token, manifest)["Observation"]
    sud = next(o for o in found if o["id"] == str(world.records["Observation"][0]))
    assert ACT_CODE_SYSTEM in {s["system"] for s in sud["meta"]["security"]}
    assert manifest["error"] == []


def test_outside_client_gets_part2_withheld_and_counted_in_the_error_file(
    client: Client, world: World
) -> None:
    token = token_for(world.network_user)
    manifest = finished(client, token, kickoff(client, token))
    found = resources(client, token, manifest)
    for resource_type in ("Observation", "Encounter", "EpisodeOfCare", "Claim", "Condition", *CARE):
        sud_id, mh_id = world.records[resource_type]
        assert ids(found, resource_type) & {sud_id, mh_id} == {mh_id}, resource_type
    # Patient and Coverage are not records of the Part 2 episode: both patients go.
    assert {world.sud_patient.pk, world.mh_patient.pk} <= ids(found, "Patient")
    [error_file] = manifest["error"]
    assert error_file["type"] == "OperationOutcome"
    outcomes = lines(client, token, error_file["url"])
    assert error_file["count"] == len(outcomes)
    by_type = {o["issue"][0]["expression"][0]: o for o in outcomes}
    assert "Observation" in by_type
    for o in outcomes:
        get_fhir_model_class("OperationOutcome").model_validate(o)
        assert o["issue"][0]["code"] == "suppressed"
    assert (
        "1 Observation record of 1 patient(s) withheld"
        in (by_type["Observation"]["issue"][0]["diagnostics"])
    )
    assert "Quillon" not in json.dumps(outcomes)
    entry = AuditEntry.objects.get(object_type="fhir_bulk_export")
    assert entry.detail["withheld_part2"]["Observation"] == 1
    for resource_type in CARE:  # issue 18: medications and drug tests, counted not described
        assert entry.detail["withheld_part2"][resource_type] == 1, resource_type
        assert (
            f"1 {resource_type} record of 1 patient(s) withheld"
            in by_type[resource_type]["issue"][0]["diagnostics"]
        )
    said = json.dumps(outcomes).lower()
    assert "naltrexone" not in said and "fentanyl" not in said and "penicillin" not in said
    assert not Disclosure.objects.exists()


def test_medications_and_drug_tests_go_to_an_outside_client_under_consent_and_are_accounted(
    client: Client, world: World
) -> None:
    """Issue 18 point 4 on the bulk export: with the patient's consent naming the client, the
    Part 2 medication list, doses, allergies and drug tests are exported with their labels and
    the 2.32 notice, and the disclosure names them in the accounting."""
    token = token_for(world.network_user)
    consent = consent_record(
        patient=world.sud_patient,
        information="All records of treatment",
        recipient_kind="api_client",
        recipient_identifier=client_id_of(world.network_user),
        recipient_name="Fictional Health Exchange",
        purpose="tpo",
        effective_on=dt.date(2026, 1, 1),
        signed_by_name="Quillon Testpatient",
        signed_at=timezone.now(),
        by=Actor.cli(world.director, "test"),
    )
    manifest = finished(client, token, kickoff(client, token, _type=",".join(CARE)))
    found = resources(client, token, manifest)
    assert manifest["error"] == []
    for resource_type in CARE:
        assert ids(found, resource_type) == set(world.records[resource_type]), resource_type
        sud = next(
            r for r in found[resource_type] if r["id"] == str(world.records[resource_type][0])
        )
        assert {s["code"] for s in sud["meta"]["security"]} == {"R", "42CFRPart2"}
        assert [e["valueString"] for e in sud["meta"]["extension"]] == [REDISCLOSURE_NOTICE]
    [disclosure] = Disclosure.objects.all()
    assert disclosure.patient_id == world.sud_patient.pk
    assert disclosure.consent_id == consent.pk and disclosure.channel == Channel.BULK_EXPORT
    for resource_type in CARE:
        assert resource_type in disclosure.description


def test_outside_client_gets_part2_records_with_a_consent_and_the_disclosure_is_accounted(
    client: Client, world: World
) -> None:
    token = token_for(world.network_user)
    consent = consent_record(
        patient=world.sud_patient,
        information="All records of treatment",
        recipient_kind="api_client",
        recipient_identifier=client_id_of(world.network_user),
        recipient_name="Fictional Health Exchange",
        purpose="tpo",
        effective_on=dt.date(2026, 1, 1),
        signed_by_name="Quillon Testpatient",
        signed_at=timezone.now(),
        by=Actor.cli(world.director, "test"),
    )
    manifest = finished(client, token, kickoff(client, token, _type="Observation,Encounter"))
    found = resources(client, token, manifest)
    assert ids(found, "Observation") == set(world.records["Observation"])
    assert ids(found, "Encounter") == set(world.records["Encounter"])
    assert manifest["error"] == []
    [disclosure] = Disclosure.objects.all()
    assert disclosure.patient_id == world.sud_patient.pk
    assert disclosure.consent_id == consent.pk and disclosure.channel == Channel.BULK_EXPORT
    # Each released Part 2 line carries the 42 CFR 2.32 notice in its meta, as the API's do.
    part2 = [
        r
        for r in found["Observation"] + found["Encounter"]
        if any(label["code"] == "42CFRPart2" for label in r["meta"].get("security", []))
    ]
    assert part2
    assert all(
        [e["valueString"] for e in r["meta"]["extension"]] == [REDISCLOSURE_NOTICE] for r in part2
    )
    assert disclosure.notice_attached


def test_a_tpo_consent_covers_an_outside_treatment_client(client: Client, world: World) -> None:
    """The single TPO consent names treating providers as a class: an outside client registered
    for treatment is one (the API's rule, consents.domain.Recipient.api_client)."""
    token = token_for(world.network_user)
    consent_record(
        patient=world.sud_patient,
        information="All records of treatment",
        recipient_kind="tpo_class",
        purpose="tpo",
        effective_on=dt.date(2026, 1, 1),
        signed_by_name="Quillon Testpatient",
        signed_at=timezone.now(),
        by=Actor.cli(world.director, "test"),
    )
    manifest = finished(client, token, kickoff(client, token, _type="Observation"))
    assert ids(resources(client, token, manifest), "Observation") == set(
        world.records["Observation"]
    )
    assert manifest["error"] == []


def _consent(world: World, client_id: str, purpose: str) -> Any:
    return consent_record(
        patient=world.sud_patient,
        information="Questionnaire scores",
        recipient_kind="api_client",
        recipient_identifier=client_id,
        recipient_name="Fictional Claims Bureau",
        purpose=purpose,
        effective_on=dt.date(2026, 1, 1),
        expires_on=dt.date(2099, 1, 1),
        signed_by_name="Quillon Testpatient",
        signed_at=timezone.now(),
        by=Actor.cli(world.director, "test"),
    )


def test_the_purpose_is_the_clients_registered_one(client: Client, world: World) -> None:
    """A client registered for payment gets Part 2 records only under a consent covering
    payment: a treatment-only consent leaves them withheld."""
    new = fhir_client_create(
        user=world.network_user,
        scopes="system/*.read",
        name="Fictional Claims Bureau",
        purpose="payment",
        by=Actor.cli(world.network_user, "test"),
    )
    token = client_credentials_token(client, new, "system/*.read")
    sud_obs, mh_obs = world.records["Observation"]
    _consent(world, new.client_id, "treatment")
    manifest = finished(client, token, kickoff(client, token, _type="Observation"))
    assert ids(resources(client, token, manifest), "Observation") == {mh_obs}
    assert manifest["error"][0]["count"] == 1
    _consent(world, new.client_id, "payment")
    manifest = finished(client, token, kickoff(client, token, _type="Observation"))
    assert ids(resources(client, token, manifest), "Observation") == {sud_obs, mh_obs}
    assert Disclosure.objects.get().purpose == "payment"
    with pytest.raises(RuleViolation):
        fhir_client_create(
            user=world.network_user,
            scopes="system/*.read",
            name="x",
            purpose="curiosity",
            by=Actor.cli(world.network_user, "test"),
        )


# --- the command line --------------------------------------------------------------------------


def test_cli_writes_ndjson_files_per_type(world: World, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "export",
        "--format",
        "ndjson",
        "--out",
        str(tmp_path),
        "--type",
        "Patient,Observation",
        "--site",
        str(world.site.pk),
        "--as",
        world.director.username,
        stdout=out,
        stderr=err,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Observation.ndjson",
        "Patient.ndjson",
        "manifest.json",
    ]
    patients = [json.loads(x) for x in (tmp_path / "Patient.ndjson").read_text().splitlines()]
    assert {int(p["id"]) for p in patients} == {world.sud_patient.pk, world.mh_patient.pk}
    for p in patients:
        get_fhir_model_class("Patient").model_validate(p)
    assert "100% 4/4" in err.getvalue()
    assert "4 resource(s) of 2 type(s) for 2 patient(s) exported" in out.getvalue()
    assert not BulkExportFile.objects.exists()  # on disk, not kept in the database
    assert AuditEntry.objects.filter(object_type="fhir_bulk_export", channel="cli").count() == 1


def test_cli_one_patient(world: World, tmp_path: Path) -> None:
    call_command(
        "export",
        "--format=ndjson",
        f"--out={tmp_path}",
        "--type=Patient,EpisodeOfCare",
        f"--patient={world.mh_patient.pk}",
        f"--as={world.director.username}",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    episodes = (tmp_path / "EpisodeOfCare.ndjson").read_text().splitlines()
    assert [json.loads(e)["id"] for e in episodes] == [str(world.mh_episode.pk)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "Spaceship"], "Spaceship"),
        (["--as", "nobody-here"], "No active staff user"),
        (["--track", "999999"], "no Group"),
        (["--since", "last tuesday"], "_since"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(
    world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    base = {"--format": "ndjson", "--out": str(tmp_path), "--as": world.director.username}
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for k, v in {**base, **given}.items() for x in (k, v)]
    with pytest.raises(CommandError) as caught:
        call_command("export", *argv, stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.returncode == 2
    assert message in str(caught.value)
    assert not list(tmp_path.iterdir())


# --- pure parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("track-12", bulk.GroupRef("track", 12)),
        ("site-3", bulk.GroupRef("site", 3)),
        ("site-0", None),
        ("track-", None),
        ("team-4", None),
        ("site-3x", None),
    ],
)
def test_group_ids(text: str, expected: bulk.GroupRef | None) -> None:
    assert bulk.parse_group_id(text) == expected


def test_parse_kickoff_reads_types_since_and_patients_in_the_servers_order() -> None:
    got = bulk.parse_kickoff(
        {
            "_type": ["Observation,Patient"],
            "_since": ["2026-01-02T03:04:05Z"],
            "patient": ["Patient/7,9"],
            "_outputFormat": ["application/fhir+ndjson"],
        },
        "patient",
    )
    assert got.types == ("Patient", "Observation")
    assert got.since == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert got.patients == (7, 9)


@pytest.mark.parametrize(
    "params",
    [
        {"_since": ["2026-01-02"]},  # a date, not an instant
        {"_since": ["2026-01-02T00:00:00"]},  # no zone
        {"_outputFormat": ["text/csv"]},
        {"_elements": ["id"]},
        {"_type": [""]},
        {"patient": ["Patient/1"]},  # system level
    ],
)
def test_parse_kickoff_refuses(params: dict[str, list[str]]) -> None:
    with pytest.raises(bulk.BadExportRequest):
        bulk.parse_kickoff(params, "system")


def test_manifest_and_progress_text() -> None:
    when = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    body = bulk.manifest(
        transaction_time=when,
        request_url="https://x/fhir/R4/$export",
        output=[bulk.FileEntry("Patient", "https://x/f/1.ndjson", 3)],
        errors=[],
    )
    assert body == {
        "transactionTime": "2026-01-02T00:00:00+00:00",
        "request": "https://x/fhir/R4/$export",
        "requiresAccessToken": True,
        "output": [{"type": "Patient", "url": "https://x/f/1.ndjson", "count": 3}],
        "error": [],
    }
    assert bulk.progress_text(0, None, "queued") == "queued"
    assert bulk.progress_text(5, 0, "running") == "running: 5 resources written"
    assert bulk.progress_text(1, 3, "running") == "running: 33% (1 of 3 resources)"


# --- the benchmark script's pure parts (bench/export.py) -------------------------------------------


def _bench() -> Any:
    import importlib.util

    import openiop

    path = Path(openiop.__file__).resolve().parent.parent / "bench" / "export.py"
    spec = importlib.util.spec_from_file_location("bench_export", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_export"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_bench_verdict_compares_rates_and_refuses_different_rows() -> None:
    bench = _bench()
    v = bench.verdict(copy_rows=1000, export_rows=1000, copy_s=1.0, export_s=2.0)
    assert (v.copy_rows_per_s, v.export_rows_per_s, v.ratio) == (1000.0, 500.0, 0.5)
    assert v.within_budget is False and v.budget == 0.7
    assert bench.verdict(copy_rows=10, export_rows=10, copy_s=1.0, export_s=1.25).within_budget
    with pytest.raises(ValueError, match="COPY read 10 rows but the export wrote 9"):
        bench.verdict(copy_rows=10, export_rows=9, copy_s=1.0, export_s=1.0)
    assert bench.rate(5, 0) == 0.0


def test_bench_copy_reads_the_same_rows_as_the_export(world: World) -> None:
    """Each measured type has a COPY of the network's rows; on PostgreSQL it reads exactly the
    rows the export writes for the organization's director (inside: nothing withheld)."""
    bench = _bench()
    statements = {t: bench.copy_statement(t, world.org.pk) for t in bench.TYPES}
    for statement, params in statements.values():
        assert statement.startswith("COPY (SELECT line FROM (SELECT x.id, (json_strip_nulls(")
        assert statement.endswith(") TO STDOUT")
        assert "organization_id = %s" in statement and world.org.pk in params
    export = exports.export_create(
        actor=Actor.cli(world.director, "test"),
        client=exports.ExportClient("bench", "bench", world.org.pk),
        kind="system",
        params={"_type": [",".join(bench.TYPES)]},
        request_url="bench",
    )
    summary = exports.export_run(export_id=export.pk)
    assert summary.counts == {"Patient": 2, "Encounter": 2, "Observation": 2}
    if connection.vendor == "postgresql":
        copied, _seconds = bench.time_copy(world.org.pk)
        assert copied == summary.counts
