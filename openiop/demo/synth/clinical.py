"""Questionnaire answers for the synthetic network, as pure functions (no Django, no clock).

Each stay gets a symptom trajectory; each questionnaire the schedule asks for gets raw answers drawn
near the trajectory's level on that day, and its score comes from the measures app's own scoring
function (`openiop.measures.domain.REGISTRY`), so totals, bands, flags and subscales are exactly what
the app would store for those answers. Nothing here is a clinical rule: the baselines, the share of
patients who improve and the answer rates are assumptions chosen to look like a real program.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

from openiop.measures.domain import REGISTRY
from openiop.measures.domain.care import alert_triggers

# Who improves, and by how much of the baseline by week 8 (assumption): most improve, some partly,
# some do not (the program view flags them at week 3), a few get worse.
RESPONSE_MIX: tuple[tuple[float, float, float], ...] = (
    # (share, lowest effect, highest effect); effect 0.5 = half the baseline symptoms gone
    (0.55, 0.40, 0.70),
    (0.25, 0.15, 0.35),
    (0.15, -0.05, 0.10),
    (0.05, -0.35, -0.15),
)
FULL_EFFECT_DAYS = 56
COMPLETION_RATE = 0.9  # scheduled questionnaires actually answered (assumption)
CHECKIN_RATE = (
    0.89  # program days with a C-SSRS check-in: the share attended in plan.ATTENDANCE_MIX
)
# PHQ item 9 at 1 or more, by the day's total (assumption; opens a safety alert in the app).
ITEM9_RATES: tuple[tuple[int, float], ...] = ((20, 0.03), (15, 0.012), (10, 0.004), (0, 0.0005))
CSSRS_LOW_RATE = 0.02  # a check-in with a passive wish to be dead (Q1 yes: low tier)
CSSRS_MODERATE_RATE = 0.0004  # method without plan (Q2+Q3 yes: moderate tier, opens an alert)
POOL_SIZE = 6  # answer sets kept per (instrument, level): enough variety, little scoring work


@dataclass(frozen=True)
class Trajectory:
    """One stay's symptom course: baselines and how much of them is gone by week 8."""

    depression: float  # PHQ-9/PHQ-A total at admission, 0-27
    anxiety: float  # GAD-7 total at admission, 0-21
    substance: float  # 0-1: how much BAM use and risk items are endorsed at admission
    effect: float  # share of the baseline gone after FULL_EFFECT_DAYS (negative: worse)

    def factor(self, days: int) -> float:
        return 1.0 - self.effect * min(1.0, max(0, days) / FULL_EFFECT_DAYS)


def trajectory_for(rng: random.Random, focus: str) -> Trajectory:
    mental = focus in ("mental_health", "co_occurring")
    substance = focus in ("substance_use", "co_occurring")
    roll, acc = rng.random(), 0.0
    effect = 0.0
    for share, low, high in RESPONSE_MIX:
        acc += share
        if roll <= acc:
            effect = rng.uniform(low, high)
            break
    return Trajectory(
        depression=_clip(rng.gauss(15 if mental else 10, 5), 0, 27),
        anxiety=_clip(rng.gauss(12 if mental else 8, 4), 0, 21),
        substance=_clip(rng.gauss(0.6 if substance else 0.15, 0.15), 0, 1),
        effect=effect,
    )


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


@dataclass(frozen=True)
class Scored:
    """A response's stored fields, ready to write (JSON already encoded)."""

    instrument: str
    version: str
    timeframe: str
    answers: str
    total: int | None
    band: str
    flags: str
    subscales: str
    alerts: tuple[tuple[str, str], ...]  # (reason, risk level) the app opens for this score


