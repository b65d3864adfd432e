"""Reads of billing data: access checked and audited here, so no interface can forget.

A coverage or an estimate is read with the rights over its inquiry (same site check as every
admissions read); the payer list is the organization's, no patient data. A patient's charges are
read with the rights over the patient (their site); a site's unbilled days with the rights over
the site, one audit entry naming every patient listed.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from openiop.accounts.access import get_for, require, require_site
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.billing.models import Charge, CostEstimate, Coverage, Payer, UnbilledDay
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.patients.models import Patient


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


def patient_charges(
    *,
    actor: Actor,
    patient_id: int,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> list[Charge]:
    """A patient's charges (voided ones too) by date, each with its payer, program and
    adjustments, optionally from `period_start` to `period_end`. Raises NotFound, NotPermitted
    (audited) without Cap.REVENUE_MANAGE or for a patient at another site. Three queries."""
    get_for(
        actor,
        Patient.objects.all(),
        patient_id,
        cap=Cap.REVENUE_MANAGE,
        object_type="charges",
        missing=NotFound("There is no patient with this number."),
        patient_of=lambda p: p,
    )
    qs = Charge.objects.filter(patient_id=patient_id)
    if period_start is not None:
        qs = qs.filter(service_date__gte=period_start)
    if period_end is not None:
        qs = qs.filter(service_date__lte=period_end)
    return list(
        qs.select_related("payer", "track")
        .prefetch_related("adjustments")
        .order_by("service_date", "code", "id")
    )


def site_unbilled_days(
    *, actor: Actor, site_id: int, period_start: dt.date, period_end: dt.date
) -> list[UnbilledDay]:
    """The attended services of a site left unbilled from `period_start` to `period_end`, with
    why (as the last posting found them), by date, with patient, payer and program. One audit
    entry names every patient listed. Raises NotPermitted (audited) without Cap.REVENUE_MANAGE
    or for a site the actor may not see."""
    require_site(actor, site_id, Cap.REVENUE_MANAGE, object_type="unbilled_day")
    rows = list(
        UnbilledDay.objects.filter(
            site_id=site_id, service_date__gte=period_start, service_date__lte=period_end
        )
        .select_related("patient", "payer", "track")
        .order_by("service_date", "patient__legal_last_name", "id")
    )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="unbilled_day",
        patient_ids=[r.patient_id for r in rows],
        object_id=site_id,
        detail={"period": [period_start.isoformat(), period_end.isoformat()], "rows": len(rows)},
    )
    return rows
