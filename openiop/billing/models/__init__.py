"""Billing's tables, one module per subject; import them from here (the names below are the
public ones, and Django finds every model through this package).

- `payers`: payers, insurance coverages, benefits checks, the sliding fee configuration and
  self-pay cost estimates (moved from admissions in issue 15).
- `fee_schedules`: how each payer bills each program, and its fee schedule (issue 16).
- `charges`: charges posted from attendance, their adjustments, unbilled days (issue 16).
- `accounts`: the patient's bill: patient responsibility from remittances, payments, refunds,
  sliding-fee agreements, payment plans and reminders, statements (issue 16).
- `authorizations`: payer authorizations, Medicare certifications, concurrent reviews (issue 16).
- `claims`: claims, their lines, edits, history and exports; billing provider, payer and program
  claim configuration (issue 16).
- `remittances`: imported 835s, their postings, denial work items, the unmatched queue and the
  import reports (issue 16).
"""

from openiop.billing.models.accounts import (
    Installment,
    PatientPayment,
    PatientRefund,
    PatientResponsibility,
    PaymentMethod,
    PaymentPlan,
    PaymentPlanStatus,
    ReminderSent,
    SlidingFeeAgreement,
    Statement,
)
from openiop.billing.models.authorizations import (
    Authorization,
    ConcurrentReview,
    PhysicianCertification,
)
from openiop.billing.models.charges import Charge, ChargeAdjustment, UnbilledDay
from openiop.billing.models.claims import (
    BillingProvider,
    Claim,
    ClaimEdit,
    ClaimEvent,
    ClaimExport,
    ClaimLine,
    PayerClaimSetup,
    TrackClaimSetup,
)
from openiop.billing.models.fee_schedules import FeeScheduleEntry, PayerProgramBilling
from openiop.billing.models.payers import (
    BenefitsVerification,
    CostEstimate,
    Coverage,
    Payer,
    PovertyGuidelineYear,
)
from openiop.billing.models.remittances import (
    DenialWorkItem,
    ImportReportLine,
    Remittance,
    RemittanceClaim,
    RemittancePosting,
    UnmatchedRemittanceItem,
)

__all__ = [
    "Authorization",
    "BenefitsVerification",
    "BillingProvider",
    "Charge",
    "ChargeAdjustment",
    "Claim",
    "ClaimEdit",
    "ClaimEvent",
    "ClaimExport",
    "ClaimLine",
    "ConcurrentReview",
    "CostEstimate",
    "Coverage",
    "DenialWorkItem",
    "FeeScheduleEntry",
    "ImportReportLine",
    "Installment",
    "PatientPayment",
    "PatientRefund",
    "PatientResponsibility",
    "Payer",
    "PayerClaimSetup",
    "PayerProgramBilling",
    "PaymentMethod",
    "PaymentPlan",
    "PaymentPlanStatus",
    "PhysicianCertification",
    "PovertyGuidelineYear",
    "ReminderSent",
    "Remittance",
    "RemittanceClaim",
    "RemittancePosting",
    "SlidingFeeAgreement",
    "Statement",
    "TrackClaimSetup",
    "UnbilledDay",
    "UnmatchedRemittanceItem",
]
