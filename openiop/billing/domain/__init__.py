"""Billing rules as plain typed functions (no Django, no I/O, no clock; see CONTRIBUTING.md).

`fees` holds the self-pay arithmetic: percent of poverty, the sliding fee scale, the cost
estimate and the payment plan. `charges` turns attended services into charge drafts by the
payer's rules (per diem H0015/S9480, Medicare IOP, itemized CPT), lists every service not billed
with its reason, and turns a later correction into adjustments. `ledger` is the patient's bill:
entries and balances, sliding-scale discounts, payment plan status and reminders, statements and
accounts-receivable aging. `money` holds the cents rounding they share.
"""
