"""Patient Health Questionnaire-9 (PHQ-9), depression severity over the last 2 weeks.

Source: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity
measure. J Gen Intern Med 2001;16:606-613 (summarised in ../shared/domain.md section 4). LOINC panel
44249-1, total 44261-6, item 9 44260-8 (US Core; SPiER).

Nine items scored 0-3 in the order of the form; total 0-27. The difficulty question at the end of the
form is not scored and is not part of the answers. Bands: 0-4 minimal, 5-9 mild, 10-14 moderate,
15-19 moderately severe, 20-27 severe. `screen_positive` at a total of 10 or more. `item9_positive`
when item 9 (thoughts of being better off dead or of self-harm) is 1 or more, whatever the total:
it asks for a same-day suicide risk assessment.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import Band, Instrument, Item, Score, band_for

KEY = "phq9"
FREQUENCY = (0, 1, 2, 3)
FREQUENCY_LABELS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
SCREEN_CUTOFF = 10
ITEM9 = 9

BANDS: tuple[Band, ...] = (
    Band("minimal", 0, 4),
    Band("mild", 5, 9),
    Band("moderate", 10, 14),
    Band("moderately_severe", 15, 19),
    Band("severe", 20, 27),
)

TEXTS: tuple[str, ...] = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed, or the opposite: being so "
    "fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)

ITEMS: tuple[Item, ...] = tuple(
    Item(
        n,
        text,
        FREQUENCY,
        loinc="44260-8" if n == ITEM9 else None,
        labels=FREQUENCY_LABELS,
    )
    for n, text in enumerate(TEXTS, start=1)
)


def depression_score(key: str, answers: tuple[int, ...]) -> Score:
    """Total, band and flags shared by the PHQ-9 and the PHQ-A (same items, same bands)."""
    total = sum(answers)
    flags: list[str] = []
    if total >= SCREEN_CUTOFF:
        flags.append("screen_positive")
    if answers[ITEM9 - 1] >= 1:
        flags.append("item9_positive")
    return Score(instrument=key, total=total, band=band_for(BANDS, total), flags=tuple(flags))


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    return depression_score(KEY, answers)


INSTRUMENT = Instrument(
    key=KEY,
    name="Patient Health Questionnaire-9",
    short_name="PHQ-9",
    items=ITEMS,
    source="Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-13; ../shared/domain.md s.4",
    scorer=_score,
    bands=BANDS,
    loinc_panel="44249-1",
    loinc_total="44261-6",
    max_total=27,
    timeframe="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    crisis_items=((ITEM9, 1),),
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score nine PHQ-9 answers (0-3 each). Raises AnswerError naming the item."""
    return INSTRUMENT.score(answers, sex=sex)
