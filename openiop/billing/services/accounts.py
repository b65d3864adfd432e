"""The patient's bill (issue 16 point 6): the one doorway that writes a patient's account.

- `patient_responsibility_add`: an amount a remittance moved to the patient (the 835 import calls
  it); idempotent on (source, claim, line), so importing the same file again adds nothing.
- `payment_record`, `refund_record` (reason required; never more than paid);
- `sliding_fee_agree` (the patient's share on the sliding fee scale, from dates);
- `payment_plan_create` / `payment_plan_cancel` (installments from fees.payment_plan);
- `statement_generate` (the totals of a statement; the PDF is printed from the ledger);
- `reminders_send`: the daily job's payment-plan reminders, once per key.

Every function here needs Cap.REVENUE_MANAGE at the patient's site (require_patient: a refusal is
NotPermitted, audited naming the patient), writes under a lock of the patient's row (two writes to
one account wait for each other, so the refund limit is checked against what is really there), and
audits what it wrote naming the patient. Bad input is a RuleViolation naming the form field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.domain import fees
from openiop.billing.domain import ledger as rules
from openiop.billing.domain.money import CENT
from openiop.billing.models import (
    CostEstimate,
    Installment,
    PatientPayment,
    PatientRefund,
    PatientResponsibility,
    PaymentMethod,
    PaymentPlan,
    PaymentPlanStatus,
    ReminderSent,
    SlidingFeeAgreement,
    Statement,
)
from openiop.billing.selectors_accounts import (
    Sources,
    installments_of,
    ledger_of,
    ledger_sources,
    plan_status_of,
    statement_of,
)
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.patients.models import Patient

MAX_AMOUNT = Decimal("9999999999.99")  # what a DecimalField(12, 2) holds


def money(value: object, *, field: str, what: str) -> Decimal:
    """`value` as a Decimal amount of whole cents more than zero, or a RuleViolation naming
    `field` ("The payment's amount must be ...")."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RuleViolation(f"{what} must be an amount such as 25.00.", field=field) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise RuleViolation(f"{what} must be in whole cents, such as 25.00.", field=field)
    if amount <= 0:
        raise RuleViolation(f"{what} must be more than zero.", field=field)
    if amount > MAX_AMOUNT:
        raise RuleViolation(f"{what} is too large.", field=field)
    return amount.quantize(CENT)


def text(value: str, *, field: str, what: str, limit: int, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise RuleViolation(f"{what} is required.", field=field)
    if len(cleaned) > limit:
        raise RuleViolation(f"{what} is at most {limit} characters.", field=field)
    return cleaned


def _a_date(value: object, *, field: str, what: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise RuleViolation(f"{what} must be a date.", field=field)
    return value


def staff(by: Actor) -> User:
    """The signed-in staff member acting (every caller has passed require_patient)."""
    assert by.user is not None
    return by.user


def lock_patient(patient: Patient) -> None:
    """Lock the patient's row until the transaction ends: the account's writes wait for each
    other (FOR NO KEY UPDATE on PostgreSQL; SQLite serializes writers anyway)."""
    Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).exists()


def patient_responsibility_add(
    *,
    by: Actor,
    patient: Patient,
    amount: Decimal,
    date: dt.date,
    source: str,
    claim_ref: str,
    line_ref: str = "",
) -> tuple[PatientResponsibility, bool]:
    """Move `amount` from the insurance balance to the patient's, as a remittance said (an 835
    CAS group PR), and say whether it was added: `(row, created)`.

    `source` names the remittance stably (e.g. "835 TRN 1234567 Acme Health": never the time of
    the import); `claim_ref` and `line_ref` are the claim's and line's references as text. The
    same (source, claim_ref, line_ref) again returns the row already there, `created` False, and
    writes nothing; the same references with another patient or amount are refused
    (RuleViolation): one remittance line cannot say two things. Needs Cap.REVENUE_MANAGE at the
    patient's site. Audited (object_type "patient_responsibility") when it adds a row.
    """
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="patient_responsibility")
    value = money(amount, field="amount", what="The patient responsibility")
    day = _a_date(date, field="date", what="The remittance date")
    src = text(source, field="source", what="The source", limit=200)
    claim = text(claim_ref, field="claim_ref", what="The claim reference", limit=80)
    line = text(line_ref, field="line_ref", what="The line reference", limit=80, required=False)
    with transaction.atomic():
        lock_patient(patient)
        existing = PatientResponsibility.objects.filter(
            source=src, claim_ref=claim, line_ref=line
        ).first()
        if existing is None:
            try:
                with transaction.atomic():
                    row = PatientResponsibility.objects.create(
                        patient=patient,
                        amount=value,
                        date=day,
                        source=src,
                        claim_ref=claim,
                        line_ref=line,
                        added_by=staff(by),
                        created_at=clock.now(),
                    )
            except IntegrityError:
                # Another import of the same file got there first (another patient's lock).
                existing = PatientResponsibility.objects.get(
                    source=src, claim_ref=claim, line_ref=line
                )
            else:
                audit_record(
                    by,
                    action=AuditAction.CREATE,
                    patient_id=patient.pk,
                    object_type="patient_responsibility",
                    object_id=row.pk,
                    detail={
                        "amount": str(value),
                        "date": day.isoformat(),
                        "source": src,
                        "claim_ref": claim,
                        "line_ref": line,
                    },
                )
                return row, True
    if existing.patient_id != patient.pk or existing.amount != value:
        raise RuleViolation(
            f"{src}, claim {claim}{f' line {line}' if line else ''} was already recorded as "
            f"{existing.amount} for another patient or amount; one remittance line cannot move "
            "two amounts.",
            code="responsibility_conflict",
        )
    return existing, False


