"""Form fields every app shares, so that one kind of input has one policy everywhere.

Dates: each date field says what its date stands for (core.dates.DateKind) and is refused outside
that kind's plausible range (core.dates.DATE_RANGES), with a message that names the range.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from openiop.core import clock
from openiop.core.dates import DateKind, IsoWeek, date_out_of_range, week_out_of_range

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

    def clean(self, value: Any) -> IsoWeek | None:  # type: ignore[override]
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
