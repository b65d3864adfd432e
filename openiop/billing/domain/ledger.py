"""The patient's bill: ledger entries, balances, sliding-scale discounts, payment plans, statements
and accounts-receivable aging (issue 16 points 6 and 7).

Pure rules: no Django, no I/O, no clock; every date is an argument. Money is `Decimal` in whole
cents, rounded half-up (`money.round_cents`) where a rule multiplies.

Sign convention. Every `LedgerEntry.amount` is more than zero; its `kind` (and, for a charge or an
adjustment, its `side`) says which balance it moves and which way:

| kind                     | insurance balance | patient balance |
|--------------------------|-------------------|-----------------|
| CHARGE (side INSURANCE)  | + amount          |                 |
| CHARGE (side PATIENT)    |                   | + amount        |
| PAYER_PAYMENT            | - amount          |                 |
| PAYER_ADJUSTMENT         | - amount          |                 |
| PAYER_REVERSAL           | + amount          |                 |
| PATIENT_RESPONSIBILITY   | - amount          | + amount        |
| SLIDING_SCALE_DISCOUNT   |                   | - amount        |
| PATIENT_PAYMENT          |                   | - amount        |
| REFUND                   |                   | + amount        |
| ADJUSTMENT (either side) | - amount on side  | - amount on side|

A balance above zero is owed to the clinic; below zero is a credit (an overpayment). A refund
pays a patient's money back, so it raises the patient balance (a credit of -20.00 refunded in full
is 0.00). A correction that raises what is owed is posted as a new charge; an ADJUSTMENT only
lowers a balance (a write-off, or a charge corrected down, e.g. `charges.Adjustment.reason`).

A payer's remittance (835) reaches the ledger through `payer_entry`, one posting at a time: a
payment is a PAYER_PAYMENT, a CO/PI/OA adjustment a PAYER_ADJUSTMENT, a reversal (claim status 22:
the earlier amounts negated) a PAYER_REVERSAL; a PR amount is NOT a payer entry, because the
PATIENT_RESPONSIBILITY entry the import records for it already moves it off the insurance
balance (counting both would take it off twice); a denied amount is none either: it stays owed
by the payer until the denial is worked. `payer_reduction` is the same rule for one claim's
open amount in accounts-receivable aging (`claim_open_amount`).

The rules here are bookkeeping, not billing policy: the sliding-scale bands, the poverty figures,
how many days before a due date to remind, are configuration passed in (`fees.SlidingScale`,
`reminders_due(days_before=...)`), with no defaults. domain.md has no rule for statements, plans
or aging; the 0-30/31-60/61-90/90+ buckets are the ones issue 16 point 7 names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from openiop.billing.domain.fees import Installment
from openiop.billing.domain.money import CENT, round_cents
from openiop.billing.domain.remittance import PostingKind

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
# The payer key `patient_open_items` gives the patient's own balance in an aging report.
PATIENT_PAYER_KEY = "patient"


class LedgerError(ValueError):
    """A ledger entry or a set of entries breaks a bookkeeping rule; the message says which."""


class ReasonRequired(LedgerError):
    """A refund or an adjustment was given without a reason."""


class RefundTooLarge(LedgerError):
    """Refunds would add up to more than the patient has paid."""


class Side(StrEnum):
    """Whose balance an entry moves: the insurance (payer) balance or the patient's."""

    INSURANCE = "insurance"
    PATIENT = "patient"


class EntryKind(StrEnum):
    CHARGE = "charge"  # a service charged; side INSURANCE (billed to a payer) or PATIENT (self-pay)
    PAYER_PAYMENT = "payer_payment"  # a payer paid (835 CLP/SVC paid amount)
    PAYER_ADJUSTMENT = "payer_adjustment"  # payer write-off (835 CAS group CO, PI or OA)
    PAYER_REVERSAL = "payer_reversal"  # a payer took back a payment or adjustment (CLP02 22)
    PATIENT_RESPONSIBILITY = "patient_responsibility"  # insurance balance -> patient (CAS PR)
    SLIDING_SCALE_DISCOUNT = "sliding_scale_discount"  # off a self-pay charge
    PATIENT_PAYMENT = "patient_payment"
    REFUND = "refund"  # money paid back to the patient; needs a reason
    ADJUSTMENT = "adjustment"  # write-off or correction down on either side; needs a reason


