"""Reads of authorizations and Medicare certifications: what each has used (from charges), the
burn-down forecast over the patient's schedule, the recertification clock, and the plain data the
claim scrubber reads (issue 16, points 3 and 7). Access checked and audited here.

Usage: the coverage's charges that are not voided, each at what it comes to now (its last
adjustment's units, or its own), drawn on the coverage's authorizations by
billing.domain.authorizations.allocate (the one ending first with room).

Forecast: billing.domain.authorizations.forecast over the days the patient is scheduled from
today on (programs.selectors.scheduled_days: track sessions on days an enrollment of the open
episode covers, and sessions booked for the episode, not cancelled), leaving out days already
charged under the authorization's codes. Each scheduled day is one planned unit (or day): the
per-diem line the IOP bills per attended day; an itemized authorization's several codes a day are
not forecast from the kinds of session. The planned discharge: the episode's discharge date once
it has one, else the latest end of its enrollments when all have one (the episode keeps no planned
discharge date), else none (every scheduled day counts).

Certifications: the recertification interval is the one recorded on the episode's most recently
signed certification (a field chosen when it is recorded: domain.md words it two ways, so it has no
default).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from django.core.paginator import Page, Paginator
from django.db.models import Q

from openiop.accounts.access import get_for, require, site_scope
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.billing.choices import ChargeStatus
from openiop.billing.domain import authorizations as rules
from openiop.billing.domain import claims as claim_rules
from openiop.billing.models import (
    Authorization,
    Charge,
    ChargeAdjustment,
    ConcurrentReview,
    Coverage,
    PhysicianCertification,
)
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.episodes.choices import OPEN_STATUSES
from openiop.episodes.models import Episode
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_match
from openiop.programs.selectors import scheduled_days

PAGE_SIZE = 25
# How far ahead the schedule is read for a forecast: sessions are generated ahead from the
# tracks' blocks, and an authorization rarely runs past a year.
FORECAST_HORIZON_DAYS = 366


@dataclass(frozen=True)
class ChargeLine:
    """A charge as the authorization rules read it (billing.domain.authorizations.ChargeLike)."""

    charge_id: int
    code: str
    units: int
    service_date: dt.date


def coverage_key(coverage_id: int) -> str:
    return f"coverage-{coverage_id}"


def to_domain(row: Authorization) -> rules.Authorization:
    """The stored authorization as the domain's (raises ValueError when a row is not valid)."""
    return rules.Authorization(
        reference_number=row.reference_number,
        coverage_key=coverage_key(row.coverage_id),
        unit_kind=rules.UnitKind(row.unit_kind),
        authorized=row.quantity,
        start=row.start_date,
        end=row.end_date,
        service_codes=frozenset(row.service_codes),
    )


def certification_of(row: PhysicianCertification) -> rules.Certification:
    return rules.Certification(
        signed=row.signed_on,
        physician_npi=row.physician_npi,
        physician_name=row.physician_name,
        start=row.start_date,
        certified_weekly_minutes=row.certified_weekly_minutes,
        end=row.end_date,
    )


def charge_lines(coverage_ids: Iterable[int]) -> dict[int, list[ChargeLine]]:
    """The coverages' charges that are not voided, at what each comes to now (its last
    adjustment's new units, or its own): coverage id -> lines. Two queries (one without
    charges)."""
    ids = sorted(set(coverage_ids))
    rows = list(
        Charge.objects.filter(coverage_id__in=ids)
        .exclude(status=ChargeStatus.VOIDED)
        .order_by()
        .values_list("id", "coverage_id", "code", "units", "service_date")
    )
    last_units: dict[int, int] = {}
    # The same charges by a join, not an IN list of every one of their ids; none, no query.
    adjustments = (
        ChargeAdjustment.objects.filter(charge__coverage_id__in=ids)
        .exclude(charge__status=ChargeStatus.VOIDED)
        .order_by("created_at", "id")
        .values_list("charge_id", "new_units")
    )
    for charge_id, units in adjustments if rows else ():
        last_units[charge_id] = units
    lines: dict[int, list[ChargeLine]] = defaultdict(list)
    for charge_id, coverage_id, code, units, day in rows:
        lines[coverage_id].append(
            ChargeLine(charge_id, code, last_units.get(charge_id, units), day)
        )
    return lines


