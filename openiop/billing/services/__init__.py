"""Every write of billing goes through these functions: one doorway each, audited.

One module per subject: `payers` (the organization's payer list), `coverage` (an inquiry's
insurance coverages and benefits checks) and `estimates` (self-pay cost estimates). Import from
this package: its names are the public ones.
"""

from openiop.billing.services.coverage import (
    COVERAGE_FIELDS,
    VERIFICATION_FIELDS,
    benefits_verify,
    coverage_add,
)
from openiop.billing.services.estimates import estimate_prepare
from openiop.billing.services.payers import PAYER_FIELDS, payer_check, payer_create, payer_update

__all__ = [
    "COVERAGE_FIELDS",
    "PAYER_FIELDS",
    "VERIFICATION_FIELDS",
    "benefits_verify",
    "coverage_add",
    "estimate_prepare",
    "payer_check",
    "payer_create",
    "payer_update",
]
