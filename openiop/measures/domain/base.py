"""What every instrument shares: its description as data and the shape of a score.

An instrument module defines one `Instrument` (items, allowed answers, LOINC codes, source) and a pure
`score(answers, *, sex=None) -> Score`. Nothing here touches the database, the clock or the network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


class AnswerError(ValueError):
    """Answers that do not fit the instrument: wrong count or an item out of range.

    `item` is the 1-based item number the message names (None when the count is wrong).
    """

    def __init__(self, message: str, *, item: int | None = None) -> None:
        super().__init__(message)
        self.item = item


@dataclass(frozen=True)
class Item:
    """One question, in the order of the published form. `allowed` are the raw answer values."""

    number: int
    text: str
    allowed: tuple[int, ...]
    loinc: str | None = None
    labels: tuple[str, ...] = ()  # one label per allowed answer, for the forms; empty = the numbers

    def choices(self) -> list[tuple[int, str]]:
        """(value, label) pairs for a form, in the order of `allowed`."""
        labels = self.labels or tuple(str(a) for a in self.allowed)
        return list(zip(self.allowed, labels, strict=True))


@dataclass(frozen=True)
class Band:
    """A named range of totals, inclusive at both ends."""

    name: str
    low: int
    high: int


@dataclass(frozen=True)
class Score:
    """The result of scoring one set of answers.

    `total` is None for instruments that have none (C-SSRS, BAM). `flags` are stable keys such as
    `item9_positive` and `screen_positive`; `subscales` maps a subscale key to its sum.
    """

    instrument: str
    total: int | None
    band: str | None
    flags: tuple[str, ...] = ()
    subscales: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "flags": list(self.flags),
            "subscales": dict(self.subscales),
        }


# What each flag key means, in words, for every page that shows flags (the keys stay the record).
FLAG_LABELS: Mapping[str, str] = {
    "screen_positive": "Positive screen",
    "item9_positive": "Item 9 positive: thoughts of death or self-harm",
    "high_risk": "High risk",
    "dsm5_pattern": "Meets the DSM-5 symptom pattern",
    "q1_only": "All points from question 1: review the patient's intake",
    "sex_not_given": "Sex not given: the lower cut-off was used",
    "zone_step_up": "Next zone up advised (items 4-6 or 9-10)",
    "use_reported": "Use reported",
}


def flag_label(key: str) -> str:
    """The words for a flag key (an unknown key is shown with its underscores as spaces)."""
    return FLAG_LABELS.get(key, key.replace("_", " "))


@dataclass(frozen=True)
class Instrument:
    """An instrument as data plus its scoring function.

    `key` is the short name used on the command line and in storage (phq9, gad7, cssrs...).
    """

    key: str
    name: str
    items: tuple[Item, ...]
    source: str
    scorer: Callable[..., Score]
    bands: tuple[Band, ...] = ()
    loinc_panel: str | None = None
    loinc_total: str | None = None
    max_total: int | None = None
    timeframe: str = ""  # the period the questions ask about, as printed on the form
    short_name: str = ""  # for tables and charts (PHQ-9, GAD-7)
    version: str = "1"  # bumped when items, answers or scoring change; stored with each response
    # (item number, lowest answer) pairs: an answer at or above it shows the patient crisis
    # resources beside that item, as soon as it is chosen.
    crisis_items: tuple[tuple[int, int], ...] = ()

    @property
    def label(self) -> str:
        return self.short_name or self.name

    def crisis_from(self, number: int) -> int | None:
        """The lowest answer to item `number` that shows crisis resources, or None."""
        return dict(self.crisis_items).get(number)

    def score(self, answers: Sequence[int], *, sex: str | None = None) -> Score:
        """Validate the answers against the items, then score them. Raises AnswerError."""
        check_answers(self, answers)
        return self.scorer(tuple(answers), sex=sex)


def check_answers(instrument: Instrument, answers: Sequence[int]) -> None:
    """Raise AnswerError naming the first item whose answer is not allowed, or a wrong count."""
    expected = len(instrument.items)
    if len(answers) != expected:
        raise AnswerError(
            f"{instrument.name} takes {expected} answers in the order of the published form; "
            f"got {len(answers)}."
        )
    for item, answer in zip(instrument.items, answers, strict=True):
        if isinstance(answer, bool) or not isinstance(answer, int) or answer not in item.allowed:
            allowed = ", ".join(str(a) for a in item.allowed)
            raise AnswerError(
                f"{instrument.name} item {item.number}: {answer!r} is not an allowed answer "
                f"(allowed: {allowed}).",
                item=item.number,
            )


def band_for(bands: Sequence[Band], total: int) -> str:
    """The name of the band whose inclusive range holds `total`. Raises ValueError if none does."""
    for band in bands:
        if band.low <= total <= band.high:
            return band.name
    raise ValueError(f"no band holds the total {total}")