# The side of every kind that always moves the same balance (PATIENT_RESPONSIBILITY moves both:
# it is listed under the side it lands on).
_FIXED_SIDE = {
    EntryKind.PAYER_PAYMENT: Side.INSURANCE,
    EntryKind.PAYER_ADJUSTMENT: Side.INSURANCE,
    EntryKind.PAYER_REVERSAL: Side.INSURANCE,
    EntryKind.PATIENT_RESPONSIBILITY: Side.PATIENT,
    EntryKind.SLIDING_SCALE_DISCOUNT: Side.PATIENT,
    EntryKind.PATIENT_PAYMENT: Side.PATIENT,
    EntryKind.REFUND: Side.PATIENT,
}
_REASON_REQUIRED = frozenset({EntryKind.REFUND, EntryKind.ADJUSTMENT})


@dataclass(frozen=True)
class LedgerEntry:
    """One posting. `amount` is more than zero, in whole cents (see the module's sign table).

    `reference` is the claim or charge it concerns, an opaque string ("" for a payment on
    account). `side` is required for a CHARGE and an ADJUSTMENT; every other kind has one side,
    filled in (passing another refuses). `reason` is required for a REFUND and an ADJUSTMENT.
    """

    kind: EntryKind
    date: dt.date
    amount: Decimal
    reference: str = ""
    reason: str = ""
    side: Side | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EntryKind):
            raise LedgerError(f"Unknown ledger entry kind {self.kind!r}.")
        words = self.kind.value.replace("_", " ")
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise LedgerError(f"A {words}'s date must be a date (got {self.date!r}).")
        amount = _cents(self.amount, f"A {words}'s amount")
        if amount <= 0:
            raise LedgerError(
                f"A {words}'s amount must be more than zero (got {amount}); the kind says which "
                "way it moves the balance."
            )
        object.__setattr__(self, "amount", amount)
        if not isinstance(self.reference, str) or not isinstance(self.reason, str):
            raise LedgerError(f"A {words}'s reference and reason are text.")
        if self.kind in _REASON_REQUIRED and not self.reason.strip():
            raise ReasonRequired(
                f"A {words} of {_money(amount)} on {self.date.isoformat()} needs a reason."
            )
        fixed = _FIXED_SIDE.get(self.kind)
        if fixed is None:
            if not isinstance(self.side, Side):
                raise LedgerError(
                    f"A {words} needs a side: the insurance balance or the patient's "
                    f"(got {self.side!r})."
                )
        elif self.side is None:
            object.__setattr__(self, "side", fixed)
        elif self.side != fixed:
            raise LedgerError(f"A {words} always moves the {fixed.value} balance.")

    @property
    def insurance_change(self) -> Decimal:
        """How this entry changes the insurance balance (+ raises it, - lowers it)."""
        if self.kind in (
            EntryKind.PAYER_PAYMENT,
            EntryKind.PAYER_ADJUSTMENT,
            EntryKind.PATIENT_RESPONSIBILITY,
        ):
            return -self.amount
        if self.side == Side.INSURANCE:
            raises = self.kind in (EntryKind.CHARGE, EntryKind.PAYER_REVERSAL)
            return self.amount if raises else -self.amount
        return ZERO

    @property
    def patient_change(self) -> Decimal:
        """How this entry changes the patient balance (+ raises it, - lowers it)."""
        if self.side != Side.PATIENT:
            return ZERO
        if self.kind in (EntryKind.CHARGE, EntryKind.PATIENT_RESPONSIBILITY, EntryKind.REFUND):
            return self.amount
        return -self.amount


@dataclass(frozen=True)
class Balances:
    """What is owed as of a date: by the payers (insurance), by the patient, and both.

    A negative figure is a credit: e.g. patient -20.00 means the patient paid 20.00 more than
    they owe (`patient_credit` 20.00).
    """

    insurance: Decimal
    patient: Decimal
    patient_paid: Decimal  # patient payments less refunds
    refunded: Decimal

    @property
    def total(self) -> Decimal:
        return self.insurance + self.patient

    @property
    def patient_credit(self) -> Decimal:
        """What the clinic holds for the patient beyond what they owe (0.00 when none)."""
        return -self.patient if self.patient < 0 else ZERO


