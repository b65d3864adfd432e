"""Forms that parse medication input. Rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.dates import DateKind
from openiop.medications.domain import CATALOG, mat_kinds
from openiop.medications.models import Allergy, InjectionSite, MedicationSource, Route
from openiop.ui.fields import IdField, date_field


class MedicationForm(forms.Form):
    catalog_key = forms.ChoiceField(
        label="Medication",
        required=False,
        choices=[("", "Other (type its name)")] + [(e.key, e.name) for e in CATALOG],
        help_text="From the clinic's list (coded with RxNorm where a code is known)",
    )
    name = forms.CharField(label="Name (when not on the list)", max_length=200, required=False)
    rxnorm_code = forms.CharField(label="RxNorm code (when known)", max_length=20, required=False)
    dose = forms.CharField(max_length=100, help_text="e.g. 8 mg/2 mg")
    route = forms.ChoiceField(choices=Route.choices)
    frequency = forms.CharField(max_length=100, help_text="e.g. once a day")
    prescriber = forms.CharField(max_length=200, required=False)
    source = forms.ChoiceField(choices=MedicationSource.choices, label="Source")
    start_date = date_field("Started", DateKind.HAPPENED, required=False)


class StopForm(forms.Form):
    medication = IdField(widget=forms.HiddenInput)
    stop_date = date_field("Stopped on", DateKind.HAPPENED)
    reason = forms.CharField(max_length=300)


class AllergyForm(forms.Form):
    substance = forms.CharField(max_length=200)
    reaction = forms.CharField(max_length=300, required=False)
    severity = forms.ChoiceField(choices=Allergy.Severity.choices, initial="unknown")


class AdherenceForm(forms.Form):
    text = forms.CharField(
        label="Adherence note", max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class MatStartForm(forms.Form):
    kind = forms.ChoiceField(label="Medication", choices=mat_kinds())
    started_on = date_field("Started", DateKind.HAPPENED)
    dispensing_program = forms.CharField(
        max_length=200, required=False, label="Dispensing program (methadone)"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DoseForm(forms.Form):
    """A dose given in the clinic. For an injection (extended-release naltrexone) the lot number
    and the injection site are required and marked so; for other medications the site is not
    asked (the service enforces the same rule for every caller)."""

    dose = forms.CharField(max_length=100)
    lot = forms.CharField(max_length=60, required=False, label="Lot number")
    injection_site = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *list(InjectionSite.choices)],
        label="Injection site",
    )
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, injection: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if injection:
            for name, message in (
                ("lot", "Record the lot number."),
                ("injection_site", "Record the injection site."),
            ):
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = message
        else:
            del self.fields["injection_site"]


class MatEndForm(forms.Form):
    ended_on = date_field("Ended on", DateKind.HAPPENED)
    reason = forms.CharField(max_length=300)
