"""Columbia Suicide Severity Rating Scale, Screen Version - Recent, with triage.

Source: C-SSRS Screener (Posner et al., Columbia Lighthouse Project; CMS-hosted 2008 screen version and
the Columbia primary-care screener), as summarised in ../shared/domain.md section 4 and section 7.

Seven answers, yes=1 / no=0, in the order of the form:
  Q1 wish to be dead (past month); Q2 non-specific active suicidal thoughts; Q3 thoughts with a method
  (no plan or intent); Q4 intent without a specific plan; Q5 intent with a specific plan; Q6 suicidal
  behavior in the lifetime; then Q6's follow-up "within the past 3 months?".
Q3-Q5 are asked only when Q2 is yes; a yes there without Q2 is refused. The follow-up only counts when
Q6 is yes. There is no total.

Crisis resources are shown beside any question answered yes: every tier above none gets 988 and the
crisis line (section 7), and a yes to any question puts the screen at low or above.

Triage: Q1 or Q2 -> low; Q3 -> moderate; Q4 or Q5 -> high; Q6 with behavior only more than 3 months
ago -> moderate; Q6 within the past 3 months -> high; nothing -> none. The highest tier wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import AnswerError, Instrument, Item, Score

KEY = "cssrs"
TIERS: tuple[str, ...] = ("none", "low", "moderate", "high")
YES_NO = (0, 1)

ITEMS: tuple[Item, ...] = (
    Item(
        1,
        "In the past month, have you wished you were dead or wished you could go to sleep and not wake up?",
        YES_NO,
    ),
    Item(2, "In the past month, have you had any actual thoughts of killing yourself?", YES_NO),
    Item(3, "Have you been thinking about how you might do this?", YES_NO),
    Item(4, "Have you had these thoughts and had some intention of acting on them?", YES_NO),
    Item(
        5,
        "Have you started to work out or worked out the details of how to kill yourself? Do you intend to carry out this plan?",
        YES_NO,
    ),
    Item(
        6,
        "Have you ever done anything, started to do anything, or prepared to do anything to end your life?",
        YES_NO,
    ),
    Item(7, "If yes to the last question: was this within the past 3 months?", YES_NO),
)


def triage(answers: Sequence[int]) -> str:
    """The risk tier (none, low, moderate, high) of seven validated answers; the highest tier wins."""
    q1, q2, q3, q4, q5, q6, q6_recent = answers
    tier = 0
    if q1 or q2:
        tier = max(tier, 1)
    if q3:
        tier = max(tier, 2)
    if q4 or q5:
        tier = max(tier, 3)
    if q6:
        tier = max(tier, 3 if q6_recent else 2)
    return TIERS[tier]


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    if not answers[1] and any(answers[2:5]):
        item = 3 + next(i for i, a in enumerate(answers[2:5]) if a)
        raise AnswerError(
            f"C-SSRS item {item} is asked only when item 2 (thoughts of killing yourself) is yes.",
            item=item,
        )
    if answers[6] and not answers[5]:
        raise AnswerError(
            "C-SSRS item 7 (within the past 3 months) applies only when item 6 (behavior) is yes.",
            item=7,
        )
    tier = triage(answers)
    flags: list[str] = []
    if tier in ("moderate", "high"):
        flags.append("screen_positive")
    if tier == "high":
        flags.append("high_risk")
    return Score(instrument=KEY, total=None, band=tier, flags=tuple(flags))


INSTRUMENT = Instrument(
    key=KEY,
    name="C-SSRS Screener (recent)",
    items=ITEMS,
    source="Columbia Lighthouse Project, C-SSRS Screen Version - Recent (2008); ../shared/domain.md s.4",
    scorer=_score,
    loinc_total="93374-7",
    # Every tier above none gets 988 and crisis resources (../shared/domain.md s.7, "all tiers 988
    # + crisis resources"), and a yes to any question puts the screen at low or above (triage).
    crisis_items=tuple((item.number, 1) for item in ITEMS),
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score seven C-SSRS screener answers; `band` is the triage tier. Raises AnswerError."""
    return INSTRUMENT.score(answers, sex=sex)
