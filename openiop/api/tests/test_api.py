"""The REST API (issue 17 point 6): tokens and scopes, access by role and site, problem+json
errors that leave the database as it was, pages, pinned query counts, audit entries and
42 CFR Part 2, endpoint by endpoint."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.api.tests.conftest import ALL, READ, Clinic, api_get, api_post, token_for
from openiop.attendance.models import Attendance
from openiop.audit.models import AuditEntry
from openiop.billing.models import Authorization
from openiop.consents.models import Disclosure
from openiop.consents.services import consent_record
from openiop.core.actor import Actor
from openiop.episodes.choices import TreatmentFocus
from openiop.fhir.scopes import (
    SmartScopes,
    api_scope_allows,
    parse_api_scopes,
    validate_registration,
)
from openiop.fhir.tests.conftest import client_credentials_token
from openiop.programs.models import Enrollment
from openiop.testing import (
    audit_links_query,
    make_episode,
    make_patient,
    make_session,
    make_track,
    make_user,
)

PROBLEM = "application/problem+json"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """The response's problem+json body, after checking its status, type and RFC 9457 members."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://openiop.org/problems/")
    assert body["title"] and body["detail"]
    return body


def audited_patients(entry: AuditEntry) -> set[int]:
    ids = set(entry.patients.values_list("patient_id", flat=True))
    return ids | ({entry.patient_id} if entry.patient_id else set())


# --- scopes (pure) ------------------------------------------------------------------------------


def test_api_scopes_parse_and_allow_per_object() -> None:
    grants = parse_api_scopes("system/*.read api/Track.read api/Attendance.* api/Nope.read")
    assert [(g.resource_type, g.read, g.write) for g in grants] == [
        ("Track", True, False),
        ("Attendance", True, True),
    ]
    assert api_scope_allows(grants, "Track", write=False).allowed
    assert api_scope_allows(grants, "Attendance", write=True).allowed
    refused = api_scope_allows(grants, "Session", write=False)
    assert not refused.allowed and "api/Session.read" in refused.reason
    assert not api_scope_allows(parse_api_scopes("api/*.read"), "Attendance", write=True).allowed


def test_a_smart_scope_never_grants_the_rest_api_nor_an_api_scope_fhir() -> None:
    from openiop.fhir.scopes import parse_scopes

    assert parse_api_scopes("system/*.read system/*.write user/*.*") == []
    assert parse_scopes("api/*.read api/*.write") == []


def test_registration_knows_api_scopes_and_only_writable_objects_write() -> None:
    assert validate_registration("api/*.read api/Attendance.write system/*.read") == []
    assert validate_registration("api/Track.write api/Roster.read") == [
        "api/Track.write",
        "api/Roster.read",
    ]


# --- discovery ----------------------------------------------------------------------------------


def _api_routes() -> list[str]:
    from openiop.api import urls

    routes = []
    for p in urls.urlpatterns:
        assert isinstance(p, URLPattern | URLResolver)
        route = str(p.pattern)
        if route.startswith("v1/"):
            routes.append(
                "/api/" + route.replace("<id:track_id>", "{id}").replace("<id:session_id>", "{id}")
            )
    return routes


def test_openapi_document_describes_every_endpoint_and_the_token_url(
    client: Client, db: None
) -> None:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert sorted(doc["paths"]) == sorted(_api_routes())
    flow = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "http://testserver/o/token/"
    assert "api/*.read" in flow["scopes"] and "api/Attendance.write" in flow["scopes"]
    assert set(doc["components"]["schemas"]["Problem"]["required"]) >= {
        "type",
        "title",
        "status",
        "detail",
    }
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["security"][0]["oauth2"][0].startswith("api/"), (path, method)
            for status in ("401", "403"):
                content = op["responses"][status]["content"]
                assert list(content) == [PROBLEM], (path, method, status)


def test_openapi_document_refuses_other_methods(client: Client, db: None) -> None:
    problem_of(client.post("/api/openapi.json"), 405)


def test_the_token_endpoint_grants_api_scopes_to_a_client_registered_for_them(
    client: Client, clinic: Clinic
) -> None:
    from openiop.core.actor import Actor
    from openiop.fhir.services import fhir_client_create

    new = fhir_client_create(
        user=clinic.clinician,
        scopes="api/*.read",
        name="Scheduling board (fictional)",
        by=Actor.cli(clinic.director, "test"),
    )
    token = client_credentials_token(client, new, "api/Track.read")
    basic = base64.b64encode(f"{new.client_id}:{new.client_secret}".encode()).decode()
    assert api_get(client, "tracks", token).status_code == 200
    problem_of(api_get(client, "sessions", token), 403)
    r = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "api/*.write"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert r.status_code == 400  # registered to read only
    assert "api/Track.read" in SmartScopes().get_available_scopes(new.client.application)


