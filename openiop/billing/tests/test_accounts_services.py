"""The patient's bill's services (billing.services.accounts): patient responsibility from a
remittance (idempotent on its reference), payments, refunds and their limit, sliding-fee
agreements, payment plans, statements, reminders; each refused to another organization, another
site, intake and clinicians, and audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest

from openiop.audit.models import AuditEntry
from openiop.billing import selectors_accounts, tasks
from openiop.billing.models import (
    ChargeAdjustment,
    PatientPayment,
    PatientRefund,
    PatientResponsibility,
    PaymentPlan,
    PaymentPlanStatus,
    ReminderSent,
    SlidingFeeAgreement,
)
from openiop.billing.services.accounts import (
    patient_responsibility_add,
    payment_plan_cancel,
    payment_plan_create,
    payment_record,
    refund_record,
    reminders_send,
    sliding_fee_agree,
    statement_generate,
)
from openiop.billing.tests.accounts_books import Books, make_books
from openiop.core import jobs
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.core.models import JobStatus

pytestmark = pytest.mark.django_db

OCT_20 = dt.date(2026, 10, 20)
ONE_DAY = dt.timedelta(days=1)


@pytest.fixture
def books() -> Books:
    return make_books()


NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)


@contextmanager
def travel(moment: dt.datetime) -> Iterator[None]:
    """The services' clock (openiop.core.clock.now) at `moment` inside the block."""
    with patch("openiop.core.clock.now", lambda: moment):
        yield


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with travel(NOW):
        yield


def _add(books: Books, who: str = "billing", **kw: Any) -> tuple[PatientResponsibility, bool]:
    args: dict[str, Any] = {
        "patient": books.patient,
        "amount": Decimal("40.00"),
        "date": OCT_20,
        "source": "835 TRN 7700123 Acme Health (fictional)",
        "claim_ref": "CLM-1",
        "line_ref": "1",
    }
    args.update(kw)
    return patient_responsibility_add(by=books.actor(who), **args)


def test_responsibility_is_added_once_per_remittance_line_and_audited(books: Books) -> None:
    row, created = _add(books)
    again, created_again = _add(books)
    assert created and not created_again
    assert again.pk == row.pk
    assert PatientResponsibility.objects.count() == 1
    entries = AuditEntry.objects.filter(object_type="patient_responsibility", action="create")
    assert [(e.patient_id, e.detail["amount"]) for e in entries] == [(books.patient.pk, "40.00")]
    # another line of the same claim, or the same line in another remittance, is another amount
    _add(books, line_ref="2")
    _add(books, source="835 TRN 7700999 Acme Health (fictional)")
    assert PatientResponsibility.objects.count() == 3


def test_responsibility_the_same_line_with_another_amount_is_refused(books: Books) -> None:
    _add(books)
    with pytest.raises(RuleViolation, match="already recorded"):
        _add(books, amount=Decimal("41.00"))
    assert PatientResponsibility.objects.get().amount == Decimal("40.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", Decimal("0")), ("amount", Decimal("1.005")), ("source", " "), ("claim_ref", "")],
)
def test_responsibility_bad_input_names_the_field(books: Books, field: str, value: Any) -> None:
    with pytest.raises(RuleViolation) as caught:
        _add(books, **{field: value})
    assert caught.value.field == field
    assert not PatientResponsibility.objects.exists()


@pytest.mark.parametrize("who", ["intake", "clinician", "foreign_billing"])
def test_responsibility_refused_without_revenue_at_the_patients_site(
    books: Books, who: str
) -> None:
    with pytest.raises(NotPermitted):
        _add(books, who)
    assert not PatientResponsibility.objects.exists()
    assert AuditEntry.objects.filter(outcome="denied", patient_id=books.patient.pk).exists()


# --- the ledger from real charges ----------------------------------------------------------------


def _ledger(
    books: Books, today: dt.date = dt.date(2026, 11, 30)
) -> selectors_accounts.PatientLedger:
    return selectors_accounts.patient_ledger(
        actor=books.actor("billing"), patient_id=books.patient.pk, today=today
    )


def _agree(books: Books, share: str, start: dt.date = dt.date(2026, 10, 1)) -> None:
    with travel(dt.datetime(2026, 10, 1, 15, 0, tzinfo=dt.UTC)):
        sliding_fee_agree(
            by=books.actor("billing"),
            patient=books.patient,
            effective_from=start,
            share_percent=Decimal(share),
        )


