"""Attendance rules: minutes attended, the weekly hours ledger, and absence streaks.

Pure functions: no Django, no clock. Weeks are clinic-local ISO weeks (core.dates.IsoWeek); the
caller converts instants to the site's local dates. Minutes are ints, hours are Decimal.

Sources: IOP minimum weekly hours (9 h adults, 6 h adolescents) are ASAM level 2.1 / TIP 47
(../shared/domain.md sections 1 and 6); they come in as `minimum_minutes`, configured per track.
A week below the minimum is a warning, never a block (ASAM step-down allows 1-2 weeks below).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from openiop.core.dates import IsoWeek, local_label

PRESENT = "present"
LATE = "late"
LEFT_EARLY = "left_early"
ABSENT_EXCUSED = "absent_excused"
ABSENT_UNEXCUSED = "absent_unexcused"
ATTENDED = frozenset({PRESENT, LATE, LEFT_EARLY})
ABSENT = frozenset({ABSENT_EXCUSED, ABSENT_UNEXCUSED})
STATUSES = ATTENDED | ABSENT


class MinutesError(ValueError):
    """The minutes do not fit the status or the session; the message says why."""


def resolve_minutes(status: str, minutes: int | None, session_minutes: int) -> int:
    """The minutes to record for a status.

    present: the session length when not given; late / left early: given, above 0 and below the
    session length; absences: 0. Never negative or above the session length.
    Raises MinutesError with a message a person can act on.
    """
    if status not in STATUSES:
        raise MinutesError(f"'{status}' is not an attendance status.")
    if status in ABSENT:
        if minutes not in (None, 0):
            raise MinutesError("An absence has 0 minutes attended.")
        return 0
    if minutes is None:
        if status == PRESENT:
            return session_minutes
        raise MinutesError(
            f"Enter the minutes attended (less than the session's {session_minutes})."
        )
    if minutes < 0 or minutes > session_minutes:
        raise MinutesError(
            f"Minutes attended must be between 0 and the session's {session_minutes}."
        )
    if status in (LATE, LEFT_EARLY) and not 0 < minutes < session_minutes:
        raise MinutesError(
            f"Late arrival or early leave means more than 0 and fewer than the session's {session_minutes} minutes."
        )
    return minutes


def minutes_to_hours(minutes: int) -> Decimal:
    """Minutes as hours, rounded to 2 decimals (570 -> 9.50)."""
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AttendedMinutes:
    """Minutes attended at a session that started at an aware instant."""

    starts_at: dt.datetime
    minutes: int


def local_week(instant: dt.datetime, tz: ZoneInfo) -> IsoWeek:
    """The clinic-local ISO week of an aware instant (its date on the wall clock in `tz`).

    Raises ValueError for a naive datetime: a week boundary is only defined in a time zone.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("starts_at must be an aware datetime")
    return IsoWeek.of(instant.astimezone(tz).date())


def weekly_minutes(attendances: Sequence[AttendedMinutes], week: IsoWeek, tz: ZoneInfo) -> int:
    """Minutes attended at sessions that started inside `week` on the clinic's local calendar."""
    return sum(a.minutes for a in attendances if local_week(a.starts_at, tz) == week)


def weekly_hours(attendances: Sequence[AttendedMinutes], week: IsoWeek, tz: ZoneInfo) -> Decimal:
    """Hours attended in a clinic-local ISO week, as Decimal rounded to 2 places.

    A session belongs to the week of its local start date at the site, so a Sunday-evening session
    counts in that week even when it is already Monday in UTC, and a week with a daylight-saving
    change still runs Monday 00:00 to Sunday 24:00 local (167 or 169 hours of wall time).
    """
    return minutes_to_hours(weekly_minutes(attendances, week, tz))


@dataclass(frozen=True)
class SessionLine:
    """One session a patient was scheduled for, on its local date."""

    date: dt.date
    scheduled_minutes: int
    attended_minutes: int | None  # None: nothing recorded yet


class WeekStatus(StrEnum):
    MET = "met"  # attended at least the minimum
    BELOW = "below"  # a finished week under the minimum
    AT_RISK = "at_risk"  # current week: even attending all that remains stays under the minimum
    ON_TRACK = "on_track"  # current week: the minimum can still be met
    UPCOMING = "upcoming"  # a week that has not started
    NO_MINIMUM = "no_minimum"  # not enrolled in a track that week


