"""The case management pages: what each shows, who may open it, wrong input kept, query counts
pinned; the roster's van label and the discharge summary's referrals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.casemgmt import services
from openiop.casemgmt.models import CaseTask, Referral, SupportRequest
from openiop.casemgmt.tests.conftest import Casework
from openiop.testing import audit_links_query, make_user, page_query_count

pytestmark = pytest.mark.django_db


def _file_url(episode: Any) -> str:
    return reverse("casemgmt:patient", kwargs={"patient_id": episode.patient_id})


# --- the directory ---------------------------------------------------------------------------
def test_the_directory_searches_filters_and_pages(cw: Casework, client: Client) -> None:
    for i in range(30):
        cw.resource(f"Meeting {i:02d} (fictional)", kind="support_group", address="Elm Hall")
    cw.resource("Bramble Legal Aid (fictional)", kind="legal", address="3 Court St")
    cw.resource("Closed Clinic (fictional)", kind="legal", active=False)
    client.force_login(cw.case_manager)
    url = reverse("casemgmt:resources")
    body = client.get(url).text
    assert "Page 1 of 2 · 31 in all" in body
    body = client.get(url, {"q": "court"}).text
    assert "Bramble Legal Aid" in body and "Meeting 00" not in body
    body = client.get(url, {"kind": "legal"}).text
    assert "Bramble Legal Aid" in body and "Closed Clinic" not in body
    body = client.get(url, {"kind": "legal", "inactive": "on"}).text
    assert "Closed Clinic" in body


def test_the_directory_query_count_does_not_grow(cw: Casework, client: Client) -> None:
    client.force_login(cw.case_manager)
    url = reverse("casemgmt:resources")
    cw.resource("Only One (fictional)")
    small = page_query_count(client, url)
    for i in range(20):
        cw.resource(f"Another {i} (fictional)")
    assert page_query_count(client, url) == small


def test_a_resource_form_with_errors_keeps_what_was_typed(cw: Casework, client: Client) -> None:
    client.force_login(cw.case_manager)
    response = client.post(
        reverse("casemgmt:resource_new") + f"?site={cw.site.pk}",
        {"kind": "housing", "name": "", "address": "99 Typed Avenue", "active": "on"},
    )
    assert response.status_code == 200
    assert "99 Typed Avenue" in response.text and "This field is required" in response.text
    response = client.post(
        reverse("casemgmt:resource_new") + f"?site={cw.site.pk}",
        {"kind": "housing", "name": "Larkspur Shelter (fictional)", "active": "on"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.CASE_MANAGER, True),
        (Role.DIRECTOR, True),
        (Role.CLINICIAN, False),
        (Role.INTAKE, False),
        (Role.BILLING, False),
    ],
)
def test_who_may_open_the_case_file(
    cw: Casework, client: Client, role: Role, allowed: bool, mfa_passed: Any
) -> None:
    episode = cw.patient()
    user = make_user(role, sites=[cw.site], org=cw.org)
    client.force_login(user)
    response = client.get(_file_url(episode))
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert AuditEntry.objects.filter(user_id=user.pk, outcome="denied").exists()


# --- the case file ---------------------------------------------------------------------------
def test_a_referral_from_the_case_file(cw: Casework, client: Client) -> None:
    episode = cw.patient()
    resource = cw.resource()
    client.force_login(cw.case_manager)
    response = client.post(
        _file_url(episode), {"action": "referral", "ref-resource": str(resource.pk)}
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.part2 and referral.created_by == cw.case_manager
    body = client.get(_file_url(episode)).text
    assert "Juniper House" in body and "Proposed" in body
    assert AuditEntry.objects.filter(
        object_type="casework", patient_id=episode.patient_id, action="view"
    ).exists()


def test_a_wrong_referral_move_keeps_what_was_typed(cw: Casework, client: Client) -> None:
    episode = cw.patient()
    referral = services.referral_create(episode=episode, resource=cw.resource(), by=cw.cm)
    client.force_login(cw.case_manager)
    p = f"upd{referral.pk}-"
    response = client.post(
        _file_url(episode),
        {
            "action": "referral_update",
            "referral": str(referral.pk),
            p + "referral": str(referral.pk),
            p + "version": "1",
            p + "status": "completed",
            p + "follow_up_on": "",
            p + "outcome": "Typed outcome stays",
        },
    )
    assert response.status_code == 422
    assert "cannot become completed" in response.text
    assert "Typed outcome stays" in response.text
    referral.refresh_from_db()
    assert referral.status == "proposed" and referral.outcome == ""


def test_a_ride_form_with_errors_keeps_what_was_typed(cw: Casework, client: Client) -> None:
    episode = cw.patient()
    client.force_login(cw.case_manager)
    response = client.post(
        _file_url(episode),
        {
            "action": "request",
            "req-session": str(cw.sessions[1].pk),
            "req-kind": "transportation",
            "req-pickup_address": "",
            "req-pickup_time": "22:10",
            "req-notes": "Typed note: wheelchair lift",
        },
    )
    assert response.status_code == 422
    assert "Enter the pickup address." in response.text
    assert "Typed note: wheelchair lift" in response.text and 'value="22:10"' in response.text
    assert not SupportRequest.objects.exists()
    response = client.post(
        _file_url(episode),
        {
            "action": "request",
            "req-session": "999999",  # not a session offered
            "req-kind": "transportation",
            "req-pickup_address": "7 Hollyhock Row",
        },
    )
    assert response.status_code == 422  # the form's own error: not a choice offered
    assert "7 Hollyhock Row" in response.text and "Select a valid choice" in response.text


def test_the_case_file_query_count_does_not_grow(cw: Casework, client: Client) -> None:
    episode = cw.patient()
    client.force_login(cw.case_manager)
    url = _file_url(episode)
    services.referral_create(episode=episode, resource=cw.resource(), by=cw.cm)
    small = page_query_count(client, url)
    for i in range(6):
        services.referral_create(
            episode=episode, resource=cw.resource(f"Place {i} (fictional)"), by=cw.cm
        )
    for session in cw.sessions[1:]:
        services.support_request_create(
            episode=episode, session=session, kind="childcare", by=cw.cm
        )
        services.task_create(
            site=cw.site,
            owner=cw.case_manager,
            title="t",
            due_on=session.date,
            episode=episode,
            by=cw.cm,
        )
    assert page_query_count(client, url) == small


# --- My tasks --------------------------------------------------------------------------------
def _task(cw: Casework, title: str, due: int, *, done: bool = False, owner: Any = None) -> Any:
    episode = cw.patient(title.split()[0])
    task = services.task_create(
        site=cw.site,
        owner=owner or cw.case_manager,
        title=title,
        due_on=cw.today + dt.timedelta(days=due),
        episode=episode,
        by=cw.cm,
    )
    if done:
        services.task_set_done(task=task, done=True, by=cw.cm)
    return task


def test_my_tasks_open_overdue_and_done_by_due_date(cw: Casework, client: Client) -> None:
    _task(cw, "Later call", 5)
    _task(cw, "Today call", 0)
    _task(cw, "Late call", -2)
    _task(cw, "Done call", -1, done=True)
    _task(cw, "Someone else's call", 1, owner=cw.director)
    client.force_login(cw.case_manager)
    url = reverse("casemgmt:tasks")
    body = client.get(url).text
    assert body.index("Today call") < body.index("Later call")
    assert "Late call" not in body and "Done call" not in body and "Someone else" not in body
    assert "Open (2)" in body and "Overdue (1)" in body and "Done (1)" in body
    overdue = client.get(url, {"view": "overdue"}).text
    assert "Late call" in overdue and "Today call" not in overdue
    assert "Done call" in client.get(url, {"view": "done"}).text
    entry = AuditEntry.objects.filter(object_type="my_tasks").latest("id")
    assert entry.patients.count() == 1  # the done list names its one patient


def test_a_task_is_done_from_my_tasks(cw: Casework, client: Client) -> None:
    task = _task(cw, "Pantry call", 0)
    client.force_login(cw.case_manager)
    response = client.post(reverse("casemgmt:tasks"), {"task": str(task.pk), "action": "done"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None


# The session with its user, the count and the page of open tasks (with patients and sites), the
# counts of the three lists, the audit entry naming the patients shown (plus links on SQLite).
MY_TASKS_QUERIES = 5 + audit_links_query()


def test_my_tasks_query_count_does_not_grow(cw: Casework, client: Client) -> None:
    client.force_login(cw.case_manager)
    url = reverse("casemgmt:tasks")
    _task(cw, "First call", 1)
    small = page_query_count(client, url)
    assert small == MY_TASKS_QUERIES
    for i in range(8):
        _task(cw, f"Call{i} about housing", i)
    assert page_query_count(client, url) == small
    assert CaseTask.objects.count() == 9


# --- on other pages --------------------------------------------------------------------------
def test_the_roster_shows_who_comes_by_van_and_hides_cancelled_rides(
    cw: Casework, client: Client
) -> None:
    session = cw.sessions[1]
    van = cw.patient("Vanessa", "Ridewell")
    cancelled = cw.patient("Cornelius", "Stayhome")
    walker = cw.patient("Wilhelmina", "Walksalot")
    ride = services.support_request_create(
        episode=van,
        session=session,
        kind="transportation",
        pickup_address="7 Hollyhock Row",
        pickup_time=dt.time(22, 15),
        by=cw.cm,
    )
    services.support_request_set_status(request=ride, status="booked", expected_version=1, by=cw.cm)
    other = services.support_request_create(
        episode=cancelled, session=session, kind="transportation", pickup_address="x", by=cw.cm
    )
    services.support_request_set_status(
        request=other, status="cancelled", expected_version=1, by=cw.cm
    )
    # A ride to another session does not show on this one.
    services.support_request_create(
        episode=walker, session=cw.sessions[2], kind="transportation", pickup_address="y", by=cw.cm
    )
    client.force_login(cw.clinician)
    body = client.get(reverse("attendance:session", kwargs={"session_id": session.pk})).text
    rows = {
        name: body[body.index(f"row-{e.pk}") :].split("</tr>")[0]
        for name, e in (("van", van), ("cancelled", cancelled), ("walker", walker))
    }
    assert "Van (booked) · pickup 10:15 PM" in rows["van"]
    assert "roster-support" not in rows["cancelled"]
    assert "roster-support" not in rows["walker"]


def test_the_roster_query_count_stays_fixed_with_rides(cw: Casework, client: Client) -> None:
    session = cw.sessions[1]
    url = reverse("attendance:session", kwargs={"session_id": session.pk})
    client.force_login(cw.clinician)
    cw.patient("Solo")
    small = page_query_count(client, url)
    for i in range(6):
        episode = cw.patient(f"Rider{i}")
        services.support_request_create(
            episode=episode, session=session, kind="transportation", pickup_address="z", by=cw.cm
        )
    assert page_query_count(client, url) == small
    # The roster's own pinned count (attendance tests) is 10 with the rides' one query.
    assert small == 10 + audit_links_query()


def test_the_discharge_summary_lists_open_and_completed_referrals(
    cw: Casework, client: Client
) -> None:
    from openiop.treatment.services import discharge_facts

    episode = cw.patient()
    kept = services.referral_create(
        episode=episode, resource=cw.resource("Kept Place (fictional)"), by=cw.cm
    )
    done = services.referral_create(
        episode=episode, resource=cw.resource("Done Place (fictional)"), by=cw.cm
    )
    for status, version in (("accepted", 1), ("completed", 2)):
        services.referral_update(
            referral=done,
            status=status,
            follow_up_on=None,
            outcome="",
            expected_version=version,
            by=cw.cm,
        )
    dropped = services.referral_create(
        episode=episode, resource=cw.resource("Dropped Place (fictional)"), by=cw.cm
    )
    services.referral_update(
        referral=dropped,
        status="declined",
        follow_up_on=None,
        outcome="",
        expected_version=1,
        by=cw.cm,
    )
    facts = discharge_facts(episode)
    assert [(r["name"], r["status"]) for r in facts["community_referrals"]] == [
        ("Kept Place (fictional)", "Proposed"),
        ("Done Place (fictional)", "Completed"),
    ]
    assert kept.pk
    from openiop.treatment.services import discharge_summary_start

    discharge_summary_start(episode=episode, by=cw.actor(cw.clinician))
    client.force_login(cw.case_manager)  # clinical view: reads the summary, writes none of it
    body = client.get(reverse("treatment:discharge", kwargs={"episode_id": episode.pk})).text
    assert "Community referrals" in body and "Done Place (fictional)" in body
    assert "Dropped Place" not in body


def test_a_case_manager_is_refused_note_text(cw: Casework, client: Client) -> None:
    episode = cw.patient()
    client.force_login(cw.case_manager)
    response = client.get(reverse("notes:patient_notes", kwargs={"patient_id": episode.patient_id}))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(
        user_id=cw.case_manager.pk, outcome="denied", patient_id=episode.patient_id
    ).exists()


def test_task_owners_offered_are_the_sites_case_managers_and_the_director(
    cw: Casework, client: Client
) -> None:
    make_user(Role.CASE_MANAGER, sites=[cw.other_site], org=cw.org, last_name="Farawayer")
    episode = cw.patient()
    client.force_login(cw.case_manager)
    body = client.get(_file_url(episode)).text
    owners = body[body.index('id="id_task-owner"') :].split("</select>")[0]
    assert "Rosalind Ferncastle" in owners
    assert cw.director.last_name in owners
    assert "Farawayer" not in owners and cw.clinician.last_name not in owners


def test_a_summary_written_before_case_management_still_opens(cw: Casework, client: Client) -> None:
    from openiop.treatment.models import DischargeSummary
    from openiop.treatment.services import discharge_summary_start

    episode = cw.patient()
    summary = discharge_summary_start(episode=episode, by=cw.actor(cw.clinician))
    facts = dict(summary.facts)
    facts.pop("community_referrals")
    DischargeSummary.objects.filter(pk=summary.pk).update(facts=facts, status="signed")
    client.force_login(cw.case_manager)
    response = client.get(reverse("treatment:discharge", kwargs={"episode_id": episode.pk}))
    assert response.status_code == 200
    assert "No open or completed community referrals on record." in response.text
