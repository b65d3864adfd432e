"""The admissions pipeline: stages, which moves are allowed, days in stage, overdue, conversion.

Plain functions: no Django, no clock (today is an argument).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

INQUIRY = "inquiry"
PRESCREEN = "prescreen"
ASSESSMENT_SCHEDULED = "assessment_scheduled"
ASSESSED = "assessed"
BENEFITS_VERIFIED = "benefits_verified"
ADMITTED = "admitted"
REFERRED_ELSEWHERE = "referred_elsewhere"
DECLINED = "declined"
LOST_TO_FOLLOW_UP = "lost_to_follow_up"

OPEN_STAGES: tuple[str, ...] = (
    INQUIRY,
    PRESCREEN,
    ASSESSMENT_SCHEDULED,
    ASSESSED,
    BENEFITS_VERIFIED,
)
CLOSING_STAGES: tuple[str, ...] = (REFERRED_ELSEWHERE, DECLINED, LOST_TO_FOLLOW_UP)
STAGES: tuple[str, ...] = (*OPEN_STAGES, ADMITTED, *CLOSING_STAGES)

STAGE_LABELS: dict[str, str] = {
    INQUIRY: "Inquiry",
    PRESCREEN: "Pre-screen",
    ASSESSMENT_SCHEDULED: "Assessment scheduled",
    ASSESSED: "Assessed",
    BENEFITS_VERIFIED: "Benefits verified",
    ADMITTED: "Admitted",
    REFERRED_ELSEWHERE: "Referred elsewhere",
    DECLINED: "Declined",
    LOST_TO_FOLLOW_UP: "Lost to follow-up",
}

# Stages from which the admission service may admit: the person has a decided assessment.
ADMITTABLE_STAGES: frozenset[str] = frozenset({ASSESSED, BENEFITS_VERIFIED})


def stage_rank(stage: str) -> int:
    """The position of an open stage (0 = inquiry). Raises ValueError for other stages."""
    if stage not in OPEN_STAGES:
        raise ValueError(f"'{stage}' is not an open pipeline stage.")
    return OPEN_STAGES.index(stage)


def advance(current: str, target: str) -> str:
    """The stage after a step of work that belongs to `target`: forward only, never back.

    E.g. benefits verified before the assessment leaves the inquiry where it is; an assessment
    decided on an inquiry at 'pre-screen' moves it to 'assessed'. Closed inquiries stay closed.
    """
    if current not in OPEN_STAGES or target not in OPEN_STAGES:
        return current
    return target if stage_rank(target) > stage_rank(current) else current


def move_problem(current: str, target: str) -> str | None:
    """Why a person may not move an inquiry from `current` to `target` by hand, or None.

    Admission has its own action. An open inquiry may close (referred elsewhere, declined, lost to
    follow-up) or step back to an earlier open stage; a closed one (not admitted) may reopen as a
    new inquiry. Forward steps happen by doing the work (pre-screen, assessment, benefits).
    """
    if target not in STAGES:
        return f"'{target}' is not a pipeline stage."
    if target == current:
        return f"The inquiry is already at '{STAGE_LABELS[current]}'."
    if target == ADMITTED:
        return "Use Admit: it creates the patient and the episode."
    if current == ADMITTED:
        return "An admitted inquiry cannot move; the episode carries on from here."
    if current in CLOSING_STAGES:
        if target == INQUIRY:
            return None
        return "A closed inquiry can only reopen as a new inquiry."
    if target in CLOSING_STAGES:
        return None
    if stage_rank(target) < stage_rank(current):
        return None
    return (
        f"'{STAGE_LABELS[target]}' is reached by doing the work (pre-screen, assessment, "
        "benefits check), not by moving the card."
    )


def manual_moves(current: str) -> list[str]:
    """The stages a person may move an inquiry at `current` to by hand (move_problem is None):
    earlier open stages first, then the closing ones. Empty when the card cannot move."""
    return [s for s in (*OPEN_STAGES, *CLOSING_STAGES) if move_problem(current, s) is None]


def days_in_stage(entered: dt.date, today: dt.date) -> int:
    """Whole days since the inquiry entered its stage (0 on the day it entered)."""
    return max(0, (today - entered).days)


def is_overdue(next_action_date: dt.date | None, today: dt.date, stage: str) -> bool:
    """True when an open inquiry's next action date has passed (not when it is today)."""
    return stage in OPEN_STAGES and next_action_date is not None and next_action_date < today


@dataclass(frozen=True)
class InquiryFact:
    """What conversion needs of one inquiry: when it came in, from where, whether admitted."""

    received: dt.date
    referral_source: str
    admitted: bool


@dataclass(frozen=True)
class ConversionRow:
    """Inquiries received in a month from one referral source, and how many were admitted."""

    month: str  # YYYY-MM
    referral_source: str
    inquiries: int
    admitted: int

    @property
    def conversion_percent(self) -> Decimal:
        """Admitted as a percent of inquiries, rounded half-up to one decimal."""
        if not self.inquiries:
            return Decimal("0.0")
        value = Decimal(self.admitted) * 100 / Decimal(self.inquiries)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def conversion_by_source(facts: Iterable[InquiryFact]) -> list[ConversionRow]:
    """Counts and conversion per month received and referral source, newest month first.

    An inquiry counts in the month it was received, even when it was admitted in a later month
    (cohort conversion), so a month's rate does not change meaning as time passes.
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for fact in facts:
        key = (f"{fact.received:%Y-%m}", fact.referral_source)
        row = counts.setdefault(key, [0, 0])
        row[0] += 1
        row[1] += 1 if fact.admitted else 0
    rows = [
        ConversionRow(month=m, referral_source=s, inquiries=n, admitted=a)
        for (m, s), (n, a) in counts.items()
    ]
    rows.sort(key=lambda r: (r.month, -r.inquiries, r.referral_source))
    rows.sort(key=lambda r: r.month, reverse=True)
    return rows
