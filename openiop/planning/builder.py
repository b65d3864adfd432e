"""The week's planning instance read from the database (issue 19 point 3): a site's scheduled
sessions of one week, its active patients with their weekly minimum, facilitators and rooms.

No access check and no audit here: the services and selectors that call it make theirs.

What the database does not record is taken as follows (documented in docs/planning-format.md):
- patients' availability: the site's weekdays (Monday to Friday) from DAY_HOURS (setting
  OPENIOP_PLANNING_DAY_HOURS, default 7 to 21 local), plus every session they are already on;
- who may attend a group: patients of any track of the site with the session's age band
  (adults with adults, adolescents with adolescents);
- a session's capacity: its room's seats (its track's capacity without a room), never below the
  patients already on it;
- facilitators and rooms: the session's own (the schedule's), available all week.
The rosters as they stand (enrollments, seats, appointments, recorded attendance) are
`fixed.patient_sessions`: a plan only adds to them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from openiop.attendance.models import Attendance, RosterSeat
from openiop.attendance.selectors import weekly_lines
from openiop.core.dates import IsoWeek
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.planning.domain.makeup import Need
from openiop.planning.domain.model import (
    Fixed,
    Instance,
    Patient,
    Room,
    Session,
    SessionType,
    Staff,
    Window,
)
from openiop.programs.choices import SessionStatus
from openiop.programs.domain import APPOINTMENT_KINDS
from openiop.programs.models import Enrollment, GroupSession, Site, Track
from openiop.programs.models import Room as RoomModel

DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
# A patient's own appointments (individual, family, medication management) are optional session
# types: no one is required to attend one of each kind a week.
OPTIONAL_KINDS = APPOINTMENT_KINDS


def day_hours() -> tuple[int, int]:
    """(first hour, last hour) of a weekday patients are taken to be available (local)."""
    first, last = getattr(settings, "OPENIOP_PLANNING_DAY_HOURS", (7, 21))
    return int(first), int(last)


def episode_key(pk: int) -> str:
    return f"e{pk}"


def session_key(pk: int) -> str:
    return f"s{pk}"


def key_pk(key: str) -> int:
    """'e12' -> 12; ValueError for anything else."""
    if len(key) < 2 or not key[1:].isdigit():
        raise ValueError(key)
    return int(key[1:])


def minute_of(value: dt.datetime, monday: dt.date, tz: dt.tzinfo) -> int:
    """Minutes from Monday 00:00 (wall clock at the site) to `value`."""
    local = value.astimezone(tz).replace(tzinfo=None)
    return int((local - dt.datetime.combine(monday, dt.time())).total_seconds() // 60)


@dataclass(frozen=True)
class Built:
    instance: Instance
    needs: tuple[Need, ...]  # what each patient still lacks this week (the ledger's gap)


def build_week(*, site: Site, week: IsoWeek, today: dt.date, track: Track | None = None) -> Built:
    """The instance of `site`'s `week` (patients of `track` only, when given) and each patient's
    remaining need as the weekly ledger counts it on `today`. Queries: a constant handful."""
    tz = site.tz
    monday, sunday = week.monday, week.sunday
    sessions = list(
        GroupSession.objects.filter(
            site=site, date__gte=monday, date__lte=sunday, status=SessionStatus.SCHEDULED
        )
        .select_related("track", "room")
        .order_by("starts_at", "pk")
    )
    tracks = {t.pk: t for t in Track.objects.filter(site=site)}
    enrollments = list(
        Enrollment.objects.during(monday, sunday)
        .filter(track__site=site)
        .select_related("episode")
        .order_by("start_date", "pk")
    )
    seats = list(
        RosterSeat.objects.filter(session__in=sessions).values_list("session_id", "episode_id")
    )
    recorded = list(
        Attendance.objects.filter(session__in=sessions)
        .order_by()
        .values_list("session_id", "episode_id")
    )

    # The rosters as they stand: every episode on every session (all statuses, all tracks).
    members: dict[int, set[int]] = defaultdict(set)
    by_track: dict[int, list[Enrollment]] = defaultdict(list)
    for en in enrollments:
        by_track[en.track_id].append(en)
    for s in sessions:
        if s.episode_id:
            members[s.pk].add(s.episode_id)
        for en in by_track.get(s.track_id or 0, []):
            last = min(d for d in (en.end_date, en.episode.discharge_date, s.date) if d)
            if en.start_date <= s.date <= last:
                members[s.pk].add(en.episode_id)
    for session_id, episode_id in seats + recorded:
        members[session_id].add(episode_id)

    # The patients planned: active episodes of the site enrolled this week (in `track`).
    track_of: dict[int, int] = {}
    episodes: dict[int, Episode] = {}
    for en in enrollments:
        e = en.episode
        if e.status != EpisodeStatus.ACTIVE or e.site_id != site.pk:
            continue
        if track is not None and en.track_id != track.pk:
            continue
        track_of[e.pk] = en.track_id  # the latest enrollment of the week wins
        episodes[e.pk] = e
    ordered = sorted(episodes.values(), key=lambda e: e.pk)
    lines = weekly_lines(ordered, [week], today)

    minute = {
        s.pk: (minute_of(s.starts_at, monday, tz), minute_of(s.ends_at, monday, tz))
        for s in sessions
    }
    first_hour, last_hour = day_hours()
    weekdays = tuple(
        Window(d * DAY_MINUTES + first_hour * 60, d * DAY_MINUTES + last_hour * 60)
        for d in range(5)
    )
    mine: dict[int, list[int]] = defaultdict(list)
    for s in sessions:
        for episode_id in members[s.pk]:
            if episode_id in episodes:
                mine[episode_id].append(s.pk)

    patients: list[Patient] = []
    needs: list[Need] = []
    for e in ordered:
        line = lines.get(e.pk, [None])[0]
        minimum = line.minimum_minutes if line is not None and line.minimum_minutes else 0
        extra = tuple(
            Window(*minute[s_id]) for s_id in mine[e.pk] if 0 <= minute[s_id][0] < WEEK_MINUTES
        )
        patients.append(
            Patient(
                id=episode_key(e.pk),
                track=f"t{track_of[e.pk]}",
                availability=weekdays + extra,
                required_minutes=minimum,
            )
        )
        if line is not None and line.minimum_minutes:
            short = line.minimum_minutes - line.attended_minutes - line.remaining_minutes
            needs.append(Need(episode_key(e.pk), max(0, short)))

    same_band: dict[str, tuple[str, ...]] = defaultdict(tuple)
    for t in tracks.values():
        same_band[t.age_band] += (f"t{t.pk}",)
    room_rows = {r.pk: r for r in RoomModel.objects.filter(site=site)}
    room_need: dict[int, int] = defaultdict(int)
    out_sessions: list[Session] = []
    fixed: list[tuple[str, str]] = []
    kinds: set[str] = set()
    for s in sessions:
        start, end = minute[s.pk]
        inside = sorted(e for e in members[s.pk] if e in episodes)
        if s.episode_id:
            if s.episode_id not in episodes:
                continue
            open_to: tuple[str, ...] = (f"t{track_of[s.episode_id]}",)
            capacity = 1
        elif s.track_id:
            open_to = same_band[tracks[s.track_id].age_band]
            seats_of = s.room.capacity if s.room else tracks[s.track_id].capacity
            others = len(members[s.pk]) - len(inside)
            capacity = max(seats_of - others, len(inside))
        else:
            continue
        kinds.add(s.kind)
        if s.room_id:
            room_need[s.room_id] = max(room_need[s.room_id], len(inside))
        out_sessions.append(
            Session(
                id=session_key(s.pk),
                session_type=s.kind,
                start_minute=start,
                end_minute=end,
                capacity=capacity,
                allowed_facilitators=(f"u{s.facilitator_id}",),
                tracks=open_to,
                needs_room=s.room_id is not None,
                allowed_rooms=(f"r{s.room_id}",) if s.room_id else (),
                series=f"b{s.block_id}" if s.block_id else "",
            )
        )
        fixed.extend((episode_key(e), session_key(s.pk)) for e in inside)

    staff_ids = sorted({s.allowed_facilitators[0] for s in out_sessions})
    return Built(
        instance=Instance(
            week_start=monday.isoformat(),
            time_zone=site.timezone,
            session_types=tuple(
                SessionType(kind, optional=kind in OPTIONAL_KINDS) for kind in sorted(kinds)
            ),
            patients=tuple(patients),
            sessions=tuple(out_sessions),
            staff=tuple(
                Staff(k, (), (Window(0, WEEK_MINUTES),), WEEK_MINUTES, f"site{site.pk}")
                for k in staff_ids
            ),
            rooms=tuple(
                Room(f"r{r.pk}", max(r.capacity, room_need.get(r.pk, 0)))
                for r in room_rows.values()
            ),
            fixed=Fixed(patient_sessions=tuple(sorted(fixed))),
        ),
        needs=tuple(needs),
    )
