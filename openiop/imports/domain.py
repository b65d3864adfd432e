"""Importing patients, coverages and open episodes from another EHR: reading a file into typed
drafts with each row's problems in words, and the rule that decides, row by row, whether the
import creates a patient, merges into an existing one, or refuses the row.

No Django, no I/O, no clock: the allowed values (sex, focus, level of care...) come in as a
`Vocabulary` built from the apps' choices, and "today" is an argument. The CSV header set is
COLUMNS (docs/imports.md describes it for clinics).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from openiop.patients.domain import parse_date_of_birth
from openiop.patients.matching import normalize_name

Outcome = Literal["create", "merge", "refuse"]

# The columns a CSV may carry; only REQUIRED_COLUMNS must be present. Coverage columns and episode
# columns are optional groups: a row fills a group entirely (its required cells) or leaves it empty.
PATIENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "mrn",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address_line",
    "city",
    "state",
    "postal_code",
    "language",
)
COVERAGE_COLUMNS: tuple[str, ...] = (
    "payer",
    "member_id",
    "group_number",
    "subscriber_name",
    "subscriber_relationship",
    "coverage_start",
    "coverage_end",
    "coverage_rank",
)
EPISODE_COLUMNS: tuple[str, ...] = (
    "episode_site",
    "track",
    "focus",
    "admission_date",
    "level_of_care",
    "referral_source",
)
COLUMNS: tuple[str, ...] = (*PATIENT_COLUMNS, *COVERAGE_COLUMNS, *EPISODE_COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = ("first_name", "last_name", "date_of_birth", "sex")

MAX_ROWS = 20_000
MAX_CELL = 300
# Lengths of the fields the rows land in (patients.Patient, billing.Coverage).
LIMITS: dict[str, int] = {
    "external_id": 64,
    "mrn": 20,
    "first_name": 100,
    "last_name": 100,
    "preferred_name": 100,
    "phone": 30,
    "email": 254,
    "address_line": 200,
    "city": 100,
    "state": 2,
    "postal_code": 10,
    "language": 40,
    "payer": 200,
    "member_id": 60,
    "group_number": 60,
    "subscriber_name": 200,
    "track": 200,
    "episode_site": 200,
}


class FileProblem(ValueError):
    """The file as a whole cannot be read (not CSV, no header, a required column missing...)."""


@dataclass(frozen=True)
class Vocabulary:
    """The values a row may use, each mapped from what a file may say (lower case) to the stored
    value: taken from the apps' choices by the service, so no list here is a rule of its own."""

    sexes: Mapping[str, str]
    focuses: Mapping[str, str]
    levels_of_care: Mapping[str, str]
    referral_sources: Mapping[str, str]
    coverage_ranks: Mapping[str, str]
    subscriber_relationships: Mapping[str, str]