# --- payments and refunds ------------------------------------------------------------------------


def _today(patient: Patient) -> dt.date:
    return clock.local_today(patient.site.tz)


def _not_future(patient: Patient, day: dt.date, *, field: str, what: str) -> dt.date:
    day = _a_date(day, field=field, what=what)
    if day > _today(patient):
        raise RuleViolation(f"{what} cannot be after today.", field=field)
    return day


def _active_plan(patient: Patient) -> PaymentPlan | None:
    return PaymentPlan.objects.filter(patient=patient, status=PaymentPlanStatus.ACTIVE).first()


def payment_record(
    *,
    by: Actor,
    patient: Patient,
    amount: Decimal,
    date: dt.date,
    method: str,
    reference: str = "",
) -> PatientPayment:
    """Record money the patient paid (on account: the ledger applies it to the oldest amounts
    owed). It counts towards the patient's active payment plan, which is marked paid in full when
    nothing is left to pay. Needs Cap.REVENUE_MANAGE at the patient's site; audited
    (object_type "patient_payment")."""
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="patient_payment")
    value = money(amount, field="amount", what="The payment")
    day = _not_future(patient, date, field="date", what="The payment date")
    if method not in PaymentMethod.values:
        raise RuleViolation("Choose how the patient paid.", field="method")
    ref = text(reference, field="reference", what="The reference", limit=80, required=False)
    with transaction.atomic():
        lock_patient(patient)
        plan = _active_plan(patient)
        payment = PatientPayment.objects.create(
            patient=patient,
            amount=value,
            date=day,
            method=method,
            reference=ref,
            plan=plan,
            received_by=staff(by),
            created_at=clock.now(),
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="patient_payment",
            object_id=payment.pk,
            detail={"amount": str(value), "date": day.isoformat(), "method": method},
        )
        if plan is not None:
            status = plan_status_of(ledger_of(patient), _today(patient))
            if status is not None and status.remaining == 0:
                plan.status = PaymentPlanStatus.COMPLETED
                plan.ended_at = clock.now()
                plan.ended_by = staff(by)
                plan.save(update_fields=["status", "ended_at", "ended_by"])
                audit_record(
                    by,
                    action=AuditAction.UPDATE,
                    patient_id=patient.pk,
                    object_type="payment_plan",
                    object_id=plan.pk,
                    detail={"status": PaymentPlanStatus.COMPLETED.value},
                )
    return payment


def refund_review(
    *, by: Actor, patient: Patient, amount: Decimal, date: dt.date, reason: str
) -> rules.Balances:
    """Check a refund before the user confirms it, with the same checks `refund_record` makes
    (billing.domain.ledger.refund_check on the patient's ledger): returns the balances it would
    leave; writes nothing. Raises RuleViolation (on its field) as `refund_record` would, and
    NotPermitted (audited) without Cap.REVENUE_MANAGE at the patient's site."""
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="patient_refund")
    _, after = _checked_refund(ledger_of(patient), patient, amount, date, reason)
    return after


