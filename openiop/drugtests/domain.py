"""Drug and alcohol testing rules, in plain Python: no Django, no clock, no I/O.

- `reconcile`: each result against what the medication list leads one to expect, as flags for the
  prescriber, worded without blame. A result is information for a conversation; nothing here
  discharges anyone or decides anything.
- `draw`: the weekly random selection, a pure function of the patients, the week, a secret seed and
  the rate: the same inputs always give the same draw (so an auditor can repeat it from the seed the
  audit log keeps), and a patient cannot tell from one week whether they will be drawn the next.
- `parse_lab_csv`: a lab's CSV export, row by row, each row either a specimen or the reasons it is
  refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Analyte(StrEnum):
    """What a test panel reports (urine immunoassay classes, breath alcohol)."""

    ALCOHOL = "alcohol"
    ETG = "etg"
    AMPHETAMINES = "amphetamines"
    METHAMPHETAMINE = "methamphetamine"
    BENZODIAZEPINES = "benzodiazepines"
    BUPRENORPHINE = "buprenorphine"
    CANNABINOIDS = "cannabinoids"
    COCAINE = "cocaine"
    FENTANYL = "fentanyl"
    METHADONE = "methadone"
    OPIATES = "opiates"
    OXYCODONE = "oxycodone"
    BARBITURATES = "barbiturates"


ANALYTE_LABELS: dict[Analyte, str] = {
    Analyte.ALCOHOL: "Alcohol (breath)",
    Analyte.ETG: "Alcohol metabolite (EtG)",
    Analyte.AMPHETAMINES: "Amphetamines",
    Analyte.METHAMPHETAMINE: "Methamphetamine",
    Analyte.BENZODIAZEPINES: "Benzodiazepines",
    Analyte.BUPRENORPHINE: "Buprenorphine",
    Analyte.CANNABINOIDS: "Cannabinoids (THC)",
    Analyte.COCAINE: "Cocaine",
    Analyte.FENTANYL: "Fentanyl",
    Analyte.METHADONE: "Methadone",
    Analyte.OPIATES: "Opiates",
    Analyte.OXYCODONE: "Oxycodone",
    Analyte.BARBITURATES: "Barbiturates",
}


class Validity(StrEnum):
    VALID = "valid"
    DILUTE = "dilute"
    SUBSTITUTED = "substituted"
    ADULTERATED = "adulterated"
    INVALID = "invalid"


VALIDITY_LABELS: dict[Validity, str] = {
    Validity.VALID: "Valid",
    Validity.DILUTE: "Dilute",
    Validity.SUBSTITUTED: "Substituted",
    Validity.ADULTERATED: "Adulterated",
    Validity.INVALID: "Invalid",
}

# Specimens from which no conclusion about any substance is drawn.
NO_CONCLUSION = frozenset({Validity.SUBSTITUTED, Validity.ADULTERATED, Validity.INVALID})


class Outcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


@dataclass(frozen=True)
class AnalyteResult:
    analyte: Analyte
    outcome: Outcome


@dataclass(frozen=True)
class Expected:
    """A medication the patient takes on the day of the test, and what a test reports for it."""

    medication: str
    analyte: Analyte


class FindingKind(StrEnum):
    EXPECTED_PRESENT = "expected_present"
    EXPECTED_ABSENT = "expected_absent"
    UNEXPECTED = "unexpected"
    INVALID_SPECIMEN = "invalid_specimen"


FINDING_LABELS: dict[FindingKind, str] = {
    FindingKind.EXPECTED_PRESENT: "Prescribed medication found",
    FindingKind.EXPECTED_ABSENT: "Prescribed medication not found",
    FindingKind.UNEXPECTED: "Substance found that is not prescribed",
    FindingKind.INVALID_SPECIMEN: "Specimen could not be interpreted",
}


@dataclass(frozen=True)
class Finding:
    """One line of a reconciliation. `needs_review` findings become flags for the prescriber."""

    kind: FindingKind
    analyte: Analyte | None
    message: str

    @property
    def needs_review(self) -> bool:
        return self.kind != FindingKind.EXPECTED_PRESENT


def _label(a: Analyte) -> str:
    return ANALYTE_LABELS[a]


def reconcile(
    results: Sequence[AnalyteResult], validity: Validity, expected: Sequence[Expected]
) -> list[Finding]:
    """Compare one specimen's results with the medications expected in it.

    Returns, in a stable order (analyte order of the results, then expected analytes not tested
    last): EXPECTED_PRESENT for a prescribed medication found (no flag); EXPECTED_ABSENT for a
    prescribed medication tested and not found; UNEXPECTED for a positive no prescribed
    medication explains; a single INVALID_SPECIMEN (and nothing else) for a substituted,
    adulterated or invalid specimen, from which no conclusion is drawn. A dilute specimen is read,
    and a negative for an expected medication says that dilution can hide it. An expected
    medication the panel did not test gives no finding: absence was not measured.

    Messages are for the prescriber and are worded without blame: a result opens a conversation.
    """
    if validity in NO_CONCLUSION:
        word = VALIDITY_LABELS[validity].lower()
        return [
            Finding(
                FindingKind.INVALID_SPECIMEN,
                None,
                f"The specimen was reported {word}, so no conclusion is drawn from it; "
                "a repeat test may help.",
            )
        ]
    by_analyte: dict[Analyte, list[str]] = {}
    for e in expected:
        by_analyte.setdefault(e.analyte, []).append(e.medication)
    findings: list[Finding] = []
    seen: set[Analyte] = set()
    for r in results:
        if r.analyte in seen:
            continue
        seen.add(r.analyte)
        meds = by_analyte.get(r.analyte)
        if meds:
            names = " and ".join(sorted(set(meds)))
            if r.outcome == Outcome.POSITIVE:
                findings.append(
                    Finding(
                        FindingKind.EXPECTED_PRESENT,
                        r.analyte,
                        f"{_label(r.analyte)} was found, as expected with {names}.",
                    )
                )
            else:
                text = (
                    f"{_label(r.analyte)} was not found in this sample although {names} "
                    f"{'is' if len(set(meds)) == 1 else 'are'} prescribed; worth a conversation."
                )
                if validity == Validity.DILUTE:
                    text += " The sample was dilute, which can hide a medication."
                findings.append(Finding(FindingKind.EXPECTED_ABSENT, r.analyte, text))
        elif r.outcome == Outcome.POSITIVE:
            findings.append(
                Finding(
                    FindingKind.UNEXPECTED,
                    r.analyte,
                    f"{_label(r.analyte)} was found and is not on the medication list; worth a "
                    "conversation (a medication from elsewhere may explain it).",
                )
            )
    return findings


# --- the weekly random draw -------------------------------------------------------------------


def _ticket(seed: str, week: dt.date, patient_id: int) -> str:
    return hashlib.sha256(f"{seed}|{week.isoformat()}|{patient_id}".encode()).hexdigest()


def draw_size(population: int, rate: Decimal) -> int:
    """How many of `population` a draw at `rate` (0 to 1) selects: the rate times the population,
    rounded half up, so that the share drawn is the rate as nearly as whole people allow."""
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValueError("rate is a share between 0 and 1")
    return int((Decimal(population) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def draw(patients: Sequence[int], week: dt.date, seed: str, rate: Decimal) -> list[int]:
    """The patients (ids) drawn for a random test in the week starting `week`, sorted by id.

    Each patient gets a ticket, SHA-256 of the seed, the week and their id; the draw_size(n, rate)
    lowest tickets are drawn. The same seed, week and patients always give the same draw (an
    auditor repeats it from the seed kept in the audit log); without the seed, last week's draw
    says nothing about this week's. Raises ValueError for a rate outside 0..1 or an empty seed.
    """
    if not seed:
        raise ValueError("a draw needs a seed")
    unique = sorted(set(patients))
    k = draw_size(len(unique), rate)
    ranked = sorted(unique, key=lambda pid: _ticket(seed, week, pid))
    return sorted(ranked[:k])


# --- the lab's CSV file -----------------------------------------------------------------------

FIXED_COLUMNS = ("mrn", "accession", "collected_on", "validity")
OPTIONAL_COLUMNS = ("observed",)
POSITIVE_WORDS = {"pos", "positive", "+", "detected"}
NEGATIVE_WORDS = {"neg", "negative", "-", "not detected", "nd"}


@dataclass
class LabRow:
    """One specimen of the lab's file, parsed; `errors` says why it is refused (none: it may post)."""

    line: int
    mrn: str = ""
    accession: str = ""
    collected_on: dt.date | None = None
    validity: Validity | None = None
    observed: bool = False
    results: list[AnalyteResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class LabFile:
    rows: list[LabRow]
    errors: list[str]  # the file's own (a missing column): no row posts


def parse_lab_csv(text: str, *, max_rows: int = 2000) -> LabFile:
    """Parse a lab's CSV: columns mrn, accession, collected_on (YYYY-MM-DD), validity, observed
    (optional, yes/no) and one column per analyte (its Analyte value, e.g. `buprenorphine`) holding
    pos/neg or blank (not tested). Returns every row with its errors; a file-level problem (a
    missing column, an unknown column, too many rows) is in LabFile.errors and no row is parsed."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    problems: list[str] = []
    missing = [c for c in FIXED_COLUMNS if c not in header]
    if missing:
        problems.append(f"The file has no column {', '.join(missing)}.")
    known = set(FIXED_COLUMNS) | set(OPTIONAL_COLUMNS) | {a.value for a in Analyte}
    unknown = [h for h in header if h not in known]
    if unknown:
        problems.append(
            f"Unknown column {', '.join(unknown)}: analyte columns are "
            + ", ".join(a.value for a in Analyte)
            + "."
        )
    analytes = [Analyte(h) for h in header if h in {a.value for a in Analyte}]
    if not problems and not analytes:
        problems.append("The file has no analyte column.")
    if problems:
        return LabFile(rows=[], errors=problems)
    rows: list[LabRow] = []
    for n, raw in enumerate(reader, start=2):
        if len(rows) >= max_rows:
            return LabFile(rows=[], errors=[f"The file has more than {max_rows} rows."])
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        rows.append(_parse_row(n, values, analytes))
    if not rows:
        return LabFile(rows=[], errors=["The file has no rows."])
    return LabFile(rows=rows, errors=[])


def _parse_row(line: int, values: dict[str, str], analytes: list[Analyte]) -> LabRow:
    row = LabRow(line=line, mrn=values.get("mrn", ""), accession=values.get("accession", ""))
    if not row.mrn:
        row.errors.append("no MRN")
    if not row.accession:
        row.errors.append("no accession number")
    elif len(row.accession) > 60:
        row.errors.append("accession number longer than 60 characters")
    try:
        row.collected_on = dt.date.fromisoformat(values.get("collected_on", ""))
    except ValueError:
        row.errors.append("collected_on is not a date (YYYY-MM-DD)")
    try:
        row.validity = Validity(values.get("validity", "").lower())
    except ValueError:
        row.errors.append("validity is not one of " + ", ".join(v.value for v in Validity))
    observed = values.get("observed", "").lower()
    if observed in {"yes", "y", "true", "1"}:
        row.observed = True
    elif observed not in {"", "no", "n", "false", "0"}:
        row.errors.append("observed is not yes or no")
    for a in analytes:
        value = values.get(a.value, "").lower()
        if not value:
            continue
        if value in POSITIVE_WORDS:
            row.results.append(AnalyteResult(a, Outcome.POSITIVE))
        elif value in NEGATIVE_WORDS:
            row.results.append(AnalyteResult(a, Outcome.NEGATIVE))
        else:
            row.errors.append(f"{a.value} is “{value[:20]}”, not pos or neg")
    if not row.results and row.validity not in NO_CONCLUSION:
        row.errors.append("no analyte result")
    return row


def week_start(day: dt.date) -> dt.date:
    """The Monday of the week of `day`."""
    return day - dt.timedelta(days=day.weekday())
