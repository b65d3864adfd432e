"""Attendance rules without a database: minutes, the weekly ledger, absence streaks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.attendance.domain import (
    AttendedMinutes,
    MinutesError,
    SessionLine,
    WeekStatus,
    consecutive_unexcused,
    ledger,
    local_week,
    minutes_to_hours,
    not_started_problem,
    resolve_minutes,
    week_line,
    weekly_hours,
    weekly_minutes,
)
from openiop.core.dates import IsoWeek

CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.UTC
WEEK = IsoWeek(2026, 11)  # Mon 9 Mar - Sun 15 Mar 2026 (US daylight saving starts Sun 8 Mar)


@pytest.mark.parametrize(
    ("status", "given_minutes", "session", "expected"),
    [
        ("present", None, 180, 180),
        ("present", 180, 180, 180),
        ("late", 150, 180, 150),
        ("left_early", 90, 180, 90),
        ("absent_excused", None, 180, 0),
        ("absent_unexcused", 0, 180, 0),
    ],
)
def test_minutes_follow_the_status(
    status: str, given_minutes: int | None, session: int, expected: int
) -> None:
    assert resolve_minutes(status, given_minutes, session) == expected


@pytest.mark.parametrize(
    ("status", "given_minutes", "message"),
    [
        ("late", None, "Enter the minutes"),
        ("late", 180, "fewer than the session's 180"),
        ("left_early", 0, "more than 0"),
        ("present", 200, "between 0 and the session's 180"),
        ("present", -5, "between 0"),
        ("absent_unexcused", 30, "0 minutes"),
        ("asleep", None, "not an attendance status"),
    ],
)
def test_minutes_that_do_not_fit_are_refused_with_a_reason(
    status: str, given_minutes: int | None, message: str
) -> None:
    with pytest.raises(MinutesError, match=message):
        resolve_minutes(status, given_minutes, 180)


def test_hours_are_decimal_from_minutes() -> None:
    assert minutes_to_hours(570) == Decimal("9.50")
    assert minutes_to_hours(0) == Decimal("0.00")


def _lines(*items: tuple[int, int, int | None]) -> list[SessionLine]:
    """(day of week 0-6, scheduled, attended)."""
    return [SessionLine(WEEK.monday + dt.timedelta(days=d), s, a) for d, s, a in items]


def test_finished_week_under_the_minimum_is_below() -> None:
    lines = _lines((0, 180, 180), (1, 180, 150), (2, 180, 0), (3, 180, 180))
    line = week_line(WEEK, lines, 540, today=WEEK.sunday + dt.timedelta(days=1))
    assert (line.scheduled_minutes, line.attended_minutes, line.status) == (
        720,
        510,
        WeekStatus.BELOW,
    )
    assert line.flagged


def test_finished_week_at_the_minimum_is_met() -> None:
    lines = _lines((0, 180, 180), (1, 180, 180), (3, 180, 180))
    assert (
        week_line(WEEK, lines, 540, today=WEEK.sunday + dt.timedelta(days=3)).status
        == WeekStatus.MET
    )


def test_current_week_is_at_risk_only_when_attending_everything_left_cannot_reach_the_minimum() -> (
    None
):
    lines = _lines((0, 180, 0), (1, 180, None), (2, 180, None), (3, 180, None))
    on_wednesday = WEEK.monday + dt.timedelta(days=2)
    line = week_line(WEEK, lines, 540, today=on_wednesday)
    # Tuesday passed with nothing recorded (0), Wednesday and Thursday remain: 0 + 360 < 540.
    assert (line.remaining_minutes, line.status) == (360, WeekStatus.AT_RISK)
    on_tuesday = WEEK.monday + dt.timedelta(days=1)
    assert week_line(WEEK, lines, 540, today=on_tuesday).status == WeekStatus.ON_TRACK


def test_sessions_outside_the_week_do_not_count() -> None:
    lines = [*_lines((0, 180, 180)), SessionLine(WEEK.monday - dt.timedelta(days=1), 180, 180)]
    assert week_line(WEEK, lines, 540, today=WEEK.sunday).attended_minutes == 180


def test_future_week_is_upcoming_and_no_enrollment_means_no_minimum() -> None:
    lines = _lines((0, 180, None))
    assert (
        week_line(WEEK, lines, 540, today=WEEK.monday - dt.timedelta(days=1)).status
        == WeekStatus.UPCOMING
    )
    assert week_line(WEEK, lines, None, today=WEEK.sunday).status == WeekStatus.NO_MINIMUM


def test_ledger_lists_weeks_in_the_order_asked_with_each_weeks_minimum() -> None:
    previous = WEEK.previous()
    lines = [*_lines((0, 180, 180)), SessionLine(previous.monday, 180, 180)]
    result = ledger(
        lines,
        {WEEK: 540, previous: 360},
        [WEEK, previous],
        today=WEEK.sunday + dt.timedelta(days=1),
    )
    assert [(w.week, w.minimum_minutes, w.attended_minutes) for w in result] == [
        (WEEK, 540, 180),
        (previous, 360, 180),
    ]


def test_iso_week_of_a_local_date_across_the_year_boundary() -> None:
    assert IsoWeek.of(dt.date(2026, 12, 31)) == IsoWeek(2026, 53)
    assert IsoWeek.of(dt.date(2027, 1, 3)) == IsoWeek(2026, 53)
    assert IsoWeek.of(dt.date(2027, 1, 4)) == IsoWeek(2027, 1)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 6), st.integers(30, 240), st.one_of(st.none(), st.integers(0, 240))
        ),
        max_size=12,
    ),
    st.integers(0, 900),
    st.integers(-7, 14),
)
def test_ledger_sums_never_exceed_and_flag_matches_definition(
    items: list[tuple[int, int, int | None]], minimum: int, today_offset: int
) -> None:
    lines = [
        SessionLine(WEEK.monday + dt.timedelta(days=d), s, None if a is None else min(a, s))
        for d, s, a in items
    ]
    today = WEEK.monday + dt.timedelta(days=today_offset)
    line = week_line(WEEK, lines, minimum, today)
    assert 0 <= line.attended_minutes <= line.scheduled_minutes
    assert line.remaining_minutes <= line.scheduled_minutes
    if WEEK.sunday < today:
        assert line.flagged == (line.attended_minutes < minimum)
    if line.status == WeekStatus.AT_RISK:
        assert line.attended_minutes + line.remaining_minutes < minimum


@pytest.mark.parametrize(
    ("statuses", "alert"),
    [
        (["present", "absent_unexcused", "absent_unexcused"], True),
        (["absent_unexcused"], False),
        (["absent_unexcused", "present"], False),
        (["absent_unexcused", "absent_excused", "absent_unexcused"], True),
        (["absent_unexcused", "late", "absent_unexcused"], False),
        (["absent_excused", "absent_excused"], False),
        ([], False),
    ],
)
def test_two_unexcused_absences_in_a_row_raise_an_alert(statuses: list[str], alert: bool) -> None:
    assert consecutive_unexcused(statuses, 2) is alert


def test_threshold_is_configurable() -> None:
    assert consecutive_unexcused(["absent_unexcused"] * 2, 3) is False
    assert consecutive_unexcused(["absent_unexcused"] * 3, 3) is True


# --- weekly hours from instants: the week is the clinic's local ISO week -------------------------
def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("starts_at", "expected_week"),
    [
        # Sunday 19:00 in Chicago is already Monday 00:00/01:00 UTC: still the local Sunday's week.
        (_at(dt.date(2026, 3, 15), 19, 0), IsoWeek(2026, 11)),
        (_at(dt.date(2026, 3, 15), 23, 59), IsoWeek(2026, 11)),
        (_at(dt.date(2026, 3, 16), 0, 0), IsoWeek(2026, 12)),
        # Monday 01:30 UTC is Sunday evening in Chicago.
        (dt.datetime(2026, 3, 16, 1, 30, tzinfo=UTC), IsoWeek(2026, 11)),
        # The spring-forward Sunday (8 Mar 2026) belongs to the week before.
        (_at(dt.date(2026, 3, 8), 18, 0), IsoWeek(2026, 10)),
        (_at(dt.date(2026, 3, 9), 9, 0), IsoWeek(2026, 11)),
        # Fall back (1 Nov 2026): the repeated 01:30 is still Sunday of week 44.
        (dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO), IsoWeek(2026, 44)),
    ],
)
def test_a_session_belongs_to_the_week_of_its_local_start(
    starts_at: dt.datetime, expected_week: IsoWeek
) -> None:
    assert local_week(starts_at, CHICAGO) == expected_week


def test_weekly_hours_sum_the_local_week_across_a_daylight_saving_change() -> None:
    week = IsoWeek(2026, 10)  # Mon 2 Mar - Sun 8 Mar 2026; clocks spring forward on Sunday 8 Mar
    attendances = [
        AttendedMinutes(_at(dt.date(2026, 3, 2), 9), 180),
        AttendedMinutes(_at(dt.date(2026, 3, 4), 9), 150),
        AttendedMinutes(_at(dt.date(2026, 3, 8), 18), 90),  # Sunday evening, after the change
        AttendedMinutes(_at(dt.date(2026, 3, 9), 9), 180),  # next week
        AttendedMinutes(_at(dt.date(2026, 3, 1), 23, 30), 60),  # previous week's Sunday
    ]
    assert weekly_hours(attendances, week, CHICAGO) == Decimal("7.00")
    assert weekly_hours(attendances, week.next(), CHICAGO) == Decimal("3.00")
    assert weekly_hours([], week, CHICAGO) == Decimal("0.00")


def test_the_same_instant_falls_in_different_weeks_in_different_clinics() -> None:
    instant = dt.datetime(2026, 3, 16, 3, 0, tzinfo=UTC)  # Sun 22:00 Chicago, Mon 03:00 London
    attendances = [AttendedMinutes(instant, 60)]
    assert weekly_hours(attendances, IsoWeek(2026, 11), CHICAGO) == Decimal("1.00")
    assert weekly_hours(attendances, IsoWeek(2026, 12), ZoneInfo("Europe/London")) == Decimal(
        "1.00"
    )


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_week(dt.datetime(2026, 3, 9, 9, 0), CHICAGO)  # noqa: DTZ001 (naive on purpose)


@given(
    st.lists(
        st.tuples(st.integers(0, 60 * 24 * 27), st.integers(0, 240)),
        max_size=30,
    )
)
def test_every_attended_minute_falls_in_exactly_one_local_week(
    items: list[tuple[int, int]],
) -> None:
    """Over four weeks around the spring-forward change, weekly sums add up to the total."""
    origin = dt.datetime(2026, 2, 23, 0, 0, tzinfo=CHICAGO)  # Monday of 2026-W09, local midnight
    attendances = [
        AttendedMinutes((origin.astimezone(UTC) + dt.timedelta(minutes=m)), n) for m, n in items
    ]
    weeks = [IsoWeek(2026, 9), IsoWeek(2026, 10), IsoWeek(2026, 11), IsoWeek(2026, 12)]
    total = sum(a.minutes for a in attendances)
    assert sum(weekly_minutes(attendances, w, CHICAGO) for w in weeks) == total
    assert all(local_week(a.starts_at, CHICAGO) in weeks for a in attendances)


# --- absence streaks: an excused absence neither counts nor resets -------------------------------
@given(
    st.lists(st.sampled_from(["present", "late", "left_early", "absent_unexcused"]), max_size=12),
    st.lists(st.integers(0, 12), max_size=6),
    st.integers(1, 4),
)
def test_excused_absences_never_change_whether_a_streak_alerts(
    statuses: list[str], positions: list[int], threshold: int
) -> None:
    with_excused = list(statuses)
    for p in sorted(positions, reverse=True):
        with_excused.insert(min(p, len(with_excused)), "absent_excused")
    assert consecutive_unexcused(with_excused, threshold) == consecutive_unexcused(
        statuses, threshold
    )


@given(st.lists(st.sampled_from(["absent_unexcused", "absent_excused"]), max_size=10))
def test_any_attended_session_ends_the_streak(statuses: list[str]) -> None:
    for attended in ("present", "late", "left_early"):
        assert consecutive_unexcused([*statuses, attended], 1) is False


# --- no attendance before the session starts ------------------------------------------------------
DENVER = ZoneInfo("America/Denver")


def test_attendance_before_the_start_is_refused_with_the_local_start_and_its_zone() -> None:
    starts = dt.datetime(2026, 3, 10, 9, 0, tzinfo=CHICAGO)  # 14:00 UTC (CDT)
    problem = not_started_problem(starts, dt.datetime(2026, 3, 10, 13, 59, tzinfo=UTC), CHICAGO)
    assert "Tue Mar 10, 2026 9:00 AM CDT" in problem and "once it has started" in problem
    assert not_started_problem(starts, dt.datetime(2026, 3, 10, 14, 0, tzinfo=UTC), CHICAGO) == ""


@pytest.mark.parametrize(
    ("now_utc", "allowed"),
    [
        # 9:00 on the spring-forward Sunday in Chicago is 14:00 UTC (CDT, UTC-5), not 15:00 (CST).
        (dt.datetime(2026, 3, 8, 13, 59, tzinfo=UTC), False),
        (dt.datetime(2026, 3, 8, 14, 0, tzinfo=UTC), True),
        (dt.datetime(2026, 3, 8, 14, 30, tzinfo=UTC), True),  # would be refused if read as CST
    ],
)
def test_the_start_is_compared_as_an_instant_across_the_daylight_saving_change(
    now_utc: dt.datetime, allowed: bool
) -> None:
    starts = dt.datetime(2026, 3, 8, 9, 0, tzinfo=CHICAGO)
    problem = not_started_problem(starts, now_utc, CHICAGO)
    assert (problem == "") is allowed
    if not allowed:
        assert "Sun Mar 8, 2026 9:00 AM CDT" in problem


def test_a_late_evening_session_at_a_non_utc_site_is_shown_on_its_own_clock() -> None:
    # 18:30 in Denver is already the next day in UTC; the message keeps the site's date and zone.
    starts = dt.datetime(2026, 11, 2, 18, 30, tzinfo=DENVER)
    now = dt.datetime(2026, 11, 3, 1, 0, tzinfo=UTC)  # 18:00 in Denver (MST)
    assert "Mon Nov 2, 2026 6:30 PM MST" in not_started_problem(starts, now, DENVER)
    assert not_started_problem(starts, now + dt.timedelta(minutes=30), DENVER) == ""


def test_the_start_rule_refuses_naive_datetimes() -> None:
    # The naive datetimes are the point of this test.
    aware = dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    naive = dt.datetime(2026, 3, 8, 9, 0)  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        not_started_problem(naive, dt.datetime.now(UTC), CHICAGO)
    with pytest.raises(ValueError, match="aware"):
        not_started_problem(aware, dt.datetime.now(), CHICAGO)  # noqa: DTZ005


def test_the_weekly_minimum_is_the_payers_where_it_sets_one_else_the_tracks() -> None:
    from openiop.attendance.domain import weekly_minimum_minutes

    assert weekly_minimum_minutes(540) == 540
    assert weekly_minimum_minutes(540, payer_minimum=600) == 600
    assert weekly_minimum_minutes(None, payer_minimum=540) == 540
    assert weekly_minimum_minutes(None) is None
