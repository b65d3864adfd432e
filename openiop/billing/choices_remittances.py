"""Choices of the remittance tables (issue 16, point 5). The posting kinds and claim outcomes are
billing.domain.remittance's enums' values, so a stored value converts straight to the domain's
(PostingKind(value), ClaimOutcome(value), ReportStatus(value))."""

from __future__ import annotations

from django.db import models

from openiop.billing.domain.remittance import ClaimOutcome, PostingKind, ReportStatus


class PostingKindChoice(models.TextChoices):
    PAYMENT = PostingKind.PAYMENT.value, "Payment"
    CONTRACTUAL_WRITE_OFF = PostingKind.CONTRACTUAL_WRITE_OFF.value, "Contractual write-off (CO)"
    PATIENT_RESPONSIBILITY = PostingKind.PATIENT_RESPONSIBILITY.value, "Patient responsibility (PR)"
    PAYER_REDUCTION = PostingKind.PAYER_REDUCTION.value, "Payer-initiated reduction (PI)"
    OTHER_ADJUSTMENT = PostingKind.OTHER_ADJUSTMENT.value, "Other adjustment (OA)"
    DENIAL = PostingKind.DENIAL.value, "Denial"


class ClaimOutcomeChoice(models.TextChoices):
    PAID = ClaimOutcome.PAID.value, "Paid"
    PARTIALLY_PAID = ClaimOutcome.PARTIALLY_PAID.value, "Partially paid"
    DENIED = ClaimOutcome.DENIED.value, "Denied"
    APPLIED_TO_PATIENT = ClaimOutcome.APPLIED_TO_PATIENT.value, "Applied to the patient"
    REVERSED = ClaimOutcome.REVERSED.value, "Reversed"
    NOT_OUR_CLAIM = ClaimOutcome.NOT_OUR_CLAIM.value, "Not this payer's claim"
    PRICING_ONLY = ClaimOutcome.PRICING_ONLY.value, "Predetermination pricing only"


class ReportOutcome(models.TextChoices):
    POSTED = ReportStatus.POSTED.value, "Posted"
    NOT_POSTED = ReportStatus.NOT_POSTED.value, "Not posted"
    PROBLEM = ReportStatus.PROBLEM.value, "Problem"
    NOTE = ReportStatus.NOTE.value, "Note"


class DenialStatus(models.TextChoices):
    OPEN = "open", "Open"
    WORKED = "worked", "Worked (waiting on the payer)"
    CLOSED = "closed", "Closed"


class UnmatchedStatus(models.TextChoices):
    OPEN = "open", "Waiting"
    RESOLVED = "resolved", "Attached to a claim"
