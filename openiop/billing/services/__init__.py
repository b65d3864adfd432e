"""Every write of billing goes through these functions: one doorway each, audited.

One module per subject: `payers` (the organization's payer list), `coverage` (an inquiry's
insurance coverages and benefits checks), `estimates` (self-pay cost estimates),
`fee_schedules` (a payer's billing rules for a program and its fees), `charges` (posting
charges from attendance, with adjustments and unbilled days), `accounts` (the patient's bill:
patient responsibility, payments, refunds, sliding fee, payment plans, reminders, statements)
and `authorizations` (payer authorizations, Medicare certifications, concurrent reviews).
Import from this package: its names are the public ones.
"""

from openiop.billing.services.accounts import (
    RemindersRun,
    patient_responsibility_add,
    payment_plan_cancel,
    payment_plan_create,
    payment_record,
    refund_record,
    refund_review,
    reminders_send,
    sliding_fee_agree,
    statement_generate,
)
from openiop.billing.services.authorizations import (
    AUTHORIZATION_FIELDS,
    CERTIFICATION_FIELDS,
    authorization_alerts_raise,
    authorization_create,
    authorization_end,
    authorization_update,
    certification_create,
    certification_end,
    certification_update,
    concurrent_review_print,
    concurrent_review_record,
)
from openiop.billing.services.charges import ChargePosting, charges_post
from openiop.billing.services.claim_setup import (
    BILLING_PROVIDER_FIELDS,
    PAYER_CLAIM_FIELDS,
    TRACK_CLAIM_FIELDS,
    billing_provider_check,
    billing_provider_save,
    payer_claim_setup_check,
    payer_claim_setup_save,
    track_claim_setup_check,
    track_claim_setup_save,
)
from openiop.billing.services.claims import (
    ClaimBuildResult,
    ClaimExportResult,
    claim_correct,
    claim_mark_ready,
    claim_reopen,
    claim_scrub,
    claims_build,
    claims_export,
)
from openiop.billing.services.coverage import (
    COVERAGE_FIELDS,
    VERIFICATION_FIELDS,
    benefits_verify,
    coverage_add,
)
from openiop.billing.services.estimates import estimate_prepare
from openiop.billing.services.fee_schedules import (
    FEE_ENTRY_FIELDS,
    PAYER_BILLING_FIELDS,
    fee_entry_check,
    fee_entry_create,
    fee_entry_update,
    payer_billing_check,
    payer_billing_create,
    payer_billing_update,
)
from openiop.billing.services.payers import PAYER_FIELDS, payer_check, payer_create, payer_update
from openiop.billing.services.remittances import (
    ImportResult,
    denial_work,
    remittance_import,
    unmatched_resolve,
)

__all__ = [
    "AUTHORIZATION_FIELDS",
    "BILLING_PROVIDER_FIELDS",
    "CERTIFICATION_FIELDS",
    "COVERAGE_FIELDS",
    "FEE_ENTRY_FIELDS",
    "PAYER_BILLING_FIELDS",
    "PAYER_CLAIM_FIELDS",
    "PAYER_FIELDS",
    "TRACK_CLAIM_FIELDS",
    "VERIFICATION_FIELDS",
    "ChargePosting",
    "ClaimBuildResult",
    "ClaimExportResult",
    "ImportResult",
    "RemindersRun",
    "authorization_alerts_raise",
    "authorization_create",
    "authorization_end",
    "authorization_update",
    "benefits_verify",
    "billing_provider_check",
    "billing_provider_save",
    "certification_create",
    "certification_end",
    "certification_update",
    "charges_post",
    "claim_correct",
    "claim_mark_ready",
    "claim_reopen",
    "claim_scrub",
    "claims_build",
    "claims_export",
    "concurrent_review_print",
    "concurrent_review_record",
    "coverage_add",
    "denial_work",
    "estimate_prepare",
    "fee_entry_check",
    "fee_entry_create",
    "fee_entry_update",
    "patient_responsibility_add",
    "payer_billing_check",
    "payer_billing_create",
    "payer_billing_update",
    "payer_check",
    "payer_claim_setup_check",
    "payer_claim_setup_save",
    "payer_create",
    "payer_update",
    "payment_plan_cancel",
    "payment_plan_create",
    "payment_record",
    "refund_record",
    "refund_review",
    "reminders_send",
    "remittance_import",
    "sliding_fee_agree",
    "statement_generate",
    "track_claim_setup_check",
    "track_claim_setup_save",
    "unmatched_resolve",
]
