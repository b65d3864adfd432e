import datetime as dt

import pytest

from openiop.episodes.choices import LevelOfCare, TreatmentFocus
from openiop.episodes.domain import (
    LEVEL_ORDER,
    classify_level_change,
    discharge_date_problem,
    is_part2_protected,
    part2_after_focus_change,
    status_change_allowed,
)


@pytest.mark.parametrize(
    ("from_level", "to_level", "expected"),
    [
        ("2.1", "2.5", "step_up"),
        ("2.1", "1", "step_down"),
        ("2.5", "2.1", "step_down"),
        ("1", "4", "step_up"),
        ("3.7", "3.5", "step_down"),
        ("3.1", "2.5", "step_down"),
        ("2.1", "2.1", "same"),
        ("4", "3.7", "step_down"),
    ],
)
def test_level_change_is_classified_by_asam_order(
    from_level: str, to_level: str, expected: str
) -> None:
    assert classify_level_change(from_level, to_level) == expected


def test_level_order_matches_the_choices() -> None:
    assert tuple(LevelOfCare.values) == LEVEL_ORDER


def test_level_change_accepts_choice_members() -> None:
    assert classify_level_change(LevelOfCare.L2_1, LevelOfCare.L1) == "step_down"


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ASAM level"):
        classify_level_change("2.1", "9")


@pytest.mark.parametrize(
    ("focus", "protected"),
    [
        (TreatmentFocus.SUBSTANCE_USE, True),
        (TreatmentFocus.CO_OCCURRING, True),
        (TreatmentFocus.MENTAL_HEALTH, False),
        ("substance_use", True),
        ("mental_health", False),
    ],
)
def test_part2_rule_covers_substance_use_and_co_occurring(
    focus: TreatmentFocus | str, protected: bool
) -> None:
    assert is_part2_protected(focus) is protected


def test_part2_marking_is_never_removed_by_a_focus_change() -> None:
    assert part2_after_focus_change(True, "mental_health") is True
    assert part2_after_focus_change(False, "substance_use") is True
    assert part2_after_focus_change(False, "mental_health") is False


@pytest.mark.parametrize(
    ("before", "after", "allowed"),
    [
        ("waitlisted", "active", True),
        ("active", "on_hold", True),
        ("on_hold", "active", True),
        ("active", "waitlisted", False),
        ("waitlisted", "on_hold", False),
        ("active", "discharged", False),
        ("discharged", "active", False),
    ],
)
def test_status_transitions(before: str, after: str, allowed: bool) -> None:
    assert status_change_allowed(before, after) is allowed


def test_discharge_date_before_admission_is_a_problem() -> None:
    admitted = dt.date(2026, 3, 2)
    assert discharge_date_problem(admitted, dt.date(2026, 3, 1))
    assert discharge_date_problem(admitted, admitted) is None
