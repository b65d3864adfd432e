"""Treatment-plan and discharge rules without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.treatment import domain
from openiop.treatment.domain import GoalOutline, ObjectiveOutline, PlanTiming, ProblemOutline

ADMIT = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("last_signed", "today", "due_days", "review_days", "kind", "due", "timing"),
    [
        (None, ADMIT, 7, 30, "initial", dt.date(2026, 3, 9), PlanTiming.DUE),
        (None, dt.date(2026, 3, 9), 7, 30, "initial", dt.date(2026, 3, 9), PlanTiming.DUE),
        (None, dt.date(2026, 3, 10), 7, 30, "initial", dt.date(2026, 3, 9), PlanTiming.OVERDUE),
        (None, ADMIT, 3, 30, "initial", dt.date(2026, 3, 5), PlanTiming.DUE),
        (
            dt.date(2026, 3, 6),
            dt.date(2026, 3, 10),
            7,
            30,
            "review",
            dt.date(2026, 4, 5),
            PlanTiming.OK,
        ),
        (
            dt.date(2026, 3, 6),
            dt.date(2026, 3, 30),
            7,
            30,
            "review",
            dt.date(2026, 4, 5),
            PlanTiming.DUE,
        ),
        (
            dt.date(2026, 3, 6),
            dt.date(2026, 4, 6),
            7,
            30,
            "review",
            dt.date(2026, 4, 5),
            PlanTiming.OVERDUE,
        ),
        (
            dt.date(2026, 3, 6),
            dt.date(2026, 3, 19),
            7,
            14,
            "review",
            dt.date(2026, 3, 20),
            PlanTiming.DUE,
        ),
    ],
)
def test_plan_due(
    last_signed: dt.date | None,
    today: dt.date,
    due_days: int,
    review_days: int,
    kind: str,
    due: dt.date,
    timing: PlanTiming,
) -> None:
    result = domain.plan_due(
        admission_date=ADMIT,
        last_signed_on=last_signed,
        today=today,
        due_days=due_days,
        review_days=review_days,
    )
    assert (result.kind, result.due_date, result.timing) == (kind, due, timing)
    assert result.days_left == (due - today).days


def test_plan_due_refuses_a_zero_review_interval() -> None:
    with pytest.raises(ValueError):
        domain.plan_due(
            admission_date=ADMIT, last_signed_on=None, today=ADMIT, due_days=7, review_days=0
        )


@pytest.mark.parametrize(
    ("born", "roles"),
    [
        (dt.date(1990, 1, 1), ("clinician", "patient")),
        (dt.date(2008, 3, 2), ("clinician", "patient")),  # 18 today
        (dt.date(2008, 3, 3), ("clinician", "patient", "guardian")),  # 18 tomorrow
        (dt.date(2009, 3, 2), ("clinician", "patient", "guardian")),  # 17
    ],
)
def test_signatures_required(born: dt.date, roles: tuple[str, str] | tuple[str, str, str]) -> None:
    assert domain.signatures_required(date_of_birth=born, on=ADMIT) == roles


def test_a_minor_needs_a_guardian_signature() -> None:
    assert "guardian" in domain.signatures_required(date_of_birth=dt.date(2011, 5, 1), on=ADMIT)
    assert domain.missing_signatures(("clinician", "patient", "guardian"), ["patient"]) == [
        "clinician",
        "guardian",
    ]


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("F10.20", True),
        ("f33.1", True),
        ("Z63.0", True),
        ("F10", True),
        ("U07.1", False),
        ("10.20", False),
        ("F10.20000", False),
        ("", False),
    ],
)
def test_icd10cm_shape(code: str, ok: bool) -> None:
    assert (domain.icd10cm_problem(code) == "") is ok


GOOD_GOAL = GoalOutline("Stay sober", (ObjectiveOutline("3 meetings a week", ADMIT),), 1)


def test_a_complete_plan_has_no_gaps() -> None:
    problem = ProblemOutline("Alcohol use disorder", "F10.20", "I drink to sleep", (GOOD_GOAL,))
    assert domain.plan_gaps([problem]) == []


@pytest.mark.parametrize(
    ("problem", "gap"),
    [
        (ProblemOutline("AUD", "", "words", (GOOD_GOAL,)), "ICD-10-CM"),
        (ProblemOutline("AUD", "F10.20", " ", (GOOD_GOAL,)), "own words"),
        (ProblemOutline("AUD", "F10.20", "w", ()), "add a goal"),
        (ProblemOutline("AUD", "F10.20", "w", (GoalOutline("g", (), 1),)), "measurable"),
        (
            ProblemOutline(
                "AUD", "F10.20", "w", (GoalOutline("g", (ObjectiveOutline("o", None),), 1),)
            ),
            "target date",
        ),
        (
            ProblemOutline(
                "AUD", "F10.20", "w", (GoalOutline("g", (ObjectiveOutline("o", ADMIT),), 0),)
            ),
            "intervention",
        ),
    ],
)
def test_plan_gaps_name_what_is_missing(problem: ProblemOutline, gap: str) -> None:
    gaps = domain.plan_gaps([problem])
    assert any(gap in g for g in gaps), gaps


def test_an_empty_plan_needs_a_problem() -> None:
    assert domain.plan_gaps([]) == ["Add at least one problem."]


@pytest.mark.parametrize(
    ("admit", "discharge", "days"),
    [(ADMIT, ADMIT, 0), (ADMIT, dt.date(2026, 4, 11), 40)],
)
def test_length_of_stay(admit: dt.date, discharge: dt.date, days: int) -> None:
    assert domain.length_of_stay_days(admit, discharge) == days


def test_length_of_stay_refuses_discharge_before_admission() -> None:
    with pytest.raises(ValueError):
        domain.length_of_stay_days(ADMIT, ADMIT - dt.timedelta(days=1))


def test_totals_by_kind() -> None:
    rows = domain.totals_by_kind(
        [
            domain.AttendedSession("group_therapy", 180),
            domain.AttendedSession("individual", 50),
            domain.AttendedSession("group_therapy", 150),
        ]
    )
    assert rows == [
        domain.ServiceTotal("group_therapy", 2, 330),
        domain.ServiceTotal("individual", 1, 50),
    ]


# --- the discharge summary is complete before it is signed ---------------------------------------
READY = domain.SummaryOutline(
    discharged=True,
    discharge_reason="completed",
    narrative="Completed the program.",
    next_level_of_care="Level 1 outpatient",
    crisis_resources="988",
    referral_count=1,
)


def test_a_complete_summary_has_no_gaps() -> None:
    assert domain.summary_gaps(READY) == []


def test_every_gap_of_an_empty_summary_of_an_open_episode_is_listed_at_once() -> None:
    empty = domain.SummaryOutline(
        discharged=False,
        discharge_reason="",
        narrative=" ",
        next_level_of_care="",
        crisis_resources="",
        referral_count=0,
    )
    assert domain.summary_gaps(empty) == [
        "Discharge the episode first: the summary states the discharge date, reason and length "
        "of stay.",
        "Write the narrative.",
        "Enter the next level of care.",
        "Enter the crisis resources.",
        "Add at least one aftercare referral.",
    ]


@pytest.mark.parametrize(
    ("change", "gap"),
    [
        ({"discharge_reason": ""}, "Record the discharge reason on the episode."),
        ({"narrative": "\n"}, "Write the narrative."),
        ({"referral_count": 0}, "Add at least one aftercare referral."),
    ],
)
def test_one_missing_part_is_named(change: dict[str, str] | dict[str, int], gap: str) -> None:
    from dataclasses import replace

    assert domain.summary_gaps(replace(READY, **change)) == [gap]
