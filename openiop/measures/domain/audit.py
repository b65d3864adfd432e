"""Alcohol Use Disorders Identification Test (AUDIT), WHO.

Source: Babor TF, Higgins-Biddle JC, Saunders JB, Monteiro MG. AUDIT: Guidelines for Use in Primary
Care, 2nd ed. WHO 2001 (via comorbidityguidelines.org.au and auditscreen.org; summarised in
../shared/domain.md section 4). LOINC total 75624-7 (as listed in repositories; one source swaps it
with AUDIT-C's code, so verify before exporting).

Ten items in the order of the form. Items 1-8 are scored 0-4; items 9 and 10 only 0, 2 or 4.
Total 0-40. Risk zones: I 0-7, II 8-15, III 16-19, IV 20-40 (refer). `screen_positive` from zone II
(8 or more). `zone_step_up` when items 4-6 score 2 or more or items 9-10 score 4: WHO advises the
next zone up then.
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import Band, Instrument, Item, Score, band_for

KEY = "audit"
SCREEN_CUTOFF = 8
ZERO_TO_FOUR = (0, 1, 2, 3, 4)
ZERO_TWO_FOUR = (0, 2, 4)

BANDS: tuple[Band, ...] = (
    Band("zone1", 0, 7),
    Band("zone2", 8, 15),
    Band("zone3", 16, 19),
    Band("zone4", 20, 40),
)

OFTEN = ("Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily")
YES_LATER = ("No", "Yes, but not in the last year", "Yes, during the last year")

ITEMS: tuple[Item, ...] = (
    Item(
        1,
        "How often do you have a drink containing alcohol?",
        ZERO_TO_FOUR,
        labels=(
            "Never",
            "Monthly or less",
            "2 to 4 times a month",
            "2 to 3 times a week",
            "4 or more times a week",
        ),
    ),
    Item(
        2,
        "How many drinks containing alcohol do you have on a typical day when you are drinking?",
        ZERO_TO_FOUR,
        labels=("1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more"),
    ),
    Item(
        3, "How often do you have six or more drinks on one occasion?", ZERO_TO_FOUR, labels=OFTEN
    ),
    Item(
        4,
        "How often during the last year have you found that you were not able to stop drinking once "
        "you had started?",
        ZERO_TO_FOUR,
        labels=OFTEN,
    ),
    Item(
        5,
        "How often during the last year have you failed to do what was normally expected of you "
        "because of drinking?",
        ZERO_TO_FOUR,
        labels=OFTEN,
    ),
    Item(
        6,
        "How often during the last year have you needed a first drink in the morning to get yourself "
        "going after a heavy drinking session?",
        ZERO_TO_FOUR,
        labels=OFTEN,
    ),
    Item(
        7,
        "How often during the last year have you had a feeling of guilt or remorse after drinking?",
        ZERO_TO_FOUR,
        labels=OFTEN,
    ),
    Item(
        8,
        "How often during the last year have you been unable to remember what happened the night "
        "before because you had been drinking?",
        ZERO_TO_FOUR,
        labels=OFTEN,
    ),
    Item(
        9,
        "Have you or someone else been injured as a result of your drinking?",
        ZERO_TWO_FOUR,
        labels=YES_LATER,
    ),
    Item(
        10,
        "Has a relative, friend, doctor or other health worker been concerned about your drinking or "
        "suggested you cut down?",
        ZERO_TWO_FOUR,
        labels=YES_LATER,
    ),
)


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    total = sum(answers)
    flags: list[str] = []
    if total >= SCREEN_CUTOFF:
        flags.append("screen_positive")
    if any(a >= 2 for a in answers[3:6]) or any(a == 4 for a in answers[8:10]):
        flags.append("zone_step_up")
    return Score(instrument=KEY, total=total, band=band_for(BANDS, total), flags=tuple(flags))


INSTRUMENT = Instrument(
    key=KEY,
    name="Alcohol Use Disorders Identification Test",
    short_name="AUDIT",
    items=ITEMS,
    source="Babor et al., AUDIT Guidelines for Use in Primary Care, 2nd ed., WHO 2001; "
    "../shared/domain.md s.4",
    scorer=_score,
    bands=BANDS,
    loinc_total="75624-7",
    max_total=40,
    timeframe="About your use of alcoholic beverages (the last year where a question says so)",
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score ten AUDIT answers (1-8: 0-4; 9-10: 0, 2 or 4). Raises AnswerError naming the item."""
    return INSTRUMENT.score(answers, sex=sex)
