"""Cents: the one rounding rule billing's pure modules share.

Money is `Decimal`; amounts are rounded half-up to whole cents (0.005 -> 0.01) wherever a rule
divides or multiplies. `fees`, `charges` and `ledger` import `CENT` and `round_cents` from here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_cents(value: Decimal) -> Decimal:
    """`value` rounded half-up to whole cents (2.345 -> 2.35, -2.345 -> -2.35)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
