"""Level-of-care recommendation from the six ASAM dimensions (../shared/domain.md section 1).

A clinician rates each of the six dimensions 0-4 (none, mild, moderate, significant, severe) with
notes. Each rating implies a *minimum* level of care; the most intensive need governs and the
ratings are never averaged. A medically managed need in Dimension 1 or 2 decides the level early
("stop early"). A Dimension 1 rating of 2 or more notes withdrawal management.

Levels are the ASAM codes of `openiop.episodes.domain.LEVEL_ORDER` (the string values of
`episodes.choices.LevelOfCare`). The function recommends; the clinician accepts or overrides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from openiop.episodes.domain import LEVEL_ORDER, level_rank

DIMENSIONS: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
RATINGS: tuple[int, ...] = (0, 1, 2, 3, 4)
RATING_LABELS: Mapping[int, str] = {
    0: "none",
    1: "mild",
    2: "moderate",
    3: "significant",
    4: "severe",
}


class Edition(StrEnum):
    """The edition of The ASAM Criteria an assessment follows; dimension names depend on it."""

    THIRD = "3"
    FOURTH = "4"


# Dimension names as ../shared/domain.md section 1 gives them.
DIMENSION_NAMES: Mapping[Edition, Mapping[int, str]] = {
    Edition.THIRD: {
        1: "Acute intoxication/withdrawal",
        2: "Biomedical",
        3: "Emotional/behavioral/cognitive",
        4: "Readiness to change",
        5: "Relapse/continued use",
        6: "Recovery environment",
    },
    Edition.FOURTH: {
        1: "Intoxication, withdrawal and addiction medications",
        2: "Biomedical",
        3: "Psychiatric and cognitive",
        4: "Substance use-related risks",
        5: "Recovery environment interactions",
        6: "Person-centered considerations",
    },
}

# Medically monitored (3.7) and medically managed (4) levels: a need for these in Dimension 1 or 2
# decides the recommendation early.
MEDICAL_LEVELS: frozenset[str] = frozenset({"3.7", "4"})
EARLY_DECISION_DIMENSIONS: frozenset[int] = frozenset({1, 2})

# A Dimension 1 rating at or above this notes withdrawal management at the recommended level.
WITHDRAWAL_MANAGEMENT_FROM_RATING = 2

_THIRD_EDITION_MINIMUMS: Mapping[int, Mapping[int, str]] = {
    # D1 acute intoxication/withdrawal: 3 = medically monitored, 4 = medically managed withdrawal.
    1: {0: "1", 1: "1", 2: "2.1", 3: "3.7", 4: "4"},
    # D2 biomedical: 3 = needs daily medical monitoring, 4 = medically managed (hospital).
    2: {0: "1", 1: "1", 2: "2.1", 3: "2.5", 4: "4"},
    # D3 emotional/behavioral/cognitive: 4 = psychiatric danger needing 24-hour medical care.
    3: {0: "1", 1: "1", 2: "2.1", 3: "2.5", 4: "4"},
    # D4 readiness to change.
    4: {0: "1", 1: "1", 2: "2.1", 3: "2.5", 4: "3.1"},
    # D5 relapse/continued use.
    5: {0: "1", 1: "1", 2: "2.1", 3: "3.1", 4: "3.5"},
    # D6 recovery environment: 3-4 = home not safe or not substance-free enough for outpatient care.
    6: {0: "1", 1: "1", 2: "2.1", 3: "3.1", 4: "3.5"},
}

_FOURTH_EDITION_MINIMUMS: Mapping[int, Mapping[int, str]] = {
    1: _THIRD_EDITION_MINIMUMS[1],
    2: _THIRD_EDITION_MINIMUMS[2],
    3: _THIRD_EDITION_MINIMUMS[3],
    # D4 substance use-related risks (continued-use risk, 3rd edition D5).
    4: _THIRD_EDITION_MINIMUMS[5],
    # D5 recovery environment interactions (3rd edition D6).
    5: _THIRD_EDITION_MINIMUMS[6],
    # D6 person-centered considerations (preferences, barriers to care; absorbs readiness).
    6: _THIRD_EDITION_MINIMUMS[4],
}

MINIMUM_LEVEL: Mapping[Edition, Mapping[int, Mapping[int, str]]] = {
    Edition.THIRD: _THIRD_EDITION_MINIMUMS,
    Edition.FOURTH: _FOURTH_EDITION_MINIMUMS,
}
"""The minimum level of care each dimension's rating implies: edition -> dimension -> rating -> level.

