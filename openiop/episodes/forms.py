"""Forms that parse episode input. Rules live in services; these only read what was typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from openiop.accounts.domain import ROLE_CAPS, Cap
from openiop.accounts.models import User
from openiop.core.concurrency import VersionField
from openiop.episodes.choices import (
    DischargeReason,
    EpisodeStatus,
    LevelOfCare,
    ReferralSource,
    TreatmentFocus,
)
from openiop.programs.models import Site

DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
CLINICAL_ROLES = sorted(role.value for role, caps in ROLE_CAPS.items() if Cap.CLINICAL_VIEW in caps)


def _date_field(label: str, **kw: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kw,
    )


def clinical_staff(organization_id: int | None) -> QuerySet[User]:
    """Active staff who may be a primary clinician or case manager."""
    qs = User.objects.filter(is_active=True, role__in=CLINICAL_ROLES)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs.order_by("last_name", "first_name")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.role_label})"


class EpisodeOpenForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    focus = forms.ChoiceField(label="Treatment focus", choices=TreatmentFocus.choices)
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    referral_detail = forms.CharField(
        required=False, max_length=200, help_text="Who referred, e.g. the unit or practice"
    )
    admission_date = _date_field("Admission date")
    level_of_care = forms.ChoiceField(
        label="Level of care (ASAM)", choices=LevelOfCare.choices, initial=LevelOfCare.L2_1
    )
    status = forms.ChoiceField(
        choices=[
            (EpisodeStatus.ACTIVE.value, EpisodeStatus.ACTIVE.label),
            (EpisodeStatus.WAITLISTED.value, EpisodeStatus.WAITLISTED.label),
        ],
        initial=EpisodeStatus.ACTIVE,
    )
    primary_clinician = StaffChoiceField(queryset=User.objects.none(), required=False)
    case_manager = StaffChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, sites: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["primary_clinician"].queryset = staff  # type: ignore[attr-defined]
        self.fields["case_manager"].queryset = staff  # type: ignore[attr-defined]


class VersionedForm(forms.Form):
    version = VersionField()


class ChangeLevelForm(VersionedForm):
    to_level = forms.ChoiceField(label="New level of care (ASAM)", choices=LevelOfCare.choices)
    effective_date = _date_field("Effective from")
    reason = forms.CharField(
        label="Clinical reason", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class SetStatusForm(VersionedForm):
    status = forms.ChoiceField(label="New status", choices=())

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(s, EpisodeStatus(s).label) for s in allowed]
        self.fields["status"].choices = choices  # type: ignore[attr-defined]


class DischargeForm(VersionedForm):
    discharge_date = _date_field("Discharge date")
    reason = forms.ChoiceField(label="Reason (TEDS)", choices=DischargeReason.choices)
    note = forms.CharField(
        label="Discharge note", required=False, max_length=500, widget=forms.Textarea({"rows": 3})
    )


class AssignForm(VersionedForm):
    primary_clinician = StaffChoiceField(queryset=User.objects.none(), required=False)
    case_manager = StaffChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["primary_clinician"].queryset = staff  # type: ignore[attr-defined]
        self.fields["case_manager"].queryset = staff  # type: ignore[attr-defined]
