"""Charges posted from attendance, their adjustments, and the attended days left unbilled with
why (issue 16). Written only by billing.services.charges.charges_post.

A charge is one claim line of one patient: payer, program (track), date, code, modifiers and
revenue code, with its units and amount, and the attendances it bills. Once posted it is never
edited: a correction to attendance adds a ChargeAdjustment (ADD, VOID or CHANGE, from
billing.domain.charges.adjustments_for); a VOID also sets the charge's status to voided. What a
charge comes to now is its last adjustment's new units and amount, or its own without one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.billing.choices import AdjustmentKind, ChargeStatus, ClaimForm
from openiop.core.models import TimeStamped, Versioned

User = settings.AUTH_USER_MODEL


class Charge(TimeStamped, Versioned):
    """One claim line. `coverage` empty: self-pay (billed under the organization's self-pay
    payer). `attendance_ids` / `session_ids`: the attendances (and their sessions) it bills.
    `condition_codes` (e.g. "92") and `medicare_tier` go on a Medicare IOP claim; `basis` says
    why the line was charged, in words."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="charges"
    )
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="charges")
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="charges"
    )
    enrollment = models.ForeignKey(
        "programs.Enrollment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
    )
    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="charges")
    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="charges")
    coverage = models.ForeignKey(
        "billing.Coverage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
    )
    service_date = models.DateField()
    code = models.CharField(max_length=5)
    modifiers = models.CharField(max_length=11, blank=True)
    revenue_code = models.CharField(max_length=4, blank=True)
    units = models.PositiveIntegerField()
    rate = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    claim_form = models.CharField(max_length=4, choices=ClaimForm.choices)
    condition_codes = models.CharField(max_length=40, blank=True)
    medicare_tier = models.CharField(max_length=30, blank=True)
    basis = models.CharField(max_length=500, blank=True)
    attendance_ids = models.JSONField(default=list)
    session_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.OPEN
    )
    posted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["service_date", "code", "id"]
        constraints = [
            # One live line per patient, payer, program, date, code, modifiers and revenue code
            # (the domain's ChargeDraft.line_key): a correction adjusts it, never doubles it.
            models.UniqueConstraint(
                fields=[
                    "patient",
                    "payer",
                    "track",
                    "service_date",
                    "code",
                    "modifiers",
                    "revenue_code",
                ],
                condition=~Q(status=ChargeStatus.VOIDED),
                name="charge_one_live_line",
            ),
            models.CheckConstraint(condition=Q(units__gte=1), name="charge_units_positive"),
        ]
        indexes = [
            models.Index(fields=["patient", "service_date"], name="charge_patient_date"),
            models.Index(fields=["site", "service_date"], name="charge_site_date"),
        ]

    def __str__(self) -> str:
        return f"{self.service_date.isoformat()} {self.code} x{self.units} {self.amount}"


class ChargeAdjustment(models.Model):
    """A change to a posted charge after attendance was corrected (never an edit of the charge):
    `amount` is new minus previous (negative: money back); `reason` says what changed, in words.
    An ADD on a day already charged is the first adjustment of the charge it created."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="adjustments")
    kind = models.CharField(max_length=10, choices=AdjustmentKind.choices)
    previous_units = models.PositiveIntegerField()
    new_units = models.PositiveIntegerField()
    previous_amount = models.DecimalField(max_digits=12, decimal_places=2)
    new_amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=500)
    attendance_ids = models.JSONField(default=list, help_text="What the line bills now")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["charge", "created_at"], name="adjustment_charge_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class UnbilledDay(models.Model):
    """Attended services that produced no charge, and why, in words ("2 h 40 min attended; this
    payer bills H0015 from 3 h"). The rows of a site and period are replaced by each posting
    (kept when unchanged), so they always say what the last posting found."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="unbilled_days"
    )
    site = models.ForeignKey(
        "programs.Site", on_delete=models.PROTECT, related_name="unbilled_days"
    )
    service_date = models.DateField()
    payer = models.ForeignKey(
        "billing.Payer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500)
    attendance_ids = models.JSONField(default=list)
    period_start = models.DateField()
    period_end = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["service_date", "patient_id", "id"]
        indexes = [
            models.Index(fields=["site", "service_date"], name="unbilled_site_date"),
            models.Index(fields=["patient", "service_date"], name="unbilled_patient_date"),
        ]

    def __str__(self) -> str:
        return f"{self.service_date.isoformat()}: {self.reason}"
