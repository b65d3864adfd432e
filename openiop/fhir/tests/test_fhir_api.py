"""The FHIR R4 API end to end: every resource type read and searched (and validated with
fhir.resources), access and scopes, Part 2 labels and withholding, paging, errors, query counts."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from openiop.audit.models import AuditEntry
from openiop.fhir.part2 import ACT_CODE_SYSTEM
from openiop.fhir.scopes import RESOURCE_TYPES
from openiop.fhir.tests.conftest import (
    World,
    appointment_next_week,
    client_credentials_token,
    fhir_get,
    fhir_put,
    token_for,
)
from openiop.testing import make_patient

pytestmark = pytest.mark.django_db

PATIENT_TYPES = [t for t in RESOURCE_TYPES if t not in ("Practitioner", "Organization", "Location")]


def _valid(body: dict[str, Any]) -> Any:
    """The body validated by fhir.resources (raises when it is not a valid resource)."""
    return get_fhir_model_class(body["resourceType"]).model_validate(body)


def _labels(resource: dict[str, Any]) -> set[str]:
    return {s["code"] for s in resource.get("meta", {}).get("security", [])}


def test_metadata_is_a_valid_capability_statement(client: Client) -> None:
    r = client.get("/fhir/R4/metadata")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/fhir+json")
    cs = _valid(r.json())
    assert cs.fhirVersion == "4.0.1"
    assert {res.type for res in cs.rest[0].resource} == set(RESOURCE_TYPES)
    # What a client needs before writing: the answer it gets and the header an update must send.
    security = cs.rest[0].security.description
    assert "scopes allow writing the type but not reading it" in security
    assert "must send If-Match" in security


def test_smart_configuration_names_the_token_endpoint(client: Client) -> None:
    body = client.get("/.well-known/smart-configuration").json()
    assert body["token_endpoint"].endswith("/o/token/")
    assert "client_credentials" in body["grant_types_supported"]
    assert "system/*.read" in body["scopes_supported"]


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_every_type_reads_and_searches_valid_resources(
    client: Client, world: World, resource_type: str
) -> None:
    token = token_for(world.director)
    bundle = fhir_get(client, resource_type, token, _count=50)
    assert bundle.status_code == 200, bundle.content
    parsed = _valid(bundle.json())
    assert parsed.type == "searchset"
    ids = {e.resource.id for e in parsed.entry or [] if e.search.mode == "match"}
    assert {str(i) for i in world.records[resource_type]} <= ids
    for pk in world.records[resource_type]:
        r = fhir_get(client, f"{resource_type}/{pk}", token)
        assert r.status_code == 200, r.content
        body = r.json()
        assert _valid(body).id == str(pk)
        assert body["resourceType"] == resource_type


@pytest.mark.parametrize("resource_type", PATIENT_TYPES)
def test_part2_records_carry_security_labels(
    client: Client, world: World, resource_type: str
) -> None:
    token = token_for(world.director)
    sud_id, mh_id = world.records[resource_type]
    sud = fhir_get(client, f"{resource_type}/{sud_id}", token).json()
    mh = fhir_get(client, f"{resource_type}/{mh_id}", token).json()
    if resource_type in ("Patient", "Coverage"):  # not derived from an episode
        assert _labels(sud) == set()
    else:
        assert _labels(sud) == {"R", "42CFRPart2"}
        assert {s["system"] for s in sud["meta"]["security"]} >= {ACT_CODE_SYSTEM}
    if resource_type == "Consent":  # a Part 2 consent is itself Part 2 information
        assert _labels(mh) == {"R", "42CFRPart2"}
    else:
        assert _labels(mh) == set()


@pytest.mark.parametrize("resource_type", PATIENT_TYPES)
def test_another_sites_token_is_refused_every_type(
    client: Client, world: World, resource_type: str
) -> None:
    """The FHIR access walk: a token of a clinician at another site reads none of these records
    (403, audited) and finds none of them by search."""
    token = token_for(world.other_clinician)
    for pk in world.records[resource_type]:
        r = fhir_get(client, f"{resource_type}/{pk}", token)
        assert r.status_code in (403, 404), (resource_type, r.status_code)
        if r.status_code == 403:
            assert r.json()["resourceType"] == "OperationOutcome"
    bundle = fhir_get(client, resource_type, token)
    if bundle.status_code == 200:
        ids = {e["resource"]["id"] for e in bundle.json().get("entry", [])}
        assert not ids & {str(i) for i in world.records[resource_type]}
    else:  # the role lacks the capability altogether
        assert bundle.status_code == 403


def test_part2_records_withheld_from_a_client_outside_the_organization(
    client: Client, world: World
) -> None:
    token = token_for(world.network_user)
    bundle = fhir_get(client, "Observation", token).json()
    _valid(bundle)
    matches = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert [e["resource"]["id"] for e in matches] == [str(world.records["Observation"][1])]
    assert len(outcome) == 1
    note = outcome[0]["resource"]["issue"][0]
    assert note["code"] == "suppressed"
    assert "Withheld under 42 CFR Part 2" in note["diagnostics"]
    assert "1 Observation of 1 patient(s)" in note["diagnostics"]
    read = fhir_get(client, f"Observation/{world.records['Observation'][0]}", token)
    assert read.status_code == 403
    assert read.json()["issue"][0]["code"] == "suppressed"
    assert AuditEntry.objects.filter(
        outcome="denied", detail__reason="withheld under 42 CFR Part 2"
    ).exists()
    # Inside the organization the same record is served.
    own = fhir_get(
        client, f"Observation/{world.records['Observation'][0]}", token_for(world.director)
    )
    assert own.status_code == 200


def test_scopes_limit_resource_types(client: Client, world: World) -> None:
    token = token_for(world.director, "system/Observation.read")
    assert fhir_get(client, "Observation", token).status_code == 200
    refused = fhir_get(client, "Patient", token)
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    assert fhir_get(client, "Observation", token, _include="Observation:patient").status_code == 403


def test_patient_scopes_need_a_patient_context(client: Client, world: World) -> None:
    token = token_for(world.director, "patient/*.read")
    r = fhir_get(client, "Observation", token)
    assert r.status_code == 403
    assert "patient context" in r.json()["issue"][0]["diagnostics"]


def test_no_token_is_401_and_bad_param_is_400_and_unknown_is_404(
    client: Client, world: World
) -> None:
    r = client.get("/fhir/R4/Patient")
    assert r.status_code == 401 and _valid(r.json()).issue[0].code == "login"
    token = token_for(world.director)
    r = fhir_get(client, "Patient", token, colour="blue")
    assert r.status_code == 400 and _valid(r.json()).get_resource_type() == "OperationOutcome"
    assert fhir_get(client, "Patient/999999", token).status_code == 404
    assert fhir_get(client, "Medication", token).status_code == 404
    assert fhir_get(client, "Patient", token, birthdate="yesterday").status_code == 400


def test_paging_links_walk_every_patient(client: Client, world: World) -> None:
    for n in range(5):
        make_patient(world.site, legal_first_name=f"Pager{n}")
    token = token_for(world.director)
    seen: list[str] = []
    url: str | None = "/fhir/R4/Patient?_count=3"
    pages = 0
    while url:
        body = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").json()
        _valid(body)
        assert body["total"] == 7
        seen += [e["resource"]["id"] for e in body.get("entry", [])]
        links = {link["relation"]: link["url"] for link in body["link"]}
        if pages:
            assert "previous" in links
        url = links.get("next")
        pages += 1
    assert pages == 3 and len(set(seen)) == 7


def test_total_is_exact_up_to_the_limit_and_on_request(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bundle.total: counted exactly up to TOTAL_COUNT_LIMIT (here 3) and left out beyond it,
    so a page of a network-wide search never counts every match; `_total=accurate` counts,
    `_total=none` does not; the last page knows its total from its own rows; the next link is
    there whenever more follow, total or not."""
    from openiop.fhir import selectors

    monkeypatch.setattr(selectors, "TOTAL_COUNT_LIMIT", 3)
    for n in range(5):
        make_patient(world.site, legal_first_name=f"Counted{n}")
    token = token_for(world.director)

    def bundle(**params: Any) -> dict[str, Any]:
        body = fhir_get(client, "Patient", token, **params).json()
        _valid(body)
        return dict(body)

    def relations(body: dict[str, Any]) -> set[str]:
        return {link["relation"] for link in body["link"]}

    first = bundle(_count=2)
    assert "total" not in first and "next" in relations(first)
    assert len(first["entry"]) == 2
    assert bundle(_count=2, _total="accurate")["total"] == 7
    assert "total" not in bundle(_count=2, _total="none")
    last = bundle(_count=2, _offset=6)
    assert last["total"] == 7 and "next" not in relations(last)
    assert bundle(_count=10)["total"] == 7  # one page holds every match
    monkeypatch.setattr(selectors, "TOTAL_COUNT_LIMIT", 10)
    assert bundle(_count=2)["total"] == 7  # within the limit: counted
    assert bundle(_count=0)["total"] == 7  # a count-only search
    refused = fhir_get(client, "Patient", token, _total="some")
    assert refused.status_code == 400
    assert "_total" in json.dumps(refused.json())


