"""Treatment-plan and discharge rules as plain functions. No Django, no clock.

Plan timing is state- and payer-specific (../shared/domain.md section 6: KS IOP plan within 7 days of
admission, PA review every 30 days, ND every 2 weeks, Medicare at least every other month), so the
day counts come in as arguments: settings TREATMENT_PLAN_DUE_DAYS (default 7) and
TREATMENT_PLAN_REVIEW_DAYS (default 30).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

ADULT_AGE = 18  # below it a guardian signs too (patients.domain.ADULT_AGE)

# Interventions (issue 5): the modalities a plan names.
MODALITIES: tuple[tuple[str, str], ...] = (
    ("cbt", "CBT"),
    ("dbt", "DBT"),
    ("mi", "Motivational interviewing"),
    ("tsf", "12-step facilitation"),
    ("family", "Family therapy"),
    ("mat", "Medication for addiction treatment (MAT)"),
    ("case_management", "Case management"),
)

_ICD10CM = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def icd10cm_problem(code: str) -> str:
    """Why `code` is not shaped like an ICD-10-CM code ('' when it is), e.g. F10.20, F33.1, Z63.0.

    Checks the shape only (letter, digit, alphanumeric, optional dot and 1-4 characters; U codes are
    reserved); whether the code exists in the current code set is not checked here.
    """
    code = (code or "").strip().upper()
    if not code:
        return "Enter the ICD-10-CM code of the diagnosis, e.g. F10.20."
    if not _ICD10CM.match(code):
        return f"'{code}' is not shaped like an ICD-10-CM code (e.g. F10.20, F33.1)."
    return ""


class PlanTiming(StrEnum):
    OK = "ok"
    DUE = "due"  # due within the warning window
    OVERDUE = "overdue"


@dataclass(frozen=True)
class PlanDue:
    """What is due for an episode's plan: the first plan or a review, by when, and how urgent."""

    kind: str  # "initial" | "review"
    due_date: dt.date
    timing: PlanTiming
    days_left: int  # negative when overdue


def plan_due(
    *,
    admission_date: dt.date,
    last_signed_on: dt.date | None,
    today: dt.date,
    due_days: int,
    review_days: int,
    warn_days: int = 7,
) -> PlanDue:
    """The next plan deadline of an episode.

    Without a signed plan the initial plan is due `due_days` after admission; with one, a review is
    due `review_days` after the latest signature (a reviewed plan is signed as a new version).
    'due' when the deadline is within `warn_days`, 'overdue' once it has passed (the deadline day
    itself is still on time). Raises ValueError for a negative day count.
    """
    if due_days < 0 or review_days < 1 or warn_days < 0:
        raise ValueError("Plan day counts must be positive.")
    if last_signed_on is None:
        kind, due = "initial", admission_date + dt.timedelta(days=due_days)
    else:
        kind, due = "review", last_signed_on + dt.timedelta(days=review_days)
    days_left = (due - today).days
    if days_left < 0:
        timing = PlanTiming.OVERDUE
    elif days_left <= warn_days:
        timing = PlanTiming.DUE
    else:
        timing = PlanTiming.OK
    return PlanDue(kind=kind, due_date=due, timing=timing, days_left=days_left)


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years of age on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def signatures_required(*, date_of_birth: dt.date, on: dt.date) -> tuple[str, ...]:
    """Who signs a treatment plan: clinician and patient, and a guardian for a minor (under 18).

    Source: plans are signed by the person served and staff (IL 2060.440, FL 65D-30.0044;
    ../shared/domain.md section 6); a minor's legal guardian consents for them (patients.domain).
    """
    roles: tuple[str, ...] = ("clinician", "patient")
    if age_on(date_of_birth, on) < ADULT_AGE:
        roles += ("guardian",)
    return roles


def missing_signatures(required: Iterable[str], signed: Iterable[str]) -> list[str]:
    """The required signer roles that have not signed, in the required order."""
    done = set(signed)
    return [r for r in required if r not in done]


@dataclass(frozen=True)
class ObjectiveOutline:
    """An objective as the plan completeness check sees it."""

    text: str
    target_date: dt.date | None


