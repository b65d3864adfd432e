"""Patient rules as plain functions: MRN format, search name, parsing the search box.

No Django, no clock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

MRN_DIGITS = 6
ADULT_AGE = 18  # below it, a legal guardian consents for the patient


def format_mrn(prefix: str, number: int) -> str:
    """A medical record number: the organization's prefix and a zero-padded number, e.g. LH000042."""
    if number < 1:
        raise ValueError("MRN numbers start at 1")
    return f"{prefix}{number:0{MRN_DIGITS}d}"


def search_name_for(legal_first_name: str, preferred_name: str, legal_last_name: str) -> str:
    """The lower-case text that name search matches: legal first, preferred and last names."""
    parts = (legal_first_name, preferred_name, legal_last_name)
    return " ".join(p.strip().lower() for p in parts if p and p.strip())


@dataclass(frozen=True)
class SearchQuery:
    """What one search box means. kind 'all' lists everyone the user may see."""

    kind: Literal["all", "name", "dob", "mrn"]
    text: str = ""
    date_of_birth: dt.date | None = None
    name_terms: tuple[str, ...] = ()


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_date_of_birth(text: str) -> dt.date | None:
    """A date written YYYY-MM-DD or MM/DD/YYYY, else None (also None for impossible dates)."""
    text = text.strip()
    try:
        if _ISO_DATE.match(text):
            return dt.date.fromisoformat(text)
        match = _US_DATE.match(text)
        if match:
            month, day, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        return None
    return None


def parse_search_query(text: str) -> SearchQuery:
    """Read the patient search box.

    A date (YYYY-MM-DD or MM/DD/YYYY) searches date of birth; one word with a digit searches MRN;
    anything else is a name search where every word must appear in the legal or preferred name.
    """
    text = " ".join(text.split())
    if not text:
        return SearchQuery(kind="all")
    dob = parse_date_of_birth(text)
    if dob is not None:
        return SearchQuery(kind="dob", text=text, date_of_birth=dob)
    if " " not in text and any(ch.isdigit() for ch in text):
        return SearchQuery(kind="mrn", text=text.upper())
    return SearchQuery(kind="name", text=text, name_terms=tuple(text.lower().split()))


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Age in whole years on `day`."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years
