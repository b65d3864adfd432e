"""Billing's tables, one module per subject; import them from here (the names below are the
public ones, and Django finds every model through this package).

- `payers`: payers, insurance coverages, benefits checks, the sliding fee configuration and
  self-pay cost estimates (moved from admissions in issue 15).
"""

from openiop.billing.models.payers import (
    BenefitsVerification,
    CostEstimate,
    Coverage,
    Payer,
    PovertyGuidelineYear,
)

__all__ = [
    "BenefitsVerification",
    "CostEstimate",
    "Coverage",
    "Payer",
    "PovertyGuidelineYear",
]