def _checked_refund(
    sources: Sources, patient: Patient, amount: Decimal, date: dt.date, reason: str
) -> tuple[rules.LedgerEntry, rules.Balances]:
    """The refund's ledger entry and the balances after it, or the RuleViolation that refuses it."""
    value = money(amount, field="amount", what="The refund")
    day = _not_future(patient, date, field="date", what="The refund date")
    why = text(reason, field="reason", what="The reason for the refund", limit=500)
    try:
        refund = rules.LedgerEntry(kind=rules.EntryKind.REFUND, date=day, amount=value, reason=why)
        after = rules.refund_check((e for e, _ in sources.entries), refund)
    except rules.ReasonRequired as exc:
        raise RuleViolation(str(exc), field="reason") from exc
    except rules.RefundTooLarge as exc:
        raise RuleViolation(str(exc), field="amount", code="refund_too_large") from exc
    return refund, after


def refund_record(
    *, by: Actor, patient: Patient, amount: Decimal, date: dt.date, reason: str
) -> PatientRefund:
    """Pay money back to the patient, with the reason (required). Refused when refunds would add
    up to more than the patient has paid (billing.domain.ledger.refund_check, against the ledger
    under the patient's lock; `refund_review` runs the same check before the user confirms).
    Takes back from the active plan. Needs Cap.REVENUE_MANAGE at the patient's site; audited
    (object_type "patient_refund")."""
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="patient_refund")
    with transaction.atomic():
        lock_patient(patient)
        sources = ledger_of(patient)
        refund, _ = _checked_refund(sources, patient, amount, date, reason)
        row = PatientRefund.objects.create(
            patient=patient,
            amount=refund.amount,
            date=refund.date,
            reason=refund.reason,
            plan=sources.plan,
            refunded_by=staff(by),
            created_at=clock.now(),
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="patient_refund",
            object_id=row.pk,
            detail={
                "amount": str(refund.amount),
                "date": refund.date.isoformat(),
                "reason": refund.reason,
            },
        )
    return row


# --- sliding fee ---------------------------------------------------------------------------------


def sliding_fee_agree(
    *,
    by: Actor,
    patient: Patient,
    effective_from: dt.date,
    share_percent: Decimal | None = None,
    estimate: CostEstimate | None = None,
    effective_to: dt.date | None = None,
) -> SlidingFeeAgreement:
    """Agree the patient's share of self-pay charges (percent they pay) from `effective_from`
    (to `effective_to`, or open-ended): taken from the patient's self-pay CostEstimate, or
    entered. The agreement in force the day before ends then; one starting on or after
    `effective_from` is refused (end or replace it first: dates never overlap). The discount is
    billing.domain.ledger.self_pay_discount on each self-pay charge in the dates. Needs
    Cap.REVENUE_MANAGE at the patient's site; audited (object_type "sliding_fee_agreement")."""
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="sliding_fee_agreement")
    start = _a_date(effective_from, field="effective_from", what="The start date")
    end = (
        None
        if effective_to is None
        else _a_date(effective_to, field="effective_to", what="The end date")
    )
    if end is not None and end < start:
        raise RuleViolation("The end date cannot be before the start date.", field="effective_to")
    if (estimate is None) == (share_percent is None):
        raise RuleViolation(
            "Choose the patient's cost estimate or enter the share, one of the two.",
            field="share_percent",
        )
    if estimate is not None:
        if estimate.inquiry.patient_id != patient.pk:
            raise RuleViolation("This estimate is not the patient's.", field="estimate")
        share = estimate.share_percent
    else:
        assert share_percent is not None
        try:
            share = Decimal(share_percent).quantize(CENT)
        except (InvalidOperation, ValueError, TypeError):
            raise RuleViolation("The share must be a percentage.", field="share_percent") from None
        if not Decimal(0) <= share <= Decimal(100):
            raise RuleViolation("The share must be from 0 to 100%.", field="share_percent")
    with transaction.atomic():
        lock_patient(patient)
        existing = list(SlidingFeeAgreement.objects.filter(patient=patient))
        later = [a for a in existing if a.effective_from >= start]
        if later:
            raise RuleViolation(
                f"An agreement from {later[0].effective_from.isoformat()} already exists; an "
                "agreement starts after the ones before it.",
                field="effective_from",
            )
        for current in existing:
            if current.effective_to is None or current.effective_to >= start:
                current.effective_to = start - dt.timedelta(days=1)
                current.save(update_fields=["effective_to"])
                audit_record(
                    by,
                    action=AuditAction.UPDATE,
                    patient_id=patient.pk,
                    object_type="sliding_fee_agreement",
                    object_id=current.pk,
                    detail={"effective_to": current.effective_to.isoformat()},
                )
        agreement = SlidingFeeAgreement.objects.create(
            patient=patient,
            share_percent=share,
            estimate=estimate,
            effective_from=start,
            effective_to=end,
            agreed_by=staff(by),
            created_at=clock.now(),
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="sliding_fee_agreement",
            object_id=agreement.pk,
            detail={
                "share_percent": str(share),
                "estimate": estimate.pk if estimate is not None else None,
                "effective_from": start.isoformat(),
                "effective_to": end.isoformat() if end else None,
            },
        )
    return agreement


