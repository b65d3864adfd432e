"""Posting charges from attendance: the one doorway that writes charges, their adjustments and
the unbilled days (issue 16, point 2).

`charges_post(by=, period_start=, period_end=, site=)` works site by site, each site in one
transaction with its row locked (FOR NO KEY UPDATE on PostgreSQL: attendance may still be
recorded meanwhile; two postings of one site wait for each other):

1. `gather` reads what the rules need in a fixed number of queries whatever the number of
   patients (one per table; pinned by a test): the attended attendances of the site in the whole
   ISO weeks of the period (a payer's weekly minimums read whole weeks), how many attended each
   session, the episodes' enrollments, the patients' primary coverages, every payer's billing
   rules and fee schedule of the organization, the charges and unbilled days already stored.
2. Each attended service is placed: its program is the session's track, or for an individual or
   family session the episode's enrollment on that date; its payer is the patient's primary
   coverage on that date, or without one the organization's self-pay payer for the program; its
   kind of service comes from the kind of session (SESSION_SERVICE, and the payer's own
   `session_kinds` for the rest). A service that cannot be placed is listed as not billed, why in
   words.
3. billing.domain.charges.charges_for_period turns each patient's services for one payer and
   program into charge drafts and reasons; adjustments_for compares them with the charges already
   posted. A line newly due on a day with no charge yet is posted as a charge; on a day already
   charged it is posted with an ADD adjustment; a line no longer due is voided (status voided,
   VOID adjustment); a line with other units or amount gets a CHANGE adjustment and the charge
   itself stays as posted. Nothing changes when nothing in attendance or configuration did:
   running it twice posts nothing the second time.
4. The site's unbilled days of the period are replaced by what this posting found (rows that
   still hold are kept as they are).

Group sessions: the number of participants given to the rules (the payer's group-size limit,
90853's "<=12, count documented" [../shared/domain.md 2.3, NGS LCD L33632]) is the number of
patients whose attendance at the session is recorded as attended (present, late or left early):
the attendance roster is the documented count.

Every posting writes one audit entry per site naming every patient whose attendance or charges it
read (object_type "charge_posting"), with the counts; refusals are audited by the access kernel.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from openiop.accounts.access import require, require_site, visible_sites
from openiop.accounts.domain import Cap
from openiop.attendance.choices import ATTENDED_STATUSES
from openiop.attendance.models import Attendance
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.billing.choices import AdjustmentKind, ChargeStatus, CoverageRank, PayerType
from openiop.billing.domain import charges as rules
from openiop.billing.models import (
    Charge,
    ChargeAdjustment,
    Coverage,
    FeeScheduleEntry,
    PayerProgramBilling,
    UnbilledDay,
)
from openiop.billing.services.fee_schedules import (
    fee_entry_of,
    parse_modifiers,
    rules_of,
    session_kinds_of,
)
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.dates import IsoWeek
from openiop.core.errors import RuleViolation
from openiop.programs.choices import SessionKind, SessionStatus
from openiop.programs.domain import DateSpan
from openiop.programs.models import Enrollment, Site, enrolled_q

# What a kind of session is billed as, for the kinds every payer reads the same way: group
# psychotherapy (90853), individual psychotherapy (90832-90837), family psychotherapy with the
# patient (90847: the patient attended) and multi-family group (90849) [../shared/domain.md 2.3];
# psychoeducation is patient training and education [domain.md 2.1, 42 CFR 410.44]. Skills
# workshops and holistic sessions are not one service in every payer's eyes (group therapy,
# education, activity therapy; "mainly recreational" is not covered [domain.md 2.1]): each
# payer's `session_kinds` says, and without it they are not billed.
SESSION_SERVICE: dict[str, rules.ServiceKind] = {
    SessionKind.GROUP_THERAPY: rules.ServiceKind.GROUP,
    SessionKind.INDIVIDUAL: rules.ServiceKind.INDIVIDUAL,
    SessionKind.FAMILY: rules.ServiceKind.FAMILY_WITH_PATIENT,
    SessionKind.FAMILY_GROUP: rules.ServiceKind.MULTI_FAMILY_GROUP,
    SessionKind.PSYCHOEDUCATION: rules.ServiceKind.EDUCATION,
    # A prescriber visit: the domain lists it as not billed (no code in domain.md), whatever a
    # payer's `session_kinds` says (fee_schedules.session_kinds_of refuses to map it).
    SessionKind.MEDICATION_MANAGEMENT: rules.ServiceKind.MEDICATION_MANAGEMENT,
}

# A posting covers at most about a quarter: the work of one run stays bounded.
MAX_PERIOD_DAYS = 93
REASON_CHARS = 500


@dataclass(frozen=True)
class ChargePosting:
    """What a posting did: counts only (the Jobs page and the command print them)."""

    period_start: dt.date
    period_end: dt.date
    sites: int = 0
    patients: int = 0
    charges: int = 0
    adjustments: int = 0
    voided: int = 0
    unbilled: int = 0

    @property
    def sentence(self) -> str:
        return (
            f"Posted {self.period_start.isoformat()} to {self.period_end.isoformat()} at "
            f"{self.sites} site(s) for {self.patients} patient(s): {self.charges} new charge(s), "
            f"{self.adjustments} adjustment(s) ({self.voided} voided), "
            f"{self.unbilled} unbilled service day(s) listed."
        )

    def plus(self, other: ChargePosting) -> ChargePosting:
        return ChargePosting(
            period_start=self.period_start,
            period_end=self.period_end,
            sites=self.sites + other.sites,
            patients=self.patients + other.patients,
            charges=self.charges + other.charges,
            adjustments=self.adjustments + other.adjustments,
            voided=self.voided + other.voided,
            unbilled=self.unbilled + other.unbilled,
        )


# --- gathering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendedRow:
    attendance_id: int
    patient_id: int
    episode_id: int
    session_id: int
    date: dt.date
    session_kind: str
    track_id: int | None
    track_name: str
    minutes: int
    cancelled: bool


@dataclass(frozen=True)
class EnrollmentRow:
    enrollment_id: int
    episode_id: int
    track_id: int
    track_name: str
    track_site_id: int
    start_date: dt.date
    end_date: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return DateSpan(self.start_date, self.end_date).contains(day)  # enrolled on day D (ADR 2)


@dataclass(frozen=True)
class CoverageRow:
    coverage_id: int
    patient_id: int
    payer_id: int
    payer_name: str
    start_date: dt.date | None
    end_date: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (
            self.end_date is None or day <= self.end_date
        )


@dataclass
class Gathered:
    """Everything one site's posting reads (see `gather`)."""

    attended: list[AttendedRow]
    participants: dict[int, int]  # session id -> patients attended
    enrollments: dict[int, list[EnrollmentRow]]  # episode id -> its enrollments
    coverages: dict[int, list[CoverageRow]]  # patient id -> primary coverages
    configs: dict[tuple[int, int], PayerProgramBilling]  # (payer id, track id)
    fees: dict[tuple[int, int], list[FeeScheduleEntry]]  # (payer id, track id)
    charges: list[Charge]  # with their adjustments
    unbilled: list[UnbilledDay]

    def self_pay(self, track_id: int) -> list[PayerProgramBilling]:
        return [
            c
            for (_, track), c in self.configs.items()
            if track == track_id and c.payer.payer_type == PayerType.SELF_PAY and c.payer.is_active
        ]


