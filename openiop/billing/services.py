"""Every write of billing goes through these functions: one doorway each, audited.

Payers, an inquiry's insurance coverages and their benefits checks, and self-pay cost estimates.
A coverage and an estimate belong to an admissions inquiry: they are checked against its site,
audited against its patient, and a benefits check moves an assessed inquiry along the pipeline,
with the admissions helpers that do the same for every other step.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.admissions.domain import pipeline
from openiop.admissions.models import Inquiry
from openiop.admissions.services.common import (
    acting_staff,
    audit_inquiry,
    lock_inquiry,
    require_inquiry,
    set_stage,
    validate_model,
)
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.domain import fees
from openiop.billing.models import (
    BenefitsVerification,
    CostEstimate,
    Coverage,
    Payer,
    PovertyGuidelineYear,
)
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation


def payer_check(payer: Payer) -> None:
    """The rules a payer must meet to be saved (new or changed): a name not blank and not another
    payer's of the organization (case ignored), a known type. Raises RuleViolation on the field."""
    payer.name = (payer.name or "").strip()
    payer.payer_id = (payer.payer_id or "").strip()
    validate_model(payer, exclude=["organization"])
    taken = Payer.objects.filter(organization_id=payer.organization_id, name__iexact=payer.name)
    if taken.exclude(pk=payer.pk).exists():
        raise RuleViolation(f"{payer.name} is already a payer.", code="duplicate", field="name")


def payer_create(
    *, organization_id: int, name: str, payer_id: str, payer_type: str, by: Actor
) -> Payer:
    """Add a payer to the organization's list. Raises RuleViolation for a blank or repeated name
    or an unknown type; NotPermitted (audited) without Cap.BENEFITS_MANAGE."""
    require(by, Cap.BENEFITS_MANAGE, object_type="payer")
    payer = Payer(
        organization_id=organization_id, name=name, payer_id=payer_id, payer_type=payer_type
    )
    payer_check(payer)
    with transaction.atomic():
        payer.save()
        audit_record(
            by, action=AuditAction.CREATE, object_type="payer", object_id=payer.pk, detail={}
        )
    return payer


PAYER_FIELDS = ("name", "payer_id", "payer_type", "is_active")


