"""Drug Abuse Screening Test, 10-item version (DAST-10), past 12 months.

Source: Skinner HA. The Drug Abuse Screening Test. Addictive Behaviors 1982;7:363-371; DAST-10 scoring
per comorbidityguidelines.org.au Appendix W and nova.edu (summarised in ../shared/domain.md section 4).
LOINC 82667-7 (Synthea).

Ten yes/no questions about drug use other than alcohol in the past 12 months. Answers are the raw
responses, yes=1 and no=0, in the order of the form. Every yes scores 1 except item 3 ("always able to
stop when you want to?"), which is reverse-scored: a no scores 1. So all-"no" raw answers total 1.
Bands: 0 no problems, 1-2 low, 3-5 moderate, 6-8 substantial, 9-10 severe. `screen_positive` from the
moderate band (3 or more), the level at which the source advises further assessment (treated here as the
cut-off; the source gives bands, not a single cut-off: UNCONFIRMED as a published "positive").
"""

from __future__ import annotations

from collections.abc import Sequence

from openiop.measures.domain.base import Band, Instrument, Item, Score, band_for

KEY = "dast10"
REVERSED_ITEM = 3
SCREEN_CUTOFF = 3
YES_NO = (0, 1)
YES_NO_LABELS = ("No", "Yes")

BANDS: tuple[Band, ...] = (
    Band("no_problems", 0, 0),
    Band("low", 1, 2),
    Band("moderate", 3, 5),
    Band("substantial", 6, 8),
    Band("severe", 9, 10),
)

TEXTS: tuple[str, ...] = (
    "Have you used drugs other than those required for medical reasons?",
    "Do you use more than one drug at a time?",
    "Are you always able to stop using drugs when you want to?",
    "Have you had blackouts or flashbacks as a result of drug use?",
    "Do you ever feel bad or guilty about your drug use?",
    "Does your spouse or a parent ever complain about your involvement with drugs?",
    "Have you neglected your family because of your use of drugs?",
    "Have you engaged in illegal activities in order to obtain drugs?",
    "Have you ever experienced withdrawal symptoms (felt sick) when you stopped taking drugs?",
    "Have you had medical problems as a result of your drug use (memory loss, hepatitis, "
    "convulsions, bleeding)?",
)

ITEMS: tuple[Item, ...] = tuple(
    Item(n, text, YES_NO, labels=YES_NO_LABELS) for n, text in enumerate(TEXTS, start=1)
)


def item_points(number: int, raw: int) -> int:
    """Points for one raw answer (yes=1, no=0): item 3 is reverse-scored."""
    return 1 - raw if number == REVERSED_ITEM else raw


def _score(answers: tuple[int, ...], *, sex: str | None = None) -> Score:
    del sex
    total = sum(item_points(n, a) for n, a in enumerate(answers, start=1))
    flags = ("screen_positive",) if total >= SCREEN_CUTOFF else ()
    return Score(instrument=KEY, total=total, band=band_for(BANDS, total), flags=flags)


INSTRUMENT = Instrument(
    key=KEY,
    name="Drug Abuse Screening Test (DAST-10)",
    short_name="DAST-10",
    items=ITEMS,
    source="Skinner, Addictive Behaviors 1982;7:363-71; comorbidityguidelines.org.au App. W; "
    "../shared/domain.md s.4",
    scorer=_score,
    bands=BANDS,
    loinc_total="82667-7",
    max_total=10,
    timeframe="In the past 12 months (drug use other than alcohol; not medicines taken as prescribed)",
)


def score(answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score ten raw DAST-10 answers (yes=1, no=0); item 3 is reversed here. Raises AnswerError."""
    return INSTRUMENT.score(answers, sex=sex)