# --- authentication, scopes, role and site ------------------------------------------------------


def test_no_token_or_an_unknown_one_is_401_problem(client: Client, clinic: Clinic) -> None:
    r = api_get(client, "tracks", None)
    assert "token" in problem_of(r, 401)["detail"]
    assert r["WWW-Authenticate"].startswith("Bearer")
    problem_of(api_get(client, "tracks", "not-a-real-token"), 401)


def test_a_fhir_only_token_is_refused_by_the_rest_api(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.director, "system/*.read system/*.write")
    body = problem_of(api_get(client, "tracks", token), 403)
    assert body["code"] == "out_of_scope"


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("tracks", "api/Session.read"),
        ("sessions", "api/Track.read"),
        ("attendance?session={session}", "api/Track.read api/Session.read"),
        ("sessions/{session}/roster", "api/Session.read"),
        ("authorizations?patient={patient}", "api/Attendance.read"),
    ],
)
def test_each_endpoint_needs_its_scope(
    client: Client, clinic: Clinic, path: str, scope: str
) -> None:
    token = token_for(clinic.director, scope)
    url = path.format(session=clinic.session.pk, patient=clinic.mh_patient.pk)
    assert (
        problem_of(client.get(f"/api/v1/{url}", HTTP_AUTHORIZATION=f"Bearer {token}"), 403)["code"]
        == "out_of_scope"
    )


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        (Role.INTAKE, "tracks", True),
        (Role.INTAKE, "sessions/{session}/roster", False),
        (Role.INTAKE, "attendance?session={session}", False),
        (Role.CLINICIAN, "sessions/{session}/roster", True),
        (Role.CLINICIAN, "authorizations?patient={patient}", False),
        (Role.BILLING, "authorizations?patient={patient}", True),
        (Role.BILLING, "attendance?session={session}", True),
        (Role.AUDITOR, "sessions", False),
    ],
)
def test_access_follows_the_role(
    client: Client, clinic: Clinic, role: Role, path: str, allowed: bool
) -> None:
    user = make_user(role, org=clinic.site.organization, sites=[clinic.site])
    token = token_for(user, READ)
    url = path.format(session=clinic.session.pk, patient=clinic.mh_patient.pk)
    r = client.get(f"/api/v1/{url}", HTTP_AUTHORIZATION=f"Bearer {token}")
    if allowed:
        assert r.status_code == 200, r.content
    else:
        assert problem_of(r, 403)["code"] == "role_not_permitted"
        denied = AuditEntry.objects.filter(user_id=user.pk, outcome="denied").latest("id")
        assert denied.channel == "api"


def test_another_sites_staff_see_only_their_sites(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.other_clinician, READ)
    tracks = api_get(client, "tracks", token).json()["results"]
    assert [t["id"] for t in tracks] == [clinic.other_track.pk]
    sessions = api_get(client, "sessions", token).json()["results"]
    assert [s["id"] for s in sessions] == [clinic.other_session.pk]
    assert problem_of(api_get(client, f"tracks/{clinic.track.pk}", token), 403)["code"] == (
        "site_not_permitted"
    )
    problem_of(api_get(client, f"sessions/{clinic.session.pk}/roster", token), 403)
    problem_of(api_get(client, "attendance", token, session=clinic.session.pk), 403)
    billing_elsewhere = make_user(
        Role.BILLING, org=clinic.foreign_site.organization, sites=[clinic.foreign_site]
    )
    problem_of(
        api_get(
            client,
            "authorizations",
            token_for(billing_elsewhere, READ),
            patient=clinic.mh_patient.pk,
        ),
        403,
    )


# --- errors -------------------------------------------------------------------------------------


def test_unknown_records_paths_and_methods_are_problems(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.director, ALL)
    problem_of(api_get(client, "tracks/999999", token), 404)
    problem_of(api_get(client, "tracks/0", token), 404)
    problem_of(api_get(client, "sessions/999999/roster", token), 404)
    problem_of(api_get(client, "attendance", token, session=999999), 404)
    problem_of(api_get(client, "authorizations", token, patient=999999), 404)
    problem_of(api_get(client, "nothing-here", token), 404)
    problem_of(api_get(client, "tracks/99999999999999999999", token), 404)  # beyond an id
    r = client.delete("/api/v1/tracks", HTTP_AUTHORIZATION=f"Bearer {token}")
    problem_of(r, 405)
    assert r["Allow"] == "GET"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"track": "x"}, "track"),
        ({"track": "0"}, "track"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "2026-01-07", "date_to": "2026-01-06"}, "date_to"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(
    client: Client, clinic: Clinic, params: dict[str, str], field: str
) -> None:
    token = token_for(clinic.director, READ)
    body = problem_of(api_get(client, "sessions", token, **params), 400)
    assert body["errors"][0]["field"] == field


