"""The reconciliation rule, the random draw and the lab file parser: pure, no database."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.drugtests.domain import (
    Analyte,
    AnalyteResult,
    Expected,
    Finding,
    FindingKind,
    Outcome,
    Validity,
    draw,
    draw_size,
    parse_lab_csv,
    reconcile,
)

POS, NEG = Outcome.POSITIVE, Outcome.NEGATIVE
BUP = Expected("Buprenorphine/naloxone", Analyte.BUPRENORPHINE)


def kinds(findings: list[Finding]) -> list[tuple[FindingKind, Analyte | None]]:
    return [(f.kind, f.analyte) for f in findings]


def test_expected_medication_present_is_ok_and_not_flagged() -> None:
    findings = reconcile([AnalyteResult(Analyte.BUPRENORPHINE, POS)], Validity.VALID, [BUP])
    assert kinds(findings) == [(FindingKind.EXPECTED_PRESENT, Analyte.BUPRENORPHINE)]
    assert not findings[0].needs_review


def test_expected_medication_absent_is_flagged_without_blame() -> None:
    findings = reconcile([AnalyteResult(Analyte.BUPRENORPHINE, NEG)], Validity.VALID, [BUP])
    assert kinds(findings) == [(FindingKind.EXPECTED_ABSENT, Analyte.BUPRENORPHINE)]
    assert findings[0].needs_review
    message = findings[0].message
    assert message == (
        "Buprenorphine was not found in this sample although Buprenorphine/naloxone is "
        "prescribed; worth a conversation."
    )
    for word in ("fail", "dirty", "clean", "noncomplian", "violation", "discharge"):
        assert word not in message.lower()


def test_a_dilute_sample_says_dilution_can_hide_an_expected_medication() -> None:
    findings = reconcile([AnalyteResult(Analyte.BUPRENORPHINE, NEG)], Validity.DILUTE, [BUP])
    assert kinds(findings) == [(FindingKind.EXPECTED_ABSENT, Analyte.BUPRENORPHINE)]
    assert "dilute" in findings[0].message


def test_unexpected_substance_present_is_flagged() -> None:
    findings = reconcile(
        [AnalyteResult(Analyte.BUPRENORPHINE, POS), AnalyteResult(Analyte.FENTANYL, POS)],
        Validity.VALID,
        [BUP],
    )
    assert kinds(findings) == [
        (FindingKind.EXPECTED_PRESENT, Analyte.BUPRENORPHINE),
        (FindingKind.UNEXPECTED, Analyte.FENTANYL),
    ]
    assert "not on the medication list" in findings[1].message


def test_a_prescribed_benzodiazepine_explains_its_positive() -> None:
    findings = reconcile(
        [AnalyteResult(Analyte.BENZODIAZEPINES, POS)],
        Validity.VALID,
        [Expected("Diazepam", Analyte.BENZODIAZEPINES)],
    )
    assert kinds(findings) == [(FindingKind.EXPECTED_PRESENT, Analyte.BENZODIAZEPINES)]


def test_negatives_of_substances_not_prescribed_say_nothing() -> None:
    findings = reconcile(
        [AnalyteResult(Analyte.COCAINE, NEG), AnalyteResult(Analyte.ALCOHOL, NEG)],
        Validity.VALID,
        [],
    )
    assert findings == []


def test_an_expected_medication_the_panel_did_not_test_gives_no_finding() -> None:
    findings = reconcile([AnalyteResult(Analyte.ALCOHOL, NEG)], Validity.VALID, [BUP])
    assert findings == []


@pytest.mark.parametrize("validity", [Validity.SUBSTITUTED, Validity.ADULTERATED, Validity.INVALID])
def test_an_invalid_specimen_draws_no_conclusion(validity: Validity) -> None:
    findings = reconcile(
        [AnalyteResult(Analyte.BUPRENORPHINE, NEG), AnalyteResult(Analyte.FENTANYL, POS)],
        validity,
        [BUP],
    )
    assert kinds(findings) == [(FindingKind.INVALID_SPECIMEN, None)]
    assert "no conclusion" in findings[0].message
    assert validity.value in findings[0].message


# --- the random draw ---------------------------------------------------------------------------

WEEK = dt.date(2026, 3, 2)
PATIENTS = list(range(1, 101))


def test_the_draw_is_the_same_for_the_same_seed_week_and_patients() -> None:
    first = draw(PATIENTS, WEEK, "s3cret", Decimal("0.2"))
    assert first == draw(list(reversed(PATIENTS)), WEEK, "s3cret", Decimal("0.2"))
    assert first != draw(PATIENTS, WEEK, "another", Decimal("0.2"))


def test_the_draw_changes_from_week_to_week() -> None:
    weeks = [WEEK + dt.timedelta(weeks=n) for n in range(8)]
    draws = [tuple(draw(PATIENTS, w, "s3cret", Decimal("0.2"))) for w in weeks]
    assert len(set(draws)) == len(draws)
    # Being drawn one week says little about the next: overlaps stay near the chance level
    # (20 of 100 drawn twice at random share 4 on average).
    overlaps = [len(set(a) & set(b)) for a, b in itertools.pairwise(draws)]
    assert max(overlaps) < 12


def test_over_many_weeks_every_patient_is_drawn_at_about_the_rate() -> None:
    counts = dict.fromkeys(PATIENTS, 0)
    for n in range(200):
        for pid in draw(PATIENTS, WEEK + dt.timedelta(weeks=n), "s3cret", Decimal("0.25")):
            counts[pid] += 1
    assert all(20 <= c <= 85 for c in counts.values()), counts  # 50 expected each


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=1, max_value=10_000), max_size=80),
    st.integers(min_value=0, max_value=100).map(lambda n: Decimal(n) / 100),
    st.text(alphabet="abcdef0123456789", min_size=1, max_size=10),
)
def test_the_draw_respects_the_rate_and_draws_only_from_the_patients(
    patients: list[int], rate: Decimal, seed: str
) -> None:
    drawn = draw(patients, WEEK, seed, rate)
    assert set(drawn) <= set(patients)
    assert len(drawn) == len(set(drawn)) == draw_size(len(set(patients)), rate)


def test_draw_size_rounds_half_up_and_refuses_a_rate_outside_zero_to_one() -> None:
    assert draw_size(10, Decimal("0.25")) == 3
    assert draw_size(10, Decimal("0")) == 0
    assert draw_size(10, Decimal("1")) == 10
    with pytest.raises(ValueError):
        draw_size(10, Decimal("1.5"))
    with pytest.raises(ValueError):
        draw(PATIENTS, WEEK, "", Decimal("0.1"))


# --- the lab file ------------------------------------------------------------------------------


def test_lab_rows_parse_and_bad_rows_say_why() -> None:
    text = (
        "mrn,accession,collected_on,validity,observed,buprenorphine,fentanyl\n"
        "LH000001,A-1,2026-03-02,valid,yes,pos,neg\n"
        "LH000002,A-2,2026-03-32,valid,no,pos,\n"
        "LH000003,A-3,2026-03-02,cloudy,,maybe,neg\n"
        ",A-4,2026-03-02,valid,,,\n"
        "LH000005,A-5,2026-03-02,substituted,,,\n"
    )
    parsed = parse_lab_csv(text)
    assert parsed.errors == []
    good, bad_date, bad_values, empty, substituted = parsed.rows
    assert good.errors == [] and good.observed and good.line == 2
    assert [(r.analyte, r.outcome) for r in good.results] == [
        (Analyte.BUPRENORPHINE, POS),
        (Analyte.FENTANYL, NEG),
    ]
    assert bad_date.errors == ["collected_on is not a date (YYYY-MM-DD)"]
    assert len(bad_values.errors) == 2 and "buprenorphine" in bad_values.errors[1]
    assert empty.errors == ["no MRN", "no analyte result"]
    assert substituted.errors == []  # no result needed: nothing is concluded from it


def test_a_lab_file_without_its_columns_is_refused_whole() -> None:
    assert parse_lab_csv("mrn,accession,validity,heroin\nx,y,valid,pos\n").errors == [
        "The file has no column collected_on.",
        "Unknown column heroin: analyte columns are alcohol, etg, amphetamines, "
        "methamphetamine, benzodiazepines, buprenorphine, cannabinoids, cocaine, fentanyl, "
        "methadone, opiates, oxycodone, barbiturates.",
    ]
    assert parse_lab_csv("mrn,accession,collected_on,validity\n").errors == [
        "The file has no analyte column."
    ]
