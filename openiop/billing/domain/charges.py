"""Charges from attendance, by payer rules: attended services in, charge drafts and reasons out.

Pure rules (no Django, no I/O, no clock). The caller gathers one patient's attended services for
one coverage and program, the payer's `PayerBillingRules` and its `FeeSchedule`; these functions
say which lines to bill and, for every attended service that does not produce a charge, why, in
words a biller can act on ("2 h 40 min attended; this payer bills H0015 from 3 h").

Three ways of billing a day (`BillingMode`), each from ../shared/domain.md section 2:

- PER_DIEM: one per-diem line (H0015 or S9480) and one unit per attended day, on 837I with a
  revenue code (0905/0906, payer-configurable) or on 837P [domain.md 2.2 "Commercial per diem: one
  revenue code, one unit per attended day" (BCBS Nebraska RP-PI-002); 2.3 S9480, H0015; 3 "837I /
  837P"]. The hours a day (H0015 ">=3 h/day" [Carepatron]; NY OASAS "billed daily if >=3 h
  attended" [WCH]), hours a week and days a week are the payer's configuration, never defaults
  here. NY OASAS bills "<3 h days as discrete services" [WCH]: `short_day_as_services`.
- MEDICARE_IOP: a revenue-code line and charge per covered service, condition code 92 on every
  line [domain.md 2.1, CGS; MM13222/MM13496]; the day is paid by one of two per-diem tiers, days
  with 3 services and days with 4 or more [CMS fact sheet; FCSO], carried on each draft. Which
  HCPCS code each service bills under is configuration (domain.md 2.1: the OPPS IOP HCPCS list was
  not retrieved, "load from current CMS files, don't hard-code"). Whether a day with fewer than 3
  services is billed at all is UNCONFIRMED in domain.md (the "<3 services" I/OCE edit), so it is
  the configuration `min_services_per_day` with no default. The 9 hours a week is the physician's
  certification of need [domain.md 2.1]; a payer that also refuses weeks under it sets
  `min_minutes_per_week` (see MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES).
- ITEMIZED: a CPT code per session: individual psychotherapy by minutes, family 90846/90847,
  group 90853 [domain.md 2.3]. The minutes that pick a code are configuration (`TimeBand`s per
  service kind); CMS_PSYCHOTHERAPY_TIME_BANDS holds the Medicare contractor's published ranges for
  90832/90834/90837 for a payer that follows them. One unit per session.

Group psychotherapy (90853): at most 12 participants and the count documented [domain.md 2.3, NGS
LCD L33632]; other payers set other limits (AZ AHCCCS S9480 groups <=8 [domain.md 2.3]). The limit
and whether the count must be documented are configuration (`max_group_size`,
`group_count_required`) and apply to group services in every mode: a group session over the
payer's limit, or without the required count, is listed as not billed and does not count towards
a per-diem day.

A correction to attendance after a charge exists never changes that charge silently:
`adjustments_for(previous, new)` turns the difference into adjustment drafts.

Money is Decimal, rounded half-up to cents; dates are arguments.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from openiop.billing.domain.money import CENT, round_cents
from openiop.core.dates import IsoWeek

# Medicare IOP claims carry condition code 92 [domain.md 2.1: CGS; MM13222/MM13496; NAHRI for
# FQHC/RHC].
MEDICARE_IOP_CONDITION_CODE = "92"
# Medicare IOP per diem: two APCs per provider type, days with 3 services and days with 4 or more
# [domain.md 2.1: CMS fact sheet; FCSO].
MEDICARE_IOP_THREE_SERVICES = 3
MEDICARE_IOP_FOUR_OR_MORE_SERVICES = 4
# The physician certifies the need for at least 9 hours of IOP services a week [domain.md 2.1: CMS
# fact sheet via Coronis; 42 CFR 424.24]. A value for `PayerBillingRules.min_minutes_per_week`,
# never applied unless a payer's rules set it.
MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES = 9 * 60
# Group psychotherapy 90853: at most 12 participants, count documented [domain.md 2.3: NGS LCD
# L33632]. A value for `PayerBillingRules.max_group_size`, never applied unless configured.
NGS_GROUP_PSYCHOTHERAPY_MAX_PARTICIPANTS = 12

PER_DIEM_CODES = frozenset({"H0015", "S9480"})  # domain.md 2.3
# Why an attended medication-management visit is not billed: the project's sources give no code
# for it, and a code is never invented here (a payer's configuration cannot give one either).
MEDICATION_MANAGEMENT_REASON = (
    "medication-management visit (prescriber): no billing code for it is in the program's "
    "billing sources, so it is not billed and does not count towards the day"
)


def _check_code(code: object) -> None:
    # Procedure codes are exactly 5 characters [domain.md 3, Stedi edits].
    if not (isinstance(code, str) and len(code) == 5 and code.isalnum() and code == code.upper()):
        raise ValueError(f"'{code}' is not a five-character procedure code.")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class BillingMode(StrEnum):
    PER_DIEM = "per_diem"  # H0015 / S9480: one line, one unit per attended day
    MEDICARE_IOP = "medicare_iop"  # a line per service, day tier 3 / 4+, condition code 92
    ITEMIZED = "itemized"  # a CPT code per session (90832-90837, 90846/90847, 90853)


class ClaimForm(StrEnum):
    INSTITUTIONAL = "837I"  # UB-04: revenue code on every line (SV201) [domain.md 3]
    PROFESSIONAL = "837P"  # CMS-1500: no revenue code [domain.md 3]


class ServiceKind(StrEnum):
    """What kind of attended service; the payer's configuration maps kinds to codes."""

    INDIVIDUAL = "individual"  # individual psychotherapy (90832/90834/90837)
    GROUP = "group"  # group psychotherapy (90853); the group-size rules apply
    FAMILY_WITH_PATIENT = "family_with_patient"  # 90847
    FAMILY_WITHOUT_PATIENT = "family_without_patient"  # 90846
    MULTI_FAMILY_GROUP = "multi_family_group"  # 90849
    EDUCATION = "education"  # patient training / education
    ACTIVITY_THERAPY = "activity_therapy"
    OCCUPATIONAL_THERAPY = "occupational_therapy"
    ASSESSMENT = "assessment"
    # A prescriber's medication-management visit (issue 18.2). ../shared/domain.md lists no code
    # for it (its tables hold psychotherapy, IOP per-diem and assessment codes), so it is never
    # billed: listed as not billed with MEDICATION_MANAGEMENT_REASON.
    MEDICATION_MANAGEMENT = "medication_management"

    @property
    def words(self) -> str:
        return _KIND_WORDS[self]