def gather(
    *,
    site: Site,
    window_start: dt.date,
    window_end: dt.date,
    period_start: dt.date,
    period_end: dt.date,
) -> Gathered:
    """Read what one site's posting needs: 9 queries whatever the number of patients, sessions
    or charges. Attendance from `window_start` to `window_end` (the whole ISO weeks of the
    period); charges and unbilled days of the period."""
    attended_here = Attendance.objects.filter(
        session__site=site,
        session__date__gte=window_start,
        session__date__lte=window_end,
        status__in=ATTENDED_STATUSES,
    )
    attended = [
        AttendedRow(
            attendance_id=row[0],
            patient_id=row[1],
            episode_id=row[2],
            session_id=row[3],
            date=row[4],
            session_kind=row[5],
            track_id=row[6],
            track_name=row[7] or "",
            minutes=row[8],
            cancelled=row[9] == SessionStatus.CANCELLED,
        )
        for row in attended_here.order_by("session__date", "session__starts_at", "id").values_list(
            "id",
            "patient_id",
            "episode_id",
            "session_id",
            "session__date",
            "session__kind",
            "session__track_id",
            "session__track__name",
            "minutes_attended",
            "session__status",
        )
    ]
    participants: dict[int, int] = dict(
        attended_here.order_by()
        .values("session_id")
        .annotate(n=Count("id"))
        .values_list("session_id", "n")
    )
    enrollments: dict[int, list[EnrollmentRow]] = defaultdict(list)
    for e in (
        Enrollment.objects.filter(
            enrolled_q(window_start, window_end),
            episode_id__in=attended_here.order_by().values("episode_id"),
        )
        .order_by("start_date", "id")
        .values_list(
            "id",
            "episode_id",
            "track_id",
            "track__name",
            "track__site_id",
            "start_date",
            "end_date",
        )
    ):
        enrollments[e[1]].append(EnrollmentRow(*e))
    coverages: dict[int, list[CoverageRow]] = defaultdict(list)
    for c in (
        Coverage.objects.in_force(window_start, window_end)
        .filter(
            patient_id__in=attended_here.order_by().values("patient_id"),
            rank=CoverageRank.PRIMARY,
        )
        .order_by("id")
        .values_list("id", "patient_id", "payer_id", "payer__name", "start_date", "end_date")
    ):
        coverages[c[1]].append(CoverageRow(*c))
    organization = site.organization_id
    configs = {
        (c.payer_id, c.track_id): c
        for c in PayerProgramBilling.objects.filter(
            payer__organization_id=organization
        ).select_related("payer", "track")
    }
    fees: dict[tuple[int, int], list[FeeScheduleEntry]] = defaultdict(list)
    for f in FeeScheduleEntry.objects.filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=window_start),
        payer__organization_id=organization,
        effective_from__lte=window_end,
    ).order_by("effective_from", "id"):
        fees[(f.payer_id, f.track_id)].append(f)
    posted = list(
        Charge.objects.filter(
            site=site, service_date__gte=period_start, service_date__lte=period_end
        ).prefetch_related("adjustments")
    )
    unbilled = list(
        UnbilledDay.objects.filter(
            site=site, service_date__gte=period_start, service_date__lte=period_end
        )
    )
    return Gathered(
        attended=attended,
        participants=participants,
        enrollments=dict(enrollments),
        coverages=dict(coverages),
        configs=configs,
        fees=dict(fees),
        charges=posted,
        unbilled=unbilled,
    )


