"""The note rules without a database: formats, lateness and the individualization guard."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from openiop.notes import domain

UTC = dt.UTC
END = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fmt", "group", "keys"),
    [
        ("dap", False, ["data", "assessment", "plan"]),
        ("birp", False, ["behavior", "intervention", "response", "plan"]),
        ("soap", False, ["subjective", "objective", "assessment", "plan"]),
        ("dap", True, ["participation", "response", "risk", "plan"]),
        ("soap", True, ["participation", "response", "risk", "plan"]),
    ],
)
def test_fields_for_each_format(fmt: str, group: bool, keys: list[str]) -> None:
    assert [k for k, _ in domain.fields_for(fmt, group=group)] == keys


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="not a note format"):
        domain.fields_for("narrative", group=False)


def test_missing_fields_skips_risk_but_names_empty_required_fields() -> None:
    fields = domain.fields_for("dap", group=True)
    assert domain.missing_fields({"participation": "x", "response": " ", "plan": "y"}, fields) == [
        "Assessment: response to the interventions"
    ]


@pytest.mark.parametrize(
    ("signed_at", "now", "hours", "late"),
    [
        (None, END + dt.timedelta(hours=23, minutes=59), 24, False),
        (None, END + dt.timedelta(hours=24), 24, False),  # exactly at the deadline: not yet late
        (None, END + dt.timedelta(hours=24, seconds=1), 24, True),
        (END + dt.timedelta(hours=30), END + dt.timedelta(hours=40), 24, False),  # signed
        (None, END + dt.timedelta(hours=13), 12, True),  # configurable
    ],
)
def test_is_late(signed_at: dt.datetime | None, now: dt.datetime, hours: int, late: bool) -> None:
    assert (
        domain.is_late(session_end=END, signed_at=signed_at, now=now, late_after_hours=hours)
        is late
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("", "", 0.0),
        ("shared a coping skill", "", 0.0),
        ("Shared a coping skill with the group.", "shared a COPING skill with the group", 1.0),
        ("alpha beta gamma delta", "epsilon zeta eta theta", 0.0),
        # 3 shingles each, 2 shared of 4 distinct: 0.5
        ("one two three four five", "two three four five six", 0.5),
    ],
)
def test_similarity_is_shingle_jaccard(a: str, b: str, expected: float) -> None:
    assert domain.similarity(a, b) == pytest.approx(expected)


def test_similarity_is_symmetric_and_bounded() -> None:
    a = "Reported three days sober and practiced urge surfing during the exercise."
    b = "Reported two days sober; practiced urge surfing and named a trigger at home."
    s = domain.similarity(a, b)
    assert s == domain.similarity(b, a)
    assert 0.0 < s < 1.0


def test_shared_spans_cover_the_copied_words_only() -> None:
    text = "Mood calm. Engaged actively in the role play about refusal skills."
    other = "She engaged actively in the role play about refusal skills today."
    spans = domain.shared_spans(text, [other])
    assert [text[s:e] for s, e in spans] == [
        "Engaged actively in the role play about refusal skills"
    ]


COPIED = "Engaged actively in the role play and practiced refusal skills with a peer, insight fair."


def test_guard_flags_a_section_copied_from_another_member() -> None:
    sections = {
        "a": COPIED,
        "b": COPIED.replace("fair", "good"),
        "c": "Quiet today; described cravings after a family visit and chose a call to her sponsor.",
    }
    results = domain.guard_sections(sections, earlier={}, threshold=0.6)
    assert results["a"].flagged and results["b"].flagged
    assert not results["c"].flagged
    assert results["a"].best is not None and results["a"].best.source == "section:b"
    assert results["a"].spans  # copied text is highlighted


def test_guard_flags_a_section_copied_from_the_members_earlier_note() -> None:
    sections = {"a": COPIED, "b": "Described a new job interview and the plan for the weekend."}
    results = domain.guard_sections(sections, earlier={"a": {"41": COPIED}}, threshold=0.6)
    assert results["a"].flagged
    assert results["a"].best is not None and results["a"].best.source == "earlier:41"
    assert not results["b"].flagged


def test_guard_threshold_is_configurable() -> None:
    sections = {"a": "one two three four five", "b": "two three four five six"}
    assert domain.guard_sections(sections, {}, threshold=0.5)["a"].flagged
    assert not domain.guard_sections(sections, {}, threshold=0.51)["a"].flagged


@pytest.mark.parametrize("threshold", [0, -0.1, 1.01])
def test_guard_refuses_a_threshold_outside_0_1(threshold: float) -> None:
    with pytest.raises(ValueError):
        domain.guard_sections({"a": "x"}, {}, threshold=threshold)


@pytest.mark.parametrize(
    ("text", "names", "found"),
    [
        ("Worked with Bramble on a role play.", ["Bramble", "Quill"], ["Bramble"]),
        ("Brambleton shared.", ["Bramble"], []),  # whole words only
        ("BRAMBLE shared", ["Bramble"], []),  # case-sensitive: the name as written
        ("We will meet; Will shared.", ["Will"], ["Will"]),
        ("We will meet again.", ["Will"], []),  # an ordinary word is not a name
        ("Al said hello", ["Al"], []),  # too short to be safe
        ("No names here", ["Quill"], []),
    ],
)
def test_names_mentioned(text: str, names: list[str], found: list[str]) -> None:
    assert domain.names_mentioned(text, names) == found


@pytest.mark.parametrize(
    ("minutes", "problem"),
    [(60, ""), (0, "end after"), (-5, "end after"), (60 * 13, "12 hours")],
)
def test_session_times_problem(minutes: int, problem: str) -> None:
    start = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    result = domain.session_times_problem(start, start + dt.timedelta(minutes=minutes))
    assert (problem in result) if problem else result == ""


# --- no signature before the session ends ----------------------------------------------------------
CHICAGO = ZoneInfo("America/Chicago")


def test_signing_before_the_end_is_refused_with_the_local_end_and_its_zone() -> None:
    ends = dt.datetime(2026, 3, 8, 12, 0, tzinfo=CHICAGO)  # spring-forward day: 17:00 UTC (CDT)
    problem = domain.not_ended_problem(ends, dt.datetime(2026, 3, 8, 16, 59, tzinfo=UTC), CHICAGO)
    assert "Sun Mar 8, 2026 12:00 PM CDT" in problem
    # Read as standard time (18:00 UTC) this would still be refused; the instant is 17:00 UTC.
    assert domain.not_ended_problem(ends, dt.datetime(2026, 3, 8, 17, 0, tzinfo=UTC), CHICAGO) == ""


def test_a_session_ending_after_midnight_utc_is_shown_on_the_sites_clock() -> None:
    tz = ZoneInfo("America/Los_Angeles")
    ends = dt.datetime(2026, 11, 1, 20, 0, tzinfo=tz)  # fall-back day: PST, 04:00 UTC Nov 2
    now = dt.datetime(2026, 11, 2, 3, 30, tzinfo=UTC)
    assert "Sun Nov 1, 2026 8:00 PM PST" in domain.not_ended_problem(ends, now, tz)
    assert domain.not_ended_problem(ends, now + dt.timedelta(minutes=30), tz) == ""


def test_the_end_rule_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        domain.not_ended_problem(dt.datetime(2026, 3, 8, 12, 0), END, CHICAGO)  # noqa: DTZ001 (naive on purpose)


# --- the sentence rule -------------------------------------------------------------------------------
SEVEN = "Practiced the breathing count during the exercise."  # 7 words
EIGHT = "Practiced the breathing count twice during the exercise."  # 8 words


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Shared a plan for the weekend.", "shared a plan for the weekend"),  # case, final period
        ("  Shared a   plan\nfor the weekend!  ", "Shared a plan for the weekend"),  # whitespace
        ('"Shared a plan for the weekend."', "(shared a plan for the weekend)"),  # quotes, brackets
        ("- Shared a plan for the weekend...", "SHARED A PLAN FOR THE WEEKEND?"),  # bullet, marks
    ],
)
def test_normalization_ignores_case_whitespace_and_punctuation_at_the_ends(a: str, b: str) -> None:
    assert domain.normalize_sentence(a) == domain.normalize_sentence(b)


def test_normalization_keeps_punctuation_inside_a_sentence() -> None:
    assert domain.normalize_sentence("Shared, a plan.") != domain.normalize_sentence(
        "Shared a plan."
    )


def test_sentences_split_at_end_marks_and_line_breaks_but_not_inside_numbers() -> None:
    text = "Mood calm. Attended 2.5 hours of group!\nPlan: call the sponsor"
    found = domain.sentences(text)
    assert [s.text for s in found] == [
        "Mood calm.",
        "Attended 2.5 hours of group!",
        "Plan: call the sponsor",
    ]
    assert all(text[s.start : s.end] == s.text for s in found)


def test_a_copied_sentence_of_eight_words_is_named_with_the_member_and_seven_is_not() -> None:
    assert domain.sentences(SEVEN)[0].words == 7 and domain.sentences(EIGHT)[0].words == 8
    own = "Quiet at first, then named loneliness as a trigger. "
    sections = {
        "a": own + EIGHT,
        "b": "Talked about the new job and the Friday plan. " + EIGHT.upper(),
        "c": "Arrived tense after court; grounding helped. " + SEVEN,
        "d": "Listed two calls to make this weekend with a peer. " + SEVEN,
    }
    copied = domain.copied_sentences(sections, {})
    assert [(c.sentence, c.member, c.source) for c in copied["a"]] == [(EIGHT, "b", "section")]
    assert copied["c"] == () and copied["d"] == ()
    start = sections["a"].index(EIGHT)
    assert (copied["a"][0].start, copied["a"][0].end) == (start, start + len(EIGHT))


def test_a_sentence_inside_a_longer_one_is_found_on_whole_words_only() -> None:
    sentence = "Named three triggers for relapse during the group exercise."
    copied = domain.copied_sentences(
        {
            "a": sentence,
            "b": "Today, she named three triggers for relapse during the group exercise.",
        },
        {},
    )
    assert [c.member for c in copied["a"]] == ["b"]
    nope = domain.copied_sentences(
        {"a": sentence, "b": "Renamed three triggers for relapse during the group exercises."}, {}
    )
    assert nope["a"] == ()


def test_a_sentence_from_another_members_or_the_members_own_earlier_note_is_named() -> None:
    sections = {"a": "Something new happened. " + EIGHT, "b": "Described the new job at length."}
    from_other = domain.copied_sentences(sections, {"b": {"77": "Old text. " + EIGHT}})
    assert [(c.member, c.source) for c in from_other["a"]] == [("b", "earlier:77")]
    from_own = domain.copied_sentences(sections, {"a": {"41": EIGHT}})
    assert [(c.member, c.source) for c in from_own["a"]] == [("a", "earlier:41")]
    # Another member's section of this note is named before any earlier note.
    both = domain.copied_sentences({**sections, "b": EIGHT}, {"a": {"41": EIGHT}})
    assert [(c.member, c.source) for c in both["a"]] == [("b", "section")]


def test_the_guard_flags_a_copied_sentence_below_the_similarity_threshold() -> None:
    sections = {
        "a": "Quiet at first; later named loneliness on weekends as a trigger and listed calls. "
        + EIGHT,
        "b": "Reported six days abstinent and proud of refusing a drink at a party. " + EIGHT,
    }
    results = domain.guard_sections(sections, {}, threshold=0.6)
    a = results["a"]
    assert a.best is not None and a.best.score < 0.6 and not a.similar
    assert a.flagged and [c.member for c in a.copied] == ["b"]
    start = sections["a"].index(EIGHT)
    assert (start, start + len(EIGHT)) in a.spans
    seven = {k: v.replace(EIGHT, SEVEN) for k, v in sections.items()}
    assert not domain.guard_sections(seven, {}, threshold=0.6)["a"].flagged


def test_the_sentence_length_is_a_parameter() -> None:
    with pytest.raises(ValueError):
        domain.copied_sentences({"a": "x"}, {}, min_words=0)
    sections = {"a": SEVEN, "b": SEVEN}
    assert domain.copied_sentences(sections, {}, min_words=7)["a"]