_KIND_WORDS = {
    ServiceKind.INDIVIDUAL: "individual sessions",
    ServiceKind.GROUP: "group sessions",
    ServiceKind.FAMILY_WITH_PATIENT: "family sessions with the patient",
    ServiceKind.FAMILY_WITHOUT_PATIENT: "family sessions without the patient",
    ServiceKind.MULTI_FAMILY_GROUP: "multi-family groups",
    ServiceKind.EDUCATION: "education sessions",
    ServiceKind.ACTIVITY_THERAPY: "activity therapy",
    ServiceKind.OCCUPATIONAL_THERAPY: "occupational therapy",
    ServiceKind.ASSESSMENT: "assessments",
    ServiceKind.MEDICATION_MANAGEMENT: "medication-management visits",
}


class MedicareDayTier(StrEnum):
    """The Medicare IOP per-diem tier of a day [domain.md 2.1: CMS fact sheet; FCSO]."""

    THREE_SERVICES = "3_services"
    FOUR_OR_MORE_SERVICES = "4_or_more_services"


class AdjustmentKind(StrEnum):
    ADD = "add"  # a line that was not charged before
    VOID = "void"  # a charged line that no longer applies
    CHANGE = "change"  # the same line with other units or amount


@dataclass(frozen=True)
class TimeBand:
    """A code billed when a session lasted min_minutes to max_minutes (both included; None: no
    upper limit)."""

    code: str
    min_minutes: int
    max_minutes: int | None = None

    def __post_init__(self) -> None:
        _check_code(self.code)
        if not _is_int(self.min_minutes) or self.min_minutes < 1:
            raise ValueError(f"{self.code}'s minimum minutes must be a whole number of 1 or more.")
        if self.max_minutes is not None and (
            not _is_int(self.max_minutes) or self.max_minutes < self.min_minutes
        ):
            raise ValueError(
                f"{self.code}'s maximum minutes must be a whole number not below its minimum."
            )

    def fits(self, minutes: int) -> bool:
        return self.min_minutes <= minutes and (
            self.max_minutes is None or minutes <= self.max_minutes
        )


