"""Every write of billing goes through these functions: one doorway each, audited.

One module per subject: `payers` (the organization's payer list), `coverage` (an inquiry's
insurance coverages and benefits checks), `estimates` (self-pay cost estimates),
`fee_schedules` (a payer's billing rules for a program and its fees) and `charges` (posting
charges from attendance, with adjustments and unbilled days). Import from this package: its
names are the public ones.
"""

from openiop.billing.services.charges import ChargePosting, charges_post
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
    "COVERAGE_FIELDS",
    "FEE_ENTRY_FIELDS",
    "PAYER_BILLING_FIELDS",
    "PAYER_FIELDS",
    "VERIFICATION_FIELDS",
    "ChargePosting",
    "ImportResult",
    "benefits_verify",
    "charges_post",
    "coverage_add",
    "denial_work",
    "estimate_prepare",
    "fee_entry_check",
    "fee_entry_create",
    "fee_entry_update",
    "payer_billing_check",
    "payer_billing_create",
    "payer_billing_update",
    "payer_check",
    "payer_create",
    "payer_update",
    "remittance_import",
    "unmatched_resolve",
]