# --- one authorization's state ----------------------------------------------------------------


@dataclass
class AuthorizationState:
    """An authorization with what it has used and its forecast (None once the patient has no
    open episode: nothing is scheduled)."""

    row: Authorization
    usage: rules.Usage
    forecast: rules.Forecast | None
    today: dt.date

    @property
    def used(self) -> int:
        return self.usage.used

    @property
    def runs_out_on(self) -> dt.date | None:
        """The day the quantity runs out on the schedule, or the end date if that comes first."""
        if self.usage.remaining == 0:
            return None
        f = self.forecast
        if f is not None and f.run_out is not None and f.run_out <= self.row.end_date:
            return f.run_out
        return self.row.end_date

    @property
    def before_discharge(self) -> bool:
        """Whether it runs out (quantity or dates) while days are planned before discharge."""
        f = self.forecast
        return f is not None and not self.ended and (f.shortfall > 0 or f.ends_before_discharge)

    @property
    def ended(self) -> bool:
        return self.row.end_date < self.today

    @property
    def percent_used(self) -> int:
        return self.usage.percent_used


def _open_episodes(patient_ids: Iterable[int]) -> dict[int, Episode]:
    return {
        e.patient_id: e
        for e in Episode.objects.filter(
            patient_id__in=sorted(set(patient_ids)), status__in=OPEN_STATUSES
        ).order_by()
    }


def authorization_states(
    rows: Sequence[Authorization], *, today_of: dict[int, dt.date]
) -> list[AuthorizationState]:
    """Usage and forecast of `rows` (with coverage__patient loaded); `today_of`: patient id ->
    the local date at their site. Fixed queries whatever the number of rows: the other
    authorizations of their coverages, the charges and adjustments, the open episodes, the
    enrollments and sessions."""
    coverage_ids = {r.coverage_id for r in rows}
    siblings: dict[int, list[Authorization]] = defaultdict(list)
    for a in Authorization.objects.filter(coverage_id__in=sorted(coverage_ids)).order_by("id"):
        siblings[a.coverage_id].append(a)
    lines = charge_lines(coverage_ids)
    usages: dict[int, rules.Usage] = {}
    for coverage_id, auths in siblings.items():
        allocation = rules.allocate([to_domain(a) for a in auths], lines.get(coverage_id, []))
        for a in auths:
            usages[a.pk] = allocation.usage_of(a.reference_number)
    patient_ids = {r.coverage.patient_id for r in rows if r.coverage.patient_id is not None}
    episodes = _open_episodes(patient_ids)
    first = min(today_of.values(), default=clock.now().date())
    plans = scheduled_days(
        episode_ids=sorted(e.pk for e in episodes.values()),
        first=first,
        last=first + dt.timedelta(days=FORECAST_HORIZON_DAYS),
    )
    states = []
    for row in rows:
        patient_id = row.coverage.patient_id
        today = today_of.get(patient_id or 0, first)
        usage = usages[row.pk]
        episode = episodes.get(patient_id or 0)
        forecast = None
        if episode is not None:
            plan = plans[episode.pk]
            charged = {
                c.service_date
                for c in lines.get(row.coverage_id, [])
                if c.code in row.service_codes
            }
            planned = [rules.PlannedDay(day, 1) for day in sorted(plan.days) if day not in charged]
            discharge = episode.discharge_date or plan.planned_end
            forecast = rules.forecast(
                usage.authorization,
                used=usage.used,
                planned_days=planned,
                planned_discharge=discharge,
                today=today,
            )
        states.append(AuthorizationState(row=row, usage=usage, forecast=forecast, today=today))
    return states


