"""The import's reading and matching rules: no database."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from openiop.imports import domain
from openiop.imports.fhir_bundle import read_bundle

TODAY = dt.date(2026, 3, 2)
VOCAB = domain.vocabulary_from_choices(
    sexes=[
        ("female", "Female"),
        ("male", "Male"),
        ("intersex", "Intersex"),
        ("unknown", "Unknown"),
    ],
    focuses=[("mental_health", "Mental health"), ("substance_use", "Substance use")],
    levels_of_care=[("2.1", "Level 2.1 · Intensive outpatient"), ("2.5", "Level 2.5 · PHP")],
    referral_sources=[("self", "Self"), ("other", "Other")],
    coverage_ranks=[("primary", "Primary"), ("secondary", "Secondary")],
    subscriber_relationships=[("self", "Self"), ("spouse", "Spouse / partner")],
)
HEADER = "external_id,first_name,last_name,date_of_birth,sex,phone,payer,member_id,focus,admission_date,level_of_care\n"


def row(**cells: str) -> domain.RowDraft:
    base = {
        "first_name": "Quillon",
        "last_name": "Fakename",
        "date_of_birth": "1991-04-05",
        "sex": "male",
    }
    base.update(cells)
    return domain.draft_row(2, base, VOCAB, today=TODAY)


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"first_name": ""}, "first_name is empty."),
        ({"date_of_birth": "1991-13-40"}, "date_of_birth '1991-13-40' is not a date"),
        ({"date_of_birth": "2027-01-01"}, "date_of_birth is in the future."),
        ({"date_of_birth": "1850-01-01"}, "before 1900"),
        ({"sex": "x"}, "sex 'x' is not one of: female, intersex, male, unknown."),
        ({"email": "not-an-address"}, "is not an email address"),
        (
            {"focus": "Mental health"},
            "admission_date is empty but other episode columns are filled.",
        ),
        (
            {"focus": "gambling", "admission_date": "2026-01-05", "level_of_care": "2.1"},
            "focus 'gambling' is not one of",
        ),
        (
            {"focus": "mental_health", "admission_date": "2026-01-05", "level_of_care": "3.9"},
            "level_of_care '3.9' is not one of",
        ),
        (
            {"focus": "mental_health", "admission_date": "2026-04-01", "level_of_care": "2.1"},
            "admission_date is in the future",
        ),
        ({"member_id": "ZZ1"}, "payer is empty but other coverage columns are filled."),
        (
            {"payer": "Fictional Mutual", "coverage_rank": "tertiary"},
            "coverage_rank 'tertiary' is not one of",
        ),
        (
            {
                "payer": "Fictional Mutual",
                "coverage_start": "2026-02-01",
                "coverage_end": "2026-01-01",
            },
            "coverage_end is before coverage_start.",
        ),
        ({"state": "Illinois"}, "state is longer than 2 characters."),
    ],
)
def test_a_row_with_a_problem_says_it_in_words(cells: dict[str, str], problem: str) -> None:
    drafted = row(**cells)
    assert drafted.patient is None
    assert any(problem in p for p in drafted.problems), drafted.problems


def test_labels_and_values_of_the_choices_are_both_accepted() -> None:
    drafted = row(
        sex="Female", focus="Substance use", admission_date="01/05/2026", level_of_care="2.1"
    )
    assert drafted.problems == ()
    assert drafted.patient is not None and drafted.patient.sex == "female"
    assert drafted.episode == domain.EpisodeDraft(
        focus="substance_use", admission_date=dt.date(2026, 1, 5), level_of_care="2.1"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("first_name,last_name\nA,B\n", "Required column(s) missing: date_of_birth, sex."),
        ("first_name,last_name,date_of_birth,sex,ssn\n", "Unknown column(s): ssn."),
        ("first_name,last_name,date_of_birth,sex\n", "no rows to import"),
        (
            "first_name,first_name,last_name,date_of_birth,sex\nA,A,B,1990-01-01,male\n",
            "named twice",
        ),
    ],
)
def test_a_file_that_cannot_be_read_says_why(text: str, message: str) -> None:
    with pytest.raises(domain.FileProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        domain.read_csv(text, VOCAB, today=TODAY)


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    text = (
        HEADER
        + "E1,Quillon,Fakename,1991-04-05,male,,,,,,\n\nE2,Brisa,Nottareal,1992-02-02,nope,,,,,,\n"
    )
    rows = domain.read_csv(text, VOCAB, today=TODAY)
    assert [r.row_no for r in rows] == [2, 4]
    assert rows[0].problems == () and rows[1].problems


def existing(
    pid: int, first: str = "Quillon", last: str = "Fakename", **kw: object
) -> domain.Existing:
    values: dict[str, object] = {"date_of_birth": dt.date(1991, 4, 5), "mrn": f"LH{pid:06d}"}
    values.update(kw)
    return domain.Existing(patient_id=pid, first_name=first, last_name=last, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cells", "on_file", "outcome", "reason"),
    [
        ({}, [], "create", "new patient"),
        ({}, [existing(1)], "merge", "same name and date of birth as LH000001"),
        ({"first_name": " quillon "}, [existing(1)], "merge", "same name and date of birth"),
        ({}, [existing(1, date_of_birth=dt.date(1991, 4, 6))], "create", "new patient"),
        (
            {},
            [existing(1), existing(2)],
            "refuse",
            "2 patients share this name and date of birth (LH000001, LH000002)",
        ),
        (
            {"external_id": "E9"},
            [existing(1, "Other", "Person", external_ids=frozenset({"E9"}))],
            "merge",
            "external id E9 linked to LH000001",
        ),
        (
            {"external_id": "E9"},
            [existing(1, external_ids=frozenset({"E9"}), date_of_birth=dt.date(1980, 1, 1))],
            "refuse",
            "whose date of birth differs",
        ),
        (
            {"external_id": "E9"},
            [existing(1, external_ids=frozenset({"E7"}))],
            "refuse",
            "another external id of this source",
        ),
        ({"mrn": "lh000001"}, [existing(1), existing(2)], "merge", "same MRN LH000001"),
        ({"mrn": "LH000404"}, [existing(1)], "refuse", "No patient has the MRN LH000404."),
        (
            {"mrn": "LH000001", "first_name": "Brisa"},
            [existing(1)],
            "refuse",
            "name or date of birth differ",
        ),
    ],
)
def test_the_matching_rule(
    cells: dict[str, str], on_file: list[domain.Existing], outcome: str, reason: str
) -> None:
    [decision] = domain.decide([row(**cells)], on_file)
    assert decision.outcome == outcome
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_rows_of_one_person_in_a_file_are_one_patient() -> None:
    rows = [
        domain.draft_row(
            2,
            {
                "external_id": "E1",
                "first_name": "Quillon",
                "last_name": "Fakename",
                "date_of_birth": "1991-04-05",
                "sex": "male",
                "payer": "Fictional Mutual",
            },
            VOCAB,
            today=TODAY,
        ),
        domain.draft_row(
            3,
            {
                "external_id": "E1",
                "first_name": "Quillon",
                "last_name": "Fakename",
                "date_of_birth": "1991-04-05",
                "sex": "male",
                "payer": "Pretend Care",
                "coverage_rank": "secondary",
            },
            VOCAB,
            today=TODAY,
        ),
        domain.draft_row(
            4,
            {
                "external_id": "E1",
                "first_name": "Quillon",
                "last_name": "Fakename",
                "date_of_birth": "1991-04-05",
                "sex": "male",
                "payer": "Other Plan",
            },
            VOCAB,
            today=TODAY,
        ),
    ]
    first, second, third = domain.decide(rows, [])
    assert (first.outcome, second.outcome) == ("create", "merge")
    assert second.same_as_row == 2 and second.adds_coverage
    assert third.outcome == "refuse" and "already a primary coverage" in third.reasons[0]
    assert domain.summarize([first, second, third]).created == 1


def test_a_merge_that_would_open_a_second_episode_is_refused() -> None:
    on_file = [existing(1, open_episode="episode 7 (admitted 2026-01-05)")]
    drafted = row(focus="mental_health", admission_date="2026-01-05", level_of_care="2.1")
    [decision] = domain.decide([drafted], on_file)
    assert decision.outcome == "refuse"
    assert "already has an open episode 7" in decision.reasons[0]


def test_a_merge_lists_what_it_changes_and_blank_cells_never_erase() -> None:
    drafted = row(phone="555-0142")
    current = {
        1: {
            "legal_first_name": "Quillon",
            "legal_last_name": "Fakename",
            "date_of_birth": dt.date(1991, 4, 5),
            "sex": "male",
            "phone": "555-0100",
            "email": "q@example.test",
        }
    }
    [decision] = domain.decide([drafted], [existing(1)], current_values=current)
    assert decision.changes == ("phone",)


BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"system": "urn:fictional-ehr", "value": "FE-100"}],
                "name": [
                    {"use": "official", "family": "Fakename", "given": ["Quillon"]},
                    {"use": "nickname", "given": ["Quill"]},
                ],
                "gender": "male",
                "birthDate": "1991-04-05",
                "telecom": [
                    {"system": "phone", "value": "555-0142"},
                    {"system": "email", "value": "quill@example.test"},
                ],
                "address": [
                    {
                        "use": "home",
                        "line": ["1 Pretend Lane"],
                        "city": "Nowhere",
                        "state": "IL",
                        "postalCode": "60000",
                    }
                ],
            }
        },
        {"resource": {"resourceType": "Patient", "birthDate": "05-04-1991"}},
        {"resource": {"resourceType": "Observation", "status": "final"}},
        {
            "resource": {
                "resourceType": "Patient",
                "name": [{"family": "Nottareal"}],
                "gender": "female",
                "birthDate": "1992-02-02",
            }
        },
    ],
}


def test_a_bundle_of_patients_reads_into_the_same_drafts_with_each_bad_entry_reported() -> None:
    first, invalid, other, unnamed = read_bundle(
        json.dumps(BUNDLE), VOCAB, today=TODAY, source_system="urn:fictional-ehr"
    )
    assert first.problems == ()
    assert first.patient == domain.PatientDraft(
        first_name="Quillon",
        last_name="Fakename",
        date_of_birth=dt.date(1991, 4, 5),
        sex="male",
        external_id="FE-100",
        preferred_name="Quill",
        phone="555-0142",
        email="quill@example.test",
        address_line="1 Pretend Lane",
        city="Nowhere",
        state="IL",
        postal_code="60000",
    )
    assert invalid.row_no == 2 and "Invalid Patient: birthDate" in invalid.problems[0]
    assert "Only Patient resources are imported; this entry is a Observation." in other.problems
    assert "first_name is empty." in unnamed.problems


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ('{"resourceType": "Patient"}', "not a FHIR Bundle"),
        ('{"resourceType": "Bundle", "type": "collection"}', "no entries"),
    ],
)
def test_a_file_that_is_no_bundle_says_why(text: str, message: str) -> None:
    with pytest.raises(domain.FileProblem, match=message):
        read_bundle(text, VOCAB, today=TODAY)
