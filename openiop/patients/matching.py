"""Likely duplicates: the same name and date of birth, or the same phone number. No Django.

Used for an inquiry about someone who may already be a patient (admissions) and for a patient
about to be registered a second time (patients.selectors.likely_duplicates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PHONE_DIGITS = 10  # compare the last ten digits: a US number with or without the leading 1


def normalize_phone(text: str) -> str:
    """The last ten digits of a phone number ('' when it has fewer than seven digits).

    '(555) 010-1234', '555.010.1234' and '+1 555 010 1234' all give '5550101234'.
    """
    digits = "".join(ch for ch in text or "" if ch.isdigit())
    if len(digits) < 7:
        return ""
    return digits[-PHONE_DIGITS:]


def normalize_name(text: str) -> str:
    """Lower-case, inner spaces collapsed, for comparing names."""
    return " ".join((text or "").lower().split())


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    date_of_birth: dt.date | None
    phone: str


def match_reasons(inquiry: Person, patient: Person) -> list[str]:
    """Why `patient` is likely the person of `inquiry` (or of a new registration): an empty list
    when not likely. A person without a phone (Person.phone '') is matched on name and birth date
    only."""
    reasons: list[str] = []
    if (
        inquiry.date_of_birth is not None
        and inquiry.date_of_birth == patient.date_of_birth
        and normalize_name(inquiry.first_name) == normalize_name(patient.first_name)
        and normalize_name(inquiry.last_name) == normalize_name(patient.last_name)
        and normalize_name(inquiry.last_name)
    ):
        reasons.append("same name and date of birth")
    phone = normalize_phone(inquiry.phone)
    if phone and phone == normalize_phone(patient.phone):
        reasons.append("same phone number")
    return reasons
