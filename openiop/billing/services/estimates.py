"""Self-pay cost estimates from the organization's sliding fee configuration, with a payment
plan; audited against the inquiry's patient."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from openiop.accounts.domain import Cap
from openiop.admissions.models import Inquiry
from openiop.admissions.services.common import acting_staff, audit_inquiry, require_inquiry
from openiop.audit.models import AuditAction
from openiop.billing.domain import fees
from openiop.billing.models import CostEstimate, PovertyGuidelineYear
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation


def _guideline(config: PovertyGuidelineYear) -> tuple[fees.PovertyGuideline, fees.SlidingScale]:
    try:
        return (
            fees.PovertyGuideline(
                year=config.year,
                base_amount=config.base_amount,
                per_additional_person=config.per_additional_person,
            ),
            fees.SlidingScale(bands=[tuple(b) for b in config.sliding_scale]),
        )
    except (TypeError, ValueError) as exc:
        raise RuleViolation(
            f"The {config.year} sliding fee configuration is not valid: {exc}", code="config"
        ) from exc


def estimate_prepare(
    *,
    inquiry: Inquiry,
    household_size: int,
    annual_income: Decimal,
    planned_days: int,
    installments: int,
    first_date: dt.date,
    monthly: bool = True,
    every_days: int | None = None,
    year: int | None = None,
    by: Actor,
) -> CostEstimate:
    """A self-pay estimate: percent of poverty -> sliding scale share -> days x rate x share,
    and a payment plan of `installments` from `first_date`.

    Uses the organization's poverty guideline of `year` (default: the latest configured). Raises
    RuleViolation when no guideline is configured or for invalid figures; NotPermitted (audited)
    without Cap.BENEFITS_MANAGE.
    """
    require_inquiry(by, Cap.BENEFITS_MANAGE, inquiry)
    configs = PovertyGuidelineYear.objects.filter(organization_id=inquiry.organization_id)
    config = (configs.filter(year=year) if year else configs).order_by("-year").first()
    if config is None:
        raise RuleViolation(
            "No poverty guideline is configured; an administrator adds the year's table first.",
            code="no_guideline",
        )
    guideline, scale = _guideline(config)
    try:
        percent = fees.percent_of_poverty(household_size, annual_income, guideline)
        share = scale.patient_share(percent)
        estimate = fees.cost_estimate(planned_days, config.daily_rate, share)
        plan = (
            fees.payment_plan(
                estimate.patient_amount,
                installments,
                first_date,
                monthly=monthly,
                every_days=None if monthly else every_days,
            )
            if estimate.patient_amount > 0
            else []
        )
    except ValueError as exc:
        raise RuleViolation(str(exc), code="estimate") from exc
    with transaction.atomic():
        row = CostEstimate.objects.create(
            inquiry=inquiry,
            guideline_year=config.year,
            household_size=household_size,
            annual_income=annual_income,
            percent_of_poverty=percent,
            share_percent=share,
            planned_days=planned_days,
            daily_rate=config.daily_rate,
            total_amount=estimate.total,
            patient_amount=estimate.patient_amount,
            installments=[[i.date.isoformat(), str(i.amount)] for i in plan],
            prepared_by=acting_staff(by),
        )
        audit_inquiry(
            by,
            inquiry,
            AuditAction.CREATE,
            {"estimate": row.pk, "patient_amount": str(row.patient_amount)},
            object_type="cost_estimate",
        )
    return row
