"""AUDIT-C: the first three (consumption) questions of the AUDIT.

Source: Bush K, Kivlahan DR, McDonell MB, Fihn SD, Bradley KA. The AUDIT alcohol consumption
questions (AUDIT-C). Arch Intern Med 1998;158:1789-95; cut-offs by sex per Bradley et al. 2003
(PMID 12695273) as given in the US Core observation note (summarised in ../shared/domain.md section 4).
LOINC total 75626-2 (US Core).

Three items scored 0-4, total 0-12. Positive at 4 or more for men and 3 or more for women.
When sex is not given, the lower cut-off (3) is used so that no positive screen is missed, and the
flag `sex_not_given` says so (a documented default of OpenIOP, not part of the source).
`q1_only` when all points come from item 1: the source says drinking is then likely within limits,
and the clinician should review the patient's intake.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.audit import ITEMS as AUDIT_ITEMS
from openiop.measures.domain.base import AnswerError, Band, Instrument, Score

KEY = "auditc"
CUTOFF_BY_SEX: dict[str, int] = {"male": 4, "female": 3}
CUTOFF_WITHOUT_SEX = 3

ITEMS = AUDIT_ITEMS[:3]


def cutoff_for(sex: str | None) -> int:
    """The positive cut-off for `sex` (male / female / None). Raises AnswerError for anything else."""
    if sex is None or sex == "":
        return CUTOFF_WITHOUT_SEX
    try:
        return CUTOFF_BY_SEX[sex]
    except KeyError:
        raise AnswerError(f"AUDIT-C: sex must be female or male, not {sex!r}.") from None


def bands_for(sex: str | None) -> tuple[Band, ...]:
    """The negative/positive bands for `sex`, for charts and tables."""
    cut = cutoff_for(sex)
    return (Band("negative", 0, cut - 1), Band("positive", cut, 12))


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    cut = cutoff_for(sex)
    total = sum(answers)
    flags: list[str] = []
    positive = total >= cut
    if positive:
        flags.append("screen_positive")
    if total > 0 and answers[1] == 0 and answers[2] == 0:
        flags.append("q1_only")
    if not sex:
        flags.append("sex_not_given")
    return Score(
        instrument=KEY,
        total=total,
        band="positive" if positive else "negative",
        flags=tuple(flags),
    )


INSTRUMENT = Instrument(
    key=KEY,
    name="AUDIT-C (alcohol consumption questions)",
    short_name="AUDIT-C",
    items=ITEMS,
    source="Bush et al., Arch Intern Med 1998;158:1789-95; Bradley et al. 2003 (PMID 12695273); "
    "../shared/domain.md s.4",
    scorer=_score,
    loinc_total="75626-2",
    max_total=12,
    timeframe="About your use of alcoholic beverages during the past year",
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score three AUDIT-C answers (0-4) with the cut-off for `sex`. Raises AnswerError."""
    return INSTRUMENT.score(answers, sex=sex)