def test_lists_that_need_their_subject_say_so(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.director, READ)
    assert problem_of(api_get(client, "attendance", token), 400)["errors"][0]["field"] == "session"
    assert problem_of(api_get(client, "authorizations", token), 400)["errors"][0]["field"] == (
        "patient"
    )


# --- reads --------------------------------------------------------------------------------------


def test_track_detail_has_its_blocks(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.clinician, READ)
    body = api_get(client, f"tracks/{clinic.track.pk}", token).json()
    assert body["name"] == "Adult Day IOP (fictional)" and body["enrolled_today"] == 2
    assert [b["start_time"] for b in body["blocks"]] == ["09:00"]
    assert not AuditEntry.objects.filter(channel="api", outcome="ok").exists()  # no patient data


def test_sessions_filter_by_track_and_dates_and_leave_out_appointments(
    client: Client, clinic: Clinic
) -> None:
    token = token_for(clinic.director, READ)
    ids = [s["id"] for s in api_get(client, "sessions", token).json()["results"]]
    assert clinic.appointment.pk not in ids
    assert set(ids) == {clinic.session.pk, clinic.later_session.pk, clinic.other_session.pk}
    body = api_get(
        client,
        "sessions",
        token,
        track=clinic.track.pk,
        date_from="2026-01-07",
        date_to="2026-01-07",
    ).json()
    assert [s["id"] for s in body["results"]] == [clinic.later_session.pk]


def test_roster_shows_attendance_and_hours_and_is_audited(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.clinician, READ)
    body = api_get(client, f"sessions/{clinic.session.pk}/roster", token).json()
    members = {m["patient"]["id"]: m for m in body["members"]}
    assert set(members) == {clinic.sud_patient.pk, clinic.mh_patient.pk}
    assert members[clinic.mh_patient.pk]["attendance"]["status"] == "present"
    assert members[clinic.sud_patient.pk]["attendance"] is None
    assert members[clinic.mh_patient.pk]["week"]["week"] == "2026-W02"
    assert body["withheld"] == 0
    entry = AuditEntry.objects.filter(object_type="session_roster").latest("id")
    assert entry.channel == "api" and entry.user_id == clinic.clinician.pk
    assert entry.detail["client_id"]
    assert audited_patients(entry) == {clinic.sud_patient.pk, clinic.mh_patient.pk}


def test_attendance_list_is_audited_naming_the_patients_shown(
    client: Client, clinic: Clinic
) -> None:
    token = token_for(clinic.clinician, READ)
    body = api_get(client, "attendance", token, session=clinic.session.pk).json()
    assert [a["patient"] for a in body["results"]] == [clinic.mh_patient.pk]
    entry = AuditEntry.objects.filter(object_type="attendance", action="view").latest("id")
    assert entry.channel == "api" and audited_patients(entry) == {clinic.mh_patient.pk}


def test_authorizations_show_usage_and_are_audited(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.billing, READ)
    body = api_get(client, "authorizations", token, patient=clinic.mh_patient.pk).json()
    (auth,) = body["results"]
    assert auth["reference_number"] == "AUTH-FAKE-1"
    assert (auth["quantity"], auth["used"], auth["remaining"]) == (20, 0, 20)
    entry = AuditEntry.objects.filter(object_type="authorizations").latest("id")
    assert entry.channel == "api" and entry.patient_id == clinic.mh_patient.pk