# Individual psychotherapy time ranges published by a Medicare contractor: "90832 (16 to 37
# minutes), 90834 (38 to 52 minutes), 90837 (53 minutes or longer) ... Do not report psychotherapy
# codes for any session lasting less than 16 minutes" [Novitas Solutions (MAC JL), "Psychotherapy
# codes" time documentation, citing LCD L35101 Psychiatric Codes:
# https://www.novitas-solutions.com/webcenter/portal/MedicareJL/pagebyid?contentId=00026768].
# Configuration a payer opts into (PayerBillingRules.codes[ServiceKind.INDIVIDUAL]), not a default.
CMS_PSYCHOTHERAPY_TIME_BANDS = (
    TimeBand("90832", 16, 37),
    TimeBand("90834", 38, 52),
    TimeBand("90837", 53, None),
)


@dataclass(frozen=True)
class FeeScheduleEntry:
    """What a payer pays for a code in a program (track kind) from one date to another.

    `modifiers` and `revenue_code` go on the claim line as they are; the revenue code is required
    on 837I lines (SV201) [domain.md 3] and 0905/0906 stay payer-configurable [domain.md 2.2].
    """

    payer: str
    program: str
    code: str
    rate: Decimal
    effective_from: dt.date
    effective_to: dt.date | None = None  # None: open-ended
    modifiers: tuple[str, ...] = ()
    revenue_code: str | None = None

    def __post_init__(self) -> None:
        _check_code(self.code)
        object.__setattr__(self, "modifiers", tuple(self.modifiers))
        if len(self.modifiers) > 4:
            raise ValueError(f"{self.code} can carry at most 4 modifiers.")
        for modifier in self.modifiers:
            if not (isinstance(modifier, str) and len(modifier) == 2 and modifier.isalnum()):
                raise ValueError(f"'{modifier}' is not a two-character modifier.")
        if self.revenue_code is not None and not (
            isinstance(self.revenue_code, str)
            and len(self.revenue_code) == 4
            and self.revenue_code.isdigit()
        ):
            raise ValueError(f"'{self.revenue_code}' is not a four-digit revenue code.")
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or self.rate < 0:
            raise ValueError(f"{self.code}'s rate must be a Decimal of 0 or more.")
        if self.rate != self.rate.quantize(CENT):
            raise ValueError(f"{self.code}'s rate must be in whole cents (got {self.rate}).")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"{self.code}'s fee ends before it starts.")

    def covers(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


@dataclass(frozen=True)
class FeeSchedule:
    """Fee schedule entries; at most one for a payer, program and code on any date."""

    entries: Sequence[FeeScheduleEntry] = ()

    def __post_init__(self) -> None:
        entries = tuple(self.entries)
        by_key: dict[tuple[str, str, str], list[FeeScheduleEntry]] = defaultdict(list)
        for entry in entries:
            by_key[(entry.payer, entry.program, entry.code)].append(entry)
        for (payer, program, code), same in by_key.items():
            same.sort(key=lambda e: e.effective_from)
            for earlier, later in pairwise(same):
                if earlier.effective_to is None or later.effective_from <= earlier.effective_to:
                    raise ValueError(
                        f"Two fees for {code} ({payer}, {program}) overlap from "
                        f"{later.effective_from.isoformat()}."
                    )
        object.__setattr__(self, "entries", entries)

    def find(self, payer: str, program: str, code: str, day: dt.date) -> FeeScheduleEntry | None:
        for entry in self.entries:
            if (entry.payer, entry.program, entry.code) == (payer, program, code) and entry.covers(
                day
            ):
                return entry
        return None


@dataclass(frozen=True)
class PayerBillingRules:
    """How one payer bills one program. Every threshold is the payer's (None: the payer sets
    none); nothing here has a clinical or billing default.

    - per_diem_code: H0015 or S9480 (PER_DIEM mode).
    - codes: per service kind, the code(s) by minutes (ITEMIZED and MEDICARE_IOP lines; the
      per-diem fallback of `short_day_as_services`). A kind missing here is not billed.
    - min_minutes_per_day: the hours a day a per-diem day needs (e.g. 180 for H0015 ">=3 h/day").
    - min_minutes_per_week / min_days_per_week: a week under them bills nothing (the caller bills a
      week once it is over).
    - max_group_size / group_count_required: group sessions (90853: 12 and yes per NGS L33632).
    - min_services_per_day: Medicare IOP days with fewer services are not billed (UNCONFIRMED
      edit in domain.md 2.1, so only when the payer's configuration says so).
    - short_day_as_services: a per-diem day under the daily minimum is billed as discrete
      services instead (NY OASAS [domain.md 2.3, WCH]).
    """

    payer: str
    program: str
    mode: BillingMode
    claim_form: ClaimForm
    per_diem_code: str | None = None
    codes: Mapping[ServiceKind, tuple[TimeBand, ...]] = field(default_factory=dict)
    min_minutes_per_day: int | None = None
    min_minutes_per_week: int | None = None
    min_days_per_week: int | None = None
    max_group_size: int | None = None
    group_count_required: bool = False
    min_services_per_day: int | None = None
    short_day_as_services: bool = False

    def __post_init__(self) -> None:
        if self.mode == BillingMode.PER_DIEM:
            if self.per_diem_code not in PER_DIEM_CODES:
                raise ValueError(
                    "A per-diem payer bills H0015 or S9480; choose one "
                    f"(got {self.per_diem_code!r})."
                )
        elif self.per_diem_code is not None:
            raise ValueError("Only a per-diem payer has a per-diem code.")
        if self.mode == BillingMode.MEDICARE_IOP and self.claim_form != ClaimForm.INSTITUTIONAL:
            raise ValueError("Medicare IOP is billed on the institutional claim (837I).")
        if self.mode != BillingMode.PER_DIEM and (
            self.min_minutes_per_day is not None or self.short_day_as_services
        ):
            raise ValueError("The hours a day and short-day billing apply to per-diem payers.")
        if self.mode != BillingMode.MEDICARE_IOP and self.min_services_per_day is not None:
            raise ValueError("The services a day apply to Medicare IOP days.")
        for name in (
            "min_minutes_per_day",
            "min_minutes_per_week",
            "min_days_per_week",
            "max_group_size",
            "min_services_per_day",
        ):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 1):
                raise ValueError(f"{name.replace('_', ' ')} must be a whole number of 1 or more.")
        if self.min_days_per_week is not None and self.min_days_per_week > 7:
            raise ValueError("A week has 7 days.")
        codes: dict[ServiceKind, tuple[TimeBand, ...]] = {}
        for kind, bands in self.codes.items():
            if ServiceKind(kind) == ServiceKind.MEDICATION_MANAGEMENT:
                raise ValueError(
                    "Medication-management visits are not billed: no code for them is in the "
                    "program's billing sources."
                )
            ordered = tuple(sorted(bands, key=lambda b: b.min_minutes))
            if not ordered:
                raise ValueError(f"Give at least one code for {ServiceKind(kind).words}.")
            for lower, upper in pairwise(ordered):
                if lower.max_minutes is None or upper.min_minutes <= lower.max_minutes:
                    raise ValueError(
                        f"The minutes for {lower.code} and {upper.code} overlap "
                        f"({ServiceKind(kind).words})."
                    )
            codes[ServiceKind(kind)] = ordered
        object.__setattr__(self, "codes", MappingProxyType(codes))


