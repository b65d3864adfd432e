"""Reads of billing data: access checked and audited here, so no interface can forget.

A coverage or an estimate is read with the rights over its inquiry (same site check as every
admissions read); the payer list is the organization's, no patient data.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from openiop.accounts.access import get_for, require
from openiop.accounts.domain import Cap
from openiop.billing.models import CostEstimate, Coverage, Payer
from openiop.core.actor import Actor
from openiop.core.errors import NotFound


def coverage_get(*, actor: Actor, coverage_id: int, cap: Cap = Cap.BENEFITS_MANAGE) -> Coverage:
    return get_for(
        actor,
        Coverage.objects.select_related("inquiry__site", "payer"),
        coverage_id,
        cap=cap,
        object_type="coverage",
        missing=NotFound("There is no coverage with this number."),
        site_of=lambda c: c.inquiry.site_id,
        patient_id_of=lambda c: c.inquiry.patient_id,
    )


def estimate_get(*, actor: Actor, estimate_id: int) -> CostEstimate:
    return get_for(
        actor,
        CostEstimate.objects.select_related("inquiry__site", "inquiry__organization"),
        estimate_id,
        cap=Cap.BENEFITS_MANAGE,
        object_type="cost_estimate",
        missing=NotFound("There is no estimate with this number."),
        site_of=lambda e: e.inquiry.site_id,
        patient_id_of=lambda e: e.inquiry.patient_id,
    )


def payers(*, actor: Actor, organization_id: int, search: str = "") -> QuerySet[Payer]:
    """The organization's active payers by name; `search` matches the name or the payer ID."""
    require(actor, Cap.BENEFITS_MANAGE, object_type="payer")
    qs = Payer.objects.filter(organization_id=organization_id, is_active=True)
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(payer_id__icontains=search))
    return qs.order_by("name", "id")
