"""The billing block of the demo clinic: payers, a sliding-fee configuration, the assessed
inquiry's insurance with its benefits check, a self-pay estimate, then the revenue cycle of the
patients in care (billing.demo_cycle). Called by `openiop demo` after the admissions block, on the
inquiries it returns; every write goes through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from openiop.billing import services
from openiop.billing.models import PovertyGuidelineYear


def build_billing_demo(builder: Any, inquiries: dict[str, Any]) -> None:
    """Add the billing demo to a DemoBuilder (uses its org, actor and today) for the admissions
    demo's 'assessed' and 'self_pay' inquiries."""
    actor = builder.actor
    org = builder.org
    today: dt.date = builder.today
    PovertyGuidelineYear.objects.create(
        organization=org,
        year=today.year,
        label="EXAMPLE figures for the demo: enter the year's published guideline",
        base_amount=Decimal("15000"),
        per_additional_person=Decimal("5000"),
        sliding_scale=[[100, 10], [150, 25], [200, 50], [250, 75], [None, 100]],
        daily_rate=Decimal("250.00"),
    )
    payers = {
        kind: services.payer_create(
            organization_id=org.pk, name=name, payer_id=pid, payer_type=kind, by=actor
        )
        for kind, name, pid in [
            ("commercial", "Bluebell Mutual Health (fictional)", "BBM01"),
            ("medicaid", "State Medicaid Plan (fictional)", "SMP77"),
            ("medicare", "Medicare (demo)", "MCR00"),
            ("self_pay", "Self-pay", ""),
        ]
    }
    coverage = services.coverage_add(
        inquiry=inquiries["assessed"],
        payer=payers["commercial"],
        rank="primary",
        member_id="BBM-000-1234",
        group_number="GRP-42",
        subscriber_name="Liesl Copperkettle",
        subscriber_relationship="self",
        by=actor,
    )
    services.benefits_verify(
        coverage=coverage,
        in_network=True,
        iop_covered=True,
        deductible_amount=Decimal("1500"),
        deductible_met_amount=Decimal("600"),
        copay_per_day=Decimal("35"),
        coinsurance_percent=None,
        prior_auth_required=True,
        days_allowed=30,
        reference_number="DEMO-REF-8812",
        payer_contact="Demo representative",
        by=actor,
    )
    services.estimate_prepare(
        inquiry=inquiries["self_pay"],
        household_size=2,
        annual_income=Decimal("27000"),
        planned_days=36,
        installments=3,
        first_date=today + dt.timedelta(days=7),
        by=actor,
    )
    builder.out("  billing: 4 payers, 1 verified coverage, 1 self-pay estimate")
    from openiop.billing.demo_cycle import RevenueCycleDemo

    RevenueCycleDemo(builder, payers).build()
