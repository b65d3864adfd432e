"""The note rules without a database: formats, lateness and the individualization guard."""

from __future__ import annotations

import datetime as dt

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
def test_fields_for_each_format(fmt, group, keys):
    assert [k for k, _ in domain.fields_for(fmt, group=group)] == keys


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="not a note format"):
        domain.fields_for("narrative", group=False)


def test_missing_fields_skips_risk_but_names_empty_required_fields():
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
def test_is_late(signed_at, now, hours, late):
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
def test_similarity_is_shingle_jaccard(a, b, expected):
    assert domain.similarity(a, b) == pytest.approx(expected)


def test_similarity_is_symmetric_and_bounded():
    a = "Reported three days sober and practiced urge surfing during the exercise."
    b = "Reported two days sober; practiced urge surfing and named a trigger at home."
    s = domain.similarity(a, b)
    assert s == domain.similarity(b, a)
    assert 0.0 < s < 1.0


def test_shared_spans_cover_the_copied_words_only():
    text = "Mood calm. Engaged actively in the role play about refusal skills."
    other = "She engaged actively in the role play about refusal skills today."
    spans = domain.shared_spans(text, [other])
    assert [text[s:e] for s, e in spans] == [
        "Engaged actively in the role play about refusal skills"
    ]


COPIED = "Engaged actively in the role play and practiced refusal skills with a peer, insight fair."


def test_guard_flags_a_section_copied_from_another_member():
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


def test_guard_flags_a_section_copied_from_the_members_earlier_note():
    sections = {"a": COPIED, "b": "Described a new job interview and the plan for the weekend."}
    results = domain.guard_sections(sections, earlier={"a": {"41": COPIED}}, threshold=0.6)
    assert results["a"].flagged
    assert results["a"].best is not None and results["a"].best.source == "earlier:41"
    assert not results["b"].flagged


def test_guard_threshold_is_configurable():
    sections = {"a": "one two three four five", "b": "two three four five six"}
    assert domain.guard_sections(sections, {}, threshold=0.5)["a"].flagged
    assert not domain.guard_sections(sections, {}, threshold=0.51)["a"].flagged


@pytest.mark.parametrize("threshold", [0, -0.1, 1.01])
def test_guard_refuses_a_threshold_outside_0_1(threshold):
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
def test_names_mentioned(text, names, found):
    assert domain.names_mentioned(text, names) == found


@pytest.mark.parametrize(
    ("minutes", "problem"),
    [(60, ""), (0, "end after"), (-5, "end after"), (60 * 13, "12 hours")],
)
def test_session_times_problem(minutes, problem):
    start = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    result = domain.session_times_problem(start, start + dt.timedelta(minutes=minutes))
    assert (problem in result) if problem else result == ""