# --- the site list ----------------------------------------------------------------------------


def authorization_list(
    *, actor: Actor, search: str = "", page: int | str | None = 1, current_only: bool = False
) -> Page[AuthorizationState]:
    """The authorizations of the patients at the actor's sites, ending soonest first, with usage
    and forecast; `search` matches the patient (name words, MRN, date of birth), the reference
    number or the payer's name. Needs Cap.REVENUE_MANAGE. A fixed number of queries a page; one
    audit entry names the patients shown."""
    require(actor, Cap.REVENUE_MANAGE, object_type="authorization_list")
    qs = Authorization.objects.filter(site_scope(actor, "coverage__patient__site_id"))
    search = search.strip()
    if search:
        qs = qs.filter(
            patient_match(search, prefix="coverage__patient__")
            | Q(reference_number__icontains=search)
            | Q(coverage__payer__name__icontains=search)
        )
    if current_only:
        qs = qs.filter(end_date__gte=clock.now().date() - dt.timedelta(days=1))
    qs = qs.select_related("coverage__payer", "coverage__patient__site").order_by(
        "end_date", "reference_number", "id"
    )
    paged = Paginator(qs, PAGE_SIZE).get_page(page)
    rows = list(paged.object_list)
    today_of = {
        r.coverage.patient_id: clock.local_today(r.coverage.patient.site.tz)
        for r in rows
        if r.coverage.patient is not None
    }
    states = authorization_states(rows, today_of=today_of)
    # The page of rows becomes the page of their states (same number, same paginator).
    result = cast("Page[AuthorizationState]", paged)
    result.object_list = states
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="authorization_list",
        patient_ids=list(today_of),
        detail={"search": bool(search)},
    )
    return result


# --- one patient ------------------------------------------------------------------------------


@dataclass
class CertificationClock:
    """An episode's Medicare certifications, the recertification due date of the one reaching
    furthest (None: no valid one), and the interval recorded on the latest signed."""

    episode: Episode
    rows: list[PhysicianCertification]
    interval: rules.RecertificationInterval | None
    due: dt.date | None
    alerts: list[rules.Alert] = field(default_factory=list)

    def due_of(self, row: PhysicianCertification) -> dt.date:
        return rules.recertification_due(
            certification_of(row), interval=rules.RecertificationInterval(row.interval)
        )

    def problem_of(self, row: PhysicianCertification) -> str | None:
        return certification_of(row).problem


def certification_clock(
    episode: Episode, rows: list[PhysicianCertification], today: dt.date, warn_days: int | None
) -> CertificationClock:
    """The clock of one episode's certifications as of `today`; alerts with `warn_days` (None:
    the due-soon alert is not configured, only a lapsed or missing certification alerts)."""
    if not rows:
        return CertificationClock(episode, rows, None, None)
    latest = max(rows, key=lambda r: (r.signed_on, r.pk))
    interval = rules.RecertificationInterval(latest.interval)
    certs = [certification_of(r) for r in rows]
    valid = [c for c in certs if c.problem is None]
    due = max((rules.recertification_due(c, interval=interval) for c in valid), default=None)
    alerts = rules.certification_alerts(certs, today, warn_days or 0, interval=interval)
    return CertificationClock(episode, rows, interval, due, alerts)


@dataclass
class PatientAuthorizations:
    patient: Patient
    today: dt.date
    coverages: list[Coverage]
    states: list[AuthorizationState]
    clocks: list[CertificationClock]
    episodes: list[Episode]
    reviews: list[ConcurrentReview]

    @property
    def open_episode(self) -> Episode | None:
        return next((e for e in self.episodes if e.status in OPEN_STATUSES), None)


