"""Forms for the schedule pages: they parse input only; services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.core.concurrency import VersionField
from openiop.core.dates import DateKind
from openiop.programs.choices import AgeBand, BlockKind, SessionKind, Weekday
from openiop.programs.models import Room, Site, Track
from openiop.ui.fields import WeekField, date_field

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class StaffChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class RoomChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    def label_from_instance(self, obj: Room) -> str:
        return f"{obj.name} (seats {obj.capacity})"


class TrackSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    inactive = forms.BooleanField(label="Include inactive", required=False)


class TrackCreateForm(forms.Form):
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none())
    name = forms.CharField(label="Name", max_length=200)
    age_band = forms.ChoiceField(label="Age band", choices=AgeBand.choices)
    capacity = forms.IntegerField(label="Capacity (patients at once)", min_value=1, max_value=500)
    weekly_minimum_minutes = forms.IntegerField(
        label="Weekly minimum (minutes)",
        required=False,
        min_value=0,
        max_value=3000,
        help_text="Leave empty for the age band's default: 540 adults, 360 adolescents and tweens.",
    )
    description = forms.CharField(
        label="Description", required=False, max_length=300, help_text="e.g. Mon-Thu 9:00-12:00"
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class BlockForm(forms.Form):
    weekday = forms.TypedChoiceField(label="Weekday", choices=Weekday.choices, coerce=int)
    start_time = forms.TimeField(label="Start (local time)", widget=TIME)
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=1, max_value=1440)
    kind = forms.ChoiceField(label="Kind", choices=BlockKind.choices)
    title = forms.CharField(label="Title", max_length=200)
    facilitator = StaffChoiceField(label="Facilitator", queryset=User.objects.none())
    room = RoomChoiceField(label="Room", queryset=Room.objects.none())

    def __init__(self, *args: Any, staff: Any, rooms: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = staff  # type: ignore[attr-defined]
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]


class BlockAddForm(BlockForm):
    valid_from = date_field("First date", DateKind.PLANNED)


class SeriesForm(BlockForm):
    effective_date = date_field(
        "Takes effect on",
        DateKind.PLANNED,
        help_text="Sessions from this date on follow the change; earlier ones stay as they were.",
    )
    field_order = ["effective_date"]


class CurriculumForm(forms.Form):
    topics = forms.CharField(
        label="Weekly topics",
        widget=forms.Textarea(attrs={"rows": 10, "cols": 70}),
        help_text="One week per line, in order: topic | modality (e.g. Cognitive distortions | CBT).",
    )

    def clean_topics(self) -> list[tuple[str, str]]:
        lines = [line.strip() for line in self.cleaned_data["topics"].splitlines()]
        out: list[tuple[str, str]] = []
        for line in lines:
            if not line:
                continue
            topic, _, modality = line.partition("|")
            out.append((topic.strip(), modality.strip()))
        if not out:
            raise forms.ValidationError("Enter at least one weekly topic.")
        return out


class GenerateForm(forms.Form):
    start = date_field("From", DateKind.PLANNED)
    end = date_field("To (included)", DateKind.PLANNED)


class ScheduleFilterForm(forms.Form):
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none(), required=False)
    week = WeekField(label="Week", required=False)
    date = date_field("or a date", DateKind.SEARCH, required=False)

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["site"].empty_label = None  # type: ignore[attr-defined]


class VersionedForm(forms.Form):
    version = VersionField()


class MoveForm(VersionedForm):
    date = date_field("New date", DateKind.PLANNED)
    start_time = forms.TimeField(label="New start (local time)", widget=TIME)
    room = RoomChoiceField(label="Room", queryset=Room.objects.none(), required=False)

    def __init__(self, *args: Any, rooms: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]


class ReassignForm(VersionedForm):
    facilitator = StaffChoiceField(label="Facilitator", queryset=User.objects.none())

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = staff  # type: ignore[attr-defined]


class CancelForm(VersionedForm):
    reason = forms.CharField(label="Reason", max_length=200)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ClosureForm(forms.Form):
    date = date_field("Date", DateKind.PLANNED)
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        required=False,
        empty_label="Every site",
    )
    name = forms.CharField(label="Name", max_length=200, help_text="e.g. Thanksgiving Day")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class AppointmentForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            (k.value, k.label)
            for k in (SessionKind.INDIVIDUAL, SessionKind.FAMILY, SessionKind.MEDICATION_MANAGEMENT)
        ],
    )
    facilitator = StaffChoiceField(
        label="Clinician or prescriber",
        queryset=User.objects.none(),
        help_text="A medication-management visit is with a prescriber.",
    )
    date = date_field("Date", DateKind.PLANNED)
    start_time = forms.TimeField(label="Start (local time)", widget=TIME)
    duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=1, max_value=1440, initial=50
    )
    room = RoomChoiceField(
        label="Room",
        queryset=Room.objects.none(),
        required=False,
        empty_label="No room (telehealth)",
    )
    title = forms.CharField(label="Title", max_length=200, required=False)

    def __init__(self, *args: Any, staff: Any, rooms: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = staff  # type: ignore[attr-defined]
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]


class EnrollForm(forms.Form):
    track = forms.ModelChoiceField(label="Track", queryset=Track.objects.none())
    start_date = date_field("First day", DateKind.PLANNED)

    def __init__(self, *args: Any, tracks: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = tracks  # type: ignore[attr-defined]


class EnrollmentEndForm(forms.Form):
    end_date = date_field("Last day", DateKind.PLANNED)
    reason = forms.CharField(label="Reason", max_length=200)
