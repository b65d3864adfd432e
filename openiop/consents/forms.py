"""Forms that read what staff typed from a signed consent; the rules live in consents.domain."""

from __future__ import annotations

from django import forms

from openiop.consents.choices import ExpiryEvent, Purpose, RecipientKind
from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.ui.fields import date_field


class ConsentForm(forms.Form):
    recipient_kind = forms.ChoiceField(label="To whom", choices=RecipientKind.choices)
    payer = forms.TypedChoiceField(
        label="Payer (when the recipient is a payer on file)",
        coerce=int,
        required=False,
        empty_value=None,
    )
    recipient_name = forms.CharField(
        label="Recipient's name (organization or person)", required=False, max_length=200
    )
    recipient_identifier = forms.CharField(
        label="API client id (when the recipient is an API client)",
        required=False,
        max_length=200,
    )
    purpose = forms.ChoiceField(label="Purpose", choices=Purpose.choices)
    information = forms.CharField(
        label="Information to be disclosed (specific and meaningful)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    effective_on = date_field("Takes effect on", DateKind.HAPPENED)
    expires_on = date_field("Expires on", DateKind.PLANNED, required=False)
    expiry_event = forms.ChoiceField(
        label="Or expires at", choices=ExpiryEvent.choices, required=False
    )
    signed_by_name = forms.CharField(label="Signed by", max_length=200)
    signed_by_relationship = forms.CharField(
        label="Signer is", max_length=60, initial="patient", help_text="patient, parent, guardian…"
    )
    signed_on = date_field("Signed on", DateKind.HAPPENED)

    def __init__(self, *args: object, payers: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["payer"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *payers]


class RevokeForm(forms.Form):
    note = forms.CharField(
        label="How the written revocation was received (e.g. signed letter dated …)",
        max_length=500,
    )
    version = VersionField()
