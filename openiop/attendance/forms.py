from __future__ import annotations

from django import forms

from openiop.attendance.choices import AttendanceStatus
from openiop.core.concurrency import VersionField
from openiop.ui.fields import IdField, WeekField


class AttendanceRowForm(forms.Form):
    episode_id = IdField(widget=forms.HiddenInput)
    # The version the page showed: 0 for a row not recorded yet, so a second first write from a
    # page loaded before the first is a conflict too. Required: without it nothing is saved.
    version = VersionField()
    status = forms.ChoiceField(choices=AttendanceStatus.choices)
    minutes_attended = forms.IntegerField(
        label="Minutes", required=False, min_value=0, max_value=24 * 60
    )
    comment = forms.CharField(required=False, max_length=300)


class BelowHoursFilterForm(forms.Form):
    q = forms.CharField(label="Patient name or MRN", required=False, max_length=100)
    week = WeekField(label="Week", required=False)