def vocabulary_from_choices(
    *,
    sexes: Iterable[tuple[str, str]],
    focuses: Iterable[tuple[str, str]],
    levels_of_care: Iterable[tuple[str, str]],
    referral_sources: Iterable[tuple[str, str]],
    coverage_ranks: Iterable[tuple[str, str]],
    subscriber_relationships: Iterable[tuple[str, str]],
) -> Vocabulary:
    """A Vocabulary accepting each choice's value and its label (any case)."""

    def table(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for value, label in pairs:
            out[str(label).lower()] = str(value)
            out[str(value).lower()] = str(value)
        return out

    return Vocabulary(
        sexes=table(sexes),
        focuses=table(focuses),
        levels_of_care=table(levels_of_care),
        referral_sources=table(referral_sources),
        coverage_ranks=table(coverage_ranks),
        subscriber_relationships=table(subscriber_relationships),
    )


@dataclass(frozen=True)
class PatientDraft:
    first_name: str
    last_name: str
    date_of_birth: dt.date
    sex: str
    external_id: str = ""
    mrn: str = ""
    preferred_name: str = ""
    phone: str = ""
    email: str = ""
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    language: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def demographics(self) -> dict[str, object]:
        """The patients-service fields this draft gives (empty cells left out: they never erase)."""
        values: dict[str, object] = {
            "legal_first_name": self.first_name,
            "legal_last_name": self.last_name,
            "date_of_birth": self.date_of_birth,
            "sex": self.sex,
            "preferred_name": self.preferred_name,
            "phone": self.phone,
            "email": self.email,
            "address_line": self.address_line,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "language": self.language,
        }
        return {k: v for k, v in values.items() if v not in ("", None)}


@dataclass(frozen=True)
class CoverageDraft:
    payer: str
    rank: str
    member_id: str = ""
    group_number: str = ""
    subscriber_name: str = ""
    subscriber_relationship: str = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = None


@dataclass(frozen=True)
class EpisodeDraft:
    focus: str
    admission_date: dt.date
    level_of_care: str
    referral_source: str = ""
    site: str = ""
    track: str = ""


@dataclass(frozen=True)
class RowDraft:
    """One row (or Bundle entry) read: its drafts, or the problems that stop it."""

    row_no: int
    label: str  # the person as the row names them, for the report
    patient: PatientDraft | None = None
    coverage: CoverageDraft | None = None
    episode: EpisodeDraft | None = None
    problems: tuple[str, ...] = ()


# --- reading -------------------------------------------------------------------------------------


def _date(text: str) -> dt.date | None:
    return parse_date_of_birth(text) if text else None


def _pick(
    value: str, table: Mapping[str, str], what: str, problems: list[str], *, allowed: str = ""
) -> str:
    found = table.get(value.strip().lower())
    if found is None:
        values = allowed or ", ".join(sorted(set(table.values())))
        problems.append(f"{what} '{value[:40]}' is not one of: {values}.")
        return ""
    return found


def draft_row(
    row_no: int, cells: Mapping[str, str], vocab: Vocabulary, *, today: dt.date
) -> RowDraft:
    """Read one row (column name -> cell text) into drafts; every problem is a sentence."""
    c = {k: (cells.get(k) or "").strip() for k in COLUMNS}
    problems: list[str] = []
    for name, limit in LIMITS.items():
        if len(c[name]) > limit:
            problems.append(f"{name} is longer than {limit} characters.")
            c[name] = c[name][:limit]
    label = " ".join(p for p in (c["first_name"], c["last_name"]) if p) or "(no name)"
    for required in REQUIRED_COLUMNS:
        if not c[required]:
            problems.append(f"{required} is empty.")
    dob = _date(c["date_of_birth"])
    if c["date_of_birth"] and dob is None:
        problems.append(
            f"date_of_birth '{c['date_of_birth'][:20]}' is not a date (YYYY-MM-DD or MM/DD/YYYY)."
        )
    elif dob is not None and dob > today:
        problems.append("date_of_birth is in the future.")
    elif dob is not None and dob.year < 1900:
        problems.append("date_of_birth is before 1900: check the year.")
    sex = _pick(c["sex"], vocab.sexes, "sex", problems) if c["sex"] else ""
    if c["email"] and ("@" not in c["email"] or " " in c["email"]):
        problems.append(f"email '{c['email'][:60]}' is not an email address.")
    patient = None
    if dob is not None and sex and c["first_name"] and c["last_name"]:
        patient = PatientDraft(
            first_name=c["first_name"],
            last_name=c["last_name"],
            date_of_birth=dob,
            sex=sex,
            external_id=c["external_id"],
            mrn=c["mrn"].upper(),
            preferred_name=c["preferred_name"],
            phone=c["phone"],
            email=c["email"],
            address_line=c["address_line"],
            city=c["city"],
            state=c["state"].upper(),
            postal_code=c["postal_code"],
            language=c["language"],
        )
    coverage = _coverage(c, vocab, problems)
    episode = _episode(c, vocab, problems, today=today)
    if problems:
        return RowDraft(row_no=row_no, label=label, problems=tuple(problems))
    return RowDraft(row_no=row_no, label=label, patient=patient, coverage=coverage, episode=episode)


def _coverage(c: Mapping[str, str], vocab: Vocabulary, problems: list[str]) -> CoverageDraft | None:
    if not any(c[k] for k in COVERAGE_COLUMNS):
        return None
    if not c["payer"]:
        problems.append("payer is empty but other coverage columns are filled.")
    rank = (
        _pick(c["coverage_rank"], vocab.coverage_ranks, "coverage_rank", problems)
        if c["coverage_rank"]
        else vocab.coverage_ranks.get("primary", "")
    )
    relationship = ""
    if c["subscriber_relationship"]:
        relationship = _pick(
            c["subscriber_relationship"],
            vocab.subscriber_relationships,
            "subscriber_relationship",
            problems,
        )
    start, end = _date(c["coverage_start"]), _date(c["coverage_end"])
    for name, value, parsed in (
        ("coverage_start", c["coverage_start"], start),
        ("coverage_end", c["coverage_end"], end),
    ):
        if value and parsed is None:
            problems.append(f"{name} '{value[:20]}' is not a date (YYYY-MM-DD or MM/DD/YYYY).")
    if start and end and end < start:
        problems.append("coverage_end is before coverage_start.")
    return CoverageDraft(
        payer=c["payer"],
        rank=rank,
        member_id=c["member_id"],
        group_number=c["group_number"],
        subscriber_name=c["subscriber_name"],
        subscriber_relationship=relationship,
        start_date=start,
        end_date=end,
    )


def _episode(
    c: Mapping[str, str], vocab: Vocabulary, problems: list[str], *, today: dt.date
) -> EpisodeDraft | None:
    if not any(c[k] for k in EPISODE_COLUMNS):
        return None
    for required in ("focus", "admission_date", "level_of_care"):
        if not c[required]:
            problems.append(f"{required} is empty but other episode columns are filled.")
    focus = _pick(c["focus"], vocab.focuses, "focus", problems) if c["focus"] else ""
    level = (
        _pick(c["level_of_care"], vocab.levels_of_care, "level_of_care", problems)
        if c["level_of_care"]
        else ""
    )
    referral = ""
    if c["referral_source"]:
        referral = _pick(c["referral_source"], vocab.referral_sources, "referral_source", problems)
    admitted = _date(c["admission_date"])
    if c["admission_date"] and admitted is None:
        problems.append(
            f"admission_date '{c['admission_date'][:20]}' is not a date (YYYY-MM-DD or MM/DD/YYYY)."
        )
    elif admitted is not None and admitted > today:
        problems.append("admission_date is in the future: import episodes already open.")
    if not (focus and level and admitted):
        return None
    return EpisodeDraft(
        focus=focus,
        admission_date=admitted,
        level_of_care=level,
        referral_source=referral,
        site=c["episode_site"],
        track=c["track"],
    )


def read_csv(text: str, vocab: Vocabulary, *, today: dt.date) -> list[RowDraft]:
    """Every data row of a CSV file as a RowDraft, numbered as a spreadsheet shows them (the
    header is row 1). Raises FileProblem when the file as a whole cannot be read."""
    if "\x00" in text:
        raise FileProblem("The file holds NUL characters: it is not a CSV text file.")
    text = text.lstrip("\ufeff")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise FileProblem("The file is empty: the first line must name the columns.")
        names = [h.strip().lower() for h in header]
        unknown = [n for n in names if n and n not in COLUMNS]
        if unknown:
            raise FileProblem(
                f"Unknown column(s): {', '.join(n[:40] for n in unknown[:5])}. "
                f"The columns are: {', '.join(COLUMNS)}."
            )
        missing = [n for n in REQUIRED_COLUMNS if n not in names]
        if missing:
            raise FileProblem(f"Required column(s) missing: {', '.join(missing)}.")
        if len(set(names)) != len(names):
            raise FileProblem("A column is named twice in the header.")
        rows: list[RowDraft] = []
        for row_no, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise FileProblem(f"The file has more than {MAX_ROWS:,} rows: split it.")
            if len(cells) > len(names):
                rows.append(
                    RowDraft(
                        row_no=row_no,
                        label="(unreadable row)",
                        problems=(
                            f"The row has {len(cells)} cells; the header names {len(names)}.",
                        ),
                    )
                )
                continue
            if any(len(cell) > MAX_CELL for cell in cells):
                rows.append(
                    RowDraft(
                        row_no=row_no,
                        label="(unreadable row)",
                        problems=(f"A cell is longer than {MAX_CELL} characters.",),
                    )
                )
                continue
            rows.append(
                draft_row(row_no, dict(zip(names, cells, strict=False)), vocab, today=today)
            )
    except csv.Error as exc:
        raise FileProblem(f"The file is not readable as CSV: {exc}.") from exc
    if not rows:
        raise FileProblem("The file has a header but no rows to import.")
    return rows


# --- deciding: create, merge or refuse ------------------------------------------------------------


@dataclass(frozen=True)
class Existing:
    """A patient already on file at the organization, as the matching rule sees them."""

    patient_id: int
    mrn: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    external_ids: frozenset[str] = frozenset()  # linked at this import's source system
    open_episode: str = ""  # "episode 12 (active, admitted 2025-01-02)" when one is open
    coverage_ranks: frozenset[str] = frozenset()  # ranks of coverages with no end date
    coverage_keys: frozenset[tuple[str, str]] = frozenset()  # (payer name lower, member id)


@dataclass(frozen=True)
class Decision:
    row_no: int
    label: str
    outcome: Outcome
    reasons: tuple[str, ...]
    patient_id: int | None = None
    mrn: str = ""
    # Rows of this file whose patient is the same person (merging into an earlier row's patient).
    same_as_row: int | None = None
    changes: tuple[str, ...] = ()  # fields a merge changes
    adds_coverage: bool = False
    opens_episode: bool = False


def _same_person(draft: PatientDraft, other: Existing) -> bool:
    return (
        draft.date_of_birth == other.date_of_birth
        and normalize_name(draft.first_name) == normalize_name(other.first_name)
        and normalize_name(draft.last_name) == normalize_name(other.last_name)
    )


def _identity_key(draft: PatientDraft) -> tuple[str, ...]:
    if draft.external_id:
        return ("ext", draft.external_id)
    if draft.mrn:
        return ("mrn", draft.mrn)
    return (
        "name",
        normalize_name(draft.first_name),
        normalize_name(draft.last_name),
        draft.date_of_birth.isoformat(),
    )


def match_patient(
    draft: PatientDraft, existing: Sequence[Existing]
) -> tuple[Outcome, Existing | None, str]:
    """Which existing patient a draft is, by the import's matching rule, with the reason.

    1. An MRN given names that patient of the organization: merge when name and date of birth
       agree, else refuse (an MRN that names nobody is refused too).
    2. An external id already linked (at this source system) names that patient: merge when the
       date of birth agrees, else refuse.
    3. Otherwise the same name and date of birth (case and spacing ignored) is a merge when exactly
       one patient matches and they are not linked to another external id of this source; more than
       one match is ambiguous and refused (give the MRN to choose).
    4. No match: create.
    """
    if draft.mrn:
        named = next((e for e in existing if e.mrn.upper() == draft.mrn), None)
        if named is None:
            return "refuse", None, f"No patient has the MRN {draft.mrn}."
        if not _same_person(draft, named):
            return (
                "refuse",
                None,
                f"MRN {draft.mrn} belongs to a patient whose name or date of birth differ "
                "from this row's: check the row.",
            )
        return "merge", named, f"same MRN {named.mrn}, name and date of birth"
    if draft.external_id:
        linked = [e for e in existing if draft.external_id in e.external_ids]
        if len(linked) == 1:
            if linked[0].date_of_birth != draft.date_of_birth:
                return (
                    "refuse",
                    None,
                    f"external id {draft.external_id} is linked to {linked[0].mrn}, whose date "
                    "of birth differs from this row's.",
                )
            return "merge", linked[0], f"external id {draft.external_id} linked to {linked[0].mrn}"
    same = [e for e in existing if _same_person(draft, e)]
    if len(same) > 1:
        mrns = ", ".join(sorted(e.mrn for e in same))
        return (
            "refuse",
            None,
            f"{len(same)} patients share this name and date of birth ({mrns}): "
            "give the mrn column to choose one.",
        )
    if len(same) == 1:
        other = same[0]
        if draft.external_id and other.external_ids - {draft.external_id}:
            return (
                "refuse",
                None,
                f"{other.mrn} has the same name and date of birth but another external id of "
                "this source system: two people, or a mistake in the file.",
            )
        return "merge", other, f"same name and date of birth as {other.mrn}"
    return "create", None, "new patient"


def _changes(
    draft: PatientDraft, other: Existing, current: Mapping[str, object]
) -> tuple[str, ...]:
    return tuple(
        sorted(name for name, value in draft.demographics().items() if current.get(name) != value)
    )


def decide(
    rows: Sequence[RowDraft],
    existing: Sequence[Existing],
    *,
    current_values: Mapping[int, Mapping[str, object]] | None = None,
    may_add_coverage: bool = True,
    coverage_refusal: str = "",
) -> list[Decision]:
    """The decision for every row, in order.

    A row with problems is refused with them. Rows of the same file naming the same person (by
    external id, MRN, or name and date of birth) are one patient: the first decides, later ones
    merge into it. A merge into a patient with an open episode refuses a row that opens another;
    a coverage of a rank already in force, or the same payer and member id, is refused or noted.
    `current_values` (patient id -> stored demographics) lets a merge list what it changes.
    """
    current_values = current_values or {}
    decisions: list[Decision] = []
    first_of: dict[tuple[str, ...], Decision] = {}
    episode_in_file: set[tuple[str, ...]] = set()
    ranks_in_file: dict[tuple[str, ...], set[str]] = {}
    for row in rows:
        if row.patient is None or row.problems:
            decisions.append(
                Decision(row.row_no, row.label, "refuse", row.problems or ("The row is empty.",))
            )
            continue
        draft = row.patient
        key = _identity_key(draft)
        earlier = first_of.get(key)
        reasons: list[str] = []
        refusals: list[str] = []
        target: Existing | None = None
        if earlier is not None:
            if earlier.outcome == "refuse":
                decisions.append(
                    Decision(
                        row.row_no,
                        row.label,
                        "refuse",
                        (f"Same person as row {earlier.row_no}, which is refused.",),
                    )
                )
                continue
            outcome: Outcome = "merge"
            reasons.append(f"same person as row {earlier.row_no}")
            target = next((e for e in existing if e.patient_id == earlier.patient_id), None)
        else:
            outcome, target, why = match_patient(draft, existing)
            if outcome == "refuse":
                refusals.append(why)
            else:
                reasons.append(why)
        if row.episode is not None:
            if key in episode_in_file:
                refusals.append("An earlier row of this file already opens this person's episode.")
            elif target is not None and target.open_episode:
                refusals.append(
                    f"{target.mrn} already has an open {target.open_episode}: leave the episode "
                    "columns empty to merge the rest."
                )
        if row.coverage is not None:
            cov = row.coverage
            taken = set(target.coverage_ranks) if target else set()
            taken |= ranks_in_file.get(key, set())
            same_policy = target is not None and (cov.payer.lower(), cov.member_id) in (
                target.coverage_keys
            )
            if not may_add_coverage:
                refusals.append(coverage_refusal or "Your role may not record coverages.")
            elif same_policy:
                reasons.append(f"coverage {cov.payer} {cov.member_id} already on file")
            elif cov.end_date is None and cov.rank in taken:
                refusals.append(
                    f"There is already a {cov.rank} coverage in force: end it first, or import "
                    "this one as the other rank."
                )
        if refusals:
            decision = Decision(row.row_no, row.label, "refuse", tuple(refusals))
        else:
            patient_id = target.patient_id if target else None
            adds_coverage = row.coverage is not None and not any(
                r.startswith("coverage ") for r in reasons
            )
            changes: tuple[str, ...] = ()
            if target is not None and earlier is None:
                changes = _changes(draft, target, current_values.get(target.patient_id, {}))
            decision = Decision(
                row.row_no,
                row.label,
                outcome,
                tuple(reasons),
                patient_id=patient_id,
                mrn=target.mrn if target else "",
                same_as_row=earlier.row_no if earlier else None,
                changes=changes,
                adds_coverage=adds_coverage,
                opens_episode=row.episode is not None,
            )
            if row.episode is not None:
                episode_in_file.add(key)
            if adds_coverage and row.coverage is not None and row.coverage.end_date is None:
                ranks_in_file.setdefault(key, set()).add(row.coverage.rank)
        if earlier is None:
            first_of[key] = decision
        decisions.append(decision)
    return decisions


@dataclass(frozen=True)
class Summary:
    created: int = 0
    merged: int = 0
    refused: int = 0
    coverages: int = 0
    episodes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        return (
            f"{self.created} to create, {self.merged} to merge, {self.refused} refused "
            f"({self.coverages} coverages, {self.episodes} open episodes)"
        )


def summarize(decisions: Sequence[Decision]) -> Summary:
    """Counts of the decisions: patients created (one per person), merges, refusals."""
    created = sum(1 for d in decisions if d.outcome == "create")
    merged = sum(1 for d in decisions if d.outcome == "merge")
    refused = sum(1 for d in decisions if d.outcome == "refuse")
    ok = [d for d in decisions if d.outcome != "refuse"]
    return Summary(
        created=created,
        merged=merged,
        refused=refused,
        coverages=sum(1 for d in ok if d.adds_coverage),
        episodes=sum(1 for d in ok if d.opens_episode),
    )


def with_reason(decision: Decision, reason: str) -> Decision:
    """The decision refused with `reason` (a rule of a service refused it when applied)."""
    return replace(decision, outcome="refuse", reasons=(*decision.reasons, reason))
