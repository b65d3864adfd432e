"""Payer authorizations and the Medicare IOP physician certification: what is used, what is left,
when it runs out, and which days no certification covers.

Pure rules (no Django, no I/O, no clock): dates, charges and the schedule are arguments.

Authorizations (issue 16, point 3). An `Authorization` belongs to one coverage (primary or
secondary: each coverage has its own authorizations) and grants a quantity of units or of days
(`UnitKind`) from a start date to an end date, both included, for the service codes it lists.
Payers authorize IOP in weekly increments or day limits [domain.md 2.3: getforwardcare;
Codapedia]; the authorization number goes on the claim (REF*G1 prior authorization, domain.md 3).

- The codes are explicit: an authorization lists at least one code, and a charge under a code it
  does not list never draws on it. "Every code" is not offered, because a wildcard would quietly
  count unrelated services (a psychiatric evaluation, a lab) against an IOP authorization.
- Usage comes from charges: `usage(auth, charges)` counts the units (UNITS) or the distinct service
  dates (DAYS: several charges on one date use one day) of the charges whose code the
  authorization lists and whose service date falls inside its dates.
- Overlapping authorizations of one coverage: `allocate(auths, charges)` takes the charges in date
  order and draws each on exactly one authorization: the one ending first (then the one starting
  first, then by reference number) among those that list the code, cover the date and still have
  room for the whole charge; if none has room, the one ending first that has anything left, else
  the one ending first; the units beyond what was left are reported as over. A DAYS authorization
  that already counted the date has room for another charge that day (it costs no further day).
  Using the authorization that expires first keeps the later one for the days it alone covers.
  A charge no authorization covers is listed with the reason. Call `allocate` once per coverage
  with the charges billed to that coverage (a charge billed to the primary and then to the
  secondary is passed to both calls).
- `forecast(...)` burns the remaining quantity down over the patient's scheduled days and says when
  it runs out and whether that, or the end date, comes before the planned discharge.
- `authorization_alerts(...)`: at 80% used and 7 days before the end date [issue 16, point 3].

Medicare IOP certification [domain.md 2.1: "physician certifies need for >=9 h of IOP
services/week; redetermined no less often than every other month" (CMS fact sheet via Coronis;
icd10monitor: "no less frequently than every other month"), "every 60 days" per legalclarity;
42 CFR 424.24; "Alert before due dates"]. The sources word the interval two ways, and the two are
not the same: two calendar months run from 59 days (1 Jan to 1 Mar) to 62 days (1 Jul to 1 Sep).
So the interval is configuration with no default (`RecertificationInterval`), one option per
reading plus the earlier of the two, which satisfies both:

- EVERY_OTHER_MONTH: the same day of the month two calendar months later; a day the month lacks
  becomes its last day (31 Dec -> 28 Feb, or 29 Feb in a leap year). The regulation's wording.
- SIXTY_DAYS: 60 days later (legalclarity's reading).
- EARLIER_OF_BOTH: whichever of the two comes first.

The clock: a certification's recertification is due on that date counted from the earlier of its
signature and its start, and the certification covers service days from the later of the two up
to the day before the due date (the due date itself needs the next certification, signed by
then). Whether a certification signed after services began covers the days before the signature
is not in domain.md, so those days count as uncertified: no claim for them until a source says
otherwise. A certification may also end earlier (`end`). A certification that states fewer than
MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES a week (9 h, charges.py) is not an IOP certification and
covers no day. How many days ahead to warn is configuration with no default (domain.md gives no
figure).

Every alert has a kind, a message in words and a `dedupe_key` that stays the same while the
situation does (the caller stores one alert per patient, kind and key, as episodes.Alert does).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from openiop.billing.domain.charges import MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES, duration_words

# Issue 16, point 3: "alerts at 80% used and 7 days before it ends".
AUTHORIZATION_USAGE_ALERT_PERCENT = 80
AUTHORIZATION_END_ALERT_DAYS = 7

# domain.md 2.1: certification redetermined "no less often than every other month" [CMS fact sheet
# via Coronis; icd10monitor]; "every 60 days" [legalclarity].
RECERTIFICATION_MONTHS = 2
RECERTIFICATION_DAYS = 60


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_code(code: object) -> None:
    # Procedure codes are exactly 5 characters [domain.md 3, Stedi edits] (as charges.py checks).
    if not (isinstance(code, str) and len(code) == 5 and code.isalnum() and code == code.upper()):
        raise ValueError(f"'{code}' is not a five-character procedure code.")


class UnitKind(StrEnum):
    UNITS = "units"  # each charge uses its units
    DAYS = "days"  # each service date uses one day, however many charges it has

    def count_words(self, count: int) -> str:
        noun = "unit" if self == UnitKind.UNITS else "day"
        return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class ChargeLike(Protocol):
    """What a charge must give to count against an authorization (charges.ChargeDraft does)."""

    @property
    def code(self) -> str: ...

    @property
    def units(self) -> int: ...

    @property
    def service_date(self) -> dt.date: ...


@dataclass(frozen=True)
class Authorization:
    """A payer's authorization for one coverage: `authorized` units or days (`unit_kind`) from
    `start` to `end`, both included, for the `service_codes` listed (at least one)."""

    reference_number: str
    coverage_key: str
    unit_kind: UnitKind
    authorized: int
    start: dt.date
    end: dt.date
    service_codes: frozenset[str]

    def __post_init__(self) -> None:
        if not isinstance(self.reference_number, str) or not self.reference_number.strip():
            raise ValueError("An authorization needs its reference number.")
        if not isinstance(self.coverage_key, str) or not self.coverage_key.strip():
            raise ValueError(f"Authorization {self.reference_number} needs its coverage.")
        object.__setattr__(self, "unit_kind", UnitKind(self.unit_kind))
        if not _is_int(self.authorized) or self.authorized < 1:
            raise ValueError(
                f"Authorization {self.reference_number} must grant a whole number of 1 or more "
                f"{self.unit_kind.value}."
            )
        if self.end < self.start:
            raise ValueError(f"Authorization {self.reference_number} ends before it starts.")
        codes = frozenset(self.service_codes)
        if not codes:
            raise ValueError(
                f"Authorization {self.reference_number} must list the service codes it covers."
            )
        for code in codes:
            _check_code(code)
        object.__setattr__(self, "service_codes", codes)

    def covers(self, code: str, day: dt.date) -> bool:
        return code in self.service_codes and self.start <= day <= self.end

    @property
    def words(self) -> str:
        """'Authorization AUTH-1 (20 units, Mar 2 to Apr 10, 2026)'."""
        return (
            f"Authorization {self.reference_number} "
            f"({self.unit_kind.count_words(self.authorized)}, "
            f"{_span_words(self.start, self.end)})"
        )


@dataclass(frozen=True)
class Usage:
    """What an authorization has used: `remaining` never below 0, `over` what was used beyond it."""

    authorization: Authorization
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.authorization.authorized - self.used)

    @property
    def over(self) -> int:
        return max(0, self.used - self.authorization.authorized)

    @property
    def percent_used(self) -> int:
        """Whole percent, rounded down (79.9% is 79)."""
        return self.used * 100 // self.authorization.authorized


@dataclass(frozen=True)
class Draw:
    """A charge drawn on an authorization: `quantity` units or days it used (0: a DAYS
    authorization that had already counted that date), `over` of them beyond what was left."""

    charge: ChargeLike
    reference_number: str
    quantity: int
    over: int = 0


@dataclass(frozen=True)
class Uncovered:
    """A charge no authorization of the coverage covers, and why, in words."""

    charge: ChargeLike
    reason: str


@dataclass(frozen=True)
class Allocation:
    """Every charge either drawn on one authorization or listed as uncovered."""

    usages: tuple[Usage, ...]
    draws: tuple[Draw, ...]
    uncovered: tuple[Uncovered, ...]

    def usage_of(self, reference_number: str) -> Usage:
        for usage in self.usages:
            if usage.authorization.reference_number == reference_number:
                return usage
        raise KeyError(reference_number)


def _checked_charges(charges: Iterable[ChargeLike]) -> list[ChargeLike]:
    checked = []
    for charge in charges:
        if not _is_int(charge.units) or charge.units < 0:
            raise ValueError(
                f"A charge's units must be a whole number of 0 or more ({charge.code} on "
                f"{charge.service_date.isoformat()})."
            )
        if charge.units:  # a line of 0 units (voided) uses nothing
            checked.append(charge)
    return sorted(checked, key=lambda c: (c.service_date, c.code))


def usage(auth: Authorization, charges: Iterable[ChargeLike]) -> Usage:
    """The units (UNITS) or distinct service dates (DAYS) of the charges `auth` covers (code
    listed, date inside). When authorizations of the coverage overlap, `allocate` says which of
    them each charge used; this counts every covered charge against `auth` alone."""
    covered = [c for c in _checked_charges(charges) if auth.covers(c.code, c.service_date)]
    if auth.unit_kind == UnitKind.DAYS:
        return Usage(auth, len({c.service_date for c in covered}))
    return Usage(auth, sum(c.units for c in covered))


def allocate(auths: Sequence[Authorization], charges: Iterable[ChargeLike]) -> Allocation:
    """Draw each charge billed to one coverage on one of its authorizations (the rule is in the
    module docstring: the one ending first with room), or list it as uncovered with why."""
    keys = {a.coverage_key for a in auths}
    if len(keys) > 1:
        raise ValueError("Allocate one coverage's authorizations at a time.")
    references = [a.reference_number for a in auths]
    if len(set(references)) != len(references):
        raise ValueError("Each authorization of a coverage has its own reference number.")
    order = sorted(auths, key=lambda a: (a.end, a.start, a.reference_number))
    used: dict[str, int] = {a.reference_number: 0 for a in order}
    counted_days: dict[str, set[dt.date]] = defaultdict(set)
    draws: list[Draw] = []
    uncovered: list[Uncovered] = []

    def need(auth: Authorization, charge: ChargeLike) -> int:
        if auth.unit_kind == UnitKind.UNITS:
            return charge.units
        return 0 if charge.service_date in counted_days[auth.reference_number] else 1

    def left(auth: Authorization) -> int:
        return max(0, auth.authorized - used[auth.reference_number])

    for charge in _checked_charges(charges):
        candidates = [a for a in order if a.covers(charge.code, charge.service_date)]
        if not candidates:
            uncovered.append(Uncovered(charge, _uncovered_reason(charge, order)))
            continue
        chosen = next(
            (a for a in candidates if need(a, charge) <= left(a)),
            next((a for a in candidates if left(a) > 0), candidates[0]),
        )
        quantity = need(chosen, charge)
        over = max(0, quantity - left(chosen))
        used[chosen.reference_number] += quantity
        if chosen.unit_kind == UnitKind.DAYS:
            counted_days[chosen.reference_number].add(charge.service_date)
        draws.append(Draw(charge, chosen.reference_number, quantity, over))
    return Allocation(
        usages=tuple(Usage(a, used[a.reference_number]) for a in auths),
        draws=tuple(draws),
        uncovered=tuple(uncovered),
    )


def _uncovered_reason(charge: ChargeLike, auths: Sequence[Authorization]) -> str:
    day = _day_words(charge.service_date)
    listing = [a for a in auths if charge.code in a.service_codes]
    if not auths:
        return f"{charge.code} on {day}: this coverage has no authorization"
    if not listing:
        return f"{charge.code} on {day}: no authorization of this coverage lists {charge.code}"
    spans = "; ".join(f"{a.reference_number} covers {_span_words(a.start, a.end)}" for a in listing)
    return f"{charge.code} on {day}: outside the dates of its authorizations ({spans})"


# --- forecast -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDay:
    """A scheduled day and the units planned on it under the authorization's codes (a DAYS
    authorization uses one day for it whatever the units)."""

    day: dt.date
    units: int

    def __post_init__(self) -> None:
        if not _is_int(self.units) or self.units < 1:
            raise ValueError(
                f"A planned day has 1 or more units ({self.day.isoformat()}: {self.units!r})."
            )


@dataclass(frozen=True)
class BurnPoint:
    """A point of the burn-down chart: the balance (authorized minus used minus planned) after
    `day`'s planned use; the first point is today's balance before any of it. Below 0 is the
    shortfall so far."""

    day: dt.date
    balance: int


@dataclass(frozen=True)
class Forecast:
    """The burn-down of one authorization over the patient's schedule.

    - remaining: units (or days) left now; days_left: calendar days from today to the end date,
      both included (0 once it has ended).
    - run_out: the planned day on which the last authorized unit (or day) is used; None when the
      plan does not use it all, or when nothing was left today (`used_up`).
    - short_within_dates: planned units (days) inside the authorization's dates beyond what is
      left; after_end: planned units (days) after its end date, up to the planned discharge.
      shortfall is both; first_uncovered the first planned day not fully covered.
    - runs_out_before_discharge: the quantity runs out while days are still planned before the
      discharge (short_within_dates > 0); ends_before_discharge: the end date is before the
      planned discharge.
    - series: today's balance, then the balance after each planned day inside the dates.
    """

    authorization: Authorization
    today: dt.date
    planned_discharge: dt.date | None
    remaining: int
    days_left: int
    used_up: bool
    run_out: dt.date | None
    remaining_after_plan: int
    short_within_dates: int
    after_end: int
    first_uncovered: dt.date | None
    ends_before_discharge: bool
    series: tuple[BurnPoint, ...]

    @property
    def shortfall(self) -> int:
        return self.short_within_dates + self.after_end

    @property
    def runs_out_before_discharge(self) -> bool:
        return self.short_within_dates > 0

    @property
    def covers_plan(self) -> bool:
        return self.shortfall == 0


def forecast(
    auth: Authorization,
    used: int,
    planned_days: Iterable[PlannedDay],
    planned_discharge: dt.date | None,
    today: dt.date,
) -> Forecast:
    """Burn the authorization down over the patient's schedule.

    `used`: what the authorization has used so far (`usage` or `allocate`). `planned_days`: the
    scheduled days not charged yet; days before today, before the authorization starts or after
    the planned discharge are left out, and two entries for one date add up. `planned_discharge`
    None: every planned day counts.
    """
    if not _is_int(used) or used < 0:
        raise ValueError("The quantity used must be a whole number of 0 or more.")
    by_day: dict[dt.date, int] = defaultdict(int)
    for planned in planned_days:
        if planned.day < today or planned.day < auth.start:
            continue
        if planned_discharge is not None and planned.day > planned_discharge:
            continue
        by_day[planned.day] += planned.units
    remaining = max(0, auth.authorized - used)
    left = remaining
    balance = auth.authorized - used
    run_out: dt.date | None = None
    short = 0
    after_end = 0
    first_uncovered: dt.date | None = None
    series = [BurnPoint(today, balance)]
    for day in sorted(by_day):
        need = by_day[day] if auth.unit_kind == UnitKind.UNITS else 1
        if day > auth.end:
            after_end += need
            first_uncovered = first_uncovered or day
            continue
        if left and need >= left:
            run_out = day
        missing = max(0, need - left)
        if missing:
            short += missing
            first_uncovered = first_uncovered or day
        left = max(0, left - need)
        balance -= need
        series.append(BurnPoint(day, balance))
    return Forecast(
        authorization=auth,
        today=today,
        planned_discharge=planned_discharge,
        remaining=remaining,
        days_left=max(0, (auth.end - today).days + 1),
        used_up=remaining == 0,
        run_out=run_out,
        remaining_after_plan=left,
        short_within_dates=short,
        after_end=after_end,
        first_uncovered=first_uncovered,
        ends_before_discharge=planned_discharge is not None and auth.end < planned_discharge,
        series=tuple(series),
    )


# --- alerts ---------------------------------------------------------------------------------


class AlertKind(StrEnum):
    AUTHORIZATION_USAGE = "authorization_usage"
    AUTHORIZATION_ENDING = "authorization_ending"
    RECERTIFICATION_DUE = "recertification_due"
    CERTIFICATION_LAPSED = "certification_lapsed"
    CERTIFICATION_MISSING = "certification_missing"


@dataclass(frozen=True)
class Alert:
    """An alert for staff: `dedupe_key` is the same for as long as the situation is (store one
    alert per patient, kind and key)."""

    kind: AlertKind
    dedupe_key: str
    message: str


def authorization_alerts(
    auth: Authorization,
    used: int,
    today: dt.date,
    *,
    usage_percent: int = AUTHORIZATION_USAGE_ALERT_PERCENT,
    end_warning_days: int = AUTHORIZATION_END_ALERT_DAYS,
) -> list[Alert]:
    """At `usage_percent` of the authorized quantity used (80% by default, issue 16), and from
    `end_warning_days` days before the end date through the end date (7 by default). The usage
    key names the authorized quantity and the ending key the end date, so an amended
    authorization (more units, a later end) alerts again when it reaches them."""
    if not _is_int(used) or used < 0:
        raise ValueError("The quantity used must be a whole number of 0 or more.")
    if not _is_int(usage_percent) or not 1 <= usage_percent <= 100:
        raise ValueError("The usage alert is a whole percent from 1 to 100.")
    if not _is_int(end_warning_days) or end_warning_days < 0:
        raise ValueError("The days of warning before the end are a whole number of 0 or more.")
    state = Usage(auth, used)
    kind = auth.unit_kind
    alerts: list[Alert] = []
    ident = f"{auth.coverage_key}:{auth.reference_number}"
    if used * 100 >= usage_percent * auth.authorized:
        if state.over:
            amount = (
                f"{kind.count_words(used)} used of {auth.authorized} authorized, {state.over} over"
            )
        elif state.remaining == 0:
            amount = f"all {kind.count_words(auth.authorized)} used"
        else:
            amount = (
                f"{used} of {kind.count_words(auth.authorized)} used ({state.percent_used}%), "
                f"{state.remaining} left"
            )
        alerts.append(
            Alert(
                AlertKind.AUTHORIZATION_USAGE,
                f"auth-used-{usage_percent}:{ident}:{auth.authorized}",
                f"Authorization {auth.reference_number}: {amount}; it ends on "
                f"{_day_words(auth.end)}.",
            )
        )
    days_to_end = (auth.end - today).days
    if 0 <= days_to_end <= end_warning_days:
        when = (
            "today"
            if days_to_end == 0
            else "tomorrow"
            if days_to_end == 1
            else f"in {days_to_end} days"
        )
        alerts.append(
            Alert(
                AlertKind.AUTHORIZATION_ENDING,
                f"auth-ends:{ident}:{auth.end.isoformat()}",
                f"Authorization {auth.reference_number} ends {when} ({_day_words(auth.end)}, "
                f"the last day it covers); {kind.count_words(state.remaining)} left.",
            )
        )
    return alerts


# --- Medicare IOP certification ---------------------------------------------------------------


class RecertificationInterval(StrEnum):
    """How 'no less often than every other month' is counted (module docstring; domain.md 2.1).
    Configuration with no default: the sources word it two ways."""

    EVERY_OTHER_MONTH = "every_other_month"  # 2 calendar months [CMS fact sheet; icd10monitor]
    SIXTY_DAYS = "sixty_days"  # 60 days [legalclarity]
    EARLIER_OF_BOTH = "earlier_of_both"  # satisfies both readings

    def due_after(self, anchor: dt.date) -> dt.date:
        months = _add_months(anchor, RECERTIFICATION_MONTHS)
        days = anchor + dt.timedelta(days=RECERTIFICATION_DAYS)
        if self == RecertificationInterval.EVERY_OTHER_MONTH:
            return months
        if self == RecertificationInterval.SIXTY_DAYS:
            return days
        return min(months, days)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; a day the month lacks becomes its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Certification:
    """A physician's certification (or recertification) that the patient needs Medicare IOP
    services: signed on `signed`, for services from `start` (through `end` if the physician set
    one), stating the need for `certified_weekly_minutes` a week."""

    signed: dt.date
    physician_npi: str
    physician_name: str
    start: dt.date
    certified_weekly_minutes: int
    end: dt.date | None = None

    def __post_init__(self) -> None:
        if not (
            isinstance(self.physician_npi, str)
            and len(self.physician_npi) == 10
            and self.physician_npi.isdigit()
        ):
            # The NPI is 10 digits (as x12.py checks for NM109).
            raise ValueError(f"'{self.physician_npi}' is not a 10-digit NPI.")
        if not isinstance(self.physician_name, str) or not self.physician_name.strip():
            raise ValueError("A certification names the physician who signed it.")
        if not _is_int(self.certified_weekly_minutes) or self.certified_weekly_minutes < 0:
            raise ValueError("The certified minutes a week are a whole number of 0 or more.")
        if self.end is not None and self.end < self.start:
            raise ValueError("A certification cannot end before it starts.")

    @property
    def problem(self) -> str | None:
        """Why this is not a Medicare IOP certification, or None."""
        if self.certified_weekly_minutes < MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES:
            return (
                f"the certification signed {_day_words(self.signed)} states "
                f"{duration_words(self.certified_weekly_minutes)} a week; Medicare IOP needs the "
                f"physician to certify at least "
                f"{duration_words(MEDICARE_IOP_CERTIFIED_WEEKLY_MINUTES)} a week"
            )
        return None

    @property
    def first_day(self) -> dt.date:
        """The first service day it covers: the later of its start and its signature."""
        return max(self.start, self.signed)

    @property
    def words(self) -> str:
        return f"{self.physician_name}'s certification signed {_day_words(self.signed)}"


def recertification_due(cert: Certification, *, interval: RecertificationInterval) -> dt.date:
    """The date by which the next certification must be signed, and from which `cert` no longer
    covers a day: the interval counted from the earlier of its signature and its start, or the day
    after its `end` if that comes first."""
    due = RecertificationInterval(interval).due_after(min(cert.signed, cert.start))
    if cert.end is not None:
        due = min(due, cert.end + dt.timedelta(days=1))
    return due


def _covers(cert: Certification, day: dt.date, interval: RecertificationInterval) -> bool:
    return cert.problem is None and cert.first_day <= day < recertification_due(
        cert, interval=interval
    )


def certification_alerts(
    certs: Sequence[Certification],
    today: dt.date,
    warn_days: int,
    *,
    interval: RecertificationInterval,
) -> list[Alert]:
    """Alerts about one patient's Medicare IOP certification as of `today`: recertification due
    within `warn_days` (configuration, no default: domain.md says "alert before due dates" without
    a figure), lapsed, or none on file. The valid certification that reaches furthest decides."""
    if not _is_int(warn_days) or warn_days < 0:
        raise ValueError("The days of warning are a whole number of 0 or more.")
    valid = [c for c in certs if c.problem is None]
    if not valid:
        reasons = "; ".join(p for c in certs if (p := c.problem) is not None)
        return [
            Alert(
                AlertKind.CERTIFICATION_MISSING,
                "cert-missing",
                "No Medicare IOP certification by a physician is on file"
                + (f" ({reasons})" if reasons else "")
                + "; days without one cannot be claimed.",
            )
        ]
    latest = max(
        valid, key=lambda c: (recertification_due(c, interval=interval), c.first_day, c.signed)
    )
    due = recertification_due(latest, interval=interval)
    last = due - dt.timedelta(days=1)
    if today >= due:
        return [
            Alert(
                AlertKind.CERTIFICATION_LAPSED,
                f"cert-lapsed:{due.isoformat()}",
                f"The Medicare IOP certification lapsed on {_day_words(due)}: {latest.words} "
                f"covers days through {_day_words(last)}. Days from {_day_words(due)} cannot be "
                "claimed until a physician recertifies.",
            )
        ]
    days = (due - today).days
    if days <= warn_days:
        when = "tomorrow" if days == 1 else f"in {days} days"
        return [
            Alert(
                AlertKind.RECERTIFICATION_DUE,
                f"recert-due:{due.isoformat()}",
                f"Medicare IOP recertification due by {_day_words(due)} ({when}): {latest.words} "
                f"covers days through {_day_words(last)}.",
            )
        ]
    return []


@dataclass(frozen=True)
class UncertifiedDay:
    """A service day no certification covers, and why: a claim must not include it."""

    day: dt.date
    reason: str


def uncertified_days(
    days: Iterable[dt.date],
    certs: Sequence[Certification],
    *,
    interval: RecertificationInterval,
) -> list[UncertifiedDay]:
    """The service days (each once, in order) that no valid certification covers, with why."""
    valid = [c for c in certs if c.problem is None]
    invalid = [p for c in certs if (p := c.problem) is not None]
    result: list[UncertifiedDay] = []
    for day in sorted(set(days)):
        if any(_covers(c, day, interval) for c in valid):
            continue
        earlier = [c for c in valid if c.first_day <= day]
        if earlier:
            cert = max(
                earlier,
                key=lambda c: (recertification_due(c, interval=interval), c.first_day, c.signed),
            )
            due = recertification_due(cert, interval=interval)
            reason = (
                f"{cert.words} covers {_span_words(cert.first_day, due - dt.timedelta(days=1))}; "
                f"no recertification covers {_day_words(day)}"
            )
        elif valid:
            first = min(valid, key=lambda c: c.first_day)
            reason = (
                f"before the first certification: {first.words} covers days from "
                f"{_day_words(first.first_day)}"
            )
        else:
            reason = "no physician certification is on file"
        if invalid:
            reason += f" ({'; '.join(invalid)})"
        result.append(UncertifiedDay(day, reason))
    return result


# --- words ------------------------------------------------------------------------------------


def _day_words(day: dt.date) -> str:
    return f"{day:%a} {day:%b} {day.day}, {day.year}"


def _span_words(start: dt.date, end: dt.date) -> str:
    """'Mar 2 to Apr 10, 2026'; the first year is named when the years differ."""
    first = f"{start:%b} {start.day}" + (f", {start.year}" if start.year != end.year else "")
    return f"{first} to {end:%b} {end.day}, {end.year}"