def balances(entries: Iterable[LedgerEntry], *, as_of: dt.date | None = None) -> Balances:
    """The insurance, patient and total balance of `entries` (those dated on or before `as_of`
    when given).

    Refuses (`RefundTooLarge`) when, on any day, the refunds up to and including that day add up
    to more than the patient payments up to and including that day: a refund pays back money the
    patient paid, never more. (An entry without a required reason cannot be built at all:
    `LedgerEntry` refuses it with `ReasonRequired`.)
    """
    chosen = _ordered(entries, as_of)
    paid, refunded = _check_refunds(chosen)
    return Balances(
        insurance=sum((e.insurance_change for e in chosen), ZERO),
        patient=sum((e.patient_change for e in chosen), ZERO),
        patient_paid=paid - refunded,
        refunded=refunded,
    )


def refund_check(entries: Iterable[LedgerEntry], refund: LedgerEntry) -> Balances:
    """The balances once `refund` (a REFUND entry) is added to `entries`; the one rule a refund
    must pass, before it is confirmed and again when it is recorded.

    Raises RefundTooLarge when refunds would add up to more than the patient had paid by any
    day (see `balances`), LedgerError for an entry that is not a refund.
    """
    if not isinstance(refund, LedgerEntry) or refund.kind != EntryKind.REFUND:
        raise LedgerError(f"Not a refund: {refund!r}.")
    return balances([*entries, refund])


# --- payers' remittances ---------------------------------------------------------------------

# The posting kinds that lower what the payer owes as a payer write-off (CAS groups CO, PI, OA
# [remittance: groups]); PATIENT_RESPONSIBILITY lowers it by moving it to the patient.
_PAYER_ADJUSTMENTS = frozenset(
    {
        PostingKind.CONTRACTUAL_WRITE_OFF,
        PostingKind.PAYER_REDUCTION,
        PostingKind.OTHER_ADJUSTMENT,
    }
)


def payer_reduction(kind: PostingKind, amount: Decimal) -> Decimal:
    """How much one remittance posting lowers what the payer owes on a claim (negative: a
    reversal raises it again).

    A payment, a CO/PI/OA adjustment and a PR amount (moved to the patient) all lower it by
    their amount; a DENIAL lowers it by nothing: a denied amount stays owed by the payer, in
    accounts receivable, until the denial is worked (billing.domain.remittance.PostingKind).
    """
    if not isinstance(kind, PostingKind):
        raise LedgerError(f"Unknown remittance posting kind {kind!r}.")
    value = _cents(amount, f"A {kind.value}'s amount")
    return ZERO if kind is PostingKind.DENIAL else value


def claim_open_amount(
    billed: Decimal,
    postings: Iterable[tuple[PostingKind, Decimal]],
    written_off: Decimal = ZERO,
) -> Decimal:
    """What the payer still owes on a claim billed `billed`: the billed amount less
    `payer_reduction` of each of its postings (kind, amount) and less the denied amounts billing
    staff wrote off (`written_off`, denial_write_off), never below 0.00 (a payer that paid more
    than billed owes nothing; the overpayment is the remittance report's problem)."""
    left = (
        _cents(billed, "The amount billed")
        - sum((payer_reduction(kind, amount) for kind, amount in postings), ZERO)
        - _cents(written_off, "The amount written off")
    )
    return max(left, ZERO)


def denial_write_off(amount: Decimal, on: dt.date, *, reference: str, code: str) -> LedgerEntry:
    """The ledger entry of a denied amount written off when its denial is closed as not
    collectible: an ADJUSTMENT down on the insurance side, dated the day it was written off, its
    reason naming the denial's code (e.g. "CO-50"). A denial posts nothing on import (the amount
    stays owed, payer_reduction); this is the decision that ends it."""
    return LedgerEntry(
        kind=EntryKind.ADJUSTMENT,
        date=on,
        amount=amount,
        reference=reference,
        reason=f"Denial written off{f' ({code})' if code else ''}",
        side=Side.INSURANCE,
    )