@dataclass(frozen=True)
class WeekLine:
    week: IsoWeek
    scheduled_minutes: int
    attended_minutes: int
    remaining_minutes: int  # scheduled today or later and not yet recorded
    minimum_minutes: int | None
    status: WeekStatus

    @property
    def flagged(self) -> bool:
        return self.status in (WeekStatus.BELOW, WeekStatus.AT_RISK)

    @property
    def attended_hours(self) -> Decimal:
        return minutes_to_hours(self.attended_minutes)

    @property
    def scheduled_hours(self) -> Decimal:
        return minutes_to_hours(self.scheduled_minutes)

    @property
    def minimum_hours(self) -> Decimal | None:
        return None if self.minimum_minutes is None else minutes_to_hours(self.minimum_minutes)


def week_line(
    week: IsoWeek, lines: Sequence[SessionLine], minimum_minutes: int | None, today: dt.date
) -> WeekLine:
    """Sum one week's sessions and judge it against the minimum.

    Only the lines dated inside `week` count. A session today or later with nothing recorded is
    'remaining'; a past session with nothing recorded counts as 0 attended.
    """
    monday, sunday = week.monday, week.sunday
    mine = [line for line in lines if monday <= line.date <= sunday]
    scheduled = sum(line.scheduled_minutes for line in mine)
    attended = sum(line.attended_minutes or 0 for line in mine)
    remaining = sum(
        line.scheduled_minutes
        for line in mine
        if line.attended_minutes is None and line.date >= today
    )
    if minimum_minutes is None:
        status = WeekStatus.NO_MINIMUM
    elif week.monday > today:
        status = WeekStatus.UPCOMING
    elif attended >= minimum_minutes:
        status = WeekStatus.MET
    elif week.sunday < today:
        status = WeekStatus.BELOW
    elif attended + remaining < minimum_minutes:
        status = WeekStatus.AT_RISK
    else:
        status = WeekStatus.ON_TRACK
    return WeekLine(week, scheduled, attended, remaining, minimum_minutes, status)


def weekly_minimum_minutes(
    track_minimum: int | None, payer_minimum: int | None = None
) -> int | None:
    """The minutes a week is judged against: the payer's own minimum where the patient's coverage
    sets one (a payer's thresholds are configuration, domain.md s.2), else the enrolled track's
    (9 h adults, 6 h adolescents by default, s.1 and s.6). None: no minimum that week. The one
    seam for the minimum: the hours ledger asks here, never the track directly."""
    return payer_minimum if payer_minimum is not None else track_minimum


def ledger(
    lines: Sequence[SessionLine],
    minimum_for_week: dict[IsoWeek, int | None],
    weeks: Sequence[IsoWeek],
    today: dt.date,
) -> list[WeekLine]:
    """The weekly hours ledger: one WeekLine per week asked for, in the order given."""
    return [week_line(week, lines, minimum_for_week.get(week), today) for week in weeks]


def consecutive_unexcused(statuses_oldest_first: Sequence[str], threshold: int) -> bool:
    """Whether the latest sessions end in `threshold` or more unexcused absences in a row.

    An attended session ends a streak. An excused absence neither counts toward nor breaks it: a
    patient who misses unexcused, then excused (a doctor's visit), then unexcused has missed twice
    without a reason, and the care team should hear of it.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    run = 0
    for status in reversed(statuses_oldest_first):
        if status == ABSENT_EXCUSED:
            continue
        if status != ABSENT_UNEXCUSED:
            break
        run += 1
        if run >= threshold:
            return True
    return False


def not_started_problem(starts_at: dt.datetime, now: dt.datetime, tz: ZoneInfo) -> str:
    """Why attendance cannot be recorded yet ('' once the session has started).

    Attendance documents a service that was delivered, so it is refused before the session's
    start. Both instants are aware, so the comparison holds across a daylight-saving change; the
    message shows the start on the site's wall clock in `tz`, with its zone. Raises ValueError for
    a naive datetime.
    """
    for name, value in (("starts_at", starts_at), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime")
    if now >= starts_at:
        return ""
    return (
        f"This session has not started yet: it starts {local_label(starts_at, tz)}. "
        "Attendance can be recorded once it has started."
    )