@dataclass(frozen=True)
class AttendedService:
    """One attended service on its clinic-local date. `participants`: the documented number of
    people in a group session (None: not documented)."""

    service_id: str
    date: dt.date
    kind: ServiceKind
    minutes: int
    participants: int | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.minutes) or self.minutes < 0:
            raise ValueError("Minutes attended must be a whole number of 0 or more.")
        if self.participants is not None and (
            not _is_int(self.participants) or self.participants < 1
        ):
            raise ValueError("A group has 1 or more participants.")
        object.__setattr__(self, "kind", ServiceKind(self.kind))


@dataclass(frozen=True)
class ChargeDraft:
    """A claim line to create: code, modifiers, revenue code (837I only), units, rate, amount.

    `service_ids`: the attended services it bills. `condition_codes` go on the claim (Medicare IOP:
    92). `medicare_tier`: the per-diem tier of the day (Medicare IOP only). `basis`: why, in words.
    """

    payer: str
    program: str
    service_date: dt.date
    code: str
    modifiers: tuple[str, ...]
    revenue_code: str | None
    units: int
    rate: Decimal
    amount: Decimal
    claim_form: ClaimForm
    service_ids: tuple[str, ...]
    condition_codes: tuple[str, ...] = ()
    medicare_tier: MedicareDayTier | None = None
    basis: str = ""

    @property
    def line_key(self) -> tuple[str, str, dt.date, str, tuple[str, ...], str | None]:
        """What makes two drafts the same claim line (for adjustments)."""
        return (
            self.payer,
            self.program,
            self.service_date,
            self.code,
            self.modifiers,
            self.revenue_code,
        )


