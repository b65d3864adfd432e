import datetime as dt

import pytest

from openiop.patients.domain import (
    age_on,
    format_mrn,
    parse_date_of_birth,
    parse_search_query,
    search_name_for,
)


def test_mrn_is_prefix_and_six_digits() -> None:
    assert format_mrn("LH", 42) == "LH000042"
    assert format_mrn("", 1) == "000001"
    with pytest.raises(ValueError):
        format_mrn("LH", 0)


def test_search_name_is_lower_case_and_skips_blank_parts() -> None:
    assert search_name_for("Zephyrine", "", "Quillfeather") == "zephyrine quillfeather"
    assert search_name_for("Zephyrine", "Zeph", "Quillfeather") == "zephyrine zeph quillfeather"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-01-31", dt.date(1990, 1, 31)),
        ("01/31/1990", dt.date(1990, 1, 31)),
        ("1/5/1990", dt.date(1990, 1, 5)),
        ("1990-02-30", None),
        ("31/01/1990", None),
        ("zeph", None),
    ],
)
def test_date_of_birth_formats(text: str, expected: dt.date | None) -> None:
    assert parse_date_of_birth(text) == expected


def test_search_query_kinds() -> None:
    assert parse_search_query("  ").kind == "all"
    assert parse_search_query("01/31/1990").kind == "dob"
    mrn = parse_search_query("lh000042")
    assert (mrn.kind, mrn.text) == ("mrn", "LH000042")
    assert parse_search_query("42").kind == "mrn"
    name = parse_search_query("Zeph  QUILL")
    assert (name.kind, name.name_terms) == ("name", ("zeph", "quill"))


def test_age_on_counts_whole_years() -> None:
    assert age_on(dt.date(2010, 6, 15), dt.date(2026, 6, 14)) == 15
    assert age_on(dt.date(2010, 6, 15), dt.date(2026, 6, 15)) == 16
