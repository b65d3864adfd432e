"""Every write of billing goes through these functions: one doorway each, audited.

One module per subject: `payers` (the organization's payer list), `coverage` (an inquiry's
insurance coverages and benefits checks), `estimates` (self-pay cost estimates),
`fee_schedules` (a payer's billing rules for a program and its fees) and `charges` (posting
charges from attendance, with adjustments and unbilled days). Import from this package: its
names are the public ones.
"""

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

__all__ = [
    "BILLING_PROVIDER_FIELDS",
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
    "benefits_verify",
    "billing_provider_check",
    "billing_provider_save",
    "charges_post",
    "claim_correct",
    "claim_mark_ready",
    "claim_reopen",
    "claim_scrub",
    "claims_build",
    "claims_export",
    "coverage_add",
    "estimate_prepare",
    "fee_entry_check",
    "fee_entry_create",
    "fee_entry_update",
    "payer_billing_check",
    "payer_billing_create",
    "payer_billing_update",
    "payer_check",
    "payer_claim_setup_check",
    "payer_claim_setup_save",
    "payer_create",
    "payer_update",
    "track_claim_setup_check",
    "track_claim_setup_save",
]
