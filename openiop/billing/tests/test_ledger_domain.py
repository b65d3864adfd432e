"""The patient's bill without a database: entries, balances, discounts, plans, statements, aging.

Every figure is hand-computed in the comments beside it; the people and payers are fictional.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.billing.domain.fees import Installment, SlidingScale, payment_plan
from openiop.billing.domain.ledger import (
    PATIENT_PAYER_KEY,
    AgingAmounts,
    AgingBucket,
    EntryKind,
    InstallmentState,
    LedgerEntry,
    LedgerError,
    OpenItem,
    ReasonRequired,
    RefundTooLarge,
    ReminderKind,
    Side,
    aging,
    balances,
    bucket_for,
    claim_open_amount,
    discount_entry,
    patient_open_items,
    payer_entry,
    payer_reduction,
    plan_status,
    refund_check,
    reminders_due,
    self_pay_discount,
    statement,
)
from openiop.billing.domain.remittance import PostingKind

D = Decimal
K = EntryKind
day = dt.date
# Wrong types on purpose, typed Any so the type checker lets the refusal be tested.
FLOAT: Any = 10.5
WHOLE: Any = 12


def charge(on: dt.date, amount: str, side: Side, ref: str = "") -> LedgerEntry:
    return LedgerEntry(K.CHARGE, on, D(amount), reference=ref, side=side)


def pay(on: dt.date, amount: str, ref: str = "") -> LedgerEntry:
    return LedgerEntry(K.PATIENT_PAYMENT, on, D(amount), reference=ref)


def refund(on: dt.date, amount: str) -> LedgerEntry:
    return LedgerEntry(K.REFUND, on, D(amount), reason="Overpayment returned to Testy McTestface")


# --- entries and balances --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "insurance", "patient"),
    [
        (charge(day(2030, 1, 2), "10.00", Side.INSURANCE), D("10.00"), D("0.00")),
        (charge(day(2030, 1, 2), "10.00", Side.PATIENT), D("0.00"), D("10.00")),
        (LedgerEntry(K.PAYER_PAYMENT, day(2030, 1, 2), D("10")), D("-10.00"), D("0.00")),
        (LedgerEntry(K.PAYER_ADJUSTMENT, day(2030, 1, 2), D("10")), D("-10.00"), D("0.00")),
        (LedgerEntry(K.PAYER_REVERSAL, day(2030, 1, 2), D("10")), D("10.00"), D("0.00")),
        (LedgerEntry(K.PATIENT_RESPONSIBILITY, day(2030, 1, 2), D("10")), D("-10.00"), D("10.00")),
        (LedgerEntry(K.SLIDING_SCALE_DISCOUNT, day(2030, 1, 2), D("10")), D("0.00"), D("-10.00")),
        (pay(day(2030, 1, 2), "10"), D("0.00"), D("-10.00")),
        (refund(day(2030, 1, 2), "10"), D("0.00"), D("10.00")),
        (
            LedgerEntry(
                K.ADJUSTMENT, day(2030, 1, 2), D("10"), reason="Timely filing", side=Side.INSURANCE
            ),
            D("-10.00"),
            D("0.00"),
        ),
        (
            LedgerEntry(
                K.ADJUSTMENT, day(2030, 1, 2), D("10"), reason="Hardship", side=Side.PATIENT
            ),
            D("0.00"),
            D("-10.00"),
        ),
    ],
)
def test_sign_of_each_kind(entry: LedgerEntry, insurance: D, patient: D) -> None:
    assert (entry.insurance_change, entry.patient_change) == (insurance, patient)


def test_insured_claim_paid_adjusted_and_patient_share_partly_paid() -> None:
    entries = [
        charge(day(2030, 3, 1), "500.00", Side.INSURANCE, "CL-1"),
        LedgerEntry(K.PAYER_PAYMENT, day(2030, 3, 20), D("300.00"), reference="CL-1"),
        LedgerEntry(K.PAYER_ADJUSTMENT, day(2030, 3, 20), D("120.00"), reference="CL-1"),
        LedgerEntry(K.PATIENT_RESPONSIBILITY, day(2030, 3, 20), D("80.00"), reference="CL-1"),
        pay(day(2030, 3, 25), "30.00", "CL-1"),
    ]
    result = balances(entries)
    # insurance 500 - 300 - 120 - 80 = 0; patient 80 - 30 = 50 (a partial payment).
    assert result.insurance == D("0.00")
    assert result.patient == D("50.00")
    assert result.total == D("50.00")
    assert result.patient_paid == D("30.00")
    assert result.patient_credit == D("0.00")
    # Before the remittance only the charge counts.
    early = balances(entries, as_of=day(2030, 3, 19))
    assert (early.insurance, early.patient) == (D("500.00"), D("0.00"))
    # The order entries come in does not matter.
    assert balances(reversed(entries)) == result


def test_overpayment_is_a_credit_balance_and_a_refund_clears_it() -> None:
    entries = [charge(day(2030, 1, 5), "100.00", Side.PATIENT), pay(day(2030, 1, 6), "120.00")]
    over = balances(entries)
    assert over.patient == D("-20.00")
    assert over.patient_credit == D("20.00")
    assert over.total == D("-20.00")
    cleared = balances([*entries, refund(day(2030, 1, 9), "20.00")])
    assert cleared.patient == D("0.00")
    assert cleared.patient_credit == D("0.00")
    assert cleared.patient_paid == D("100.00")  # 120 paid, 20 refunded
    assert cleared.refunded == D("20.00")


def test_refund_larger_than_paid_is_refused() -> None:
    entries = [charge(day(2030, 1, 5), "100.00", Side.PATIENT), pay(day(2030, 1, 6), "50.00")]
    assert balances([*entries, refund(day(2030, 1, 7), "50.00")]).patient == D("100.00")
    with pytest.raises(RefundTooLarge, match=r"\$50\.01, more than the \$50\.00") as caught:
        balances([*entries, refund(day(2030, 1, 7), "50.01")])
    assert isinstance(caught.value, ValueError)


def test_refunds_add_up_against_what_was_paid() -> None:
    entries = [
        pay(day(2030, 1, 6), "50.00"),
        refund(day(2030, 1, 7), "30.00"),
        refund(day(2030, 1, 8), "25.00"),  # 30 + 25 = 55 > 50
    ]
    with pytest.raises(RefundTooLarge, match="2030-01-08"):
        balances(entries)


def test_refund_before_the_payment_is_refused_but_same_day_is_fine() -> None:
    with pytest.raises(RefundTooLarge, match="2030-01-05"):
        balances([refund(day(2030, 1, 5), "10.00"), pay(day(2030, 1, 6), "10.00")])
    # Same day, listed before the payment: the day's payments count.
    same_day = balances([refund(day(2030, 1, 6), "10.00"), pay(day(2030, 1, 6), "10.00")])
    assert same_day.patient == D("0.00")


@pytest.mark.parametrize("kind", [K.REFUND, K.ADJUSTMENT])
@pytest.mark.parametrize("reason", ["", "   "])
def test_refund_and_adjustment_need_a_reason(kind: EntryKind, reason: str) -> None:
    with pytest.raises(ReasonRequired, match=r"needs a reason") as caught:
        LedgerEntry(kind, day(2030, 1, 2), D("10.00"), reason=reason, side=Side.PATIENT)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: charge(day(2030, 1, 2), "0", Side.PATIENT), "more than zero"),
        (lambda: charge(day(2030, 1, 2), "-5.00", Side.PATIENT), "more than zero"),
        (lambda: charge(day(2030, 1, 2), "10.005", Side.PATIENT), "whole cents"),
        (
            lambda: LedgerEntry(K.CHARGE, day(2030, 1, 2), FLOAT, side=Side.PATIENT),
            "Decimal",
        ),
        (lambda: LedgerEntry(K.CHARGE, day(2030, 1, 2), D("10")), "needs a side"),
        (
            lambda: LedgerEntry(K.PAYER_PAYMENT, day(2030, 1, 2), D("10"), side=Side.PATIENT),
            "always moves the insurance balance",
        ),
        (
            lambda: LedgerEntry(
                K.PATIENT_PAYMENT,
                dt.datetime(2030, 1, 2, tzinfo=dt.UTC),
                D("10"),
            ),
            "must be a date",
        ),
    ],
)
def test_malformed_entries_are_refused(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(LedgerError, match=message):
        build()


def test_amounts_are_kept_as_cents() -> None:
    assert pay(day(2030, 1, 2), "12.5").amount.as_tuple().exponent == -2
    assert LedgerEntry(K.PATIENT_PAYMENT, day(2030, 1, 2), WHOLE).amount == D("12.00")


# --- sliding-scale discount ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "share", "discount"),
    [
        (D("189.00"), D(50), D("94.50")),
        (D("100.05"), D(25), D("75.04")),  # patient 25.0125 -> 25.01
        (D("33.33"), D(10), D("30.00")),  # patient 3.333 -> 3.33
        (D("0.05"), D(50), D("0.02")),  # patient 0.025 -> 0.03 (half-up)
        (D("0.01"), D(50), D("0.00")),  # patient 0.005 -> 0.01
        (D("250.00"), D(100), D("0.00")),
        (D("250.00"), D(0), D("250.00")),
        (D("250.00"), D("12.5"), D("218.75")),  # patient 31.25
    ],
)
def test_self_pay_discount(amount: D, share: D, discount: D) -> None:
    assert self_pay_discount(amount, share) == discount


def test_discount_from_the_sliding_scale() -> None:
    scale = SlidingScale([(100, 10), (200, 50), (None, 100)])
    share = scale.patient_share(D("150.00"))  # 50%
    assert self_pay_discount(D("200.00"), share) == D("100.00")
    assert self_pay_discount(D("200.00"), scale.patient_share(D("100.00"))) == D("180.00")


@pytest.mark.parametrize(
    ("amount", "share", "message"),
    [
        (D("10.00"), D(101), "0-100%"),
        (D("10.00"), D(-1), "0-100%"),
        (D("10.00"), FLOAT, "Decimal"),
        (D("10.001"), D(50), "whole cents"),
        (D("-10.00"), D(50), "negative"),
    ],
)
def test_self_pay_discount_refuses(amount: D, share: Any, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        self_pay_discount(amount, share)


def test_discount_entry_applies_to_self_pay_charges_only() -> None:
    own = charge(day(2030, 2, 1), "200.00", Side.PATIENT, "CH-1")
    entry = discount_entry(own, D(50), day(2030, 2, 1))
    assert entry is not None
    assert (entry.kind, entry.amount, entry.reference) == (
        K.SLIDING_SCALE_DISCOUNT,
        D("100.00"),
        "CH-1",
    )
    assert entry.reason == "Sliding fee scale: patient pays 50%"
    assert balances([own, entry]).patient == D("100.00")
    assert discount_entry(own, D(100), day(2030, 2, 1)) is None
    with pytest.raises(LedgerError, match="self-pay charge"):
        discount_entry(charge(day(2030, 2, 1), "200.00", Side.INSURANCE), D(50), day(2030, 2, 1))


# --- payment plans ---------------------------------------------------------------------------

# 300.00 in three monthly installments of 100.00: Jan 15, Feb 15, Mar 15 2030.
PLAN = payment_plan(D("300.00"), 3, day(2030, 1, 15), monthly=True)


def test_plan_is_what_fees_makes() -> None:
    assert [(i.date, i.amount) for i in PLAN] == [
        (day(2030, 1, 15), D("100.00")),
        (day(2030, 2, 15), D("100.00")),
        (day(2030, 3, 15), D("100.00")),
    ]


def test_partial_payment_leaves_the_second_installment_overdue() -> None:
    payments = [pay(day(2030, 1, 10), "100.00"), pay(day(2030, 2, 1), "50.00")]
    status = plan_status(PLAN, payments, day(2030, 2, 20))
    assert [(s.state, s.paid, s.remaining, s.days_overdue) for s in status.installments] == [
        (InstallmentState.PAID, D("100.00"), D("0.00"), 0),
        (InstallmentState.OVERDUE, D("50.00"), D("50.00"), 5),  # Feb 15 -> Feb 20
        (InstallmentState.DUE, D("0.00"), D("100.00"), 0),
    ]
    assert status.paid == D("150.00")
    assert status.remaining == D("150.00")
    assert status.amount_overdue == D("50.00")
    assert status.due_now == D("50.00")
    assert status.not_yet_due == D("100.00")
    assert status.unapplied == D("0.00")
    assert status.next_due is not None
    assert (status.next_due.number, status.next_due.date) == (3, day(2030, 3, 15))


def test_on_its_date_an_installment_is_due_not_overdue() -> None:
    payments = [pay(day(2030, 1, 10), "100.00"), pay(day(2030, 2, 1), "50.00")]
    on_date = plan_status(PLAN, payments, day(2030, 2, 15))
    second = on_date.installments[1]
    assert (second.state, second.days_overdue) == (InstallmentState.PARTLY_PAID, 0)
    assert on_date.amount_overdue == D("0.00")
    assert on_date.due_now == D("50.00")
    assert on_date.next_due == second
    day_after = plan_status(PLAN, payments, day(2030, 2, 16)).installments[1]
    assert (day_after.state, day_after.days_overdue) == (InstallmentState.OVERDUE, 1)


def test_nothing_paid_and_everything_late() -> None:
    status = plan_status(PLAN, [], day(2030, 4, 1))
    assert [s.state for s in status.installments] == [InstallmentState.OVERDUE] * 3
    assert [s.days_overdue for s in status.installments] == [76, 45, 17]
    assert status.amount_overdue == D("300.00")
    assert status.next_due is None


def test_paying_more_than_the_plan_leaves_an_unapplied_credit() -> None:
    status = plan_status(PLAN, [pay(day(2030, 1, 10), "350.00")], day(2030, 1, 20))
    assert [s.state for s in status.installments] == [InstallmentState.PAID] * 3
    assert status.unapplied == D("50.00")
    assert status.remaining == D("0.00")
    assert status.next_due is None


def test_refund_takes_back_what_it_refunds_and_later_payments_do_not_count() -> None:
    payments = [
        pay(day(2030, 1, 10), "200.00"),
        refund(day(2030, 1, 12), "60.00"),
        pay(day(2030, 3, 1), "160.00"),  # after today
    ]
    status = plan_status(PLAN, payments, day(2030, 1, 20))
    # 200 - 60 = 140: the first installment paid, 40.00 of the second.
    assert [(s.state, s.paid) for s in status.installments] == [
        (InstallmentState.PAID, D("100.00")),
        (InstallmentState.PARTLY_PAID, D("40.00")),
        (InstallmentState.DUE, D("0.00")),
    ]
    assert status.paid == D("140.00")


def test_payments_are_applied_oldest_installment_first_across_uneven_amounts() -> None:
    plan = payment_plan(D("100.00"), 3, day(2030, 5, 1), every_days=14)  # 33.33, 33.33, 33.34
    status = plan_status(plan, [pay(day(2030, 4, 30), "66.67")], day(2030, 5, 2))
    assert [(s.paid, s.remaining) for s in status.installments] == [
        (D("33.33"), D("0.00")),
        (D("33.33"), D("0.00")),
        (D("0.01"), D("33.33")),
    ]
    assert status.installments[2].state == InstallmentState.PARTLY_PAID


def test_plan_refuses_other_kinds_and_unordered_installments() -> None:
    with pytest.raises(LedgerError, match="Only patient payments and refunds"):
        plan_status(PLAN, [charge(day(2030, 1, 2), "5.00", Side.PATIENT)], day(2030, 1, 20))
    unordered = [Installment(day(2030, 2, 1), D("10.00")), Installment(day(2030, 1, 1), D("10"))]
    with pytest.raises(LedgerError, match="must fall after"):
        plan_status(unordered, [], day(2030, 1, 20))
    with pytest.raises(LedgerError, match="at least one installment"):
        plan_status([], [], day(2030, 1, 20))
    with pytest.raises(RefundTooLarge):
        plan_status(PLAN, [refund(day(2030, 1, 2), "5.00")], day(2030, 1, 20))


# --- reminders -------------------------------------------------------------------------------


def test_reminder_before_due_then_overdue_with_stable_keys() -> None:
    paid_first = [pay(day(2030, 1, 10), "100.00")]
    assert reminders_due(PLAN, paid_first, day(2030, 2, 11), 3, plan_ref="plan-7") == []
    before = reminders_due(PLAN, paid_first, day(2030, 2, 12), 3, plan_ref="plan-7")
    assert [(r.key, r.kind, r.installment, r.amount) for r in before] == [
        ("plan-7:2:2030-02-15:before_due", ReminderKind.BEFORE_DUE, 2, D("100.00"))
    ]
    # On the date itself the same reminder (same key) is still due: a job sends it once.
    on_date = reminders_due(PLAN, paid_first, day(2030, 2, 15), 3, plan_ref="plan-7")
    assert [r.key for r in on_date] == ["plan-7:2:2030-02-15:before_due"]
    late = reminders_due(
        PLAN, [*paid_first, pay(day(2030, 2, 14), "40.00")], day(2030, 2, 16), 3, plan_ref="plan-7"
    )
    assert [(r.key, r.kind, r.amount, r.days_overdue) for r in late] == [
        ("plan-7:2:2030-02-15:overdue", ReminderKind.OVERDUE, D("60.00"), 1)
    ]


def test_no_reminder_for_a_paid_installment() -> None:
    paid_two = [pay(day(2030, 1, 10), "100.00"), pay(day(2030, 2, 13), "100.00")]
    assert reminders_due(PLAN, paid_two, day(2030, 2, 14), 3, plan_ref="plan-7") == []
    assert reminders_due(PLAN, paid_two, day(2030, 2, 20), 3, plan_ref="plan-7") == []


def test_a_daily_job_sends_each_reminder_once() -> None:
    sent: list[str] = []
    due_days: dict[str, int] = {}
    today = day(2030, 1, 1)
    while today <= day(2030, 4, 30):
        for reminder in reminders_due(PLAN, [], today, 3, plan_ref="plan-7"):
            due_days[reminder.key] = due_days.get(reminder.key, 0) + 1
            if reminder.key not in sent:
                sent.append(reminder.key)
        today += dt.timedelta(days=1)
    assert sent == [
        "plan-7:1:2030-01-15:before_due",
        "plan-7:1:2030-01-15:overdue",
        "plan-7:2:2030-02-15:before_due",
        "plan-7:2:2030-02-15:overdue",
        "plan-7:3:2030-03-15:before_due",
        "plan-7:3:2030-03-15:overdue",
    ]
    # Jan 12-15 (4 days) before; each came up on several days, so the key is what stops a resend.
    assert due_days["plan-7:1:2030-01-15:before_due"] == 4
    assert due_days["plan-7:3:2030-03-15:overdue"] == 46  # Mar 16 - Apr 30


def test_reminder_on_the_date_only_when_zero_days_before() -> None:
    assert reminders_due(PLAN, [], day(2030, 1, 14), 0, plan_ref="p") == []
    assert [r.kind for r in reminders_due(PLAN, [], day(2030, 1, 15), 0, plan_ref="p")] == [
        ReminderKind.BEFORE_DUE
    ]


@pytest.mark.parametrize(("days_before", "plan_ref"), [(-1, "p"), (True, "p"), (3, " ")])
def test_reminders_refuse_bad_configuration(days_before: int, plan_ref: str) -> None:
    with pytest.raises(LedgerError):
        reminders_due(PLAN, [], day(2030, 1, 14), days_before, plan_ref=plan_ref)


# --- aging -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, AgingBucket.DAYS_0_30),
        (30, AgingBucket.DAYS_0_30),
        (31, AgingBucket.DAYS_31_60),
        (60, AgingBucket.DAYS_31_60),
        (61, AgingBucket.DAYS_61_90),
        (90, AgingBucket.DAYS_61_90),
        (91, AgingBucket.OVER_90),
        (365, AgingBucket.OVER_90),
    ],
)
def test_bucket_bounds(days: int, bucket: AgingBucket) -> None:
    assert bucket_for(days) == bucket


def test_aging_by_payer_at_the_boundaries() -> None:
    as_of = day(2030, 6, 30)
    items = [
        OpenItem("acme-health", day(2030, 5, 31), D("100.00"), "CL-1"),  # 30 days
        OpenItem("acme-health", day(2030, 5, 30), D("50.00"), "CL-2"),  # 31 days
        OpenItem("medicare", day(2030, 5, 1), D("200.00"), "CL-3"),  # 60 days
        OpenItem("medicare", day(2030, 4, 30), D("75.25"), "CL-4"),  # 61 days
        OpenItem("medicare", day(2030, 4, 1), D("10.00"), "CL-5"),  # 90 days
        OpenItem("medicare", day(2030, 3, 31), D("20.00"), "CL-6"),  # 91 days
        OpenItem(PATIENT_PAYER_KEY, as_of, D("5.00")),  # 0 days
    ]
    report = aging(items, as_of)
    assert [(row.payer, row.amounts) for row in report.rows] == [
        ("acme-health", AgingAmounts(days_0_30=D("100.00"), days_31_60=D("50.00"))),
        (
            "medicare",
            AgingAmounts(
                days_31_60=D("200.00"),
                days_61_90=D("85.25"),  # 75.25 + 10.00
                over_90=D("20.00"),
            ),
        ),
        (PATIENT_PAYER_KEY, AgingAmounts(days_0_30=D("5.00"))),
    ]
    assert report.totals == AgingAmounts(
        days_0_30=D("105.00"), days_31_60=D("250.00"), days_61_90=D("85.25"), over_90=D("20.00")
    )
    assert report.total == D("460.25")
    assert report.rows[1].amounts.total == D("305.25")


def test_aging_refuses_items_billed_after_the_date_and_empty_amounts() -> None:
    with pytest.raises(LedgerError, match="after the aging date"):
        aging([OpenItem("acme-health", day(2030, 7, 1), D("1.00"))], day(2030, 6, 30))
    with pytest.raises(LedgerError, match="more than zero"):
        OpenItem("acme-health", day(2030, 6, 1), D("0.00"))
    assert aging([], day(2030, 6, 30)).total == D("0.00")


# --- the patient's open items ----------------------------------------------------------------


def test_payment_with_a_reference_pays_that_charge_first() -> None:
    entries = [
        charge(day(2030, 1, 1), "100.00", Side.PATIENT, "A"),
        charge(day(2030, 2, 1), "100.00", Side.PATIENT, "B"),
    ]
    targeted = patient_open_items([*entries, pay(day(2030, 3, 1), "100.00", "B")], day(2030, 3, 1))
    assert [(i.billed_on, i.amount, i.reference) for i in targeted] == [
        (day(2030, 1, 1), D("100.00"), "A")
    ]
    oldest = patient_open_items([*entries, pay(day(2030, 3, 1), "100.00")], day(2030, 3, 1))
    assert [(i.billed_on, i.amount, i.reference) for i in oldest] == [
        (day(2030, 2, 1), D("100.00"), "B")
    ]


def test_credit_pays_a_later_charge_and_a_refund_is_owed_from_its_date() -> None:
    early = [pay(day(2030, 1, 1), "50.00"), charge(day(2030, 1, 5), "80.00", Side.PATIENT)]
    assert [(i.billed_on, i.amount) for i in patient_open_items(early, day(2030, 1, 5))] == [
        (day(2030, 1, 5), D("30.00"))
    ]
    overpaid = [charge(day(2030, 1, 1), "100.00", Side.PATIENT), pay(day(2030, 1, 2), "120.00")]
    assert patient_open_items(overpaid, day(2030, 1, 2)) == []
    assert patient_open_items([*overpaid, refund(day(2030, 1, 3), "20.00")], day(2030, 1, 3)) == []
    paid_up = [charge(day(2030, 1, 1), "100.00", Side.PATIENT), pay(day(2030, 1, 2), "100.00")]
    owed = patient_open_items([*paid_up, refund(day(2030, 1, 9), "30.00")], day(2030, 1, 9))
    assert [(i.billed_on, i.amount) for i in owed] == [(day(2030, 1, 9), D("30.00"))]


_PATIENT_ENTRY = st.builds(
    lambda kind, offset, cents, ref: LedgerEntry(
        kind,
        day(2030, 1, 1) + dt.timedelta(days=offset),
        D(cents) / 100,
        reference=ref,
        reason="Fictional adjustment" if kind == K.ADJUSTMENT else "",
        side=Side.PATIENT if kind in (K.CHARGE, K.ADJUSTMENT) else None,
    ),
    st.sampled_from(
        [
            K.CHARGE,
            K.PATIENT_RESPONSIBILITY,
            K.PATIENT_PAYMENT,
            K.SLIDING_SCALE_DISCOUNT,
            K.ADJUSTMENT,
        ]
    ),
    st.integers(0, 200),
    st.integers(1, 100_000),
    st.sampled_from(["", "A", "B"]),
)


@given(st.lists(_PATIENT_ENTRY, max_size=25))
def test_open_items_add_up_to_the_patient_balance(entries: list[LedgerEntry]) -> None:
    as_of = day(2030, 12, 31)
    items = patient_open_items(entries, as_of)
    owed = balances(entries).patient
    assert sum((i.amount for i in items), D("0.00")) == max(owed, D("0.00"))
    assert all(i.amount > 0 for i in items)
    assert aging(items, as_of).total == max(owed, D("0.00"))


# --- statements ------------------------------------------------------------------------------

# Testy McTestface: a self-pay charge in February, then an insured claim in March.
STATEMENT_ENTRIES = [
    charge(day(2030, 2, 10), "200.00", Side.PATIENT, "CH-1"),
    LedgerEntry(K.SLIDING_SCALE_DISCOUNT, day(2030, 2, 10), D("100.00"), reference="CH-1"),
    pay(day(2030, 2, 20), "40.00", "CH-1"),
    charge(day(2030, 3, 5), "500.00", Side.INSURANCE, "CL-9"),
    charge(day(2030, 3, 5), "150.00", Side.PATIENT, "CH-2"),
    LedgerEntry(K.PAYER_PAYMENT, day(2030, 3, 25), D("380.00"), reference="CL-9"),
    LedgerEntry(K.PAYER_ADJUSTMENT, day(2030, 3, 25), D("70.00"), reference="CL-9"),
    LedgerEntry(K.PATIENT_RESPONSIBILITY, day(2030, 3, 25), D("50.00"), reference="CL-9"),
    pay(day(2030, 3, 28), "30.00"),
    pay(day(2030, 4, 2), "10.00"),  # after the period
]


def test_statement_for_march() -> None:
    result = statement(STATEMENT_ENTRIES, day(2030, 3, 1), day(2030, 3, 31))
    assert result.opening_balance == D("60.00")  # 200 - 100 - 40
    assert [(line.entry.kind, line.patient_change, line.balance) for line in result.lines] == [
        (K.CHARGE, D("0.00"), D("60.00")),  # billed to the payer
        (K.CHARGE, D("150.00"), D("210.00")),
        (K.PAYER_PAYMENT, D("0.00"), D("210.00")),
        (K.PAYER_ADJUSTMENT, D("0.00"), D("210.00")),
        (K.PATIENT_RESPONSIBILITY, D("50.00"), D("260.00")),
        (K.PATIENT_PAYMENT, D("-30.00"), D("230.00")),
    ]
    assert result.lines[2].insurance_change == D("-380.00")
    assert result.closing_balance == D("230.00")
    assert result.insurance_balance == D("0.00")  # 500 - 380 - 70 - 50
    assert result.amount_due_now == D("230.00")  # no plan: the whole balance
    assert result.next_due is None
    # Open on Mar 31: CH-1 200 - 100 - 40 (its own) - 30 (oldest first) = 30.00 from Feb 10
    # (49 days); CH-2 150.00 from Mar 5 (26 days); the patient's share 50.00 from Mar 25 (6 days).
    assert result.aging == AgingAmounts(days_0_30=D("200.00"), days_31_60=D("30.00"))


def test_statement_with_a_payment_plan() -> None:
    plan = payment_plan(D("150.00"), 3, day(2030, 3, 15), monthly=True)  # 50.00 Mar/Apr/May 15
    plan_payments = [pay(day(2030, 3, 28), "30.00")]
    status = plan_status(plan, plan_payments, day(2030, 3, 31))
    assert status.amount_overdue == D("20.00")
    assert status.not_yet_due == D("100.00")
    result = statement(STATEMENT_ENTRIES, day(2030, 3, 1), day(2030, 3, 31), status)
    # 230.00 owed less the 100.00 of installments not due yet: the overdue 20.00 and the 80.00
    # the plan does not cover.
    assert result.amount_due_now == D("130.00")
    assert result.next_due is not None
    assert (result.next_due.date, result.next_due.remaining) == (day(2030, 4, 15), D("50.00"))
    with pytest.raises(LedgerError, match="as of 2030-03-30"):
        statement(
            STATEMENT_ENTRIES,
            day(2030, 3, 1),
            day(2030, 3, 31),
            plan_status(plan, plan_payments, day(2030, 3, 30)),
        )


def test_statement_with_a_credit_asks_for_nothing() -> None:
    entries = [charge(day(2030, 1, 5), "100.00", Side.PATIENT), pay(day(2030, 1, 6), "120.00")]
    result = statement(entries, day(2030, 1, 1), day(2030, 1, 31))
    assert result.opening_balance == D("0.00")
    assert result.closing_balance == D("-20.00")
    assert result.credit == D("20.00")
    assert result.amount_due_now == D("0.00")
    assert result.aging.total == D("0.00")


def test_statement_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(LedgerError, match="ends"):
        statement([], day(2030, 3, 31), day(2030, 3, 1))


def test_statement_refuses_a_refund_beyond_payments() -> None:
    with pytest.raises(RefundTooLarge):
        statement([refund(day(2030, 3, 2), "5.00")], day(2030, 3, 1), day(2030, 3, 31))


# --- payers' remittances ---------------------------------------------------------------------

P = PostingKind
PAID_ON = day(2030, 2, 20)


@pytest.mark.parametrize(
    ("kind", "amount", "expected"),
    [
        (P.PAYMENT, "70.00", (K.PAYER_PAYMENT, D("70.00"), "")),
        (P.CONTRACTUAL_WRITE_OFF, "20.00", (K.PAYER_ADJUSTMENT, D("20.00"), "CO-45")),
        (P.PAYER_REDUCTION, "5.00", (K.PAYER_ADJUSTMENT, D("5.00"), "CO-45")),
        (P.OTHER_ADJUSTMENT, "5.00", (K.PAYER_ADJUSTMENT, D("5.00"), "CO-45")),
        # A reversal (claim status 22) posts the earlier amounts negated: the payer owes again.
        (P.PAYMENT, "-70.00", (K.PAYER_REVERSAL, D("70.00"), "Reversed payment CO-45")),
        (
            P.CONTRACTUAL_WRITE_OFF,
            "-20.00",
            (K.PAYER_REVERSAL, D("20.00"), "Reversed contractual write-off CO-45"),
        ),
        # PR is moved by the PATIENT_RESPONSIBILITY entry; a denial stays with the payer.
        (P.PATIENT_RESPONSIBILITY, "10.00", None),
        (P.DENIAL, "100.00", None),
        (P.PAYMENT, "0.00", None),
    ],
)
def test_payer_entry_of_each_remittance_posting(
    kind: PostingKind, amount: str, expected: tuple[EntryKind, Decimal, str] | None
) -> None:
    entry = payer_entry(kind, D(amount), PAID_ON, reference="charge:7", code="CO-45")
    if expected is None:
        assert entry is None
        return
    assert entry is not None
    assert (entry.kind, entry.amount, entry.reason) == expected
    assert (entry.date, entry.reference, entry.side) == (PAID_ON, "charge:7", Side.INSURANCE)
    assert entry.patient_change == D("0.00")


def test_a_remittance_moves_the_insurance_balance_and_the_patients_share_exactly_once() -> None:
    # Billed 100.00; the payer pays 70.00, writes off 20.00 (CO-45), deductible 10.00 (PR-1).
    postings = [
        (P.PAYMENT, D("70.00"), ""),
        (P.CONTRACTUAL_WRITE_OFF, D("20.00"), "CO-45"),
        (P.PATIENT_RESPONSIBILITY, D("10.00"), "PR-1"),
    ]
    entries = [charge(day(2030, 1, 6), "100.00", Side.INSURANCE, "charge:1")]
    for kind, amount, code in postings:
        made = payer_entry(kind, amount, PAID_ON, reference="charge:1", code=code)
        if made is not None:
            entries.append(made)
    entries.append(LedgerEntry(K.PATIENT_RESPONSIBILITY, PAID_ON, D("10.00"), reference="1"))
    # insurance 100 - 70 - 20 - 10 = 0; patient + 10.
    assert balances(entries) == balances(entries, as_of=PAID_ON)
    result = balances(entries)
    assert (result.insurance, result.patient, result.total) == (D("0.00"), D("10.00"), D("10.00"))
    # The day before the remittance everything was still with the payer.
    before = balances(entries, as_of=PAID_ON - dt.timedelta(days=1))
    assert (before.insurance, before.patient) == (D("100.00"), D("0.00"))
    # The claim's open amount in A/R uses the same rule: nothing left with the payer.
    assert claim_open_amount(D("100.00"), [(k, a) for k, a, _ in postings]) == D("0.00")


def test_a_reversed_payment_puts_the_amount_back_with_the_payer() -> None:
    entries = [
        charge(day(2030, 1, 6), "100.00", Side.INSURANCE),
        payer_entry(P.PAYMENT, D("100.00"), PAID_ON),
        payer_entry(P.PAYMENT, D("-100.00"), PAID_ON + dt.timedelta(days=9)),
    ]
    assert balances(e for e in entries if e is not None).insurance == D("100.00")
    assert claim_open_amount(D("100.00"), [(P.PAYMENT, D("100")), (P.PAYMENT, D("-100"))]) == D(
        "100.00"
    )


@pytest.mark.parametrize(
    ("postings", "open_amount"),
    [
        ([], "250.00"),
        # Paid in full.
        ([(P.PAYMENT, "250.00")], "0.00"),
        # Partly paid: 150.00 paid, 40.00 CO, 60.00 still owed by the payer.
        ([(P.PAYMENT, "150.00"), (P.CONTRACTUAL_WRITE_OFF, "40.00")], "60.00"),
        # A denied line (CO-50 on a denied line is posted as DENIAL) stays owed by the payer.
        ([(P.PAYMENT, "150.00"), (P.DENIAL, "100.00")], "100.00"),
        ([(P.DENIAL, "250.00")], "250.00"),
        # The patient's share leaves the payer's A/R (it is on the patient's balance).
        ([(P.PAYMENT, "200.00"), (P.PATIENT_RESPONSIBILITY, "50.00")], "0.00"),
        # An overpayment owes nothing (never below zero).
        ([(P.PAYMENT, "260.00")], "0.00"),
    ],
)
def test_claim_open_amount_by_posting_kind(
    postings: list[tuple[PostingKind, str]], open_amount: str
) -> None:
    assert claim_open_amount(D("250.00"), [(k, D(a)) for k, a in postings]) == D(open_amount)


def test_payer_reduction_refuses_what_is_not_a_posting_or_not_cents() -> None:
    unknown: Any = "payment"
    with pytest.raises(LedgerError, match="Unknown remittance posting kind"):
        payer_reduction(unknown, D("1.00"))
    with pytest.raises(LedgerError, match="whole cents"):
        payer_reduction(P.PAYMENT, D("1.005"))
    assert payer_reduction(P.DENIAL, D("80.00")) == D("0.00")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(PostingKind)),
            st.decimals(min_value=-500, max_value=500, places=2, allow_nan=False),
        ),
        max_size=8,
    )
)
def test_payer_entries_move_the_insurance_balance_as_the_open_amount_says(
    postings: list[tuple[PostingKind, Decimal]],
) -> None:
    # What the payer entries plus the PR moves take off the insurance balance is what
    # claim_open_amount takes off the claim (before its floor at zero).
    entries = [charge(day(2030, 1, 6), "1000.00", Side.INSURANCE)]
    for kind, amount in postings:
        made = payer_entry(kind, amount, PAID_ON)
        if made is not None:
            entries.append(made)
        if kind is P.PATIENT_RESPONSIBILITY and amount > 0:
            entries.append(LedgerEntry(K.PATIENT_RESPONSIBILITY, PAID_ON, amount))
    positive_pr = all(a > 0 for k, a in postings if k is P.PATIENT_RESPONSIBILITY)
    if positive_pr:
        expected = D("1000.00") - sum((payer_reduction(k, a) for k, a in postings), D(0))
        assert balances(entries).insurance == expected
        assert claim_open_amount(D("1000.00"), postings) == max(expected, D("0.00"))


def test_refund_check_allows_up_to_what_was_paid_by_the_refunds_day() -> None:
    paid = [pay(day(2030, 3, 2), "50.00")]
    after = refund_check(paid, refund(day(2030, 3, 5), "50.00"))
    assert (after.patient, after.refunded) == (D("0.00"), D("50.00"))
    with pytest.raises(RefundTooLarge, match=r"more than the \$50\.00"):
        refund_check(paid, refund(day(2030, 3, 5), "50.01"))
    # Before the payment there was nothing to refund.
    with pytest.raises(RefundTooLarge):
        refund_check(paid, refund(day(2030, 3, 1), "1.00"))
    with pytest.raises(LedgerError, match="Not a refund"):
        refund_check(paid, pay(day(2030, 3, 5), "1.00"))