# --- placing each attended service -------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """Where an attended service is billed (the charge's episode, enrollment and coverage)."""

    episode_id: int
    enrollment_id: int | None
    coverage_id: int | None
    session_id: int


@dataclass(frozen=True)
class _Unbilled:
    patient_id: int
    date: dt.date
    payer_id: int | None
    track_id: int | None
    reason: str
    attendance_ids: tuple[int, ...]


@dataclass
class _Placed:
    """A patient's services by (payer, track), and the ones that could not be placed."""

    groups: dict[tuple[int, int], list[rules.AttendedService]] = field(
        default_factory=lambda: defaultdict(list)
    )
    context: dict[int, _Context] = field(default_factory=dict)
    unbilled: list[_Unbilled] = field(default_factory=list)


def _program(a: AttendedRow, g: Gathered, site: Site) -> tuple[int | None, str, int | None, str]:
    """(track id, track name, enrollment id, why not) of an attended service."""
    on_day = [e for e in g.enrollments.get(a.episode_id, []) if e.covers(a.date)]
    if a.track_id is not None:
        mine = next((e for e in on_day if e.track_id == a.track_id), None)
        return a.track_id, a.track_name, mine.enrollment_id if mine else None, ""
    if len(on_day) > 1:
        on_day = [e for e in on_day if e.track_site_id == site.pk] or on_day
    if not on_day:
        return None, "", None, "not enrolled in a program on this date, so no payer's rules apply"
    if len(on_day) > 1:
        names = ", ".join(sorted(e.track_name for e in on_day))
        return None, "", None, f"enrolled in more than one program on this date ({names})"
    return on_day[0].track_id, on_day[0].track_name, on_day[0].enrollment_id, ""