@dataclass(frozen=True)
class NotBilled:
    """Attended services that produce no charge, and why, in words."""

    service_date: dt.date
    service_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class DayCharges:
    day: dt.date
    charges: list[ChargeDraft]
    not_billed: list[NotBilled]


@dataclass(frozen=True)
class PeriodCharges:
    days: list[DayCharges]

    @property
    def charges(self) -> list[ChargeDraft]:
        return [c for d in self.days for c in d.charges]

    @property
    def not_billed(self) -> list[NotBilled]:
        return [n for d in self.days for n in d.not_billed]

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.charges), Decimal("0.00"))


@dataclass(frozen=True)
class Adjustment:
    """A change to a line already charged, after attendance was corrected: `delta` is new minus
    previous (negative: money back)."""

    kind: AdjustmentKind
    payer: str
    program: str
    service_date: dt.date
    code: str
    modifiers: tuple[str, ...]
    revenue_code: str | None
    previous_units: int
    new_units: int
    previous_amount: Decimal
    new_amount: Decimal
    delta: Decimal
    previous_service_ids: tuple[str, ...]
    new_service_ids: tuple[str, ...]
    reason: str


def duration_words(minutes: int) -> str:
    """Minutes as people say them: 160 -> '2 h 40 min', 180 -> '3 h', 40 -> '40 min'."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if hours:
        return f"{hours} h"
    return f"{rest} min"


def charges_for_day(
    services: Sequence[AttendedService],
    rules: PayerBillingRules,
    fee_schedule: FeeSchedule,
    *,
    week_minutes: int | None = None,
    week_days: int | None = None,
) -> DayCharges:
    """Charge drafts for one day's attended services, and every service not billed with why.

    All services share one date. `week_minutes` / `week_days`: the minutes attended and the days
    attended in the day's ISO week, needed when the payer sets a weekly minimum (charges_for_week
    counts them). Every service ends up in exactly one charge or one NotBilled.
    """
    if not services:
        raise ValueError("Give the day's attended services (none given).")
    day = services[0].date
    if any(s.date != day for s in services):
        raise ValueError("The services of one day must share its date.")
    ids = [s.service_id for s in services]
    if len(set(ids)) != len(ids):
        raise ValueError("Each attended service appears once.")

    not_billed: list[NotBilled] = []
    eligible: list[AttendedService] = []
    for service in services:
        reason = _service_problem(service, rules)
        if reason is None:
            eligible.append(service)
        else:
            not_billed.append(NotBilled(day, (service.service_id,), reason))

    week_reason = _week_problem(rules, week_minutes, week_days)
    if week_reason is not None and eligible:
        not_billed.append(NotBilled(day, _ids(eligible), week_reason))
        eligible = []

    charges: list[ChargeDraft] = []
    if eligible:
        if rules.mode == BillingMode.PER_DIEM:
            charges, more = _per_diem(day, eligible, rules, fee_schedule)
        elif rules.mode == BillingMode.MEDICARE_IOP:
            charges, more = _medicare(day, eligible, rules, fee_schedule)
        else:
            charges, more = _itemized(day, eligible, rules, fee_schedule)
        not_billed.extend(more)
    return DayCharges(day=day, charges=charges, not_billed=not_billed)


def charges_for_week(
    week: IsoWeek,
    services: Iterable[AttendedService],
    rules: PayerBillingRules,
    fee_schedule: FeeSchedule,
) -> PeriodCharges:
    """Charges for the attended services dated inside `week`, the weekly minimums judged on the
    minutes and days attended that week (e.g. Medicare IOP: 3 or 4+ services a day, the 9 h a week
    when the payer sets it, condition code 92 on each line)."""
    mine = [s for s in services if week.monday <= s.date <= week.sunday]
    minutes = sum(s.minutes for s in mine)
    days_attended = len({s.date for s in mine if s.minutes > 0})
    by_day: dict[dt.date, list[AttendedService]] = defaultdict(list)
    for service in mine:
        by_day[service.date].append(service)
    return PeriodCharges(
        days=[
            charges_for_day(
                by_day[day],
                rules,
                fee_schedule,
                week_minutes=minutes,
                week_days=days_attended,
            )
            for day in sorted(by_day)
        ]
    )


def charges_for_period(
    services: Iterable[AttendedService],
    rules: PayerBillingRules,
    fee_schedule: FeeSchedule,
) -> PeriodCharges:
    """Charges for attended services over any dates, week by ISO week, days in date order."""
    all_services = list(services)
    weeks = sorted({IsoWeek.of(s.date) for s in all_services})
    days: list[DayCharges] = []
    for week in weeks:
        days.extend(charges_for_week(week, all_services, rules, fee_schedule).days)
    return PeriodCharges(days=days)


def adjustments_for(
    previous_charges: Sequence[ChargeDraft], new_charges: Sequence[ChargeDraft]
) -> list[Adjustment]:
    """What to post when charges already exist and attendance changed: a line newly due (ADD), a
    line no longer due (VOID), a line with other units or amount (CHANGE). Lines are matched by
    payer, program, date, code, modifiers and revenue code. The deltas add up to the new total
    minus the previous total; identical charges give no adjustment. Never edit a charge in place:
    post these."""
    previous = _lines(previous_charges)
    new = _lines(new_charges)
    adjustments: list[Adjustment] = []
    for key in sorted(set(previous) | set(new), key=_key_order):
        was = previous.get(key)
        now = new.get(key)
        was_units, was_amount, was_ids = was if was else (0, Decimal("0.00"), ())
        now_units, now_amount, now_ids = now if now else (0, Decimal("0.00"), ())
        if was_units == now_units and was_amount == now_amount:
            continue
        kind = (
            AdjustmentKind.ADD
            if was is None
            else AdjustmentKind.VOID
            if now is None
            else AdjustmentKind.CHANGE
        )
        payer, program, day, code, modifiers, revenue_code = key
        delta = now_amount - was_amount
        reason = (
            f"Attendance corrected for {_day_words(day)}: {code} was "
            f"{_units_words(was_units, was_amount)}, now {_units_words(now_units, now_amount)} "
            f"({_money(delta, signed=True)})."
        )
        adjustments.append(
            Adjustment(
                kind=kind,
                payer=payer,
                program=program,
                service_date=day,
                code=code,
                modifiers=modifiers,
                revenue_code=revenue_code,
                previous_units=was_units,
                new_units=now_units,
                previous_amount=was_amount,
                new_amount=now_amount,
                delta=delta,
                previous_service_ids=was_ids,
                new_service_ids=now_ids,
                reason=reason,
            )
        )
    return adjustments


# --- the modes -------------------------------------------------------------------------------


def _per_diem(
    day: dt.date,
    services: list[AttendedService],
    rules: PayerBillingRules,
    fees: FeeSchedule,
) -> tuple[list[ChargeDraft], list[NotBilled]]:
    code = rules.per_diem_code
    assert code is not None  # PayerBillingRules requires it in this mode
    minutes = sum(s.minutes for s in services)
    minimum = rules.min_minutes_per_day
    if minimum is not None and minutes < minimum:
        if rules.short_day_as_services:
            return _itemized(day, services, rules, fees)
        reason = (
            f"{duration_words(minutes)} attended; this payer bills {code} from "
            f"{duration_words(minimum)}"
        )
        return [], [NotBilled(day, _ids(services), reason)]
    basis = f"{duration_words(minutes)} attended; {code} per diem, one unit for the day"
    return _charge(day, code, services, rules, fees, basis=basis)


def _itemized(
    day: dt.date,
    services: list[AttendedService],
    rules: PayerBillingRules,
    fees: FeeSchedule,
) -> tuple[list[ChargeDraft], list[NotBilled]]:
    charges: list[ChargeDraft] = []
    not_billed: list[NotBilled] = []
    for service in services:
        code, reason = _code_for(service, rules)
        if code is None:
            not_billed.append(NotBilled(day, (service.service_id,), reason))
            continue
        basis = f"{duration_words(service.minutes)} {_singular(service.kind)}; {code}"
        made, missed = _charge(day, code, [service], rules, fees, basis=basis)
        charges.extend(made)
        not_billed.extend(missed)
    return charges, not_billed


def _medicare(
    day: dt.date,
    services: list[AttendedService],
    rules: PayerBillingRules,
    fees: FeeSchedule,
) -> tuple[list[ChargeDraft], list[NotBilled]]:
    coded: list[tuple[AttendedService, str]] = []
    not_billed: list[NotBilled] = []
    for service in services:
        code, reason = _code_for(service, rules)
        if code is None:
            not_billed.append(NotBilled(day, (service.service_id,), reason))
        else:
            coded.append((service, code))
    count = len(coded)
    minimum = rules.min_services_per_day
    if minimum is not None and count < minimum:
        if coded:
            not_billed.append(
                NotBilled(
                    day,
                    _ids(s for s, _ in coded),
                    f"{_count_words(count, 'service')} attended; this payer bills IOP days from "
                    f"{_count_words(minimum, 'service')}",
                )
            )
        return [], not_billed
    tier = (
        MedicareDayTier.FOUR_OR_MORE_SERVICES
        if count >= MEDICARE_IOP_FOUR_OR_MORE_SERVICES
        else MedicareDayTier.THREE_SERVICES
        if count == MEDICARE_IOP_THREE_SERVICES
        else None
    )
    tier_words = {
        MedicareDayTier.FOUR_OR_MORE_SERVICES: "a day of 4 or more services",
        MedicareDayTier.THREE_SERVICES: "a day of 3 services",
        None: f"a day of {_count_words(count, 'service')}",
    }[tier]
    charges: list[ChargeDraft] = []
    for service, code in coded:
        basis = f"{duration_words(service.minutes)} {_singular(service.kind)}; {code}, {tier_words}"
        made, missed = _charge(
            day,
            code,
            [service],
            rules,
            fees,
            basis=basis,
            condition_codes=(MEDICARE_IOP_CONDITION_CODE,),
            tier=tier,
        )
        charges.extend(made)
        not_billed.extend(missed)
    return charges, not_billed


# --- helpers ---------------------------------------------------------------------------------


def _service_problem(service: AttendedService, rules: PayerBillingRules) -> str | None:
    """Why a service cannot be billed whatever the mode, or None."""
    if service.minutes == 0:
        return "0 min attended"
    if service.kind == ServiceKind.MEDICATION_MANAGEMENT:
        return MEDICATION_MANAGEMENT_REASON
    if service.kind == ServiceKind.GROUP:
        if service.participants is None:
            if rules.group_count_required:
                return (
                    "the number of participants is not documented; this payer needs it for "
                    "group sessions"
                )
        elif rules.max_group_size is not None and service.participants > rules.max_group_size:
            return (
                f"{service.participants} participants in the group; this payer bills groups of "
                f"at most {rules.max_group_size}"
            )
    return None


def _week_problem(
    rules: PayerBillingRules, week_minutes: int | None, week_days: int | None
) -> str | None:
    if rules.min_minutes_per_week is not None:
        if week_minutes is None:
            raise ValueError("This payer sets hours a week: give the minutes attended that week.")
        if week_minutes < rules.min_minutes_per_week:
            return (
                f"{duration_words(week_minutes)} attended that week; this payer bills from "
                f"{duration_words(rules.min_minutes_per_week)} a week"
            )
    if rules.min_days_per_week is not None:
        if week_days is None:
            raise ValueError("This payer sets days a week: give the days attended that week.")
        if week_days < rules.min_days_per_week:
            return (
                f"{_count_words(week_days, 'day')} attended that week; this payer bills from "
                f"{_count_words(rules.min_days_per_week, 'day')} a week"
            )
    return None


def _code_for(service: AttendedService, rules: PayerBillingRules) -> tuple[str | None, str]:
    """The code for a service by its kind and minutes, or None and why not."""
    bands = rules.codes.get(service.kind)
    if not bands:
        return None, f"this payer has no code for {service.kind.words}"
    for band in bands:
        if band.fits(service.minutes):
            return band.code, ""
    lowest = bands[0]
    if service.minutes < lowest.min_minutes:
        return None, (
            f"{duration_words(service.minutes)} attended; this payer bills {lowest.code} from "
            f"{duration_words(lowest.min_minutes)}"
        )
    return None, (
        f"{duration_words(service.minutes)} attended; no code of this payer for "
        f"{service.kind.words} covers that time"
    )


def _charge(
    day: dt.date,
    code: str,
    services: Sequence[AttendedService],
    rules: PayerBillingRules,
    fees: FeeSchedule,
    *,
    basis: str,
    condition_codes: tuple[str, ...] = (),
    tier: MedicareDayTier | None = None,
) -> tuple[list[ChargeDraft], list[NotBilled]]:
    """One line of one unit for `services`, priced from the fee schedule, or why not."""
    entry = fees.find(rules.payer, rules.program, code, day)
    if entry is None:
        return [], [
            NotBilled(
                day,
                _ids(services),
                f"no fee for {code} on {day.isoformat()} in this payer's fee schedule",
            )
        ]
    institutional = rules.claim_form == ClaimForm.INSTITUTIONAL
    if institutional and entry.revenue_code is None:
        return [], [
            NotBilled(
                day,
                _ids(services),
                f"no revenue code for {code} in this payer's fee schedule; an 837I line needs one",
            )
        ]
    units = 1
    return [
        ChargeDraft(
            payer=rules.payer,
            program=rules.program,
            service_date=day,
            code=code,
            modifiers=entry.modifiers,
            revenue_code=entry.revenue_code if institutional else None,
            units=units,
            rate=entry.rate,
            amount=round_cents(entry.rate * units),
            claim_form=rules.claim_form,
            service_ids=_ids(services),
            condition_codes=condition_codes,
            medicare_tier=tier,
            basis=basis,
        )
    ], []


def _lines(
    charges: Sequence[ChargeDraft],
) -> dict[
    tuple[str, str, dt.date, str, tuple[str, ...], str | None],
    tuple[int, Decimal, tuple[str, ...]],
]:
    lines: dict[
        tuple[str, str, dt.date, str, tuple[str, ...], str | None],
        tuple[int, Decimal, tuple[str, ...]],
    ] = {}
    for charge in charges:
        units, amount, ids = lines.get(charge.line_key, (0, Decimal("0.00"), ()))
        lines[charge.line_key] = (
            units + charge.units,
            amount + charge.amount,
            ids + charge.service_ids,
        )
    return lines


def _key_order(
    key: tuple[str, str, dt.date, str, tuple[str, ...], str | None],
) -> tuple[dt.date, str, str, str, tuple[str, ...], str]:
    payer, program, day, code, modifiers, revenue_code = key
    return (day, code, payer, program, modifiers, revenue_code or "")


def _ids(services: Iterable[AttendedService]) -> tuple[str, ...]:
    return tuple(s.service_id for s in services)


def _singular(kind: ServiceKind) -> str:
    return {
        ServiceKind.INDIVIDUAL: "individual session",
        ServiceKind.GROUP: "group session",
        ServiceKind.FAMILY_WITH_PATIENT: "family session with the patient",
        ServiceKind.FAMILY_WITHOUT_PATIENT: "family session without the patient",
        ServiceKind.MULTI_FAMILY_GROUP: "multi-family group",
        ServiceKind.EDUCATION: "education session",
        ServiceKind.ACTIVITY_THERAPY: "activity therapy",
        ServiceKind.OCCUPATIONAL_THERAPY: "occupational therapy",
        ServiceKind.ASSESSMENT: "assessment",
        ServiceKind.MEDICATION_MANAGEMENT: "medication-management visit",
    }[kind]


def _count_words(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _units_words(units: int, amount: Decimal) -> str:
    if units == 0:
        return "not charged"
    return f"{_count_words(units, 'unit')} ({_money(amount)})"


def _money(amount: Decimal, *, signed: bool = False) -> str:
    sign = "-" if amount < 0 else "+" if signed else ""
    return f"{sign}${abs(amount):,.2f}"


def _day_words(day: dt.date) -> str:
    return f"{day:%a} {day:%b} {day.day}, {day.year}"
