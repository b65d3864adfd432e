"""Questionnaire responses (raw answers kept, scores computed on the server), schedules per track,
patient links, safety alerts and safety plans."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import Part2Marked, TimeStamped, Versioned
from openiop.measures.choices import (
    INSTRUMENT_CHOICES,
    AlertAction,
    AlertReason,
    AlertStatus,
    LinkPurpose,
    PlanStatus,
    ResponseMode,
    RiskLevel,
)
from openiop.measures.domain import REGISTRY, Instrument
from openiop.measures.domain.base import flag_label


class MeasurementSchedule(TimeStamped):
    """When a track gives an instrument: at admission, every N days, at discharge."""

    track = models.ForeignKey(
        "programs.Track", on_delete=models.CASCADE, related_name="measurement_schedules"
    )
    instrument = models.CharField(max_length=20, choices=INSTRUMENT_CHOICES)
    at_admission = models.BooleanField(default=True)
    every_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Repeat every N days (7 weekly, 14 every 2 weeks); empty: no repeat",
    )
    at_discharge = models.BooleanField(default=False)

    class Meta:
        ordering = ["track", "instrument"]
        constraints = [
            models.UniqueConstraint(fields=["track", "instrument"], name="schedule_once_per_track"),
            models.CheckConstraint(
                condition=Q(every_days__isnull=True) | Q(every_days__gte=1),
                name="schedule_every_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} on {self.track_id}"


class PatientLink(TimeStamped, Part2Marked):
    """A single-use, expiring link for a patient: one questionnaire, or their signed safety plan.

    Only the SHA-256 of the token is stored; the token itself is shown once to the clinician.
    A questionnaire link is spent when the answers are submitted; a safety-plan link may be opened
    again until it expires (a plan is for reading in a hard moment).
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    episode = models.ForeignKey("episodes.Episode", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20, choices=LinkPurpose.choices)
    instrument = models.CharField(max_length=20, choices=INSTRUMENT_CHOICES, blank=True)
    mode = models.CharField(
        max_length=20, choices=ResponseMode.choices, default=ResponseMode.PATIENT_LINK
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link {self.pk}"


class Response(TimeStamped, Part2Marked):
    """One completed questionnaire. Raw answers are the record; the score is derived on the server."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measure_responses"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="measure_responses"
    )
    instrument = models.CharField(max_length=20, choices=INSTRUMENT_CHOICES)
    instrument_version = models.CharField(max_length=20)
    answers = models.JSONField(help_text="Raw answers in the order of the published form")
    sex_used = models.CharField(max_length=10, blank=True, help_text="For sex-specific cut-offs")
    mode = models.CharField(max_length=20, choices=ResponseMode.choices)
    timeframe = models.CharField(max_length=200, blank=True)
    administered_at = models.DateTimeField()
    total = models.IntegerField(null=True, blank=True)
    band = models.CharField(max_length=30, blank=True)
    flags = models.JSONField(default=list)
    subscales = models.JSONField(default=dict)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    link = models.OneToOneField(
        PatientLink, on_delete=models.PROTECT, null=True, blank=True, related_name="response"
    )

    class Meta:
        ordering = ["administered_at", "id"]
        indexes = [
            models.Index(
                fields=["episode", "instrument", "administered_at"], name="response_episode_instr"
            ),
            # A search by instrument across the network (FHIR Observation?code=...), read in
            # its order: a page of it costs the same at 1,000 and at 20,000 patients.
            models.Index(fields=["instrument", "administered_at", "id"], name="response_instr_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} {self.total} ({self.band}) on {self.administered_at:%Y-%m-%d}"

    @property
    def definition(self) -> Instrument:
        return REGISTRY[self.instrument]

    @property
    def band_label(self) -> str:
        return self.band.replace("_", " ") if self.band else "—"

    @property
    def flag_labels(self) -> list[str]:
        """The flags in words (item9_positive -> "Item 9 positive: thoughts of death or ...")."""
        return [flag_label(f) for f in self.flags]


class SafetyAlert(TimeStamped, Part2Marked):
    """A sign of suicide risk that a named clinician must acknowledge, saying what they did."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="safety_alerts"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="safety_alerts"
    )
    reason = models.CharField(max_length=20, choices=AlertReason.choices)
    risk_level = models.CharField(max_length=20, choices=RiskLevel.choices)
    message = models.CharField(max_length=500)
    response = models.OneToOneField(
        Response, on_delete=models.PROTECT, null=True, blank=True, related_name="safety_alert"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_safety_alerts",
    )
    owner_basis = models.CharField(
        max_length=40, blank=True, help_text="primary clinician / on call"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action_taken = models.CharField(max_length=30, choices=AlertAction.choices, blank=True)
    action_note = models.CharField(max_length=1000, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="safety_alert_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=AlertStatus.OPEN) | ~Q(action_taken=""),
                name="acknowledged_alert_has_action",
            )
        ]

    def __str__(self) -> str:
        return self.message


class RiskAssessment(TimeStamped, Part2Marked):
    """A clinician's own judgement of suicide risk, with what it rests on.

    It sets the level in the patient header like a C-SSRS does; at moderate or high it also opens a
    safety alert (linked here).
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="risk_assessments"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="risk_assessments"
    )
    risk_level = models.CharField(max_length=20, choices=RiskLevel.choices)
    note = models.CharField(max_length=400)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    alert = models.OneToOneField(
        SafetyAlert, on_delete=models.PROTECT, null=True, blank=True, related_name="assessment"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_risk_level_display()} risk ({self.created_at:%Y-%m-%d})"


class SafetyPlan(TimeStamped, Versioned, Part2Marked):
    """A six-step safety plan with reasons for living, in the patient's words.

    Numbered per patient (plan 1, 2, ...). A draft may be edited; once signed it is locked and a change
    is a new numbered plan that starts as a copy.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="safety_plans"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="safety_plans"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    warning_signs = models.TextField(blank=True)
    internal_coping = models.TextField(blank=True)
    distractions = models.TextField(blank=True)
    people_to_ask = models.TextField(blank=True)
    professionals = models.TextField(blank=True)
    safe_environment = models.TextField(blank=True)
    reasons_for_living = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    patient_agreed = models.BooleanField(default=False)

    class Meta:
        ordering = ["patient", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "number"], name="safety_plan_number"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status=PlanStatus.DRAFT),
                name="one_draft_safety_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Safety plan {self.number} ({self.get_status_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == PlanStatus.SIGNED


class SiteSafetySettings(TimeStamped):
    """Per site: clinic hours (alerts go to the on-call clinician outside them), escalation time."""

    site = models.OneToOneField(
        "programs.Site", on_delete=models.CASCADE, related_name="safety_settings"
    )
    opens_at = models.TimeField(default=dt.time(8, 0))
    closes_at = models.TimeField(default=dt.time(18, 0))
    open_weekdays = models.CharField(
        max_length=20, default="0,1,2,3,4", help_text="Weekday numbers, Monday=0"
    )
    on_call = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    director = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalation_minutes = models.PositiveIntegerField(default=60)

    class Meta:
        verbose_name_plural = "site safety settings"

    def __str__(self) -> str:
        return f"Safety settings for site {self.site_id}"

    def weekdays(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.open_weekdays.split(",") if d.strip())


__all__ = ["AlertAction", "AlertReason", "AlertStatus", "LinkPurpose", "ResponseMode"]
