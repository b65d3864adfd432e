from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.audit.services import audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.testing import make_org, make_patient, make_site, make_user, postgresql_only

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django import DjangoAssertNumQueries

pytestmark = pytest.mark.django_db


def test_entries_cannot_be_changed_or_deleted_through_the_app() -> None:
    entry = audit_record(Actor.system("test"), action="view", object_type="x")
    entry.detail = {"tampered": True}
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(username="someone-else")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
def test_postgresql_trigger_refuses_update_and_delete_even_in_raw_sql() -> None:
    audit_record(Actor.system("test"), action="view", object_type="x")
    for sql in ("UPDATE audit_auditentry SET username = 'x'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cur:
            from django.db import transaction

            with transaction.atomic():
                cur.execute(sql)
    assert AuditEntry.objects.count() == 1


def test_director_filters_the_log_by_patient_user_and_date(
    client: Client, mfa_passed: None
) -> None:
    org = make_org()
    site = make_site(org)
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    nurse = make_user(Role.PRESCRIBER, sites=[site], org=org, username="nurse.quill")
    alpha = make_patient(site, legal_last_name="Quasar")
    beta = make_patient(site, legal_last_name="Nebulon")
    audit_record(Actor(user=nurse), action="view", patient_id=alpha.pk, object_type="chart")
    audit_record(Actor(user=director), action="view", patient_id=beta.pk, object_type="chart")
    audit_record_many(
        Actor(user=nurse), action="view", object_type="roster", patient_ids=[alpha.pk, beta.pk]
    )
    client.force_login(director)

    response = client.get(reverse("audit:log"), {"patient": alpha.mrn})
    rows = response.content.decode().count("<tr>") - 1
    assert rows == 2  # alpha's chart view and the roster that showed alpha

    response = client.get(reverse("audit:log"), {"user": "nurse.quill"})
    assert response.content.decode().count("<tr>") - 1 == 2

    tomorrow = (local_today(site.tz) + dt.timedelta(days=2)).isoformat()
    response = client.get(reverse("audit:log"), {"date_from": tomorrow})
    assert "No audit entries match" in response.content.decode()


def test_auditor_reads_the_log_but_no_patient_pages(client: Client) -> None:
    org = make_org()
    site = make_site(org)
    auditor = make_user(Role.AUDITOR, org=org)
    patient = make_patient(site)
    client.force_login(auditor)
    assert client.get(reverse("audit:log")).status_code == 200
    assert (
        client.get(reverse("patients:chart", kwargs={"patient_id": patient.pk})).status_code == 403
    )
    assert AuditEntry.objects.filter(
        outcome="denied", patient_id=patient.pk, user_id=auditor.pk
    ).exists()


def test_invalid_date_range_is_reported_and_keeps_the_input(client: Client) -> None:
    org = make_org()
    auditor = make_user(Role.AUDITOR, org=org)
    client.force_login(auditor)
    response = client.get(
        reverse("audit:log"), {"date_from": "2026-03-10", "date_to": "2026-03-01", "user": "kept"}
    )
    body = response.content.decode()
    assert "end date is before the start date" in body
    assert 'value="kept"' in body


def test_patient_filter_query_count_does_not_grow_with_the_log(
    client: Client, mfa_passed: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    org = make_org()
    site = make_site(org)
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    alpha = make_patient(site, legal_last_name="Quasar")
    beta = make_patient(site, legal_last_name="Nebulon")
    client.force_login(director)
    url = reverse("audit:log")

    def entries(n: int) -> None:
        for _ in range(n):
            audit_record(Actor(user=director), action="view", patient_id=alpha.pk)
            audit_record_many(
                Actor(user=director),
                action="view",
                object_type="roster",
                patient_ids=[alpha.pk, beta.pk],
            )

    entries(1)
    client.get(url, {"patient": alpha.mrn})  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"patient": alpha.mrn})
    entries(30)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url, {"patient": alpha.mrn})
    assert response.content.decode().count("<tr>") - 1 == 50  # one full page of alpha's entries


def test_an_entry_naming_many_patients_links_each_once_across_inserts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openiop.audit import services

    monkeypatch.setattr(services, "LINKS_PER_INSERT", 2)
    org = make_org()
    site = make_site(org)
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    patients = [make_patient(site, legal_last_name=f"Linkwell{i}") for i in range(5)]
    entry = audit_record_many(
        Actor(user=director),
        action="view",
        object_type="roster",
        patient_ids=[p.pk for p in patients] + [patients[0].pk],
    )
    assert sorted(entry.patients.values_list("patient_id", flat=True)) == sorted(
        p.pk for p in patients
    )
    assert entry.patient_id is None


