"""Pages: render for the roles that use them, keep input on errors, pin the schedule's queries."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.programs import services
from openiop.programs.models import Closure, Enrollment, GroupSession
from openiop.testing import audit_links_query, make_track, make_user

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django import DjangoAssertNumQueries

    from openiop.programs.tests.conftest import Clinic

D = dt.date
# Login session with the user and their sites, the director's verified two-factor device; the chosen site (validated, then the site choices
# rendered); the week's sessions with track, room, facilitator and patient; one audit entry and its
# patient links (one insert). The session is not written (renewed less than a minute ago). Fixed,
# whatever the number of sessions.
QUERIES = 6 + audit_links_query()


@pytest.fixture
def director_client(client: Any, clinic: Any, mfa_passed: Any) -> Any:
    client.force_login(clinic.director)
    return client


def generate(clinic: Any) -> None:
    services.sessions_generate(
        track=clinic.track, start=D(2026, 3, 2), end=D(2026, 3, 15), by=clinic.by
    )


def test_every_page_renders_for_a_director(director_client: Any, clinic: Clinic) -> None:
    generate(clinic)
    episode = clinic.episode()
    enrollment = services.enrollment_start(
        episode=episode, track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
    )
    session = GroupSession.objects.filter(track=clinic.track).earliest("starts_at")
    pages = [
        reverse("programs:track_list"),
        reverse("programs:track_create"),
        reverse("programs:track_detail", kwargs={"track_id": clinic.track.pk}),
        reverse("programs:block_add", kwargs={"track_id": clinic.track.pk}),
        reverse("programs:curriculum", kwargs={"track_id": clinic.track.pk}),
        reverse("programs:block_series", kwargs={"block_id": clinic.monday.pk}),
        reverse("programs:schedule"),
        reverse("programs:session_edit", kwargs={"session_id": session.pk}),
        reverse("programs:closures"),
        reverse("programs:enroll", kwargs={"episode_id": episode.pk}),
        reverse("programs:appointment_book", kwargs={"episode_id": episode.pk}),
        reverse("programs:enrollment_end", kwargs={"enrollment_id": enrollment.pk}),
    ]
    for url in pages:
        response = director_client.get(url)
        assert response.status_code == 200, url


def test_track_list_searches_paginates_and_shows_an_empty_state(
    director_client: Any, clinic: Clinic
) -> None:
    for n in range(30):
        make_track(clinic.site, name=f"Evening Zither Group {n:02d}")
    body = director_client.get(reverse("programs:track_list") + "?q=zither").content.decode()
    assert "Evening Zither Group 00" in body and "Adult Day IOP (test)" not in body
    assert "Page 1 of 2" in body
    body = director_client.get(
        reverse("programs:track_list") + "?q=nothing-like-this"
    ).content.decode()
    assert "No tracks match" in body


def test_track_detail_shows_enrolled_count_against_capacity(
    director_client: Any, clinic: Clinic
) -> None:
    services.enrollment_start(
        episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 1), by=clinic.by
    )
    body = director_client.get(
        reverse("programs:track_detail", kwargs={"track_id": clinic.track.pk})
    ).content.decode()
    assert "1 of 10" in body
    assert "Process group" in body and "Skills workshop" in body


def test_generate_form_reports_result_and_keeps_input_on_error(
    director_client: Any, clinic: Clinic
) -> None:
    url = reverse("programs:track_detail", kwargs={"track_id": clinic.track.pk})
    response = director_client.post(url, {"start": "2026-03-20", "end": "2026-03-02"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "The end date is before the start date." in body
    assert 'value="2026-03-20"' in body and 'value="2026-03-02"' in body
    response = director_client.post(url, {"start": "2026-03-02", "end": "2026-03-15"}, follow=True)
    assert "Generated 4 new sessions" in response.content.decode()


def test_schedule_defaults_to_first_site_this_week_and_links_sessions_to_rosters(
    client: Client, clinic: Clinic
) -> None:
    generate(clinic)
    client.force_login(clinic.clinician)  # works at Riverbend only
    body = client.get(reverse("programs:schedule")).content.decode()
    assert "Riverbend (fictional) · week of" in body
    assert "week of Mar 2, 2026" in body
    session = GroupSession.objects.get(block=clinic.monday, date=D(2026, 3, 2))
    assert f'href="/attendance/sessions/{session.pk}/"' in body
    assert "9:00 AM" in body


def test_schedule_query_count_does_not_grow_with_sessions(
    director_client: Any, clinic: Clinic, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    def book(kind: str, day: int, hour: int) -> None:
        services.appointment_book(
            episode=clinic.episode(),
            facilitator=clinic.clinician2,
            kind=kind,
            date=D(2026, 3, day),
            start_time=dt.time(hour, 0),
            duration_minutes=50,
            room=None,
            title="",
            by=clinic.by,
        )

    generate(clinic)
    book("individual", 3, 13)
    url = reverse("programs:schedule") + f"?site={clinic.site.pk}&week=2026-W10"
    director_client.get(url)  # warm the session
    with django_assert_num_queries(QUERIES):
        director_client.get(url)

    other = make_track(clinic.site, name="Extra Track")
    for day in range(5):
        services.block_add(
            track=other,
            weekday=day,
            start_time=dt.time(13, 0),
            duration_minutes=60,
            kind="holistic",
            title="Yoga",
            facilitator=clinic.clinician,
            room=clinic.room,
            valid_from=D(2026, 1, 1),
            by=clinic.by,
        )
    services.sessions_generate(track=other, start=D(2026, 3, 2), end=D(2026, 3, 8), by=clinic.by)
    for hour in (14, 15, 16):
        book("family", 4, hour)
    assert GroupSession.objects.filter(date__range=(D(2026, 3, 2), D(2026, 3, 8))).count() == 11
    with django_assert_num_queries(QUERIES):
        body = director_client.get(url).content.decode()
    assert "Wobbleton" in body  # patients of appointments, named for a director (and audited)
    assert AuditEntry.objects.filter(object_type="schedule").exists()


def test_admin_sees_the_schedule_without_patient_names(
    client: Client, clinic: Clinic, mfa_passed: None
) -> None:
    admin = make_user(Role.ADMIN, sites=[clinic.site], org=clinic.org)
    services.appointment_book(
        episode=clinic.episode(),
        facilitator=clinic.clinician,
        kind="individual",
        date=D(2026, 3, 3),
        start_time=dt.time(13, 0),
        duration_minutes=50,
        room=None,
        title="",
        by=clinic.by,
    )
    client.force_login(admin)
    body = client.get(reverse("programs:schedule")).content.decode()
    assert "Individual therapy" in body and "Wobbleton" not in body


def test_clinician_may_view_but_not_manage_the_schedule(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.clinician)
    assert client.get(reverse("programs:schedule")).status_code == 200
    assert client.get(reverse("programs:closures")).status_code == 403
    url = reverse("programs:track_detail", kwargs={"track_id": clinic.track.pk})
    assert client.post(url, {"start": "2026-03-02", "end": "2026-03-08"}).status_code == 403
    assert GroupSession.objects.count() == 0
    assert AuditEntry.objects.filter(user_id=clinic.clinician.pk, outcome="denied").count() == 2


def test_session_move_conflict_is_a_form_error_that_keeps_input(
    director_client: Any, clinic: Clinic
) -> None:
    generate(clinic)
    session = GroupSession.objects.get(block=clinic.monday, date=D(2026, 3, 9))
    stale = session.version
    services.session_reassign(
        session=session, expected_version=stale, facilitator=clinic.clinician2, by=clinic.by
    )
    url = reverse("programs:session_edit", kwargs={"session_id": session.pk})
    body = director_client.post(
        url,
        {
            "action": "move",
            "move-version": stale,
            "move-date": "2026-03-10",
            "move-start_time": "13:30",
            "move-room": clinic.room.pk,
        },
    ).content.decode()
    assert "changed by someone else" in body
    assert 'value="2026-03-10"' in body and 'value="13:30"' in body
    session.refresh_from_db()
    assert session.date == D(2026, 3, 9)


def test_cancelling_asks_for_confirmation_first(director_client: Any, clinic: Clinic) -> None:
    generate(clinic)
    session = GroupSession.objects.get(block=clinic.monday, date=D(2026, 3, 9))
    url = reverse("programs:session_edit", kwargs={"session_id": session.pk})
    data = {
        "action": "cancel",
        "cancel-version": session.version,
        "cancel-reason": "Facilitator ill",
    }
    body = director_client.post(url, data).content.decode()
    assert "Yes, cancel this session" in body
    session.refresh_from_db()
    assert not session.is_cancelled
    director_client.post(url, {**data, "cancel-confirm": "1"})
    session.refresh_from_db()
    assert session.is_cancelled and session.cancel_reason == "Facilitator ill"


def test_series_edit_page_changes_future_sessions(director_client: Any, clinic: Clinic) -> None:
    generate(clinic)
    url = reverse("programs:block_series", kwargs={"block_id": clinic.monday.pk})
    data = {
        "effective_date": "2026-03-09",
        "weekday": "0",
        "start_time": "10:00",
        "duration_minutes": "180",
        "kind": "group_therapy",
        "title": "Process group",
        "facilitator": clinic.clinician.pk,
        "room": clinic.nook.pk,
    }
    for _ in range(3):
        services.enrollment_start(
            episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
        )
    body = director_client.post(url, data).content.decode()
    assert "Tiny Nook seats 2" in body and 'value="10:00"' in body
    response = director_client.post(url, {**data, "room": clinic.room.pk})
    assert response.status_code == 302
    moved = GroupSession.objects.get(track=clinic.track, date=D(2026, 3, 9), kind="group_therapy")
    assert moved.starts_at.hour == 15  # 10:00 CDT


def test_closure_confirmation_shows_how_many_sessions_it_cancels(
    director_client: Any, clinic: Clinic
) -> None:
    generate(clinic)
    url = reverse("programs:closures")
    data = {"date": "2026-03-09", "site": "", "name": "Founders Day"}
    body = director_client.post(url, data).content.decode()
    assert "will cancel <strong>1 scheduled session</strong>" in body
    assert not Closure.objects.exists()
    response = director_client.post(url, {**data, "confirm": "1"}, follow=True)
    assert "1 session cancelled" in response.content.decode()
    assert GroupSession.objects.get(block=clinic.monday, date=D(2026, 3, 9)).is_cancelled


def test_enroll_form_keeps_input_on_a_capacity_error(director_client: Any, clinic: Clinic) -> None:
    clinic.track.capacity = 1
    clinic.track.save()
    services.enrollment_start(
        episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
    )
    episode = clinic.episode()
    url = reverse("programs:enroll", kwargs={"episode_id": episode.pk})
    body = director_client.post(
        url, {"track": clinic.track.pk, "start_date": "2026-03-16"}
    ).content.decode()
    assert "is full: 1 of 1 places are taken" in body
    assert 'value="2026-03-16"' in body
    assert not Enrollment.objects.filter(episode=episode).exists()
    assert AuditEntry.objects.filter(
        object_type="enrollment", patient_id=episode.patient_id
    ).exists()


def test_booking_an_individual_session_from_the_episode(
    director_client: Any, clinic: Clinic
) -> None:
    episode = clinic.episode()
    url = reverse("programs:appointment_book", kwargs={"episode_id": episode.pk})
    data = {
        "kind": "individual",
        "facilitator": clinic.clinician.pk,
        "date": "2026-03-03",
        "start_time": "14:00",
        "duration_minutes": "50",
        "room": "",
        "title": "",
    }
    response = director_client.post(url, data)
    assert response.status_code == 302
    session = GroupSession.objects.get(episode=episode)
    assert session.track_id is None and session.kind == "individual"
    body = director_client.post(url, {**data, "facilitator": clinic.clinician.pk}).content.decode()
    assert "already facilitates Individual therapy" in body and 'value="14:00"' in body
