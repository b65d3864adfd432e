"""Brief Addiction Monitor (BAM), VA.

Source: Cacciola JS, Alterman AI, DePhilippis D, et al. Development and initial evaluation of the Brief
Addiction Monitor (BAM). J Subst Abuse Treat 2013;44:256-263; VA BAM manual (summarised in
../shared/domain.md section 4). LOINC: UNCONFIRMED, none stored.

Seventeen items in the order of the form, each entered on the 0-4 scale of the form's answer options
(the Likert version). There is no total and no band. Subscales (VA manual numbering):
Use = 4+5+6; Risk = 1+2+3+8+11+15; Protective = 9+10+12+13+14+16. Item 7 (which drugs) is detail
and item 17 (satisfaction with progress) is tracked but neither is in a subscale. The timeframe is the
past 30 days (an IOP may use the past 7 days; the response stores the timeframe used). `use_reported`
when the Use subscale is above zero. Concern thresholds for the other subscales are published for a
different item numbering, so none are applied here.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import Instrument, Item, Score

KEY = "bam"
ZERO_TO_FOUR = (0, 1, 2, 3, 4)

SUBSCALES: dict[str, tuple[int, ...]] = {
    "use": (4, 5, 6),
    "risk": (1, 2, 3, 8, 11, 15),
    "protective": (9, 10, 12, 13, 14, 16),
}

DAYS = ("0 days", "1-3 days", "4-8 days", "9-15 days", "16-30 days")
TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "In the past 30 days, how would you say your physical health has been?",
        ("Excellent", "Very good", "Good", "Fair", "Poor"),
    ),
    (
        "In the past 30 days, how many nights did you have trouble falling asleep or staying asleep?",
        DAYS,
    ),
    (
        "In the past 30 days, how many days have you felt depressed, anxious, angry or very upset "
        "throughout most of the day?",
        DAYS,
    ),
    ("In the past 30 days, how many days did you drink ANY alcohol?", DAYS),
    (
        "In the past 30 days, how many days did you have at least 5 drinks (if you are a man) or at "
        "least 4 drinks (if you are a woman)?",
        DAYS,
    ),
    (
        "In the past 30 days, how many days did you use any illegal or street drugs or abuse any "
        "prescription medications?",
        DAYS,
    ),
    (
        "In the past 30 days, on how many days did you use the drug you used most?",
        DAYS,
    ),
    (
        "In the past 30 days, how much were you bothered by cravings or urges to drink alcohol or use "
        "drugs?",
        ("Not at all", "Slightly", "Moderately", "Considerably", "Extremely"),
    ),
    (
        "How confident are you in your ability to be completely abstinent (clean) from alcohol and "
        "drugs in the next 30 days?",
        ("Not at all", "Slightly", "Moderately", "Considerably", "Extremely"),
    ),
    (
        "In the past 30 days, how many days did you attend self-help meetings like AA or NA to support "
        "your recovery?",
        DAYS,
    ),
    (
        "In the past 30 days, how many days were you in any situations or with any people that might "
        "put you at an increased risk for using alcohol or drugs?",
        DAYS,
    ),
    (
        "Does your religion or spirituality help support your recovery?",
        ("Not at all", "Slightly", "Moderately", "Considerably", "Extremely"),
    ),
    (
        "In the past 30 days, how many days did you spend much of the time at work, school, or doing "
        "volunteer work?",
        DAYS,
    ),
    (
        "Do you have enough income (from legal sources) to pay for necessities such as housing, "
        "transportation, food and clothing for yourself and your dependents?",
        ("No", "Rarely", "Sometimes", "Mostly", "Yes"),
    ),
    (
        "In the past 30 days, how much have you been bothered by arguments or problems getting along "
        "with any family members or friends?",
        ("Not at all", "Slightly", "Moderately", "Considerably", "Extremely"),
    ),
    (
        "In the past 30 days, how many days did you contact or spend time with any family members or "
        "friends who are supportive of your recovery?",
        DAYS,
    ),
    (
        "How satisfied are you with your progress toward achieving your recovery goals?",
        ("Not at all", "Slightly", "Moderately", "Considerably", "Extremely"),
    ),
)

ITEMS: tuple[Item, ...] = tuple(
    Item(n, text, ZERO_TO_FOUR, labels=labels) for n, (text, labels) in enumerate(TEXTS, start=1)
)


def subscales(answers: Sequence[int]) -> dict[str, int]:
    """The three subscale sums (use, risk, protective) of seventeen validated answers."""
    return {name: sum(answers[n - 1] for n in numbers) for name, numbers in SUBSCALES.items()}


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    parts = subscales(answers)
    flags = ("use_reported",) if parts["use"] > 0 else ()
    return Score(instrument=KEY, total=None, band=None, flags=flags, subscales=parts)


INSTRUMENT = Instrument(
    key=KEY,
    name="Brief Addiction Monitor",
    short_name="BAM",
    items=ITEMS,
    source="Cacciola et al., J Subst Abuse Treat 2013;44:256-63; VA BAM manual; ../shared/domain.md s.4",
    scorer=_score,
    timeframe="In the past 30 days",
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Subscales (use, risk, protective) of seventeen BAM answers (0-4). Raises AnswerError."""
    return INSTRUMENT.score(answers, sex=sex)
