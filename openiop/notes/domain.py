"""Progress-note rules as plain functions: note formats, lateness, the individualization guard.

No Django, no clock: the current instant, thresholds and hours come in as arguments (they are
configuration, see settings NOTES_*).

Sources (../shared/domain.md section 6): one note per service per client; a group note is
individualized per member (participation, response, risk, plan link) because cloned notes are the
first denial trigger; start and stop times are recorded per service. A note documents a service
that was delivered, so it is signed only once the session has ended.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from openiop.core.dates import local_label

# --- formats -------------------------------------------------------------------------------------
FORMAT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "dap": (("data", "Data"), ("assessment", "Assessment"), ("plan", "Plan")),
    "birp": (
        ("behavior", "Behavior"),
        ("intervention", "Intervention"),
        ("response", "Response"),
        ("plan", "Plan"),
    ),
    "soap": (
        ("subjective", "Subjective"),
        ("objective", "Objective"),
        ("assessment", "Assessment"),
        ("plan", "Plan"),
    ),
    # The prescriber's medication-management visit (issue 18.2). "Current medications reviewed" is
    # not typed: it is the patient's medication list when the note was last saved, copied in by
    # the service (MEDICATION_LIST_FIELD) and shown read-only.
    "medication": (
        ("medications_reviewed", "Current medications reviewed (from the medication list)"),
        ("response", "Response and side effects"),
        ("adherence", "Adherence"),
        ("assessment", "Assessment"),
        ("plan", "Plan and medication changes"),
    ),
}
MEDICATION_LIST_FIELD = "medications_reviewed"
# Body fields copied from the chart rather than written by the author: left out of the guard's
# comparisons (the same list in every visit is not a cloned note) and never taken from input.
COPIED_FIELDS = frozenset({MEDICATION_LIST_FIELD})
THERAPY_FORMATS = ("dap", "birp", "soap")
MEDICATION_KIND = "medication"
MEDICATION_FORMAT = "medication"


def formats_for(kind: str) -> tuple[str, ...]:
    """The note formats a note of `kind` may be written in: a medication-management note has its
    own; individual, family and group notes are DAP, BIRP or SOAP."""
    return (MEDICATION_FORMAT,) if kind == MEDICATION_KIND else THERAPY_FORMATS


def written_text(body: dict[str, str]) -> str:
    """The text of a section's fields the author wrote (COPIED_FIELDS left out), one per line."""
    return "\n".join(str(v) for k, v in (body or {}).items() if v and k not in COPIED_FIELDS)


def medication_review_text(
    medications: Sequence[dict[str, str]], mat: Sequence[dict[str, str]]
) -> str:
    """The medication list as a medication-management note keeps it: one line per active
    medication ("Naltrexone 50 mg, oral, once daily; prescribed here by Dr. Rowe, since
    2026-11-02"), then one per open MAT episode; "No medications on the list." without any.
    Takes the shape of medications.selectors.discharge_medications (name, dose, route, frequency,
    prescriber, source, start_date; kind, started_on, dispensing_program)."""
    lines = []
    for m in medications:
        what = ", ".join(
            x for x in (m.get("dose", ""), m.get("route", ""), m.get("frequency", "")) if x
        )
        where = (m.get("source", "") or "").lower()
        if m.get("prescriber"):
            where = f"{where} by {m['prescriber']}" if where else f"by {m['prescriber']}"
        if m.get("start_date"):
            where = f"{where}, since {m['start_date']}" if where else f"since {m['start_date']}"
        line = m.get("name", "")
        if what:
            line += f" {what}"
        if where:
            line += f"; {where}"
        lines.append(line)
    for e in mat:
        line = f"MAT: {e.get('kind', '')} since {e.get('started_on', '')}"
        if e.get("dispensing_program"):
            line += f" (dispensed by {e['dispensing_program']})"
        lines.append(line)
    return "\n".join(lines) or "No medications on the list."


# In a group note the member's section carries participation, response and risk observations and
# the plan (the shared part holds topic, module, modality, interventions and facilitators once). The
# keys stay the same in every format; the labels follow the format's headings.
GROUP_SECTION_LABELS: dict[str, tuple[str, str, str, str]] = {
    "dap": (
        "Data: participation",
        "Assessment: response to the interventions",
        "Risk observations",
        "Plan",
    ),
    "birp": (
        "Behavior: participation",
        "Response to the interventions",
        "Risk observations",
        "Plan",
    ),
    "soap": (
        "Subjective and objective: participation",
        "Assessment: response to the interventions",
        "Risk observations",
        "Plan",
    ),
}
GROUP_SECTION_KEYS = ("participation", "response", "risk", "plan")