def _place(rows: Iterable[AttendedRow], g: Gathered, site: Site) -> _Placed:
    placed = _Placed()
    for a in rows:
        ids = (a.attendance_id,)
        if a.cancelled:
            placed.unbilled.append(
                _Unbilled(a.patient_id, a.date, None, a.track_id, "the session was cancelled", ids)
            )
            continue
        track_id, track_name, enrollment_id, why = _program(a, g, site)
        if track_id is None:
            placed.unbilled.append(_Unbilled(a.patient_id, a.date, None, None, why, ids))
            continue
        coverage = max(
            (c for c in g.coverages.get(a.patient_id, []) if c.covers(a.date)),
            key=lambda c: (c.start_date or dt.date.min, c.coverage_id),
            default=None,
        )
        if coverage is None:
            self_pay = g.self_pay(track_id)
            if len(self_pay) != 1:
                why = (
                    f"no insurance coverage on this date, and no self-pay billing for {track_name}"
                    if not self_pay
                    else "no insurance coverage on this date, and more than one self-pay payer "
                    f"bills {track_name}"
                )
                placed.unbilled.append(_Unbilled(a.patient_id, a.date, None, track_id, why, ids))
                continue
            config: PayerProgramBilling | None = self_pay[0]
            payer_id, payer_name = self_pay[0].payer_id, self_pay[0].payer.name
        else:
            payer_id, payer_name = coverage.payer_id, coverage.payer_name
            config = g.configs.get((payer_id, track_id))
        if config is None:
            why = f"{payer_name} has no billing rules for {track_name}"
            placed.unbilled.append(_Unbilled(a.patient_id, a.date, payer_id, track_id, why, ids))
            continue
        try:
            payer_kinds = session_kinds_of(config.session_kinds)
        except ValueError:
            payer_kinds = {}  # rules_of says why, for every service of this payer and program
        kind = (
            SESSION_SERVICE[a.session_kind]
            if a.session_kind == SessionKind.MEDICATION_MANAGEMENT
            else payer_kinds.get(a.session_kind) or SESSION_SERVICE.get(a.session_kind)
        )
        if kind is None:
            label = SessionKind(a.session_kind).label.lower()
            why = (
                f"{payer_name}'s billing rules for {track_name} do not say how a {label} is billed"
            )
            placed.unbilled.append(_Unbilled(a.patient_id, a.date, payer_id, track_id, why, ids))
            continue
        placed.groups[(payer_id, track_id)].append(
            rules.AttendedService(
                service_id=str(a.attendance_id),
                date=a.date,
                kind=kind,
                minutes=a.minutes,
                participants=g.participants.get(a.session_id),
            )
        )
        placed.context[a.attendance_id] = _Context(
            a.episode_id, enrollment_id, coverage.coverage_id if coverage else None, a.session_id
        )
    return placed


# --- comparing with what is posted -------------------------------------------------------------

LineKey = tuple[str, str, dt.date, str, tuple[str, ...], str | None]


def _key_of(charge: Charge) -> LineKey:
    return (
        str(charge.payer_id),
        str(charge.track_id),
        charge.service_date,
        charge.code,
        parse_modifiers(charge.modifiers),
        charge.revenue_code or None,
    )


def _now_of(charge: Charge) -> tuple[int, Decimal]:
    """What a posted charge comes to now: its last adjustment's, or its own, units and amount."""
    adjustments = list(charge.adjustments.all())
    if not adjustments:
        return charge.units, charge.amount
    last = max(adjustments, key=lambda a: (a.created_at, a.pk))
    return last.new_units, last.new_amount


