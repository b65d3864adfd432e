"""Forms of the import pages: they only read input; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.imports.services import MAX_FILE_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A CSV with the documented columns, or a FHIR Bundle of Patients (.json)",
    )
    source_name = forms.CharField(
        max_length=100,
        label="Source system",
        help_text="The EHR the file comes from: its ids are remembered under this name",
    )
    site = forms.TypedChoiceField(coerce=int, label="Import at site")

    def __init__(self, *args: Any, sites: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field: Any = self.fields["site"]
        site_field.choices = sites

    def text(self) -> tuple[str, str]:
        """The file's name and its text. Raises forms.ValidationError (kept on the form)."""
        upload: Any = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB: split it.")
        try:
            return str(upload.name), upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                "The file is not UTF-8 text: save it as CSV UTF-8."
            ) from exc


class ReportSearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Search")
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "All rows"), ("create", "Create"), ("merge", "Merge"), ("refuse", "Refused")],
    )
