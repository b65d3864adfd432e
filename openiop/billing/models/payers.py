"""Billing: payers, insurance coverages, benefits checks, the sliding fee configuration and
self-pay cost estimates (with their payment plan proposal).

Moved from admissions (issue 15) with their rows: the tables were renamed, not recreated (see
migrations 0001 and 0002). Coverages and estimates hang off an admissions inquiry.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.billing.choices import CoverageRank, PayerType, SubscriberRelationship
from openiop.core.models import TimeStamped

User = settings.AUTH_USER_MODEL


class Payer(TimeStamped):
    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="payers"
    )
    name = models.CharField(max_length=200)
    payer_id = models.CharField("Payer ID", max_length=40, blank=True)
    payer_type = models.CharField(max_length=20, choices=PayerType.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="payer_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


def in_force_q(first: dt.date, last: dt.date | None = None) -> Q:
    """Coverages in force on a day (`first`), or any day of first..last (both included), as a
    filter; an empty start or end date leaves that side open."""
    last = first if last is None else last
    return (Q(start_date__isnull=True) | Q(start_date__lte=last)) & (
        Q(end_date__isnull=True) | Q(end_date__gte=first)
    )


class CoverageQuerySet(models.QuerySet["Coverage"]):
    def in_force(self, first: dt.date, last: dt.date) -> CoverageQuerySet:
        """Coverages in force on any day from `first` to `last` (in_force_q)."""
        return self.filter(in_force_q(first, last))


class Coverage(TimeStamped):
    """Insurance of the person of an inquiry (and, after admission, of the patient)."""

    inquiry = models.ForeignKey(
        "admissions.Inquiry", on_delete=models.PROTECT, related_name="coverages"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coverages",
    )
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    rank = models.CharField(max_length=10, choices=CoverageRank.choices)
    member_id = models.CharField(max_length=60, blank=True)
    group_number = models.CharField(max_length=60, blank=True)
    subscriber_name = models.CharField(max_length=200, blank=True)
    subscriber_relationship = models.CharField(
        max_length=10, choices=SubscriberRelationship.choices, default=SubscriberRelationship.SELF
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    objects = CoverageQuerySet.as_manager()

    class Meta:
        ordering = ["rank", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="coverage_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rank_display()}: {self.payer}"


class BenefitsVerification(TimeStamped):
    """What the payer said about IOP benefits on one call or portal check; never edited."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="verifications")
    in_network = models.BooleanField()
    iop_covered = models.BooleanField()
    deductible_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    deductible_met_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    copay_per_day = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    coinsurance_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    prior_auth_required = models.BooleanField()
    days_allowed = models.PositiveIntegerField(null=True, blank=True)
    reference_number = models.CharField(max_length=60)
    payer_contact = models.CharField(max_length=120, blank=True, help_text="Who at the payer")
    verified_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"Benefits check {self.reference_number}"


class PovertyGuidelineYear(TimeStamped):
    """Configuration: one year's poverty guideline (e.g. HHS, 48 contiguous states)."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.CASCADE, related_name="poverty_guidelines"
    )
    year = models.PositiveIntegerField()
    label = models.CharField(max_length=100, default="48 contiguous states and DC")
    base_amount = models.DecimalField(max_digits=10, decimal_places=2)
    per_additional_person = models.DecimalField(max_digits=10, decimal_places=2)
    sliding_scale = models.JSONField(
        help_text="Bands [[max percent of poverty or null, patient share percent], ...]"
    )
    daily_rate = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="Self-pay daily rate of the program"
    )

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="poverty_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year} poverty guideline ({self.label})"


class CostEstimate(TimeStamped):
    """A self-pay estimate given to the person, with the figures it used; never edited."""

    inquiry = models.ForeignKey(
        "admissions.Inquiry", on_delete=models.PROTECT, related_name="estimates"
    )
    guideline_year = models.PositiveIntegerField()
    household_size = models.PositiveIntegerField()
    annual_income = models.DecimalField(max_digits=12, decimal_places=2)
    percent_of_poverty = models.DecimalField(max_digits=8, decimal_places=2)
    share_percent = models.DecimalField(max_digits=5, decimal_places=2)
    planned_days = models.PositiveIntegerField()
    daily_rate = models.DecimalField(max_digits=8, decimal_places=2)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    patient_amount = models.DecimalField(max_digits=12, decimal_places=2)
    installments = models.JSONField(default=list, help_text="[[YYYY-MM-DD, amount], ...]")
    prepared_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Estimate {self.pk}: {self.patient_amount}"
