"""The shape of a synthetic clinic network, as pure functions (no Django, no I/O, no clock).

`openiop synth` uses this plan to fill a database for the benchmark. Nothing here is a clinical
rule: the figures below are assumptions chosen to make the data look like a real network, and only
the discharge-reason mix and the lengths of stay by reason come from a source (TEDS 2004, in
../shared/domain.md section 8: 37.7% completed, 17.9% transferred, 23.2% dropped out, 14.0%
terminated, 7.2% other; adult median length of stay 41 days, completers 50, dropouts 26, and a
mean near 74 days, i.e. a long right tail, which the log-normal spread below reproduces).

A track has `capacity` seats. Each seat holds one episode after another: the first was admitted
before the window began (so the window opens mid-stream), each stay's length follows its discharge
reason, and the stay that crosses `today` is still active. Patients not seated are waitlisted or
on hold. Everything follows from the seed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

# TEDS 2004 IOP discharges (../shared/domain.md section 8).
DISCHARGE_MIX: tuple[tuple[str, float], ...] = (
    ("completed", 0.377),
    ("transferred", 0.179),
    ("dropped_out", 0.232),
    ("terminated", 0.140),
    ("other", 0.072),
)
# Median length of stay in days by reason: completers 50 and dropouts 26 are TEDS 2004 figures; the
# other three are assumptions between them (synthetic data only).
MEDIAN_STAY_DAYS: dict[str, int] = {
    "completed": 50,
    "transferred": 35,
    "dropped_out": 26,
    "terminated": 30,
    "other": 30,
}
# Assumed attendance mix for a session on the roster (synthetic data only).
ATTENDANCE_MIX: tuple[tuple[str, float], ...] = (
    ("present", 0.80),
    ("late", 0.05),
    ("left_early", 0.04),
    ("absent_excused", 0.05),
    ("absent_unexcused", 0.06),
)
OPEN_NOT_SEATED_SHARE = 0.06  # share of patients waitlisted or on hold (assumption)
# Log-normal spread of stays around each median: sigma 1.3 with stays kept to 7-365 days puts the
# overall mean near the TEDS mean of about 74 days (the medians above are kept; the earlier cap of
# 182 days cut the long tail and gave a mean of 56).
STAY_SIGMA = 1.3
MIN_STAY_DAYS, MAX_STAY_DAYS = 7, 365
# Individual and family sessions beside the groups. TIP 47 lists individual counseling and family
# psychoeducation among IOP core services, AZ S9480 asks for 1-3 individual sessions a week and NJ
# 10:161B monthly family sessions (../shared/domain.md); the cadence below is an assumption inside
# those figures: one individual session a week, a family session every 4 weeks for adults and every
# 2 weeks for adolescents.
INDIVIDUAL_MINUTES = 50
FAMILY_MINUTES = 60
# Share of stays that readmit a patient discharged earlier in the window (at least READMIT_GAP_DAYS
# before) to a track of the same site and age band; domain.md counts readmission as an outcome but
# gives no rate, so this is an assumption for synthetic data. Returning patients make episodes
# outnumber patients, as in a real network.
READMISSION_SHARE = 0.25
READMIT_GAP_DAYS = 14


@dataclass(frozen=True)
class BlockTemplate:
    start: dt.time
    duration_minutes: int
    kind: str
    title: str


@dataclass(frozen=True)
class TrackTemplate:
    name: str
    age_band: str
    weekdays: tuple[int, ...]
    blocks: tuple[BlockTemplate, ...]
    share: float  # share of a site's tracks built from this template
    appointment_start: dt.time  # individual and family sessions: before or after the groups
    family_every_weeks: int

    @property
    def sessions_per_week(self) -> int:
        return len(self.weekdays) * len(self.blocks)


# Adult Day meets Monday to Friday, 3 h a day (15 h a week, inside the 9-19 h band payers use); the
# evening tracks meet 3 or 4 evenings. Assumptions for synthetic data.
TRACK_TEMPLATES: tuple[TrackTemplate, ...] = (
    TrackTemplate(
        "Adult Day IOP",
        "adult",
        (0, 1, 2, 3, 4),
        (
            BlockTemplate(dt.time(9, 0), 60, "group_therapy", "Process group"),
            BlockTemplate(dt.time(10, 0), 45, "psychoeducation", "Psychoeducation"),
            BlockTemplate(dt.time(10, 45), 45, "skills", "Skill of the week"),
            BlockTemplate(dt.time(11, 30), 30, "holistic", "Mindfulness and movement"),
        ),
        0.5,
        dt.time(13, 0),
        4,
    ),
    TrackTemplate(
        "Adult Evening IOP",
        "adult",
        (0, 1, 3),
        (
            BlockTemplate(dt.time(18, 0), 60, "group_therapy", "Evening process group"),
            BlockTemplate(dt.time(19, 0), 60, "skills", "Skills workshop"),
            BlockTemplate(dt.time(20, 0), 60, "psychoeducation", "Relapse prevention"),
        ),
        0.3,
        dt.time(16, 30),
        4,
    ),
    TrackTemplate(
        "Adolescent Evening IOP",
        "adolescent",
        (0, 1, 2, 3),
        (
            BlockTemplate(dt.time(16, 0), 60, "group_therapy", "Teen process group"),
            BlockTemplate(dt.time(17, 0), 60, "psychoeducation", "Teen skills"),
            BlockTemplate(dt.time(18, 0), 60, "family_group", "Family group"),
        ),
        0.2,
        dt.time(14, 45),
        2,
    ),
)


@dataclass(frozen=True)
class Stay:
    """One seated episode: admitted on `admission`, discharged on `discharge` (None = active)."""

    track_index: int
    admission: dt.date
    discharge: dt.date | None
    reason: str  # a DischargeReason value, or "" while active
    person: int = 0  # the patient (0-based); a readmitted patient has several stays


@dataclass(frozen=True)
class NetworkPlan:
    window_start: dt.date  # a Monday
    window_end: dt.date  # last day with sessions (today + the weeks ahead)
    tracks: tuple[tuple[int, TrackTemplate], ...]  # (site index, template)
    stays: tuple[Stay, ...]  # in admission order
    people: int  # distinct seated patients (persons 0 .. people-1)
    unseated: int  # waitlisted or on hold

    @property
    def readmissions(self) -> int:
        return len(self.stays) - self.people


def weighted(rng: random.Random, mix: Sequence[tuple[str, float]]) -> str:
    """One key of `mix` drawn with its weight."""
    roll = rng.random() * sum(w for _, w in mix)
    for key, weight in mix:
        roll -= weight
        if roll < 0:
            return key
    return mix[-1][0]


def stay_days(rng: random.Random, reason: str) -> int:
    """A length of stay in days around the reason's median (log-normal, 7 to 182 days)."""
    median = MEDIAN_STAY_DAYS[reason]
    days = round(median * math.exp(rng.gauss(0, STAY_SIGMA)))
    return max(MIN_STAY_DAYS, min(MAX_STAY_DAYS, days))


