"""PHQ-A: the PHQ-9 modified for adolescents (11-17), depression over the last 2 weeks.

Source: Johnson JG, Harris ES, Spitzer RL, Williams JBW. The Patient Health Questionnaire for
Adolescents. J Adolesc Health 2002;30:196-204; NIMH PHQ-A form and teen scoring sheet (summarised in
../shared/domain.md section 4). LOINC: none confirmed (UNCONFIRMED), so none is stored.

The same nine items as the PHQ-9 with teen wording (item 1 adds irritability, item 7 schoolwork),
scored 0-3, total 0-27, the same bands and the same item 9 rule. The form's unscored questions
(past-year depression, difficulty, past-month serious suicidal thoughts, lifetime attempt) are asked and
followed up by the clinician; they are not part of the answers here.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import Instrument, Item, Score
from openiop.measures.domain.phq9 import (
    BANDS,
    FREQUENCY,
    FREQUENCY_LABELS,
    ITEM9,
    depression_score,
)

KEY = "phqa"

TEXTS: tuple[str, ...] = (
    "Feeling down, depressed, irritable, or hopeless",
    "Little interest or pleasure in doing things",
    "Trouble falling asleep, staying asleep, or sleeping too much",
    "Poor appetite, weight loss, or overeating",
    "Feeling tired, or having little energy",
    "Feeling bad about yourself, or feeling that you are a failure, or that you have let yourself or "
    "your family down",
    "Trouble concentrating on things like schoolwork, reading, or watching TV",
    "Moving or speaking so slowly that other people could have noticed, or the opposite: being so "
    "fidgety or restless that you were moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)

ITEMS: tuple[Item, ...] = tuple(
    Item(n, text, FREQUENCY, labels=FREQUENCY_LABELS) for n, text in enumerate(TEXTS, start=1)
)


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    return depression_score(KEY, answers)


INSTRUMENT = Instrument(
    key=KEY,
    name="PHQ-9 modified for Adolescents (PHQ-A)",
    short_name="PHQ-A",
    items=ITEMS,
    source="Johnson et al., J Adolesc Health 2002;30:196-204; NIMH PHQ-A; ../shared/domain.md s.4",
    scorer=_score,
    bands=BANDS,
    max_total=27,
    timeframe="Over the last 2 weeks, how often have you been bothered by each of the following?",
    crisis_items=((ITEM9, 1),),
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score nine PHQ-A answers (0-3 each), PHQ-9 bands and item 9 rule. Raises AnswerError."""
    return INSTRUMENT.score(answers, sex=sex)