def payer_entry(
    kind: PostingKind, amount: Decimal, on: dt.date, *, reference: str = "", code: str = ""
) -> LedgerEntry | None:
    """The ledger entry of one remittance posting dated `on` (the remittance's date), or None.

    PAYMENT -> PAYER_PAYMENT; CO/PI/OA -> PAYER_ADJUSTMENT (`code`, e.g. "CO-45", its reason);
    a negative amount of either (a reversal, claim status 22) -> PAYER_REVERSAL of its size.
    None for a PATIENT_RESPONSIBILITY posting (the PATIENT_RESPONSIBILITY entry recorded for it
    moves it; this would move it a second time), a DENIAL (still owed by the payer) and 0.00.
    """
    value = payer_reduction(kind, amount)
    if kind in (PostingKind.PATIENT_RESPONSIBILITY, PostingKind.DENIAL) or value == 0:
        return None
    if value < 0:
        return LedgerEntry(
            kind=EntryKind.PAYER_REVERSAL,
            date=on,
            amount=-value,
            reference=reference,
            reason=f"Reversed {kind.value}{f' {code}' if code else ''}",
        )
    if kind is PostingKind.PAYMENT:
        return LedgerEntry(kind=EntryKind.PAYER_PAYMENT, date=on, amount=value, reference=reference)
    assert kind in _PAYER_ADJUSTMENTS
    return LedgerEntry(
        kind=EntryKind.PAYER_ADJUSTMENT,
        date=on,
        amount=value,
        reference=reference,
        reason=code or kind.value,
    )


# --- sliding-scale discount ------------------------------------------------------------------


def self_pay_discount(charge_amount: Decimal, scale_share_percent: Decimal | int) -> Decimal:
    """The sliding-scale discount on a self-pay charge: what the patient does not pay.

    `scale_share_percent` is the patient's share from the sliding fee scale, e.g.
    `fees.SlidingScale.patient_share(fees.percent_of_poverty(...))` (0-100). Rounding: the
    patient's part, charge x share / 100, is rounded half-up to cents (as `fees.cost_estimate`
    rounds it) and the discount is the rest, so part + discount is the charge exactly. E.g. 100.05
    at 25%: part 25.0125 -> 25.01, discount 75.04. A share of 100% gives 0.00 (post no entry).
    """
    charge = _cents(charge_amount, "The charge amount")
    if charge < 0:
        raise LedgerError(f"The charge amount cannot be negative (got {charge}).")
    share = _number(scale_share_percent, "The patient share")
    if not 0 <= share <= HUNDRED:
        raise LedgerError(f"The patient share must be 0-100% (got {share}%).")
    return charge - round_cents(charge * share / HUNDRED)


def discount_entry(
    charge: LedgerEntry, scale_share_percent: Decimal | int, on: dt.date
) -> LedgerEntry | None:
    """The SLIDING_SCALE_DISCOUNT entry for a self-pay charge (same reference), dated `on`, or
    None when the share is 100%. Refuses a charge billed to insurance: the sliding scale applies
    to self-pay charges (issue 16 point 6)."""
    if charge.kind != EntryKind.CHARGE or charge.side != Side.PATIENT:
        raise LedgerError(
            "A sliding-scale discount applies to a self-pay charge (a charge on the patient "
            f"balance), not to a {charge.kind.value.replace('_', ' ')} on the "
            f"{charge.side.value if charge.side else 'unknown'} balance."
        )
    amount = self_pay_discount(charge.amount, scale_share_percent)
    if amount == 0:
        return None
    share = _number(scale_share_percent, "The patient share")
    return LedgerEntry(
        kind=EntryKind.SLIDING_SCALE_DISCOUNT,
        date=on,
        amount=amount,
        reference=charge.reference,
        reason=f"Sliding fee scale: patient pays {share.normalize():f}%",
    )


# --- payment plans ---------------------------------------------------------------------------


class InstallmentState(StrEnum):
    """An installment's state on a day. First that applies: PAID (nothing left); OVERDUE (its
    date is before today, partly paid or not); PARTLY_PAID (something paid, date today or later);
    DUE (nothing paid yet, date today or later). An installment is overdue from the day after its
    date; on its date it is still due."""

    PAID = "paid"
    OVERDUE = "overdue"
    PARTLY_PAID = "partly_paid"
    DUE = "due"


@dataclass(frozen=True)
class InstallmentStatus:
    number: int  # 1 for the first installment
    date: dt.date
    amount: Decimal
    paid: Decimal
    remaining: Decimal
    state: InstallmentState
    days_overdue: int  # 0 unless OVERDUE


