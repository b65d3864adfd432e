from __future__ import annotations

from django import forms

from openiop.core.models import JobStatus


class JobSearchForm(forms.Form):
    q = forms.CharField(label="Job name", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any"), *JobStatus.choices]
    )
