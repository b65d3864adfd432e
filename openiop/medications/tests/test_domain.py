from __future__ import annotations

import datetime as dt

from openiop.medications.domain import (
    BY_KEY,
    CATALOG,
    ActiveMedication,
    MatKind,
    active_on,
    check_dates,
    needs_injection_site,
)


def test_catalog_codes_are_blank_or_numeric_and_keys_unique() -> None:
    assert len(BY_KEY) == len(CATALOG)
    assert all(e.rxnorm == "" or e.rxnorm.isdigit() for e in CATALOG)


def test_mat_medications_are_in_the_catalog_with_what_a_test_finds() -> None:
    assert BY_KEY["buprenorphine_naloxone"].analyte == "buprenorphine"
    assert BY_KEY["methadone"].analyte == "methadone"
    assert BY_KEY["naltrexone_xr"].mat == MatKind.NALTREXONE_XR
    assert BY_KEY["sertraline"].analyte == ""  # not on a drug panel: never "expected"


def test_active_on_keeps_medications_taken_that_day() -> None:
    day = dt.date(2026, 3, 10)
    meds = [
        ActiveMedication("a", "x", dt.date(2026, 3, 1), None),
        ActiveMedication("b", "x", dt.date(2026, 3, 11), None),  # not yet started
        ActiveMedication("c", "x", dt.date(2026, 1, 1), dt.date(2026, 3, 9)),  # stopped before
        ActiveMedication("d", "x", None, dt.date(2026, 3, 10)),  # stopped that day: still counts
    ]
    assert [m.name for m in active_on(meds, day)] == ["a", "d"]


def test_stop_before_start_is_refused_and_xr_naltrexone_needs_a_site() -> None:
    assert check_dates(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    assert check_dates(dt.date(2026, 3, 2), dt.date(2026, 3, 2)) is None
    assert needs_injection_site("naltrexone_xr")
    assert not needs_injection_site(MatKind.BUPRENORPHINE)
