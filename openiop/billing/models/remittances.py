"""Remittances (835) as imported, what they posted, and the work they left (issue 16, point 5).

Written only by billing.services.remittances: `remittance_import` writes a Remittance with its
claims (RemittanceClaim, one per CLP), its postings (RemittancePosting, one per payment or CAS
amount the domain's posting plan holds), the denials to work (DenialWorkItem), what matched none
of our claims (UnmatchedRemittanceItem) and its report line by line (ImportReportLine); none of
them is edited afterwards except a denial's work (denial_work) and an unmatched item's resolution
(unmatched_resolve). The file itself is kept (`raw_content`) so an unmatched item can be posted
later from what the payer sent, and `sha256` is unique: one file posts once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.billing.choices_remittances import (
    ClaimOutcomeChoice,
    DenialStatus,
    PostingKindChoice,
    ReportOutcome,
    UnmatchedStatus,
)
from openiop.core.models import Versioned

User = settings.AUTH_USER_MODEL


class Remittance(models.Model):
    """One imported 835 transaction set: who paid (N1*PR, TRN03), the trace number (TRN02) that
    re-associates it with the money, the payment (BPR), and the file as received."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.PROTECT, related_name="remittances"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    payer = models.ForeignKey(
        "billing.Payer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remittances",
        help_text="Our payer whose Payer ID is the 835's payer identifier, when there is one",
    )
    payer_name = models.CharField(max_length=200)
    payer_identifier = models.CharField(max_length=80, help_text="N104 (XV), else TRN03")
    trace_number = models.CharField(max_length=80, help_text="TRN02: check or EFT trace number")
    payment_amount = models.DecimalField(max_digits=12, decimal_places=2)
    payment_date = models.DateField()
    payment_method = models.CharField(max_length=3, help_text="BPR04: ACH, BOP, CHK, FWT, NON")
    credit_debit = models.CharField(max_length=1, default="C")
    posted_payments = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    unmatched_payments = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    problems = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField()
    raw_content = models.TextField()

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [
            # A payer's trace number is one payment: importing it again would post it twice.
            models.UniqueConstraint(
                fields=["organization", "payer_identifier", "trace_number"],
                name="remittance_one_trace",
            )
        ]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.trace_number} ({self.payment_date.isoformat()})"


class RemittanceClaim(models.Model):
    """One CLP of a remittance: what the payer said of one claim, and which of ours it is (none:
    it waits in the unmatched queue)."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="claims")
    position = models.PositiveIntegerField(help_text="The CLP's place in the remittance, from 1")
    claim = models.ForeignKey(
        "billing.Claim",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remittance_claims",
    )
    patient_control_number = models.CharField(max_length=38)  # CLP01
    status_code = models.CharField(max_length=2)  # CLP02
    billed = models.DecimalField(max_digits=12, decimal_places=2)  # CLP03
    paid = models.DecimalField(max_digits=12, decimal_places=2)  # CLP04
    patient_responsibility = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )  # CLP05
    filing_indicator = models.CharField(max_length=2)  # CLP06
    payer_claim_control_number = models.CharField(max_length=50)  # CLP07
    outcome = models.CharField(max_length=40, choices=ClaimOutcomeChoice.choices, blank=True)

    class Meta:
        ordering = ["remittance_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["remittance", "position"], name="remittance_claim_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_control_number} {self.get_outcome_display() or 'unmatched'}"


class RemittancePosting(models.Model):
    """One amount posted to one of our claims, on a line or (line empty) at claim level: the
    payment, or one CAS amount with its group and reason (CARC) and the RARCs. A negative amount
    reverses an earlier posting (CLP02 22)."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="postings")
    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.PROTECT, related_name="postings"
    )
    claim = models.ForeignKey(
        "billing.Claim", on_delete=models.PROTECT, related_name="remittance_postings"
    )
    claim_line = models.ForeignKey(
        "billing.ClaimLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remittance_postings",
    )
    kind = models.CharField(max_length=30, choices=PostingKindChoice.choices)
    reversal = models.BooleanField(default=False)
    group_code = models.CharField(max_length=2, blank=True)  # CAS01
    reason_code = models.CharField(max_length=5, blank=True)  # CARC, a code only
    remark_codes = models.JSONField(default=list, blank=True)  # RARCs, codes only
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["remittance_id", "id"]
        indexes = [models.Index(fields=["claim", "posted_at"], name="remit_posting_claim_at")]

    def __str__(self) -> str:
        code = f" {self.group_code}-{self.reason_code}" if self.group_code else ""
        return f"{self.get_kind_display()}{code} {self.amount}"


