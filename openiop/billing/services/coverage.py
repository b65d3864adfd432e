"""An inquiry's insurance coverages and their benefits checks.

A coverage belongs to an admissions inquiry: it is checked against the inquiry's site, audited
against its patient, and a benefits check moves an assessed inquiry along the pipeline, with the
admissions helpers that do the same for every other step.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from openiop.accounts.domain import Cap
from openiop.admissions.domain import pipeline
from openiop.admissions.models import Inquiry
from openiop.admissions.services.common import (
    audit_inquiry,
    lock_inquiry,
    require_inquiry,
    set_stage,
    validate_model,
)
from openiop.audit.models import AuditAction
from openiop.billing.models import BenefitsVerification, Coverage, Payer
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation

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