def test_search_params_filter(client: Client, world: World) -> None:
    token = token_for(world.director)
    sud = world.sud_patient.pk

    def ids(path: str, **params: Any) -> set[str]:
        body = fhir_get(client, path, token, **params).json()
        return {
            e["resource"]["id"] for e in body.get("entry", []) if e["search"]["mode"] == "match"
        }

    assert ids("Observation", patient=sud) == {str(world.records["Observation"][0])}
    assert ids("Observation", code="http://loinc.org|44261-6") == {
        str(i) for i in world.records["Observation"]
    }
    assert ids("Observation", code="75626-2") == set()
    assert ids("Condition", code="F33.1", patient=f"Patient/{sud}") == {
        str(world.records["Condition"][0])
    }
    assert ids("EpisodeOfCare", status="active") == {str(i) for i in world.records["EpisodeOfCare"]}
    assert ids("EpisodeOfCare", status="finished") == set()
    assert ids("Encounter", date="2026-01-06") == {str(i) for i in world.records["Encounter"]}
    assert ids("Encounter", date="gt2026-01-06") == set()
    assert ids("Patient", _id=sud) == {str(sud)}
    assert ids("Patient", _lastUpdated="lt2000-01-01") == set()
    with_rev = fhir_get(client, "Patient", token, _id=sud, _revinclude="Observation:patient").json()
    assert {e["resource"]["resourceType"] for e in with_rev["entry"]} == {"Patient", "Observation"}
    with_inc = fhir_get(
        client, "Observation", token, patient=sud, _include="Observation:patient"
    ).json()
    assert [e["search"]["mode"] for e in with_inc["entry"]] == ["match", "include"]