class DenialWorkItem(Versioned):
    """A denied amount on the worklist, by payer and reason, with the next action in words;
    worked (an appeal or corrected claim sent, a note) and closed by billing staff."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="denials")
    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.PROTECT, related_name="denials"
    )
    claim = models.ForeignKey("billing.Claim", on_delete=models.PROTECT, related_name="denials")
    claim_line = models.ForeignKey(
        "billing.ClaimLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="denials",
    )
    payer = models.ForeignKey(
        "billing.Payer", on_delete=models.PROTECT, null=True, blank=True, related_name="denials"
    )
    payer_name = models.CharField(max_length=200)
    payer_identifier = models.CharField(max_length=80)
    status_code = models.CharField(max_length=2)  # CLP02
    group_code = models.CharField(max_length=2, blank=True)  # CAS01, empty when none was given
    reason_code = models.CharField(max_length=5, blank=True)  # CARC
    remark_codes = models.JSONField(default=list, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    next_action = models.TextField()
    status = models.CharField(
        max_length=10, choices=DenialStatus.choices, default=DenialStatus.OPEN
    )
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    worked_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Closed as not collectible from the payer: the denied amount leaves the insurance balance and
    # the A/R aging as a write-off (the ledger's ADJUSTMENT on the insurance side), on that day.
    written_off = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    written_off_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["payer_name", "group_code", "reason_code", "created_at", "id"]
        indexes = [
            models.Index(fields=["status", "payer_name", "reason_code"], name="denial_status_payer")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(status=DenialStatus.CLOSED),
                name="denial_closed_at_only_when_closed",
            ),
            models.CheckConstraint(
                condition=Q(written_off=0, written_off_on__isnull=True)
                | Q(status=DenialStatus.CLOSED, written_off__gt=0, written_off_on__isnull=False),
                name="denial_written_off_only_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.group_code}-{self.reason_code} {self.amount}"


class UnmatchedRemittanceItem(models.Model):
    """A CLP that matched none of our claims, or an SVC that matched no line of its claim: kept
    with its money and what the payer sent (`data`, the CLP or SVC as JSON) until someone
    attaches it to a claim and it posts."""

    remittance = models.ForeignKey(
        Remittance, on_delete=models.PROTECT, related_name="unmatched_items"
    )
    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.PROTECT, related_name="unmatched_items"
    )
    line_position = models.PositiveIntegerField(
        null=True, blank=True, help_text="The SVC's place in its CLP; empty: the whole claim"
    )
    candidate_claim = models.ForeignKey(
        "billing.Claim",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The claim the CLP matched when only this line did not",
    )
    patient_control_number = models.CharField(max_length=38)
    payer_claim_control_number = models.CharField(max_length=50)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=500)
    data = models.JSONField()
    status = models.CharField(
        max_length=10, choices=UnmatchedStatus.choices, default=UnmatchedStatus.OPEN
    )
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_to = models.ForeignKey(
        "billing.Claim", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_line = models.ForeignKey(
        "billing.ClaimLine", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["remittance_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=UnmatchedStatus.OPEN)
                | (Q(resolved_to__isnull=False) & Q(resolved_at__isnull=False)),
                name="unmatched_resolved_names_its_claim",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_control_number}: {self.reason}"


class ImportReportLine(models.Model):
    """One line of an import's report: what it posted, could not post, or found wrong."""

    remittance = models.ForeignKey(
        Remittance, on_delete=models.PROTECT, related_name="report_lines"
    )
    line_no = models.PositiveIntegerField()
    outcome = models.CharField(max_length=15, choices=ReportOutcome.choices)
    text = models.TextField()

    class Meta:
        ordering = ["remittance_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["remittance", "line_no"], name="report_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.line_no}. {self.text}"