def patient_authorizations(
    *, actor: Actor, patient_id: int, warn_days: int | None = None
) -> PatientAuthorizations:
    """A patient's coverages, their authorizations with usage and forecast, and the Medicare
    certifications of each episode with their clock. Needs Cap.REVENUE_MANAGE at the patient's
    site; audited as a view of the patient. Raises NotFound, NotPermitted (audited)."""
    patient = get_for(
        actor,
        Patient.objects.select_related("site"),
        patient_id,
        cap=Cap.REVENUE_MANAGE,
        object_type="authorizations",
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
    )
    today = clock.local_today(patient.site.tz)
    coverages = list(
        Coverage.objects.filter(patient=patient).select_related("payer").order_by("rank", "id")
    )
    rows = list(
        Authorization.objects.filter(coverage__patient=patient)
        .select_related("coverage__payer", "coverage__patient__site")
        .order_by("-end_date", "reference_number")
    )
    states = authorization_states(rows, today_of={patient.pk: today})
    episodes = list(Episode.objects.filter(patient=patient).order_by("-admission_date", "-id"))
    by_episode: dict[int, list[PhysicianCertification]] = defaultdict(list)
    for cert in PhysicianCertification.objects.filter(episode__patient=patient).order_by(
        "start_date", "signed_on", "id"
    ):
        by_episode[cert.episode_id].append(cert)
    clocks = [
        certification_clock(e, by_episode[e.pk], today, warn_days)
        for e in episodes
        if by_episode[e.pk] or e.status in OPEN_STATUSES
    ]
    reviews = list(
        ConcurrentReview.objects.filter(episode__patient=patient)
        .select_related("printed_by", "authorization")
        .order_by("-printed_at")[:20]
    )
    return PatientAuthorizations(patient, today, coverages, states, clocks, episodes, reviews)


def authorization_get(
    *, actor: Actor, authorization_id: int, cap: Cap = Cap.REVENUE_MANAGE
) -> Authorization:
    """One authorization with its coverage, payer and patient; audited as a view of the patient.
    Raises NotFound, NotPermitted (audited) without `cap` at the patient's site."""
    return get_for(
        actor,
        Authorization.objects.select_related("coverage__payer", "coverage__patient__site"),
        authorization_id,
        cap=cap,
        object_type="authorization",
        missing=NotFound("There is no authorization with this number.", code="auth_not_found"),
        patient_of=lambda a: a.coverage.patient,
    )


def certification_get(*, actor: Actor, certification_id: int) -> PhysicianCertification:
    """One certification with its episode and patient; audited. Needs Cap.REVENUE_MANAGE."""
    return get_for(
        actor,
        PhysicianCertification.objects.select_related("episode__patient__site"),
        certification_id,
        cap=Cap.REVENUE_MANAGE,
        object_type="certification",
        missing=NotFound("There is no certification with this number.", code="cert_not_found"),
        patient_of=lambda c: c.episode.patient,
    )


# --- what the claim scrubber reads ------------------------------------------------------------


@dataclass(frozen=True)
class ScrubExtras:
    """Plain data for billing.domain.claims.ScrubContext: each coverage's authorizations with
    the units left, and each patient's certification periods."""

    authorizations: dict[int, tuple[claim_rules.Authorization, ...]]  # coverage id ->
    certifications: dict[int, tuple[claim_rules.CertificationPeriod, ...]]  # patient id ->


@dataclass(frozen=True)
class CoverageAuthorizations:
    """The authorizations of some coverages (by id order) and the live charges of those that
    have any (charge_lines), loaded once for both the claim builder's allocation
    (charge_authorizations) and its scrub (scrub_extras_for)."""

    coverage_ids: frozenset[int]
    authorizations: dict[int, list[Authorization]]  # coverage id ->
    lines: dict[int, list[ChargeLine]]  # coverage id ->