# --- payment plans -------------------------------------------------------------------------------


def payment_plan_create(
    *,
    by: Actor,
    patient: Patient,
    total: Decimal,
    first_due: dt.date,
    installments: int,
    every_days: int | None = None,
    monthly: bool = False,
) -> PaymentPlan:
    """A payment plan: `total` split by billing.domain.fees.payment_plan into `installments`
    equal installments (the remainder cents on the last) from `first_due`, every `every_days`
    days or monthly. One active plan per patient: cancel it to make another. Payments recorded
    while it is active count towards it. Needs Cap.REVENUE_MANAGE at the patient's site; audited
    (object_type "payment_plan")."""
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="payment_plan")
    value = money(total, field="total", what="The plan's total")
    first = _a_date(first_due, field="first_due", what="The first due date")
    if first < _today(patient):
        raise RuleViolation("The first installment cannot be due before today.", field="first_due")
    try:
        split = fees.payment_plan(
            value, installments, first, every_days=every_days, monthly=monthly
        )
    except ValueError as exc:
        field = "installments"
        if "days" in str(exc) or "monthly" in str(exc):
            field = "every_days"
        raise RuleViolation(str(exc), field=field) from exc
    with transaction.atomic():
        lock_patient(patient)
        if _active_plan(patient) is not None:
            raise RuleViolation(
                "The patient already has an active payment plan; cancel it to make another.",
                code="plan_exists",
            )
        plan = PaymentPlan.objects.create(
            patient=patient,
            total=value,
            first_due=first,
            installments_count=installments,
            every_days=every_days,
            monthly=monthly,
            agreed_on=_today(patient),
            created_by=staff(by),
            created_at=clock.now(),
        )
        Installment.objects.bulk_create(
            Installment(plan=plan, number=n, due_date=i.date, amount=i.amount)
            for n, i in enumerate(split, start=1)
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="payment_plan",
            object_id=plan.pk,
            detail={
                "total": str(value),
                "installments": [[i.date.isoformat(), str(i.amount)] for i in split],
            },
        )
    return plan


def payment_plan_cancel(*, by: Actor, plan: PaymentPlan) -> PaymentPlan:
    """End an active plan (its payments stay on the ledger; no more reminders). Needs
    Cap.REVENUE_MANAGE at the patient's site; audited (object_type "payment_plan")."""
    require_patient(by, Cap.REVENUE_MANAGE, plan.patient, object_type="payment_plan")
    with transaction.atomic():
        lock_patient(plan.patient)
        updated = PaymentPlan.objects.filter(pk=plan.pk, status=PaymentPlanStatus.ACTIVE).update(
            status=PaymentPlanStatus.CANCELLED, ended_by=staff(by), ended_at=clock.now()
        )
        if not updated:
            raise RuleViolation("This payment plan is no longer active.", code="plan_not_active")
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=plan.patient_id,
            object_type="payment_plan",
            object_id=plan.pk,
            detail={"status": PaymentPlanStatus.CANCELLED.value},
        )
    plan.refresh_from_db()
    return plan


# --- statements ----------------------------------------------------------------------------------


