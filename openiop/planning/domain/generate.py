"""Synthetic week instances in the shape of the synthetic network (for the benchmark and tests).

The caller passes the shape and the configuration, nothing clinical is decided here: the tracks'
weekly blocks (bench/plan.py passes `openiop/demo/synth/plan.py`'s TRACK_TEMPLATES), each age
band's weekly minimum (bench passes programs.domain's configured defaults), and the session types
with their group size limits (bench passes 12 for group therapy, the 90853 limit).

Assumptions for synthetic data only: about `patients_per_site` patients a site, split among the
tracks by their shares; each block runs in as many parallel sections as the track's patients need
at the type's group limit; four licensed clinicians ( two on a day shift 08:00-17:00, two on
a late shift 12:00-21:00) and two case managers per site; the site's four rooms (16, 16, 12, 20
seats, as `openiop synth` builds); individual sessions are 50-minute slots of each licensed
clinician at 13:00, 14:00, 15:00 and 17:00 on weekdays, in their office (no room). Patients are
available on the track's days in the track's part of the day, except that some miss days for work
or school (a share of them too many to reach their minimum, so shortfalls and reasons appear).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openiop.planning.domain.model import (
    Instance,
    Patient,
    Requirement,
    Room,
    Session,
    SessionType,
    Staff,
    Window,
)

DAY = 24 * 60


@dataclass(frozen=True)
class BlockShape:
    start_minute_of_day: int
    duration_minutes: int
    session_type: str


@dataclass(frozen=True)
class TrackShape:
    name: str
    age_band: str
    weekdays: tuple[int, ...]
    blocks: tuple[BlockShape, ...]
    share: float


ROOM_SEATS = (16, 16, 12, 20)
INDIVIDUAL_SLOTS = (13 * 60, 14 * 60, 15 * 60, 17 * 60)
INDIVIDUAL_MINUTES = 50
STAFF_MAX_MINUTES = 25 * 60  # direct service a week per person (assumption)
# Shares of patients missing days of their track (assumption): none, one, two, three.
MISSED_DAYS_MIX = ((0, 0.55), (1, 0.25), (2, 0.12), (3, 0.08))


def _pick(rng: random.Random, mix: Sequence[tuple[int, float]]) -> int:
    roll = rng.random()
    for value, weight in mix:
        roll -= weight
        if roll < 0:
            return value
    return mix[-1][0]


def generate_week(
    *,
    patients: int,
    seed: int,
    tracks: Sequence[TrackShape],
    minimum_minutes: Mapping[str, int],
    session_types: Sequence[SessionType],
    individual_type: str,
    patients_per_site: int = 40,
    week_start: str = "2026-03-02",
    time_zone: str = "America/Chicago",
) -> Instance:
    """A week of `patients` patients over ceil(patients / patients_per_site) sites. Same
    arguments, same instance. Raises ValueError for fewer than one patient or no tracks."""
    if patients < 1 or not tracks:
        raise ValueError("need at least one patient and one track")
    rng = random.Random(seed)
    types = {t.name: t for t in session_types}
    sites = max(1, math.ceil(patients / patients_per_site))
    out_patients: list[Patient] = []
    out_sessions: list[Session] = []
    out_staff: list[Staff] = []
    out_rooms: list[Room] = []
    total_share = sum(t.share for t in tracks)
    numbered = 0
    for site in range(sites):
        site_id = f"S{site + 1:02d}"
        here = patients // sites + (1 if site < patients % sites else 0)
        rooms = [f"{site_id}-R{i + 1}" for i in range(len(ROOM_SEATS))]
        out_rooms.extend(Room(r, c) for r, c in zip(rooms, ROOM_SEATS, strict=True))
        weekdays_all = [Window(d * DAY + 8 * 60, d * DAY + 17 * 60) for d in range(5)]
        late = [Window(d * DAY + 12 * 60, d * DAY + 21 * 60) for d in range(5)]
        staff: list[Staff] = []
        for i in range(4):
            staff.append(
                Staff(
                    f"{site_id}-C{i + 1}",
                    ("clinician", "licensed"),
                    tuple(weekdays_all if i < 2 else late),
                    STAFF_MAX_MINUTES,
                    site_id,
                )
            )
        for i in range(2):
            staff.append(
                Staff(
                    f"{site_id}-M{i + 1}",
                    ("case_manager",),
                    tuple(weekdays_all if i == 0 else late),
                    STAFF_MAX_MINUTES,
                    site_id,
                )
            )
        out_staff.extend(staff)
        staff_ids = tuple(k.id for k in staff)
        # patients of this site, by track
        counts = [math.floor(here * t.share / total_share) for t in tracks]
        for i in range(here - sum(counts)):
            counts[i % len(counts)] += 1
        for t_index, (track, count) in enumerate(zip(tracks, counts, strict=True)):
            if count == 0:
                continue
            track_id = f"{site_id}-T{t_index + 1}"
            day_start = min(b.start_minute_of_day for b in track.blocks)
            day_end = max(b.start_minute_of_day + b.duration_minutes for b in track.blocks)
            for block_index, block in enumerate(track.blocks):
                limit = types[block.session_type].max_patients or max(ROOM_SEATS)
                sections = math.ceil(count / limit)
                per_section = math.ceil(count / sections) + 1
                for section in range(sections):
                    series = f"{track_id}-B{block_index + 1}{'ABCDEFGH'[section]}"
                    for day in track.weekdays:
                        start = day * DAY + block.start_minute_of_day
                        out_sessions.append(
                            Session(
                                id=f"{series}-D{day}",
                                session_type=block.session_type,
                                start_minute=start,
                                end_minute=start + block.duration_minutes,
                                capacity=per_section,
                                allowed_facilitators=staff_ids,
                                tracks=(track_id,),
                                needs_room=True,
                                allowed_rooms=tuple(rooms),
                                series=series,
                                block=f"{track_id}-B{block_index + 1}",
                            )
                        )
            for _ in range(count):
                numbered += 1
                missed = set(
                    rng.sample(
                        track.weekdays, min(len(track.weekdays), _pick(rng, MISSED_DAYS_MIX))
                    )
                )
                windows = [
                    Window(d * DAY + day_start - 90, d * DAY + day_end + 30)
                    if day_start >= 15 * 60
                    else Window(d * DAY + day_start - 60, d * DAY + 16 * 60)
                    for d in range(5)
                    if d not in missed
                ]
                if day_start >= 15 * 60:
                    # evening patients may come earlier one or two days a week
                    for d in rng.sample(range(5), rng.randint(0, 2)):
                        windows.append(Window(d * DAY + 12 * 60 + 30, d * DAY + day_start - 90))
                out_patients.append(
                    Patient(
                        id=f"P{numbered:05d}",
                        track=track_id,
                        availability=tuple(sorted(windows, key=lambda w: w.start_minute)),
                        required_minutes=minimum_minutes[track.age_band],
                        requirements=(Requirement(individual_type, 1),),
                    )
                )
        for k in staff:
            if individual_type in types and set(types[individual_type].required_credentials) <= set(
                k.credentials
            ):
                for d in range(5):
                    for slot in INDIVIDUAL_SLOTS:
                        start = d * DAY + slot
                        out_sessions.append(
                            Session(
                                id=f"{k.id}-I{d}-{slot // 60:02d}",
                                session_type=individual_type,
                                start_minute=start,
                                end_minute=start + INDIVIDUAL_MINUTES,
                                capacity=1,
                                allowed_facilitators=(k.id,),
                                tracks=tuple(
                                    f"{site_id}-T{i + 1}" for i, c in enumerate(counts) if c
                                ),
                                needs_room=False,
                            )
                        )
    return Instance(
        week_start=week_start,
        time_zone=time_zone,
        session_types=tuple(session_types),
        patients=tuple(out_patients),
        sessions=tuple(out_sessions),
        staff=tuple(out_staff),
        rooms=tuple(out_rooms),
    )
