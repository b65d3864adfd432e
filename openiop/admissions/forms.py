"""Forms that parse admissions input. Rules live in services and domain; these only read input."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.admissions.choices import (
    AgeGroup,
    ForWhom,
    InquiryChannel,
    Motivation,
    Urgency,
)
from openiop.admissions.domain import asam, pipeline
from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.episodes.choices import LevelOfCare, ReferralSource, TreatmentFocus
from openiop.measures.domain import cssrs
from openiop.patients.choices import Sex
from openiop.ui.fields import date_field

YES_NO = [("yes", "Yes"), ("no", "No")]


class InquiryForm(forms.Form):
    """Staff record a call, text, web form or referral."""

    channel = forms.ChoiceField(choices=InquiryChannel.choices, initial=InquiryChannel.CALL)
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    referral_detail = forms.CharField(
        required=False, max_length=200, help_text="The unit, practice or court that referred"
    )
    for_whom = forms.ChoiceField(label="Who is it for", choices=ForWhom.choices)
    caller_name = forms.CharField(required=False, max_length=200, label="Caller's name")
    caller_relationship = forms.CharField(
        required=False, max_length=60, label="Caller's relationship to the person"
    )
    first_name = forms.CharField(max_length=100, label="First name (person needing help)")
    last_name = forms.CharField(max_length=100, label="Last name")
    date_of_birth = date_field("Date of birth", DateKind.BIRTH, required=False)
    phone = forms.CharField(required=False, max_length=30)
    email = forms.EmailField(required=False, max_length=200)
    concerns = forms.ChoiceField(label="Concerns", choices=TreatmentFocus.choices)
    age_group = forms.ChoiceField(label="Adult or adolescent", choices=AgeGroup.choices)
    urgency = forms.ChoiceField(choices=Urgency.choices)
    insurance_name = forms.CharField(required=False, max_length=120, label="Insurance (if known)")
    insurance_member_id = forms.CharField(required=False, max_length=60, label="Member ID")
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea({"rows": 3}))


PUBLIC_CONCERNS = [
    ("mental_health", "Mental health"),
    ("substance_use", "Alcohol or drug use"),
    ("co_occurring", "Both"),
]


class PublicInquiryForm(forms.Form):
    """The public web form. `website` is a bot trap: hidden from people, filled by bots."""

    for_whom = forms.ChoiceField(
        label="Who needs help?",
        choices=[("self", "Me"), ("someone_else", "Someone I care about")],
        widget=forms.RadioSelect,
    )
    caller_name = forms.CharField(
        required=False, max_length=200, label="Your name (if asking for someone else)"
    )
    first_name = forms.CharField(max_length=100, label="First name of the person needing help")
    last_name = forms.CharField(max_length=100, label="Last name")
    date_of_birth = date_field("Date of birth", DateKind.BIRTH, required=False)
    phone = forms.CharField(required=False, max_length=30, label="Phone")
    email = forms.EmailField(required=False, max_length=200, label="Email")
    concerns = forms.ChoiceField(label="What is it about?", choices=PUBLIC_CONCERNS)
    age_group = forms.ChoiceField(
        label="Age", choices=[("adult", "18 or older"), ("adolescent", "Under 18")]
    )
    insurance_name = forms.CharField(required=False, max_length=120, label="Insurance (if any)")
    notes = forms.CharField(
        required=False,
        max_length=1000,
        label="Anything you want us to know",
        widget=forms.Textarea({"rows": 3}),
    )
    website = forms.CharField(
        required=False,
        max_length=200,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data.get("phone", "")
        if phone and not all(ch.isdigit() or ch in " +-().ext" for ch in phone):
            raise forms.ValidationError("Use digits, spaces and + - ( ) only.")
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("phone") and not data.get("email") and not self.errors:
            raise forms.ValidationError("Give a phone number or an email so we can reach you.")
        return data


class FollowUpForm(forms.Form):
    version = VersionField()
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    next_action = forms.CharField(required=False, max_length=200)
    next_action_date = date_field("Next action date", DateKind.PLANNED, required=False)

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff  # type: ignore[attr-defined]


class MoveForm(forms.Form):
    """Only the moves the pipeline allows from the card's stage; nothing chosen at first, so a
    careless click never closes an inquiry."""

    to_stage = forms.ChoiceField(label="Move to")
    note = forms.CharField(required=False, max_length=500, label="Why")

    def __init__(self, *args: Any, stage: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [  # type: ignore[attr-defined]
            ("", "Choose a stage…"),
            *((s, pipeline.STAGE_LABELS[s]) for s in pipeline.manual_moves(stage)),
        ]


class PrescreenForm(forms.Form):
    needs_24h_supervision = forms.ChoiceField(
        label="Needs 24-hour supervision?", choices=YES_NO, widget=forms.RadioSelect
    )
    needs_medical_withdrawal = forms.ChoiceField(
        label="Needs medically supervised withdrawal?", choices=YES_NO, widget=forms.RadioSelect
    )
    safe_home = forms.ChoiceField(
        label="Has a safe home?", choices=YES_NO, widget=forms.RadioSelect
    )
    substance_free_home = forms.ChoiceField(
        label="Is the home substance-free?", choices=YES_NO, widget=forms.RadioSelect
    )
    outpatient_not_enough = forms.ChoiceField(
        label="Is outpatient care alone not enough?", choices=YES_NO, widget=forms.RadioSelect
    )
    can_attend = forms.ChoiceField(
        label="Able to attend several days a week around work or school?",
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    motivation = forms.ChoiceField(choices=Motivation.choices, widget=forms.RadioSelect)
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in cssrs.ITEMS:
            self.fields[f"cssrs_{item.number}"] = forms.ChoiceField(
                label=f"C-SSRS {item.number}. {item.text}",
                choices=YES_NO,
                widget=forms.RadioSelect,
                required=item.number not in (3, 4, 5, 7),
                initial="no",
            )

    def cssrs_answers(self) -> list[int]:
        return [1 if self.cleaned_data.get(f"cssrs_{n}") == "yes" else 0 for n in range(1, 8)]

    def yes(self, name: str) -> bool:
        answer: str = self.cleaned_data[name]
        return answer == "yes"


class ScheduleForm(forms.Form):
    on = date_field("Assessment date", DateKind.PLANNED)


class AssessmentForm(forms.Form):
    version = VersionField(required=False)
    edition = forms.ChoiceField(
        label="ASAM Criteria edition", choices=[("3", "3rd edition"), ("4", "4th edition")]
    )

    def __init__(self, *args: Any, edition: str = "3", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = asam.DIMENSION_NAMES[asam.Edition(edition)]
        for d in asam.DIMENSIONS:
            self.fields[f"d{d}_rating"] = forms.TypedChoiceField(
                label=f"Dimension {d}: {names[d]} (0-4)",
                choices=[(r, f"{r} {asam.RATING_LABELS[r]}") for r in asam.RATINGS],
                coerce=int,
            )
            self.fields[f"d{d}_notes"] = forms.CharField(
                label=f"Dimension {d} notes",
                required=False,
                max_length=2000,
                widget=forms.Textarea({"rows": 2}),
            )

    def ratings(self) -> list[asam.DimensionRating]:
        return [
            asam.DimensionRating(
                dimension=d,
                rating=self.cleaned_data[f"d{d}_rating"],
                notes=self.cleaned_data[f"d{d}_notes"],
            )
            for d in asam.DIMENSIONS
        ]


class DecideForm(forms.Form):
    version = VersionField()
    chosen_level = forms.ChoiceField(label="Level of care chosen", choices=LevelOfCare.choices)

    def __init__(self, *args: Any, edition: str = "3", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The levels as the assessment's edition names them (4th: 2.5 is high-intensity outpatient).
        self.fields["chosen_level"].choices = [  # type: ignore[attr-defined]
            (value, asam.level_name(value, edition)) for value in LevelOfCare.values
        ]

    justification = forms.CharField(
        required=False,
        max_length=2000,
        label="Justification (required when overriding)",
        widget=forms.Textarea({"rows": 3}),
    )


class AdmitForm(forms.Form):
    track: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)
    date_of_birth = date_field("Date of birth", DateKind.BIRTH, required=False)
    sex = forms.ChoiceField(choices=Sex.choices, label="Sex assigned at birth")

    def __init__(self, *args: Any, tracks: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = tracks  # type: ignore[attr-defined]


class DocumentDetailsForm(forms.Form):
    version = VersionField()

    def __init__(self, *args: Any, names: tuple[str, ...], labels: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in names:
            self.fields[name] = forms.CharField(label=labels[name], max_length=500)


class SignForm(forms.Form):
    version = VersionField()
    signed_name = forms.CharField(max_length=200, label="Typed full name of the signer")
    signer_relationship = forms.CharField(
        max_length=60, required=False, label="Signing as (leave empty when the patient signs)"
    )
    signature_png = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200_000)


class TaskDoneForm(forms.Form):
    outcome = forms.CharField(
        max_length=500, label="What was done", widget=forms.Textarea({"rows": 2})
    )
