"""The admissions rules beside ASAM and fees: pipeline, pre-screen, duplicates, waitlist, packet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openiop.admissions.domain import admission, packet, pipeline
from openiop.admissions.domain.prescreen import PrescreenAnswers, prescreen_result
from openiop.patients import matching

D = dt.date


# --- pipeline -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("inquiry", "prescreen", "prescreen"),
        ("prescreen", "assessed", "assessed"),
        ("benefits_verified", "assessed", "benefits_verified"),  # never backwards
        ("inquiry", "benefits_verified", "benefits_verified"),
        ("declined", "prescreen", "declined"),  # closed stays closed
        ("admitted", "assessed", "admitted"),
    ],
)
def test_advance_moves_forward_only(current: str, target: str, expected: str) -> None:
    assert pipeline.advance(current, target) == expected


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("inquiry", "declined", True),
        ("assessed", "referred_elsewhere", True),
        ("prescreen", "lost_to_follow_up", True),
        ("assessed", "prescreen", True),  # step back
        ("inquiry", "assessed", False),  # forward only by doing the work
        ("assessed", "admitted", False),  # admission has its own action
        ("admitted", "declined", False),
        ("lost_to_follow_up", "inquiry", True),  # reopen
        ("declined", "assessed", False),
        ("inquiry", "inquiry", False),
        ("inquiry", "nowhere", False),
    ],
)
def test_move_problem(current: str, target: str, allowed: bool) -> None:
    assert (pipeline.move_problem(current, target) is None) is allowed


CLOSE = ["referred_elsewhere", "declined", "lost_to_follow_up"]


@pytest.mark.parametrize(
    ("current", "moves"),
    [
        ("inquiry", CLOSE),
        ("assessment_scheduled", ["inquiry", "prescreen", *CLOSE]),
        ("benefits_verified", ["inquiry", "prescreen", "assessment_scheduled", "assessed", *CLOSE]),
        ("declined", ["inquiry"]),
        ("admitted", []),
    ],
)
def test_manual_moves_are_exactly_the_allowed_ones(
    current: str, moves: list[str] | list[str | list[str]]
) -> None:
    assert pipeline.manual_moves(current) == moves
    for stage in pipeline.STAGES:
        assert (stage in moves) is (pipeline.move_problem(current, stage) is None)


@pytest.mark.parametrize(
    ("entered", "today", "days"),
    [
        (D(2026, 3, 1), D(2026, 3, 1), 0),
        (D(2026, 3, 1), D(2026, 3, 4), 3),
        (D(2026, 3, 5), D(2026, 3, 4), 0),
    ],
)
def test_days_in_stage(entered: D, today: D, days: int) -> None:
    assert pipeline.days_in_stage(entered, today) == days


@pytest.mark.parametrize(
    ("next_date", "stage", "overdue"),
    [
        (D(2026, 3, 3), "inquiry", True),
        (D(2026, 3, 4), "inquiry", False),  # due today is not overdue
        (None, "inquiry", False),
        (D(2026, 3, 1), "declined", False),  # closed cards are never overdue
        (D(2026, 3, 1), "admitted", False),
    ],
)
def test_overdue(next_date: D | None, stage: str, overdue: bool) -> None:
    assert pipeline.is_overdue(next_date, D(2026, 3, 4), stage) is overdue


def test_conversion_by_source_counts_in_month_received_newest_first() -> None:
    facts = [
        pipeline.InquiryFact(D(2026, 1, 5), "therapist", True),
        pipeline.InquiryFact(D(2026, 1, 9), "therapist", False),
        pipeline.InquiryFact(D(2026, 1, 20), "therapist", True),
        pipeline.InquiryFact(D(2026, 1, 21), "self", False),
        pipeline.InquiryFact(D(2026, 2, 2), "inpatient", True),
    ]
    rows = pipeline.conversion_by_source(facts)
    assert [(r.month, r.referral_source, r.inquiries, r.admitted) for r in rows] == [
        ("2026-02", "inpatient", 1, 1),
        ("2026-01", "therapist", 3, 2),
        ("2026-01", "self", 1, 0),
    ]
    assert rows[1].conversion_percent == Decimal("66.7")
    assert rows[2].conversion_percent == Decimal("0.0")


def test_conversion_of_nothing_is_empty() -> None:
    assert pipeline.conversion_by_source([]) == []


# --- pre-screen ---------------------------------------------------------------------------------
GOOD: dict[str, Any] = dict(
    needs_24h_supervision=False,
    needs_medical_withdrawal=False,
    safe_home=True,
    substance_free_home=True,
    outpatient_not_enough=True,
    can_attend=True,
    motivation="ready",
)


def test_prescreen_fits_when_every_answer_fits() -> None:
    result = prescreen_result(PrescreenAnswers(**GOOD), "none")
    assert result.outcome == "fits"
    assert result.reasons == ()
    assert result.crisis_resources is False


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"needs_24h_supervision": True}, "24-hour supervision"),
        ({"needs_medical_withdrawal": True}, "withdrawal"),
        ({"safe_home": False}, "safe home"),
        ({"substance_free_home": False}, "substance-free"),
        ({"outpatient_not_enough": False}, "Level 1"),
        ({"can_attend": False}, "attend"),
    ],
)
def test_prescreen_each_bar_gives_does_not_fit_with_its_reason(
    change: dict[str, bool], words: str
) -> None:
    result = prescreen_result(PrescreenAnswers(**{**GOOD, **change}), "none")
    assert result.outcome == "does_not_fit"
    assert any(words in r for r in result.reasons)


def test_motivation_is_a_note_not_a_bar() -> None:
    result = prescreen_result(PrescreenAnswers(**{**GOOD, "motivation": "not_ready"}), "none")
    assert result.outcome == "fits"
    assert result.notes


@pytest.mark.parametrize(
    ("tier", "outcome", "resources"),
    [
        ("none", "fits", False),
        ("low", "fits", True),
        ("moderate", "fits", True),
        ("high", "higher_level_now", True),
    ],
)
def test_safety_tier_routes(tier: str, outcome: str, resources: bool) -> None:
    result = prescreen_result(PrescreenAnswers(**GOOD), tier)
    assert result.outcome == outcome
    assert result.crisis_resources is resources
    assert result.higher_level_now is (tier == "high")


def test_high_risk_wins_over_every_other_answer() -> None:
    result = prescreen_result(PrescreenAnswers(**{**GOOD, "can_attend": False}), "high")
    assert result.outcome == "higher_level_now"
    assert "C-SSRS" in result.reasons[0]


@pytest.mark.parametrize(("motivation", "tier"), [("keen", "none"), ("ready", "severe")])
def test_prescreen_refuses_unknown_values(motivation: str, tier: str) -> None:
    with pytest.raises(ValueError):
        prescreen_result(PrescreenAnswers(**{**GOOD, "motivation": motivation}), tier)


# --- duplicates ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("(555) 010-1234", "5550101234"),
        ("+1 555 010 1234", "5550101234"),
        ("555.010.1234", "5550101234"),
        ("12", ""),
        ("", ""),
    ],
)
def test_normalize_phone(text: str, digits: str) -> None:
    assert matching.normalize_phone(text) == digits


P = matching.Person


@pytest.mark.parametrize(
    ("inquiry", "patient", "reasons"),
    [
        (
            P("Ada", "Quill", D(1990, 1, 1), ""),
            P("ada", " QUILL ", D(1990, 1, 1), ""),
            ["same name and date of birth"],
        ),
        (P("Ada", "Quill", D(1990, 1, 1), ""), P("Ada", "Quill", D(1990, 1, 2), ""), []),
        (P("Ada", "Quill", None, ""), P("Ada", "Quill", D(1990, 1, 1), ""), []),
        (
            P("X", "Y", None, "555-010-1234"),
            P("A", "B", D(1990, 1, 1), "(555) 0101234"),
            ["same phone number"],
        ),
        (
            P("Ada", "Quill", D(1990, 1, 1), "5550101234"),
            P("Ada", "Quill", D(1990, 1, 1), "1-555-010-1234"),
            ["same name and date of birth", "same phone number"],
        ),
        (P("X", "Y", None, "12"), P("A", "B", None, "12"), []),
    ],
)
def test_match_reasons(inquiry: P, patient: P, reasons: list[str]) -> None:
    assert matching.match_reasons(inquiry, patient) == reasons


# --- admission ----------------------------------------------------------------------------------
def _s(day: int, hour: int = 9, cancelled: bool = False) -> admission.UpcomingSession:
    return admission.UpcomingSession(
        date=D(2026, 3, day),
        starts_at=dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC),
        cancelled=cancelled,
    )


def test_first_session_skips_cancelled_and_earlier() -> None:
    sessions = [_s(2), _s(5, cancelled=True), _s(9), _s(6, 13), _s(6, 9)]
    assert admission.first_session_on_or_after(sessions, D(2026, 3, 3)) == _s(6, 9)
    assert admission.first_session_on_or_after(sessions, D(2026, 3, 10)) is None


@pytest.mark.parametrize(
    ("cap", "enrolled", "offered", "free"),
    [(12, 12, 0, 0), (12, 10, 1, 1), (12, 13, 0, 0), (8, 0, 0, 8)],
)
def test_free_seats(cap: int, enrolled: int, offered: int, free: int) -> None:
    assert admission.free_seats(cap, enrolled, offered) == free


def test_waitlist_positions_first_come_first_served() -> None:
    t = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    got = admission.waitlist_positions([(7, t + dt.timedelta(hours=1)), (9, t), (3, t)])
    assert got == {3: 1, 9: 2, 7: 3}


# --- packet -------------------------------------------------------------------------------------
def test_packet_has_the_six_documents_each_versioned() -> None:
    assert set(packet.PACKET) == {
        "consent_to_treatment",
        "part2_consent",
        "release_of_information",
        "financial_agreement",
        "patient_rights",
        "privacy_notice",
    }
    assert all(packet.VERSIONS[k] for k in packet.PACKET)


def test_part2_consent_text_carries_the_elements_of_section_5() -> None:
    text = packet.document_text(
        packet.PART2_CONSENT,
        patient_name="Ada Quill",
        program_name="Lantern Hill",
        details={
            "recipients": "Dr Nobody",
            "information": "attendance",
            "purpose": "treatment",
            "expiration": "end of treatment",
        },
    )
    body = "\n".join(text.paragraphs)
    for element in (
        "Ada Quill",
        "Lantern Hill",
        "attendance",
        "Dr Nobody",
        "treatment",
        "revoke",
        "in writing",
        "reliance",
        "end of treatment",
        "Signature",
        "proceedings against me",
        "not conditioned",
        "42 CFR Part 2",
    ):
        assert element in body, element


@pytest.mark.parametrize("missing", ["recipients", "information", "purpose", "expiration"])
def test_part2_consent_needs_every_detail(missing: str) -> None:
    details = {
        "recipients": "a",
        "information": "b",
        "purpose": "c",
        "expiration": "d",
        missing: "  ",
    }
    assert list(packet.detail_problems(packet.PART2_CONSENT, details)) == [missing]


def test_documents_without_details_have_no_problems() -> None:
    assert packet.detail_problems(packet.PATIENT_RIGHTS, {}) == {}
