"""Pure date helpers: clinic-local ISO weeks and date ranges. No Django, no clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
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
            week = cls(int(year_s), int(week_s))
            week.monday  # noqa: B018 - validates the week number
        except (ValueError, TypeError) as exc:
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


def format_local(value: dt.datetime, tz: dt.tzinfo, *, with_date: bool = True) -> str:
    """An instant as staff read it, in `tz` with the zone's abbreviation: 'Mar 3, 2026 9:05 AM HST'
    ('9:05 AM HST' without the date). Every time shown to staff goes through here (the Jinja2
    filters `datetime` and `time`, and messages built in Python), so none is shown in UTC by
    mistake. `tz` is the zone of the site the time belongs to (web.jinja2env says which zone a
    page without one uses)."""
    local = value.astimezone(tz)
    clock = f"{local.hour % 12 or 12}:{local:%M %p}"
    zone = local.tzname() or ""
    if with_date:
        return f"{local:%b} {local.day}, {local.year} {clock} {zone}".rstrip()
    return f"{clock} {zone}".rstrip()
