"""Forms parse input only; scores and rules live in the services and the domain."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.concurrency import VersionField
from openiop.measures.choices import INSTRUMENT_CHOICES, AlertAction, ResponseMode, RiskLevel
from openiop.measures.domain import Instrument


class AnswersForm(forms.Form):
    """One radio group per item (item_1 ... item_N), in the order of the published form.

    Every item is required; what the patient or staff member chose is kept when the form comes back
    with an error.
    """

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text}",
                choices=[(str(v), label) for v, label in item.choices()],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Answer question {item.number}."},
            )

    def answers(self) -> list[int]:
        return [int(self.cleaned_data[f"item_{item.number}"]) for item in self.instrument.items]

    def chosen(self, number: int) -> str:
        """The value chosen for item `number` as typed (for re-rendering), or ''."""
        if self.is_bound:
            return str(self.data.get(f"item_{number}", ""))
        return ""


class FlagForm(forms.Form):
    risk_level = forms.ChoiceField(
        label="Level of risk you judge",
        choices=[(v, label) for v, label in RiskLevel.choices if v != RiskLevel.UNASSESSED],
    )
    note = forms.CharField(
        label="What you saw or heard", widget=forms.Textarea(attrs={"rows": 3}), max_length=400
    )


def alert_actions(*, cssrs_after: bool) -> list[tuple[str, str]]:
    """The actions offered for an alert: "C-SSRS done" only when a C-SSRS was recorded since."""
    return [
        (value, label)
        for value, label in AlertAction.choices
        if cssrs_after or value != AlertAction.CSSRS_DONE
    ]


class AcknowledgeForm(forms.Form):
    action = forms.ChoiceField(label="Action taken", choices=(), widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, cssrs_after: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = alert_actions(cssrs_after=cssrs_after)  # type: ignore[attr-defined]


class LinkForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire", choices=INSTRUMENT_CHOICES)
    mode = forms.ChoiceField(
        label="Answered on",
        choices=[
            (ResponseMode.PATIENT_LINK.value, "The patient's phone"),
            (ResponseMode.TABLET.value, "A clinic tablet"),
        ],
    )
    hours_valid = forms.IntegerField(label="Link works for (hours)", min_value=1, max_value=336)


class SafetyPlanForm(forms.Form):
    """The six steps and reasons for living, in the patient's own words."""

    version = VersionField()
    warning_signs = forms.CharField(
        label="1. My warning signs",
        help_text="Thoughts, feelings, situations or behavior that tell me a crisis may be starting.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    internal_coping = forms.CharField(
        label="2. Things I can do on my own to take my mind off things",
        help_text="Activities that calm or comfort me, without contacting anyone.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    distractions = forms.CharField(
        label="3. People and places that help me think about something else",
        help_text="Names and phone numbers, and places I can go to be around others.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    people_to_ask = forms.CharField(
        label="4. People I can ask for help",
        help_text="Family members or friends I can tell that I am struggling, with phone numbers.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    professionals = forms.CharField(
        label="5. Professionals and services I can contact",
        help_text="My clinician and program, the nearest emergency room. 988 and the clinic's "
        "24/7 line are always printed on the plan.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    safe_environment = forms.CharField(
        label="6. Making my surroundings safer",
        help_text="What I will do, and who will help, to put distance between me and anything I "
        "could use to hurt myself (firearms, medicines, other means).",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reasons_for_living = forms.CharField(
        label="My reasons for living",
        help_text="The people, things and hopes that matter most to me.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SignPlanForm(forms.Form):
    version = VersionField()
    patient_agreed = forms.BooleanField(
        label="I wrote this plan with the patient and they agree to it",
        required=False,
    )


class ScheduleForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire", choices=INSTRUMENT_CHOICES)
    at_admission = forms.BooleanField(label="At admission", required=False)
    every_days = forms.IntegerField(
        label="Repeat every (days)",
        required=False,
        min_value=1,
        max_value=365,
        help_text="7 = weekly, 14 = every 2 weeks; empty for no repeat",
    )
    at_discharge = forms.BooleanField(label="At discharge", required=False)


class ProgramFilterForm(forms.Form):
    q = forms.CharField(label="Search by name or MRN", required=False, max_length=100)
    nonresponders = forms.BooleanField(label="Only non-responders at week 3", required=False)
