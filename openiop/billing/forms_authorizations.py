"""Forms of the authorization pages: they only read input; the rules are in
billing.services.authorizations, whose refusals land on the field they name."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.billing.choices import AuthorizationUnitKind, RecertificationInterval
from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.ui.fields import WholeNumberField, date_field

BLANK = [("", "Choose…")]


class AuthorizationForm(forms.Form):
    coverage = forms.TypedChoiceField(coerce=int, label="Coverage")
    reference_number = forms.CharField(max_length=50, label="Payer's reference number")
    unit_kind = forms.ChoiceField(
        choices=BLANK + list(AuthorizationUnitKind.choices), label="Authorized in"
    )
    quantity = WholeNumberField(min_value=1, label="How many (units or days)")
    start_date = date_field("First day", DateKind.COVERAGE)
    end_date = date_field("Last day", DateKind.COVERAGE)
    service_codes = forms.CharField(
        max_length=200, label="Service codes", help_text="Comma-separated, e.g. H0015, S9480"
    )
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, coverages: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coverage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = coverages


class AuthorizationEditForm(AuthorizationForm):
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, coverages=[], **kwargs)
        del self.fields["coverage"]


class EndForm(forms.Form):
    version = VersionField()
    end_date = date_field("Last day it covers", DateKind.COVERAGE)
    end_reason = forms.CharField(max_length=200, label="Why it ends")


class CertificationForm(forms.Form):
    episode = forms.TypedChoiceField(coerce=int, label="Episode")
    physician_name = forms.CharField(max_length=200, label="Physician")
    physician_npi = forms.CharField(max_length=10, min_length=10, label="Physician NPI")
    signed_on = date_field("Signed on", DateKind.HAPPENED)
    start_date = date_field("Services from", DateKind.COVERAGE)
    end_date = date_field(
        "Services through (if the physician set an end)", DateKind.COVERAGE, required=False
    )
    certified_weekly_minutes = WholeNumberField(
        label="Minutes a week certified", help_text="Medicare IOP: at least 540 (9 hours)"
    )
    interval = forms.ChoiceField(
        choices=BLANK + list(RecertificationInterval.choices),
        label="Recertification counted as",
        help_text="The sources word 'every other month' two ways: choose your clinic's reading",
    )

    def __init__(self, *args: Any, episodes: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["episode"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = episodes


class CertificationEditForm(CertificationForm):
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, episodes=[], **kwargs)
        del self.fields["episode"]


class ReviewPacketForm(forms.Form):
    reason_to_continue = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=4000,
        label="Reason to continue at this level of care",
        help_text="Printed on the packet for the payer's reviewer and kept with the print",
    )
