"""Reads of claims for the billing worklist and the claim page: access checked and audited here.

Every read needs Cap.REVENUE_MANAGE at the claim's site; a list writes one audit entry naming
every patient on the page shown, a claim one entry naming its patient. Billing users see no note
text here: a claim holds codes, dates and amounts only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Sum

from openiop.accounts.access import get_for, require_site
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.billing.domain import ledger, x12
from openiop.billing.domain.remittance import PostingKind
from openiop.billing.models import Charge, Claim, ClaimEvent, ClaimExport, ClaimLine
from openiop.billing.models.claims import ClaimState
from openiop.billing.models.remittances import DenialWorkItem, RemittancePosting
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.patients.selectors import patient_match

PAGE_SIZE = 25

# The worklist's claim tabs and the states each shows.
TAB_STATES: dict[str, tuple[str, ...]] = {
    "draft": (ClaimState.DRAFT,),
    "ready": (ClaimState.READY,),
    "submitted": (ClaimState.SUBMITTED, ClaimState.ACCEPTED),
    "denied": (ClaimState.DENIED, ClaimState.REJECTED),
}
# A/R: claims the payer has (sent, not rejected). Each counts for what its remittances left open
# (billing.domain.ledger.claim_open_amount): a paid claim drops out, a denied amount stays until
# the denial is worked.
AGING_STATES = (
    ClaimState.SUBMITTED,
    ClaimState.ACCEPTED,
    ClaimState.PAID,
    ClaimState.PARTIALLY_PAID,
    ClaimState.DENIED,
    ClaimState.APPEALED,
)


def claims_page(
    *, actor: Actor, site_id: int, tab: str, search: str = "", page_number: str | None = None
) -> Page[Claim]:
    """One page of the site's claims in `tab` (TAB_STATES), newest first, each with its patient,
    payer and its error and warning counts; `search` matches the patient's name or MRN, the
    payer's name or the patient control number. Audited: one entry naming the page's patients.
    Raises NotPermitted (audited) without Cap.REVENUE_MANAGE at the site. Four queries."""
    require_site(actor, site_id, Cap.REVENUE_MANAGE, object_type="claim_worklist")
    qs = (
        Claim.objects.filter(site_id=site_id, state__in=TAB_STATES.get(tab, ("draft",)))
        .select_related("patient", "payer", "track")
        .annotate(
            errors=Count("edits", filter=Q(edits__severity="error")),
            warnings=Count("edits", filter=Q(edits__severity="warning")),
        )
        .order_by("-statement_from", "-id")
    )
    search = search.strip()[:100]
    if search:
        qs = qs.filter(
            patient_match(search)
            | Q(payer__name__icontains=search)
            | Q(patient_control_number__iexact=search)
        )
    page = cast("Page[Claim]", Paginator(qs, PAGE_SIZE).get_page(page_number))
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="claim_worklist",
        patient_ids=[c.patient_id for c in page.object_list],
        object_id=site_id,
        detail={"tab": tab, "rows": len(page.object_list)},
    )
    return page


def charges_page(
    *, actor: Actor, site_id: int, search: str = "", page_number: str | None = None
) -> Page[Charge]:
    """One page of the site's posted charges, latest service date first, each with its patient
    and payer; `search` matches the patient's name or MRN, the payer's name or the code. Audited:
    one entry naming the page's patients. Raises NotPermitted (audited) without
    Cap.REVENUE_MANAGE at the site. Three queries."""
    require_site(actor, site_id, Cap.REVENUE_MANAGE, object_type="charge_list")
    qs = (
        Charge.objects.filter(site_id=site_id)
        .select_related("patient", "payer")
        .order_by("-service_date", "patient__legal_last_name", "-id")
    )
    search = search.strip()[:100]
    if search:
        qs = qs.filter(
            patient_match(search) | Q(payer__name__icontains=search) | Q(code__iexact=search)
        )
    page = Paginator(qs, PAGE_SIZE).get_page(page_number)
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="charge_list",
        patient_ids=[c.patient_id for c in page.object_list],
        object_id=site_id,
        detail={"rows": len(page.object_list)},
    )
    return page


@dataclass(frozen=True)
class AgingView:
    aging: ledger.Aging
    claims: int


def claims_aging(*, actor: Actor, site_id: int, as_of: dt.date) -> AgingView:
    """A/R aging by payer of the site's sent claims (billing.domain.ledger.aging: 0-30, 31-60,
    61-90, 90+ days from the day each was submitted), each for its open amount: its total less
    what its remittances paid, adjusted or moved to the patient (ledger.claim_open_amount; a
    denied amount stays open until it is written off). A void (frequency 8) and a claim a correction replaced are left
    out once the correction is sent: it carries what is owed. Claims with nothing open are not counted. Payers
    only, no patient is shown; audited naming the patients whose claims are counted. Four
    queries."""
    require_site(actor, site_id, Cap.REVENUE_MANAGE, object_type="claim_aging")
    # Replaced: a correction of it was sent (a draft correction has not reached the payer).
    replaced = Claim.objects.filter(replaces_id=OuterRef("pk"), state__in=AGING_STATES)
    rows = list(
        Claim.objects.filter(site_id=site_id, state__in=AGING_STATES)
        .exclude(frequency=x12.ClaimFrequency.VOID.value)
        .exclude(Exists(replaced))
        .annotate(submitted_at=Max("events__at", filter=Q(events__event="submit")))
        .values_list("pk", "patient_id", "payer__name", "total", "submitted_at", "statement_to")
    )
    posted: dict[int, list[tuple[PostingKind, Decimal]]] = defaultdict(list)
    for claim_id, kind, amount in (
        RemittancePosting.objects.filter(claim_id__in=[r[0] for r in rows])
        .values("claim_id", "kind")
        .annotate(amount=Sum("amount"))
        .values_list("claim_id", "kind", "amount")
    ):
        posted[claim_id].append((PostingKind(kind), Decimal(amount)))
    written_off = dict(
        DenialWorkItem.objects.filter(claim_id__in=[r[0] for r in rows], written_off__gt=0)
        .values("claim_id")
        .annotate(amount=Sum("written_off"))
        .values_list("claim_id", "amount")
    )
    items = []
    counted: list[int] = []
    for pk, patient_id, payer, total, submitted, until in rows:
        amount = ledger.claim_open_amount(
            Decimal(total), posted[pk], Decimal(written_off.get(pk, 0))
        )
        if amount <= 0:
            continue
        counted.append(patient_id)
        items.append(
            ledger.OpenItem(
                payer=payer,
                billed_on=min(submitted.date() if submitted else until, as_of),
                amount=amount,
                reference=str(pk),
            )
        )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="claim_aging",
        patient_ids=counted,
        object_id=site_id,
        detail={"claims": len(items)},
    )
    return AgingView(aging=ledger.aging(items, as_of), claims=len(items))


@dataclass(frozen=True)
class LinePayment:
    """What the payer's remittances did to one claim line (or, `line` None, to the claim as a
    whole): paid, written off or reduced (CO, PI, OA), moved to the patient (PR), held by a
    denial, and each adjustment's group and reason code (CARC) with its amount."""

    line: ClaimLine | None
    paid: Decimal
    adjusted: Decimal
    patient: Decimal
    denied: Decimal
    written_off: Decimal
    codes: tuple[str, ...]

    @property
    def open(self) -> Decimal:
        """What is still owed by the payer on the line: its amount less all posted and less a
        denied amount written off."""
        charged = self.line.amount if self.line is not None else Decimal(0)
        return charged - self.paid - self.adjusted - self.patient - self.written_off