def _as_draft(charge: Charge) -> rules.ChargeDraft:
    units, amount = _now_of(charge)
    return rules.ChargeDraft(
        payer=str(charge.payer_id),
        program=str(charge.track_id),
        service_date=charge.service_date,
        code=charge.code,
        modifiers=parse_modifiers(charge.modifiers),
        revenue_code=charge.revenue_code or None,
        units=units,
        rate=charge.rate,
        amount=amount,
        claim_form=rules.ClaimForm(charge.claim_form),
        service_ids=tuple(str(i) for i in charge.attendance_ids),
    )


@dataclass
class _Plan:
    """The writes of one site's posting."""

    new: list[Charge] = field(default_factory=list)
    adjustments: list[tuple[Charge, rules.Adjustment]] = field(default_factory=list)
    voids: list[Charge] = field(default_factory=list)
    unbilled: list[_Unbilled] = field(default_factory=list)


def _new_charge(
    drafts: list[rules.ChargeDraft],
    placed: _Placed,
    *,
    patient_id: int,
    site: Site,
    by: Actor,
) -> Charge:
    first = drafts[0]
    attendance_ids = [int(i) for d in drafts for i in d.service_ids]
    context = placed.context[attendance_ids[0]]
    return Charge(
        patient_id=patient_id,
        site=site,
        episode_id=context.episode_id,
        enrollment_id=context.enrollment_id,
        track_id=int(first.program),
        payer_id=int(first.payer),
        coverage_id=context.coverage_id,
        service_date=first.service_date,
        code=first.code,
        modifiers=",".join(first.modifiers),
        revenue_code=first.revenue_code or "",
        units=sum(d.units for d in drafts),
        rate=first.rate,
        amount=sum((d.amount for d in drafts), Decimal("0.00")),
        claim_form=first.claim_form.value,
        condition_codes=",".join(first.condition_codes),
        medicare_tier=first.medicare_tier.value if first.medicare_tier else "",
        basis="; ".join(d.basis for d in drafts)[:REASON_CHARS],
        attendance_ids=attendance_ids,
        session_ids=sorted({placed.context[i].session_id for i in attendance_ids}),
        posted_by=by.user,
    )


