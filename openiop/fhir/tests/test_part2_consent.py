"""42 CFR Part 2 on the FHIR API (issue 17 point 3): a client outside the program receives the
records of a Part 2 episode only under the patient's consent (consents.selectors.part2_release),
withheld ones are counted, released ones carry the labels and the 2.32 notice, and each response
that disclosed them is one entry of the accounting of disclosures."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.audit.models import AuditEntry
from openiop.consents import selectors as consent_selectors
from openiop.consents.domain import REDISCLOSURE_NOTICE
from openiop.consents.models import Consent, Disclosure
from openiop.consents.services import consent_record, consent_revoke
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import TreatmentFocus
from openiop.fhir import selectors as fhir_selectors
from openiop.fhir.part2 import NOTICE_EXTENSION
from openiop.fhir.tests.conftest import (
    World,
    appointment_next_week,
    client_for,
    fhir_get,
    fhir_put,
    token_for,
)
from openiop.measures.models import Response
from openiop.patients.models import Patient
from openiop.programs.models import GroupSession
from openiop.testing import make_episode, make_patient, make_session, make_user

pytestmark = pytest.mark.django_db

# Issue 18 point 4: the medication list, MAT doses, allergies and drug tests.
CARE_TYPES = [
    "MedicationStatement",
    "MedicationAdministration",
    "AllergyIntolerance",
    "DiagnosticReport",
]
# The types served from an episode: a Part 2 episode's records of each are Part 2 records.
PART2_TYPES = [
    "EpisodeOfCare",
    "Encounter",
    "Appointment",
    "CarePlan",
    "Condition",
    "Goal",
    "Observation",
    "QuestionnaireResponse",
    "Claim",
    # Issue 18: medications and drug tests of substance-use care are Part 2 records too.
    *CARE_TYPES,
]
OUTSIDE = "Fernhill HIE (fictional)"


def _valid(body: dict[str, Any]) -> Any:
    return get_fhir_model_class(body["resourceType"]).model_validate(body)


def _labels(resource: dict[str, Any]) -> set[str]:
    return {s["code"] for s in resource.get("meta", {}).get("security", [])}


def _notice(resource: dict[str, Any]) -> list[str]:
    return [
        e["valueString"]
        for e in resource.get("meta", {}).get("extension", [])
        if e["url"] == NOTICE_EXTENSION
    ]


def _entries(bundle: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    return [e for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def _tpo_consent(world: World, patient: Patient) -> Consent:
    """The single TPO consent, recorded through its one service."""
    return consent_record(
        patient=patient,
        information="All records of my substance use disorder treatment",
        recipient_kind="tpo_class",
        purpose="tpo",
        effective_on=dt.date(2026, 1, 5),
        signed_by_name=f"{patient.legal_first_name} {patient.legal_last_name}",
        signed_at=timezone.now(),
        by=Actor(user=world.director),
    )


def _outside_client(world: World, **kw: Any) -> tuple[str, str]:
    """A client the program registered for another organization, acting for a service account
    of the program's own organization (so the access kernel lets it read the site)."""
    account = make_user(Role.DIRECTOR, org=world.org, sites=[world.site])
    return client_for(account, outside_organization=OUTSIDE, **kw)


