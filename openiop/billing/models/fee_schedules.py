"""How each payer bills each program (track), and what it pays: configuration for the charge rules
of billing.domain.charges (issue 16).

Written through billing.services.fee_schedules (the set-up pages call it), which checks every row
against the domain's own rules (PayerBillingRules, FeeScheduleEntry, FeeSchedule) before saving.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from openiop.billing.choices import BillingMode, ClaimForm
from openiop.core.models import TimeStamped


class PayerProgramBilling(TimeStamped):
    """One payer's billing rules for one program (a track): billing.domain.charges'
    PayerBillingRules as a row.

    Every threshold is the payer's and empty means the payer sets none; nothing here has a
    billing default (../shared/domain.md 2: H0015's ">=3 h/day", the 90853 group limit of 12,
    Medicare's 9 h a week and the "<3 services" edit are each a payer's configuration).

    - `codes`: per service kind (billing.domain.charges.ServiceKind values), the codes by minutes:
      {"individual": [["90832", 16, 37], ["90834", 38, 52], ["90837", 53, null]],
      "group": [["90853", 1, null]]}. A kind missing here is not billed.
    - `session_kinds`: what a kind of session is billed as (programs' SessionKind -> ServiceKind),
      beyond the kinds every payer reads the same way (billing.services.charges.SESSION_SERVICE);
      e.g. {"skills": "group", "holistic": "activity_therapy"}. A session kind that neither names
      is not billed, with that reason.
    - `revenue_code`: the revenue code (e.g. 0905 or 0906, domain.md 2.2) of this payer's fee
      schedule lines for the program that name none.
    """

    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="billing")
    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="billing")
    mode = models.CharField(max_length=20, choices=BillingMode.choices)
    claim_form = models.CharField(max_length=4, choices=ClaimForm.choices)
    per_diem_code = models.CharField(
        max_length=5, blank=True, help_text="H0015 or S9480 (per-diem payers only)"
    )
    revenue_code = models.CharField(
        max_length=4, blank=True, help_text="For fee schedule lines that name none (837I)"
    )
    codes = models.JSONField(
        default=dict,
        blank=True,
        help_text='Codes by minutes per service kind: {"individual": [["90832", 16, 37], ...]}',
    )
    session_kinds = models.JSONField(
        default=dict,
        blank=True,
        help_text='What other session kinds are billed as: {"skills": "group"}',
    )
    min_minutes_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per diem: minutes a day needs (e.g. 180); empty: none"
    )
    min_minutes_per_week = models.PositiveIntegerField(
        null=True, blank=True, help_text="A week under it bills nothing; empty: none"
    )
    min_days_per_week = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A week with fewer days bills nothing; empty: none"
    )
    max_group_size = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Groups over it are not billed; empty: no limit"
    )
    group_count_required = models.BooleanField(
        default=False, help_text="Group sessions need the number of participants documented"
    )
    min_services_per_day = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Medicare IOP: days with fewer services are not billed"
    )
    short_day_as_services = models.BooleanField(
        default=False, help_text="Per diem: a day under the daily minimum is billed by service"
    )

    class Meta:
        ordering = ["payer__name", "track__name"]
        verbose_name = "payer billing rules for a program"
        verbose_name_plural = "payer billing rules for programs"
        constraints = [
            models.UniqueConstraint(fields=["payer", "track"], name="payer_program_billing_once")
        ]

    def __str__(self) -> str:
        return f"{self.payer} · {self.track}"


class FeeScheduleEntry(TimeStamped):
    """What a payer pays for a code in a program from one date to another (both included; no end:
    open). At most one entry for a payer, program and code covers any date: checked by the
    service against the others (billing.domain.charges.FeeSchedule), the payer's row locked, as
    SQLite has no exclusion constraint."""

    payer = models.ForeignKey(
        "billing.Payer", on_delete=models.PROTECT, related_name="fee_schedule"
    )
    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, related_name="fee_schedule"
    )
    code = models.CharField(max_length=5)
    modifiers = models.CharField(
        max_length=11, blank=True, help_text="Up to 4 two-character modifiers: HQ,TF"
    )
    revenue_code = models.CharField(max_length=4, blank=True)
    rate = models.DecimalField(max_digits=10, decimal_places=2)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Last day; empty: open")

    class Meta:
        ordering = ["payer__name", "track__name", "code", "effective_from"]
        verbose_name = "fee schedule entry"
        verbose_name_plural = "fee schedule entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="fee_entry_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["payer", "track", "code", "effective_from"], name="fee_entry_once_a_day"
            ),
        ]

    def __str__(self) -> str:
        until = self.effective_to.isoformat() if self.effective_to else "open"
        return f"{self.code} {self.rate} ({self.effective_from.isoformat()} to {until})"
