"""Forms of the remittance pages: they only read input; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.billing.choices_remittances import DenialStatus

MAX_UPLOAD_BYTES = 20_000_000


class RemittanceUploadForm(forms.Form):
    file = forms.FileField(label="835 file", help_text="The remittance file the payer sent")

    def text(self) -> tuple[str, str]:
        """The file's name and its text. Raises forms.ValidationError (kept on the form)."""
        upload: Any = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is too large for one remittance.")
        try:
            return str(upload.name), upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not text: is it an 835?") from exc


class DenialWorkForm(forms.Form):
    status = forms.ChoiceField(choices=DenialStatus.choices)
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_action = forms.CharField(
        max_length=2000,
        required=False,
        label="Next action (leave empty to keep it)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    take = forms.BooleanField(required=False, label="I take it")
    write_off = forms.BooleanField(
        required=False,
        label="Write off the denied amount (with Closed): the payer will not pay it",
        help_text="It leaves the insurance balance and the A/R aging; it cannot be undone here.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class UnmatchedResolveForm(forms.Form):
    claim_number = forms.CharField(
        max_length=20, label="Our claim's patient control number (CLM01)"
    )
    line_number = forms.IntegerField(
        min_value=1,
        required=False,
        label="Its line number (for a service line)",
    )
