"""One plausible range per kind of date (core.dates.DATE_RANGES), and ISO weeks that stay in the
calendar."""

import datetime as dt

import pytest

from openiop.core.dates import DateKind, IsoWeek, date_out_of_range, week_out_of_range

TODAY = dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("kind", "value", "refused"),
    [
        (DateKind.BIRTH, dt.date(1, 1, 1), True),
        (DateKind.BIRTH, dt.date(1899, 12, 31), True),
        (DateKind.BIRTH, dt.date(1900, 1, 1), False),
        (DateKind.BIRTH, TODAY, False),
        (DateKind.BIRTH, TODAY + dt.timedelta(days=1), True),
        (DateKind.HAPPENED, TODAY, False),
        (DateKind.HAPPENED, TODAY + dt.timedelta(days=1), True),
        (DateKind.HAPPENED, dt.date(2016, 12, 5), False),
        (DateKind.HAPPENED, dt.date(2016, 12, 4), True),
        (DateKind.PLANNED, dt.date(2029, 12, 5), False),
        (DateKind.PLANNED, dt.date(2029, 12, 6), True),
        (DateKind.PLANNED, dt.date(2024, 12, 4), True),
        (DateKind.PLANNED, dt.date(9999, 12, 31), True),
        (DateKind.COVERAGE, dt.date(1996, 12, 5), False),
        (DateKind.COVERAGE, dt.date(1996, 12, 4), True),
        (DateKind.SEARCH, dt.date(2000, 1, 1), False),
        (DateKind.SEARCH, dt.date(1999, 12, 31), True),
        (DateKind.SEARCH, dt.date(9999, 12, 31), True),
    ],
)
def test_each_kind_of_date_has_one_plausible_range(
    kind: DateKind, value: dt.date, refused: bool
) -> None:
    assert (date_out_of_range(kind, value, TODAY) is not None) is refused


def test_message_names_the_range() -> None:
    assert date_out_of_range(DateKind.BIRTH, dt.date(1, 1, 1), TODAY) == (
        "A date of birth must be between 1900-01-01 and 2026-12-05 (today)."
    )


def test_ranges_from_29_february_fall_back_to_28() -> None:
    leap = dt.date(2028, 2, 29)
    assert date_out_of_range(DateKind.PLANNED, dt.date(2031, 2, 28), leap) is None
    assert date_out_of_range(DateKind.PLANNED, dt.date(2031, 3, 1), leap) is not None


@pytest.mark.parametrize("text", ["9999-W52", "0001-W01", "2026-W54", "26-W07", "2026-W007", ""])
def test_weeks_outside_the_calendar_or_badly_written_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an ISO week"):
        IsoWeek.parse(text)


def test_a_week_far_from_today_is_out_of_the_search_range() -> None:
    assert week_out_of_range(IsoWeek.parse("2026-W49"), TODAY) is None
    assert week_out_of_range(IsoWeek.parse("1970-W01"), TODAY) == (
        "Choose a week between 1999-W52 and 2031-W49."
    )