def test_medications_and_drug_tests_map_to_valid_fhir_with_what_was_recorded(
    client: Client, world: World
) -> None:
    """RxNorm coding only where the row has a code (else the name as text); a clinic dose keeps
    its lot (a contained Medication's batch) and injection site; a drug test is a LAB
    DiagnosticReport with its analytes as contained Observations (POS/NEG), so the Observation
    search still serves only the measures' scores."""
    from openiop.medications.models import Medication

    token = token_for(world.director)
    sud_med = world.records["MedicationStatement"][0]
    body = fhir_get(client, f"MedicationStatement/{sud_med}", token).json()
    _valid(body)
    assert body["status"] == "active"
    assert body["medicationCodeableConcept"]["coding"] == [
        {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "7243",
            "display": "Naltrexone extended-release",
        }
    ]
    assert body["dosage"][0]["text"] == "380 mg, every 4 weeks"
    uncoded = Medication.objects.create(
        patient=world.sud_patient,
        episode=world.sud_episode,
        name="Fictional herbal tea",
        dose="1 cup",
        route="oral",
        frequency="at night",
        source="patient_reported",
        stop_date=dt.date(2026, 1, 20),
        stop_reason="Stopped by the patient",
        recorded_by=world.clinician,
        part2=True,
    )
    body = fhir_get(client, f"MedicationStatement/{uncoded.pk}", token).json()
    _valid(body)
    assert body["medicationCodeableConcept"] == {"text": "Fictional herbal tea"}
    assert body["status"] == "stopped"
    assert body["informationSource"] == {"reference": f"Patient/{world.sud_patient.pk}"}

    dose = fhir_get(
        client, f"MedicationAdministration/{world.records['MedicationAdministration'][0]}", token
    ).json()
    _valid(dose)
    assert dose["status"] == "completed"
    assert dose["dosage"] == {"text": "380 mg", "site": {"text": "Left gluteal"}}
    (contained,) = dose["contained"]
    assert dose["medicationReference"] == {"reference": f"#{contained['id']}"}
    assert contained["batch"] == {"lotNumber": "LOT-FICT-1"}
    assert {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7243"}.items() <= (
        contained["code"]["coding"][0].items()
    )

    allergy = fhir_get(
        client, f"AllergyIntolerance/{world.records['AllergyIntolerance'][0]}", token
    ).json()
    _valid(allergy)
    assert allergy["code"] == {"text": "Penicillin"}
    assert allergy["reaction"] == [{"manifestation": [{"text": "Hives"}], "severity": "moderate"}]

    report = fhir_get(
        client, f"DiagnosticReport/{world.records['DiagnosticReport'][0]}", token
    ).json()
    _valid(report)
    assert report["status"] == "final"
    assert report["category"][0]["coding"][0]["code"] == "LAB"
    assert "loinc" not in json.dumps(report).lower()
    results = {
        o["code"]["text"]: o["interpretation"][0]["coding"][0]["code"] for o in report["contained"]
    }
    assert results == {"Buprenorphine": "NEG", "Fentanyl": "POS"}
    assert [r["reference"] for r in report["result"]] == [
        f"#{o['id']}" for o in report["contained"]
    ]
    assert report["conclusion"] == "Specimen validity: Valid. Collection observed."
    assert "T" in report["effectiveDateTime"]  # entered by staff: the instant
    # From a lab file only the day of collection is known: the day, in the site's zone, alone.
    from openiop.drugtests.models import DrugTestOrder

    order = DrugTestOrder.objects.get(pk=world.records["DiagnosticReport"][0])
    DrugTestOrder.objects.filter(pk=order.pk).update(
        collected_time_known=False,
        collected_at=dt.datetime(2026, 3, 4, 3, 0, tzinfo=dt.UTC),  # Mar 3, 9 PM in Chicago
    )
    report = fhir_get(client, f"DiagnosticReport/{order.pk}", token).json()
    _valid(report)
    assert report["effectiveDateTime"] == "2026-03-03"
    assert {o["effectiveDateTime"] for o in report["contained"]} == {"2026-03-03"}
    observations = fhir_get(client, "Observation", token, _count=50).json()
    assert {e["resource"]["id"] for e in observations["entry"]} == {
        str(i) for i in world.records["Observation"]
    }