@dataclass(frozen=True)
class PlanStatus:
    """A payment plan on `as_of`. Payments (less refunds) dated on or before `as_of` are applied
    to the installments oldest first; what is paid beyond the plan's total is `unapplied`."""

    as_of: dt.date
    installments: tuple[InstallmentStatus, ...]
    total: Decimal
    paid: Decimal  # payments less refunds, as of `as_of`
    unapplied: Decimal  # paid beyond the total
    remaining: Decimal  # total still to pay
    amount_overdue: Decimal  # remaining of installments dated before `as_of`
    due_now: Decimal  # remaining of installments dated on or before `as_of`
    not_yet_due: Decimal  # remaining of installments dated after `as_of`
    next_due: InstallmentStatus | None  # first installment not paid dated on or after `as_of`


def plan_status(
    installments: Sequence[Installment], payments: Iterable[LedgerEntry], today: dt.date
) -> PlanStatus:
    """Each installment paid / partly paid / due / overdue on `today`, the next due and the
    amount overdue.

    `installments` is a plan as `fees.payment_plan` makes it (dates in increasing order);
    `payments` are the plan's PATIENT_PAYMENT and REFUND entries (a refund takes back what it
    refunds; other kinds are refused). Entries dated after `today` are not counted.
    """
    plan = _checked_plan(installments)
    chosen = _ordered(payments, today)
    for entry in chosen:
        if entry.kind not in (EntryKind.PATIENT_PAYMENT, EntryKind.REFUND):
            raise LedgerError(
                "Only patient payments and refunds count towards a payment plan (got a "
                f"{entry.kind.value.replace('_', ' ')} on {entry.date.isoformat()})."
            )
    paid_in, refunded = _check_refunds(chosen)
    paid = paid_in - refunded
    left_to_apply = paid
    statuses: list[InstallmentStatus] = []
    for number, installment in enumerate(plan, start=1):
        applied = min(left_to_apply, installment.amount)
        left_to_apply -= applied
        remaining = installment.amount - applied
        late = installment.date < today
        if remaining == 0:
            state = InstallmentState.PAID
        elif late:
            state = InstallmentState.OVERDUE
        elif applied > 0:
            state = InstallmentState.PARTLY_PAID
        else:
            state = InstallmentState.DUE
        statuses.append(
            InstallmentStatus(
                number=number,
                date=installment.date,
                amount=installment.amount,
                paid=applied,
                remaining=remaining,
                state=state,
                days_overdue=(today - installment.date).days
                if state == InstallmentState.OVERDUE
                else 0,
            )
        )
    total = sum((i.amount for i in plan), ZERO)
    return PlanStatus(
        as_of=today,
        installments=tuple(statuses),
        total=total,
        paid=paid,
        unapplied=left_to_apply,
        remaining=sum((s.remaining for s in statuses), ZERO),
        amount_overdue=sum((s.remaining for s in statuses if s.date < today), ZERO),
        due_now=sum((s.remaining for s in statuses if s.date <= today), ZERO),
        not_yet_due=sum((s.remaining for s in statuses if s.date > today), ZERO),
        next_due=next((s for s in statuses if s.remaining > 0 and s.date >= today), None),
    )


class ReminderKind(StrEnum):
    BEFORE_DUE = "before_due"  # from `days_before` days before the date up to the date itself
    OVERDUE = "overdue"  # from the day after the date, while something is left to pay


@dataclass(frozen=True)
class Reminder:
    """A reminder to send. `key` is the same every day the reminder is due, so a job that records
    the keys it sent never sends one twice: "<plan_ref>:<number>:<date>:<kind>"."""

    key: str
    kind: ReminderKind
    installment: int
    due_date: dt.date
    amount: Decimal  # what is left to pay on that installment today
    days_overdue: int