def test_ledger_totals_from_self_pay_charges_with_the_sliding_fee(books: Books) -> None:
    _agree(books, "25")
    books.charge(dt.date(2026, 10, 5), "200.05")  # patient part 50.0125 -> 50.01
    books.charge(dt.date(2026, 10, 6), "200.00")  # 50.00
    books.charge(dt.date(2026, 10, 7), "300.00", payer=books.insurer)  # billed to insurance
    ledger = _ledger(books)
    kinds = [(line.entry.kind.value, line.entry.amount) for line in ledger.lines]
    assert kinds == [
        ("charge", Decimal("200.05")),
        ("sliding_scale_discount", Decimal("150.04")),
        ("charge", Decimal("200.00")),
        ("sliding_scale_discount", Decimal("150.00")),
        ("charge", Decimal("300.00")),
    ]
    assert ledger.balances.patient == Decimal("100.01")
    assert ledger.balances.insurance == Decimal("300.00")
    assert ledger.lines[-1].patient_balance == Decimal("100.01")
    assert AuditEntry.objects.filter(
        object_type="patient_ledger", patient_id=books.patient.pk, action="view"
    ).exists()


def test_a_charge_outside_the_agreement_dates_gets_no_discount(books: Books) -> None:
    _agree(books, "50", start=dt.date(2026, 10, 10))
    books.charge(dt.date(2026, 10, 5), "100.00")
    books.charge(dt.date(2026, 10, 12), "100.00")
    assert _ledger(books).balances.patient == Decimal("150.00")


def test_responsibility_moves_the_balance_from_insurance_to_the_patient(books: Books) -> None:
    books.charge(dt.date(2026, 10, 7), "300.00", payer=books.insurer)
    _add(books, amount=Decimal("60.00"))
    balances = _ledger(books).balances
    assert (balances.insurance, balances.patient) == (Decimal("240.00"), Decimal("60.00"))


# --- payments and refunds ------------------------------------------------------------------------


def _pay(books: Books, amount: str, day: dt.date = OCT_20, who: str = "billing") -> None:
    payment_record(
        by=books.actor(who),
        patient=books.patient,
        amount=Decimal(amount),
        date=day,
        method="card",
        reference="R-1",
    )


def test_payment_lowers_the_patient_balance_and_is_audited(books: Books) -> None:
    books.charge(dt.date(2026, 10, 5), "100.00")
    _pay(books, "40.00")
    ledger = _ledger(books)
    assert ledger.balances.patient == Decimal("60.00")
    assert AuditEntry.objects.filter(
        object_type="patient_payment", patient_id=books.patient.pk, action="create"
    ).exists()


def test_a_refund_up_to_what_was_paid_is_recorded_with_its_reason(books: Books) -> None:
    _pay(books, "40.00")
    refund_record(
        by=books.actor("billing"),
        patient=books.patient,
        amount=Decimal("40.00"),
        date=OCT_20,
        reason="Paid twice by mistake",
    )
    ledger = _ledger(books)
    assert ledger.balances.patient == Decimal("0.00")
    assert ledger.balances.refunded == Decimal("40.00")
    entry = AuditEntry.objects.get(object_type="patient_refund")
    assert entry.detail["reason"] == "Paid twice by mistake"


def test_a_refund_larger_than_what_was_paid_is_refused(books: Books) -> None:
    _pay(books, "40.00")
    with pytest.raises(RuleViolation) as caught:
        refund_record(
            by=books.actor("billing"),
            patient=books.patient,
            amount=Decimal("40.01"),
            date=OCT_20,
            reason="Overpaid",
        )
    assert caught.value.field == "amount"
    assert not PatientRefund.objects.exists()


def test_a_refund_needs_a_reason(books: Books) -> None:
    _pay(books, "40.00")
    with pytest.raises(RuleViolation) as caught:
        refund_record(
            by=books.actor("billing"),
            patient=books.patient,
            amount=Decimal("10.00"),
            date=OCT_20,
            reason="  ",
        )
    assert caught.value.field == "reason"


