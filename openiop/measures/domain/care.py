"""Rules of measurement-based care and the safety workflow, as plain functions.

Sources: ../shared/domain.md section 4 (measurement-based care: response, remission, reliable
improvement; MCID about 20%) and section 7 (positive-screen workflow: item 9 at 1 or more, a C-SSRS at
moderate or high, or clinical judgement opens a clinician-owned task with escalation). Times are
arguments: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openiop.measures.domain.base import Score

# --- alerts -----------------------------------------------------------------------------------

RISK_ORDER: tuple[str, ...] = ("none", "low", "unassessed", "moderate", "high")


def alert_triggers(score: Score) -> list[tuple[str, str]]:
    """The safety alerts a score opens, as (reason, risk level) pairs.

    PHQ-9/PHQ-A item 9 at 1 or more -> ("item9", "unassessed"): a same-day C-SSRS is needed.
    C-SSRS at moderate or high -> ("cssrs", tier).
    """
    found: list[tuple[str, str]] = []
    if "item9_positive" in score.flags:
        found.append(("item9", "unassessed"))
    if score.instrument == "cssrs" and score.band in ("moderate", "high"):
        found.append(("cssrs", str(score.band)))
    return found


@dataclass(frozen=True)
class ClinicHours:
    """When the clinic is staffed, in its own time zone. Outside: the on-call clinician owns alerts."""

    opens: dt.time
    closes: dt.time
    weekdays: frozenset[int]  # Monday = 0
    tz: dt.tzinfo

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes


def alert_owner(
    *,
    at: dt.datetime,
    hours: ClinicHours,
    primary_clinician_id: int | None,
    on_call_id: int | None,
) -> tuple[int | None, str]:
    """Who owns an alert opened at `at`, and why: (user id, "primary clinician" | "on call").

    In clinic hours the patient's primary clinician; after hours the on-call clinician. When the
    one who should own it is not set, the other does (an alert must never be ownerless while
    anyone could own it); (None, "unassigned") when neither is set.
    """
    if hours.is_open(at):
        order = ((primary_clinician_id, "primary clinician"), (on_call_id, "on call"))
    else:
        order = ((on_call_id, "on call"), (primary_clinician_id, "primary clinician"))
    for user_id, basis in order:
        if user_id is not None:
            return user_id, basis
    return None, "unassigned"


def escalation_due(*, opened_at: dt.datetime, now: dt.datetime, minutes: int) -> bool:
    """Whether an alert still open at `now` has waited `minutes` or more (then it goes to the director)."""
    return now - opened_at >= dt.timedelta(minutes=minutes)


@dataclass(frozen=True)
class RiskEvent:
    """Something that says how much risk there is: an assessment (C-SSRS tier or a clinician's flag)
    or an unassessed positive screen (item 9)."""

    at: dt.datetime
    level: str  # none | low | moderate | high | unassessed
    open_alert: bool = False


def current_risk(events: Iterable[RiskEvent]) -> str:
    """The risk level to show in the patient header.

    The latest assessment (C-SSRS or a clinician's flag) sets the level. A positive screen newer
    than that assessment shows "unassessed" unless the assessment already says moderate or high.
    An open alert keeps at least its level showing until someone acknowledges it. "none" without
    events.
    """
    ordered = sorted(events, key=lambda e: e.at)
    level = "none"
    for event in ordered:
        if event.level == "unassessed":
            if RISK_ORDER.index(level) < RISK_ORDER.index("moderate"):
                level = "unassessed"
        else:
            level = event.level
    for event in ordered:
        if event.open_alert and RISK_ORDER.index(event.level) > RISK_ORDER.index(level):
            level = event.level
    return level


def unassessed_screens(
    screens: Sequence[tuple[int, dt.datetime]], last_assessed_at: dt.datetime | None
) -> list[int]:
    """The positive screens (id, when given) that no assessment followed: a PHQ-9/PHQ-A item 9 at
    1 or more asks for a same-day C-SSRS (../shared/domain.md section 7). `last_assessed_at` is the
    latest C-SSRS or clinician's risk level (None: none yet); a screen given after it is unassessed.
    """
    return [key for key, at in screens if last_assessed_at is None or at > last_assessed_at]


# --- schedules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRule:
    instrument: str
    at_admission: bool
    every_days: int | None
    at_discharge: bool


@dataclass(frozen=True)
class Due:
    instrument: str
    due_date: dt.date
    reason: str  # admission | repeat | discharge
    overdue: bool


def measurements_due(
    *,
    rules: Sequence[ScheduleRule],
    admission_date: dt.date,
    today: dt.date,
    done: Mapping[str, Sequence[dt.date]],
    grace_days: int,
    discharge_date: dt.date | None = None,
) -> list[Due]:
    """What is due for one episode on `today`: at most one row per instrument, the earliest due.

    Admission: due on the admission date until one is done on or after it. Repeat every N days:
    due N days after the latest one done (or after admission). Discharge: due on the discharge date
    when one is set and none is done within `grace_days` before it. A row is overdue when today is
    more than `grace_days` after its due date. Nothing is due before its date.
    """
    result: list[Due] = []
    for rule in rules:
        dates = sorted(d for d in done.get(rule.instrument, ()) if d >= admission_date)
        candidates: list[tuple[dt.date, str]] = []
        if rule.at_admission and not dates:
            candidates.append((admission_date, "admission"))
        if rule.every_days:
            last = dates[-1] if dates else admission_date
            candidates.append((last + dt.timedelta(days=rule.every_days), "repeat"))
        if rule.at_discharge and discharge_date is not None:
            window = discharge_date - dt.timedelta(days=grace_days)
            if not any(d >= window for d in dates):
                candidates.append((discharge_date, "discharge"))
        due_now = [(d, r) for d, r in candidates if d <= today]
        if not due_now:
            continue
        due_date, reason = min(due_now)
        result.append(
            Due(
                instrument=rule.instrument,
                due_date=due_date,
                reason=reason,
                overdue=(today - due_date).days > grace_days,
            )
        )
    return sorted(result, key=lambda d: (d.due_date, d.instrument))


# --- outcomes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRules:
    """Definitions of response, remission, reliable improvement and non-response (configuration).

    Defaults from ../shared/domain.md section 4: response = a drop of 50% or more from baseline;
    remission = PHQ-9 below 5; reliable improvement = PHQ-9 down 6 or more, GAD-7 down 4 or more
    (NHS Talking Therapies). Non-response at week 3 is OpenIOP's choice, from the ~20% minimal
    clinically important difference (PMC9340848): 21 days or more after admission and the latest
    score less than 20% below baseline.
    """

    response_drop_pct: Decimal = Decimal(50)
    remission_below: Mapping[str, int] | None = None
    reliable_drop: Mapping[str, int] | None = None
    response_instruments: frozenset[str] = frozenset({"phq9", "phqa", "gad7", "pcl5"})
    nonresponse_after_days: int = 21
    nonresponse_min_drop_pct: Decimal = Decimal(20)
    # Response is judged from a depressed baseline (PHQ-9 >= 10, the caseness cut-off and the
    # Kaiser/NCQA baseline in ../shared/domain.md section 4): a patient who started minimal cannot
    # "fail to respond".
    nonresponse_min_baseline: int = 10

    def remission_map(self) -> Mapping[str, int]:
        return self.remission_below if self.remission_below is not None else {"phq9": 5}

    def reliable_map(self) -> Mapping[str, int]:
        return self.reliable_drop if self.reliable_drop is not None else {"phq9": 6, "gad7": 4}


DEFAULT_RULES = OutcomeRules()


def drop_pct(baseline: int, current: int) -> Decimal | None:
    """Percent fall from baseline (positive = better); None when the baseline is 0."""
    if baseline <= 0:
        return None
    return (Decimal(baseline - current) * 100 / Decimal(baseline)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Markers:
    response: bool
    remission: bool
    reliable_improvement: bool


def outcome_markers(
    instrument: str,
    baseline: int,
    current: int,
    rules: OutcomeRules = DEFAULT_RULES,
    flags: Sequence[str] = (),
) -> Markers:
    """Response, remission and reliable improvement of one score against the baseline.

    `flags` are the score's own flags: a score with item 9 positive (thoughts of death or
    self-harm) is never marked as remission, whatever its total, since it asks for a same-day
    suicide assessment (../shared/domain.md sections 4 and 7).
    """
    pct = drop_pct(baseline, current)
    response = (
        instrument in rules.response_instruments
        and pct is not None
        and pct >= rules.response_drop_pct
    )
    below = rules.remission_map().get(instrument)
    remission = below is not None and current < below and "item9_positive" not in flags
    needed = rules.reliable_map().get(instrument)
    reliable = needed is not None and baseline - current >= needed
    return Markers(response=response, remission=remission, reliable_improvement=reliable)


def is_nonresponder(
    *,
    baseline: int,
    latest: int,
    days_since_admission: int,
    rules: OutcomeRules = DEFAULT_RULES,
) -> bool:
    """Non-responder at week 3: far enough into treatment and not yet improved enough.

    True when `days_since_admission` >= rules.nonresponse_after_days and the latest score is less
    than rules.nonresponse_min_drop_pct below the baseline. A baseline below
    rules.nonresponse_min_baseline (not depressed at the start) is never a non-responder.
    """
    if days_since_admission < rules.nonresponse_after_days:
        return False
    if baseline < rules.nonresponse_min_baseline:
        return False
    pct = drop_pct(baseline, latest)
    if pct is None:
        return False
    return pct < rules.nonresponse_min_drop_pct


# --- the safety plan on one page ---------------------------------------------------------------

# The printed plan (measures/plan_print.html) holds about 42 lines of 80 characters of ordinary text
# on a Letter page next to the fixed parts (title, seven step headings, 988 and the clinic's line),
# measured with WeasyPrint. 36 leaves a margin, so a plan that passes this rule prints on one page.
PLAN_PRINT_CHARS_PER_LINE = 80
PLAN_PRINT_MAX_LINES = 36


def plan_print_lines(
    texts: Iterable[str], *, chars_per_line: int = PLAN_PRINT_CHARS_PER_LINE
) -> int:
    """Printed lines the plan's texts need: each line the writer typed takes at least one printed
    line, and one more per `chars_per_line` characters; an empty step prints one line (a dash)."""
    total = 0
    for text in texts:
        lines = text.strip().splitlines() or [""]
        total += sum(max(1, -(-len(line.rstrip()) // chars_per_line)) for line in lines)
    return total
