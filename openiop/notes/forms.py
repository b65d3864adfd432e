"""Forms that parse note input. Rules live in services; these only read what was typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.notes.domain import COPIED_FIELDS, THERAPY_FORMATS
from openiop.notes.models import NoteFormat
from openiop.treatment.models import PlanObjective
from openiop.ui.fields import date_field


class ObjectiveChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    def label_from_instance(self, obj: PlanObjective) -> str:
        return f"{obj.text} (by {obj.target_date:%Y-%m-%d})"


class GroupNoteForm(forms.Form):
    """The shared part of a group note as the one-screen form sends it (each member's section is
    read by the view, one set of fields per member)."""

    note_format = forms.ChoiceField(
        choices=[(v, label) for v, label in NoteFormat.choices if v in THERAPY_FORMATS],
        error_messages={
            "required": "Choose the note's format.",
            "invalid_choice": "Choose one of the note formats (DAP, BIRP or SOAP).",
        },
    )
    version = VersionField()
    topic = forms.CharField(label="Topic", max_length=200, required=False)
    curriculum_module = forms.CharField(label="Curriculum module", max_length=200, required=False)
    modality = forms.CharField(label="Modality", max_length=60, required=False)
    interventions = forms.CharField(label="Interventions", max_length=4000, required=False)

    def first_error(self) -> tuple[str, str]:
        """The first problem as (message, field name), for the screen's error box."""
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else None
            return (f"{label}: {errors[0]}" if label else str(errors[0])), name
        return "", ""


class IndividualNoteForm(forms.Form):
    """An individual, family or medication-management note: kind, format, date and times, topic,
    the format's fields (a medication note's copy of the medication list is read-only)."""

    version = VersionField(required=False)
    note_format = forms.ChoiceField(widget=forms.HiddenInput, choices=NoteFormat.choices)
    kind = forms.ChoiceField(
        label="Session", choices=[("individual", "Individual"), ("family", "Family")]
    )
    date = date_field("Date", DateKind.HAPPENED)
    starts = forms.TimeField(label="Start time", widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label="End time", widget=forms.TimeInput(attrs={"type": "time"}))
    topic = forms.CharField(max_length=200, required=False)

    def __init__(
        self,
        *args: Any,
        fields: Sequence[tuple[str, str]],
        objectives: Sequence[PlanObjective],
        medication: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if medication:  # a prescriber visit's note: its own kind, nothing to choose
            self.fields["kind"].choices = [("medication", "Medication management")]  # type: ignore[attr-defined]
            self.fields["kind"].label = "Visit"
        for key, label in fields:
            copied = key in COPIED_FIELDS  # from the chart, shown as it was when saved
            self.fields[key] = forms.CharField(
                label=label,
                required=False,
                max_length=4000,
                disabled=copied,
                help_text="From the patient's medication list when the note is saved; "
                "change the list on the Medications page."
                if copied
                else "",
                widget=forms.Textarea(attrs={"rows": 5 if copied else 3}),
            )
        self.fields["objectives"] = ObjectiveChoice(
            queryset=PlanObjective.objects.filter(pk__in=[o.pk for o in objectives]),
            required=False,
            label="Plan objectives this session served",
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["reason"] = forms.CharField(
            label="If the guard flags similar text: why it is right for this patient",
            required=False,
            max_length=500,
        )


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