class Answers:
    """Draws raw answers for a level and scores them with the app's scoring functions.

    Answer sets are pooled per (instrument, level, variant) so the scoring function runs a few
    thousand times rather than once per row; every pooled set is a real set of answers and its
    stored score is the function's result for exactly those answers.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[tuple[str, int, int], list[Scored]] = {}

    def draw(self, instrument: str, level: int, variant: int = 0) -> Scored:
        key = (instrument, level, variant)
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = []
        if len(pool) < POOL_SIZE:
            pool.append(self._score(instrument, self._answers(instrument, level, variant)))
            return pool[-1]
        return pool[self.rng.randrange(POOL_SIZE)]

    def _score(self, instrument: str, answers: list[int]) -> Scored:
        definition = REGISTRY[instrument]
        result = definition.score(answers)
        return Scored(
            instrument=instrument,
            version=definition.version,
            timeframe=definition.timeframe[:200],
            answers=json.dumps(answers),
            total=result.total,
            band=result.band or "",
            flags=json.dumps(list(result.flags)),
            subscales=json.dumps(dict(result.subscales)),
            alerts=tuple(alert_triggers(result)),
        )

    def _answers(self, instrument: str, level: int, variant: int) -> list[int]:
        rng = self.rng
        if instrument in ("phq9", "phqa", "gad7"):
            items = 7 if instrument == "gad7" else 9
            answers = [0] * items
            # variant 1: PHQ item 9 at 1 or 2 (thoughts of death or self-harm).
            free = items - 1 if instrument != "gad7" else items
            if variant:
                answers[8] = rng.choice((1, 1, 2))
                level = max(0, level - answers[8])
            return _spread(answers, level, free, 3, rng)
        if instrument == "bam":
            # level 0-10: endorsement of use and risk; protective items move the other way.
            s = level / 10
            answers = []
            for n in range(1, 18):
                if n in (4, 5, 6, 7):
                    mean = 4 * s * s
                elif n in (9, 10, 12, 13, 14, 16):
                    mean = 4 * (1 - s) * 0.8
                elif n == 17:
                    mean = 4 * (1 - s)
                else:
                    mean = 0.5 + 3 * s
                answers.append(int(_clip(round(rng.gauss(mean, 0.7)), 0, 4)))
            return answers
        if instrument in ("audit", "pcl5"):
            # AUDIT: the level over items 1-8 (0-4 each) and 9-10 (0, 2 or 4) on top from 16 up;
            # PCL-5: the level over twenty items of 0-4.
            items = 10 if instrument == "audit" else 20
            spread = 8 if instrument == "audit" else 20
            answers = [0] * items
            if instrument == "audit" and level >= 16:
                answers[8] = 2 if level < 24 else 4
                level -= answers[8]
            return _spread(answers, level, spread, 4, rng)
        if instrument == "dast10":
            # level = points: yes (1) on that many items, item 3 ("always able to stop") counting
            # when answered no.
            scoring = rng.sample(range(10), min(10, level))
            return [
                (0 if n == 2 else 1) if n in scoring else (1 if n == 2 else 0) for n in range(10)
            ]
        if instrument == "cssrs":
            # variant 0 none, 1 passive wish (low), 2 thoughts with a method (moderate).
            return [
                [0, 0, 0, 0, 0, 0, 0],
                [1, 0, 0, 0, 0, 0, 0],
                [1, 1, 1, 0, 0, 0, 0],
            ][variant]
        raise ValueError(f"no synthetic answers for {instrument}")


def _spread(answers: list[int], level: int, first: int, top: int, rng: random.Random) -> list[int]:
    """Add `level` points at random over the first `first` answers, none above `top` (the level
    is cut to what they can hold)."""
    for _ in range(min(level, top * first)):
        i = rng.randrange(first)
        while answers[i] == top:
            i = (i + 1) % first
        answers[i] += 1
    return answers


@dataclass(frozen=True)
class Due:
    """One questionnaire answered on `day`, `days` after admission."""

    day: dt.date
    days: int
    instrument: str


@dataclass(frozen=True)
class ScheduleSpec:
    instrument: str
    at_admission: bool
    every_days: int | None
    at_discharge: bool


def schedules_for(age_band: str) -> tuple[ScheduleSpec, ...]:
    """The measurement schedule synth gives a track (assumptions inside ../shared/domain.md):

    - PHQ-9 or PHQ-A and GAD-7 at admission, weekly and at discharge (symptom change, s.8);
    - BAM at admission, weekly (its IOP variant's recall window is 7 days, s.4) and at discharge
      (the abstinence outcome, s.8);
    - a C-SSRS screener at admission and as a check-in on each program day (s.7);
    - adults only, as the instruments in s.4 are adult forms: AUDIT and DAST-10 at admission and
      discharge (alcohol and drug use over the past year, screened for everyone whatever the
      track), and PCL-5 at admission, every 30 days (its past-month window) and at discharge.
    """
    depression = "phq9" if age_band == "adult" else "phqa"
    common = (
        ScheduleSpec(depression, True, 7, True),
        ScheduleSpec("gad7", True, 7, True),
        ScheduleSpec("bam", True, 7, True),
        ScheduleSpec("cssrs", True, 1, False),
    )
    if age_band != "adult":
        return common
    return (
        *common,
        ScheduleSpec("audit", True, None, True),
        ScheduleSpec("dast10", True, None, True),
        ScheduleSpec("pcl5", True, 30, True),
    )


def due_dates(
    *,
    admission: dt.date,
    last: dt.date,
    discharged: bool,
    weekdays: tuple[int, ...],
    specs: tuple[ScheduleSpec, ...],
    rng: random.Random,
) -> Iterator[Due]:
    """The questionnaires a stay answered from `admission` to `last` (inclusive), in date order.

    Repeats fall every `every_days` after admission; a daily schedule counts program days only
    (`weekdays`). Some scheduled ones are missed (COMPLETION_RATE, CHECKIN_RATE); admission ones never.
    """
    day = admission
    while day <= last:
        days = (day - admission).days
        for spec in specs:
            if days == 0:
                if spec.at_admission:
                    yield Due(day, 0, spec.instrument)
                continue
            if day == last and discharged and spec.at_discharge:
                yield Due(day, days, spec.instrument)
                continue
            if spec.every_days is None:
                continue
            if spec.every_days == 1:
                if day.weekday() in weekdays and rng.random() < CHECKIN_RATE:
                    yield Due(day, days, spec.instrument)
            elif days % spec.every_days == 0 and rng.random() < COMPLETION_RATE:
                yield Due(day, days, spec.instrument)
        day += dt.timedelta(days=1)


def level_for(instrument: str, trajectory: Trajectory, days: int, rng: random.Random) -> int:
    """The total (or BAM level 0-10) a patient on `trajectory` reports `days` after admission."""
    f = trajectory.factor(days)
    if instrument in ("phq9", "phqa"):
        return int(_clip(round(trajectory.depression * f + rng.gauss(0, 1.5)), 0, 27))
    if instrument == "gad7":
        return int(_clip(round(trajectory.anxiety * f + rng.gauss(0, 1.2)), 0, 21))
    if instrument == "bam":
        return int(_clip(round(10 * trajectory.substance * f + rng.gauss(0, 0.7)), 0, 10))
    # AUDIT and DAST-10 ask about the past year, so treatment does not move them (assumption).
    if instrument == "audit":
        return int(_clip(round(30 * trajectory.substance + rng.gauss(0, 2)), 0, 40))
    if instrument == "dast10":
        return int(_clip(round(8 * trajectory.substance + rng.gauss(0, 1)), 0, 10))
    # PCL-5 follows the anxiety course (assumption: no separate trauma course is modelled).
    if instrument == "pcl5":
        return int(_clip(round(60 * trajectory.anxiety / 21 * f + rng.gauss(0, 3)), 0, 80))
    return 0


def variant_for(instrument: str, level: int, rng: random.Random) -> int:
    """Which answer variant: PHQ item 9 positive (1), or a C-SSRS tier (1 low, 2 moderate)."""
    if instrument in ("phq9", "phqa"):
        for floor, rate in ITEM9_RATES:
            if level >= floor:
                return 1 if rng.random() < rate else 0
        return 0
    if instrument == "cssrs":
        roll = rng.random()
        if roll < CSSRS_MODERATE_RATE:
            return 2
        return 1 if roll < CSSRS_LOW_RATE else 0
    return 0


# Roughly the responses per stay at the benchmark's size, for the progress bar only.
EXPECTED_PER_STAY = 51
OPEN_ALERT_DAYS = 3  # alerts raised in the last 3 days on active stays are still open (assumption)
ACTION_FOR = {"item9": "cssrs_done", "cssrs": "safety_plan_reviewed"}

# The admissions pipeline per site (assumptions for synthetic data): how calls arrive, how urgent
# they are, the open cards the board shows per stage, and calls over 26 weeks that did not lead to
# an admission (admitted inquiries follow the planned stays themselves).
CHANNEL_MIX: tuple[tuple[str, float], ...] = (
    ("call", 0.55),
    ("web_form", 0.2),
    ("referral", 0.2),
    ("text", 0.05),
)
URGENCY_MIX: tuple[tuple[str, float], ...] = (("routine", 0.7), ("soon", 0.25), ("urgent", 0.05))
OPEN_PER_SITE: tuple[tuple[str, int], ...] = (
    ("inquiry", 12),
    ("prescreen", 8),
    ("assessment_scheduled", 6),
    ("assessed", 4),
    ("benefits_verified", 3),
)
CLOSED_PER_SITE: tuple[tuple[str, int], ...] = (
    ("referred_elsewhere", 60),
    ("declined", 40),
    ("lost_to_follow_up", 90),
)
NEXT_ACTION = {
    "inquiry": "Call back to pre-screen",
    "prescreen": "Schedule the assessment",
    "assessment_scheduled": "Confirm the assessment time",
    "assessed": "Verify benefits",
    "benefits_verified": "Offer a start date",
}
