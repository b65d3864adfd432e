from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import Part2Marked, TimeStamped, Versioned
from openiop.episodes.choices import (
    OPEN_STATUSES,
    AlertKind,
    AlertStatus,
    DischargeReason,
    EpisodeStatus,
    LevelOfCare,
    ReferralSource,
    TreatmentFocus,
)
from openiop.episodes.domain import classify_level_change


class Episode(TimeStamped, Versioned):
    """An episode of care in the IOP, from admission (or waitlist) to discharge."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="episodes"
    )
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="episodes")
    focus = models.CharField(max_length=20, choices=TreatmentFocus.choices)
    part2_protected = models.BooleanField(
        default=False,
        editable=False,
        help_text="Substance-use records: protected by 42 CFR Part 2 from the start, never unset",
    )
    referral_source = models.CharField(max_length=20, choices=ReferralSource.choices)
    referral_detail = models.CharField(max_length=200, blank=True)
    admission_date = models.DateField()
    level_of_care = models.CharField(
        max_length=4, choices=LevelOfCare.choices, default=LevelOfCare.L2_1
    )
    status = models.CharField(
        max_length=20, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE
    )
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_episodes",
    )
    case_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_episodes",
    )
    discharge_date = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=20, choices=DischargeReason.choices, blank=True)
    discharge_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-admission_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="one_open_episode_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True)
                | Q(discharge_date__gte=models.F("admission_date")),
                name="discharge_not_before_admission",
            ),
        ]
        indexes = [models.Index(fields=["site", "status"], name="episode_site_status")]

    def __str__(self) -> str:
        return f"Episode {self.pk} ({self.get_status_display()}, admitted {self.admission_date})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class LevelOfCareChange(TimeStamped, Part2Marked):
    """The history of level changes: step-up and step-down with date and reason."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="level_changes")
    from_level = models.CharField(max_length=4, choices=LevelOfCare.choices, blank=True)
    to_level = models.CharField(max_length=4, choices=LevelOfCare.choices)
    effective_date = models.DateField()
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["effective_date", "id"]

    def __str__(self) -> str:
        return f"{self.from_level or '—'} → {self.to_level} on {self.effective_date}"

    @property
    def direction(self) -> str:
        """'opening' for the first row, else step_up / step_down / same (ASAM order)."""
        if not self.from_level:
            return "opening"
        return classify_level_change(self.from_level, self.to_level)


class Alert(TimeStamped, Part2Marked):
    """A clinical alert that staff must see (Today page) and acknowledge."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="alerts")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    message = models.CharField(max_length=500)
    dedupe_key = models.CharField(max_length=120, help_text="One alert per episode, kind and key")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "kind", "dedupe_key"], name="alert_dedupe")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="alert_status_created")]

    def __str__(self) -> str:
        return self.message