def _plan(
    g: Gathered, *, site: Site, period_start: dt.date, period_end: dt.date, by: Actor
) -> tuple[_Plan, set[int]]:
    """What to write for the site, and the patients read. Pure but for the rows it builds."""
    plan = _Plan()

    def in_period(day: dt.date) -> bool:
        return period_start <= day <= period_end

    by_patient: dict[int, list[AttendedRow]] = defaultdict(list)
    for row in g.attended:
        by_patient[row.patient_id].append(row)
    live: dict[int, dict[LineKey, Charge]] = defaultdict(dict)
    charged_days: set[tuple[int, dt.date]] = set()
    for charge in g.charges:
        charged_days.add((charge.patient_id, charge.service_date))
        if charge.status != ChargeStatus.VOIDED:
            live[charge.patient_id][_key_of(charge)] = charge
    patients = set(by_patient) | set(live)

    rules_cache: dict[int, rules.PayerBillingRules | str] = {}
    schedules: dict[tuple[int, int], rules.FeeSchedule | str] = {}

    def rules_for(config: PayerProgramBilling) -> rules.PayerBillingRules | str:
        if config.pk not in rules_cache:
            try:
                rules_cache[config.pk] = rules_of(config)
            except ValueError as exc:
                rules_cache[config.pk] = (
                    f"{config.payer.name}'s billing rules for {config.track.name} cannot be "
                    f"read: {exc}"
                )
        return rules_cache[config.pk]

    def schedule_for(config: PayerProgramBilling) -> rules.FeeSchedule | str:
        key = (config.payer_id, config.track_id)
        if key not in schedules:
            try:
                schedules[key] = rules.FeeSchedule(
                    [fee_entry_of(f, config.revenue_code) for f in g.fees.get(key, [])]
                )
            except ValueError as exc:
                schedules[key] = f"{config.payer.name}'s fee schedule cannot be read: {exc}"
        return schedules[key]

    for patient_id in sorted(patients):
        placed = _place(by_patient.get(patient_id, []), g, site)
        plan.unbilled.extend(u for u in placed.unbilled if in_period(u.date))
        drafts: list[rules.ChargeDraft] = []
        for (payer_id, track_id), services in placed.groups.items():
            config = g.configs.get((payer_id, track_id))
            assert config is not None  # _place only groups services with rules
            payer_rules, schedule = rules_for(config), schedule_for(config)
            problem = payer_rules if isinstance(payer_rules, str) else schedule
            if isinstance(problem, str):
                for day in sorted({s.date for s in services if in_period(s.date)}):
                    ids = tuple(int(s.service_id) for s in services if s.date == day)
                    plan.unbilled.append(
                        _Unbilled(patient_id, day, payer_id, track_id, problem, ids)
                    )
                continue
            assert not isinstance(payer_rules, str) and not isinstance(schedule, str)
            result = rules.charges_for_period(services, payer_rules, schedule)
            drafts.extend(d for d in result.charges if in_period(d.service_date))
            plan.unbilled.extend(
                _Unbilled(
                    patient_id,
                    n.service_date,
                    payer_id,
                    track_id,
                    n.reason,
                    tuple(int(i) for i in n.service_ids),
                )
                for n in result.not_billed
                if in_period(n.service_date)
            )
        posted = live.get(patient_id, {})
        new_lines: dict[LineKey, list[rules.ChargeDraft]] = defaultdict(list)
        for draft in drafts:
            new_lines[draft.line_key].append(draft)
        previous = [_as_draft(c) for c in posted.values()]
        for adjustment in rules.adjustments_for(previous, drafts):
            key: LineKey = (
                adjustment.payer,
                adjustment.program,
                adjustment.service_date,
                adjustment.code,
                adjustment.modifiers,
                adjustment.revenue_code,
            )
            if adjustment.kind == rules.AdjustmentKind.ADD:
                charge = _new_charge(
                    new_lines[key], placed, patient_id=patient_id, site=site, by=by
                )
                plan.new.append(charge)
                if (patient_id, adjustment.service_date) in charged_days:
                    plan.adjustments.append((charge, adjustment))
            else:
                charge = posted[key]
                plan.adjustments.append((charge, adjustment))
                if adjustment.kind == rules.AdjustmentKind.VOID:
                    plan.voids.append(charge)
    return plan, patients


# --- writing -----------------------------------------------------------------------------------


def _replace_unbilled(
    g: Gathered, wanted: list[_Unbilled], *, site: Site, period_start: dt.date, period_end: dt.date
) -> None:
    def key(u: _Unbilled) -> tuple[Any, ...]:
        return (u.patient_id, u.date, u.payer_id, u.track_id, u.reason, u.attendance_ids)

    wanted_by_key = {key(u): u for u in wanted}
    stale: list[int] = []
    kept: set[tuple[Any, ...]] = set()
    for row in g.unbilled:
        k = (
            row.patient_id,
            row.service_date,
            row.payer_id,
            row.track_id,
            row.reason,
            tuple(row.attendance_ids),
        )
        if k in wanted_by_key and k not in kept:
            kept.add(k)
        else:
            stale.append(row.pk)
    if stale:
        UnbilledDay.objects.filter(pk__in=stale).delete()
    now = clock.now()
    UnbilledDay.objects.bulk_create(
        UnbilledDay(
            patient_id=u.patient_id,
            site=site,
            service_date=u.date,
            payer_id=u.payer_id,
            track_id=u.track_id,
            reason=u.reason[:REASON_CHARS],
            attendance_ids=list(u.attendance_ids),
            period_start=period_start,
            period_end=period_end,
            created_at=now,
        )
        for k, u in wanted_by_key.items()
        if k not in kept
    )