def fields_for(note_format: str, *, group: bool) -> tuple[tuple[str, str], ...]:
    """The (key, label) text fields a section of a note in `note_format` holds.

    Group sections: participation, response, risk observations and plan, labelled by the format.
    Raises ValueError for an unknown format, and for the medication-management format in a group.
    """
    try:
        fields = FORMAT_FIELDS[note_format]
    except KeyError:
        raise ValueError(f"'{note_format}' is not a note format (DAP, BIRP or SOAP).") from None
    if group and note_format not in GROUP_SECTION_LABELS:
        raise ValueError("A group note is written in DAP, BIRP or SOAP.")
    if group:
        return tuple(zip(GROUP_SECTION_KEYS, GROUP_SECTION_LABELS[note_format], strict=True))
    return fields


def missing_fields(
    body: dict[str, str], fields: Sequence[tuple[str, str]], optional: Iterable[str] = ("risk",)
) -> list[str]:
    """The labels of required fields left empty (risk observations may be empty: none seen; the
    fields copied from the chart are not the author's to write)."""
    skip = set(optional) | COPIED_FIELDS
    return [label for key, label in fields if key not in skip and not body.get(key, "").strip()]


def session_times_problem(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """Why start and end times cannot be recorded ('' when they can)."""
    if ends_at <= starts_at:
        return "The session must end after it starts."
    if ends_at - starts_at > dt.timedelta(hours=12):
        return "A session longer than 12 hours is not plausible: check the times."
    return ""


def not_ended_problem(ends_at: dt.datetime, now: dt.datetime, tz: ZoneInfo) -> str:
    """Why a note cannot be signed yet ('' once the session has ended).

    A signature attests a service that was delivered: before `ends_at` it is refused. Both
    instants are aware, so the comparison holds across a daylight-saving change; the message shows
    the end on the site's wall clock in `tz`, with its zone. Drafts may be written earlier, and
    co-signatures and addenda come after signing anyway. Raises ValueError for a naive datetime.
    """
    for name, value in (("ends_at", ends_at), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime")
    if now >= ends_at:
        return ""
    return (
        f"This session has not ended yet: it ends {local_label(ends_at, tz)}. Save the draft "
        "now and sign it once the session is over."
    )


# --- lateness ------------------------------------------------------------------------------------
def note_due_at(session_end: dt.datetime, late_after_hours: int) -> dt.datetime:
    """The instant after which an unsigned note is late (session end + the configured hours)."""
    return session_end + dt.timedelta(hours=late_after_hours)


def is_late(
    *,
    session_end: dt.datetime,
    signed_at: dt.datetime | None,
    now: dt.datetime,
    late_after_hours: int,
) -> bool:
    """Whether a note is late: still unsigned `late_after_hours` after the session ended."""
    return signed_at is None and now > note_due_at(session_end, late_after_hours)


# --- the individualization guard ----------------------------------------------------------------
_WORD = re.compile(r"[A-Za-z0-9']+")
SHINGLE_WORDS = 3


@dataclass(frozen=True)
class Token:
    word: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The words of a text, lower-cased, with their character positions."""
    return [Token(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text or "")]


def shingles(words: Sequence[str], k: int = SHINGLE_WORDS) -> set[tuple[str, ...]]:
    """The set of k-word shingles; a text shorter than k words is one shingle of all its words."""
    if not words:
        return set()
    if len(words) < k:
        return {tuple(words)}
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


def similarity(a: str, b: str, k: int = SHINGLE_WORDS) -> float:
    """Jaccard similarity of the k-word shingle sets of two texts, 0.0 (nothing shared) to 1.0.

    Case and punctuation are ignored. Two empty texts are 0.0: nothing was written, so nothing was
    copied (missing text is caught by the required-field check instead).
    """
    return _jaccard(_shingles_of(a, k), _shingles_of(b, k))


def _shingles_of(text: str, k: int) -> set[tuple[str, ...]]:
    return shingles([t.word for t in tokens(text)], k)


def _jaccard(sa: set[tuple[str, ...]], sb: set[tuple[str, ...]]) -> float:
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def shared_spans(text: str, others: Iterable[str], k: int = SHINGLE_WORDS) -> list[tuple[int, int]]:
    """Character spans of `text` covered by a k-word shingle that also occurs in any of `others`.

    Overlapping and adjacent spans are merged; returned in order. Used to highlight copied text.
    """
    toks = tokens(text)
    words = [t.word for t in toks]
    pool: set[tuple[str, ...]] = set()
    for other in others:
        pool |= shingles([t.word for t in tokens(other)], k)
    if not toks or not pool:
        return []
    covered = [False] * len(toks)
    if len(toks) < k:
        if tuple(words) in pool:
            covered = [True] * len(toks)
    else:
        for i in range(len(toks) - k + 1):
            if tuple(words[i : i + k]) in pool:
                for j in range(i, i + k):
                    covered[j] = True
    spans: list[tuple[int, int]] = []
    for tok, hit in zip(toks, covered, strict=True):
        if not hit:
            continue
        if spans and _only_space_between(text, spans[-1][1], tok.start):
            spans[-1] = (spans[-1][0], tok.end)
        else:
            spans.append((tok.start, tok.end))
    return spans


def _only_space_between(text: str, end: int, start: int) -> bool:
    return not _WORD.search(text[end:start])


@dataclass(frozen=True)
class Comparison:
    """One comparison of a section with another text: `source` says which ("section:<key>" for
    another member's section of the same note, "earlier:<id>" for the member's earlier note)."""

    source: str
    score: float


# The sentence rule: a whole section may stay under the similarity threshold while one long
# sentence of it was copied from another member's text; that sentence is named.
SENTENCE_MIN_WORDS = 8
# A sentence ends at . ! or ? (closing quotes or brackets stay with it) before whitespace or the end
# of the text, or at a line break. "2.5 hours" does not end one; "Dr. Lee" does.
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s|$)|\n")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a text: as written, its character span, and its normalized form."""

    text: str
    start: int
    end: int
    key: str

    @property
    def words(self) -> int:
        """Its words as the guard counts them (runs of letters, digits and apostrophes)."""
        return len(_WORD.findall(self.key))


def normalize_sentence(text: str) -> str:
    """The form in which sentences are compared.

    - case: letters are case-folded ("Shared" = "shared");
    - whitespace: every run of spaces, tabs and line breaks becomes one space, and none is kept
      at either end;
    - punctuation at the ends: every character that is not a letter or digit is removed from both
      ends (quotes, brackets, bullets, dashes, the final period or question mark), so
      '"Shared a plan."' and 'shared a plan' are the same sentence;
    - punctuation inside is kept, as written: "shared, a plan" is not "shared a plan".
    """
    return _EDGES.sub("", " ".join((text or "").split()).casefold())


def sentences(text: str) -> list[Sentence]:
    """The sentences of a text in order (see _SENTENCE_END for where one ends), empty ones left
    out. Spans point into `text` and leave out surrounding whitespace."""
    found: list[Sentence] = []
    text = text or ""
    pos = 0
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    for end in [*ends, len(text)]:
        chunk = text[pos:end]
        stripped = chunk.strip()
        if stripped:
            start = pos + (len(chunk) - len(chunk.lstrip()))
            found.append(
                Sentence(stripped, start, start + len(stripped), normalize_sentence(chunk))
            )
        pos = end
    return [s for s in found if s.key]


def _flat(text: str) -> str:
    """A text as sentences are searched in it: case-folded, whitespace runs as one space."""
    return " ".join((text or "").split()).casefold()


def appears_in(sentence: Sentence, flat_text: str) -> bool:
    """Whether the normalized sentence occurs in a text flattened by `_flat`, as whole words."""
    return (
        re.search(rf"(?<!\w){re.escape(sentence.key)}(?!\w)", flat_text) is not None
        if sentence.key
        else False
    )


@dataclass(frozen=True)
class CopiedSentence:
    """A sentence of a member's section that appears verbatim in another text.

    `member` is the key of the member whose text holds it; `source` is "section" (that member's
    section of the same note) or "earlier:<id>" (one of that member's earlier signed sections).
    """

    sentence: str
    start: int
    end: int
    member: str
    source: str


def copied_sentences(
    sections: dict[str, str],
    earlier: dict[str, dict[str, str]],
    min_words: int = SENTENCE_MIN_WORDS,
) -> dict[str, tuple[CopiedSentence, ...]]:
    """The sentences of `min_words` or more words that each section shares verbatim with other text.

    A sentence of member A's section is named when, after `normalize_sentence`, it appears as whole
    words in: another member's section of the same note (`sections`), that other member's earlier
    signed sections (`earlier[B]`), or A's own earlier signed sections (`earlier[A]`). Each
    sentence is named once, with the first place found in that order. Shorter sentences ("Mood
    calm, affect bright.") are ordinary in every note and are left to the whole-section
    similarity. Returns the findings per section key, in sentence order.
    Raises ValueError when min_words is below 1.
    """
    if min_words < 1:
        raise ValueError("A copied sentence has at least one word.")
    flat_sections = {key: _flat(text) for key, text in sections.items()}
    flat_earlier = {
        key: [(ref, _flat(text)) for ref, text in texts.items()] for key, texts in earlier.items()
    }
    found: dict[str, tuple[CopiedSentence, ...]] = {}
    for key, text in sections.items():
        others = [k for k in sections if k != key]
        places = [(other, "section", flat_sections[other]) for other in others]
        places += [
            (member, f"earlier:{ref}", flat)
            for member in [*others, key]
            for ref, flat in flat_earlier.get(member, [])
        ]
        hits: list[CopiedSentence] = []
        for sentence in sentences(text):
            if sentence.words < min_words:
                continue
            for member, source, flat in places:
                if appears_in(sentence, flat):
                    hits.append(
                        CopiedSentence(sentence.text, sentence.start, sentence.end, member, source)
                    )
                    break
        found[key] = tuple(hits)
    return found


@dataclass(frozen=True)
class GuardResult:
    """The guard's finding for one member's section.

    `similar` is True when a whole-section comparison reached the threshold; `copied` names the
    long sentences found verbatim in another member's text (or this member's earlier notes).
    `flagged` is either. `spans` are the character spans of the section's text shared with the
    texts it was flagged against, and of the copied sentences (for highlighting).
    """

    key: str
    flagged: bool
    best: Comparison | None
    spans: tuple[tuple[int, int], ...]
    similar: bool = False
    copied: tuple[CopiedSentence, ...] = ()


def guard_sections(
    sections: dict[str, str],
    earlier: dict[str, dict[str, str]],
    threshold: float,
    k: int = SHINGLE_WORDS,
    min_words: int = SENTENCE_MIN_WORDS,
) -> dict[str, GuardResult]:
    """Compare each section with the other sections of the same note and its member's earlier notes.

    `sections` maps a member key to the text of that member's section; `earlier` maps the same key
    to {earlier-note id: text}. A section is flagged when its similarity to any compared text is at
    least `threshold` (0 < threshold <= 1), or when one of its sentences of `min_words` or more
    words appears verbatim in another member's text (`copied_sentences`). Returns one GuardResult
    per section key. Raises ValueError for a threshold outside (0, 1].
    """
    if not 0 < threshold <= 1:
        raise ValueError("The similarity threshold must be above 0 and at most 1.")
    # Each text's shingles once (a 15-member note compares every section with 19 texts).
    cache: dict[str, set[tuple[str, ...]]] = {}

    def shingled(text: str) -> set[tuple[str, ...]]:
        found = cache.get(text)
        if found is None:
            found = cache[text] = _shingles_of(text, k)
        return found

    copied = copied_sentences(sections, earlier, min_words)
    results: dict[str, GuardResult] = {}
    for key, text in sections.items():
        candidates: list[tuple[str, str]] = [
            (f"section:{other}", other_text)
            for other, other_text in sections.items()
            if other != key
        ]
        candidates += [(f"earlier:{ref}", t) for ref, t in earlier.get(key, {}).items()]
        own = shingled(text)
        scored = [
            Comparison(src, _jaccard(own, shingled(other_text))) for src, other_text in candidates
        ]
        hits = [c for c, (_, t) in zip(scored, candidates, strict=True) if c.score >= threshold]
        hit_texts = [
            t for c, (_, t) in zip(scored, candidates, strict=True) if c.score >= threshold
        ]
        best = max(scored, key=lambda c: c.score, default=None)
        spans = shared_spans(text, hit_texts, k) if hits else []
        spans += [(c.start, c.end) for c in copied[key]]
        results[key] = GuardResult(
            key=key,
            flagged=bool(hits) or bool(copied[key]),
            best=best,
            spans=tuple(_merged(spans)),
            similar=bool(hits),
            copied=copied[key],
        )
    return results


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans in order, overlapping ones joined (for one <mark> each)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def names_mentioned(text: str, names: Iterable[str]) -> list[str]:
    """The names that occur in `text` as whole words, in the order given, each once.

    Used so that a group note's shared part, and each member's section, never names another member.
    The match is case-sensitive on the name as written (capitalized), so a member called Will or
    Hope does not match "will" or "hope" in ordinary prose; names shorter than 3 letters are
    ignored (initials would match ordinary words).
    """
    found: list[str] = []
    for name in names:
        name = name.strip()
        if len(name) < 3 or name in found:
            continue
        if re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", text or ""):
            found.append(name)
    return found
