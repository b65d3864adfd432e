"""Forms that parse episode input. Rules live in services; these only read what was typed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django import forms
from django.db.models import QuerySet

from openiop.accounts.domain import ROLE_CAPS, Cap
from openiop.accounts.models import User
from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.episodes.choices import (
    DischargeReason,
    EpisodeStatus,
    LevelOfCare,
    ReferralSource,
    TreatmentFocus,
)
from openiop.programs.models import Site
from openiop.ui.fields import date_field

CLINICAL_ROLES = sorted(role.value for role, caps in ROLE_CAPS.items() if Cap.CLINICAL_VIEW in caps)


def clinical_staff(organization_id: int | None) -> QuerySet[User]:
    """Active staff who may be a primary clinician or case manager."""
    qs = User.objects.filter(is_active=True, role__in=CLINICAL_ROLES)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs.order_by("last_name", "first_name")


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.role_label})"


class EpisodeOpenForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    focus = forms.ChoiceField(label="Treatment focus", choices=TreatmentFocus.choices)
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    referral_detail = forms.CharField(
        required=False, max_length=200, help_text="Who referred, e.g. the unit or practice"
    )
    admission_date = date_field("Admission date", DateKind.PLANNED)
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
    effective_date = date_field("Effective from", DateKind.PLANNED)
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
    """The discharge, and a decision about each open safety alert (`alerts`, with the ids of those
    a C-SSRS followed in `cssrs_after`), plus who follows them up."""

    discharge_date = date_field("Discharge date", DateKind.PLANNED)
    reason = forms.ChoiceField(label="Reason (TEDS)", choices=DischargeReason.choices)
    note = forms.CharField(
        label="Discharge note", required=False, max_length=500, widget=forms.Textarea({"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        alerts: Sequence[Any] = (),
        cssrs_after: Collection[int] = (),
        **kwargs: Any,
    ) -> None:
        from openiop.measures.forms import alert_actions
        from openiop.measures.services import KEEP_OPEN

        super().__init__(*args, **kwargs)
        self.alerts = list(alerts)
        for alert in self.alerts:
            acknowledge = [
                (value, f"Acknowledge now: {label}")
                for value, label in alert_actions(cssrs_after=alert.pk in cssrs_after)
            ]
            self.fields[f"alert_{alert.pk}"] = forms.ChoiceField(
                label=f"Safety alert of {alert.created_at:%Y-%m-%d}: {alert.message}",
                choices=[
                    ("", "Choose what happens to this alert"),
                    *acknowledge,
                    (
                        KEEP_OPEN,
                        "Keep it open after discharge: it stays on the alert list, Today and "
                        "the chart until someone acknowledges it",
                    ),
                ],
                error_messages={"required": "Decide about this open safety alert."},
            )
        if self.alerts:
            self.fields["safety_note"] = forms.CharField(
                label="Who follows up the open safety alerts, and how",
                max_length=500,
                widget=forms.Textarea({"rows": 2}),
                error_messages={"required": "Say who follows up the open safety alerts and how."},
            )

    def decisions(self) -> dict[int, str]:
        data = getattr(self, "cleaned_data", {})
        return {a.pk: data[f"alert_{a.pk}"] for a in self.alerts if data.get(f"alert_{a.pk}")}


class AssignForm(VersionedForm):
    primary_clinician = StaffChoiceField(queryset=User.objects.none(), required=False)
    case_manager = StaffChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["primary_clinician"].queryset = staff  # type: ignore[attr-defined]
        self.fields["case_manager"].queryset = staff  # type: ignore[attr-defined]
