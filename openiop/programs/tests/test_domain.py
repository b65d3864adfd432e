"""Schedule rules without a database: occurrences, daylight saving, closures, curriculum, capacity."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.programs import domain
from openiop.programs.domain import BlockSpec, DateSpan, SeatCheck

CHICAGO = ZoneInfo("America/Chicago")
NINE = dt.time(9, 0)


def monday_block(**kw: object) -> BlockSpec:
    values: dict[str, object] = {
        "key": 1,
        "weekday": 0,
        "start_time": NINE,
        "duration_minutes": 180,
        "valid_from": dt.date(2026, 1, 1),
    }
    values.update(kw)
    return BlockSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("age_band", "minutes"), [("adult", 540), ("adolescent", 360), ("tween", 360)]
)
def test_default_weekly_minimum_by_age_band(age_band: str, minutes: int) -> None:
    assert domain.default_weekly_minimum_minutes(age_band) == minutes


def test_unknown_age_band_has_no_default() -> None:
    with pytest.raises(ValueError, match="Unknown age band"):
        domain.default_weekly_minimum_minutes("toddler")


@pytest.mark.parametrize(
    ("label", "monday", "utc_hour"),
    [
        ("before spring forward (CST, UTC-6)", dt.date(2026, 3, 2), 15),
        ("after spring forward on Mar 8 (CDT, UTC-5)", dt.date(2026, 3, 9), 14),
        ("before fall back (CDT)", dt.date(2026, 10, 26), 14),
        ("after fall back on Nov 1 (CST)", dt.date(2026, 11, 2), 15),
    ],
)
def test_nine_am_stays_nine_local_across_dst(label: str, monday: dt.date, utc_hour: int) -> None:
    (occ,) = domain.occurrences([monday_block()], monday, monday, {}, CHICAGO)
    assert occ.starts_at.astimezone(CHICAGO).time() == NINE, label
    assert occ.starts_at.astimezone(dt.UTC).hour == utc_hour, label
    assert occ.ends_at - occ.starts_at == dt.timedelta(hours=3)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (dt.date(2026, 3, 2), dt.date(2026, 3, 2), [dt.date(2026, 3, 2)]),  # one day, included
        (dt.date(2026, 3, 2), dt.date(2026, 3, 9), [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]),
        (dt.date(2026, 3, 3), dt.date(2026, 3, 8), []),  # no Monday inside
        (dt.date(2026, 3, 9), dt.date(2026, 3, 2), []),  # empty range
    ],
)
def test_date_range_is_inclusive(start: dt.date, end: dt.date, expected: list[dt.date]) -> None:
    assert [
        o.date for o in domain.occurrences([monday_block()], start, end, {}, CHICAGO)
    ] == expected


def test_block_validity_limits_occurrences() -> None:
    block = monday_block(valid_from=dt.date(2026, 3, 9), valid_until=dt.date(2026, 3, 16))
    found = domain.occurrences([block], dt.date(2026, 3, 1), dt.date(2026, 3, 31), {}, CHICAGO)
    assert [o.date for o in found] == [dt.date(2026, 3, 9), dt.date(2026, 3, 16)]


def test_closure_marks_its_day_only() -> None:
    closures = {dt.date(2026, 5, 25): "Memorial Day"}
    found = domain.occurrences(
        [monday_block()], dt.date(2026, 5, 18), dt.date(2026, 6, 1), closures, CHICAGO
    )
    assert [(o.date, o.closed_reason) for o in found] == [
        (dt.date(2026, 5, 18), ""),
        (dt.date(2026, 5, 25), "Memorial Day"),
        (dt.date(2026, 6, 1), ""),
    ]
    assert [o.is_closed for o in found] == [False, True, False]


def test_adult_day_track_mon_to_thu_makes_four_sessions_a_week_sorted() -> None:
    blocks = [monday_block(key=d + 1, weekday=d) for d in range(4)]
    found = domain.occurrences(blocks, dt.date(2026, 2, 2), dt.date(2026, 2, 8), {}, CHICAGO)
    assert [o.date.weekday() for o in found] == [0, 1, 2, 3]
    assert found == sorted(found, key=lambda o: o.starts_at)


@given(
    day=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)),
    hour=st.integers(min_value=6, max_value=21),
    minute=st.sampled_from([0, 15, 30, 45]),
    tz_name=st.sampled_from(["America/Chicago", "America/Denver", "America/New_York", "UTC"]),
)
def test_local_start_time_always_holds(day: dt.date, hour: int, minute: int, tz_name: str) -> None:
    tz = ZoneInfo(tz_name)
    block = monday_block(weekday=day.weekday(), start_time=dt.time(hour, minute), valid_from=day)
    (occ,) = domain.occurrences([block], day, day, {}, tz)
    local = occ.starts_at.astimezone(tz)
    assert (local.date(), local.time()) == (day, dt.time(hour, minute))
    assert occ.ends_at - occ.starts_at == dt.timedelta(minutes=180)


@given(year=st.integers(min_value=2021, max_value=2035))
def test_dst_weeks_keep_nine_local_while_utc_shifts(year: int) -> None:
    # US rules: spring forward the second Sunday of March, fall back the first Sunday of November.
    march_sundays = [d for d in (dt.date(year, 3, n) for n in range(1, 15)) if d.weekday() == 6]
    nov_sunday = next(d for d in (dt.date(year, 11, n) for n in range(1, 8)) if d.weekday() == 6)
    for sunday in (march_sundays[1], nov_sunday):
        before, after = sunday - dt.timedelta(days=6), sunday + dt.timedelta(days=1)
        block = monday_block(valid_from=dt.date(2000, 1, 3))
        found = domain.occurrences([block], before, after, {}, CHICAGO)
        assert [o.date for o in found] == [before, after]
        assert all(o.starts_at.astimezone(CHICAGO).time() == NINE for o in found)
        assert found[0].starts_at.utcoffset() != found[1].starts_at.utcoffset()


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (dt.date(2026, 1, 5), 1),  # the anchor's week
        (dt.date(2026, 1, 11), 1),  # Sunday of the same ISO week
        (dt.date(2026, 1, 12), 2),
        (dt.date(2026, 2, 2), 5),
        (dt.date(2026, 3, 2), 1),  # week 9: the 8-week rotation starts over
        (dt.date(2025, 12, 29), 8),  # the week before the anchor wraps backwards
    ],
)
def test_curriculum_rotation(day: dt.date, week: int) -> None:
    assert domain.curriculum_week(day, dt.date(2026, 1, 7), 8) == week


@given(
    anchor=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)),
    offset=st.integers(min_value=0, max_value=800),
    rotation=st.integers(min_value=1, max_value=12),
)
def test_curriculum_week_in_range_and_constant_within_a_week(
    anchor: dt.date, offset: int, rotation: int
) -> None:
    day = anchor + dt.timedelta(days=offset)
    week = domain.curriculum_week(day, anchor, rotation)
    assert 1 <= week <= rotation
    monday = day - dt.timedelta(days=day.weekday())
    assert domain.curriculum_week(monday, anchor, rotation) == week


def test_curriculum_needs_a_week() -> None:
    with pytest.raises(ValueError, match="at least one week"):
        domain.curriculum_week(dt.date(2026, 1, 1), dt.date(2026, 1, 1), 0)


D = dt.date


@pytest.mark.parametrize(
    ("spans", "new", "peak", "on"),
    [
        ([], DateSpan(D(2026, 3, 1)), 1, D(2026, 3, 1)),
        ([DateSpan(D(2026, 1, 1))], DateSpan(D(2026, 3, 1)), 2, D(2026, 3, 1)),
        # one ended before the new one starts: not counted
        ([DateSpan(D(2026, 1, 1), D(2026, 2, 28))], DateSpan(D(2026, 3, 1)), 1, D(2026, 3, 1)),
        # ends on the new start date (last day included): counted
        ([DateSpan(D(2026, 1, 1), D(2026, 3, 1))], DateSpan(D(2026, 3, 1)), 2, D(2026, 3, 1)),
        # a later enrollment raises the peak inside the new span
        (
            [DateSpan(D(2026, 1, 1), D(2026, 3, 5)), DateSpan(D(2026, 3, 10))],
            DateSpan(D(2026, 3, 1)),
            2,
            D(2026, 3, 1),
        ),
        (
            [DateSpan(D(2026, 1, 1)), DateSpan(D(2026, 3, 10))],
            DateSpan(D(2026, 3, 1)),
            3,
            D(2026, 3, 10),
        ),
        # a later enrollment outside a closed new span is not counted
        ([DateSpan(D(2026, 4, 1))], DateSpan(D(2026, 3, 1), D(2026, 3, 31)), 1, D(2026, 3, 1)),
    ],
)
def test_peak_concurrent(spans: list[DateSpan], new: DateSpan, peak: int, on: dt.date) -> None:
    assert domain.peak_concurrent(spans, new) == (peak, on)


@given(
    starts=st.lists(st.integers(min_value=0, max_value=60), max_size=15),
    lengths=st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=30)), max_size=15),
    new_start=st.integers(min_value=0, max_value=60),
)
def test_peak_concurrent_equals_brute_force(
    starts: list[int], lengths: list[int | None], new_start: int
) -> None:
    base = D(2026, 1, 1)
    spans = [
        DateSpan(
            base + dt.timedelta(days=s), None if n is None else base + dt.timedelta(days=s + n)
        )
        for s, n in zip(starts, lengths, strict=False)
    ]
    new = DateSpan(base + dt.timedelta(days=new_start))
    days = [base + dt.timedelta(days=i) for i in range(new_start, 100)]
    brute = max(domain.count_on(spans, d) + 1 for d in days)
    assert domain.peak_concurrent(spans, new)[0] == brute


def test_room_overflow_names_first_session_too_small() -> None:
    spans = [DateSpan(D(2026, 3, 1)), DateSpan(D(2026, 3, 1), D(2026, 3, 9))]
    sessions = [
        SeatCheck(D(2026, 3, 9), 2, "Process group in Nook"),
        SeatCheck(D(2026, 3, 10), 2, "Process group in Nook"),
    ]
    # On Mar 9 three would sit in a room for 2; on Mar 10 one span has ended, so it fits.
    assert domain.first_room_overflow(sessions, spans, DateSpan(D(2026, 3, 2))) == (sessions[0], 3)
    assert domain.first_room_overflow(sessions[1:], spans, DateSpan(D(2026, 3, 2))) is None
    # Without a new enrollment: the current rosters against a smaller room.
    assert domain.first_room_overflow([SeatCheck(D(2026, 3, 9), 1, "x")], spans) == (
        SeatCheck(D(2026, 3, 9), 1, "x"),
        2,
    )


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [((9, 10), (10, 11), False), ((9, 11), (10, 12), True), ((9, 12), (10, 11), True)],
)
def test_intervals_overlap_half_open(a: tuple[int, int], b: tuple[int, int], overlap: bool) -> None:
    def at(h: int) -> dt.datetime:
        return dt.datetime(2026, 3, 2, h, tzinfo=CHICAGO)

    assert domain.intervals_overlap(at(a[0]), at(a[1]), at(b[0]), at(b[1])) is overlap
