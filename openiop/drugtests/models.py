"""Drug and alcohol test orders, their results per analyte, the reconciliation flags for the
prescriber and the weekly random draws. Orders, results and flags are Part 2 records: each
carries `part2` from its episode (core.models.Part2Marked), set by the service that creates it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import Part2Marked, TimeStamped
from openiop.drugtests.domain import (
    ANALYTE_LABELS,
    FINDING_LABELS,
    VALIDITY_LABELS,
    Analyte,
    FindingKind,
    Validity,
)

ANALYTE_CHOICES = [(a.value, ANALYTE_LABELS[a]) for a in Analyte]
VALIDITY_CHOICES = [(v.value, VALIDITY_LABELS[v]) for v in Validity]


class TestKind(models.TextChoices):
    POC_CUP = "poc_cup", "Point-of-care urine cup"
    BREATHALYZER = "breathalyzer", "Breathalyzer"
    LAB_PANEL = "lab_panel", "Lab panel"


class OrderReason(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RANDOM = "random", "Random (weekly draw)"
    CLINICAL = "clinical", "Clinical reason"
    REPEAT = "repeat", "Repeat of an earlier test"


class OrderStatus(models.TextChoices):
    ORDERED = "ordered", "Ordered"
    RESULTED = "resulted", "Resulted"
    CANCELLED = "cancelled", "Cancelled"


class RandomDraw(TimeStamped):
    """One site's random draw for one week. The seed is kept here and in the audit entry, so the
    draw can be repeated (drugtests.domain.draw) but not foreseen by a patient."""

    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="+")
    week_start = models.DateField()
    seed = models.CharField(max_length=64)
    rate = models.DecimalField(max_digits=4, decimal_places=3)
    population = models.JSONField(default=list, help_text="The patient ids the draw was among")
    drawn = models.JSONField(default=list, help_text="The patient ids drawn")
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-week_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "week_start"], name="drugtest_one_draw_a_week")
        ]

    def __str__(self) -> str:
        return f"Random draw of the week of {self.week_start:%Y-%m-%d}"


class DrugTestOrder(TimeStamped, Part2Marked):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="drug_tests"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="drug_tests"
    )
    kind = models.CharField(max_length=20, choices=TestKind.choices)
    reason = models.CharField(max_length=20, choices=OrderReason.choices)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.ORDERED
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField()
    draw = models.ForeignKey(
        RandomDraw, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    accession = models.CharField(max_length=60, blank=True, help_text="The lab's specimen number")
    collected_at = models.DateTimeField(null=True, blank=True)
    collected_time_known = models.BooleanField(
        default=True,
        db_default=True,
        help_text="False when only the day is known (a lab file gives the date of collection): "
        "collected_at is then noon at the site and pages show the day alone",
    )
    observed = models.BooleanField(default=False, help_text="Collection observed by staff")
    validity = models.CharField(max_length=20, choices=VALIDITY_CHOICES, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)
    resulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_lab_file = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "accession"],
                condition=~Q(accession=""),
                name="drugtest_accession_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ordered {self.ordered_at:%Y-%m-%d}"


class Outcome(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


class DrugTestResult(TimeStamped, Part2Marked):
    part2_episode_path = "order__episode"

    order = models.ForeignKey(DrugTestOrder, on_delete=models.CASCADE, related_name="results")
    analyte = models.CharField(max_length=30, choices=ANALYTE_CHOICES)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)

    class Meta:
        ordering = ["analyte", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "analyte"], name="drugtest_result_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_analyte_display()}: {self.get_outcome_display()}"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESPONDED = "responded", "Responded"


class ResponseKind(models.TextChoices):
    DISCUSSION = "discussion", "Discussed with the patient"
    PLAN_CHANGE = "plan_change", "Treatment or medication plan changed"
    REPEAT_TEST = "repeat_test", "Repeat test ordered"
    NO_ACTION = "no_action", "Reviewed, nothing to change (explained)"


class ReconciliationFlag(TimeStamped, Part2Marked):
    """A result the prescriber looks at (drugtests.domain.reconcile), and what they did about it.
    Never a discharge: the response is a conversation, a plan change or a repeat test."""

    part2_episode_path = "order__episode"

    order = models.ForeignKey(DrugTestOrder, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(
        max_length=20, choices=[(k.value, FINDING_LABELS[k]) for k in FindingKind]
    )
    analyte = models.CharField(max_length=30, choices=ANALYTE_CHOICES, blank=True)
    message = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    response_kind = models.CharField(max_length=20, choices=ResponseKind.choices, blank=True)
    response_text = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message[:60]
