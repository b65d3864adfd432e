"""The medication list, allergies, MAT episodes and the doses given in the clinic.

Every row is a record of substance-use care's program: it carries `part2` from its episode
(core.models.Part2Marked), set by the one service that creates it. Prescriptions are recorded,
never sent: there is no electronic prescribing here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import Part2Marked, TimeStamped
from openiop.medications.domain import MAT_LABELS, MatKind


class Route(models.TextChoices):
    ORAL = "oral", "By mouth"
    SUBLINGUAL = "sublingual", "Under the tongue"
    BUCCAL = "buccal", "Buccal film"
    INJECTION_IM = "im", "Injection (intramuscular)"
    INJECTION_SC = "sc", "Injection (subcutaneous)"
    TRANSDERMAL = "transdermal", "Skin patch"
    NASAL = "nasal", "Nasal"
    INHALED = "inhaled", "Inhaled"
    OTHER = "other", "Other"


class MedicationSource(models.TextChoices):
    HERE = "here", "Prescribed here"
    ELSEWHERE = "elsewhere", "Prescribed elsewhere"
    PATIENT_REPORTED = "patient_reported", "Reported by the patient"


class Medication(TimeStamped, Part2Marked):
    """One medication on a patient's list (recorded within an episode)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="medications"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="medications"
    )
    catalog_key = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200)
    rxnorm_code = models.CharField("RxNorm code", max_length=20, blank=True)
    analyte = models.CharField(
        max_length=40, blank=True, help_text="What a drug test reports for it (blank: none)"
    )
    dose = models.CharField(max_length=100)
    route = models.CharField(max_length=20, choices=Route.choices)
    frequency = models.CharField(max_length=100)
    prescriber = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, choices=MedicationSource.choices)
    start_date = models.DateField(null=True, blank=True)
    stop_date = models.DateField(null=True, blank=True)
    stop_reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["patient", "stop_date"], name="med_patient_stop")]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}"

    @property
    def is_active(self) -> bool:
        return self.stop_date is None


class Allergy(TimeStamped, Part2Marked):
    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        UNKNOWN = "unknown", "Not known"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="allergies"
    )
    episode = models.ForeignKey("episodes.Episode", on_delete=models.PROTECT, related_name="+")
    substance = models.CharField(max_length=200)
    reaction = models.CharField(max_length=300, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default="unknown")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["substance", "id"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


class MatEpisode(TimeStamped, Part2Marked):
    """A course of medication for addiction treatment, with the doses given in the clinic."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="mat_episodes"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="mat_episodes"
    )
    kind = models.CharField(max_length=30, choices=[(k.value, MAT_LABELS[k]) for k in MatKind])
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, null=True, blank=True, related_name="mat_episodes"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)
    dispensing_program = models.CharField(
        max_length=200, blank=True, help_text="For methadone: the opioid treatment program"
    )
    notes = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=Q(ended_on__isnull=True),
                name="mat_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.started_on:%Y-%m-%d}"


class InjectionSite(models.TextChoices):
    LEFT_GLUTEAL = "left_gluteal", "Left gluteal"
    RIGHT_GLUTEAL = "right_gluteal", "Right gluteal"
    ABDOMEN = "abdomen", "Abdomen (subcutaneous)"
    OTHER = "other", "Other"


class DoseAdministration(TimeStamped, Part2Marked):
    """A dose given in the clinic by a nurse: who, when, dose, lot; the site of an injection."""

    part2_episode_path = "mat__episode"

    mat = models.ForeignKey(MatEpisode, on_delete=models.PROTECT, related_name="doses")
    given_at = models.DateTimeField()
    dose = models.CharField(max_length=100)
    lot = models.CharField(max_length=60, blank=True)
    injection_site = models.CharField(max_length=20, choices=InjectionSite.choices, blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dose} at {self.given_at:%Y-%m-%d %H:%M}"


class AdherenceNote(TimeStamped, Part2Marked):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("episodes.Episode", on_delete=models.PROTECT, related_name="+")
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, null=True, blank=True, related_name="adherence"
    )
    text = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:40]
