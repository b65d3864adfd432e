"""Admission rules as plain typed functions: ASAM level-of-care recommendation and self-pay fees.

No Django, no I/O, no clock (see CONTRIBUTING.md). `asam` recommends a level of care from the six
dimension ratings; `fees` holds the sliding fee scale, cost estimate and payment plan arithmetic.
"""
