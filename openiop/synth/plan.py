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
from dataclasses import dataclass

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
# Log-normal spread of stays around each median: sigma 1.0 puts the overall mean near the TEDS mean
# of about 74 days (the medians above are kept); stays are kept to 7-182 days.
STAY_SIGMA = 1.1
MIN_STAY_DAYS, MAX_STAY_DAYS = 7, 182


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

    @property
    def sessions_per_week(self) -> int:
        return len(self.weekdays) * len(self.blocks)


TRACK_TEMPLATES: tuple[TrackTemplate, ...] = (
    TrackTemplate(
        "Adult Day IOP",
        "adult",
        (0, 1, 2, 3),
        (
            BlockTemplate(dt.time(9, 0), 60, "group_therapy", "Process group"),
            BlockTemplate(dt.time(10, 0), 45, "psychoeducation", "Psychoeducation"),
            BlockTemplate(dt.time(10, 45), 45, "skills", "Skill of the week"),
            BlockTemplate(dt.time(11, 30), 30, "holistic", "Mindfulness and movement"),
        ),
        0.5,
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
    ),
)


@dataclass(frozen=True)
class Stay:
    """One seated episode: admitted on `admission`, discharged on `discharge` (None = active)."""

    track_index: int
    admission: dt.date
    discharge: dt.date | None
    reason: str  # a DischargeReason value, or "" while active


@dataclass(frozen=True)
class NetworkPlan:
    window_start: dt.date  # a Monday
    window_end: dt.date  # last day with sessions (today + the weeks ahead)
    tracks: tuple[tuple[int, TrackTemplate], ...]  # (site index, template)
    stays: tuple[Stay, ...]
    unseated: int  # waitlisted or on hold


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
    seated = patients * (1 - OPEN_NOT_SEATED_SHARE)
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
    budget = patients - round(patients * OPEN_NOT_SEATED_SHARE)
    stays: list[Stay] = []
    for track_index in range(track_count):
        for _seat in range(capacity):
            for stay in _seat_stays(rng, track_index, window_start, today):
                if len(stays) >= budget:
                    break
                stays.append(stay)
    return NetworkPlan(
        window_start=window_start,
        window_end=window_end,
        tracks=tuple(tracks),
        stays=tuple(stays),
        unseated=patients - len(stays),
    )


def _template_for(round_index: int) -> TrackTemplate:
    """Templates in proportion to their share: each site's n-th track follows the same cycle."""
    cycle = [t for t in TRACK_TEMPLATES for _ in range(round(t.share * 10))]
    return cycle[round_index % len(cycle)]


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


def expected_attendance_rows(plan: NetworkPlan, today: dt.date) -> int:
    """Roster rows the plan gives for past sessions (before `today`), for a quick size estimate."""
    total = 0
    for stay in plan.stays:
        template = plan.tracks[stay.track_index][1]
        start = max(stay.admission, plan.window_start)
        end = min(stay.discharge or today, today - dt.timedelta(days=1))
        if end < start:
            continue
        days = (end - start).days + 1
        total += round(days / 7 * template.sessions_per_week)
    return total