def test_part2_members_are_withheld_from_a_client_outside_the_organization(
    client: Client, clinic: Clinic
) -> None:
    Attendance.objects.create(
        session=clinic.session,
        episode=clinic.sud_episode,
        patient=clinic.sud_patient,
        status="present",
        minutes_attended=180,
        recorded_by=clinic.clinician,
    )
    token = token_for(clinic.network_user, READ)
    roster = api_get(client, f"sessions/{clinic.session.pk}/roster", token).json()
    assert [m["patient"]["id"] for m in roster["members"]] == [clinic.mh_patient.pk]
    assert roster["withheld"] == 1
    page = api_get(client, "attendance", token, session=clinic.session.pk).json()
    assert [a["patient"] for a in page["results"]] == [clinic.mh_patient.pk]
    assert page["withheld"] == 1
    inside = api_get(
        client, "attendance", token_for(clinic.director, READ), session=clinic.session.pk
    )
    assert inside.json()["withheld"] == 0 and len(inside.json()["results"]) == 2
    # The REST API makes no disclosure, even under a consent (FHIR does, with the notice and
    # the accounting): the outside client still gets the member withheld.
    consent_record(
        patient=clinic.sud_patient,
        information="All records of treatment",
        recipient_kind="tpo_class",
        purpose="tpo",
        effective_on=dt.date(2026, 1, 1),
        signed_by_name="Quillon Testpatient",
        signed_at=timezone.now(),
        by=Actor.cli(clinic.director, "test"),
    )
    roster = api_get(client, f"sessions/{clinic.session.pk}/roster", token).json()
    assert roster["withheld"] == 1
    assert not Disclosure.objects.exists()


# --- pages and query counts ---------------------------------------------------------------------


def test_pages_link_to_the_next_and_previous(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.director, READ)
    seen: list[int] = []
    url: str | None = "/api/v1/sessions?limit=2"
    while url:
        body = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").json()
        assert body["count"] == 3
        seen += [s["id"] for s in body["results"]]
        url = body["next"]
    assert len(seen) == 3 == len(set(seen))
    last = api_get(client, "sessions", token, limit=2, offset=2).json()
    assert last["next"] is None and "offset=0" in last["previous"]


def _queries(client: Client, path: str, token: str, **params: Any) -> int:
    api_get(client, path, token, **params)
    with CaptureQueriesContext(connection) as ctx:
        r = api_get(client, path, token, **params)
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries)


def _more_of_everything(clinic: Clinic, n: int) -> None:
    for i in range(n):
        make_track(clinic.site, name=f"Extra track {i} (fictional)")
        make_session(
            clinic.site,
            clinic.clinician,
            dt.date(2026, 1, 8) + dt.timedelta(days=i),
            track=clinic.track,
        )
        patient = make_patient(clinic.site, legal_first_name="Extra", legal_last_name=f"Fakeson{i}")
        episode = make_episode(patient, focus=TreatmentFocus.MENTAL_HEALTH)
        Enrollment.objects.create(
            episode=episode, track=clinic.track, start_date=dt.date(2026, 1, 5)
        )
        Attendance.objects.create(
            session=clinic.session,
            episode=episode,
            patient=patient,
            status="present",
            minutes_attended=180,
            recorded_by=clinic.clinician,
        )
        Authorization.objects.create(
            coverage=clinic.authorization.coverage,
            reference_number=f"AUTH-FAKE-X{i}",
            unit_kind="units",
            quantity=10,
            start_date=dt.date(2026, 4, 1),
            end_date=dt.date(2026, 6, 30),
            service_codes=["S9480"],
            created_by=clinic.billing,
        )


@pytest.mark.parametrize(
    ("path", "params", "queries", "audited"),
    # The token check (one statement: the token, the client's registration with its purpose and
    # organization for Part 2, the user and their sites), then a fixed number of reads whatever
    # the number of records; an audited list adds its entry's patient links (one query on SQLite).
    [
        ("tracks", {}, 4, False),
        ("sessions", {}, 3, False),
        ("attendance", {"session": "session"}, 5, True),
        ("authorizations", {"patient": "patient"}, 13, False),
        # The roster page also reads its rows' rides and childcare; the REST roster, which does
        # not return them, does not.
        ("sessions/{session}/roster", {}, 9, True),
    ],
)
def test_list_query_counts_are_pinned_and_do_not_grow(
    client: Client, clinic: Clinic, path: str, params: dict[str, str], queries: int, audited: bool
) -> None:
    token = token_for(clinic.director, READ)
    ids = {"session": clinic.session.pk, "patient": clinic.mh_patient.pk}
    url = path.format(**ids)
    query = {k: ids[v] for k, v in params.items()}
    expected = queries + (audit_links_query() if audited else 0)
    assert _queries(client, url, token, **query) == expected
    _more_of_everything(clinic, 6)
    assert _queries(client, url, token, **query) == expected


# --- the write ----------------------------------------------------------------------------------


def _attendance_rows() -> list[tuple[int, str, int, int]]:
    return list(
        Attendance.objects.order_by("id").values_list(
            "episode_id", "status", "minutes_attended", "version"
        )
    )


