from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openiop.core.concurrency import VersionField
from openiop.programs.models import Track
from openiop.ui.fields import WeekField


class StartForm(forms.Form):
    """Plan a week: next week unless another is typed; the whole site or one track's patients."""

    week = WeekField(label="Week", required=False, help_text="e.g. 2026-W07; empty: next week")
    track = forms.ModelChoiceField(
        queryset=Track.objects.none(),
        required=False,
        empty_label="Every track",
        label="Patients of",
    )

    def __init__(self, *args: Any, site: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        field = self.fields["track"]
        assert isinstance(field, forms.ModelChoiceField)
        if site is not None:
            field.queryset = Track.objects.filter(site=site, is_active=True).order_by("name")

    def clean_week(self) -> Any:
        from openiop.core.clock import local_today
        from openiop.core.dates import IsoWeek

        week = self.cleaned_data.get("week")
        if week is None and self.site is not None:
            week = IsoWeek.of(local_today(self.site.tz)).next()
        return week


OPS = [
    ("move", "Move to another session"),
    ("remove", "Remove from a session"),
    ("add", "Add to a session"),
]


class EditForm(forms.Form):
    """One change to a draft plan. Sessions and patients are the plan's own (by key)."""

    version = VersionField()
    op = forms.ChoiceField(label="Change", choices=OPS)
    patient = forms.ChoiceField(label="Patient")
    from_session = forms.ChoiceField(label="From session", required=False)
    to_session = forms.ChoiceField(label="To session", required=False)

    def __init__(
        self, *args: Any, patients: list[Any], lines: list[Any], tz: dt.tzinfo, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        people = [(f"e{e.pk}", f"{e.patient.display_name} ({e.patient.mrn})") for e in patients]
        sessions = [
            (
                line.key,
                f"{line.session.starts_at.astimezone(tz):%a %b %-d %H:%M} {line.session.title}"
                + (f" · {line.session.track.name}" if line.session.track else ""),
            )
            for line in lines
        ]
        self.fields["patient"].choices = [("", "—"), *people]  # type: ignore[attr-defined]
        self.fields["from_session"].choices = [("", "—"), *sessions]  # type: ignore[attr-defined]
        self.fields["to_session"].choices = [("", "—"), *sessions]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        op = data.get("op")
        if op in ("move", "remove") and not data.get("from_session"):
            self.add_error("from_session", "Choose the session the patient leaves.")
        if op in ("move", "add") and not data.get("to_session"):
            self.add_error("to_session", "Choose the session the patient joins.")
        return data
