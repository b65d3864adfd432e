"""Forms that parse what staff type for case management. Rules live in services and domain."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.casemgmt.choices import ReferralStatus, ResourceKind, SupportKind
from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.ui.fields import IdField, date_field


def _choice(label: str, choices: list[tuple[Any, str]], **kw: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=[("", "—"), *choices], coerce=int, empty_value=None, **kw
    )


class ResourceSearchForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, max_length=100, help_text="Part of a name or address"
    )
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *ResourceKind.choices]
    )
    inactive = forms.BooleanField(label="Include inactive", required=False)


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=ResourceKind.choices)
    name = forms.CharField(label="Name", max_length=200)
    address = forms.CharField(label="Address", max_length=300, required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    hours = forms.CharField(
        label="Hours", max_length=200, required=False, help_text="e.g. Tue and Thu 7 PM"
    )
    notes = forms.CharField(
        label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(
        label="Active (offered for referrals)", required=False, initial=True
    )


class ResourceEditForm(ResourceForm):
    version = VersionField()


class ReferralForm(forms.Form):
    resource = _choice("Resource", [])
    follow_up_on = date_field("Follow up on", DateKind.PLANNED, required=False)

    def __init__(self, *args: Any, resources: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resource"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *resources]


class ReferralUpdateForm(forms.Form):
    referral = IdField(widget=forms.HiddenInput)
    version = VersionField()
    status = forms.ChoiceField(label="Status", choices=ReferralStatus.choices)
    follow_up_on = date_field("Follow up on", DateKind.PLANNED, required=False)
    outcome = forms.CharField(
        label="Outcome", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SupportRequestForm(forms.Form):
    session = _choice("Session", [])
    kind = forms.ChoiceField(label="Need", choices=SupportKind.choices)
    pickup_address = forms.CharField(label="Pickup address (rides)", max_length=300, required=False)
    pickup_time = forms.TimeField(
        label="Pickup time (rides, clinic time)",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    notes = forms.CharField(label="Notes", max_length=500, required=False)

    def __init__(self, *args: Any, sessions: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["session"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *sessions]


class TaskForm(forms.Form):
    title = forms.CharField(label="Task", max_length=300)
    due_on = date_field("Due on", DateKind.PLANNED)
    owner = _choice("Owner", [])

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *owners]
