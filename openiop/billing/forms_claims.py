"""Forms of the claim pages: they only read input (rules live in services and domain)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from django import forms

from openiop.core.concurrency import VersionField

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class BuildForm(forms.Form):
    """Build the claims of one month at the site shown."""

    period = forms.CharField(
        max_length=7, label="Month to build", help_text="YYYY-MM, e.g. 2026-10"
    )

    def clean_period(self) -> tuple[dt.date, dt.date]:
        text = self.cleaned_data["period"].strip()
        match = _MONTH.fullmatch(text)
        if match is None:
            raise forms.ValidationError("Give a month as YYYY-MM, e.g. 2026-10.")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise forms.ValidationError("Give a month from 2000-01 to 2100-12.")
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, 1), dt.date(year, month, last)


class ChargePostForm(forms.Form):
    """Post the charges of attended days (both dates included) at the site shown."""

    period_start = forms.DateField(
        label="Post charges from", widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label="Post charges to",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Days that are over: up to yesterday",
    )


class ClaimActionForm(forms.Form):
    """One action on a claim, at the version it was read at. Replace and void ask to confirm."""

    ACTIONS = (
        ("ready", "Mark ready"),
        ("scrub", "Scrub again"),
        ("reopen", "Back to draft"),
        ("export", "Export"),
        ("replacement", "Replace"),
        ("void", "Void"),
    )
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    version = VersionField()
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