def reminders_due(
    installments: Sequence[Installment],
    payments: Iterable[LedgerEntry],
    today: dt.date,
    days_before: int,
    *,
    plan_ref: str,
) -> list[Reminder]:
    """The reminders to send today for a plan, oldest installment first.

    For each installment with something left to pay: a BEFORE_DUE reminder on any day from
    `days_before` days before its date up to its date (0: on the date only), and an OVERDUE
    reminder on any day after its date. A day the job did not run is caught up the next day; the
    job sends each key once (one reminder of each kind per installment). `days_before` is the
    clinic's configuration (no default); `plan_ref` names the plan in the key (e.g. its id).
    Rescheduled installments get new keys (the date is part of the key).
    """
    if not _is_int(days_before) or days_before < 0:
        raise LedgerError(
            f"The days before a due date to remind must be a whole number of 0 or more "
            f"(got {days_before!r})."
        )
    if not isinstance(plan_ref, str) or not plan_ref.strip():
        raise LedgerError("Name the plan (plan_ref) so each reminder's key is unique.")
    status = plan_status(installments, payments, today)
    reminders: list[Reminder] = []
    for item in status.installments:
        if item.remaining == 0:
            continue
        if item.date - dt.timedelta(days=days_before) <= today <= item.date:
            kind = ReminderKind.BEFORE_DUE
        elif today > item.date:
            kind = ReminderKind.OVERDUE
        else:
            continue
        reminders.append(
            Reminder(
                key=f"{plan_ref}:{item.number}:{item.date.isoformat()}:{kind.value}",
                kind=kind,
                installment=item.number,
                due_date=item.date,
                amount=item.remaining,
                days_overdue=item.days_overdue,
            )
        )
    return reminders


# --- aging -----------------------------------------------------------------------------------


class AgingBucket(StrEnum):
    """Days since the date billed, both bounds included: 0-30 is 0..30 days, 31-60 is 31..60,
    61-90 is 61..90, and 90+ is 91 days or more."""

    DAYS_0_30 = "0-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = "90+"


def bucket_for(days: int) -> AgingBucket:
    """The aging bucket of an amount billed `days` days ago (0 = billed that day)."""
    if not _is_int(days) or days < 0:
        raise LedgerError(f"Days since billed must be a whole number of 0 or more (got {days!r}).")
    if days <= 30:
        return AgingBucket.DAYS_0_30
    if days <= 60:
        return AgingBucket.DAYS_31_60
    if days <= 90:
        return AgingBucket.DAYS_61_90
    return AgingBucket.OVER_90


@dataclass(frozen=True)
class OpenItem:
    """An amount still owed (more than zero), by whom (`payer`: a payer's key, or
    PATIENT_PAYER_KEY), since the date it was billed."""

    payer: str
    billed_on: dt.date
    amount: Decimal
    reference: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.payer, str) or not self.payer.strip():
            raise LedgerError("An open item needs a payer key.")
        if not isinstance(self.billed_on, dt.date) or isinstance(self.billed_on, dt.datetime):
            raise LedgerError(
                f"An open item's billed date must be a date (got {self.billed_on!r})."
            )
        amount = _cents(self.amount, "An open item's amount")
        if amount <= 0:
            raise LedgerError(
                f"An open item is an amount still owed, more than zero (got {amount} for "
                f"{self.payer}); keep credits apart."
            )
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True)
class AgingAmounts:
    days_0_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    over_90: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.days_0_30 + self.days_31_60 + self.days_61_90 + self.over_90

    def get(self, bucket: AgingBucket) -> Decimal:
        return {
            AgingBucket.DAYS_0_30: self.days_0_30,
            AgingBucket.DAYS_31_60: self.days_31_60,
            AgingBucket.DAYS_61_90: self.days_61_90,
            AgingBucket.OVER_90: self.over_90,
        }[bucket]

    def plus(self, bucket: AgingBucket, amount: Decimal) -> AgingAmounts:
        values = {b: self.get(b) for b in AgingBucket}
        values[bucket] += amount
        return AgingAmounts(
            days_0_30=values[AgingBucket.DAYS_0_30],
            days_31_60=values[AgingBucket.DAYS_31_60],
            days_61_90=values[AgingBucket.DAYS_61_90],
            over_90=values[AgingBucket.OVER_90],
        )


@dataclass(frozen=True)
class AgingRow:
    payer: str
    amounts: AgingAmounts


@dataclass(frozen=True)
class Aging:
    """Accounts receivable on `as_of`: a row per payer key (sorted), and the totals."""

    as_of: dt.date
    rows: tuple[AgingRow, ...]
    totals: AgingAmounts = field(default_factory=AgingAmounts)

    @property
    def total(self) -> Decimal:
        return self.totals.total


