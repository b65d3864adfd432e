from django import forms

from openiop.audit.models import AuditOutcome
from openiop.core.dates import DateKind
from openiop.ui.fields import date_field


class AuditFilterForm(forms.Form):
    patient = forms.CharField(label="Patient MRN", required=False, max_length=20)
    user = forms.CharField(label="Username", required=False, max_length=150)
    date_from = date_field("From", DateKind.SEARCH, required=False)
    date_to = date_field("To", DateKind.SEARCH, required=False)
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any"), *AuditOutcome.choices]
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