@dataclass(frozen=True)
class GoalOutline:
    text: str
    objectives: tuple[ObjectiveOutline, ...]
    intervention_count: int


@dataclass(frozen=True)
class ProblemOutline:
    description: str
    icd10_code: str
    patient_words: str
    goals: tuple[GoalOutline, ...]


def plan_gaps(problems: Iterable[ProblemOutline]) -> list[str]:
    """What keeps a plan from being signed, as sentences a clinician can act on ([] = complete).

    Every problem needs an ICD-10-CM code, the patient's own words and a goal; every goal a
    measurable objective with a target date and an intervention (Joint Commission CTS.03.01.03:
    goals in the person's words; FL 65D-30.0044: measurable objectives; MT: target dates).
    """
    gaps: list[str] = []
    problems = list(problems)
    if not problems:
        return ["Add at least one problem."]
    for i, p in enumerate(problems, start=1):
        label = f"Problem {i}"
        if problem := icd10cm_problem(p.icd10_code):
            gaps.append(f"{label}: {problem}")
        if not p.patient_words.strip():
            gaps.append(f"{label}: add the problem in the patient's own words.")
        if not p.goals:
            gaps.append(f"{label}: add a goal.")
        for j, g in enumerate(p.goals, start=1):
            if not g.objectives:
                gaps.append(f"{label}, goal {j}: add a measurable objective.")
            if any(o.target_date is None for o in g.objectives):
                gaps.append(f"{label}, goal {j}: give every objective a target date.")
            if g.intervention_count == 0:
                gaps.append(f"{label}, goal {j}: add an intervention.")
    return gaps


# --- discharge -----------------------------------------------------------------------------------
def length_of_stay_days(admission_date: dt.date, discharge_date: dt.date) -> int:
    """Admission to discharge in days (TEDS-style LOS: same-day discharge is 0 days).

    Raises ValueError when discharge precedes admission.
    """
    if discharge_date < admission_date:
        raise ValueError("Discharge cannot precede admission.")
    return (discharge_date - admission_date).days


@dataclass(frozen=True)
class AttendedSession:
    kind: str  # a session kind (group_therapy, individual, family, ...)
    minutes: int


@dataclass(frozen=True)
class ServiceTotal:
    kind: str
    sessions: int
    minutes: int


def totals_by_kind(attended: Iterable[AttendedSession]) -> list[ServiceTotal]:
    """Sessions attended and minutes per session kind, kinds in alphabetical order."""
    counts: dict[str, list[int]] = {}
    for a in attended:
        row = counts.setdefault(a.kind, [0, 0])
        row[0] += 1
        row[1] += a.minutes
    return [ServiceTotal(k, v[0], v[1]) for k, v in sorted(counts.items())]


@dataclass(frozen=True)
class SummaryOutline:
    """A discharge summary as the completeness check sees it."""

    discharged: bool
    discharge_reason: str
    narrative: str
    next_level_of_care: str
    crisis_resources: str
    referral_count: int


def summary_gaps(summary: SummaryOutline) -> list[str]:
    """What keeps a discharge summary from being signed, as sentences a clinician can act on, all of
    them at once ([] = ready to sign).

    The discharge date, reason and length of stay are derived from the discharged episode, so an
    open episode is discharged first; the clinician's narrative, the next level of care, crisis
    resources and at least one aftercare referral are written on the summary (CARF BH 2.D: the
    transition plan holds referral contacts and relapse and crisis resources; ../shared/domain.md
    section 6). These are the requirements signing already had, listed together.
    """
    gaps: list[str] = []
    if not summary.discharged:
        gaps.append(
            "Discharge the episode first: the summary states the discharge date, reason and "
            "length of stay."
        )
    elif not summary.discharge_reason.strip():
        gaps.append("Record the discharge reason on the episode.")
    for value, gap in (
        (summary.narrative, "Write the narrative."),
        (summary.next_level_of_care, "Enter the next level of care."),
        (summary.crisis_resources, "Enter the crisis resources."),
    ):
        if not value.strip():
            gaps.append(gap)
    if summary.referral_count < 1:
        gaps.append("Add at least one aftercare referral.")
    return gaps