def payer_update(*, payer: Payer, by: Actor, **fields: Any) -> Payer:
    """Rename, retype or (de)activate a payer (PAYER_FIELDS); an inactive payer is offered for no
    new coverage, and the coverages that name it keep it. Audited with the fields changed, before
    and after. Raises RuleViolation as payer_create does; NotPermitted (audited) without
    Cap.BENEFITS_MANAGE."""
    require(by, Cap.BENEFITS_MANAGE, object_type="payer")
    unknown = set(fields) - set(PAYER_FIELDS)
    if unknown:
        raise TypeError(f"payer_update: unknown fields {sorted(unknown)}")
    with transaction.atomic():
        current = Payer.objects.select_for_update().get(pk=payer.pk)
        before = {f: getattr(current, f) for f in fields}
        for field, value in fields.items():
            setattr(current, field, value)
        payer_check(current)
        changed = [f for f in fields if getattr(current, f) != before[f]]
        if changed:
            current.save(update_fields=[*changed, "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                object_type="payer",
                object_id=current.pk,
                detail={
                    "fields": changed,
                    "before": {f: before[f] for f in changed},
                    "after": {f: getattr(current, f) for f in changed},
                },
            )
    for field in fields:
        setattr(payer, field, getattr(current, field))
    return payer


COVERAGE_FIELDS = (
    "rank",
    "member_id",
    "group_number",
    "subscriber_name",
    "subscriber_relationship",
    "start_date",
    "end_date",
)


def coverage_add(*, inquiry: Inquiry, payer: Payer, by: Actor, **fields: Any) -> Coverage:
    """Record an insurance coverage of the inquiry's person (and patient, once admitted).

    Raises RuleViolation for a second current coverage of the same rank, an end before the start,
    a payer of another organization; NotPermitted (audited) without Cap.BENEFITS_MANAGE.
    """
    unknown = sorted(set(fields) - set(COVERAGE_FIELDS))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    require_inquiry(by, Cap.BENEFITS_MANAGE, inquiry)
    if payer.organization_id != inquiry.organization_id:
        raise RuleViolation("Choose one of your organization's payers.", code="org", field="payer")
    coverage = Coverage(inquiry=inquiry, patient_id=inquiry.patient_id, payer=payer, **fields)
    validate_model(coverage, exclude=["inquiry", "patient", "payer"])
    if coverage.start_date and coverage.end_date and coverage.end_date < coverage.start_date:
        raise RuleViolation(
            "The coverage cannot end before it starts.", code="dates", field="end_date"
        )
    with transaction.atomic():
        if Coverage.objects.filter(
            inquiry=inquiry, rank=coverage.rank, end_date__isnull=True
        ).exists():
            raise RuleViolation(
                f"There is already a {coverage.get_rank_display().lower()} coverage; end it or "
                "choose the other rank.",
                code="rank_taken",
                field="rank",
            )
        coverage.save()
        audit_inquiry(
            by,
            inquiry,
            AuditAction.CREATE,
            {"coverage": coverage.pk, "payer": payer.pk, "rank": coverage.rank},
            object_type="coverage",
        )
    return coverage


VERIFICATION_FIELDS = (
    "in_network",
    "iop_covered",
    "deductible_amount",
    "deductible_met_amount",
    "copay_per_day",
    "coinsurance_percent",
    "prior_auth_required",
    "days_allowed",
    "reference_number",
    "payer_contact",
)


def benefits_verify(*, coverage: Coverage, by: Actor, **fields: Any) -> BenefitsVerification:
    """Record what the payer said about IOP benefits (who, when, reference number).

    An assessed inquiry moves to 'benefits verified'. Raises RuleViolation without a reference
    number, for a met amount above the deductible, a coinsurance outside 0-100 %, both or neither
    of copay and coinsurance when IOP is covered; NotPermitted (audited) without
    Cap.BENEFITS_MANAGE.
    """
    unknown = sorted(set(fields) - set(VERIFICATION_FIELDS))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    inquiry = coverage.inquiry
    require_inquiry(by, Cap.BENEFITS_MANAGE, inquiry)
    check = BenefitsVerification(
        coverage=coverage, verified_by=by.user, verified_at=clock.now(), **fields
    )
    check.reference_number = (check.reference_number or "").strip()
    validate_model(check, exclude=["coverage", "verified_by"])
    if check.deductible_met_amount > check.deductible_amount:
        raise RuleViolation(
            "The amount met cannot be more than the deductible.",
            code="deductible",
            field="deductible_met_amount",
        )
    if check.coinsurance_percent is not None and not (0 <= check.coinsurance_percent <= 100):
        raise RuleViolation(
            "Coinsurance is a percent from 0 to 100.", code="range", field="coinsurance_percent"
        )
    if check.iop_covered and (check.copay_per_day is None) == (check.coinsurance_percent is None):
        raise RuleViolation(
            "Enter either the copay per day or the coinsurance percent (one of them).",
            code="cost_share",
            field="copay_per_day",
        )
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        check.save()
        # Only an assessed inquiry moves on; one verified earlier moves when its assessment is
        # decided (assessment_decide), so the board never shows 'benefits verified' unassessed.
        if current.stage == pipeline.ASSESSED:
            set_stage(current, pipeline.BENEFITS_VERIFIED, by)
        audit_inquiry(
            by,
            current,
            AuditAction.CREATE,
            {
                "verification": check.pk,
                "in_network": check.in_network,
                "iop_covered": check.iop_covered,
            },
            object_type="benefits_verification",
        )
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return check


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
