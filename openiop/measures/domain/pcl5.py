"""PTSD Checklist for DSM-5 (PCL-5), past month.

Source: Weathers FW, Litz BT, Keane TM, Palmieri PA, Marx BP, Schnurr PP. The PTSD Checklist for DSM-5
(PCL-5). National Center for PTSD, 2013; scoring per comorbidityguidelines.org.au Appendix S
(summarised in ../shared/domain.md section 4). LOINC: UNCONFIRMED, none stored.

Twenty items scored 0-4, total 0-80. There are no official severity bands. The provisional-diagnosis
cut-off is given as 31-33; OpenIOP uses 33 (`PROBABLE_PTSD_CUTOFF`, the upper end, so a positive is
less likely to be a false one; change it here with its test). Bands: below_threshold / probable_ptsd.
`dsm5_pattern` when the DSM-5 rule is met, counting items at 2 or more as endorsed: at least one of
items 1-5 (B), one of 6-7 (C), two of 8-14 (D) and two of 15-20 (E).
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import Band, Instrument, Item, Score, band_for

KEY = "pcl5"
PROBABLE_PTSD_CUTOFF = 33
ENDORSED = 2
ZERO_TO_FOUR = (0, 1, 2, 3, 4)
LABELS = ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")

BANDS: tuple[Band, ...] = (
    Band("below_threshold", 0, PROBABLE_PTSD_CUTOFF - 1),
    Band("probable_ptsd", PROBABLE_PTSD_CUTOFF, 80),
)

# (first item, last item, how many must be endorsed), 1-based and inclusive: DSM-5 clusters B-E.
CLUSTERS: tuple[tuple[int, int, int], ...] = ((1, 5, 1), (6, 7, 1), (8, 14, 2), (15, 20, 2))

TEXTS: tuple[str, ...] = (
    "Repeated, disturbing, and unwanted memories of the stressful experience",
    "Repeated, disturbing dreams of the stressful experience",
    "Suddenly feeling or acting as if the stressful experience were actually happening again",
    "Feeling very upset when something reminded you of the stressful experience",
    "Having strong physical reactions when something reminded you of the stressful experience",
    "Avoiding memories, thoughts, or feelings related to the stressful experience",
    "Avoiding external reminders of the stressful experience",
    "Trouble remembering important parts of the stressful experience",
    "Having strong negative beliefs about yourself, other people, or the world",
    "Blaming yourself or someone else for the stressful experience or what happened after it",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame",
    "Loss of interest in activities that you used to enjoy",
    "Feeling distant or cut off from other people",
    "Trouble experiencing positive feelings",
    "Irritable behavior, angry outbursts, or acting aggressively",
    "Taking too many risks or doing things that could cause you harm",
    "Being superalert or watchful or on guard",
    "Feeling jumpy or easily startled",
    "Having difficulty concentrating",
    "Trouble falling or staying asleep",
)

ITEMS: tuple[Item, ...] = tuple(
    Item(n, text, ZERO_TO_FOUR, labels=LABELS) for n, text in enumerate(TEXTS, start=1)
)


def dsm5_pattern(answers: Sequence[int]) -> bool:
    """Whether items at 2 or more meet the DSM-5 cluster rule (B1, C1, D2, E2)."""
    return all(
        sum(1 for a in answers[first - 1 : last] if a >= ENDORSED) >= need
        for first, last, need in CLUSTERS
    )


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    total = sum(answers)
    flags: list[str] = []
    if total >= PROBABLE_PTSD_CUTOFF:
        flags.append("screen_positive")
    if dsm5_pattern(answers):
        flags.append("dsm5_pattern")
    return Score(instrument=KEY, total=total, band=band_for(BANDS, total), flags=tuple(flags))


INSTRUMENT = Instrument(
    key=KEY,
    name="PTSD Checklist for DSM-5",
    short_name="PCL-5",
    items=ITEMS,
    source="Weathers et al., PCL-5, National Center for PTSD 2013; comorbidityguidelines.org.au "
    "App. S; ../shared/domain.md s.4",
    scorer=_score,
    bands=BANDS,
    max_total=80,
    timeframe="In the past month, how much were you bothered by:",
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score twenty PCL-5 answers (0-4 each). Raises AnswerError naming the item."""
    return INSTRUMENT.score(answers, sex=sex)
