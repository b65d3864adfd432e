"""Episode rules as plain functions: ASAM level order, Part 2 marking, status transitions.

No Django, no clock. Level codes and statuses are the string values of `episodes.choices`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

# ASAM Criteria (3rd edition) levels from least to most intensive (../shared/domain.md section 1).
LEVEL_ORDER: tuple[str, ...] = ("1", "2.1", "2.5", "3.1", "3.5", "3.7", "4")

# 42 CFR Part 2 covers records of substance use disorder treatment (../shared/domain.md section 5).
PART2_FOCUSES: frozenset[str] = frozenset({"substance_use", "co_occurring"})

LevelDirection = Literal["step_up", "step_down", "same"]

# Status changes made with `episode_set_status`; discharge has its own service.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "waitlisted": frozenset({"active"}),
    "active": frozenset({"on_hold"}),
    "on_hold": frozenset({"active"}),
    "discharged": frozenset(),
}


def level_rank(level: str) -> int:
    """The position of an ASAM level in LEVEL_ORDER (0 = Level 1). Raises ValueError if unknown."""
    try:
        return LEVEL_ORDER.index(str(level))
    except ValueError:
        raise ValueError(f"'{level}' is not an ASAM level ({', '.join(LEVEL_ORDER)})") from None


def classify_level_change(from_level: str, to_level: str) -> LevelDirection:
    """'step_up' to a more intensive level, 'step_down' to a less intensive one, else 'same'.

    Ordered by ASAM intensity (1 < 2.1 < 2.5 < 3.1 < 3.5 < 3.7 < 4). Raises ValueError for an
    unknown level.
    """
    before, after = level_rank(from_level), level_rank(to_level)
    if after > before:
        return "step_up"
    if after < before:
        return "step_down"
    return "same"


def is_part2_protected(focus: str) -> bool:
    """Whether an episode with this treatment focus holds 42 CFR Part 2 records (SUD treatment)."""
    return str(focus) in PART2_FOCUSES


def part2_after_focus_change(currently_protected: bool, new_focus: str) -> bool:
    """Part 2 marking after a focus change: once protected, always protected (never unset)."""
    return currently_protected or is_part2_protected(new_focus)


def status_change_allowed(from_status: str, to_status: str) -> bool:
    """Whether `episode_set_status` may move an episode between these statuses."""
    return str(to_status) in STATUS_TRANSITIONS.get(str(from_status), frozenset())


def discharge_date_problem(admission_date: dt.date, discharge_date: dt.date) -> str | None:
    """A message when the discharge date is not allowed, else None."""
    if discharge_date < admission_date:
        return (
            f"The discharge date cannot be before the admission date ({admission_date:%Y-%m-%d})."
        )
    return None