def line_payments(
    lines: list[ClaimLine],
    postings: list[RemittancePosting],
    denials: Sequence[DenialWorkItem] = (),
) -> list[LinePayment]:
    """Each line's remittance figures, in line order, then one row for the postings made at claim
    level if there are any; empty when nothing was posted (a claim not answered yet). Reversals
    (negative amounts) net out; `denials` give the denied amounts written off. No database
    access: the caller passes what it loaded."""
    if not postings:
        return []
    zero = Decimal("0.00")
    written: dict[int | None, Decimal] = defaultdict(lambda: zero)
    for denial in denials:
        written[denial.claim_line_id] += denial.written_off
    sums: dict[int | None, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: zero))
    codes: dict[int | None, list[str]] = defaultdict(list)
    for posting in postings:
        key = posting.claim_line_id
        sums[key][posting.kind] += posting.amount
        if posting.group_code and posting.reason_code:
            codes[key].append(f"{posting.group_code}-{posting.reason_code} {posting.amount}")
    adjustments = (
        PostingKind.CONTRACTUAL_WRITE_OFF,
        PostingKind.PAYER_REDUCTION,
        PostingKind.OTHER_ADJUSTMENT,
    )

    def row(line: ClaimLine | None, key: int | None) -> LinePayment:
        by_kind = sums.get(key, {})
        return LinePayment(
            line=line,
            paid=by_kind.get(PostingKind.PAYMENT, zero),
            adjusted=sum((by_kind.get(k, zero) for k in adjustments), zero),
            patient=by_kind.get(PostingKind.PATIENT_RESPONSIBILITY, zero),
            denied=by_kind.get(PostingKind.DENIAL, zero),
            written_off=written.get(key, zero),
            codes=tuple(codes.get(key, ())),
        )

    rows = [row(line, line.pk) for line in lines]
    if None in sums:
        rows.append(row(None, None))
    return rows


