"""Form fields every app shares, so that one kind of input has one policy everywhere.

Dates: each date field says what its date stands for (core.dates.DateKind) and is refused outside
that kind's plausible range (core.dates.DATE_RANGES), with a message that names the range.

Whole numbers: a number typed in a form is refused beyond what the database can store (a plain
IntegerField would pass 10**23 on and the query or the save would fail); a record id read by hand
from a query string or a form goes through parse_id. Ids in URL paths: ui.converters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from openiop.core import clock
from openiop.core.dates import DateKind, IsoWeek, date_out_of_range, week_out_of_range
from openiop.ui.converters import MAX_ID_DIGITS

# The largest record id (ids are 64-bit; 18 digits stay below 2**63, as in URL paths).
MAX_ID = 10**MAX_ID_DIGITS - 1
# The largest count, version or amount typed as a whole number: the smallest integer column of the
# supported databases (PostgreSQL's integer) holds 2**31 - 1.
MAX_WHOLE_NUMBER = 2**31 - 1

# What people type: ISO dates (the browser's date picker sends these) and US month/day/year.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]

# "Today" for a plausibility range is the latest today anywhere on Earth (UTC+14), so that no
# clinic, whatever its zone, has its own today refused as a future date.
_LATEST_ZONE = ZoneInfo("Pacific/Kiritimati")


class KindDateField(forms.DateField):
    """A date of a given kind, refused outside that kind's plausible range."""

    def __init__(self, kind: DateKind, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", DATE_INPUT_FORMATS)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)
        self.kind = kind

    def validate(self, value: Any) -> None:
        super().validate(value)
        if isinstance(value, dt.date):
            message = date_out_of_range(self.kind, value, clock.local_today(_LATEST_ZONE))
            if message:
                raise ValidationError(message, code="date_out_of_range")


def date_field(label: str, kind: DateKind, **kwargs: Any) -> KindDateField:
    """A labelled date field of `kind` (required unless required=False is given)."""
    return KindDateField(kind, label=label, **kwargs)


class WeekField(forms.CharField):
    """An ISO week typed as 2026-W07; cleans to core.dates.IsoWeek (None when left empty) and is
    refused outside the search range of dates."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", "e.g. 2026-W07")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> IsoWeek | None:
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        try:
            week = IsoWeek.parse(text)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc
        if message := week_out_of_range(week, clock.local_today(_LATEST_ZONE)):
            raise ValidationError(message, code="week_out_of_range")
        return week


def parse_id(text: object) -> int | None:
    """A record id or a page number read by hand from a query string or a form: a positive whole
    number of at most 18 ASCII digits, else None (so the caller treats it as not given).

    str.isdigit() alone also accepts digits int() refuses ("²") and any length."""
    if not isinstance(text, str) or not (0 < len(text) <= MAX_ID_DIGITS):
        return None
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text) or None


class WholeNumberField(forms.IntegerField):
    """A whole number from 0 (or min_value) to what the database stores (MAX_WHOLE_NUMBER, or a
    smaller max_value given); larger numbers are a form error, not a failing save."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        if kwargs.get("max_value") is None or kwargs["max_value"] > MAX_WHOLE_NUMBER:
            kwargs["max_value"] = MAX_WHOLE_NUMBER
        super().__init__(**kwargs)


class IdField(forms.IntegerField):
    """A record id carried in a form (usually hidden): 1 to MAX_ID."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