def aging(open_items: Iterable[OpenItem], as_of: dt.date) -> Aging:
    """Open items in the 0-30 / 31-60 / 61-90 / 90+ buckets by days from the date billed to
    `as_of` (see `AgingBucket` for the exact bounds), grouped by payer key, with totals. An item
    billed after `as_of` is refused: it was not open then."""
    by_payer: dict[str, AgingAmounts] = {}
    totals = AgingAmounts()
    for item in open_items:
        days = (as_of - item.billed_on).days
        if days < 0:
            raise LedgerError(
                f"{item.payer}'s item {item.reference or ''} was billed on "
                f"{item.billed_on.isoformat()}, after the aging date {as_of.isoformat()}."
            )
        bucket = bucket_for(days)
        by_payer[item.payer] = by_payer.get(item.payer, AgingAmounts()).plus(bucket, item.amount)
        totals = totals.plus(bucket, item.amount)
    rows = tuple(AgingRow(payer=p, amounts=by_payer[p]) for p in sorted(by_payer))
    return Aging(as_of=as_of, rows=rows, totals=totals)


def patient_open_items(entries: Iterable[LedgerEntry], as_of: dt.date) -> list[OpenItem]:
    """What makes up the patient balance on `as_of`, as open items (payer PATIENT_PAYER_KEY).

    Each amount that raised the patient balance (a self-pay charge, a patient-responsibility
    transfer, a refund) is billed on its own date. Each amount that lowered it (a payment, a
    discount, an adjustment) pays off first the open amounts with its reference, then the oldest;
    what is left over is a credit that pays off later amounts. The items add up to the patient
    balance when it is above zero, and there are none when it is zero or a credit.
    """
    chosen = _ordered(entries, as_of)
    _check_refunds(chosen)
    # Within a day, amounts owed first, then what pays them (the day's order otherwise kept).
    chosen.sort(key=lambda e: (e.date, e.patient_change < 0))
    owed: list[_Owed] = []  # oldest first
    credit = ZERO
    for entry in chosen:
        change = entry.patient_change
        if change > 0:
            taken = min(credit, change)
            credit -= taken
            if change > taken:
                owed.append(_Owed(entry.date, change - taken, entry.reference))
        elif change < 0:
            left = -change
            matching = [o for o in owed if entry.reference and o.reference == entry.reference]
            others = [o for o in owed if o not in matching]
            for item in matching + others:
                taken = min(item.amount, left)
                item.amount -= taken
                left -= taken
            owed = [o for o in owed if o.amount > 0]
            credit += left
    return [OpenItem(PATIENT_PAYER_KEY, o.billed_on, o.amount, o.reference) for o in owed]


@dataclass(eq=False)
class _Owed:
    """Part of the patient balance still open while `patient_open_items` works (compared by
    identity)."""

    billed_on: dt.date
    amount: Decimal
    reference: str


# --- statement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    patient_change: Decimal  # 0.00 for insurance-only activity (e.g. a payer's payment)
    insurance_change: Decimal
    balance: Decimal  # the patient balance after this line


@dataclass(frozen=True)
class Statement:
    """The patient's statement for a period; `period_end` is the statement date."""

    period_start: dt.date
    period_end: dt.date
    opening_balance: Decimal  # patient balance at the end of the day before the period
    lines: tuple[StatementLine, ...]
    closing_balance: Decimal  # patient balance at the end of `period_end`
    insurance_balance: Decimal  # still with the payers at the end of `period_end`
    amount_due_now: Decimal
    aging: AgingAmounts  # of the patient balance on `period_end`
    next_due: InstallmentStatus | None  # the plan's next installment, when there is a plan

    @property
    def credit(self) -> Decimal:
        return -self.closing_balance if self.closing_balance < 0 else ZERO