@pytest.mark.parametrize("who", ["intake", "clinician", "foreign_billing"])
def test_payment_refund_plan_statement_agreement_refused(books: Books, who: str) -> None:
    actor = books.actor(who)
    p = books.patient
    calls: list[Callable[[], object]] = [
        lambda: payment_record(by=actor, patient=p, amount=Decimal(1), date=OCT_20, method="cash"),
        lambda: refund_record(by=actor, patient=p, amount=Decimal(1), date=OCT_20, reason="x"),
        lambda: sliding_fee_agree(
            by=actor, patient=p, effective_from=OCT_20, share_percent=Decimal(10)
        ),
        lambda: payment_plan_create(
            by=actor,
            patient=p,
            total=Decimal(100),
            first_due=dt.date(2026, 12, 1),
            installments=2,
            monthly=True,
        ),
        lambda: statement_generate(
            by=actor, patient=p, period_start=dt.date(2026, 10, 1), period_end=OCT_20
        ),
        lambda: selectors_accounts.patient_ledger(actor=actor, patient_id=p.pk),
    ]
    for call in calls:
        with pytest.raises(NotPermitted):
            call()
    assert not PatientPayment.objects.exists()
    assert not PaymentPlan.objects.exists()
    assert not SlidingFeeAgreement.objects.exists()
    assert AuditEntry.objects.filter(outcome="denied", patient_id=p.pk).count() >= len(calls)


def test_the_director_may_record_a_payment(books: Books) -> None:
    _pay(books, "5.00", who="director")
    assert PatientPayment.objects.get().received_by == books.users["director"]


# --- sliding fee agreements ----------------------------------------------------------------------


def test_a_new_agreement_ends_the_one_before(books: Books) -> None:
    _agree(books, "25", start=dt.date(2026, 10, 1))
    _agree(books, "50", start=dt.date(2026, 11, 1))
    first, second = SlidingFeeAgreement.objects.order_by("effective_from")
    assert first.effective_to == dt.date(2026, 10, 31)
    assert second.effective_to is None
    with pytest.raises(RuleViolation) as caught:
        _agree(books, "10", start=dt.date(2026, 10, 15))
    assert caught.value.field == "effective_from"


def test_an_agreement_needs_a_share_from_0_to_100(books: Books) -> None:
    with pytest.raises(RuleViolation) as caught:
        _agree(books, "101")
    assert caught.value.field == "share_percent"


# --- payment plans and reminders -----------------------------------------------------------------

NOV_2 = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)


def _plan(books: Books) -> PaymentPlan:
    with travel(NOV_2):
        return payment_plan_create(
            by=books.actor("billing"),
            patient=books.patient,
            total=Decimal("100.00"),
            first_due=dt.date(2026, 11, 10),
            installments=3,
            monthly=True,
        )


def test_a_plan_is_split_by_the_domain_rule_and_one_is_active(books: Books) -> None:
    plan = _plan(books)
    assert [(i.due_date, i.amount) for i in plan.installments.all()] == [
        (dt.date(2026, 11, 10), Decimal("33.33")),
        (dt.date(2026, 12, 10), Decimal("33.33")),
        (dt.date(2027, 1, 10), Decimal("33.34")),
    ]
    with pytest.raises(RuleViolation, match="already has an active payment plan"):
        _plan(books)
    payment_plan_cancel(by=books.actor("billing"), plan=plan)
    assert _plan(books).pk != plan.pk


def test_a_plan_is_paid_in_full_by_payments_made_while_it_is_active(books: Books) -> None:
    plan = _plan(books)
    with travel(NOV_2):
        _pay(books, "100.00", day=dt.date(2026, 11, 2))
    plan.refresh_from_db()
    assert plan.status == PaymentPlanStatus.COMPLETED


def test_reminders_are_sent_once_per_key(books: Books) -> None:
    plan = _plan(books)
    system = Actor.system("test")
    at = dt.datetime(2026, 11, 8, 15, 0, tzinfo=dt.UTC)  # 2 days before the first installment
    first = reminders_send(by=system, days_before=3, channel="worklist", now=at)
    again = reminders_send(by=system, days_before=3, channel="worklist", now=at)
    next_day = reminders_send(by=system, days_before=3, channel="worklist", now=at + ONE_DAY)
    assert (first.sent, again.sent, next_day.sent) == (1, 0, 0)
    reminder = ReminderSent.objects.get()
    assert reminder.key == f"plan{plan.pk}:1:2026-11-10:before_due"
    assert reminder.channel == "worklist"
    overdue = reminders_send(by=system, days_before=3, channel="worklist", now=at + 4 * ONE_DAY)
    assert overdue.sent == 1
    assert ReminderSent.objects.count() == 2
    assert (
        AuditEntry.objects.filter(
            object_type="payment_reminder", patient_id=books.patient.pk
        ).count()
        == 2
    )


