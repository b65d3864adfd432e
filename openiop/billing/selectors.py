"""Reads of billing data: access checked and audited here, so no interface can forget.

A coverage or an estimate is read with the rights over its inquiry (same site check as every
admissions read); the payer list is the organization's, no patient data.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from openiop.accounts.access import require, require_site
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.models import CostEstimate, Coverage, Payer
from openiop.core.actor import Actor
from openiop.core.errors import NotFound


def coverage_get(*, actor: Actor, coverage_id: int, cap: Cap = Cap.BENEFITS_MANAGE) -> Coverage:
    coverage = (
        Coverage.objects.select_related("inquiry__site", "payer").filter(pk=coverage_id).first()
    )
    if coverage is None:
        raise NotFound("There is no coverage with this number.")
    inquiry = coverage.inquiry
    require_site(actor, inquiry.site_id, cap, object_type="coverage", patient_id=inquiry.patient_id)
    audit_record(
        actor,
        action=AuditAction.VIEW,
        patient_id=inquiry.patient_id,
        object_type="coverage",
        object_id=coverage.pk,
    )
    return coverage


def estimate_get(*, actor: Actor, estimate_id: int) -> CostEstimate:
    estimate = (
        CostEstimate.objects.select_related("inquiry__site", "inquiry__organization")
        .filter(pk=estimate_id)
        .first()
    )
    if estimate is None:
        raise NotFound("There is no estimate with this number.")
    inquiry = estimate.inquiry
    require_site(
        actor,
        inquiry.site_id,
        Cap.BENEFITS_MANAGE,
        object_type="cost_estimate",
        patient_id=inquiry.patient_id,
    )
    audit_record(
        actor,
        action=AuditAction.VIEW,
        patient_id=inquiry.patient_id,
        object_type="cost_estimate",
        object_id=estimate.pk,
    )
    return estimate


def payers(*, actor: Actor, organization_id: int, search: str = "") -> QuerySet[Payer]:
    """The organization's active payers by name; `search` matches the name or the payer ID."""
    require(actor, Cap.BENEFITS_MANAGE, object_type="payer")
    qs = Payer.objects.filter(organization_id=organization_id, is_active=True)
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(payer_id__icontains=search))
    return qs.order_by("name", "id")