def test_recording_attendance_uses_the_service_and_is_audited(
    client: Client, clinic: Clinic
) -> None:
    token = token_for(clinic.clinician, ALL)
    r = api_post(
        client,
        "attendance",
        token,
        {
            "session": clinic.session.pk,
            "episode": clinic.sud_episode.pk,
            "status": "late",
            "minutes_attended": 150,
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["minutes_attended"], body["version"]) == ("late", 150, 1)
    entry = AuditEntry.objects.filter(object_type="attendance", action="create").latest("id")
    assert entry.channel == "api" and entry.patient_id == clinic.sud_patient.pk
    assert entry.detail["client_id"]


def test_correcting_attendance_needs_the_version_read_and_a_stale_one_is_409(
    client: Client, clinic: Clinic
) -> None:
    token = token_for(clinic.clinician, ALL)
    fix = {
        "session": clinic.session.pk,
        "episode": clinic.mh_episode.pk,
        "status": "left_early",
        "minutes_attended": 90,
    }
    before = _attendance_rows()
    assert problem_of(api_post(client, "attendance", token, fix), 422)["code"] == "version_missing"
    assert _attendance_rows() == before
    r = api_post(client, "attendance", token, {**fix, "version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    after = _attendance_rows()
    assert problem_of(api_post(client, "attendance", token, {**fix, "version": 1}), 409)[
        "code"
    ] == ("stale_version")
    assert _attendance_rows() == after


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"episode": "member", "status": "present"}, 422, "session"),
        ({"session": "s", "episode": "member"}, 422, "status"),
        ({"session": "s", "episode": "member", "status": "asleep"}, 422, "status"),
        (
            {"session": "s", "episode": "member", "status": "present", "minutes_attended": -5},
            422,
            "minutes_attended",
        ),
        (
            {"session": "s", "episode": "member", "status": "present", "minutes_attended": 400},
            422,
            "minutes_attended",
        ),
        (
            {"session": "s", "episode": "member", "status": "present", "colour": "red"},
            422,
            "colour",
        ),
        ({"session": "s", "episode": 999999, "status": "present"}, 422, "episode"),
        ({"session": 999999, "episode": "member", "status": "present"}, 404, None),
        ({"session": "later", "episode": "outsider", "status": "present"}, 422, None),
    ],
)
def test_a_refused_write_is_a_problem_and_changes_nothing(
    client: Client, clinic: Clinic, body: dict[str, Any], status: int, field: str | None
) -> None:
    outsider = make_episode(make_patient(clinic.site, legal_first_name="Nobody"))
    ids = {
        "s": clinic.session.pk,
        "later": clinic.later_session.pk,
        "member": clinic.sud_episode.pk,
        "outsider": outsider.pk,
    }
    sent = {
        k: ids.get(v, v) if isinstance(v, str) and k in ("session", "episode") else v
        for k, v in body.items()
    }
    token = token_for(clinic.clinician, ALL)
    before = _attendance_rows()
    result = problem_of(api_post(client, "attendance", token, sent), status)
    if field:
        assert result["errors"][0]["field"] == field
    assert _attendance_rows() == before


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_400(
    client: Client, clinic: Clinic, raw: bytes
) -> None:
    token = token_for(clinic.clinician, ALL)
    r = client.post(
        "/api/v1/attendance",
        raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    problem_of(r, 400)
    r = client.post("/api/v1/attendance", {"a": "b"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    problem_of(r, 400)  # a form, not JSON


def test_writing_needs_the_write_scope_the_role_and_the_site(
    client: Client, clinic: Clinic
) -> None:
    body = {"session": clinic.session.pk, "episode": clinic.sud_episode.pk, "status": "present"}
    before = _attendance_rows()
    r = api_post(client, "attendance", token_for(clinic.clinician, READ), body)
    assert problem_of(r, 403)["code"] == "out_of_scope"
    billing = make_user(Role.BILLING, org=clinic.site.organization, sites=[clinic.site])
    assert problem_of(api_post(client, "attendance", token_for(billing, ALL), body), 403)[
        "code"
    ] == ("role_not_permitted")
    r = api_post(client, "attendance", token_for(clinic.other_clinician, ALL), body)
    assert problem_of(r, 403)["code"] == "site_not_permitted"
    assert _attendance_rows() == before


def test_a_nul_character_is_refused_as_problem_json_too(client: Client, clinic: Clinic) -> None:
    token = token_for(clinic.director, READ)
    body = problem_of(api_get(client, "sessions", token, date_from="2026\x00"), 400)
    assert body["code"] == "nul_refused"
    assert client.get("/patients/?q=a\x00")["Content-Type"].startswith("text/plain")
