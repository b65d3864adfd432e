"""Reads of remittances, denials and the unmatched queue: access checked and audited here.

A remittance is its organization's (Cap.REVENUE_MANAGE in that organization); its claims and
postings, the denial worklist and a claim looked up to attach an unmatched item are read only at
the sites the actor may see, and every page that names our patients' claims writes one audit
entry naming those patients. Kept apart from billing.selectors so the import contract (selectors
import no services) holds for it too: it imports no service but the audit log's writer.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from openiop.accounts.access import get_for, require, site_scope
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.billing.choices_remittances import DenialStatus, UnmatchedStatus
from openiop.billing.models import (
    Claim,
    ClaimLine,
    DenialWorkItem,
    ImportReportLine,
    Remittance,
    RemittanceClaim,
    UnmatchedRemittanceItem,
)
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.programs.models import Site

PAGE_SIZE = 25


def organization_of(actor: Actor) -> int | None:
    """The actor's organization: theirs, else their first visible site's (None: no site)."""
    user = actor.user
    if user is not None and user.organization_id:
        return int(user.organization_id)
    site = Site.objects.filter(site_scope(actor, "id")).order_by("id").first()
    return int(site.organization_id) if site is not None else None


def _of_organization(actor: Actor, field: str = "organization_id") -> Q:
    """Rows of the actor's organization (none when they work at no site)."""
    org = organization_of(actor)
    return Q(pk__in=[]) if org is None else Q(**{field: org})


def remittances(*, actor: Actor, search: str = "") -> QuerySet[Remittance]:
    """The organization's remittances, newest first; `search` matches the trace number, the
    payer or the file name. No patient data (amounts and payers)."""
    require(actor, Cap.REVENUE_MANAGE, object_type="remittance")
    qs = Remittance.objects.filter(_of_organization(actor)).select_related("imported_by")
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(trace_number__icontains=search)
            | Q(payer_name__icontains=search)
            | Q(file_name__icontains=search)
        )
    return qs.defer("raw_content").order_by("-imported_at", "-id")


def remittance_get(
    *, actor: Actor, remittance_id: int
) -> tuple[Remittance, list[RemittanceClaim], list[ImportReportLine]]:
    """One remittance with its claims (ours at the actor's sites, and those that matched none)
    and its report. Three queries and one audit entry naming the patients whose claims it shows.
    Raises NotFound for a remittance of another organization."""
    require(actor, Cap.REVENUE_MANAGE, object_type="remittance")
    remittance = (
        Remittance.objects.filter(_of_organization(actor), pk=remittance_id)
        .select_related("imported_by", "payer")
        .defer("raw_content")
        .first()
    )
    if remittance is None:
        raise NotFound("There is no remittance with this number.")
    claims = list(
        RemittanceClaim.objects.filter(remittance=remittance)
        .filter(Q(claim__isnull=True) | site_scope(actor, "claim__site_id"))
        .select_related("claim__patient")
        .order_by("position")
    )
    report = list(ImportReportLine.objects.filter(remittance=remittance).order_by("line_no"))
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="remittance",
        patient_ids=[c.claim.patient_id for c in claims if c.claim is not None],
        object_id=remittance.pk,
    )
    return remittance, claims, report


def denial_page(
    *, actor: Actor, search: str = "", status: str = DenialStatus.OPEN, page: str | None = None
) -> Page[DenialWorkItem]:
    """One page of the denial worklist at the actor's sites, by payer, group and reason;
    `status` open, worked, closed or "" for all; `search` matches the payer, the reason code,
    the claim number or the patient's last name. One audit entry names the patients shown."""
    require(actor, Cap.REVENUE_MANAGE, object_type="denial")
    qs = DenialWorkItem.objects.filter(site_scope(actor, "claim__site_id"))
    if status in DenialStatus.values:
        qs = qs.filter(status=status)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(payer_name__icontains=search)
            | Q(reason_code__iexact=search)
            | Q(claim__patient_control_number__icontains=search)
            | Q(claim__patient__legal_last_name__icontains=search)
        )
    qs = qs.select_related("claim__patient", "claim_line", "owner").order_by(
        "payer_name", "group_code", "reason_code", "created_at", "id"
    )
    shown = Paginator(qs, PAGE_SIZE).get_page(page)
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="denial",
        patient_ids=[d.claim.patient_id for d in shown.object_list],
        detail={"search": search[:100], "status": status},
    )
    return shown


def denial_get(*, actor: Actor, denial_id: int) -> DenialWorkItem:
    """One denial work item at a site the actor may see (audited)."""
    return get_for(
        actor,
        DenialWorkItem.objects.select_related("claim", "claim__site"),
        denial_id,
        cap=Cap.REVENUE_MANAGE,
        object_type="denial",
        missing=NotFound("There is no denial with this number."),
        site_of=lambda d: d.claim.site_id,
        patient_id_of=lambda d: d.claim.patient_id,
    )


def unmatched_items(
    *, actor: Actor, search: str = "", status: str = UnmatchedStatus.OPEN
) -> QuerySet[UnmatchedRemittanceItem]:
    """The organization's unmatched queue, oldest remittance first; `search` matches the
    patient control number, the payer's claim number or the trace number. Shows what the payer
    sent (numbers and money), none of our patients."""
    require(actor, Cap.REVENUE_MANAGE, object_type="unmatched_remittance")
    qs = UnmatchedRemittanceItem.objects.filter(
        _of_organization(actor, "remittance__organization_id")
    )
    if status in UnmatchedStatus.values:
        qs = qs.filter(status=status)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(patient_control_number__icontains=search)
            | Q(payer_claim_control_number__icontains=search)
            | Q(remittance__trace_number__icontains=search)
        )
    return qs.select_related("remittance", "remittance_claim", "resolved_to").order_by(
        "remittance__imported_at", "id"
    )


def unmatched_get(*, actor: Actor, item_id: int) -> UnmatchedRemittanceItem:
    require(actor, Cap.REVENUE_MANAGE, object_type="unmatched_remittance")
    item = (
        UnmatchedRemittanceItem.objects.filter(
            _of_organization(actor, "remittance__organization_id"), pk=item_id
        )
        .select_related("remittance", "remittance_claim")
        .first()
    )
    if item is None:
        raise NotFound("There is no unmatched remittance item with this number.")
    return item


def claim_by_number(
    *, actor: Actor, patient_control_number: str, line_number: int | None = None
) -> tuple[Claim, ClaimLine | None]:
    """Our claim with this patient control number at a site the actor may see (audited), and
    its line `line_number` when given. Raises NotFound (field claim_number / line_number)."""
    claim = get_for(
        actor,
        Claim.objects.filter(patient_control_number=patient_control_number.strip()),
        Claim.objects.filter(patient_control_number=patient_control_number.strip())
        .values_list("pk", flat=True)
        .first(),
        cap=Cap.REVENUE_MANAGE,
        object_type="claim",
        missing=NotFound(
            "There is no claim with this patient control number.", field="claim_number"
        ),
        site_of=lambda c: c.site_id,
        patient_id_of=lambda c: c.patient_id,
    )
    if line_number is None:
        return claim, None
    line = ClaimLine.objects.filter(claim=claim, number=line_number).first()
    if line is None:
        raise NotFound("The claim has no line with this number.", field="line_number")
    return claim, line
