"""Forms that parse treatment-plan and discharge input. Rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from openiop.accounts.models import User
from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.treatment.models import GoalStatus, Modality, ReferralKind, SignerRole
from openiop.ui.fields import IdField, date_field


def _area(label: str, required: bool = False, rows: int = 3, **kw: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}), **kw
    )


class PlanTextForm(forms.Form):
    version = VersionField()
    strengths = _area("Strengths and preferences (in the patient's words)")
    discharge_criteria = _area("Discharge criteria discussed with the patient")
    review_summary = _area("Review: progress since the last version")


class ProblemForm(forms.Form):
    description = forms.CharField(label="Problem", max_length=300)
    icd10_code = forms.CharField(label="ICD-10-CM code", max_length=10)
    patient_words = _area("In the patient's own words", required=True, rows=2)


class GoalForm(forms.Form):
    problem = IdField(widget=forms.HiddenInput)
    text = forms.CharField(label="Goal", max_length=400)


class GoalStatusForm(forms.Form):
    goal = IdField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=GoalStatus.choices)


class ObjectiveForm(forms.Form):
    goal = IdField(widget=forms.HiddenInput)
    text = forms.CharField(label="Measurable objective", max_length=400)
    target_date = date_field("Target date", DateKind.PLANNED)


class InterventionForm(forms.Form):
    goal = IdField(widget=forms.HiddenInput)
    modality = forms.ChoiceField(choices=Modality.choices)
    frequency = forms.CharField(max_length=100)
    responsible = forms.ModelChoiceField(queryset=User.objects.none(), label="Responsible staff")
    description = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = staff  # type: ignore[attr-defined]


class SignForm(forms.Form):
    role = forms.ChoiceField(choices=SignerRole.choices, label="Who signs")
    signer_name = forms.CharField(
        max_length=200, required=False, label="Name of the patient or guardian signing"
    )


class SummaryForm(forms.Form):
    version = VersionField()
    narrative = _area("Clinician's narrative", rows=6)
    next_level_of_care = forms.CharField(max_length=200, required=False)
    relapse_prevention = _area("Relapse prevention")
    crisis_resources = _area("Crisis resources")
    medication_continuity = _area("Medication continuity")


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(choices=ReferralKind.choices)
    name = forms.CharField(max_length=200)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(max_length=300, required=False)
    hours = forms.CharField(max_length=200, required=False)


class CopyGivenForm(forms.Form):
    how = forms.ChoiceField(
        choices=[("printed", "Printed copy handed over"), ("portal", "Sent securely")],
        label="How the copy was given",
    )