def test_no_reminder_once_the_installment_is_paid_or_without_configuration(books: Books) -> None:
    _plan(books)
    with travel(NOV_2):
        _pay(books, "33.33", day=dt.date(2026, 11, 2))
    at = dt.datetime(2026, 11, 8, 15, 0, tzinfo=dt.UTC)
    system = Actor.system("test")
    assert reminders_send(by=system, days_before=3, channel="worklist", now=at).sent == 0
    unset = reminders_send(by=system, days_before=None, channel="worklist", now=at)
    assert unset.sent == 0 and "not configured" in unset.sentence
    with pytest.raises(RuleViolation, match="no mail or SMS"):
        reminders_send(by=system, days_before=3, channel="sms", now=at)


def test_the_daily_job_reads_the_settings(books: Books, settings: Any) -> None:
    _plan(books)
    settings.OPENIOP_PAYMENT_REMINDER_DAYS_BEFORE = 10
    job = jobs.enqueue(tasks.send_payment_reminders)
    with travel(NOV_2):
        jobs.run_queued()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.outcome == "1 payment reminder(s) recorded for 1 active plan(s)."


# --- statements ----------------------------------------------------------------------------------


def test_a_statement_records_its_totals(books: Books) -> None:
    books.charge(dt.date(2026, 9, 20), "80.00")
    books.charge(dt.date(2026, 10, 5), "100.00")
    _pay(books, "30.00", day=dt.date(2026, 10, 10))
    with travel(NOV_2):
        row = statement_generate(
            by=books.actor("billing"),
            patient=books.patient,
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
        )
    assert (row.opening_balance, row.closing_balance, row.amount_due_now) == (
        Decimal("80.00"),
        Decimal("150.00"),
        Decimal("150.00"),
    )
    with travel(NOV_2), pytest.raises(RuleViolation) as caught:
        statement_generate(
            by=books.actor("billing"),
            patient=books.patient,
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 12, 31),
        )
    assert caught.value.field == "period_end"


def test_an_agreement_made_later_discounts_from_the_day_it_was_made(books: Books) -> None:
    books.charge(dt.date(2026, 10, 5), "100.00")
    with travel(dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)):
        sliding_fee_agree(
            by=books.actor("billing"),
            patient=books.patient,
            effective_from=dt.date(2026, 10, 1),
            share_percent=Decimal("40"),
        )
    discount = [
        line for line in _ledger(books).lines if line.entry.kind.value.startswith("sliding")
    ]
    # A statement already sent for October stays true: the discount is dated 20 November.
    assert [(d.entry.date, d.entry.amount) for d in discount] == [
        (dt.date(2026, 11, 20), Decimal("60.00"))
    ]


def test_charge_corrections_move_the_patient_by_their_part_only(books: Books) -> None:
    _agree(books, "25")
    charge = books.charge(dt.date(2026, 10, 5), "200.00")  # patient part 50.00
    made = dt.datetime(2026, 10, 12, 15, 0, tzinfo=dt.UTC)
    for kind, before, after in [("change", "200.00", "100.00"), ("change", "100.00", "300.00")]:
        ChargeAdjustment.objects.create(
            charge=charge,
            kind=kind,
            previous_units=1,
            new_units=1,
            previous_amount=Decimal(before),
            new_amount=Decimal(after),
            amount=Decimal(after) - Decimal(before),
            reason="Attendance corrected",
            created_by=books.users["billing"],
            created_at=made,
        )
    assert _ledger(books).balances.patient == Decimal("75.00")  # 25% of 300.00
    ChargeAdjustment.objects.create(
        charge=charge,
        kind="void",
        previous_units=1,
        new_units=0,
        previous_amount=Decimal("300.00"),
        new_amount=Decimal("0.00"),
        amount=Decimal("-300.00"),
        reason="Attendance removed",
        created_by=books.users["billing"],
        created_at=made,
    )
    ledger = _ledger(books)
    assert ledger.balances.patient == Decimal("0.00")
    assert ledger.lines[-1].description.endswith("voided: Attendance removed")
