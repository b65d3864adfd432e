"""Generalized Anxiety Disorder-7 (GAD-7), anxiety over the last 2 weeks.

Source: Spitzer RL, Kroenke K, Williams JBW, Lowe B. A brief measure for assessing generalized anxiety
disorder: the GAD-7. Arch Intern Med 2006;166:1092-1097 (summarised in ../shared/domain.md section 4).
LOINC total 70274-6 (HL7 PHR IG).

Seven items scored 0-3, total 0-21. Bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe.
`screen_positive` at 10 or more (further evaluation advised; sensitivity 89%, specificity 82%).
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import Band, Instrument, Item, Score, band_for
from openiop.measures.domain.phq9 import FREQUENCY, FREQUENCY_LABELS

KEY = "gad7"
SCREEN_CUTOFF = 10

BANDS: tuple[Band, ...] = (
    Band("minimal", 0, 4),
    Band("mild", 5, 9),
    Band("moderate", 10, 14),
    Band("severe", 15, 21),
)

TEXTS: tuple[str, ...] = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)

ITEMS: tuple[Item, ...] = tuple(
    Item(n, text, FREQUENCY, labels=FREQUENCY_LABELS) for n, text in enumerate(TEXTS, start=1)
)


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    total = sum(answers)
    flags = ("screen_positive",) if total >= SCREEN_CUTOFF else ()
    return Score(instrument=KEY, total=total, band=band_for(BANDS, total), flags=flags)


INSTRUMENT = Instrument(
    key=KEY,
    name="Generalized Anxiety Disorder-7",
    short_name="GAD-7",
    items=ITEMS,
    source="Spitzer et al., Arch Intern Med 2006;166:1092-7; ../shared/domain.md s.4",
    scorer=_score,
    bands=BANDS,
    loinc_total="70274-6",
    max_total=21,
    timeframe="Over the last 2 weeks, how often have you been bothered by the following problems?",
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score seven GAD-7 answers (0-3 each). Raises AnswerError naming the item."""
    return INSTRUMENT.score(answers, sex=sex)
