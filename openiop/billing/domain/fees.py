"""Self-pay arithmetic: percent of poverty, a sliding fee scale, cost estimate, payment plan.

Money is `Decimal`, rounded half-up to cents. The poverty guideline table and its year are
configuration passed in (`PovertyGuideline`): no federal figures are written here. Dates are
arguments; nothing reads the clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from openiop.billing.domain.money import CENT, round_cents

HUNDRED = Decimal(100)

Number = Decimal | int


@dataclass(frozen=True)
class PovertyGuideline:
    """One year's poverty guideline: the amount for one person plus each additional person.

    Configuration (e.g. the HHS guidelines of the year, or the Alaska or Hawaii table); pass the
    figures in, never hard-code them.
    """

    year: int
    base_amount: Decimal
    per_additional_person: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_amount", _decimal(self.base_amount, "The base amount"))
        object.__setattr__(
            self,
            "per_additional_person",
            _decimal(self.per_additional_person, "The amount per additional person"),
        )
        if self.base_amount <= 0:
            raise ValueError("The poverty guideline base amount must be more than zero.")
        if self.per_additional_person < 0:
            raise ValueError("The amount per additional person cannot be negative.")

    def amount_for(self, household_size: int) -> Decimal:
        """The guideline amount for a household of this many people (1 or more)."""
        if not _is_int(household_size) or household_size < 1:
            raise ValueError(
                f"The household size must be a whole number of 1 or more (got {household_size!r})."
            )
        return self.base_amount + self.per_additional_person * (household_size - 1)


def percent_of_poverty(
    household_size: int, annual_income: Decimal, guideline: PovertyGuideline
) -> Decimal:
    """Annual household income as a percentage of the guideline, rounded half-up to 0.01.

    E.g. 150.00 means 150% of the poverty guideline for that household size. The sliding scale
    compares this rounded figure, so what is printed is what decided the band.
    """
    income = _decimal(annual_income, "The annual income")
    if income < 0:
        raise ValueError("The annual income cannot be negative.")
    line = guideline.amount_for(household_size)
    return round_cents(income * HUNDRED / line)


@dataclass(frozen=True)
class SlidingScale:
    """Bands of (maximum percent of poverty, inclusive, or None for no limit; patient share %).

    Bands run from the lowest income up, their limits strictly increasing; the last band has no
    upper limit so every income falls in one. E.g. [(100, 10), (200, 50), (None, 100)]: at or below
    100% of poverty the patient pays 10%, up to 200% half, above that the full cost.
    """

    bands: Sequence[tuple[Number | None, Number]]

    def __post_init__(self) -> None:
        bands: list[tuple[Decimal | None, Decimal]] = []
        if not self.bands:
            raise ValueError("A sliding fee scale needs at least one band.")
        previous: Decimal | None = None
        for index, (limit, share) in enumerate(self.bands, start=1):
            upper = None if limit is None else _decimal(limit, f"Band {index}'s limit")
            percent = _decimal(share, f"Band {index}'s patient share")
            if upper is None and index != len(self.bands):
                raise ValueError(
                    f"Only the last band may have no upper limit (band {index} has none)."
                )
            if upper is not None and upper < 0:
                raise ValueError(f"Band {index}'s limit cannot be negative.")
            if upper is not None and previous is not None and upper <= previous:
                raise ValueError(
                    f"Band {index}'s limit ({upper}%) must be above the previous band's ({previous}%)."
                )
            if not 0 <= percent <= HUNDRED:
                raise ValueError(f"Band {index}'s patient share must be 0-100% (got {percent}%).")
            bands.append((upper, percent))
            previous = upper
        if bands[-1][0] is not None:
            raise ValueError(
                "The last band must have no upper limit so every income falls in a band."
            )
        object.__setattr__(self, "bands", tuple(bands))

    def patient_share(self, percent: Decimal) -> Decimal:
        """The patient's share (percent of the cost) for an income at this percent of poverty."""
        value = _decimal(percent, "The percent of poverty")
        if value < 0:
            raise ValueError("The percent of poverty cannot be negative.")
        for limit, share in self.bands:
            if limit is None or value <= limit:
                return Decimal(share)
        raise AssertionError("unreachable: the last band has no upper limit")  # pragma: no cover


@dataclass(frozen=True)
class Estimate:
    """The planned program's cost and the patient's part of it, in cents."""

    total: Decimal
    patient_amount: Decimal


def cost_estimate(days: int, daily_rate: Decimal, share_percent: Decimal) -> Estimate:
    """Days x daily rate, and the patient's share of it, each rounded half-up to cents."""
    if not _is_int(days) or days < 1:
        raise ValueError(f"The planned days must be a whole number of 1 or more (got {days!r}).")
    rate = _decimal(daily_rate, "The daily rate")
    if rate < 0:
        raise ValueError("The daily rate cannot be negative.")
    share = _decimal(share_percent, "The patient share")
    if not 0 <= share <= HUNDRED:
        raise ValueError(f"The patient share must be 0-100% (got {share}%).")
    total = round_cents(rate * days)
    patient = round_cents(total * share / HUNDRED)
    return Estimate(total=total, patient_amount=patient)


@dataclass(frozen=True)
class Installment:
    """One payment of a plan: when it is due and how much."""

    date: dt.date
    amount: Decimal


def payment_plan(
    total: Decimal,
    installments: int,
    first_date: dt.date,
    *,
    every_days: int | None = None,
    monthly: bool = False,
) -> list[Installment]:
    """Split a total into equal installments; the remainder cents go on the last one.

    Dates start at `first_date` and follow either every `every_days` days or the same day each
    month (`monthly=True`; a day the month lacks falls on its last day, e.g. 31 Jan -> 28 Feb ->
    31 Mar). The amounts always add up to the total exactly.
    """
    amount = _decimal(total, "The total")
    if amount <= 0:
        raise ValueError("The total of a payment plan must be more than zero.")
    if amount != amount.quantize(CENT):
        raise ValueError(f"The total must be in whole cents (got {amount}).")
    if not _is_int(installments) or installments < 1:
        raise ValueError(
            f"The number of installments must be a whole number of 1 or more (got {installments!r})."
        )
    if every_days is not None and monthly:
        raise ValueError(
            "Choose either a number of days between installments or monthly, not both."
        )
    if every_days is None and not monthly:
        raise ValueError("Choose how often installments fall due: every so many days, or monthly.")
    if every_days is not None and (not _is_int(every_days) or every_days < 1):
        raise ValueError(
            f"The days between installments must be a whole number of 1 or more (got {every_days!r})."
        )
    cents = int(amount / CENT)
    if cents < installments:
        raise ValueError(
            f"{amount} cannot be split into {installments} installments of at least one cent."
        )
    each = (amount / installments).quantize(CENT, rounding=ROUND_DOWN)
    last = amount - each * (installments - 1)
    plan: list[Installment] = []
    for number in range(installments):
        if every_days is not None:
            due = first_date + dt.timedelta(days=every_days * number)
        else:
            due = add_months(first_date, number)
        plan.append(Installment(date=due, amount=last if number == installments - 1 else each))
    return plan


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or that month's last day when it is shorter."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _decimal(value: object, what: str) -> Decimal:
    """A finite Decimal from a Decimal or int; floats are refused (they cannot hold cents exactly)."""
    if isinstance(value, Decimal):
        result = value
    elif _is_int(value):
        assert isinstance(value, int)
        result = Decimal(value)
    else:
        raise ValueError(f"{what} must be a Decimal or a whole number (got {value!r}).")
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number (got {value!r}).")
    return result


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
