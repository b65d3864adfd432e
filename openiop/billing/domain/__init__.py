"""Billing rules as plain typed functions (no Django, no I/O, no clock; see CONTRIBUTING.md).

`fees` holds the self-pay arithmetic: percent of poverty, the sliding fee scale, the cost
estimate and the payment plan.
"""
