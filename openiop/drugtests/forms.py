"""Forms that parse drug test input. Rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.drugtests.domain import ANALYTE_LABELS, Analyte, AnalyteResult, Outcome
from openiop.drugtests.models import VALIDITY_CHOICES, OrderReason, ResponseKind, TestKind

MAX_FILE_BYTES = 1_000_000


class OrderForm(forms.Form):
    kind = forms.ChoiceField(choices=TestKind.choices, label="Test")
    reason = forms.ChoiceField(
        choices=[c for c in OrderReason.choices if c[0] != OrderReason.RANDOM]
    )
    accession = forms.CharField(max_length=60, required=False, label="Lab accession number")
    note = forms.CharField(max_length=500, required=False)


RESULT_CHOICES = [("", "Not tested"), ("negative", "Negative"), ("positive", "Positive")]


class ResultForm(forms.Form):
    """One field per analyte (blank: not tested), the validity, observed, when collected."""

    collected_at = forms.DateTimeField(
        label="Collected at (clinic time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    validity = forms.ChoiceField(choices=VALIDITY_CHOICES, initial="valid")
    observed = forms.BooleanField(required=False, label="Collection observed")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for a in Analyte:
            self.fields[f"a_{a.value}"] = forms.ChoiceField(
                choices=RESULT_CHOICES, required=False, label=ANALYTE_LABELS[a]
            )

    def results(self) -> list[AnalyteResult]:
        return [
            AnalyteResult(a, Outcome(self.cleaned_data[f"a_{a.value}"]))
            for a in Analyte
            if self.cleaned_data.get(f"a_{a.value}")
        ]


class FlagResponseForm(forms.Form):
    kind = forms.ChoiceField(choices=ResponseKind.choices, label="Response")
    text = forms.CharField(
        label="What was discussed or decided",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LabImportForm(forms.Form):
    file = forms.FileField(label="Lab results file (CSV)")
    site = forms.TypedChoiceField(coerce=int, label="Site")
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: check every row, post nothing"
    )

    def __init__(self, *args: Any, sites: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field: Any = self.fields["site"]
        site_field.choices = sites

    def text(self) -> tuple[str, str]:
        upload: Any = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError("The file is larger than 1 MB: split it.")
        try:
            return str(upload.name), upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                "The file is not UTF-8 text: save it as CSV UTF-8."
            ) from exc


class DrawForm(forms.Form):
    site = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput)
    rate = forms.DecimalField(
        min_value=0, max_value=100, decimal_places=1, initial=20, label="Share to test (%)"
    )

    def __init__(self, *args: Any, sites: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field: Any = self.fields["site"]
        site_field.choices = sites
