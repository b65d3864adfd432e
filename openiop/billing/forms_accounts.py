"""Forms of the patient's ledger page (billing.views.accounts): they only read input; the rules
(amounts in cents, the refund limit, dates that make sense) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.billing.models import PaymentMethod
from openiop.core.dates import DateKind
from openiop.ui.fields import WholeNumberField, date_field


def _amount(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=0, max_digits=12, decimal_places=2, **kwargs)


class PaymentForm(forms.Form):
    amount = _amount("Amount paid")
    date = date_field("Date received", DateKind.COVERAGE)
    method = forms.ChoiceField(choices=PaymentMethod.choices, label="How paid")
    reference = forms.CharField(
        max_length=80, required=False, help_text="Check number, card receipt or transaction id"
    )


class RefundForm(forms.Form):
    amount = _amount("Amount refunded")
    date = date_field("Date refunded", DateKind.COVERAGE)
    reason = forms.CharField(max_length=500, label="Reason for the refund")


class EstimateChoice(forms.ModelChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.created_at:%Y-%m-%d}: patient pays {obj.share_percent}%"


class SlidingFeeForm(forms.Form):
    estimate = EstimateChoice(
        queryset=None,
        required=False,
        label="From the patient's cost estimate",
        empty_label="— enter the share instead —",
    )
    share_percent = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        label="Patient pays (% of each self-pay charge)",
    )
    effective_from = date_field("In force from", DateKind.COVERAGE)
    effective_to = date_field("Until (empty: no end)", DateKind.COVERAGE, required=False)

    def __init__(self, *args: Any, estimates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["estimate"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = estimates


CADENCES = [("monthly", "Monthly, on the same day"), ("days", "Every so many days")]


class PaymentPlanForm(forms.Form):
    total = _amount("Total of the plan")
    installments = WholeNumberField(min_value=1, max_value=120, label="Number of installments")
    first_due = date_field("First installment due", DateKind.PLANNED)
    cadence = forms.ChoiceField(choices=CADENCES, label="Installments fall due")
    every_days = WholeNumberField(
        min_value=1, max_value=365, required=False, label="Days between installments"
    )

    def plan_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        monthly = data["cadence"] == "monthly"
        return {
            "total": data["total"],
            "installments": data["installments"],
            "first_due": data["first_due"],
            "monthly": monthly,
            "every_days": None if monthly else data.get("every_days"),
        }


class StatementForm(forms.Form):
    period_start = date_field("Statement from", DateKind.COVERAGE)
    period_end = date_field("Statement to (the statement date)", DateKind.COVERAGE)