def test_medication_and_drug_test_search_params_filter_and_page(
    client: Client, world: World
) -> None:
    token = token_for(world.director)
    sud = world.sud_patient.pk

    def ids(path: str, **params: Any) -> set[str]:
        r = fhir_get(client, path, token, **params)
        assert r.status_code == 200, r.content
        return {
            e["resource"]["id"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match"
        }

    for resource_type in (
        "MedicationStatement",
        "MedicationAdministration",
        "AllergyIntolerance",
        "DiagnosticReport",
    ):
        sud_id, mh_id = (str(i) for i in world.records[resource_type])
        assert ids(resource_type, patient=sud) == {sud_id}, resource_type
        assert ids(resource_type, patient=f"Patient/{world.mh_patient.pk}") == {mh_id}
        assert ids(resource_type, _lastUpdated="lt2000-01-01") == set()
        first = fhir_get(client, resource_type, token, _count=1).json()
        assert len(first["entry"]) == 1
        nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
        second = client.get(nxt, HTTP_AUTHORIZATION=f"Bearer {token}").json()
        assert {first["entry"][0]["resource"]["id"], second["entry"][0]["resource"]["id"]} == {
            sud_id,
            mh_id,
        }
    meds = world.records["MedicationStatement"]
    assert ids("MedicationStatement", status="active") == {str(i) for i in meds}
    assert ids("MedicationStatement", status="stopped") == set()
    assert ids("MedicationStatement", effective="2026-01-05") == {str(i) for i in meds}
    assert ids("MedicationStatement", effective="gt2026-01-05") == set()
    doses = {str(i) for i in world.records["MedicationAdministration"]}
    assert ids("MedicationAdministration", status="completed") == doses
    assert ids("MedicationAdministration", **{"effective-time": "lt2000"}) == set()
    tests = {str(i) for i in world.records["DiagnosticReport"]}
    assert ids("DiagnosticReport", status="final") == tests
    assert ids("DiagnosticReport", status="registered") == set()
    assert ids("DiagnosticReport", category="LAB") == tests
    when = (timezone.now() - dt.timedelta(days=3)).date().isoformat()
    assert ids("DiagnosticReport", date=when) == tests
    assert ids("DiagnosticReport", date=f"gt{when}") == set()
    assert fhir_get(client, "DiagnosticReport", token, status="bogus").status_code == 400
    entry = AuditEntry.objects.filter(object_type="fhir_DiagnosticReport").latest("id")
    assert entry.action == "search" and entry.detail["client_id"]


def test_drug_tests_follow_the_drug_test_capability_not_clinical_view(
    client: Client, world: World
) -> None:
    """A case manager reads the medication list (coordinating MAT) but not drug test results:
    the FHIR types follow the same capabilities as the pages (minimum necessary)."""
    from openiop.accounts.domain import Role
    from openiop.testing import make_user

    case_manager = make_user(Role.CASE_MANAGER, org=world.org, sites=[world.site])
    token = token_for(case_manager)
    assert fhir_get(client, "MedicationStatement", token).status_code == 200
    refused = fhir_get(client, "DiagnosticReport", token)
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"
    report = world.records["DiagnosticReport"][0]
    assert fhir_get(client, f"DiagnosticReport/{report}", token).status_code == 403
    assert AuditEntry.objects.filter(object_type="fhir_DiagnosticReport", outcome="denied").exists()


def test_search_audits_with_client_id(client: Client, world: World) -> None:
    token = token_for(world.director)
    fhir_get(client, "Observation", token)
    entry = AuditEntry.objects.filter(object_type="fhir_Observation").latest("id")
    assert entry.channel == "fhir" and entry.user_id == world.director.pk
    assert entry.detail["client_id"]


@pytest.mark.parametrize(
    "resource_type",
    [
        "Patient",
        "Observation",
        "Encounter",
        "CarePlan",
        "Claim",
        "Consent",
        "MedicationAdministration",
        "DiagnosticReport",
    ],
)
def test_search_query_count_does_not_grow_with_results(
    client: Client, world: World, resource_type: str
) -> None:
    token = token_for(world.director)

    def queries(n: int, total: str) -> int:
        fhir_get(client, resource_type, token, _count=n, _total=total)
        with CaptureQueriesContext(connection) as ctx:
            r = fhir_get(client, resource_type, token, _count=n, _total=total)
        assert r.status_code == 200
        return len(ctx.captured_queries)

    assert queries(1, "accurate") == queries(50, "accurate")
    # By default the last page counts nothing (its rows are the rest); an earlier page counts at
    # most TOTAL_COUNT_LIMIT rows: never more queries than an accurate total.
    assert queries(50, "estimate") <= queries(1, "estimate") <= queries(1, "accurate")


def test_token_endpoint_issues_client_credentials_tokens(client: Client, world: World) -> None:
    from openiop.core.actor import Actor
    from openiop.fhir.services import fhir_client_create

    new = fhir_client_create(
        user=world.clinician,
        scopes="system/*.read",
        name="Lab feed",
        by=Actor.cli(world.director, "test"),
    )
    token = client_credentials_token(client, new, "system/Observation.read")
    basic = base64.b64encode(f"{new.client_id}:{new.client_secret}".encode()).decode()
    assert fhir_get(client, "Observation", token).status_code == 200
    assert fhir_get(client, "Patient", token).status_code == 403
    r = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "system/*.write"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert r.status_code == 400  # not registered for writes


def test_patient_create_and_update_with_if_match(client: Client, world: World) -> None:
    token = token_for(world.director)
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Fhirtestperson", "given": ["Oriel"]}],
        "birthDate": "1991-02-03",
        "gender": "female",
        "extension": [
            {
                "url": "http://openiop.org/fhir/StructureDefinition/home-site",
                "valueReference": {"reference": f"Location/{world.site.pk}"},
            }
        ],
    }
    auth = {"authorization": f"Bearer {token}"}
    r = client.post(
        "/fhir/R4/Patient", json.dumps(body), content_type="application/fhir+json", headers=auth
    )
    assert r.status_code == 201, r.content
    created = _valid(r.json())
    assert r["ETag"] == 'W/"1"'
    body["name"][0]["given"] = ["Oriella"]
    body["id"] = created.id

    ok = fhir_put(client, f"Patient/{created.id}", body, token, 'W/"1"')
    assert ok.status_code == 200, ok.content
    assert ok.json()["name"][0]["given"] == ["Oriella"]
    stale = fhir_put(client, f"Patient/{created.id}", body, token, 'W/"1"')
    # A stale If-Match: 412 Precondition Failed (FHIR RESTful API, resource contention).
    assert stale.status_code == 412 and stale.json()["issue"][0]["code"] == "conflict"
    bad = client.post(
        "/fhir/R4/Patient",
        json.dumps({"resourceType": "Patient", "birthDate": "x"}),
        content_type="application/fhir+json",
        headers=auth,
    )
    assert bad.status_code == 422


