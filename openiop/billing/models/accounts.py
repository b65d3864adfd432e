"""The patient's bill (issue 16 points 6 and 7): what moved to the patient's balance from a
remittance, payments and refunds, sliding-fee agreements, payment plans with their installments
and the reminders sent for them, and the statements generated.

Written only by billing.services.accounts (and, for PatientResponsibility, through its
`patient_responsibility_add`, which the 835 import calls). Rows are never edited: a mistake is put
right by a new row (a refund, a new agreement ending the old one, a cancelled plan), so the ledger
page and every statement printed can be rebuilt as they were.

Money is Decimal in cents; the bookkeeping rules (signs, balances, the refund limit, plan status,
reminders, aging) are billing.domain.ledger's; the plan's installments are billing.domain.fees'
`payment_plan`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

User = settings.AUTH_USER_MODEL


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    CARD = "card", "Card"
    TRANSFER = "transfer", "Bank transfer"
    OTHER = "other", "Other"


class PaymentPlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Paid in full"
    CANCELLED = "cancelled", "Cancelled"


class PatientResponsibility(models.Model):
    """An amount a payer's remittance moved from the insurance balance to the patient's (an 835
    CAS group PR: deductible, coinsurance, copay).

    `source` names where it came from, stably (e.g. "835 TRN 1234567 Acme Health"), never the
    time of the import; `claim_ref` and `line_ref` are opaque references to the claim and its line
    (the claims app's, as text: this table does not depend on the claims tables). One row per
    (source, claim_ref, line_ref): importing the same remittance again adds nothing.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="responsibilities"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    date = models.DateField(help_text="The remittance's date")
    source = models.CharField(max_length=200)
    claim_ref = models.CharField(max_length=80)
    line_ref = models.CharField(max_length=80, blank=True)
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["date", "id"]
        verbose_name_plural = "patient responsibilities"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "claim_ref", "line_ref"], name="responsibility_once_per_source"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="responsibility_positive"),
        ]
        indexes = [models.Index(fields=["patient", "date"], name="responsibility_patient_date")]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} patient responsibility {self.amount}"


class PaymentPlan(models.Model):
    """A payment plan agreed with the patient: `total` in `installments_count` installments from
    `first_due`, every `every_days` days or monthly (`monthly`), as billing.domain.fees
    .payment_plan splits it (its Installment rows are that split, stored). One active plan per
    patient; a plan is cancelled (never edited) to make another."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="payment_plans"
    )
    total = models.DecimalField(max_digits=12, decimal_places=2)
    first_due = models.DateField()
    installments_count = models.PositiveIntegerField()
    every_days = models.PositiveIntegerField(null=True, blank=True)
    monthly = models.BooleanField(default=False)
    agreed_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=PaymentPlanStatus.choices, default=PaymentPlanStatus.ACTIVE
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-agreed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="payment_plan_one_active",
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="payment_plan_total_positive"),
            models.CheckConstraint(
                condition=Q(installments_count__gte=1), name="payment_plan_installments"
            ),
            models.CheckConstraint(
                condition=(Q(monthly=True) & Q(every_days__isnull=True))
                | (Q(monthly=False) & Q(every_days__gte=1)),
                name="payment_plan_one_cadence",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment plan {self.pk}: {self.total} in {self.installments_count}"


class Installment(models.Model):
    """One installment of a plan (numbered from 1), as fees.payment_plan made it."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="installments")
    number = models.PositiveIntegerField()
    due_date = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="installment_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_positive"),
        ]

    def __str__(self) -> str:
        return f"Installment {self.number}: {self.amount} on {self.due_date.isoformat()}"


class PatientPayment(models.Model):
    """Money the patient paid. `plan`: the plan that was active when it was recorded (it counts
    towards that plan's installments), empty without one."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="patient_payments"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    date = models.DateField()
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(
        max_length=80, blank=True, help_text="Check number, card receipt or transaction id"
    )
    plan = models.ForeignKey(
        PaymentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    received_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="patient_payment_positive")
        ]
        indexes = [models.Index(fields=["patient", "date"], name="patient_payment_patient_date")]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} payment {self.amount}"


class PatientRefund(models.Model):
    """Money paid back to the patient, with the reason (required); never more than they paid
    (billing.domain.ledger refuses it). `plan` as for a payment: a refund takes back from it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="patient_refunds"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    date = models.DateField()
    reason = models.CharField(max_length=500)
    plan = models.ForeignKey(
        PaymentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    refunded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="patient_refund_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="patient_refund_reason"),
        ]
        indexes = [models.Index(fields=["patient", "date"], name="patient_refund_patient_date")]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} refund {self.amount}"


class SlidingFeeAgreement(models.Model):
    """The patient's share (percent of the self-pay charge they pay) on the sliding fee scale,
    from `effective_from` to `effective_to` (empty: open-ended). `estimate`: the accepted self-pay
    CostEstimate it was taken from; empty when the share was entered. A later agreement ends the
    one in force the day before it starts (the service does it; dates never overlap)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="sliding_fee_agreements"
    )
    share_percent = models.DecimalField(max_digits=5, decimal_places=2)
    estimate = models.ForeignKey(
        "billing.CostEstimate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    agreed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["effective_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_percent__gte=0) & Q(share_percent__lte=100),
                name="sliding_fee_share_0_100",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="sliding_fee_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Sliding fee {self.share_percent}% from {self.effective_from.isoformat()}"


class ReminderSent(models.Model):
    """A payment-plan reminder recorded as sent; `key` is billing.domain.ledger.Reminder.key, so
    the daily job never sends one twice. `channel` is the setting it was sent through."""

    key = models.CharField(max_length=120, unique=True)
    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="reminders")
    installment_number = models.PositiveIntegerField()
    sent_at = models.DateTimeField()
    channel = models.CharField(max_length=20)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"Reminder {self.key}"


class Statement(models.Model):
    """A statement generated for the patient for a period, with its totals as printed (the PDF is
    rebuilt from the ledger, which is never edited)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="statements"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    opening_balance = models.DecimalField(max_digits=12, decimal_places=2)
    closing_balance = models.DecimalField(max_digits=12, decimal_places=2)
    insurance_balance = models.DecimalField(max_digits=12, decimal_places=2)
    amount_due_now = models.DecimalField(max_digits=12, decimal_places=2)
    generated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField()

    class Meta:
        ordering = ["-generated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="statement_period"
            )
        ]
        indexes = [models.Index(fields=["patient", "period_end"], name="statement_patient_end")]

    def __str__(self) -> str:
        return f"Statement {self.period_start.isoformat()}..{self.period_end.isoformat()}"