def statement_generate(
    *, by: Actor, patient: Patient, period_start: dt.date, period_end: dt.date
) -> Statement:
    """Generate the patient's statement for a period (billing.domain.ledger.statement: opening
    balance, the period's lines, closing balance, amount due now after the plan's installments
    not yet due, aging) and record its totals; the PDF is printed from it. Needs
    Cap.REVENUE_MANAGE at the patient's site; audited (object_type "patient_statement")."""
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="patient_statement")
    start = _a_date(period_start, field="period_start", what="The period's start")
    end = _a_date(period_end, field="period_end", what="The period's end")
    if end < start:
        raise RuleViolation("The period ends before it starts.", field="period_end")
    if end > _today(patient):
        raise RuleViolation("A statement's period cannot end after today.", field="period_end")
    with transaction.atomic():
        built = statement_of(ledger_of(patient), start, end)
        row = Statement.objects.create(
            patient=patient,
            period_start=start,
            period_end=end,
            opening_balance=built.opening_balance,
            closing_balance=built.closing_balance,
            insurance_balance=built.insurance_balance,
            amount_due_now=built.amount_due_now,
            generated_by=staff(by),
            generated_at=clock.now(),
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="patient_statement",
            object_id=row.pk,
            detail={
                "period": [start.isoformat(), end.isoformat()],
                "closing_balance": str(built.closing_balance),
                "amount_due_now": str(built.amount_due_now),
            },
        )
    return row


# --- payment-plan reminders ----------------------------------------------------------------------

# How a reminder is "sent". There is no mail or SMS integration in OpenIOP: the one channel is
# the billing worklist, i.e. the ReminderSent row, shown on the patient's ledger page and the
# balances list for staff to call or write to the patient. settings.OPENIOP_PAYMENT_REMINDER_CHANNEL
# names it so a mail or SMS channel can be added without changing the job.
REMINDER_CHANNELS = ("worklist",)


@dataclass(frozen=True)
class RemindersRun:
    plans: int
    sent: int
    sentence: str


def reminders_send(
    *, by: Actor, days_before: int | None, channel: str, now: dt.datetime | None = None
) -> RemindersRun:
    """The daily job's work: for every active plan, the reminders billing.domain.ledger
    .reminders_due says are due today at the patient's site (before a due date, from
    `days_before` days ahead, and overdue), each recorded once: a ReminderSent row per key (the
    unique key makes a second run, or two workers at once, send nothing again) and an audit entry
    naming the patient (object_type "payment_reminder").

    `days_before` is the clinic's configuration (settings.OPENIOP_PAYMENT_REMINDER_DAYS_BEFORE);
    domain.md gives no figure, so there is no default: unset, nothing is sent and the sentence
    says why. Run by the system (no staff user): it reads no note and writes only these rows.
    """
    if channel not in REMINDER_CHANNELS:
        raise RuleViolation(
            f"Payment reminders go through {', '.join(REMINDER_CHANNELS)} (no mail or SMS "
            f"integration); {channel!r} is not a channel."
        )
    if days_before is None:
        return RemindersRun(
            0,
            0,
            "Payment-plan reminders are not configured: set OPENIOP_PAYMENT_REMINDER_DAYS_BEFORE "
            "(how many days before a due date to remind). Nothing sent.",
        )
    moment = now or clock.now()
    plans = list(
        PaymentPlan.objects.filter(status=PaymentPlanStatus.ACTIVE).select_related("patient__site")
    )
    sources = ledger_sources(sorted({p.patient_id for p in plans}))
    sent = 0
    for plan in plans:
        today = moment.astimezone(plan.patient.site.tz).date()
        due = rules.reminders_due(
            installments_of(plan),
            sources[plan.patient_id].plan_entries,
            today,
            days_before,
            plan_ref=f"plan{plan.pk}",
        )
        done = set(
            ReminderSent.objects.filter(key__in=[r.key for r in due]).values_list("key", flat=True)
        )
        for reminder in due:
            if reminder.key in done:
                continue
            try:
                with transaction.atomic():
                    row = ReminderSent.objects.create(
                        key=reminder.key,
                        plan=plan,
                        installment_number=reminder.installment,
                        sent_at=moment,
                        channel=channel,
                    )
                    audit_record(
                        by,
                        action=AuditAction.CREATE,
                        patient_id=plan.patient_id,
                        object_type="payment_reminder",
                        object_id=row.pk,
                        detail={
                            "key": reminder.key,
                            "kind": reminder.kind.value,
                            "amount": str(reminder.amount),
                            "channel": channel,
                        },
                    )
            except IntegrityError:
                continue  # another worker recorded it first
            sent += 1
    return RemindersRun(
        len(plans), sent, f"{sent} payment reminder(s) recorded for {len(plans)} active plan(s)."
    )