This table is a configurable simplification of the ASAM dimensional admission criteria, written
from the summary in ../shared/domain.md section 1 (each dimension's 0-4 risk rating implies a
minimum level; the most intensive need governs, never an average; a medically managed need in
Dimension 1 or 2 decides early; high Dimension 4-6 needs can push to residential). It is not the
ASAM Criteria: ASAM's own criteria text is licensed and is not reproduced here. A clinic or payer
that uses different cut-offs passes its own table to `recommend_level_of_care(..., minimums=...)`.
The clinician always reviews the recommendation and may override it with a justification.
"""


@dataclass(frozen=True)
class DimensionRating:
    """One dimension's risk rating (0-4) with the clinician's notes."""

    dimension: int
    rating: int
    notes: str = ""


@dataclass(frozen=True)
class Recommendation:
    """The recommended level, why, and the statements for the record.

    `governing_dimensions` are the dimensions whose rating implies the recommended level;
    `decided_early` is True when a medically managed need in Dimension 1 or 2 decided it.
    """

    level: str
    withdrawal_management: bool
    reasons: list[str]
    why_not_lower: str
    why_not_higher: str
    governing_dimensions: tuple[int, ...] = field(default=())
    decided_early: bool = False


# Level names by edition (../shared/domain.md section 1). The 4th edition renamed Level 2.5 (partial
# hospitalization) "High-intensity outpatient"; its other changes in our sources are UNCONFIRMED, so
# the remaining levels keep their 3rd-edition names.
LEVEL_NAMES_3RD: Mapping[str, str] = {
    "1": "Outpatient",
    "2.1": "Intensive outpatient",
    "2.5": "Partial hospitalization",
    "3.1": "Clinically managed low-intensity residential",
    "3.5": "Clinically managed high-intensity residential",
    "3.7": "Medically monitored intensive inpatient",
    "4": "Medically managed intensive inpatient",
}
LEVEL_NAMES: Mapping[Edition, Mapping[str, str]] = {
    Edition.THIRD: LEVEL_NAMES_3RD,
    Edition.FOURTH: {**LEVEL_NAMES_3RD, "2.5": "High-intensity outpatient"},
}


def level_name(level: str, edition: Edition | str) -> str:
    """'Level 2.5 · High-intensity outpatient': the level's code and its name in `edition`.

    Raises ValueError for an unknown level or edition."""
    names = LEVEL_NAMES[_edition(edition)]
    if level not in names:
        raise ValueError(f"{level!r} is not an ASAM level of care.")
    return f"Level {level} · {names[level]}"


def dimension_name(dimension: int, edition: Edition | str) -> str:
    """The edition's name of a dimension. Raises ValueError for an unknown dimension or edition."""
    names = DIMENSION_NAMES[_edition(edition)]
    if not _is_int(dimension) or dimension not in names:
        raise ValueError(f"Dimension {dimension!r} is not an ASAM dimension (1-6).")
    return names[dimension]


def validate_ratings(
    ratings: Iterable[DimensionRating], edition: Edition | str
) -> dict[int, DimensionRating]:
    """The ratings by dimension, after checking all six dimensions are rated once, each 0-4.

    Raises ValueError with a message naming the dimension at fault.
    """
    edition = _edition(edition)
    by_dimension: dict[int, DimensionRating] = {}
    for item in ratings:
        if not _is_int(item.dimension) or item.dimension not in DIMENSIONS:
            raise ValueError(f"Dimension {item.dimension!r} is not an ASAM dimension (1-6).")
        label = _label(item.dimension, edition)
        if item.dimension in by_dimension:
            raise ValueError(f"{label} is rated more than once; rate each dimension once.")
        if not _is_int(item.rating) or item.rating not in RATINGS:
            raise ValueError(f"{label} has rating {item.rating!r}; a rating is a whole number 0-4.")
        by_dimension[item.dimension] = item
    missing = [d for d in DIMENSIONS if d not in by_dimension]
    if missing:
        names = "; ".join(_label(d, edition) for d in missing)
        raise ValueError(f"Every dimension needs a rating (0-4). Missing: {names}.")
    return by_dimension