def statement(
    entries: Iterable[LedgerEntry],
    period_start: dt.date,
    period_end: dt.date,
    plan: PlanStatus | None = None,
) -> Statement:
    """The patient's statement: opening balance, the period's entries (dates inside the period,
    both ends included, in date order) with the running patient balance, closing balance, the
    amount due now and the aging of the patient balance on `period_end`.

    Amount due now: the closing balance less the installments of `plan` not yet due (0.00 when
    that is zero or less). With no plan, the whole closing balance; with a plan covering the
    balance, what is overdue or due on `period_end`; a balance the plan does not cover is due now.
    `plan` must be the plan's status on `period_end` (`plan_status(..., today=period_end)`).
    """
    if period_end < period_start:
        raise LedgerError(
            f"The statement period ends ({period_end.isoformat()}) before it starts "
            f"({period_start.isoformat()})."
        )
    if plan is not None and plan.as_of != period_end:
        raise LedgerError(
            f"The payment plan's status is as of {plan.as_of.isoformat()}; a statement to "
            f"{period_end.isoformat()} needs it as of that date."
        )
    chosen = _ordered(entries, period_end)
    totals = balances(chosen)
    opening = sum((e.patient_change for e in chosen if e.date < period_start), ZERO)
    running = opening
    lines: list[StatementLine] = []
    for entry in chosen:
        if entry.date < period_start:
            continue
        running += entry.patient_change
        lines.append(
            StatementLine(
                entry=entry,
                patient_change=entry.patient_change,
                insurance_change=entry.insurance_change,
                balance=running,
            )
        )
    later = plan.not_yet_due if plan is not None else ZERO
    report = aging(patient_open_items(chosen, period_end), period_end)
    return Statement(
        period_start=period_start,
        period_end=period_end,
        opening_balance=opening,
        lines=tuple(lines),
        closing_balance=totals.patient,
        insurance_balance=totals.insurance,
        amount_due_now=max(totals.patient - later, ZERO),
        aging=report.totals,
        next_due=plan.next_due if plan is not None else None,
    )


# --- helpers ---------------------------------------------------------------------------------


def _ordered(entries: Iterable[LedgerEntry], as_of: dt.date | None) -> list[LedgerEntry]:
    """The entries dated on or before `as_of` (all when None), in date order (stable)."""
    chosen: list[LedgerEntry] = []
    for entry in entries:
        if not isinstance(entry, LedgerEntry):
            raise LedgerError(f"Not a ledger entry: {entry!r}.")
        if as_of is None or entry.date <= as_of:
            chosen.append(entry)
    chosen.sort(key=lambda e: e.date)
    return chosen


def _check_refunds(ordered: Sequence[LedgerEntry]) -> tuple[Decimal, Decimal]:
    """Patient payments and refunds in total; refuses refunds beyond the payments at any date."""
    paid = refunded = ZERO
    for index, entry in enumerate(ordered):
        if entry.kind == EntryKind.PATIENT_PAYMENT:
            paid += entry.amount
        elif entry.kind == EntryKind.REFUND:
            refunded += entry.amount
        last_of_day = index + 1 == len(ordered) or ordered[index + 1].date != entry.date
        if last_of_day and refunded > paid:
            raise RefundTooLarge(
                f"Refunds up to {entry.date.isoformat()} add up to {_money(refunded)}, more than "
                f"the {_money(paid)} the patient had paid by then."
            )
    return paid, refunded


def _checked_plan(installments: Sequence[Installment]) -> list[Installment]:
    """The installments with amounts in cents; refuses an empty plan or dates out of order."""
    plan: list[Installment] = []
    for number, installment in enumerate(installments, start=1):
        if not isinstance(installment, Installment):
            raise LedgerError(f"Not an installment: {installment!r}.")
        amount = _cents(installment.amount, f"Installment {number}'s amount")
        if amount <= 0:
            raise LedgerError(f"Installment {number}'s amount must be more than zero.")
        if plan and installment.date <= plan[-1].date:
            raise LedgerError(
                f"Installment {number} ({installment.date.isoformat()}) must fall after "
                f"installment {number - 1} ({plan[-1].date.isoformat()})."
            )
        plan.append(Installment(date=installment.date, amount=amount))
    if not plan:
        raise LedgerError("A payment plan needs at least one installment.")
    return plan


def _number(value: object, what: str) -> Decimal:
    """A finite Decimal from a Decimal or an int; floats are refused (they cannot hold cents)."""
    if isinstance(value, Decimal):
        result = value
    elif _is_int(value):
        assert isinstance(value, int)
        result = Decimal(value)
    else:
        raise LedgerError(f"{what} must be a Decimal or a whole number (got {value!r}).")
    if not result.is_finite():
        raise LedgerError(f"{what} must be a finite number (got {value!r}).")
    return result


def _cents(value: object, what: str) -> Decimal:
    """`_number`, in whole cents (given as 12.5 or 12.50, never 12.505), as 2 decimal places."""
    result = _number(value, what)
    if result != result.quantize(CENT):
        raise LedgerError(f"{what} must be in whole cents (got {value!r}).")
    return result.quantize(CENT)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _money(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