def _post_site(
    *, site: Site, period_start: dt.date, period_end: dt.date, by: Actor
) -> ChargePosting:
    window_start = IsoWeek.of(period_start).monday
    window_end = IsoWeek.of(period_end).sunday
    with transaction.atomic():
        # Two postings of one site wait for each other; attendance may still be written (a row
        # referring to the site takes FOR KEY SHARE, which FOR NO KEY UPDATE lets through).
        Site.objects.select_for_update(no_key=True).filter(pk=site.pk).first()
        g = gather(
            site=site,
            window_start=window_start,
            window_end=window_end,
            period_start=period_start,
            period_end=period_end,
        )
        plan, patients = _plan(
            g, site=site, period_start=period_start, period_end=period_end, by=by
        )
        Charge.objects.bulk_create(plan.new)
        for charge in plan.voids:
            charge.status = ChargeStatus.VOIDED
            save_if_unchanged(charge, expected_version=charge.version, fields=["status"])
        now = clock.now()
        ChargeAdjustment.objects.bulk_create(
            ChargeAdjustment(
                charge=charge,
                kind=AdjustmentKind(adjustment.kind.value),
                previous_units=adjustment.previous_units,
                new_units=adjustment.new_units,
                previous_amount=adjustment.previous_amount,
                new_amount=adjustment.new_amount,
                amount=adjustment.delta,
                reason=adjustment.reason[:REASON_CHARS],
                attendance_ids=[int(i) for i in adjustment.new_service_ids],
                created_by=by.user,
                created_at=now,
            )
            for charge, adjustment in plan.adjustments
        )
        _replace_unbilled(
            g, plan.unbilled, site=site, period_start=period_start, period_end=period_end
        )
        result = ChargePosting(
            period_start=period_start,
            period_end=period_end,
            sites=1,
            patients=len(patients),
            charges=len(plan.new),
            adjustments=len(plan.adjustments),
            voided=len(plan.voids),
            unbilled=len(plan.unbilled),
        )
        audit_record_many(
            by,
            action=AuditAction.CREATE,
            object_type="charge_posting",
            patient_ids=patients,
            object_id=site.pk,
            detail={
                "period": [period_start.isoformat(), period_end.isoformat()],
                "charges": result.charges,
                "adjustments": result.adjustments,
                "voided": result.voided,
                "unbilled": result.unbilled,
            },
        )
    return result


def charges_post(
    *,
    by: Actor,
    period_start: dt.date,
    period_end: dt.date,
    site: Site | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ChargePosting:
    """Post the charges of `period_start` to `period_end` (both included) at `site`, or at every
    site the actor may see, from attendance (see the module). Returns the counts.

    `on_progress(done, total)` is called after each site (the job reports it). Raises
    NotPermitted (audited) without Cap.REVENUE_MANAGE or for a site the actor may not see;
    RuleViolation for a period that ends before it starts, is longer than MAX_PERIOD_DAYS, or
    does not end before today at each site (charges are posted for days that are over); Conflict
    when a charge to void was changed meanwhile (nothing of that site is written; post again).
    """
    if site is not None:
        require_site(by, site, Cap.REVENUE_MANAGE, object_type="charge_posting")
        sites = [site]
    else:
        require(by, Cap.REVENUE_MANAGE, object_type="charge_posting")
        sites = list(visible_sites(by))
    if period_end < period_start:
        raise RuleViolation("The period ends before it starts.", code="period", field="period_end")
    if (period_end - period_start).days + 1 > MAX_PERIOD_DAYS:
        raise RuleViolation(
            f"Post at most {MAX_PERIOD_DAYS} days at a time (a month or a quarter).",
            code="period_too_long",
            field="period_end",
        )
    for s in sites:
        today = clock.local_today(s.tz)
        if period_end >= today:
            raise RuleViolation(
                f"Charges are posted for days that are over: end the period by "
                f"{(today - dt.timedelta(days=1)).isoformat()} ({s.name}).",
                code="period_not_over",
                field="period_end",
            )
    total = ChargePosting(period_start=period_start, period_end=period_end)
    for done, s in enumerate(sites, start=1):
        total = total.plus(
            _post_site(site=s, period_start=period_start, period_end=period_end, by=by)
        )
        if on_progress is not None:
            on_progress(done, len(sites))
    return total
