from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.attendance.services import attendance_record
from openiop.attendance.tests.conftest import MONDAY
from openiop.audit.models import AuditEntry
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.episodes.models import Alert
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import audit_links_query, make_site, make_user, page_query_count

if TYPE_CHECKING:
    from openiop.admissions.models import AdmissionTask
    from openiop.attendance.tests.conftest import Group
    from openiop.episodes.models import Episode
    from openiop.programs.models import Site

pytestmark = pytest.mark.django_db


def _roster_url(session: GroupSession) -> str:
    return reverse("attendance:session", kwargs={"session_id": session.pk})


def test_roster_page_lists_the_enrolled_patients(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    body = client.get(_roster_url(group.sessions[0])).content.decode()
    assert "Pimpernel Applebough" in body and "Quintessa Bramblethorn" in body
    assert "0 of 2 recorded" in body


def test_all_present_then_an_exception_without_javascript(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    url = _roster_url(group.sessions[0])
    assert client.post(url, {"action": "all_present"}).status_code == 302
    late = Attendance.objects.get(episode=group.episodes[0])
    response = client.post(
        url,
        {
            "episode_id": group.episodes[0].pk,
            "version": late.version,
            "status": "late",
            "minutes_attended": "150",
            "comment": "bus was late",
        },
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert (late.status, late.minutes_attended, late.comment) == ("late", 150, "bus was late")


def test_htmx_row_post_returns_the_row_with_new_hours(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    response = client.post(
        _roster_url(group.sessions[0]),
        {
            "episode_id": group.episodes[0].pk,
            "version": 0,
            "status": "late",
            "minutes_attended": "150",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="row-{group.episodes[0].pk}"')
    assert "2.5 h" in body


def test_a_bad_row_keeps_what_was_typed_and_says_why(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    response = client.post(
        _roster_url(group.sessions[0]),
        {
            "episode_id": group.episodes[0].pk,
            "version": 0,
            "status": "late",
            "minutes_attended": "999",
            "comment": "typed note",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "between 0 and the session&#39;s 180" in body
    assert 'value="999"' in body and 'value="typed note"' in body
    assert not Attendance.objects.exists()


def _urgent_admission_task(site: Site, last_name: str, *, done: bool = False) -> AdmissionTask:
    """An open (or done) urgent admissions task at `site`, as a high-risk pre-screen leaves."""
    from openiop.admissions.models import AdmissionTask
    from openiop.admissions.services import inquiry_create
    from openiop.core.actor import Actor

    intake = make_user(Role.INTAKE, sites=[site], org=site.organization)
    inquiry = inquiry_create(
        site=site,
        by=Actor(user=intake, client_addr="127.0.0.1"),
        channel="call",
        referral_source="self",
        first_name="Urgent",
        last_name=last_name,
        phone="555-010-2020",
        concerns="mental_health",
        age_group="adult",
        urgency="urgent",
    )
    return AdmissionTask.objects.create(
        inquiry=inquiry,
        urgent=True,
        title=f"C-SSRS high risk for Urgent {last_name}: same-day safety evaluation",
        status="done" if done else "open",
    )


def _today_setup(group: Group, n_sessions: int, n_patients: int) -> None:
    today = timezone.localdate(timezone=group.site.tz)
    _urgent_admission_task(group.site, f"Taskholder{n_patients}")
    for _ in range(n_sessions):
        group.add_session(today)
    for i in range(n_patients):
        episode = group.add_patient(f"Extra{i}", "Gooseberry", start=today - dt.timedelta(days=7))
        # An individual session too: its row names the patient (loaded with the session).
        starts = dt.datetime.combine(today, dt.time(14, i % 4 * 15), tzinfo=group.site.tz)
        GroupSession.objects.create(
            site=group.site,
            episode=episode,
            kind="individual",
            title="Individual therapy",
            date=today,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=50),
            facilitator=group.clinician,
        )
        Alert.objects.create(
            patient=episode.patient,
            episode=episode,
            kind="consecutive_absences",
            message="missed twice",
            dedupe_key=f"k{i}",
        )
        _drug_test(episode, group.clinician, reason="random")
        _drug_test(episode, group.clinician, resulted=True, flagged=True)


def _drug_test(
    episode: Any,
    by: Any,
    *,
    reason: str = "scheduled",
    resulted: bool = False,
    flagged: bool = False,
) -> Any:
    """A drug test order of `episode` (ordered, or resulted with an open flag for the prescriber)."""
    from openiop.drugtests.models import DrugTestOrder, ReconciliationFlag

    at = timezone.now() - dt.timedelta(hours=2)
    order = DrugTestOrder.objects.create(
        patient=episode.patient,
        episode=episode,
        kind="poc_cup",
        reason=reason,
        status="resulted" if resulted else "ordered",
        ordered_by=by,
        ordered_at=at,
        collected_at=at if resulted else None,
        validity="valid" if resulted else "",
        resulted_at=at if resulted else None,
        resulted_by=by if resulted else None,
        part2=episode.part2_protected,
    )
    if flagged:
        ReconciliationFlag.objects.create(
            order=order,
            kind="unexplained",
            analyte="cocaine",
            message="Cocaine was found and nothing on the list explains it; worth a conversation.",
            part2=order.part2,
        )
    return order


def _count_queries(client: Client, url: str) -> int:
    return page_query_count(client, url)


def test_today_page_query_count_is_pinned_and_does_not_grow(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    _today_setup(group, n_sessions=1, n_patients=1)
    small = _count_queries(client, reverse("web:today"))
    _today_setup(group, n_sessions=5, n_patients=12)
    large = _count_queries(client, reverse("web:today"))
    assert "Individual therapy · Extra11 Gooseberry" in client.get(reverse("web:today")).text
    # session with user and sites, sites, sessions, enrolled counts, recorded counts, alerts,
    # audit entry, audit patients, open safety alerts (measures), open urgent admissions tasks,
    # drug tests due and unreconciled results per site (drugtests, issue 18.5: 2, was 9)
    assert small == large == 11 + audit_links_query()


def test_roster_page_query_count_is_pinned_and_does_not_grow(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    session = group.sessions[0]
    small = _count_queries(client, _roster_url(session))
    for i in range(13):
        episode = group.add_patient(f"Roster{i}", "Hazelnut")
        attendance_record(session=session, episode=episode, status="present", by=group.actor)
    large = _count_queries(client, _roster_url(session))
    # session with user and sites, the session, its attendance, enrolled, episodes, and the
    # week's ledger (enrollments, sessions, minutes), rides and childcare (casemgmt), audit
    # entry, audit patients
    assert small == large == 10 + audit_links_query()


def test_today_shows_sessions_and_alerts_and_billing_sees_no_alerts(
    group: Group, client: Client
) -> None:
    today = timezone.localdate(timezone=group.site.tz)
    group.add_session(today)
    Alert.objects.create(
        patient=group.episodes[0].patient,
        episode=group.episodes[0],
        kind="consecutive_absences",
        message="Missed two in a row",
        dedupe_key="t",
    )
    client.force_login(group.clinician)
    body = client.get(reverse("web:today")).content.decode()
    assert "Process group" in body and "Missed two in a row" in body
    client.force_login(make_user(Role.BILLING, sites=[group.site]))
    body = client.get(reverse("web:today")).content.decode()
    assert "Process group" in body and "Missed two in a row" not in body


def test_today_lists_open_urgent_admissions_tasks_of_the_site(
    group: Group, client: Client, mfa_passed: None
) -> None:
    """A high-risk pre-screen's urgent task shows on Today for staff who see admissions, with a
    link to the inquiry; done tasks and other sites' tasks do not."""
    task = _urgent_admission_task(group.site, "Nowbright")
    _urgent_admission_task(group.site, "Donealready", done=True)
    elsewhere = make_site(group.site.organization, name="Far Away (fictional)")
    _urgent_admission_task(elsewhere, "Farawayson")
    client.force_login(group.clinician)
    body = client.get(reverse("web:today")).content.decode()
    assert "Urgent Nowbright" in body
    assert reverse("admissions:inquiry", kwargs={"inquiry_id": task.inquiry_id}) in body
    assert "Donealready" not in body and "Farawayson" not in body
    client.force_login(make_user(Role.ADMIN, sites=[group.site]))  # no admissions access
    body = client.get(reverse("web:today")).content.decode()
    assert "Nowbright" not in body


def test_below_hours_lists_finished_weeks_under_the_minimum(group: Group, client: Client) -> None:
    # The week of MONDAY is finished; Pimpernel attended 1 of 4 sessions, Quintessa all.
    for i, session in enumerate(group.sessions):
        attendance_record(
            session=session, episode=group.episodes[1], status="present", by=group.actor
        )
        if i == 0:
            attendance_record(
                session=session, episode=group.episodes[0], status="present", by=group.actor
            )
    client.force_login(group.clinician)
    body = client.get(
        reverse("attendance:below_hours"), {"week": str(IsoWeek.of(MONDAY))}
    ).content.decode()
    assert "Pimpernel Applebough" in body
    assert "Quintessa Bramblethorn" not in body
    assert "Below minimum" in body
    week = str(IsoWeek.of(MONDAY))
    url = reverse("attendance:below_hours")
    mrn = group.episodes[0].patient.mrn
    assert "Pimpernel Applebough" in client.get(url, {"week": week, "q": mrn}).content.decode()
    none = client.get(url, {"week": week, "q": "nobodyhere"}).content.decode()
    assert "Pimpernel Applebough" not in none and "is on track" not in none
    assert "Nobody below the minimum" in none and "nobodyhere" in none


def test_below_hours_rejects_a_bad_week_and_keeps_it(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    body = client.get(reverse("attendance:below_hours"), {"week": "next tuesday"}).content.decode()
    assert "is not an ISO week" in body and 'value="next tuesday"' in body


def test_patient_hours_ledger_shows_weeks(group: Group, client: Client) -> None:
    for session in group.sessions[:2]:
        attendance_record(
            session=session, episode=group.episodes[0], status="present", by=group.actor
        )
    client.force_login(group.clinician)
    url = reverse("attendance:patient_hours", kwargs={"patient_id": group.episodes[0].patient_id})
    ledger = client.get(url)
    assert ledger.status_code == 200
    assert GroupSession.objects.count() == 4


def test_viewing_a_roster_is_audited_naming_every_patient_shown(
    group: Group, client: Client
) -> None:
    client.force_login(group.clinician)
    client.get(_roster_url(group.sessions[0]))
    entry = AuditEntry.objects.get(object_type="session_roster", action="view")
    assert set(entry.patients.values_list("patient_id", flat=True)) == {
        e.patient_id for e in group.episodes
    }


def test_a_clinician_of_another_site_cannot_open_the_roster(group: Group, client: Client) -> None:
    other = make_site(group.site.organization, name="Hilltop (fictional)")
    client.force_login(make_user(Role.CLINICIAN, sites=[other]))
    response = client.get(_roster_url(group.sessions[0]))
    assert response.status_code == 403
    assert "Applebough" not in response.content.decode()
    assert AuditEntry.objects.filter(object_type="session", outcome="denied").exists()


def test_a_case_manager_sees_the_roster_but_cannot_record(group: Group, client: Client) -> None:
    client.force_login(make_user(Role.CASE_MANAGER, sites=[group.site]))
    url = _roster_url(group.sessions[0])
    body = client.get(url).content.decode()
    assert "Pimpernel Applebough" in body and "All present" not in body
    client.post(url, {"action": "all_present"})
    assert not Attendance.objects.exists()


def test_a_stale_row_edit_says_someone_else_changed_it(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    session, episode = group.sessions[0], group.episodes[0]
    first = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    attendance_record(
        session=session,
        episode=episode,
        status="late",
        minutes_attended=120,
        expected_version=first.version,
        by=group.actor,
    )
    response = client.post(
        _roster_url(session),
        {"episode_id": episode.pk, "version": first.version, "status": "absent_excused"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert Attendance.objects.get().status == "late"


def test_acknowledging_an_alert_from_today_is_audited_and_ignores_a_foreign_next(
    group: Group, client: Client
) -> None:
    alert = Alert.objects.create(
        patient=group.episodes[0].patient,
        episode=group.episodes[0],
        kind="consecutive_absences",
        message="Missed two in a row",
        dedupe_key="ack",
    )
    client.force_login(group.clinician)
    url = reverse("attendance:alert_ack", kwargs={"alert_id": alert.pk})
    response = client.post(url, {"next": "https://phish.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("web:today")
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == group.clinician
    assert AuditEntry.objects.filter(object_type="alert", action="update").exists()
    assert client.get(url).status_code == 405


def test_billing_cannot_acknowledge_an_alert(group: Group, client: Client) -> None:
    alert = Alert.objects.create(
        patient=group.episodes[0].patient,
        episode=group.episodes[0],
        kind="consecutive_absences",
        message="Missed two in a row",
        dedupe_key="ack",
    )
    client.force_login(make_user(Role.BILLING, sites=[group.site]))
    response = client.post(reverse("attendance:alert_ack", kwargs={"alert_id": alert.pk}))
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"


def test_today_without_sessions_says_so(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    body = client.get(reverse("web:today")).content.decode()
    assert "No sessions at Riverbend (fictional) today." in body
    assert "No open alerts." in body


def test_today_for_a_user_without_a_site_explains_why_it_is_empty(
    group: Group, client: Client
) -> None:
    client.force_login(make_user(Role.CLINICIAN, sites=[]))
    body = client.get(reverse("web:today")).content.decode()
    assert "You are not assigned to a site yet." in body


def test_today_offers_a_site_chooser_and_shows_the_chosen_site(
    group: Group, client: Client
) -> None:
    other = make_site(group.site.organization, name="Hilltop (fictional)")
    clinician = make_user(Role.CLINICIAN, sites=[group.site, other])
    client.force_login(clinician)
    body = client.get(reverse("web:today"), {"site": other.pk}).content.decode()
    assert "Sessions at Hilltop (fictional)" in body and 'name="site"' in body


def test_today_counts_recorded_against_the_roster(
    group: Group, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = group.add_session(timezone.localdate(timezone=group.site.tz))
    Enrollment.objects.filter(episode__in=group.episodes).update(
        start_date=session.date - dt.timedelta(days=30)
    )
    # Recorded once today's 9:00 session has started, whatever the hour the suite runs at.
    monkeypatch.setattr(
        "openiop.attendance.services.now", lambda: session.starts_at + dt.timedelta(minutes=5)
    )
    attendance_record(session=session, episode=group.episodes[0], status="present", by=group.actor)
    client.force_login(group.clinician)
    body = client.get(reverse("web:today")).content.decode()
    assert "1 of 2 recorded" in body


def test_the_patient_hours_page_is_audited_and_refused_at_another_site(
    group: Group, client: Client
) -> None:
    patient_id = group.episodes[0].patient_id
    url = reverse("attendance:patient_hours", kwargs={"patient_id": patient_id})
    client.force_login(group.clinician)
    body = client.get(url).content.decode()
    assert "Weekly hours" in body and body.count("<tr") == 9  # header + 8 weeks
    assert AuditEntry.objects.filter(object_type="hours_ledger", patient_id=patient_id).exists()
    other = make_site(group.site.organization, name="Hilltop (fictional)")
    client.force_login(make_user(Role.CLINICIAN, sites=[other]))
    assert client.get(url).status_code == 403


def test_below_hours_query_count_does_not_grow_with_patients(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    url = reverse("attendance:below_hours") + f"?week={IsoWeek.of(MONDAY)}"
    small = _count_queries(client, url)
    for i in range(15):
        group.add_patient(f"Below{i}", "Quincewood")
    large = _count_queries(client, url)
    # session with user and sites, sites, episodes, the week's ledger (enrollments, sessions,
    # minutes), audit entry, audit patients
    assert small == large == 7 + audit_links_query()


def test_the_roster_masks_its_csrf_token_once_and_a_row_form_posts_with_it(group: Group) -> None:
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(group.clinician)
    body = client.get(_roster_url(group.sessions[0])).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert len(tokens) > len(group.episodes) and len(set(tokens)) == 1
    assert f'"X-CSRFToken": "{tokens[0]}"' in body
    response = client.post(
        _roster_url(group.sessions[0]),
        {
            "csrfmiddlewaretoken": tokens[0],
            "episode_id": group.episodes[0].pk,
            "version": 0,
            "status": "present",
            "minutes_attended": "180",
            "comment": "",
        },
    )
    assert response.status_code == 302
    assert Attendance.objects.filter(episode=group.episodes[0]).exists()
    refused = client.post(_roster_url(group.sessions[0]), {"action": "all_present"})
    assert refused.status_code == 403


def _row_version(body: str, episode: Episode) -> str:
    """The version a roster page's row form carries (0 for a row not recorded yet)."""
    found = re.search(rf'<tr id="row-{episode.pk}".*?name="version" value="(\d+)"', body, re.S)
    assert found is not None, "every row form carries a version"
    return found.group(1)


def test_a_second_first_write_from_a_stale_roster_is_told_and_keeps_the_first(
    group: Group, client: Client
) -> None:
    session, episode = group.sessions[0], group.episodes[0]
    colleague = Client()
    colleague.force_login(
        make_user(Role.CLINICIAN, sites=[group.site], org=group.site.organization)
    )
    client.force_login(group.clinician)
    url = _roster_url(session)
    mine = _row_version(client.get(url).content.decode(), episode)
    theirs = _row_version(colleague.get(url).content.decode(), episode)
    assert mine == theirs == "0"
    row = {"episode_id": episode.pk, "minutes_attended": "", "comment": ""}
    first = client.post(url, {**row, "version": mine, "status": "present"}, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    second = colleague.post(
        url, {**row, "version": theirs, "status": "absent_excused"}, HTTP_HX_REQUEST="true"
    )
    body = second.content.decode()
    assert second.status_code == 409
    assert "changed by someone else" in body and "Not saved" in body
    assert re.search(r'data-testid="recorded">Present · 180 min<', body)  # the stored value
    assert '<option value="absent_excused" selected>' in body  # the refused choice, kept
    stored = Attendance.objects.get(session=session, episode=episode)
    assert (stored.status, stored.minutes_attended, stored.version) == ("present", 180, 1)


@pytest.mark.parametrize("version", [None, "", "abc", "-1"])
def test_a_row_without_a_valid_version_is_refused_and_nothing_is_saved(
    group: Group, client: Client, version: str | None
) -> None:
    client.force_login(group.clinician)
    session, episode = group.sessions[0], group.episodes[0]
    recorded = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    data = {"episode_id": episode.pk, "status": "absent_excused", "minutes_attended": ""}
    if version is not None:
        data["version"] = version
    response = client.post(_roster_url(session), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "sent without a valid version" in response.content.decode()
    recorded.refresh_from_db()
    assert (recorded.status, recorded.version) == ("present", 1)


def test_a_tampered_patient_id_is_answered_on_the_roster_not_dropped(
    group: Group, client: Client
) -> None:
    client.force_login(group.clinician)
    url = _roster_url(group.sessions[0])
    data = {"episode_id": "999999", "version": 0, "status": "present"}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#roster-message"
    assert "not on this roster" in response.content.decode()
    page = client.post(url, {**data, "episode_id": "abc"}).content.decode()
    assert re.search(
        r'<div id="roster-message" role="alert"><p class="field-error">[^<]+</p>', page
    )
    assert not Attendance.objects.exists()


def test_a_refused_row_shows_the_stored_value_beside_the_refused_choice(
    group: Group, client: Client
) -> None:
    client.force_login(group.clinician)
    session, episode = group.sessions[0], group.episodes[0]
    recorded = attendance_record(session=session, episode=episode, status="present", by=group.actor)
    response = client.post(
        _roster_url(session),
        {
            "episode_id": episode.pk,
            "version": recorded.version,
            "status": "absent_unexcused",
            "minutes_attended": "60",
            "comment": "typed",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert 'class="row-refused"' in body and "Not saved" in body
    assert re.search(r'data-testid="recorded">Present · 180 min<', body)
    assert '<option value="absent_unexcused" selected>' in body and 'value="60"' in body
    assert "3.0 h of 9.0 h" in body  # this week's hours count only what was saved
    recorded.refresh_from_db()
    assert (recorded.status, recorded.minutes_attended) == ("present", 180)


def test_all_present_on_a_future_session_shows_why_on_the_roster(
    group: Group, client: Client
) -> None:
    session = group.add_session(local_today(group.site.tz) + dt.timedelta(days=2))
    client.force_login(group.clinician)
    response = client.post(_roster_url(session), {"action": "all_present"}, follow=True)
    body = response.content.decode()
    assert "This session has not started yet" in body and "9:00 AM" in body
    assert not Attendance.objects.filter(session=session).exists()


def test_a_row_for_a_future_session_says_why_and_keeps_what_was_typed(
    group: Group, client: Client
) -> None:
    session = group.add_session(local_today(group.site.tz) + dt.timedelta(days=2))
    client.force_login(group.clinician)
    response = client.post(
        _roster_url(session),
        {
            "episode_id": group.episodes[0].pk,
            "version": 0,
            "status": "late",
            "minutes_attended": "150",
            "comment": "typed ahead",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "This session has not started yet" in body
    assert 'value="150"' in body and "typed ahead" in body
    assert not Attendance.objects.filter(session=session).exists()


# --- drug tests on Today (issue 18.5) ----------------------------------------------------------
def _tests_section(body: str) -> str:
    start = body.index('data-section="drug-tests"')
    return body[start : body.index("</section>", start)]


def test_today_counts_tests_due_and_unreconciled_results_per_site_with_links(
    group: Group, client: Client
) -> None:
    first = group.add_patient("Tansy", "Fernwhistle")
    second = group.add_patient("Bramble", "Fernwhistle")
    _drug_test(first, group.clinician, reason="random")
    _drug_test(second, group.clinician)
    _drug_test(first, group.clinician, resulted=True, flagged=True)
    _drug_test(second, group.clinician, resulted=True)  # no flag: nothing to reconcile
    cancelled = _drug_test(second, group.clinician)
    cancelled.status = "cancelled"
    cancelled.save()
    # A site the clinician does not work at: its tests are not theirs to count.
    elsewhere = make_site(group.site.organization, name="Quillmoor (fictional)")
    from openiop.testing import make_episode, make_patient

    far = make_episode(make_patient(elsewhere, legal_first_name="Nettle", legal_last_name="Far"))
    _drug_test(far, group.clinician)
    _drug_test(far, group.clinician, resulted=True, flagged=True)
    client.force_login(group.clinician)
    section = _tests_section(client.get(reverse("web:today")).text)
    row = re.search(r"<tr><td>Riverbend \(fictional\)</td>(.*?)</tr>", section, re.S)
    assert row is not None, section
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[0].startswith("2 ") and "1 from the random draw" in cells[0]
    assert cells[1].startswith("1 ")
    assert f"{reverse('drugtests:draw')}?site={group.site.pk}" in cells[0]
    assert f"{reverse('drugtests:flags')}?site={group.site.pk}" in cells[1]
    assert "Quillmoor" not in section


def test_the_director_sees_the_sites_drug_test_work_but_no_draw_link(
    group: Group, client: Client, mfa_passed: None
) -> None:
    """The director reads results (Cap.DRUGTEST_VIEW) and oversees the sites: the counts and the
    flags link, not the draw, which only those who record tests run."""
    episode = group.add_patient("Tansy", "Fernwhistle")
    _drug_test(episode, group.clinician, reason="random")
    _drug_test(episode, group.clinician, resulted=True, flagged=True)
    client.force_login(make_user(Role.DIRECTOR, sites=[group.site], org=group.site.organization))
    section = _tests_section(client.get(reverse("web:today")).text)
    assert "Riverbend (fictional)" in section and "1 from the random draw" in section
    assert f"{reverse('drugtests:flags')}?site={group.site.pk}" in section
    assert reverse("drugtests:draw") not in section


def test_today_says_when_no_test_waits(group: Group, client: Client) -> None:
    client.force_login(group.clinician)
    section = _tests_section(client.get(reverse("web:today")).text)
    assert "No tests due and no results waiting for the prescriber." in section


@pytest.mark.parametrize("role", [Role.BILLING, Role.INTAKE, Role.CASE_MANAGER, Role.ADMIN])
def test_roles_that_do_not_see_test_results_see_no_drug_tests_on_today(
    group: Group, client: Client, role: Role
) -> None:
    episode = group.add_patient("Tansy", "Fernwhistle")
    _drug_test(episode, group.clinician)
    _drug_test(episode, group.clinician, resulted=True, flagged=True)
    client.force_login(make_user(role, sites=[group.site], org=group.site.organization))
    body = client.get(reverse("web:today")).text
    assert 'data-section="drug-tests"' not in body
    assert "Drug tests at your sites" not in body


def test_the_prescriber_sees_the_results_waiting_for_them_on_today(
    group: Group, client: Client
) -> None:
    episode = group.add_patient("Tansy", "Fernwhistle")
    _drug_test(episode, group.clinician, resulted=True, flagged=True)
    client.force_login(make_user(Role.PRESCRIBER, sites=[group.site], org=group.site.organization))
    section = _tests_section(client.get(reverse("web:today")).text)
    assert "Riverbend (fictional)" in section and reverse("drugtests:flags") in section
