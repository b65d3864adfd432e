"""Services: generation, closures, occurrence and series changes, enrollment and capacity, audit."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.programs import services
from openiop.programs.models import (
    Closure,
    CurriculumTopic,
    Enrollment,
    GroupSession,
    TrackBlock,
)
from openiop.programs.tests.conftest import CHICAGO, roster
from openiop.testing import make_block, make_room, make_track

if TYPE_CHECKING:
    from openiop.programs.tests.conftest import Clinic

D = dt.date
FIRST_MONDAY = D(2026, 3, 2)
LAST_SUNDAY = D(2026, 3, 29)


def generate(clinic: Any, start: dt.date = FIRST_MONDAY, end: dt.date = LAST_SUNDAY) -> int:
    return services.sessions_generate(track=clinic.track, start=start, end=end, by=clinic.by)


def session_on(clinic: Any, day: dt.date, block: Any = None) -> GroupSession:
    return GroupSession.objects.get(track=clinic.track, block=block or clinic.monday, date=day)


# --- generation -----------------------------------------------------------------------------


def test_generation_is_idempotent(clinic: Clinic) -> None:
    assert generate(clinic) == 8  # 4 Mondays + 4 Wednesdays
    assert generate(clinic) == 0
    assert generate(clinic, end=D(2026, 4, 5)) == 2
    assert GroupSession.objects.filter(track=clinic.track).count() == 10
    entry = AuditEntry.objects.filter(object_type="track_sessions").latest("id")
    assert entry.detail["created"] == 2
    assert entry.username == clinic.director.username


def test_generated_sessions_keep_nine_local_across_spring_forward(clinic: Clinic) -> None:
    generate(clinic)
    before, after = session_on(clinic, D(2026, 3, 2)), session_on(clinic, D(2026, 3, 9))
    assert before.starts_at.astimezone(CHICAGO).time() == dt.time(9, 0)
    assert after.starts_at.astimezone(CHICAGO).time() == dt.time(9, 0)
    assert (before.starts_at.astimezone(dt.UTC).hour, after.starts_at.astimezone(dt.UTC).hour) == (
        15,
        14,
    )
    assert after.duration_minutes == 180


def test_generation_refuses_backwards_and_huge_ranges(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation, match="before the start") as exc:
        generate(clinic, start=D(2026, 3, 9), end=D(2026, 3, 2))
    assert exc.value.field == "end"
    with pytest.raises(RuleViolation, match="at most 366 days"):
        generate(clinic, start=D(2026, 3, 2), end=D(2062, 3, 2))


def test_sessions_on_a_closure_are_generated_cancelled_with_its_name(clinic: Clinic) -> None:
    Closure.objects.create(
        organization=clinic.org, site=None, date=D(2026, 3, 16), name="Founders Day"
    )
    generate(clinic)
    closed = session_on(clinic, D(2026, 3, 16))
    assert closed.is_cancelled and closed.cancel_reason == "Founders Day"
    assert not session_on(clinic, D(2026, 3, 9)).is_cancelled


def test_closure_added_after_generation_cancels_only_that_day_at_that_site(clinic: Clinic) -> None:
    generate(clinic)
    other_track = make_track(clinic.other_site, name="Teen Evening (test)")
    make_block(other_track, clinic.director, make_room(clinic.other_site), weekday=0)
    services.sessions_generate(
        track=other_track, start=D(2026, 3, 9), end=D(2026, 3, 9), by=clinic.by
    )

    closure = services.closure_add(
        organization=clinic.org,
        site=clinic.site,
        date=D(2026, 3, 9),
        name="Pipe burst",
        by=clinic.by,
    )

    assert closure.sessions_cancelled == 1  # type: ignore[attr-defined]
    moved = session_on(clinic, D(2026, 3, 9))
    assert moved.is_cancelled and moved.cancel_reason == "Pipe burst"
    assert moved.version == 2
    assert not session_on(clinic, D(2026, 3, 16)).is_cancelled
    assert not GroupSession.objects.get(track=other_track).is_cancelled
    with pytest.raises(RuleViolation, match="already closed"):
        services.closure_add(
            organization=clinic.org, site=None, date=D(2026, 3, 9), name="Again", by=clinic.by
        )


def test_topic_is_the_skill_of_the_week_in_rotation(clinic: Clinic) -> None:
    services.curriculum_set(
        track=clinic.track, topics=[("Triggers", "RP"), ("Thinking traps", "CBT")], by=clinic.by
    )
    generate(clinic)
    # Blocks start Jan 1, 2026 (ISO week 1); Mar 2 is week 10 -> rotation week 2.
    assert session_on(clinic, D(2026, 3, 2)).topic == "Thinking traps"
    assert session_on(clinic, D(2026, 3, 4), clinic.wednesday).topic == "Thinking traps"
    assert session_on(clinic, D(2026, 3, 9)).topic == "Triggers"
    assert list(
        CurriculumTopic.objects.filter(track=clinic.track).values_list("week_number", flat=True)
    ) == [1, 2]


# --- one occurrence -------------------------------------------------------------------------


def test_moving_one_occurrence_leaves_other_weeks_and_is_not_regenerated(clinic: Clinic) -> None:
    generate(clinic)
    session = session_on(clinic, D(2026, 3, 9))
    services.session_move(
        session=session,
        expected_version=session.version,
        date=D(2026, 3, 10),
        start_time=dt.time(13, 0),
        room=clinic.room,
        by=clinic.by,
    )
    session.refresh_from_db()
    assert (session.date, session.series_date, session.is_exception) == (
        D(2026, 3, 10),
        D(2026, 3, 9),
        True,
    )
    assert session.starts_at.astimezone(CHICAGO).time() == dt.time(13, 0)
    for day in (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 23)):
        other = session_on(clinic, day)
        assert (
            other.starts_at.astimezone(CHICAGO).time() == dt.time(9, 0) and not other.is_exception
        )
    assert generate(clinic) == 0  # the moved occurrence is not created again on Mar 9


def test_move_to_a_room_smaller_than_the_roster_is_refused(clinic: Clinic) -> None:
    generate(clinic)
    for _ in range(3):
        services.enrollment_start(
            episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
        )
    session = session_on(clinic, D(2026, 3, 9))
    with pytest.raises(
        RuleViolation, match="Tiny Nook seats 2, but this session has 3 patients"
    ) as exc:
        services.session_move(
            session=session,
            expected_version=session.version,
            date=session.date,
            start_time=dt.time(9, 0),
            room=clinic.nook,
            by=clinic.by,
        )
    assert exc.value.field == "room"


def test_cancel_and_reassign_touch_one_occurrence_and_detect_stale_versions(clinic: Clinic) -> None:
    generate(clinic)
    session = session_on(clinic, D(2026, 3, 16))
    stale = session.version
    services.session_reassign(
        session=session, expected_version=stale, facilitator=clinic.clinician2, by=clinic.by
    )
    again = session_on(clinic, D(2026, 3, 16))
    with pytest.raises(Conflict, match="changed by someone else"):
        services.session_cancel(session=again, expected_version=stale, reason="Snow", by=clinic.by)
    services.session_cancel(
        session=again, expected_version=again.version, reason="Snow day", by=clinic.by
    )
    again.refresh_from_db()
    assert (again.facilitator_id, again.is_cancelled, again.cancel_reason) == (
        clinic.clinician2.pk,
        True,
        "Snow day",
    )
    assert session_on(clinic, D(2026, 3, 23)).facilitator_id == clinic.clinician.pk
    assert not session_on(clinic, D(2026, 3, 23)).is_cancelled


def test_reassign_refuses_staff_who_cannot_facilitate(clinic: Clinic) -> None:
    generate(clinic)
    session = session_on(clinic, D(2026, 3, 9))
    with pytest.raises(RuleViolation, match="only active clinical staff") as exc:
        services.session_reassign(
            session=session,
            expected_version=session.version,
            facilitator=clinic.intake,
            by=clinic.by,
        )
    assert exc.value.field == "facilitator"


def test_past_sessions_cannot_be_moved(clinic: Clinic) -> None:
    generate(clinic, start=D(2026, 2, 23))
    past = session_on(clinic, D(2026, 2, 23))
    with pytest.raises(RuleViolation, match="already started"):
        services.session_cancel(
            session=past, expected_version=past.version, reason="x", by=clinic.by
        )


# --- series ---------------------------------------------------------------------------------


def test_series_change_applies_to_future_sessions_only(clinic: Clinic) -> None:
    generate(clinic, start=D(2026, 2, 2))
    new = services.block_change_series(
        block=clinic.monday,
        effective_date=D(2026, 3, 16),
        by=clinic.by,
        start_time=dt.time(10, 0),
        facilitator=clinic.clinician2,
    )
    old = TrackBlock.objects.get(pk=clinic.monday.pk)
    assert old.valid_until == D(2026, 3, 15)
    assert (new.valid_from, new.start_time, new.facilitator_id) == (
        D(2026, 3, 16),
        dt.time(10, 0),
        clinic.clinician2.pk,
    )
    for day in (D(2026, 2, 2), D(2026, 3, 2), D(2026, 3, 9)):
        s = session_on(clinic, day, old)
        assert s.starts_at.astimezone(CHICAGO).time() == dt.time(9, 0)
        assert s.facilitator_id == clinic.clinician.pk
    for day in (D(2026, 3, 16), D(2026, 3, 23)):
        s = session_on(clinic, day, new)
        assert s.starts_at.astimezone(CHICAGO).time() == dt.time(10, 0)
        assert s.facilitator_id == clinic.clinician2.pk
    assert generate(clinic, start=D(2026, 2, 2), end=D(2026, 4, 5)) == 2  # Mar 30 (new), Apr 1
    assert session_on(clinic, D(2026, 3, 30), new).starts_at.astimezone(CHICAGO).hour == 10


def test_series_weekday_change_moves_future_sessions_to_the_new_day(clinic: Clinic) -> None:
    generate(clinic)
    new = services.block_change_series(
        block=clinic.monday, effective_date=D(2026, 3, 10), by=clinic.by, weekday=1
    )
    days = sorted(
        GroupSession.objects.filter(block__in=[clinic.monday, new]).values_list("date", flat=True)
    )
    # Mondays before the change stay; later ones move to Tuesdays through the last generated week.
    assert days == [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 10), D(2026, 3, 17), D(2026, 3, 24)]


def test_series_change_refuses_the_past_and_no_change(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation, match="from today on") as exc:
        services.block_change_series(
            block=clinic.monday, effective_date=D(2026, 2, 1), by=clinic.by, title="x"
        )
    assert exc.value.field == "effective_date"
    with pytest.raises(RuleViolation, match="Nothing to change"):
        services.block_change_series(
            block=clinic.monday, effective_date=D(2026, 3, 9), by=clinic.by, title="Process group"
        )


def test_series_room_change_smaller_than_future_roster_is_refused(clinic: Clinic) -> None:
    generate(clinic)
    for _ in range(3):
        services.enrollment_start(
            episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
        )
    with pytest.raises(RuleViolation, match="Tiny Nook seats 2") as exc:
        services.block_change_series(
            block=clinic.monday, effective_date=D(2026, 3, 9), by=clinic.by, room=clinic.nook
        )
    assert exc.value.field == "room"
    assert TrackBlock.objects.get(pk=clinic.monday.pk).valid_until is None


# --- enrollment -----------------------------------------------------------------------------


def test_rolling_admission_puts_a_late_enrollment_on_already_generated_sessions(
    clinic: Clinic,
) -> None:
    generate(clinic)
    episode = clinic.episode()
    enrollment = services.enrollment_start(
        episode=episode, track=clinic.track, start_date=D(2026, 3, 9), by=clinic.by
    )
    assert episode.pk not in roster(session_on(clinic, D(2026, 3, 2)))
    assert episode.pk in roster(session_on(clinic, D(2026, 3, 9)))
    assert episode.pk in roster(session_on(clinic, D(2026, 3, 25), clinic.wednesday))
    entry = AuditEntry.objects.get(object_type="enrollment", object_id=str(enrollment.pk))
    assert entry.patient_id == episode.patient_id


def test_leaving_removes_from_future_rosters_only(clinic: Clinic) -> None:
    generate(clinic)
    episode = clinic.episode()
    enrollment = services.enrollment_start(
        episode=episode, track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
    )
    services.enrollment_end(
        enrollment=enrollment, end_date=D(2026, 3, 11), reason="Stepped down", by=clinic.by
    )
    assert episode.pk in roster(session_on(clinic, D(2026, 3, 9)))
    assert episode.pk in roster(session_on(clinic, D(2026, 3, 11), clinic.wednesday))
    assert episode.pk not in roster(session_on(clinic, D(2026, 3, 16)))
    assert Enrollment.objects.filter(pk=enrollment.pk, end_reason="Stepped down").exists()
    with pytest.raises(RuleViolation, match="already ended"):
        services.enrollment_end(
            enrollment=enrollment, end_date=D(2026, 3, 20), reason="x", by=clinic.by
        )
    # A discharge may end it earlier still.
    services.enrollment_end(
        enrollment=enrollment, end_date=D(2026, 3, 9), reason="Discharged", by=clinic.by
    )
    assert (
        AuditEntry.objects.filter(object_type="enrollment", patient_id=episode.patient_id).count()
        == 3
    )


def test_track_capacity_error_names_the_numbers(clinic: Clinic) -> None:
    clinic.track.capacity = 2
    clinic.track.save()
    services.enrollment_start(
        episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
    )
    services.enrollment_start(
        episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 16), by=clinic.by
    )
    with pytest.raises(
        RuleViolation, match=r"full: 2 of 2 places are taken on Mon Mar 16, 2026"
    ) as exc:
        services.enrollment_start(
            episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 9), by=clinic.by
        )
    assert exc.value.field == "start_date"


def test_room_capacity_of_a_future_session_limits_enrollment(clinic: Clinic) -> None:
    generate(clinic)
    nook_track = make_track(clinic.site, name="Small Group (test)", capacity=10)
    make_block(nook_track, clinic.clinician, clinic.nook, weekday=4, title="Tiny circle")
    services.sessions_generate(
        track=nook_track, start=D(2026, 3, 2), end=D(2026, 3, 15), by=clinic.by
    )
    for _ in range(2):
        services.enrollment_start(
            episode=clinic.episode(), track=nook_track, start_date=D(2026, 3, 2), by=clinic.by
        )
    with pytest.raises(
        RuleViolation,
        match=r"Tiny circle in Tiny Nook on Fri Mar 6, 2026 seats 2; this enrollment would make its roster 3",
    ):
        services.enrollment_start(
            episode=clinic.episode(), track=nook_track, start_date=D(2026, 3, 2), by=clinic.by
        )


def test_one_open_enrollment_per_track_and_only_waitlisted_or_active(clinic: Clinic) -> None:
    episode = clinic.episode()
    services.enrollment_start(
        episode=episode, track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
    )
    with pytest.raises(RuleViolation, match="already enrolled") as exc:
        services.enrollment_start(
            episode=episode, track=clinic.track, start_date=D(2026, 3, 9), by=clinic.by
        )
    assert exc.value.field == "track"
    on_hold = clinic.episode(status=EpisodeStatus.ON_HOLD)
    with pytest.raises(RuleViolation, match="Only waitlisted or active episodes"):
        services.enrollment_start(
            episode=on_hold, track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
        )
    waitlisted = clinic.episode(status=EpisodeStatus.WAITLISTED)
    services.enrollment_start(
        episode=waitlisted, track=clinic.track, start_date=D(2026, 3, 2), by=clinic.by
    )
    with pytest.raises(RuleViolation, match="before admission"):
        services.enrollment_start(
            episode=clinic.episode(), track=clinic.track, start_date=D(2025, 12, 1), by=clinic.by
        )


def test_permission_denied_is_audited(clinic: Clinic) -> None:
    actor = Actor(user=clinic.clinician, path="/test")
    with pytest.raises(NotPermitted):
        services.sessions_generate(
            track=clinic.track, start=D(2026, 3, 2), end=D(2026, 3, 8), by=actor
        )
    with pytest.raises(NotPermitted):
        services.enrollment_start(
            episode=clinic.episode(), track=clinic.track, start_date=D(2026, 3, 2), by=actor
        )
    denied = AuditEntry.objects.filter(user_id=clinic.clinician.pk, outcome="denied")
    assert denied.count() == 2
    assert denied.exclude(patient_id=None).count() == 1  # the enrollment attempt names the patient
    assert GroupSession.objects.count() == 0 and Enrollment.objects.count() == 0


# --- appointments ---------------------------------------------------------------------------


def test_individual_session_is_booked_for_the_patient_and_audited(clinic: Clinic) -> None:
    episode = clinic.episode()
    session = services.appointment_book(
        episode=episode,
        facilitator=clinic.clinician,
        kind="individual",
        date=D(2026, 3, 10),
        start_time=dt.time(14, 0),
        duration_minutes=50,
        room=None,
        title="",
        by=Actor(user=clinic.clinician, path="/test"),
    )
    assert (session.track_id, session.episode_id, session.kind, session.title) == (
        None,
        episode.pk,
        "individual",
        "Individual therapy",
    )
    assert roster(session) == {episode.pk}
    assert AuditEntry.objects.filter(
        object_type="appointment", patient_id=episode.patient_id
    ).exists()
    with pytest.raises(RuleViolation, match="already facilitates Individual therapy") as exc:
        services.appointment_book(
            episode=clinic.episode(),
            facilitator=clinic.clinician,
            kind="family",
            date=D(2026, 3, 10),
            start_time=dt.time(14, 30),
            duration_minutes=50,
            room=None,
            title="Family session",
            by=clinic.by,
        )
    assert exc.value.field == "facilitator"
