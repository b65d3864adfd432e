from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import Part2Marked, TimeStamped, Versioned
from openiop.treatment.domain import MODALITIES


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    SUPERSEDED = "superseded", "Superseded by a newer version"


class GoalStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    MET = "met", "Met"
    PARTIALLY_MET = "partially_met", "Partially met"
    NOT_MET = "not_met", "Not met"


class Modality(models.TextChoices):
    CBT = MODALITIES[0]
    DBT = MODALITIES[1]
    MI = MODALITIES[2]
    TSF = MODALITIES[3]
    FAMILY = MODALITIES[4]
    MAT = MODALITIES[5]
    CASE_MANAGEMENT = MODALITIES[6]


class TreatmentPlan(TimeStamped, Versioned, Part2Marked):
    """One version of an episode's treatment plan. Signed versions never change; an update is a
    new draft version that copies the last one (`previous`) and keeps it."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    number = models.PositiveIntegerField(help_text="1 for the first plan, 2 for its first update…")
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    strengths = models.TextField(blank=True, help_text="Strengths and preferences, in their words")
    discharge_criteria = models.TextField(
        blank=True, help_text="Discharge criteria discussed with the person"
    )
    review_summary = models.TextField(
        blank=True, help_text="For an update: progress since the last"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True, help_text="When the last signer signed")

    class Meta:
        ordering = ["episode", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "number"], name="plan_unique_number"),
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(status="draft"),
                name="plan_one_draft_per_episode",
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment plan v{self.number} ({self.get_status_display()})"

    @property
    def is_locked(self) -> bool:
        return self.status != PlanStatus.DRAFT


class PlanProblem(TimeStamped, Part2Marked):
    part2_episode_path = "plan__episode"
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="problems")
    position = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(max_length=300)
    icd10_code = models.CharField("ICD-10-CM code", max_length=10)
    patient_words = models.TextField(help_text="The problem in the patient's own words")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.description}"


class PlanGoal(TimeStamped, Part2Marked):
    part2_episode_path = "problem__plan__episode"
    problem = models.ForeignKey(PlanProblem, on_delete=models.CASCADE, related_name="goals")
    text = models.CharField(max_length=400)
    status = models.CharField(
        max_length=20, choices=GoalStatus.choices, default=GoalStatus.IN_PROGRESS
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text


class PlanObjective(TimeStamped, Part2Marked):
    part2_episode_path = "goal__problem__plan__episode"
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="objectives")
    text = models.CharField(max_length=400, help_text="Measurable: what, how much, by when")
    target_date = models.DateField()

    class Meta:
        ordering = ["target_date", "id"]

    def __str__(self) -> str:
        return self.text


class PlanIntervention(TimeStamped, Part2Marked):
    part2_episode_path = "goal__problem__plan__episode"
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="interventions")
    modality = models.CharField(max_length=20, choices=Modality.choices)
    description = models.CharField(max_length=300, blank=True)
    frequency = models.CharField(
        max_length=100, help_text="e.g. 3 groups a week, weekly individual"
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_modality_display()} · {self.frequency}"


class SignerRole(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    PATIENT = "patient", "Patient"
    GUARDIAN = "guardian", "Guardian"


class PlanSignature(TimeStamped, Part2Marked):
    """A signature on a plan version. The patient's and guardian's are witnessed by staff."""

    part2_episode_path = "plan__episode"

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="signatures")
    role = models.CharField(max_length=20, choices=SignerRole.choices)
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "role"], name="plan_signature_once_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.signer_name}"


# --- discharge -----------------------------------------------------------------------------------
class SummaryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class DischargeSummary(TimeStamped, Versioned, Part2Marked):
    """The discharge summary and aftercare plan of an episode: prefilled facts (a snapshot from the
    record, refreshed while a draft), the clinician's narrative and the aftercare plan."""

    episode = models.OneToOneField(
        "episodes.Episode", on_delete=models.PROTECT, related_name="discharge_summary"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="discharge_summaries"
    )
    status = models.CharField(
        max_length=20, choices=SummaryStatus.choices, default=SummaryStatus.DRAFT
    )
    facts = models.JSONField(default=dict, blank=True, help_text="Prefilled from the record")
    narrative = models.TextField(blank=True)
    next_level_of_care = models.CharField(max_length=200, blank=True)
    relapse_prevention = models.TextField(blank=True)
    crisis_resources = models.TextField(blank=True)
    medication_continuity = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    copy_given_at = models.DateTimeField(null=True, blank=True)
    copy_given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    copy_given_how = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name_plural = "discharge summaries"

    def __str__(self) -> str:
        return f"Discharge summary of episode {self.episode_id}"


class ReferralKind(models.TextChoices):
    THERAPIST = "therapist", "Outpatient therapist"
    PRESCRIBER = "prescriber", "Prescriber"
    SUPPORT_GROUP = "support_group", "Support group (incl. 12-step)"
    SOBER_LIVING = "sober_living", "Sober living"
    ALUMNI = "alumni", "Alumni group"
    OTHER = "other", "Other"


class AftercareReferral(TimeStamped, Part2Marked):
    part2_episode_path = "summary__episode"
    summary = models.ForeignKey(
        DischargeSummary, on_delete=models.CASCADE, related_name="referrals"
    )
    kind = models.CharField(max_length=20, choices=ReferralKind.choices)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=300, blank=True)
    hours = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"