def coverage_authorizations(coverage_ids: Iterable[int]) -> CoverageAuthorizations:
    """Three queries at most whatever the number of coverages (none without an authorization:
    then the charges are not read)."""
    ids = sorted(set(coverage_ids))
    by_coverage: dict[int, list[Authorization]] = defaultdict(list)
    for a in Authorization.objects.filter(coverage_id__in=ids).order_by("id"):
        by_coverage[a.coverage_id].append(a)
    return CoverageAuthorizations(
        coverage_ids=frozenset(ids),
        authorizations=dict(by_coverage),
        lines=charge_lines(list(by_coverage)) if by_coverage else {},
    )


def _loaded_for(
    coverage_ids: Iterable[int], loaded: CoverageAuthorizations | None
) -> CoverageAuthorizations:
    ids = set(coverage_ids)
    if loaded is not None and ids <= loaded.coverage_ids:
        return loaded
    return coverage_authorizations(ids)


def charge_authorizations(
    coverage_ids: Iterable[int], *, loaded: CoverageAuthorizations | None = None
) -> dict[int, str]:
    """Charge id -> the reference number of the authorization it draws on (the domain's
    allocation over each coverage's authorizations and live charges), for the claim builder
    (REF*G1). Charges no authorization covers are absent. A fixed number of queries (none when
    `loaded` holds these coverages)."""
    ids = set(coverage_ids)
    data = _loaded_for(ids, loaded)
    found: dict[int, str] = {}
    for coverage_id, rows in data.authorizations.items():
        if coverage_id not in ids:
            continue
        allocation = rules.allocate([to_domain(a) for a in rows], data.lines.get(coverage_id, []))
        for draw in allocation.draws:
            found[cast(ChargeLine, draw.charge).charge_id] = draw.reference_number
    return found


def scrub_extras_for(
    *,
    coverage_ids: Iterable[int],
    patient_ids: Iterable[int],
    exclude_charge_ids: Iterable[int] = (),
    loaded: CoverageAuthorizations | None = None,
) -> ScrubExtras:
    """For the claim builder (its service checked access): the authorizations of `coverage_ids`
    with what is left (`units_remaining`: units, or days for a DAYS authorization, not used by the
    coverage's other charges: those in `exclude_charge_ids`, the claim's own, are left out, as
    ScrubContext expects), and the periods the valid Medicare certifications of `patient_ids`
    cover (from the later of signature and start to the day before recertification is due, each
    with the interval recorded on it). A fixed number of queries (one fewer set when `loaded`
    holds these coverages)."""
    excluded = set(exclude_charge_ids)
    ids = set(coverage_ids)
    data = _loaded_for(ids, loaded)
    auths: dict[int, tuple[claim_rules.Authorization, ...]] = {}
    for coverage_id, rows in data.authorizations.items():
        if coverage_id not in ids:
            continue
        others = [c for c in data.lines.get(coverage_id, []) if c.charge_id not in excluded]
        allocation = rules.allocate([to_domain(a) for a in rows], others)
        auths[coverage_id] = tuple(
            claim_rules.Authorization(
                reference=a.reference_number,
                start=a.start_date,
                end=a.end_date,
                units_remaining=allocation.usage_of(a.reference_number).remaining,
                codes=tuple(sorted(a.service_codes)),
            )
            for a in rows
        )
    periods: dict[int, list[claim_rules.CertificationPeriod]] = defaultdict(list)
    for row in PhysicianCertification.objects.filter(
        episode__patient_id__in=sorted(set(patient_ids))
    ).select_related("episode"):
        cert = certification_of(row)
        if cert.problem is not None:
            continue
        due = rules.recertification_due(cert, interval=rules.RecertificationInterval(row.interval))
        if due > cert.first_day:
            periods[row.episode.patient_id].append(
                claim_rules.CertificationPeriod(cert.first_day, due - dt.timedelta(days=1))
            )
    return ScrubExtras(
        authorizations=auths,
        certifications={p: tuple(sorted(v, key=lambda c: c.start)) for p, v in periods.items()},
    )