def mean_stay_days(samples: int = 20_000) -> float:
    """The mean length of stay the mix and spread give (sampled with a fixed seed)."""
    rng = random.Random(0)
    return sum(stay_days(rng, weighted(rng, DISCHARGE_MIX)) for _ in range(samples)) / samples


def seats_needed(patients: int, window_days: int, capacity: int) -> int:
    """How many tracks the seated patients fill over the window (expected stays per seat)."""
    mean_stay = mean_stay_days()
    stays_per_seat = (window_days + mean_stay / 2) / (mean_stay + 1.5)
    seated = patients * (1 - OPEN_NOT_SEATED_SHARE) / (1 - READMISSION_SHARE)
    return max(1, math.ceil(seated / stays_per_seat / capacity))


def plan_network(
    *, sites: int, patients: int, weeks: int, today: dt.date, capacity: int, seed: int
) -> NetworkPlan:
    """The tracks and seated stays of a network of `sites` clinics over `weeks` weeks to `today`.

    Raises ValueError for sizes below one.
    """
    if sites < 1 or patients < 1 or weeks < 1 or capacity < 1:
        raise ValueError("sites, patients, weeks and capacity must each be 1 or more")
    rng = random.Random(seed)
    window_start = today - dt.timedelta(days=today.weekday() + 7 * (weeks - 1))
    window_end = today + dt.timedelta(days=13 - today.weekday())
    track_count = max(sites, seats_needed(patients, (today - window_start).days + 1, capacity))
    tracks: list[tuple[int, TrackTemplate]] = []
    for i in range(track_count):
        site = i % sites
        template = _template_for(i // sites)
        tracks.append((site, template))
    people = patients - round(patients * OPEN_NOT_SEATED_SHARE)
    budget = round(people / (1 - READMISSION_SHARE))
    stays: list[Stay] = []
    for track_index in range(track_count):
        for _seat in range(capacity):
            for stay in _seat_stays(rng, track_index, window_start, today):
                if len(stays) >= budget:
                    break
                stays.append(stay)
    # Tracks left without a stay once the patients ran out are not opened (every site keeps one).
    used = max((s.track_index for s in stays), default=0) + 1
    tracks = tracks[: max(sites, used)]
    seated, people = _assign_people(rng, stays, tracks, people)
    return NetworkPlan(
        window_start=window_start,
        window_end=window_end,
        tracks=tuple(tracks),
        stays=tuple(seated),
        people=people,
        unseated=patients - people,
    )


def _assign_people(
    rng: random.Random,
    stays: list[Stay],
    tracks: Sequence[tuple[int, TrackTemplate]],
    limit: int,
) -> tuple[list[Stay], int]:
    """Give each stay a patient, in admission order: a new one, or (READMISSION_SHARE of the time,
    when someone qualifies) a patient of the same site and age band discharged at least
    READMIT_GAP_DAYS before. Never more than `limit` patients: stays beyond that readmit or are
    dropped. Returns the stays with their `person` and how many patients were used."""
    waiting: dict[tuple[int, str], list[tuple[dt.date, int]]] = {}
    assigned: list[Stay] = []
    people = 0
    for stay in sorted(stays, key=lambda s: (s.admission, s.track_index)):
        site, template = tracks[stay.track_index]
        pool = waiting.setdefault((site, template.age_band), [])
        ready = [k for k, (free, _) in enumerate(pool) if free <= stay.admission]
        if ready and (people >= limit or rng.random() < READMISSION_SHARE):
            person = pool.pop(ready[rng.randrange(len(ready))])[1]
        elif people < limit:
            person, people = people, people + 1
        else:
            continue
        assigned.append(replace(stay, person=person))
        if stay.discharge is not None:
            free = stay.discharge + dt.timedelta(days=READMIT_GAP_DAYS)
            pool.append((free, person))
    return assigned, people


def _template_for(round_index: int) -> TrackTemplate:
    """Templates in proportion to their share, interleaved (smooth weighted round robin), so that
    a site's first few tracks already mix them: each site's n-th track follows the same cycle."""
    return TEMPLATE_CYCLE[round_index % len(TEMPLATE_CYCLE)]


def _interleaved_cycle(templates: Sequence[TrackTemplate], length: int = 10) -> list[TrackTemplate]:
    credit = [0.0] * len(templates)
    cycle: list[TrackTemplate] = []
    for _ in range(length):
        for i, t in enumerate(templates):
            credit[i] += t.share
        best = max(range(len(templates)), key=lambda i: credit[i])
        credit[best] -= 1.0
        cycle.append(templates[best])
    return cycle


TEMPLATE_CYCLE = _interleaved_cycle(TRACK_TEMPLATES)


def _seat_stays(
    rng: random.Random, track_index: int, window_start: dt.date, today: dt.date
) -> Iterator[Stay]:
    reason = weighted(rng, DISCHARGE_MIX)
    length = stay_days(rng, reason)
    admission = window_start - dt.timedelta(days=rng.randrange(length))
    while admission <= today:
        discharge = admission + dt.timedelta(days=length)
        if discharge >= today:
            yield Stay(track_index, admission, None, "")
            return
        yield Stay(track_index, admission, discharge, reason)
        admission = discharge + dt.timedelta(days=rng.choice((1, 1, 2, 3)))
        reason = weighted(rng, DISCHARGE_MIX)
        length = stay_days(rng, reason)


def minutes_for(status: str, duration: int, rng: random.Random) -> int:
    """Minutes attended for a drawn status (late and left early miss 10-30 minutes)."""
    if status == "present":
        return duration
    if status in ("late", "left_early"):
        return max(5, duration - rng.choice((10, 15, 20, 30)))
    return 0


@dataclass(frozen=True)
class Appointment:
    """An individual or family session booked for one stay."""

    date: dt.date
    kind: str  # a SessionKind value: "individual" or "family"
    start: dt.time
    duration_minutes: int


def appointments(
    stay: Stay, template: TrackTemplate, key: int, window_start: dt.date, window_end: dt.date
) -> list[Appointment]:
    """The individual (weekly) and family (every `family_every_weeks`) sessions of one stay.

    They fall on one of the track's days (chosen by `key`, e.g. the stay's index, so a clinician's
    appointments spread over the week), at the template's appointment time, from admission to
    discharge (or to `window_end` while active), inside the window. Returns them in date order.
    """
    days = template.weekdays
    individual_day = days[key % len(days)]
    family_day = days[(key + 1) % len(days)]
    last = min(stay.discharge or window_end, window_end)
    monday = stay.admission - dt.timedelta(days=stay.admission.weekday())
    found: list[Appointment] = []
    week = 0
    while monday <= last:
        wanted = [(individual_day, "individual", INDIVIDUAL_MINUTES)]
        if week % template.family_every_weeks == template.family_every_weeks - 1:
            wanted.append((family_day, "family", FAMILY_MINUTES))
        for weekday, kind, minutes in sorted(wanted):
            day = monday + dt.timedelta(days=weekday)
            if stay.admission <= day <= last and day >= window_start:
                found.append(Appointment(day, kind, template.appointment_start, minutes))
        monday += dt.timedelta(days=7)
        week += 1
    return found


def expected_attendance_rows(plan: NetworkPlan, today: dt.date) -> int:
    """Roster rows the plan gives for past sessions (before `today`), for a quick size estimate:
    the groups of each stay's track plus its individual and family sessions."""
    total = 0
    yesterday = today - dt.timedelta(days=1)
    for i, stay in enumerate(plan.stays):
        template = plan.tracks[stay.track_index][1]
        start = max(stay.admission, plan.window_start)
        end = min(stay.discharge or today, yesterday)
        if end < start:
            continue
        days = (end - start).days + 1
        total += round(days / 7 * template.sessions_per_week)
        total += sum(1 for a in appointments(stay, template, i, plan.window_start, yesterday))
    return total