def recommend_level_of_care(
    ratings: Iterable[DimensionRating],
    edition: Edition | str,
    *,
    minimums: Mapping[Edition, Mapping[int, Mapping[int, str]]] | None = None,
) -> Recommendation:
    """Recommend an ASAM level from six dimension ratings: the most intensive need governs.

    Each rating implies a minimum level (`MINIMUM_LEVEL`, or `minimums` when a clinic configures
    its own). The recommendation is the most intensive of those minimums, never an average. A
    medically managed need (Level 3.7 or 4) in Dimension 1 or 2 decides the level early; another
    dimension can only raise it further. A Dimension 1 rating of 2 or more notes withdrawal
    management. Raises ValueError for a missing, repeated or unknown dimension or a rating
    outside 0-4.
    """
    edition = _edition(edition)
    by_dimension = validate_ratings(ratings, edition)
    table = (minimums if minimums is not None else MINIMUM_LEVEL)[edition]
    implied = {d: _implied_level(table, d, by_dimension[d].rating) for d in DIMENSIONS}

    early = [
        d for d in DIMENSIONS if d in EARLY_DECISION_DIMENSIONS and implied[d] in MEDICAL_LEVELS
    ]
    level = max(implied.values(), key=level_rank)
    governing = tuple(d for d in DIMENSIONS if implied[d] == level)
    withdrawal = by_dimension[1].rating >= WITHDRAWAL_MANAGEMENT_FROM_RATING

    def rated(d: int) -> str:
        return f"{_label(d, edition)} rated {by_dimension[d].rating}"

    reasons: list[str] = []
    if early:
        early_level = max((implied[d] for d in early), key=level_rank)
        reasons.append(
            "Stop early: "
            + _join(
                [f"{rated(d)} shows a medically managed need (Level {implied[d]})" for d in early]
            )
            + f"; this decides the level early: {_at_least(early_level)}, which the other "
            "dimensions can only raise."
        )
    if len(governing) == len(DIMENSIONS):
        reasons.append(
            f"No dimension implies more than Level {level}: "
            + _join([f"D{d} rated {by_dimension[d].rating}" for d in DIMENSIONS])
            + "."
        )
    else:
        reasons.append(
            f"Level {level} is governed by "
            + _join([rated(d) for d in governing])
            + f", which {_verb(governing)} at least Level {level}."
        )
        lower = [d for d in DIMENSIONS if d not in governing]
        reasons.append(
            "The other dimensions imply less intensive levels ("
            + "; ".join(f"D{d} rated {by_dimension[d].rating}: Level {implied[d]}" for d in lower)
            + "); they do not lower the recommendation: the most intensive need governs, "
            "ratings are never averaged."
        )
    if withdrawal:
        reasons.append(
            f"{rated(1)}: withdrawal management is needed along with Level {level} care."
        )

    rank = level_rank(level)
    if rank == 0:
        why_not_lower = (
            f"Level {level} is the least intensive level of care; there is no lower level."
        )
    else:
        why_not_lower = (
            f"A less intensive level ({_at_most(LEVEL_ORDER[rank - 1])}) would not meet the "
            f"need shown by {_join([rated(d) for d in governing])}, which "
            f"{_verb(governing)} at least Level {level}."
        )
        if withdrawal:
            why_not_lower += " Withdrawal management must also be available at the chosen level."
    if rank == len(LEVEL_ORDER) - 1:
        why_not_higher = (
            f"Level {level} is the most intensive level of care; there is no higher level."
        )
    else:
        why_not_higher = (
            f"No dimension implies more than Level {level}: every dimension's need can be met "
            f"there, so a more intensive level ({_at_least(LEVEL_ORDER[rank + 1])}) is not "
            "indicated by the ratings; placement favours the least intensive level that safely "
            "meets every need."
        )

    return Recommendation(
        level=level,
        withdrawal_management=withdrawal,
        reasons=reasons,
        why_not_lower=why_not_lower,
        why_not_higher=why_not_higher,
        governing_dimensions=governing,
        decided_early=bool(early),
    )


def _edition(edition: Edition | str) -> Edition:
    try:
        return Edition(str(edition))
    except ValueError:
        raise ValueError(
            f"'{edition}' is not an ASAM Criteria edition ({', '.join(e.value for e in Edition)})."
        ) from None


def _implied_level(table: Mapping[int, Mapping[int, str]], dimension: int, rating: int) -> str:
    try:
        level = table[dimension][rating]
    except KeyError:
        raise ValueError(
            f"The level table has no entry for dimension {dimension} rating {rating}."
        ) from None
    level_rank(level)  # raises ValueError for a level outside LEVEL_ORDER
    return level


def _label(dimension: int, edition: Edition) -> str:
    return f"Dimension {dimension} ({DIMENSION_NAMES[edition][dimension]})"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _verb(dimensions: tuple[int, ...]) -> str:
    return "implies" if len(dimensions) == 1 else "imply"


def _at_least(level: str) -> str:
    return f"Level {level}" if level == LEVEL_ORDER[-1] else f"Level {level} or above"


def _at_most(level: str) -> str:
    return f"Level {level}" if level == LEVEL_ORDER[0] else f"Level {level} or below"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