def claim_get(*, actor: Actor, claim_id: int) -> Claim:
    """One claim with its lines, edits, history (with who), exports, the claim it corrects, its
    corrections and the remittances' postings. Audited naming the patient. Raises NotFound,
    NotPermitted (audited)."""
    return get_for(
        actor,
        Claim.objects.select_related(
            "patient", "payer", "track", "site", "coverage", "replaces", "episode"
        ).prefetch_related(
            Prefetch("lines", queryset=ClaimLine.objects.order_by("number")),
            Prefetch(
                "remittance_postings",
                queryset=RemittancePosting.objects.order_by("posted_at", "id"),
            ),
            Prefetch("denials", queryset=DenialWorkItem.objects.filter(written_off__gt=0)),
            "edits",
            Prefetch("events", queryset=ClaimEvent.objects.select_related("by")),
            Prefetch("exports", queryset=ClaimExport.objects.only("id", "file_name", "created_at")),
            "corrections",
        ),
        claim_id,
        cap=Cap.REVENUE_MANAGE,
        object_type="claim",
        missing=NotFound("There is no claim with this number."),
        site_of=lambda c: c.site,
        patient_id_of=lambda c: c.patient_id,
    )


def claim_export_get(*, actor: Actor, export_id: int) -> ClaimExport:
    """An 837 file written, for download. Audited (export) naming every patient it carries."""
    export = get_for(
        actor,
        ClaimExport.objects.select_related("site"),
        export_id,
        cap=Cap.REVENUE_MANAGE,
        object_type="claim_export",
        missing=NotFound("There is no such claim file."),
        site_of=lambda e: e.site,
        action=None,
    )
    audit_record_many(
        actor,
        action=AuditAction.EXPORT,
        object_type="claim_export",
        patient_ids=list(export.claims.values_list("patient_id", flat=True)),
        object_id=export.pk,
        detail={"file": export.file_name},
    )
    return export


def site_exports(*, actor: Actor, site_id: int, limit: int = 10) -> QuerySet[ClaimExport]:
    """The site's latest 837 files (names, dates, payer, claim counts), no patient data."""
    require_site(actor, site_id, Cap.REVENUE_MANAGE, object_type="claim_export")
    return (
        ClaimExport.objects.filter(site_id=site_id)
        .select_related("payer")
        .annotate(claim_count=Count("claims"))
        .only("id", "file_name", "created_at", "claim_form", "payer__name")
        .order_by("-created_at", "-id")[:limit]
    )
