"""Admission rules as plain typed functions: ASAM level of care, the pipeline,
the pre-screen, admission and the intake packet.

No Django, no I/O, no clock (see CONTRIBUTING.md). `asam` recommends a level of care from the six
dimension ratings. The self-pay fee arithmetic lives in `openiop.billing.domain.fees`.
"""
