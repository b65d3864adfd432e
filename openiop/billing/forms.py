"""Forms that parse billing input. Rules live in services and domain; these only read input."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.admissions.forms import YES_NO
from openiop.billing.choices import CoverageRank, PayerType, SubscriberRelationship
from openiop.core.dates import DateKind
from openiop.ui.fields import WholeNumberField, date_field


class PayerForm(forms.Form):
    name = forms.CharField(max_length=200)
    payer_id = forms.CharField(max_length=40, required=False, label="Payer ID")
    payer_type = forms.ChoiceField(choices=PayerType.choices, label="Type")


class CoverageForm(forms.Form):
    payer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)
    rank = forms.ChoiceField(choices=CoverageRank.choices)
    member_id = forms.CharField(max_length=60, required=False, label="Member ID")
    group_number = forms.CharField(max_length=60, required=False, label="Group number")
    subscriber_name = forms.CharField(max_length=200, required=False)
    subscriber_relationship = forms.ChoiceField(
        choices=SubscriberRelationship.choices, label="Relationship to subscriber"
    )
    start_date = date_field("Coverage starts", DateKind.COVERAGE, required=False)
    end_date = date_field("Coverage ends", DateKind.COVERAGE, required=False)

    def __init__(self, *args: Any, payers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = payers  # type: ignore[attr-defined]


class VerificationForm(forms.Form):
    in_network = forms.ChoiceField(label="In network?", choices=YES_NO)
    iop_covered = forms.ChoiceField(label="IOP covered?", choices=YES_NO)
    deductible_amount = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2, initial=0)
    deductible_met_amount = forms.DecimalField(
        label="Deductible met so far", min_value=0, max_digits=10, decimal_places=2, initial=0
    )
    copay_per_day = forms.DecimalField(
        required=False, min_value=0, max_digits=8, decimal_places=2, label="Copay per day"
    )
    coinsurance_percent = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        label="Coinsurance %",
    )
    prior_auth_required = forms.ChoiceField(label="Prior authorization required?", choices=YES_NO)
    days_allowed = WholeNumberField(required=False, min_value=0, label="Days allowed")
    reference_number = forms.CharField(max_length=60, label="Call reference number")
    payer_contact = forms.CharField(max_length=120, required=False, label="Who at the payer")

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("in_network", "iop_covered", "prior_auth_required"):
            data[name] = data[name] == "yes"
        return data


class EstimateForm(forms.Form):
    household_size = forms.IntegerField(min_value=1, max_value=30)
    annual_income = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    planned_days = forms.IntegerField(min_value=1, max_value=365, initial=36)
    installments = forms.IntegerField(min_value=1, max_value=36, initial=3)
    first_date = date_field("First payment due", DateKind.COVERAGE)
