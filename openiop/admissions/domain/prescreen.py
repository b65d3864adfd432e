"""Pre-screen: does an intensive outpatient program fit, and is anyone at risk right now?

The questions are the seeds' own (issue 3): no need for 24/7 supervision or medically supervised
withdrawal; a safe, substance-free home; outpatient care alone not enough; able to attend several
days a week around work or school; motivation. The safety screen is the C-SSRS screener, scored by
`openiop.measures.domain.cssrs` (not repeated here): its high tier means a higher level of care now.

This is a screening aid that routes the inquiry; the level of care is decided by the ASAM
assessment and the clinician. Plain functions, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["fits", "does_not_fit", "higher_level_now"]

MOTIVATION_CHOICES: tuple[str, ...] = ("ready", "ambivalent", "not_ready")


@dataclass(frozen=True)
class PrescreenAnswers:
    needs_24h_supervision: bool
    needs_medical_withdrawal: bool
    safe_home: bool
    substance_free_home: bool
    outpatient_not_enough: bool
    can_attend: bool
    motivation: str  # one of MOTIVATION_CHOICES


@dataclass(frozen=True)
class PrescreenResult:
    """`outcome` routes the inquiry; `reasons` say why; `notes` are things to explore, not bars."""

    outcome: Outcome
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    safety_tier: str
    crisis_resources: bool  # show 988 and the clinic's crisis line

    @property
    def higher_level_now(self) -> bool:
        return self.outcome == "higher_level_now"


def prescreen_result(answers: PrescreenAnswers, safety_tier: str) -> PrescreenResult:
    """Route an inquiry from its pre-screen answers and the C-SSRS screener tier.

    A high C-SSRS tier gives 'higher_level_now' whatever the other answers: the person needs a
    same-day safety evaluation and possibly a higher level of care (../shared/domain.md s.7). Any
    other bar gives 'does_not_fit' with a reason per bar; otherwise 'fits'. Every positive tier
    (low, moderate, high) shows 988 and the crisis line. Raises ValueError for an unknown
    motivation or tier.
    """
    if answers.motivation not in MOTIVATION_CHOICES:
        raise ValueError(f"Unknown motivation '{answers.motivation}'.")
    if safety_tier not in ("none", "low", "moderate", "high"):
        raise ValueError(f"Unknown C-SSRS tier '{safety_tier}'.")
    reasons: list[str] = []
    notes: list[str] = []
    if answers.needs_24h_supervision:
        reasons.append("Needs 24-hour supervision: a residential or inpatient level, not IOP.")
    if answers.needs_medical_withdrawal:
        reasons.append(
            "Needs medically supervised withdrawal first: refer to withdrawal management."
        )
    if not answers.safe_home:
        reasons.append("No safe home to return to between sessions.")
    if not answers.substance_free_home:
        reasons.append("The home is not substance-free; outpatient recovery is at risk there.")
    if not answers.outpatient_not_enough:
        reasons.append(
            "Outpatient care alone may be enough: consider Level 1 outpatient before IOP."
        )
    if not answers.can_attend:
        reasons.append("Cannot attend several days a week around work or school.")
    if answers.motivation == "ambivalent":
        notes.append("Ambivalent about treatment: explore motivation at the assessment.")
    elif answers.motivation == "not_ready":
        notes.append("Not ready for treatment now: motivational follow-up; does not bar IOP.")
    if safety_tier in ("low", "moderate"):
        notes.append(
            f"C-SSRS screener {safety_tier} risk: refer for behavioral health follow-up and "
            "give 988 and the crisis line."
        )
    if safety_tier == "high":
        return PrescreenResult(
            outcome="higher_level_now",
            reasons=(
                "C-SSRS screener high risk: same-day safety evaluation; consider a higher level "
                "of care or the emergency department now.",
                *reasons,
            ),
            notes=tuple(notes),
            safety_tier=safety_tier,
            crisis_resources=True,
        )
    return PrescreenResult(
        outcome="does_not_fit" if reasons else "fits",
        reasons=tuple(reasons),
        notes=tuple(notes),
        safety_tier=safety_tier,
        crisis_resources=safety_tier != "none",
    )
