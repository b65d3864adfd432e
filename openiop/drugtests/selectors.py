"""Reads of drug and alcohol testing: access checked and audited here.

Results are read with Cap.DRUGTEST_VIEW (clinicians, prescribers and nurses, the director); case
managers, intake, billing, administrators and auditors do not see them (minimum necessary).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from openiop.accounts.access import get_for, require, site_scope, visible_sites
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.drugtests.domain import ANALYTE_LABELS, Analyte
from openiop.drugtests.models import (
    DrugTestOrder,
    DrugTestResult,
    FlagStatus,
    OrderReason,
    OrderStatus,
    RandomDraw,
    ReconciliationFlag,
)
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_match
from openiop.programs.models import Site

READ_CAP = Cap.DRUGTEST_VIEW


def _orders() -> QuerySet[DrugTestOrder]:
    return DrugTestOrder.objects.select_related("ordered_by", "resulted_by").prefetch_related(
        Prefetch("results", queryset=DrugTestResult.objects.order_by("analyte")),
        Prefetch("flags", queryset=ReconciliationFlag.objects.order_by("id")),
    )


@dataclass
class TrendRow:
    day: dt.date
    order: DrugTestOrder
    cells: list[str]  # per trend analyte: "positive", "negative" or "" (not tested)


@dataclass
class BamPoint:
    day: dt.date
    use: int | None


@dataclass
class PatientTests:
    patient: Patient
    orders: QuerySet[DrugTestOrder]
    analytes: list[tuple[str, str]]
    trend: list[TrendRow]
    bam: list[BamPoint]
    open_flags: int


def patient_tests(*, actor: Actor, patient_id: int) -> PatientTests:
    """A patient's tests (newest first, a queryset to paginate), the trend over the resulted ones
    (oldest first, one column per analyte ever tested) and, beside it, the BAM use subscale over
    the same time. One audit entry."""
    patient = get_for(
        actor,
        Patient.objects.select_related("site", "organization"),
        patient_id,
        cap=READ_CAP,
        object_type="drug_tests",
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
    )
    orders = _orders().filter(patient=patient).order_by("-ordered_at", "-id")
    resulted = [
        o
        for o in _orders().filter(patient=patient, status="resulted").order_by("collected_at", "id")
    ]
    tested = sorted({r.analyte for o in resulted for r in o.results.all()})
    analytes = [(a, ANALYTE_LABELS[Analyte(a)]) for a in tested]
    tz = patient.site.tz
    trend = []
    for o in resulted:
        by = {r.analyte: r.outcome for r in o.results.all()}
        day = (o.collected_at or o.ordered_at).astimezone(tz).date()
        trend.append(TrendRow(day=day, order=o, cells=[by.get(a, "") for a in tested]))
    from openiop.measures.models import Response

    bam = [
        BamPoint(day=at.astimezone(tz).date(), use=(sub or {}).get("use"))
        for at, sub in Response.objects.filter(patient=patient, instrument="bam")
        .order_by("administered_at")
        .values_list("administered_at", "subscales")
    ]
    open_flags = ReconciliationFlag.objects.filter(
        order__patient=patient, status=FlagStatus.OPEN
    ).count()
    return PatientTests(
        patient=patient,
        orders=orders,
        analytes=analytes,
        trend=trend,
        bam=bam,
        open_flags=open_flags,
    )


def order_get(*, actor: Actor, order_id: int, purpose: str = "drug_test") -> DrugTestOrder:
    return get_for(
        actor,
        _orders().select_related("patient__site", "episode__site", "draw"),
        order_id,
        cap=READ_CAP,
        object_type=purpose,
        missing=NotFound("There is no drug test with this number.", code="drug_test_not_found"),
        patient_of=lambda o: o.patient,
    )


def flag_get(*, actor: Actor, flag_id: int) -> ReconciliationFlag:
    return get_for(
        actor,
        ReconciliationFlag.objects.select_related(
            "order__patient__site", "order__episode__site", "responded_by"
        ).prefetch_related("order__results"),
        flag_id,
        cap=READ_CAP,
        object_type="drug_test_flag",
        missing=NotFound("There is no flag with this number.", code="flag_not_found"),
        patient_of=lambda f: f.order.patient,
    )


def flag_page(
    *,
    actor: Actor,
    q: str = "",
    status: str = FlagStatus.OPEN,
    site_id: int | None = None,
    page: str | int | None = None,
    per_page: int = 25,
) -> Page[ReconciliationFlag]:
    """One page of the flags at the actor's sites (open ones by default, oldest first: they wait
    longest), `q` keeping the patients that match the search box and `site_id` one site of the
    episode the test was ordered in (the site Today counts it at). A fixed number of queries; one
    audit entry names the patients on the page shown, not those of other pages."""
    require(actor, READ_CAP, object_type="drug_test_flags")
    flags = (
        ReconciliationFlag.objects.filter(site_scope(actor, "order__episode__site_id"))
        .filter(patient_match(q, prefix="order__patient__"))
        .select_related(
            "order__patient", "order__episode__site", "order__ordered_by", "responded_by"
        )
    )
    if site_id is not None:
        flags = flags.filter(order__episode__site_id=site_id)
    if status in FlagStatus.values:
        flags = flags.filter(status=status)
    shown = Paginator(flags.order_by("created_at", "id"), per_page).get_page(page)
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="drug_test_flags",
        patient_ids=[f.order.patient_id for f in shown.object_list],
    )
    return shown


@dataclass
class DrawPage:
    sites: list[Site]
    site: Site | None
    draws: list[RandomDraw]
    counts: dict[int, int]


def draw_page(*, actor: Actor, site_id: str | None) -> DrawPage:
    """The sites the actor may draw at and one site's draws (newest first). Names no patient: a
    draw's patients are on its orders. Audited as a view of the draws."""
    require(actor, Cap.DRUGTEST_RECORD, object_type="drug_test_draws")
    from openiop.accounts.access import pick_site

    sites = list(visible_sites(actor, for_new_work=True))
    site = pick_site(actor, sites, site_id)
    draws: list[RandomDraw] = []
    counts: dict[int, int] = {}
    if site is not None:
        draws = list(
            RandomDraw.objects.filter(site=site)
            .select_related("drawn_by")
            .annotate(n=Count("orders", filter=Q(orders__status="resulted")))[:52]
        )
        counts = {d.pk: d.n for d in draws}  # type: ignore[attr-defined]
    audit_record_many(actor, action=AuditAction.VIEW, object_type="drug_test_draws", patient_ids=[])
    return DrawPage(sites=sites, site=site, draws=draws, counts=counts)


