"""Schedule rules as plain functions: weekly minimums, occurrences, curriculum weeks, capacity.

No Django, no clock: dates, time zones and closures are arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from openiop.core.dates import IsoWeek, daterange, local_datetime

# The default weekly hours minimum of a new track, by age band, in minutes. IOP programs commonly
# require at least 9 hours a week for adults and 6 hours for adolescents (ASAM level 2.1; see
# ../shared/domain.md). This is only the suggestion a new track starts from: the minimum that counts
# is stored on each track (and may be overridden by a payer's own rule).
DEFAULT_WEEKLY_MINIMUM_MINUTES: Mapping[str, int] = {
    "adult": 540,
    "adolescent": 360,
    "tween": 360,
}

# How many days generate-sessions may cover at once (a typo like 2062 should not make 36 years).
MAX_GENERATE_DAYS = 366


# Appointments booked for one patient's episode, and those only a prescriber may provide: the
# medication-management visit (issue 18.2, "prescriber visits are appointments"). Plain strings,
# the values of programs.choices.SessionKind.
APPOINTMENT_KINDS: tuple[str, ...] = ("individual", "family", "medication_mgmt")
PRESCRIBER_ONLY_KINDS: frozenset[str] = frozenset({"medication_mgmt"})


def appointment_provider_problem(kind: str, provider: str, *, provider_prescribes: bool) -> str:
    """Why `provider` (a name, for the message) cannot provide an appointment of `kind` ('' when
    they can): a medication-management visit is a prescriber's, so a provider whose role does not
    hold prescriber visits (`provider_prescribes` False) is refused. Other kinds: no rule here.
    Raises ValueError for a kind that is not an appointment."""
    if kind not in APPOINTMENT_KINDS:
        raise ValueError(f"'{kind}' is not a kind of appointment.")
    if kind in PRESCRIBER_ONLY_KINDS and not provider_prescribes:
        return (
            f"{provider} is not a prescriber: a medication-management visit is booked with a "
            "prescriber. Choose a prescriber, or book an individual session instead."
        )
    return ""


def default_weekly_minimum_minutes(age_band: str) -> int:
    """The suggested weekly minimum, in minutes, for a track of `age_band` (adult 540, else 360).

    Raises ValueError for an unknown age band.
    """
    try:
        return DEFAULT_WEEKLY_MINIMUM_MINUTES[age_band]
    except KeyError as exc:
        raise ValueError(f"Unknown age band '{age_band}'") from exc


@dataclass(frozen=True)
class BlockSpec:
    """One weekly block of a track template: every `weekday` from valid_from to valid_until."""

    key: int
    weekday: int  # 0 = Monday
    start_time: dt.time  # local wall-clock time at the site
    duration_minutes: int
    valid_from: dt.date
    valid_until: dt.date | None = None  # last date included; None = open


@dataclass(frozen=True)
class Occurrence:
    """One dated occurrence of a block. `closed_reason` is set when a closure falls on its date."""

    key: int
    date: dt.date
    starts_at: dt.datetime  # aware, in the site's time zone
    ends_at: dt.datetime  # aware
    closed_reason: str = ""

    @property
    def is_closed(self) -> bool:
        return bool(self.closed_reason)


def session_times(
    day: dt.date, start_time: dt.time, duration_minutes: int, tz: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """The aware start and end of a session at local `start_time` on `day` in `tz`.

    The local start time holds across daylight-saving changes (9:00 stays 9:00 local; its UTC instant
    shifts). The end is `duration_minutes` of elapsed time after the start, so a session that spans a
    change still lasts its full length.
    """
    starts_at = local_datetime(day, start_time, tz)
    ends_at = (starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=duration_minutes)).astimezone(tz)
    return starts_at, ends_at


def occurrences(
    blocks: Iterable[BlockSpec],
    start: dt.date,
    end: dt.date,
    closures: Mapping[dt.date, str],
    tz: ZoneInfo,
) -> list[Occurrence]:
    """Every occurrence of `blocks` from `start` to `end` (both included), sorted by start.

    A block occurs on its weekday within its validity. Occurrences on a closure date are returned with
    `closed_reason` set to the closure's name (the caller creates them cancelled).
    """
    found: list[Occurrence] = []
    block_list = list(blocks)
    for day in daterange(start, end):
        for block in block_list:
            if day.weekday() != block.weekday or day < block.valid_from:
                continue
            if block.valid_until is not None and day > block.valid_until:
                continue
            starts_at, ends_at = session_times(day, block.start_time, block.duration_minutes, tz)
            found.append(
                Occurrence(
                    key=block.key,
                    date=day,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    closed_reason=closures.get(day, ""),
                )
            )
    found.sort(key=lambda o: (o.starts_at, o.key))
    return found


def curriculum_week(day: dt.date, anchor: dt.date, rotation_weeks: int) -> int:
    """The curriculum week (1..rotation_weeks) taught on `day`.

    Rule: week 1 is the ISO week (Monday to Sunday) that contains `anchor`, the first day of the
    track's schedule (its earliest block's valid_from); each following ISO week takes the next topic,
    and after the last topic the rotation starts again at week 1. Rolling admission means a patient
    joins wherever the rotation is. Raises ValueError when rotation_weeks < 1.
    """
    if rotation_weeks < 1:
        raise ValueError("A curriculum needs at least one week")
    weeks = (IsoWeek.of(day).monday - IsoWeek.of(anchor).monday).days // 7
    return weeks % rotation_weeks + 1


@dataclass(frozen=True)
class DateSpan:
    """Dates from start to end, both included; end None = open-ended (an enrollment)."""

    start: dt.date
    end: dt.date | None = None

    def contains(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: DateSpan) -> bool:
        return (other.end is None or self.start <= other.end) and (
            self.end is None or other.start <= self.end
        )


def count_on(spans: Iterable[DateSpan], day: dt.date) -> int:
    """How many spans include `day`."""
    return sum(1 for s in spans if s.contains(day))


def peak_concurrent(spans: Iterable[DateSpan], new: DateSpan) -> tuple[int, dt.date]:
    """The most spans open on any one date of `new`, counting `new` itself, and the first such date.

    The count only changes when a span starts, so the peak falls on new.start or on the start of a
    span inside `new`.
    """
    overlapping = [s for s in spans if s.overlaps(new)]
    candidates = sorted({new.start} | {s.start for s in overlapping if s.start > new.start})
    best, best_day = 0, new.start
    for day in candidates:
        if not new.contains(day):
            continue
        n = count_on(overlapping, day) + 1
        if n > best:
            best, best_day = n, day
    return best, best_day


@dataclass(frozen=True)
class SeatCheck:
    """A dated session that seats at most `capacity` people (its room)."""

    date: dt.date
    capacity: int
    label: str


def first_room_overflow(
    sessions: Iterable[SeatCheck], spans: Iterable[DateSpan], new: DateSpan | None = None
) -> tuple[SeatCheck, int] | None:
    """The first session whose roster exceeds its room (with `new` added, when given, and only on
    the dates of `new`), and that roster size. Returns None when all fit.

    The roster of a session is every span that includes its date.
    """
    span_list = list(spans) if new is None else [s for s in spans if s.overlaps(new)]
    for session in sorted(sessions, key=lambda s: (s.date, s.label)):
        if new is not None and not new.contains(session.date):
            continue
        size = count_on(span_list, session.date) + (0 if new is None else 1)
        if size > session.capacity:
            return session, size
    return None


def intervals_overlap(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> bool:
    """Whether two half-open time intervals [start, end) overlap (back-to-back does not)."""
    return a_start < b_end and b_start < a_end
