"""Forms that parse patient input. Rules live in services; these only read what was typed."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.patients.models import Patient, PatientContact
from openiop.patients.services import CONTACT_FIELDS, PATIENT_FIELDS
from openiop.programs.models import Site
from openiop.ui.fields import date_field


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search patients",
        required=False,
        max_length=100,
        help_text="Name (legal or preferred, part is enough), date of birth (YYYY-MM-DD or "
        "MM/DD/YYYY) or MRN",
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True}),
    )


class PatientForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in the stubs
    date_of_birth = date_field(
        "Date of birth", DateKind.BIRTH, help_text="YYYY-MM-DD or MM/DD/YYYY"
    )

    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)
        labels = {
            "legal_first_name": "Legal first name",
            "legal_last_name": "Legal last name",
            "preferred_name": "Preferred name",
            "address_line": "Street address",
            "state": "State (2 letters)",
        }

    def _post_clean(self) -> None:
        """Parse only: the service validates the record (no model validation here)."""


DIFFERENT_PERSON = "different_person"


class PatientCreateForm(PatientForm):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), help_text="Home site")

    class Meta(PatientForm.Meta):
        fields = ["site", *PATIENT_FIELDS]

    def __init__(self, *args: Any, sites: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.fields["site"].queryset = sites  # type: ignore[attr-defined]
            if len(sites) == 1 and not self.is_bound:
                self.initial["site"] = sites[0].pk
        if self.is_bound and self.data.get(DIFFERENT_PERSON):
            self.ask_different_person()

    def ask_different_person(self, error: str = "") -> None:
        """Add the checkbox that registers a patient despite a likely duplicate (unticked until
        the user ticks it), with `error` beside it."""
        self.fields[DIFFERENT_PERSON] = forms.BooleanField(
            required=False,
            label="Register anyway: this is a different person",
            help_text="Tick only after checking the likely duplicates above.",
        )
        if error:
            self.add_error(DIFFERENT_PERSON, error)


class PatientEditForm(PatientForm):
    version = VersionField()

    class Meta(PatientForm.Meta):
        pass


class ContactForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in the stubs
    class Meta:
        model = PatientContact
        fields = list(CONTACT_FIELDS)
        labels = {
            "is_emergency_contact": "Emergency contact",
            "is_legal_guardian": "Legal guardian (may consent for a minor)",
        }

    def _post_clean(self) -> None:
        """Parse only: the service validates the record."""