def header_last_test(patient_id: int) -> dt.date | None:
    """The day of the patient's last resulted test (collected, else resulted), in the clinic's
    time zone of the episode it was ordered in; None before any. One query. Not audited on its
    own: part of a page whose selector audits the view, shown only with Cap.DRUGTEST_VIEW."""
    row = (
        DrugTestOrder.objects.filter(patient_id=patient_id, status=OrderStatus.RESULTED)
        .annotate(at=Coalesce("collected_at", "resulted_at"))
        .exclude(at=None)
        .order_by("-at", "-id")
        .values_list("at", "episode__site__timezone")
        .first()
    )
    if row is None:
        return None
    at, tz_name = row
    day: dt.date = at.astimezone(ZoneInfo(tz_name)).date()
    return day


@dataclass(frozen=True)
class SiteTestWork:
    """What waits at one site on the Today board: tests ordered and not yet resulted (`due`, of
    which `random` from a weekly draw) and results whose flags wait for the prescriber."""

    site_id: int
    site_name: str
    due: int
    random: int
    unreconciled: int


def today_test_work(*, actor: Actor) -> list[SiteTestWork]:
    """Tests due and unreconciled results, counted per site the actor sees (the site of the
    episode the test was ordered in), by site name; sites with nothing waiting are left out.
    Two queries. Names no patient, so it writes no audit entry of its own (Today audits its
    view). Raises NotPermitted without Cap.DRUGTEST_VIEW."""
    require(actor, READ_CAP, object_type="drug_test_work")
    due = (
        DrugTestOrder.objects.filter(site_scope(actor, "episode__site_id"))
        .filter(status=OrderStatus.ORDERED)
        .order_by()
        .values("episode__site_id", "episode__site__name")
        .annotate(n=Count("id"), random=Count("id", filter=Q(reason=OrderReason.RANDOM)))
    )
    flagged = (
        ReconciliationFlag.objects.filter(site_scope(actor, "order__episode__site_id"))
        .filter(status=FlagStatus.OPEN)
        .order_by()
        .values("order__episode__site_id", "order__episode__site__name")
        .annotate(n=Count("order_id", distinct=True))
    )
    names = {r["episode__site_id"]: r["episode__site__name"] for r in due}
    counts = {r["episode__site_id"]: (r["n"], r["random"]) for r in due}
    unreconciled: dict[int, int] = {}
    for r in flagged:
        names[r["order__episode__site_id"]] = r["order__episode__site__name"]
        unreconciled[r["order__episode__site_id"]] = r["n"]
    return sorted(
        (
            SiteTestWork(
                site_id=site_id,
                site_name=name,
                due=counts.get(site_id, (0, 0))[0],
                random=counts.get(site_id, (0, 0))[1],
                unreconciled=unreconciled.get(site_id, 0),
            )
            for site_id, name in names.items()
        ),
        key=lambda w: (w.site_name, w.site_id),
    )
