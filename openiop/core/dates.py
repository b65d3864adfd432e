"""Pure date helpers: clinic-local ISO weeks and date ranges. No Django, no clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO-8601 week (Monday to Sunday) of a clinic's local calendar."""

    year: int
    week: int

    @classmethod
    def of(cls, day: dt.date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @cached_property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @cached_property
    def sunday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 7)

    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=i) for i in range(7)]

    def next(self) -> IsoWeek:
        return IsoWeek.of(self.monday + dt.timedelta(days=7))

    def previous(self) -> IsoWeek:
        return IsoWeek.of(self.monday - dt.timedelta(days=7))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse '2026-W07'. Raises ValueError with a readable message."""
        try:
            year_s, week_s = text.upper().split("-W")
            if len(year_s) != 4 or len(week_s) > 2:
                raise ValueError(text)
            week = cls(int(year_s), int(week_s))
            week.monday  # noqa: B018 - validates the week number
            # A week whose neighbour is out of the calendar (9999-W52, 0001-W01) is refused too:
            # pages step to the next and previous weeks.
            week.next(), week.previous()
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"'{text}' is not an ISO week like 2026-W07") from exc
        return week


def daterange(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from start to end, both included."""
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def local_datetime(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The aware instant of a local wall-clock time on a date in tz.

    Local times hold across daylight-saving changes: 9:00 stays 9:00 local. A wall time that does
    not exist (skipped by a spring-forward) resolves forward with fold=0, as zoneinfo does.
    """
    return dt.datetime.combine(day, at, tzinfo=tz)


class DateKind(StrEnum):
    """What a date entered by a person stands for; each kind has one plausible range (DATE_RANGES)."""

    BIRTH = "birth"  # a person's date of birth
    HAPPENED = "happened"  # something that already took place: an assessment, a note's date
    PLANNED = "planned"  # the program's calendar: sessions, closures, follow-ups, due dates
    COVERAGE = "coverage"  # insurance coverage and payment dates, which may start years back
    SEARCH = "search"  # a date typed to look things up: the audit log, the schedule


@dataclass(frozen=True)
class DateRange:
    """A plausible range around today: `earliest` is a fixed date, or `years_back` before today;
    `years_ahead` after today is the latest (0: today itself)."""

    earliest: dt.date | None
    years_back: int
    years_ahead: int
    what: str  # how a message names the date

    def bounds(self, today: dt.date) -> tuple[dt.date, dt.date]:
        low = self.earliest or _years_from(today, -self.years_back)
        return low, _years_from(today, self.years_ahead)


# Plausibility ranges, not clinical rules: they catch a mistyped year (0001, 9999) before it is
# stored or reaches date arithmetic, for every date field in one place.
DATE_RANGES: dict[DateKind, DateRange] = {
    DateKind.BIRTH: DateRange(dt.date(1900, 1, 1), 0, 0, "A date of birth"),
    DateKind.HAPPENED: DateRange(None, 10, 0, "This date"),
    DateKind.PLANNED: DateRange(None, 2, 3, "This date"),
    DateKind.COVERAGE: DateRange(None, 30, 5, "This date"),
    DateKind.SEARCH: DateRange(dt.date(2000, 1, 1), 0, 5, "A date to search"),
}


def _years_from(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (or earlier); 29 February becomes 28 February off leap years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def date_out_of_range(kind: DateKind, value: dt.date, today: dt.date) -> str | None:
    """A message when `value` is outside the plausible range for `kind`, else None.

    The message names the range in ISO dates, e.g. "A date of birth must be between 1900-01-01
    and 2026-12-05 (today)."
    """
    rule = DATE_RANGES[kind]
    low, high = rule.bounds(today)
    if low <= value <= high:
        return None
    high_text = f"{high.isoformat()} (today)" if high == today else high.isoformat()
    return f"{rule.what} must be between {low.isoformat()} and {high_text}."


def week_out_of_range(week: IsoWeek, today: dt.date) -> str | None:
    """A message when a week typed to look at the calendar is outside the search range, else None."""
    low, high = DATE_RANGES[DateKind.SEARCH].bounds(today)
    if low <= week.monday and week.sunday <= high:
        return None
    return f"Choose a week between {IsoWeek.of(low)} and {IsoWeek.of(high)}."


def format_local(value: dt.datetime, tz: dt.tzinfo, *, with_date: bool = True) -> str:
    """An instant as staff read it, in `tz` with the zone's abbreviation: 'Mar 3, 2026 9:05 AM HST'
    ('9:05 AM HST' without the date). Every time shown to staff goes through here (the Jinja2
    filters `datetime` and `time`, and messages built in Python), so none is shown in UTC by
    mistake. `tz` is the zone of the site the time belongs to (ui.jinja2env says which zone a
    page without one uses)."""
    local = value.astimezone(tz)
    clock = f"{local.hour % 12 or 12}:{local:%M %p}"
    zone = local.tzname() or ""
    if with_date:
        return f"{local:%b} {local.day}, {local.year} {clock} {zone}".rstrip()
    return f"{clock} {zone}".rstrip()


def local_label(instant: dt.datetime, tz: ZoneInfo) -> str:
    """format_local with the weekday, for messages about a session: 'Mon Mar 9, 2026 9:00 AM CDT'.

    The zone abbreviation follows the date (CST in winter, CDT in summer), so a message about a
    session near a daylight-saving change says which clock it means. Raises ValueError for a
    naive datetime.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("A time shown to staff must be an aware datetime.")
    return f"{instant.astimezone(tz):%a} {format_local(instant, tz)}"