def test_a_patients_log_merges_entries_naming_them_and_pages_that_showed_them_newest_first() -> (
    None
):
    from openiop.audit.selectors import audit_search

    org = make_org()
    site = make_site(org)
    auditor = make_user(Role.AUDITOR, sites=[site], org=org)
    alpha = make_patient(site, legal_last_name="Quasar")
    beta = make_patient(site, legal_last_name="Nebulon")
    actor = Actor(user=auditor)
    made = []
    for i in range(7):  # interleaved in time: named, shown among others, shown alone, elsewhere
        made.append(audit_record(actor, action="view", patient_id=alpha.pk, object_type=f"n{i}").pk)
        made.append(
            audit_record_many(
                actor, action="view", object_type=f"m{i}", patient_ids=[alpha.pk, beta.pk]
            ).pk
        )
        # One patient only: named on the entry and linked too, listed once.
        made.append(
            audit_record_many(actor, action="view", object_type=f"o{i}", patient_ids=[alpha.pk]).pk
        )
        audit_record(actor, action="view", patient_id=beta.pk, object_type=f"b{i}")
    log = audit_search(actor=actor, patient_id=alpha.pk)
    newest_first = sorted(made, reverse=True)  # at and id grow together here
    assert log.count() == len(made) == 21
    assert [i for i, _at in log[0:5]] == newest_first[0:5]
    assert [i for i, _at in log[5:10]] == newest_first[5:10]
    assert [i for i, _at in log[20:25]] == newest_first[20:]


def test_a_long_log_is_counted_only_up_to_its_cap_and_says_so(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openiop.audit.selectors import AuditLog

    monkeypatch.setattr(AuditLog, "COUNT_CAP", 60)
    org = make_org()
    site = make_site(org)
    auditor = make_user(Role.AUDITOR, sites=[site], org=org)
    patient = make_patient(site, legal_last_name="Longlogger")
    for i in range(70):
        audit_record(Actor(user=auditor), action="view", patient_id=patient.pk, object_type=f"v{i}")
    client.force_login(auditor)
    url = reverse("audit:log")
    body = client.get(url, {"patient": patient.mrn}).content.decode()
    assert "more than 60 in all" in body and "70 in all" not in body
    assert body.count("<tr>") - 1 == 50
    last = client.get(url, {"patient": patient.mrn, "page": "2"}).content.decode()
    assert last.count("<tr>") - 1 == 11  # up to the cap (and one): a date range reaches the rest
    assert "narrow the dates" in last


def test_links_carry_their_entrys_time_and_whether_it_names_the_patient() -> None:
    org = make_org()
    site = make_site(org)
    auditor = make_user(Role.AUDITOR, sites=[site], org=org)
    alpha, beta = (make_patient(site, legal_last_name=n) for n in ("Tachyon", "Muonette"))
    actor = Actor(user=auditor)
    shared = audit_record_many(
        actor, action="view", object_type="r", patient_ids=[alpha.pk, beta.pk]
    )
    alone = audit_record_many(actor, action="view", object_type="r", patient_ids=[beta.pk])
    rows = {
        (link.entry_id, link.patient_id): (link.at, link.on_entry)
        for e in (shared, alone)
        for link in e.patients.all()
    }
    assert rows == {
        (shared.pk, alpha.pk): (shared.at, False),
        (shared.pk, beta.pk): (shared.at, False),
        (alone.pk, beta.pk): (alone.at, True),
    }


def test_a_patients_linked_entries_obey_the_user_outcome_and_date_filters() -> None:
    from openiop.audit.selectors import audit_search

    org = make_org()
    site = make_site(org)
    auditor = make_user(Role.AUDITOR, sites=[site], org=org)
    other = make_user(Role.CLINICIAN, sites=[site], org=org)
    alpha, beta = (make_patient(site, legal_last_name=n) for n in ("Gluonby", "Bosonet"))
    pair = [alpha.pk, beta.pk]
    mine = audit_record_many(Actor(user=auditor), action="view", object_type="r", patient_ids=pair)
    theirs = audit_record_many(Actor(user=other), action="view", object_type="r", patient_ids=pair)
    denied = audit_record(
        Actor(user=other), action="view", patient_id=alpha.pk, object_type="c", outcome="denied"
    )
    actor = Actor(user=auditor)

    def ids(**filters: Any) -> set[int]:
        log = audit_search(actor=actor, patient_id=alpha.pk, **filters)
        return {i for i, _at in log[0 : log.count()]}

    assert ids() == {mine.pk, theirs.pk, denied.pk}
    assert ids(username=other.username) == {theirs.pk, denied.pk}
    assert ids(username=other.username, outcome="ok") == {theirs.pk}
    assert ids(outcome="denied") == {denied.pk}
    today = mine.at.date()
    assert ids(date_from=today + dt.timedelta(days=1)) == set()
    assert ids(date_from=today, date_to=today) == {mine.pk, theirs.pk, denied.pk}


@postgresql_only("the rows come with the count on PostgreSQL only")
def test_entries_not_shown_before_are_read_with_the_count() -> None:
    from openiop.audit.selectors import audit_search

    org = make_org()
    site = make_site(org)
    auditor = make_user(Role.AUDITOR, sites=[site], org=org)
    patient = make_patient(site, legal_last_name="Rowfold")
    actor = Actor(user=auditor)
    made = [
        audit_record(actor, action="view", patient_id=patient.pk, object_type=f"v{i}")
        for i in range(4)
    ]
    known = [made[0].pk, made[1].pk]
    log = audit_search(actor=actor, patient_id=patient.pk, expected=slice(0, 50), known=known)
    with CaptureQueriesContext(connection) as ctx:
        assert log.count() == 4
        assert [i for i, _at in log[0:50]] == [e.pk for e in reversed(made)]
    assert len(ctx.captured_queries) == 1
    assert set(log.rows) == {made[2].pk, made[3].pk}
    row = log.rows[made[3].pk]
    assert (row.object_type, row.patient_id, row.at) == ("v3", patient.pk, made[3].at)


def test_a_refusal_inside_a_page_naming_several_patients_links_each_as_denied() -> None:
    from openiop.audit.services import audit_denied, patients_if_denied

    org = make_org()
    site = make_site(org)
    auditor = make_user(Role.AUDITOR, sites=[site], org=org)
    alpha, beta = (make_patient(site, legal_last_name=n) for n in ("Refusia", "Deniston"))
    asked = []

    def resolve() -> list[int]:
        asked.append(1)
        return [alpha.pk, beta.pk]

    with patients_if_denied(resolve):
        audit_denied(Actor(user=auditor), patient_id=None, object_type="progress_note", reason="x")
        audit_denied(Actor(user=auditor), patient_id=None, object_type="note", reason="y")
    audit_denied(Actor(user=auditor), patient_id=None, object_type="outside", reason="z")
    first, second, outside = AuditEntry.objects.order_by("id")
    assert asked == [1]  # looked up once, on the first refusal
    for entry in (first, second):
        assert entry.outcome == "denied" and entry.patient_id is None
        assert sorted(entry.patients.values_list("patient_id", flat=True)) == [alpha.pk, beta.pk]
    assert outside.patient_id is None and not outside.patients.exists()


def test_the_log_shows_each_patients_mrn_and_current_name_not_their_id(
    client: Client, mfa_passed: None
) -> None:
    org = make_org()
    site = make_site(org)
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    alpha = make_patient(site, legal_first_name="Orla", legal_last_name="Quillfeather")
    beta = make_patient(site, legal_last_name="Nebulon")
    audit_record(Actor(user=director), action="view", patient_id=alpha.pk, object_type="chart")
    audit_record_many(
        Actor(user=director), action="view", object_type="roster", patient_ids=[alpha.pk, beta.pk]
    )
    client.force_login(director)
    url = reverse("audit:log")
    body = client.get(url).content.decode()
    assert f"<td>{alpha.mrn} · Orla Quillfeather</td>" in body
    assert f"<td>{alpha.pk}</td>" not in body
    # Searching alpha's trail: the roster that showed several names alpha, among others.
    body = client.get(url, {"patient": alpha.mrn}).content.decode()
    assert f"<td>{alpha.mrn} · Orla Quillfeather (with others)</td>" in body
    # A rendered row is kept, its patient cell is not: a new name shows at once.
    alpha.preferred_name = "Ro"
    alpha.save()
    body = client.get(url, {"patient": alpha.mrn}).content.decode()
    assert f"<td>{alpha.mrn} · Ro Quillfeather</td>" in body and "Orla" not in body


def test_the_chart_links_to_the_patients_audit_trail_for_roles_that_may_read_it(
    client: Client, mfa_passed: None
) -> None:
    org = make_org()
    site = make_site(org)
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org)
    patient = make_patient(site)
    chart = reverse("patients:chart", kwargs={"patient_id": patient.pk})
    trail = f'href="{reverse("audit:log")}?patient={patient.mrn}">Audit trail</a>'
    client.force_login(director)
    assert trail in client.get(chart).content.decode()
    client.force_login(clinician)
    body = client.get(chart).content.decode()
    assert client.get(chart).status_code == 200 and "Audit trail" not in body


