"""Self-pay arithmetic without a database. All figures are fictional, not federal guidelines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from openiop.billing.domain.fees import (
    Estimate,
    Installment,
    PovertyGuideline,
    SlidingScale,
    add_months,
    cost_estimate,
    payment_plan,
    percent_of_poverty,
)

D = Decimal
# A fictional guideline: 10,000 for one person plus 5,000 for each additional person.
GUIDELINE = PovertyGuideline(year=2030, base_amount=D("10000"), per_additional_person=D("5000"))
SCALE = SlidingScale([(D(100), D(10)), (D(200), D(50)), (D(300), D(75)), (None, D(100))])


@pytest.mark.parametrize(
    ("size", "amount"),
    [(1, D("10000")), (2, D("15000")), (4, D("25000")), (9, D("50000"))],
)
def test_guideline_adds_each_additional_person(size: int, amount: D) -> None:
    assert GUIDELINE.amount_for(size) == amount


@pytest.mark.parametrize(
    ("size", "income", "percent"),
    [
        (1, D("10000"), D("100.00")),
        (1, D("0"), D("0.00")),
        (2, D("15000"), D("100.00")),
        (2, D("30000"), D("200.00")),
        (4, D("12500"), D("50.00")),
        (3, D("10000"), D("50.00")),
        (2, D("10000"), D("66.67")),  # 66.666... rounds half-up
        (1, D("10000.50"), D("100.01")),  # 100.005 rounds half-up
        (1, D("10000.49"), D("100.00")),
    ],
)
def test_percent_of_poverty(size: int, income: D, percent: D) -> None:
    assert percent_of_poverty(size, income, GUIDELINE) == percent


@pytest.mark.parametrize(
    ("size", "income", "message"),
    [
        (0, D("1000"), "household size"),
        (-2, D("1000"), "household size"),
        (True, D("1000"), "household size"),
        (1, D("-1"), "cannot be negative"),
        (1, 1000.0, "Decimal"),
        (1, D("NaN"), "finite"),
    ],
)
def test_percent_of_poverty_refuses_bad_input(size: int, income: D | float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        percent_of_poverty(size, income, GUIDELINE)  # type: ignore[arg-type]  # a float, on purpose


@pytest.mark.parametrize(
    ("base", "per_person", "message"),
    [
        (D("0"), D("100"), "more than zero"),
        (D("100"), D("-1"), "cannot be negative"),
        (100.0, D("1"), "Decimal"),
    ],
)
def test_guideline_refuses_bad_configuration(base: D | float, per_person: D, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PovertyGuideline(year=2030, base_amount=base, per_additional_person=per_person)  # type: ignore[arg-type]  # a float, on purpose


@pytest.mark.parametrize(
    ("percent", "share"),
    [
        (D("0"), D(10)),
        (D("99.99"), D(10)),
        (D("100.00"), D(10)),  # the limit is inclusive
        (D("100.01"), D(50)),
        (D("200"), D(50)),
        (D("250"), D(75)),
        (D("300.01"), D(100)),
        (D("1000"), D(100)),
    ],
)
def test_sliding_scale_band_limits_are_inclusive(percent: D, share: D) -> None:
    assert SCALE.patient_share(percent) == share


def test_scale_and_guideline_together() -> None:
    # Household of 3 (fictional line 20,000) earning 30,000 = 150% -> 50% share.
    percent = percent_of_poverty(3, D("30000"), GUIDELINE)
    assert percent == D("150.00")
    assert SCALE.patient_share(percent) == D(50)


def test_one_band_scale_charges_everyone_the_same() -> None:
    assert SlidingScale([(None, D(40))]).patient_share(D("12345")) == D(40)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([], "at least one band"),
        ([(D(100), D(10)), (D(200), D(50))], "last band must have no upper limit"),
        ([(None, D(10)), (D(200), D(50))], "Only the last band"),
        ([(D(200), D(10)), (D(100), D(50)), (None, D(100))], "Band 2's limit"),
        ([(D(100), D(10)), (D(100), D(50)), (None, D(100))], "Band 2's limit"),
        ([(D(100), D(-1)), (None, D(100))], "Band 1's patient share must be 0-100%"),
        ([(D(100), D(10)), (None, D(101))], "Band 2's patient share must be 0-100%"),
        ([(D(-5), D(10)), (None, D(100))], "Band 1's limit cannot be negative"),
        ([(100.0, D(10)), (None, D(100))], "Decimal"),
    ],
)
def test_sliding_scale_refuses_bad_bands(
    bands: list[tuple[D | float | None, D]],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        SlidingScale(bands)  # type: ignore[arg-type]  # a float limit, on purpose


def test_negative_percent_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        SCALE.patient_share(D("-0.01"))


@pytest.mark.parametrize(
    ("days", "rate", "share", "expected"),
    [
        (30, D("200"), D(50), Estimate(D("6000.00"), D("3000.00"))),
        (24, D("187.50"), D(10), Estimate(D("4500.00"), D("450.00"))),
        (1, D("100.00"), D(0), Estimate(D("100.00"), D("0.00"))),
        (12, D("150.00"), D(100), Estimate(D("1800.00"), D("1800.00"))),
        (3, D("33.335"), D(100), Estimate(D("100.01"), D("100.01"))),  # 100.005 half-up
        (1, D("0.05"), D(50), Estimate(D("0.05"), D("0.03"))),  # 0.025 half-up
        (1, D("0.05"), D("33.3"), Estimate(D("0.05"), D("0.02"))),
    ],
)
def test_cost_estimate_rounds_half_up_to_cents(
    days: int, rate: D, share: D, expected: Estimate
) -> None:
    assert cost_estimate(days, rate, share) == expected


@pytest.mark.parametrize(
    ("days", "rate", "share", "message"),
    [
        (0, D("100"), D(50), "planned days"),
        (2.5, D("100"), D(50), "planned days"),
        (10, D("-1"), D(50), "daily rate cannot be negative"),
        (10, D("100"), D(101), "patient share must be 0-100%"),
        (10, D("100"), D(-1), "patient share must be 0-100%"),
        (10, 99.99, D(50), "Decimal"),
    ],
)
def test_cost_estimate_refuses_bad_input(
    days: float, rate: D | float, share: D, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cost_estimate(days, rate, share)  # type: ignore[arg-type]  # floats, on purpose


def test_payment_plan_puts_remainder_cents_on_the_last_installment() -> None:
    plan = payment_plan(D("100.00"), 3, dt.date(2030, 1, 15), every_days=14)
    assert plan == [
        Installment(dt.date(2030, 1, 15), D("33.33")),
        Installment(dt.date(2030, 1, 29), D("33.33")),
        Installment(dt.date(2030, 2, 12), D("33.34")),
    ]


def test_payment_plan_even_split() -> None:
    plan = payment_plan(D("900.00"), 3, dt.date(2030, 3, 1), monthly=True)
    assert [i.amount for i in plan] == [D("300.00")] * 3
    assert [i.date for i in plan] == [dt.date(2030, 3, 1), dt.date(2030, 4, 1), dt.date(2030, 5, 1)]


def test_monthly_plan_keeps_the_day_or_uses_the_month_end() -> None:
    plan = payment_plan(D("400.00"), 4, dt.date(2031, 12, 31), monthly=True)
    assert [i.date for i in plan] == [
        dt.date(2031, 12, 31),
        dt.date(2032, 1, 31),
        dt.date(2032, 2, 29),  # leap year
        dt.date(2032, 3, 31),  # back to the 31st, not the 29th
    ]


def test_single_installment_is_the_whole_total() -> None:
    assert payment_plan(D("0.01"), 1, dt.date(2030, 6, 1), every_days=30) == [
        Installment(dt.date(2030, 6, 1), D("0.01"))
    ]


@pytest.mark.parametrize(
    ("total", "count", "kwargs", "message"),
    [
        (D("0"), 2, {"monthly": True}, "more than zero"),
        (D("-10"), 2, {"monthly": True}, "more than zero"),
        (D("10.005"), 2, {"monthly": True}, "whole cents"),
        (D("10"), 0, {"monthly": True}, "number of installments"),
        (D("10"), 2.0, {"monthly": True}, "number of installments"),
        (D("0.05"), 6, {"monthly": True}, "at least one cent"),
        (D("10"), 2, {}, "Choose how often"),
        (D("10"), 2, {"every_days": 7, "monthly": True}, "not both"),
        (D("10"), 2, {"every_days": 0}, "days between installments"),
        (10.0, 2, {"monthly": True}, "Decimal"),
    ],
)
def test_payment_plan_refuses_bad_input(
    total: D | float, count: float, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        payment_plan(total, count, dt.date(2030, 1, 1), **kwargs)  # type: ignore[arg-type]  # floats, on purpose


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2030, 1, 31), 1, dt.date(2030, 2, 28)),
        (dt.date(2030, 1, 31), 2, dt.date(2030, 3, 31)),
        (dt.date(2030, 11, 30), 3, dt.date(2031, 2, 28)),
        (dt.date(2030, 5, 15), 0, dt.date(2030, 5, 15)),
        (dt.date(2030, 5, 15), 12, dt.date(2031, 5, 15)),
    ],
)
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


cents_st = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c) / 100)


@given(
    total=cents_st,
    count=st.integers(min_value=1, max_value=60),
    first=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2035, 12, 31)),
    every=st.one_of(st.none(), st.integers(min_value=1, max_value=90)),
)
def test_payment_plan_sums_exactly_to_the_total(
    total: Decimal, count: int, first: dt.date, every: int | None
) -> None:
    assume(total * 100 >= count)
    kwargs: dict[str, Any] = {"every_days": every} if every is not None else {"monthly": True}
    plan = payment_plan(total, count, first, **kwargs)
    assert len(plan) == count
    assert sum((i.amount for i in plan), Decimal(0)) == total
    amounts = [i.amount for i in plan]
    assert all(a == a.quantize(Decimal("0.01")) and a > 0 for a in amounts)
    assert len(set(amounts[:-1])) <= 1
    assert Decimal(0) <= amounts[-1] - amounts[0] < Decimal(count) / 100
    dates = [i.date for i in plan]
    assert dates[0] == first
    assert dates == sorted(dates) and len(set(dates)) == count


@given(
    size=st.integers(min_value=1, max_value=12),
    low=cents_st,
    extra=st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100),
)
def test_percent_of_poverty_is_monotonic_in_income(size: int, low: Decimal, extra: Decimal) -> None:
    assert percent_of_poverty(size, low, GUIDELINE) <= percent_of_poverty(
        size, low + extra, GUIDELINE
    )


@given(
    size=st.integers(min_value=1, max_value=11),
    income=cents_st,
)
def test_larger_household_never_has_a_higher_percent(size: int, income: Decimal) -> None:
    assert percent_of_poverty(size + 1, income, GUIDELINE) <= percent_of_poverty(
        size, income, GUIDELINE
    )


@given(
    days=st.integers(min_value=1, max_value=120),
    rate=cents_st,
    share=st.integers(min_value=0, max_value=100).map(Decimal),
)
def test_patient_amount_never_exceeds_the_total(days: int, rate: Decimal, share: Decimal) -> None:
    estimate = cost_estimate(days, rate, share)
    assert Decimal(0) <= estimate.patient_amount <= estimate.total
    assert estimate.total == (rate * days).quantize(Decimal("0.01"))