def test_a_refused_patient_names_the_fhir_element_not_the_services_field(
    client: Client, world: World
) -> None:
    """A date of birth in the future is the patient service's refusal (date_of_birth); the
    client sent it as Patient.birthDate, and the OperationOutcome says so, as it does for the
    home-site extension the writer refuses itself."""
    token = token_for(world.director)
    auth = {"authorization": f"Bearer {token}"}
    home = {
        "url": "http://openiop.org/fhir/StructureDefinition/home-site",
        "valueReference": {"reference": f"Location/{world.site.pk}"},
    }
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Fhirtestperson", "given": ["Oriel"]}],
        "birthDate": "2999-01-01",
        "extension": [home],
    }

    def post() -> Any:
        r = client.post(
            "/fhir/R4/Patient", json.dumps(body), content_type="application/fhir+json", headers=auth
        )
        assert r.status_code == 422, r.content
        return r.json()["issue"][0]

    assert post()["expression"] == ["Patient.birthDate"]
    body["birthDate"] = "1991-02-03"
    body["extension"] = [{**home, "valueReference": {"reference": "Location/999999"}}]
    assert post()["expression"] == ["Patient.extension"]


def test_questionnaire_response_create_scores_and_alerts(client: Client, world: World) -> None:
    from openiop.measures.models import Response, SafetyAlert

    token = token_for(world.clinician)
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://openiop.org/fhir/Questionnaire/phq9",
        "status": "completed",
        "subject": {"reference": f"Patient/{world.mh_patient.pk}"},
        "item": [
            {"linkId": str(n), "answer": [{"valueInteger": 2 if n == 9 else 1}]}
            for n in range(1, 10)
        ],
    }
    r = client.post(
        "/fhir/R4/QuestionnaireResponse",
        json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 201, r.content
    _valid(r.json())
    response = Response.objects.get(pk=int(r.json()["id"]))
    assert response.total == 10
    assert SafetyAlert.objects.filter(response=response).exists()
    bad = {**body, "item": body["item"][:3]}
    r = client.post(
        "/fhir/R4/QuestionnaireResponse",
        json.dumps(bad),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 422


def test_appointment_cancel_through_put(client: Client, world: World) -> None:

    session = appointment_next_week(world)
    token = token_for(world.clinician)
    current = fhir_get(client, f"Appointment/{session.pk}", token).json()
    current["status"] = "cancelled"
    current["cancelationReason"] = {"text": "Patient asked to reschedule"}

    def put(bearer: str, etag: str = 'W/"1"') -> Any:
        return fhir_put(client, f"Appointment/{session.pk}", current, bearer, etag)

    assert put(token_for(world.clinician, "system/*.read")).status_code == 403  # no write scope
    assert put(token, 'W/"7"').status_code == 412  # stale version named in If-Match
    r = put(token)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "cancelled" and r["ETag"] == 'W/"2"'
    current["status"] = "booked"
    assert put(token, 'W/"2"').status_code == 422  # un-cancelling is not a client's change


def test_appointment_put_that_changes_nothing_still_checks_if_match(
    client: Client, world: World
) -> None:
    """A PUT of the status the appointment already has changes nothing, but a stale If-Match is
    still a concurrent edit: 412, not a 200 that tells a second client its cancel went through."""
    from openiop.programs.models import GroupSession

    session = appointment_next_week(world)
    token = token_for(world.clinician)
    body = fhir_get(client, f"Appointment/{session.pk}", token).json()
    body["status"] = "cancelled"
    body["cancelationReason"] = {"text": "Patient asked to reschedule"}

    def put(etag: str) -> Any:
        return fhir_put(client, f"Appointment/{session.pk}", body, token, etag)

    assert put('W/"1"').status_code == 200  # cancelled: now version 2
    body["cancelationReason"] = {"text": "Another client's reason, read at version 1"}
    stale = put('W/"1"')
    assert stale.status_code == 412, stale.content
    assert stale.json()["issue"][0]["code"] == "conflict"
    assert GroupSession.objects.get(pk=session.pk).cancel_reason == "Patient asked to reschedule"
    same = put('W/"2"')  # the current version: nothing to change, answered as a read
    assert same.status_code == 200 and same["ETag"] == 'W/"2"'
    assert GroupSession.objects.get(pk=session.pk).version == 2


def test_patient_put_that_changes_nothing_still_checks_if_match(
    client: Client, world: World
) -> None:
    """The same demographics PUT again write nothing (the version, and so the ETag, stays), but
    named with a stale If-Match they are 412 like any other stale write."""
    token = token_for(world.director)
    patient = world.mh_patient
    body = fhir_get(client, f"Patient/{patient.pk}", token).json()

    def put(etag: str) -> Any:
        return fhir_put(client, f"Patient/{patient.pk}", body, token, etag)

    same = put('W/"1"')
    assert same.status_code == 200 and same["ETag"] == 'W/"1"', same.content
    changed = dict(body, birthDate="1990-01-02")
    moved = fhir_put(client, f"Patient/{patient.pk}", changed, token, 'W/"1"')
    assert moved.status_code == 200 and moved["ETag"] == 'W/"2"', moved.content
    body = changed
    stale = put('W/"1"')  # the demographics as they now are, named at the old version
    assert stale.status_code == 412, stale.content
    assert stale.json()["issue"][0]["code"] == "conflict"


@pytest.mark.parametrize("status", ["cancelled", "booked"])
def test_an_appointment_put_without_if_match_is_refused_naming_the_header(
    client: Client, world: World, status: str
) -> None:
    """A write is never unconditional: a PUT without If-Match, whether it would cancel or change
    nothing, is 422 naming If-Match (the header the client left out, not a form's version
    field), and nothing is written."""
    from openiop.programs.models import GroupSession

    session = appointment_next_week(world)
    token = token_for(world.clinician)
    body = fhir_get(client, f"Appointment/{session.pk}", token).json()
    body["status"] = status
    body["cancelationReason"] = {"text": "Sent with no version"}
    r = fhir_put(client, f"Appointment/{session.pk}", body, token)
    assert r.status_code == 422, r.content
    issue = r.json()["issue"][0]
    assert issue["expression"] == ["If-Match"] and "If-Match" in issue["diagnostics"]
    row = GroupSession.objects.get(pk=session.pk)
    assert (row.version, row.cancel_reason) == (1, "")


def test_a_patient_put_without_if_match_is_refused_naming_the_header(
    client: Client, world: World
) -> None:
    token = token_for(world.director)
    patient = world.mh_patient
    body = fhir_get(client, f"Patient/{patient.pk}", token).json()
    body["birthDate"] = "1990-01-02"
    r = fhir_put(client, f"Patient/{patient.pk}", body, token)
    assert r.status_code == 422, r.content
    assert r.json()["issue"][0]["expression"] == ["If-Match"]
    patient.refresh_from_db()
    assert patient.version == 1 and str(patient.date_of_birth) != "1990-01-02"


def test_cli_registers_a_backend_client(world: World) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    from openiop.fhir.models import FhirClient

    out = StringIO()
    call_command(
        "fhir",
        "client",
        "create",
        user=world.clinician.username,
        scopes="system/*.read",
        by=world.director.username,
        stdout=out,
    )
    assert "client_id:" in out.getvalue() and "client_secret:" in out.getvalue()
    assert FhirClient.objects.get().application.user == world.clinician
    with pytest.raises(CommandError):
        call_command(
            "fhir",
            "client",
            "create",
            user=world.clinician.username,
            scopes="everything",
            by=world.director.username,
        )
    with pytest.raises(CommandError):  # a clinician may not register clients
        call_command(
            "fhir",
            "client",
            "create",
            user=world.clinician.username,
            scopes="system/*.read",
            by=world.clinician.username,
        )


@pytest.mark.parametrize("resource_type", ["Patient", "EpisodeOfCare", "Observation"])
def test_a_search_of_50_costs_the_queries_of_5(
    client: Client, world: World, resource_type: str
) -> None:
    import datetime as dt

    from django.utils import timezone

    from openiop.episodes.choices import TreatmentFocus
    from openiop.measures.models import Response
    from openiop.testing import make_episode

    for n in range(50):
        p = make_patient(world.site, legal_first_name=f"Bulkperson{n}")
        e = make_episode(p, focus=TreatmentFocus.MENTAL_HEALTH)
        Response.objects.create(
            patient=p,
            episode=e,
            instrument="gad7",
            instrument_version="1",
            answers=[0] * 7,
            mode="staff",
            total=0,
            band="minimal",
            administered_at=timezone.now() - dt.timedelta(hours=1),
        )
    token = token_for(world.director)

    def queries(n: int) -> int:
        fhir_get(client, resource_type, token, _count=n)
        with CaptureQueriesContext(connection) as ctx:
            r = fhir_get(client, resource_type, token, _count=n)
        assert r.status_code == 200
        assert len(r.json()["entry"]) == n
        return len(ctx.captured_queries)

    assert queries(5) == queries(50)


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_no_bad_search_value_is_a_server_error(
    client: Client, world: World, resource_type: str
) -> None:
    """The web pages' bad-input walk for the FHIR API: every search parameter of every type, and
    the control parameters, with the same bad values, answer 200 or 400, never 500."""
    from openiop.fhir.selectors import DEFS
    from openiop.web.tests.test_bad_input import BAD_VALUES, HUGE_ID

    token = token_for(world.director)
    names = [*DEFS[resource_type].params, "_id", "_lastUpdated", "_count", "_offset", "_include"]
    fuzz = Client(raise_request_exception=False)
    failures = []
    for name in names:
        for label, value in BAD_VALUES.items():
            r = fhir_get(fuzz, resource_type, token, **{name: value})
            if r.status_code >= 500 or r.status_code not in (200, 400, 403):
                failures.append(f"{name}={label}: {r.status_code}")
    r = fhir_get(fuzz, f"{resource_type}/{HUGE_ID}", token)
    if r.status_code != 404:
        failures.append(f"id {HUGE_ID}: {r.status_code}")
    assert not failures, failures


def _cancel(client: Client, session: Any, token: str) -> Any:
    """PUT Appointment/<session> cancelled (a fictional reason), If-Match W/"1": the response."""
    body = {
        "resourceType": "Appointment",
        "status": "cancelled",
        "cancelationReason": {"text": "Clinic closed (fictional)"},
        "participant": [{"status": "accepted"}],
    }
    return fhir_put(client, f"Appointment/{session.pk}", body, token, 'W/"1"')


def test_a_write_whose_read_the_role_may_not_make_is_saved_and_answered_without_content(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer to a write is a read of it: were a role allowed the write but not the read
    (none is today: the read's capability is made one the director lacks), the change is saved
    and the answer says so, with its ETag and no content, rather than a 403 for a change made."""
    import dataclasses

    from openiop.accounts.domain import Cap
    from openiop.fhir import selectors
    from openiop.programs.models import GroupSession

    session = appointment_next_week(world)
    unreadable = dataclasses.replace(selectors.DEFS["Appointment"], cap=Cap.PRESCRIBER_VISIT)
    monkeypatch.setitem(selectors.DEFS, "Appointment", unreadable)
    r = _cancel(client, session, token_for(world.director))
    assert r.status_code == 200, r.content
    assert GroupSession.objects.get(pk=session.pk).status == "cancelled"
    (issue,) = r.json()["issue"]
    assert (issue["severity"], issue["code"]) == ("information", "informational")
    assert issue["diagnostics"].startswith(f"Appointment/{session.pk} was saved (version 2).")
    assert r["ETag"] == 'W/"2"' and "Individual therapy" not in r.content.decode()
    assert AuditEntry.objects.filter(object_type="fhir_Appointment", outcome="denied").exists()


def test_a_write_by_a_token_without_read_scope_is_saved_and_answered_without_content(
    client: Client, world: World
) -> None:
    """Scopes that allow writing a type but not reading it get what a read would give them: the
    change is saved and the answer says so, with Location and ETag, and carries no content."""
    from openiop.patients.models import Patient
    from openiop.programs.models import GroupSession

    session = appointment_next_week(world)
    write_only = token_for(world.director, "system/Appointment.write system/Patient.write")
    auth = {"authorization": f"Bearer {write_only}"}
    assert fhir_get(client, f"Appointment/{session.pk}", write_only).status_code == 403
    r = _cancel(client, session, write_only)
    assert r.status_code == 200, r.content
    assert GroupSession.objects.get(pk=session.pk).status == "cancelled"
    assert r.json()["resourceType"] == "OperationOutcome"
    (issue,) = r.json()["issue"]
    assert (issue["severity"], issue["code"]) == ("information", "informational")
    assert issue["diagnostics"].startswith(f"Appointment/{session.pk} was saved (version 2).")
    assert "scopes" in issue["diagnostics"] and "read of Appointment" in issue["diagnostics"]
    assert r["ETag"] == 'W/"2"' and "Individual therapy" not in r.content.decode()

    created = client.post(
        "/fhir/R4/Patient",
        json.dumps(
            {
                "resourceType": "Patient",
                "name": [{"use": "official", "family": "Writeonlyperson", "given": ["Oriel"]}],
                "birthDate": "1991-02-03",
                "extension": [
                    {
                        "url": "http://openiop.org/fhir/StructureDefinition/home-site",
                        "valueReference": {"reference": f"Location/{world.site.pk}"},
                    }
                ],
            }
        ),
        content_type="application/fhir+json",
        headers=auth,
    )
    assert created.status_code == 201, created.content
    patient = Patient.objects.get(legal_last_name="Writeonlyperson")
    assert created["Location"].endswith(f"/fhir/R4/Patient/{patient.pk}")
    assert created["ETag"] == 'W/"1"'
    (issue,) = created.json()["issue"]
    assert issue["severity"] == "information" and "read of Patient" in issue["diagnostics"]
    assert "Writeonlyperson" not in created.content.decode()


def test_a_refused_write_answer_makes_no_query(world: World) -> None:
    """A write's answer refused before the read (the token's scopes) names the version the write
    saved, handed over with its row: it reads nothing, the version no more than the record."""
    from openiop.core.actor import Actor
    from openiop.fhir import selectors
    from openiop.fhir.auth import OutOfScope
    from openiop.fhir.part2 import FhirRecipient

    def no_read_scope() -> None:
        raise OutOfScope("The token's scopes do not allow a read of Appointment.")

    session = appointment_next_week(world)
    with CaptureQueriesContext(connection) as ctx:
        answer = selectors.written_answer(
            actor=Actor(user=world.director, channel="fhir"),
            recipient=FhirRecipient(
                client_id="", client_name="", organization_id=world.org.pk, purpose="treatment"
            ),
            resource_type="Appointment",
            pk=session.pk,
            version=2,
            interaction="update",
            first=no_read_scope,
        )
    assert [q["sql"] for q in ctx.captured_queries] == []
    assert answer.resource is None and answer.version == 2 and "scopes" in answer.refusal


def test_a_cancel_without_a_reason_names_the_fhir_element(client: Client, world: World) -> None:
    """The service's refusal of a blank reason is a 422 whose expression is the FHIR element the
    client sends (Appointment.cancelationReason), not the service's field name."""
    from openiop.programs.models import GroupSession

    session = appointment_next_week(world)
    token = token_for(world.clinician)
    body = fhir_get(client, f"Appointment/{session.pk}", token).json()
    body["status"] = "cancelled"
    for reason in (None, {"text": "   "}, {"text": "x" * 201}):
        if reason is None:
            body.pop("cancelationReason", None)
        else:
            body["cancelationReason"] = reason
        r = fhir_put(client, f"Appointment/{session.pk}", body, token, 'W/"1"')
        assert r.status_code == 422, r.content
        (issue,) = r.json()["issue"]
        assert issue["expression"] == ["Appointment.cancelationReason"], issue
    assert GroupSession.objects.get(pk=session.pk).status == "scheduled"