def test_the_columns_passed_unconverted_are_what_the_fields_would_convert_them_to() -> None:
    """_save converts only the time and the JSON detail (services._ADAPTED); every other value an
    entry carries must be what its field's own conversion gives, or the fast path would differ."""
    from openiop.audit import services
    from openiop.audit.models import AuditAction, AuditOutcome

    user = make_user(Role.CLINICIAN, sites=[make_site(make_org())])
    actor = Actor(user=user, channel="fhir", client_addr="203.0.113.9", path="/fhir/R4/x")
    entry = services._entry(
        actor,
        action=AuditAction.VIEW,
        patient_id=42,
        object_type="fhir_Patient",
        object_id=42,
        outcome=AuditOutcome.DENIED,
        detail={"reason": "withheld", "n": [1, 2]},
    )
    fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
    assert len(fields) == len(services._ADAPTED)
    for field, adapted in zip(fields, services._ADAPTED, strict=True):
        value = getattr(entry, field.attname)
        converted = field.get_db_prep_save(value, connection)
        if adapted:
            assert field.name in ("at", "user_id", "patient_id", "detail")
        else:
            assert converted == value and type(converted) is type(value), field.name
    saved = audit_record(
        actor, action=AuditAction.VIEW, patient_id=42, object_type="t", detail={"k": 1}
    )
    row = AuditEntry.objects.get(pk=saved.pk)
    assert (row.action, row.outcome, row.detail, row.client_addr) == (
        "view",
        "ok",
        {"k": 1},
        "203.0.113.9",
    )