@pytest.fixture
def release_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of patients of each consents.selectors.part2_release call the API makes."""
    calls: list[int] = []
    real: Callable[..., Any] = consent_selectors.part2_release

    def counting(**kw: Any) -> Any:
        calls.append(len(set(kw["patient_ids"])))
        return real(**kw)

    monkeypatch.setattr(fhir_selectors, "part2_release", counting)
    return calls


def test_outside_client_without_consent_has_part2_records_withheld_and_counted(
    client: Client, world: World
) -> None:
    token, _client_id = _outside_client(world)
    bundle = fhir_get(client, "Observation", token).json()
    _valid(bundle)
    sud_obs, mh_obs = world.records["Observation"]
    assert [e["resource"]["id"] for e in _entries(bundle, "match")] == [str(mh_obs)]
    (outcome,) = _entries(bundle, "outcome")
    issue = outcome["resource"]["issue"][0]
    assert issue["code"] == "suppressed" and issue["severity"] == "warning"
    assert "1 Observation of 1 patient(s)" in issue["diagnostics"]
    assert "Quillon" not in str(bundle) and "phq9" not in str(outcome)
    read = fhir_get(client, f"Observation/{sud_obs}", token)
    assert read.status_code == 403
    assert read.json()["issue"][0]["code"] == "suppressed"
    assert "1 Observation of 1 patient(s)" in read.json()["issue"][0]["diagnostics"]
    denied = AuditEntry.objects.get(outcome="denied", object_type="fhir_Observation")
    assert denied.detail["reason"] == "withheld under 42 CFR Part 2"
    assert "no Part 2 consent" in denied.detail["decision"]
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize("resource_type", PART2_TYPES)
def test_each_part2_type_withheld_without_consent_then_released_under_a_tpo_consent(
    client: Client, world: World, resource_type: str
) -> None:
    token, client_id = _outside_client(world)
    sud_id, mh_id = world.records[resource_type]
    assert fhir_get(client, f"{resource_type}/{sud_id}", token).status_code == 403
    mh = fhir_get(client, f"{resource_type}/{mh_id}", token)
    assert mh.status_code == 200 and _labels(mh.json()) == set() and not _notice(mh.json())
    consent = _tpo_consent(world, world.sud_patient)
    r = fhir_get(client, f"{resource_type}/{sud_id}", token)
    assert r.status_code == 200, r.content
    body = r.json()
    _valid(body)
    assert _labels(body) == {"R", "42CFRPart2"}
    assert _notice(body) == [REDISCLOSURE_NOTICE]
    disclosure = Disclosure.objects.get()
    assert disclosure.patient_id == world.sud_patient.pk
    assert disclosure.consent_id == consent.pk
    assert disclosure.channel == "fhir_api" and disclosure.purpose == "treatment"
    assert disclosure.recipient_kind == "api_client"
    assert disclosure.recipient_identifier == client_id
    assert disclosure.recipient_name == OUTSIDE
    assert disclosure.discloser == world.org.name
    assert disclosure.notice_attached
    assert disclosure.resources == [{"type": resource_type, "id": str(sud_id)}]


def test_a_search_released_under_consent_carries_the_notice_and_is_accounted_once(
    client: Client, world: World
) -> None:
    token, client_id = _outside_client(world)
    consent = _tpo_consent(world, world.sud_patient)
    bundle = fhir_get(client, "Patient", token, _revinclude=["Observation:patient"]).json()
    _valid(bundle)
    included = {e["resource"]["id"]: e["resource"] for e in _entries(bundle, "include")}
    sud_obs, mh_obs = (str(i) for i in world.records["Observation"])
    assert {sud_obs, mh_obs} <= set(included)
    assert _notice(included[sud_obs]) == [REDISCLOSURE_NOTICE]
    assert _labels(included[sud_obs]) == {"R", "42CFRPart2"}
    (note,) = _entries(bundle, "outcome")
    issue = note["resource"]["issue"][0]
    assert issue["severity"] == "information" and issue["code"] == "informational"
    assert issue["diagnostics"].startswith(REDISCLOSURE_NOTICE)
    (row,) = Disclosure.objects.all()
    assert (row.patient_id, row.consent_id, row.recipient_identifier) == (
        world.sud_patient.pk,
        consent.pk,
        client_id,
    )
    assert "1 Observation" in row.description
    export = AuditEntry.objects.get(object_type="disclosure")
    assert export.action == "export" and export.detail["channel"] == "fhir_api"


def test_a_consent_naming_the_api_client_covers_it_and_no_other_client(
    client: Client, world: World
) -> None:
    token, client_id = _outside_client(world, purpose="patient_request")
    other_token, _ = _outside_client(world, purpose="patient_request")
    consent = consent_record(
        patient=world.sud_patient,
        information="Questionnaire scores",
        recipient_kind="api_client",
        recipient_identifier=client_id,
        recipient_name=OUTSIDE,
        purpose="patient_request",
        effective_on=dt.date(2026, 1, 5),
        expires_on=dt.date(2099, 1, 1),
        signed_by_name="Quillon Testperson",
        signed_at=timezone.now(),
        by=Actor(user=world.clinician),
    )
    sud_obs = world.records["Observation"][0]
    assert fhir_get(client, f"Observation/{sud_obs}", token).status_code == 200
    # Same organization name, another client id: the consent names the client, by its id.
    assert fhir_get(client, f"Observation/{sud_obs}", other_token).status_code == 403
    assert Disclosure.objects.get().consent_id == consent.pk


@pytest.mark.parametrize("resource_type", ["Observation", *CARE_TYPES])
def test_revoking_the_consent_withholds_again_at_once(
    client: Client, world: World, resource_type: str
) -> None:
    token, _ = _outside_client(world)
    consent = _tpo_consent(world, world.sud_patient)
    sud_id = world.records[resource_type][0]
    assert fhir_get(client, f"{resource_type}/{sud_id}", token).status_code == 200
    consent_revoke(consent=consent, by=Actor(user=world.director), note="Letter")
    assert fhir_get(client, f"{resource_type}/{sud_id}", token).status_code == 403
    bundle = fhir_get(client, resource_type, token).json()
    assert str(sud_id) not in {e["resource"]["id"] for e in _entries(bundle, "match")}
    assert Disclosure.objects.count() == 1  # only the read made before the revocation


@pytest.mark.parametrize("resource_type", CARE_TYPES)
def test_a_search_of_medications_or_drug_tests_withholds_by_count_then_releases_with_the_notice(
    client: Client, world: World, resource_type: str
) -> None:
    """Without consent a search answers the other patient's record and says how many Part 2
    records of how many patients it withheld, never what they are (no drug, no analyte, no
    result); under the TPO consent the record comes with its labels, the 2.32 notice and one
    entry of the accounting of disclosures naming it."""
    token, client_id = _outside_client(world)
    sud_id, mh_id = (str(i) for i in world.records[resource_type])
    bundle = fhir_get(client, resource_type, token, _count=50).json()
    _valid(bundle)
    assert [e["resource"]["id"] for e in _entries(bundle, "match")] == [mh_id]
    (outcome,) = _entries(bundle, "outcome")
    issue = outcome["resource"]["issue"][0]
    assert issue["code"] == "suppressed" and issue["severity"] == "warning"
    assert f"1 {resource_type} of 1 patient(s)" in issue["diagnostics"]
    said = json.dumps(outcome).lower()
    for content in ("naltrexone", "7243", "penicillin", "hives", "fentanyl", "positive", "lot-"):
        assert content not in said, content
    assert not Disclosure.objects.exists()

    consent = _tpo_consent(world, world.sud_patient)
    bundle = fhir_get(client, resource_type, token, patient=world.sud_patient.pk).json()
    _valid(bundle)
    (match,) = _entries(bundle, "match")
    assert match["resource"]["id"] == sud_id
    assert _labels(match["resource"]) == {"R", "42CFRPart2"}
    assert _notice(match["resource"]) == [REDISCLOSURE_NOTICE]
    (note,) = _entries(bundle, "outcome")
    assert note["resource"]["issue"][0]["diagnostics"].startswith(REDISCLOSURE_NOTICE)
    (row,) = Disclosure.objects.all()
    assert (row.patient_id, row.consent_id, row.recipient_identifier) == (
        world.sud_patient.pk,
        consent.pk,
        client_id,
    )
    assert row.resources == [{"type": resource_type, "id": sud_id}]
    assert f"1 {resource_type}" in row.description


def test_a_search_of_many_patients_releases_only_the_consented_in_one_decision(
    client: Client, world: World, release_calls: list[int]
) -> None:
    """40 substance-use patients, every other one with a TPO consent: an outside client's search
    returns the consented ones' records and counts the others', with one consent decision and one
    accounting write per response, and the same number of queries for 5 results as for 42."""
    start = timezone.now() - dt.timedelta(hours=2)
    consented: set[int] = set()
    for n in range(40):
        p = make_patient(world.site, legal_first_name=f"Bulkperson{n}")
        e = make_episode(p, focus=TreatmentFocus.SUBSTANCE_USE)
        Response.objects.create(
            patient=p,
            episode=e,
            part2=True,
            instrument="gad7",
            instrument_version="1",
            answers=[0] * 7,
            mode="staff",
            total=0,
            band="minimal",
            administered_at=start + dt.timedelta(minutes=n),
        )
        if n % 2 == 0:
            _tpo_consent(world, p)
            consented.add(p.pk)
    token, _ = _outside_client(world)

    def search(n: int) -> tuple[int, dict[str, Any]]:
        with CaptureQueriesContext(connection) as ctx:
            # An accurate total on both: each counts its matches (by default only a page with
            # more after it would).
            r = fhir_get(client, "Observation", token, _count=n, _total="accurate")
        assert r.status_code == 200
        return len(ctx.captured_queries), r.json()

    search(5)
    release_calls.clear()
    few, _ = search(5)
    many, bundle = search(42)
    assert few == many
    assert release_calls == [4, 41]  # one decision per response, for every Part 2 patient in it
    _valid(bundle)
    matched = {e["resource"]["subject"]["reference"] for e in _entries(bundle, "match")}
    expected = {f"Patient/{pk}" for pk in consented} | {f"Patient/{world.mh_patient.pk}"}
    assert matched == expected
    withheld = next(
        e["resource"]["issue"][0]
        for e in _entries(bundle, "outcome")
        if e["resource"]["issue"][0]["code"] == "suppressed"
    )
    assert "21 Observation of 21 patient(s)" in withheld["diagnostics"]  # 20 + Quillon
    last = Disclosure.objects.order_by("-at", "-id").first()
    assert last is not None
    from_last = Disclosure.objects.filter(at=last.at)
    assert set(from_last.values_list("patient_id", flat=True)) == consented
    # One accounting write (and its one audit entry) per response: three searches disclosed.
    assert AuditEntry.objects.filter(object_type="disclosure").count() == 3


def test_a_group_session_encounter_reveals_no_other_members_part2_records(
    client: Client, world: World
) -> None:
    """Quillon (substance use) and Marigold (mental health) attend the same group: the outside
    client reads Marigold's Encounter, which names no other member, and Quillon's is withheld."""
    group = make_session(world.site, world.clinician, dt.date(2026, 2, 3), title="Coping skills")
    rows = {
        p.pk: Attendance.objects.create(
            session=group,
            episode=e,
            patient=p,
            status="present",
            minutes_attended=180,
            recorded_by=world.clinician,
        )
        for p, e in (
            (world.sud_patient, world.sud_episode),
            (world.mh_patient, world.mh_episode),
        )
    }
    token, _ = _outside_client(world)
    bundle = fhir_get(client, "Encounter", token, date="2026-02-03").json()
    _valid(bundle)
    (match,) = _entries(bundle, "match")
    assert match["resource"]["id"] == str(rows[world.mh_patient.pk].pk)
    (outcome,) = _entries(bundle, "outcome")
    assert "1 Encounter of 1 patient(s)" in outcome["resource"]["issue"][0]["diagnostics"]
    read = fhir_get(client, f"Encounter/{rows[world.mh_patient.pk].pk}", token).json()
    for text in (str(match["resource"]), str(read)):
        assert f"Patient/{world.sud_patient.pk}'" not in text
        assert f"EpisodeOfCare/{world.sud_episode.pk}'" not in text
        assert "Quillon" not in text
    assert read["subject"]["reference"] == f"Patient/{world.mh_patient.pk}"
    assert fhir_get(client, f"Encounter/{rows[world.sud_patient.pk].pk}", token).status_code == 403


def test_a_client_inside_the_organization_is_unaffected(
    client: Client, world: World, release_calls: list[int]
) -> None:
    token = token_for(world.director)
    bundle = fhir_get(client, "Observation", token).json()
    ids = {e["resource"]["id"] for e in _entries(bundle, "match")}
    assert {str(i) for i in world.records["Observation"]} <= ids
    assert not _entries(bundle, "outcome")
    sud = fhir_get(client, f"Observation/{world.records['Observation'][0]}", token).json()
    assert _labels(sud) == {"R", "42CFRPart2"} and _notice(sud) == [REDISCLOSURE_NOTICE]
    assert release_calls == []  # a use inside the program: no consent is asked for
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize("who", ["network", "other_org"])
def test_clients_of_no_or_another_organization_are_outside(
    client: Client, world: World, who: str
) -> None:
    if who == "network":
        user = world.network_user
    else:  # a clinician of another organization granted the site (a shared-care arrangement)
        user = make_user(Role.CLINICIAN, org=world.other_org, sites=[world.site])
    token = token_for(user)
    sud_obs = world.records["Observation"][0]
    assert fhir_get(client, f"Observation/{sud_obs}", token).status_code == 403
    _tpo_consent(world, world.sud_patient)
    assert fhir_get(client, f"Observation/{sud_obs}", token).status_code == 200
    assert Disclosure.objects.get().discloser == world.org.name


def test_client_registration_takes_a_purpose_and_outside_organization(world: World) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    from openiop.fhir.models import FhirClient
    from openiop.fhir.services import fhir_client_create

    out = StringIO()
    call_command(
        "fhir",
        "client",
        "create",
        user=world.clinician.username,
        scopes="system/*.read",
        purpose="payment",
        outside_organization="Fernhill  HIE (fictional)",
        by=world.director.username,
        stdout=out,
    )
    registered = FhirClient.objects.get()
    assert registered.purpose == "payment"
    assert registered.outside_organization == "Fernhill HIE (fictional)"
    assert "purpose: payment" in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "fhir",
            "client",
            "create",
            user=world.clinician.username,
            scopes="system/*.read",
            purpose="tpo",
            by=world.director.username,
        )
    with pytest.raises(RuleViolation) as refused:
        fhir_client_create(
            user=world.clinician,
            scopes="system/*.read",
            name="Bad",
            purpose="tpo",
            by=Actor.cli(world.director, "test"),
        )
    assert refused.value.field == "purpose"
    default = fhir_client_create(
        user=world.clinician, scopes="system/*.read", name="Lab", by=Actor.cli(world.director, "t")
    )
    assert default.client.purpose == "treatment" and default.client.outside_organization == ""


def test_the_patients_consents_are_fhir_consents_under_the_same_decision(
    client: Client, world: World
) -> None:
    """Consent resources: the 42CFRPart2 policy, recipient, purposes and dates; inactive once
    revoked; withheld from an outside client unless a consent covers it (a Part 2 consent tells
    that the patient is in substance-use treatment)."""
    inside = token_for(world.director)
    person_consent = world.records["Consent"][0]
    body = fhir_get(client, f"Consent/{person_consent}", inside).json()
    _valid(body)
    assert body["status"] == "active" and body["patient"]["reference"].endswith(
        f"/{world.sud_patient.pk}"
    )
    assert body["policyRule"]["coding"][0]["code"] == "42CFRPart2"
    assert body["provision"]["actor"][0]["reference"]["display"].startswith("Orsino")
    assert [p["code"] for p in body["provision"]["purpose"]] == ["PATRQT"]
    assert _labels(body) == {"R", "42CFRPart2"} and _notice(body) == [REDISCLOSURE_NOTICE]

    token, _ = _outside_client(world)
    withheld = fhir_get(client, "Consent", token).json()
    assert not _entries(withheld, "match")
    assert "2 Consent of 2 patient(s)" in str(_entries(withheld, "outcome"))
    tpo = _tpo_consent(world, world.sud_patient)
    released = fhir_get(client, "Consent", token, status="active").json()
    _valid(released)
    got = {e["resource"]["id"]: e["resource"] for e in _entries(released, "match")}
    assert set(got) == {str(person_consent), str(tpo.pk)}
    assert [p["code"] for p in got[str(tpo.pk)]["provision"]["purpose"]] == [
        "TREAT",
        "HPAYMT",
        "HOPERAT",
    ]
    consent_revoke(consent=tpo, by=Actor(user=world.director))
    after = fhir_get(client, f"Consent/{tpo.pk}", inside).json()
    assert after["status"] == "inactive"
    assert fhir_get(client, f"Consent/{tpo.pk}", token).status_code == 403
    inactive = fhir_get(client, "Consent", inside, status="inactive").json()
    assert [e["resource"]["id"] for e in _entries(inactive, "match")] == [str(tpo.pk)]


# --- the answer to a write (create, update) is a read of what was written ---------------------------

WRITTEN = ["Appointment", "QuestionnaireResponse"]


def _write(client: Client, world: World, token: str, kind: str, episode: Any) -> Any:
    """Cancel a new appointment of `episode` next week (PUT Appointment, If-Match W/"1"), or
    record a PHQ-9 for its patient (POST QuestionnaireResponse): the HTTP response."""
    auth = {"authorization": f"Bearer {token}"}
    if kind == "Appointment":
        session = appointment_next_week(world, episode)
        body: dict[str, Any] = {
            "resourceType": "Appointment",
            "id": str(session.pk),
            "status": "cancelled",
            "cancelationReason": {"text": "Quietbrook bus strike"},
            "participant": [{"status": "accepted"}],
        }
        return fhir_put(client, f"Appointment/{session.pk}", body, token, 'W/"1"')
    body = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://openiop.org/fhir/Questionnaire/phq9",
        "status": "completed",
        "subject": {"reference": f"Patient/{episode.patient_id}"},
        "item": [{"linkId": str(n), "answer": [{"valueInteger": 2}]} for n in range(1, 9)]
        + [{"linkId": "9", "answer": [{"valueInteger": 0}]}],
    }
    return client.post(
        "/fhir/R4/QuestionnaireResponse",
        json.dumps(body),
        content_type="application/fhir+json",
        headers=auth,
    )


def _written_id(kind: str, r: Any) -> int:
    """The id of the row a write made or changed, from the Location (create) or the URL."""
    if kind == "QuestionnaireResponse":
        return int(r["Location"].rsplit("/", 1)[1])
    return int(r.request["PATH_INFO"].rsplit("/", 1)[1])


def _assert_saved(kind: str, pk: int, episode: Any) -> None:
    if kind == "Appointment":
        session = GroupSession.objects.get(pk=pk)
        assert session.status == "cancelled" and session.version == 2
        assert session.cancel_reason == "Quietbrook bus strike"
    else:
        response = Response.objects.get(pk=pk)
        assert response.episode_id == episode.pk and response.total == 16


@pytest.mark.parametrize("kind", WRITTEN)
def test_an_outside_clients_write_of_a_part2_record_is_saved_and_its_content_withheld(
    client: Client, world: World, kind: str
) -> None:
    """No consent covers the outside client: the write is done (the scopes and the role allow
    it), the answer is an OperationOutcome saying so and that the content is withheld under
    Part 2 (not the record: no answers, no reason, no patient), with Location and ETag; the
    write and the withholding are audited, and nothing is disclosed."""
    token, _ = _outside_client(world)
    r = _write(client, world, token, kind, world.sud_episode)
    assert r.status_code == (201 if kind == "QuestionnaireResponse" else 200), r.content
    pk = _written_id(kind, r)
    _assert_saved(kind, pk, world.sud_episode)
    body = r.json()
    _valid(body)
    assert body["resourceType"] == "OperationOutcome"
    (issue,) = body["issue"]
    assert issue["severity"] == "information" and issue["code"] == "suppressed"
    assert issue["diagnostics"].startswith(f"{kind}/{pk} was saved")
    assert (
        f"Withheld under 42 CFR Part 2 (no consent covering this recipient and purpose): 1 {kind} of 1 patient(s)."
        in issue["diagnostics"]
    )
    said = r.content.decode().lower()
    for content in (
        "quillon",
        "quietbrook",
        "individual therapy",
        "valueinteger",
        "phq",
        "patient/",
    ):
        assert content not in said, content
    if kind == "Appointment":
        assert r["ETag"] == 'W/"2"' and "version 2" in issue["diagnostics"]
    else:
        assert r["Location"].endswith(f"/fhir/R4/QuestionnaireResponse/{pk}")
    wrote = "appointment" if kind == "Appointment" else "measure_response"
    assert AuditEntry.objects.filter(
        object_type=wrote, patient_id=world.sud_patient.pk, action__in=("update", "create")
    ).exists()
    denied = AuditEntry.objects.get(object_type=f"fhir_{kind}", object_id=str(pk))
    assert (denied.action, denied.outcome) == ("view", "denied")
    assert denied.detail["reason"] == "withheld under 42 CFR Part 2"
    assert denied.detail["response_to"] == ("update" if kind == "Appointment" else "create")
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize("kind", WRITTEN)
def test_an_outside_clients_write_under_consent_is_echoed_with_the_notice_and_accounted(
    client: Client, world: World, kind: str
) -> None:
    """Under the TPO consent the answer is the record as a read would give it (labels, the 2.32
    notice) and one entry of the accounting of disclosures; once the consent is revoked the next
    write's answer is withheld again and nothing more is accounted."""
    token, client_id = _outside_client(world)
    consent = _tpo_consent(world, world.sud_patient)
    r = _write(client, world, token, kind, world.sud_episode)
    assert r.status_code == (201 if kind == "QuestionnaireResponse" else 200), r.content
    body = r.json()
    _valid(body)
    pk = _written_id(kind, r)
    _assert_saved(kind, pk, world.sud_episode)
    assert body["resourceType"] == kind and body["id"] == str(pk)
    assert _labels(body) == {"R", "42CFRPart2"}
    assert _notice(body) == [REDISCLOSURE_NOTICE]
    if kind == "Appointment":
        assert body["status"] == "cancelled" and r["ETag"] == 'W/"2"'
    (disclosure,) = Disclosure.objects.all()
    assert (disclosure.patient_id, disclosure.consent_id) == (world.sud_patient.pk, consent.pk)
    assert disclosure.recipient_identifier == client_id and disclosure.channel == "fhir_api"
    assert disclosure.resources == [{"type": kind, "id": str(pk)}]
    seen = AuditEntry.objects.get(object_type=f"fhir_{kind}", object_id=str(pk))
    assert (seen.action, seen.outcome) == ("view", "ok")

    consent_revoke(consent=consent, by=Actor(user=world.director), note="Letter")
    again = _write(client, world, token, kind, world.sud_episode)
    assert again.status_code == r.status_code, again.content
    assert again.json()["resourceType"] == "OperationOutcome"
    assert again.json()["issue"][0]["code"] == "suppressed"
    _assert_saved(kind, _written_id(kind, again), world.sud_episode)
    assert Disclosure.objects.count() == 1


@pytest.mark.parametrize("kind", WRITTEN)
def test_a_write_of_a_mental_health_record_or_from_inside_is_echoed_as_before(
    client: Client, world: World, kind: str, release_calls: list[int]
) -> None:
    """Not Part 2 (a mental-health episode): the outside client gets the record, unlabelled and
    undisclosed. Inside the program (the organization's own client) a Part 2 record comes back
    labelled, with no consent asked for and nothing accounted."""
    token, _ = _outside_client(world)
    r = _write(client, world, token, kind, world.mh_episode)
    assert r.status_code == (201 if kind == "QuestionnaireResponse" else 200), r.content
    body = r.json()
    _valid(body)
    assert body["resourceType"] == kind and _labels(body) == set() and not _notice(body)
    inside = _write(client, world, token_for(world.director), kind, world.sud_episode)
    assert inside.status_code == r.status_code, inside.content
    body = inside.json()
    assert body["resourceType"] == kind and _labels(body) == {"R", "42CFRPart2"}
    assert release_calls == []
    assert not Disclosure.objects.exists()
