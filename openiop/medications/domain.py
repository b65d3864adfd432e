"""Medications as data: a small curated table of medications common in an IOP, with their RxNorm
ingredient codes where a code could be checked against a public source, and what a drug test may
find of each. Plain Python: no Django, no clock.

Codes (RxNorm RXCUI, ingredient level, TTY=IN) were checked against the CPIC drug table
(cpicpgx/cpic-schema, drug.sql, which lists drugs by their RxNorm ingredient). Where no source
could be checked here (buprenorphine, buprenorphine/naloxone, acamprosate, disulfiram, clonidine,
gabapentin, trazodone, hydroxyzine, prazosin) the code is left blank: a clinical code is never
guessed. A clinic adds a code once its pharmacist has confirmed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class MatKind(StrEnum):
    """Medication for addiction treatment followed as a MAT episode."""

    BUPRENORPHINE = "buprenorphine"
    NALTREXONE_ORAL = "naltrexone_oral"
    NALTREXONE_XR = "naltrexone_xr"
    METHADONE_ELSEWHERE = "methadone_elsewhere"


MAT_LABELS: dict[MatKind, str] = {
    MatKind.BUPRENORPHINE: "Buprenorphine (incl. buprenorphine/naloxone)",
    MatKind.NALTREXONE_ORAL: "Naltrexone, oral",
    MatKind.NALTREXONE_XR: "Naltrexone, extended-release injection",
    MatKind.METHADONE_ELSEWHERE: "Methadone, dispensed by an opioid treatment program elsewhere",
}


# What the patient header says after "MAT:" (a few words; the list and the MAT page say it all).
MAT_SHORT_LABELS: dict[MatKind, str] = {
    MatKind.BUPRENORPHINE: "buprenorphine",
    MatKind.NALTREXONE_ORAL: "oral naltrexone",
    MatKind.NALTREXONE_XR: "XR naltrexone",
    MatKind.METHADONE_ELSEWHERE: "methadone (OTP)",
}


def mat_short_label(kind: MatKind | str) -> str:
    """The header's few words for a MAT kind; an unknown kind (a row older than this code) as
    stored."""
    try:
        return MAT_SHORT_LABELS[MatKind(kind)]
    except ValueError:
        return str(kind)


@dataclass(frozen=True)
class CatalogEntry:
    """One medication of the curated table.

    `rxnorm` is the RxNorm ingredient RXCUI, "" when not confirmed. `analyte` is what a urine drug
    test reports for it ("" when the usual panels do not test for it): a prescribed medication
    with an analyte is expected to be found (drugtests.domain.reconcile)."""

    key: str
    name: str
    rxnorm: str
    analyte: str = ""
    mat: MatKind | None = None


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("buprenorphine", "Buprenorphine", "", "buprenorphine", MatKind.BUPRENORPHINE),
    CatalogEntry(
        "buprenorphine_naloxone",
        "Buprenorphine/naloxone",
        "",
        "buprenorphine",
        MatKind.BUPRENORPHINE,
    ),
    CatalogEntry("naltrexone", "Naltrexone", "7243", "", MatKind.NALTREXONE_ORAL),
    CatalogEntry("naltrexone_xr", "Naltrexone extended-release", "7243", "", MatKind.NALTREXONE_XR),
    CatalogEntry("methadone", "Methadone", "6813", "methadone", MatKind.METHADONE_ELSEWHERE),
    CatalogEntry("naloxone", "Naloxone (overdose reversal)", "7242"),
    CatalogEntry("acamprosate", "Acamprosate", ""),
    CatalogEntry("disulfiram", "Disulfiram", ""),
    CatalogEntry("nicotine", "Nicotine replacement", "7407"),
    CatalogEntry("sertraline", "Sertraline", "36437"),
    CatalogEntry("fluoxetine", "Fluoxetine", "4493"),
    CatalogEntry("escitalopram", "Escitalopram", "321988"),
    CatalogEntry("citalopram", "Citalopram", "2556"),
    CatalogEntry("paroxetine", "Paroxetine", "32937"),
    CatalogEntry("venlafaxine", "Venlafaxine", "39786"),
    CatalogEntry("duloxetine", "Duloxetine", "72625"),
    CatalogEntry("bupropion", "Bupropion", "42347"),
    CatalogEntry("mirtazapine", "Mirtazapine", "15996"),
    CatalogEntry("trazodone", "Trazodone", ""),
    CatalogEntry("aripiprazole", "Aripiprazole", "89013"),
    CatalogEntry("olanzapine", "Olanzapine", "61381"),
    CatalogEntry("risperidone", "Risperidone", "35636"),
    CatalogEntry("lamotrigine", "Lamotrigine", "28439"),
    CatalogEntry("gabapentin", "Gabapentin", ""),
    CatalogEntry("hydroxyzine", "Hydroxyzine", ""),
    CatalogEntry("prazosin", "Prazosin", ""),
    CatalogEntry("clonidine", "Clonidine", ""),
    CatalogEntry("diazepam", "Diazepam", "3322", "benzodiazepines"),
    CatalogEntry("oxazepam", "Oxazepam", "7781", "benzodiazepines"),
    CatalogEntry("methylphenidate", "Methylphenidate", "6901"),
)
BY_KEY: dict[str, CatalogEntry] = {e.key: e for e in CATALOG}


def catalog_entry(key: str) -> CatalogEntry | None:
    """The curated entry for `key`, or None (a medication typed in by name)."""
    return BY_KEY.get(key)


@dataclass(frozen=True)
class ActiveMedication:
    """A medication on the list as the reconciliation needs it."""

    name: str
    analyte: str
    start_date: dt.date | None
    stop_date: dt.date | None


def active_on(meds: Iterable[ActiveMedication], day: dt.date) -> list[ActiveMedication]:
    """The medications taken on `day`: started on or before it (or no start known) and not
    stopped before it (a medication stopped on `day` still counts: it can be found that day)."""
    return [
        m
        for m in meds
        if (m.start_date is None or m.start_date <= day)
        and (m.stop_date is None or m.stop_date >= day)
    ]


def check_dates(start: dt.date | None, stop: dt.date | None) -> str | None:
    """A message when the stop date is before the start date, else None."""
    if start is not None and stop is not None and stop < start:
        return "The stop date is before the start date."
    return None


def needs_injection_site(kind: MatKind | str) -> bool:
    """Extended-release naltrexone is a gluteal injection: its site is recorded with each dose."""
    return MatKind(kind) == MatKind.NALTREXONE_XR


def mat_kinds() -> Sequence[tuple[str, str]]:
    return [(k.value, MAT_LABELS[k]) for k in MatKind]
