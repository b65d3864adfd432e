"""Reads of the patient's bill (issue 16 points 6 and 7): the ledger of a patient, built from its
sources into billing.domain.ledger entries, its balances, plan status and statement; the list of
patients with an account. Access checked (Cap.REVENUE_MANAGE at the patient's site) and audited
here; `ledger_of` is the unchecked builder the accounts services share (they check first).

Where the entries come from (each amount more than zero; the kind says which way it moves):
- self-pay charges: Charge rows not voided whose payer is one of the organization's self-pay
  payers -> CHARGE on the patient side, dated the service date; a charge billed to any other payer
  -> CHARGE on the insurance side. A later CHANGE or VOID adjustment of the charge (never an edit)
  -> a CHARGE for an increase, an ADJUSTMENT (its reason) for a decrease, dated the day it was
  made at the patient's site;
- the sliding-scale discount: for a self-pay charge whose service date falls in a
  SlidingFeeAgreement, a SLIDING_SCALE_DISCOUNT of domain `self_pay_discount(amount, share)`,
  dated the later of the service date and the day the agreement was made (an agreement made
  today does not rewrite a statement already sent); an adjustment of such a charge moves the
  patient by the patient's part of the change only (the discounted part moves with it);
- PatientResponsibility -> PATIENT_RESPONSIBILITY (insurance balance to the patient's);
- PatientPayment -> PATIENT_PAYMENT; PatientRefund -> REFUND (its reason);
- the payers' remittances: each RemittancePosting on one of the patient's claims -> domain
  `payer_entry` (a payment, a CO/PI/OA adjustment, a reversal), dated the remittance's payment
  date like the PatientResponsibility it recorded. Its PR postings and denials make no entry
  (the PatientResponsibility row moves the PR amount once; a denied amount stays with the payer).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from openiop.accounts.access import get_for, require, site_scope
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record_many
from openiop.billing.choices import AdjustmentKind, PayerType
from openiop.billing.domain import fees
from openiop.billing.domain import ledger as rules
from openiop.billing.domain.remittance import PostingKind
from openiop.billing.models import (
    Charge,
    ChargeAdjustment,
    Claim,
    ClaimLine,
    CostEstimate,
    PatientPayment,
    PatientRefund,
    PatientResponsibility,
    PaymentPlan,
    PaymentPlanStatus,
    ReminderSent,
    SlidingFeeAgreement,
    Statement,
)
from openiop.billing.models.remittances import DenialWorkItem, RemittancePosting
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.patients.models import Patient

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    """A ledger entry as the page shows it: what it is in words, and the balances after it."""

    entry: rules.LedgerEntry
    description: str
    patient_balance: Decimal
    insurance_balance: Decimal


@dataclass(frozen=True)
class Sources:
    """What the entries were built from (the page lists the agreements and the plan)."""

    entries: tuple[tuple[rules.LedgerEntry, str], ...]  # each with its description, in date order
    agreements: tuple[SlidingFeeAgreement, ...]
    plan: PaymentPlan | None  # the active plan, with its installments
    plan_entries: tuple[rules.LedgerEntry, ...]  # the active plan's payments and refunds


@dataclass(frozen=True)
class PatientLedger:
    patient: Patient
    today: dt.date
    lines: tuple[Line, ...]
    balances: rules.Balances
    aging: rules.AgingAmounts  # of the patient balance today
    agreements: tuple[SlidingFeeAgreement, ...]
    agreement_today: SlidingFeeAgreement | None
    plan: PaymentPlan | None
    plan_status: rules.PlanStatus | None
    statements: tuple[Statement, ...]
    reminders: tuple[ReminderSent, ...]  # the active plan's latest reminders


# --- building the entries (no access check: callers check first) ------------------------------


def _local_date(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return moment.astimezone(tz).date()


def _agreement_on(
    agreements: Iterable[SlidingFeeAgreement], day: dt.date
) -> SlidingFeeAgreement | None:
    for agreement in agreements:
        if agreement.effective_from <= day and (
            agreement.effective_to is None or day <= agreement.effective_to
        ):
            return agreement
    return None


def _patient_part(amount: Decimal, share: Decimal | None) -> Decimal:
    """What the patient pays of `amount` at `share` percent (all of it without an agreement)."""
    if share is None or amount <= 0:
        return max(amount, ZERO)
    return amount - rules.self_pay_discount(amount, share)


def installments_of(plan: PaymentPlan) -> list[fees.Installment]:
    return [fees.Installment(date=i.due_date, amount=i.amount) for i in plan.installments.all()]


def ledger_sources(patient_ids: list[int]) -> dict[int, Sources]:
    """Each patient's ledger entries, agreements and active plan, in a fixed number of queries
    whatever the number of patients (one per table)."""
    charges = (
        Charge.objects.filter(patient_id__in=patient_ids)
        .select_related("payer", "site")
        .order_by("service_date", "id")
    )
    adjustments: dict[int, list[ChargeAdjustment]] = defaultdict(list)
    for adjustment in ChargeAdjustment.objects.filter(
        charge__patient_id__in=patient_ids,
        kind__in=[AdjustmentKind.CHANGE, AdjustmentKind.VOID],
    ).order_by("created_at", "id"):
        adjustments[adjustment.charge_id].append(adjustment)
    agreements: dict[int, list[SlidingFeeAgreement]] = defaultdict(list)
    for agreement in SlidingFeeAgreement.objects.filter(patient_id__in=patient_ids).select_related(
        "patient__site"
    ):
        agreements[agreement.patient_id].append(agreement)
    plans = {
        p.patient_id: p
        for p in PaymentPlan.objects.filter(
            patient_id__in=patient_ids, status=PaymentPlanStatus.ACTIVE
        ).prefetch_related("installments")
    }
    entries: dict[int, list[tuple[rules.LedgerEntry, str]]] = defaultdict(list)
    for charge in charges:
        _charge_entries(charge, adjustments[charge.pk], agreements[charge.patient_id], entries)
    for responsibility in PatientResponsibility.objects.filter(patient_id__in=patient_ids):
        entries[responsibility.patient_id].append(
            (
                rules.LedgerEntry(
                    kind=rules.EntryKind.PATIENT_RESPONSIBILITY,
                    date=responsibility.date,
                    amount=responsibility.amount,
                    reference=responsibility.claim_ref,
                ),
                f"Patient responsibility ({responsibility.source}, claim "
                f"{responsibility.claim_ref})",
            )
        )
    _payer_entries(patient_ids, entries)
    plan_entries: dict[int, list[rules.LedgerEntry]] = defaultdict(list)
    for payment in PatientPayment.objects.filter(patient_id__in=patient_ids):
        entry = rules.LedgerEntry(
            kind=rules.EntryKind.PATIENT_PAYMENT,
            date=payment.date,
            amount=payment.amount,
            reference="",
        )
        label = f"Payment ({payment.get_method_display()}"
        label += f" {payment.reference})" if payment.reference else ")"
        entries[payment.patient_id].append((entry, label))
        plan = plans.get(payment.patient_id)
        if plan is not None and payment.plan_id == plan.pk:
            plan_entries[payment.patient_id].append(entry)
    for refund in PatientRefund.objects.filter(patient_id__in=patient_ids):
        entry = rules.LedgerEntry(
            kind=rules.EntryKind.REFUND,
            date=refund.date,
            amount=refund.amount,
            reason=refund.reason,
        )
        entries[refund.patient_id].append((entry, f"Refund: {refund.reason}"))
        plan = plans.get(refund.patient_id)
        if plan is not None and refund.plan_id == plan.pk:
            plan_entries[refund.patient_id].append(entry)
    result: dict[int, Sources] = {}
    for patient_id in patient_ids:
        ordered = sorted(entries[patient_id], key=lambda pair: pair[0].date)
        result[patient_id] = Sources(
            entries=tuple(ordered),
            agreements=tuple(sorted(agreements[patient_id], key=lambda a: a.effective_from)),
            plan=plans.get(patient_id),
            plan_entries=tuple(plan_entries[patient_id]),
        )
    return result


_PAYER_WORDS = {
    rules.EntryKind.PAYER_PAYMENT: "Payment",
    rules.EntryKind.PAYER_ADJUSTMENT: "Adjustment",
    rules.EntryKind.PAYER_REVERSAL: "Reversal",
}


def _payer_entries(
    patient_ids: list[int], out: dict[int, list[tuple[rules.LedgerEntry, str]]]
) -> None:
    """The payers' payments, adjustments and reversals posted to the patients' claims (one
    query), each referring to the charge its claim line bills (the claim when at claim level)."""
    postings = (
        RemittancePosting.objects.filter(claim__patient_id__in=patient_ids)
        .select_related("remittance", "claim", "claim_line")
        .only(
            "kind",
            "amount",
            "group_code",
            "reason_code",
            "remittance__payment_date",
            "remittance__payer_name",
            "remittance__trace_number",
            "claim__patient_id",
            "claim__patient_control_number",
            "claim_line__charge_id",
            "claim_line__code",
            "claim_line__service_date",
        )
        .order_by("remittance__payment_date", "id")
    )
    for posting in postings:
        code = f"{posting.group_code}-{posting.reason_code}" if posting.group_code else ""
        reference, where = _claim_place(posting.claim_line, posting.claim)
        entry = rules.payer_entry(
            PostingKind(posting.kind),
            posting.amount,
            posting.remittance.payment_date,
            reference=reference,
            code=code,
        )
        if entry is None:
            continue
        what = _PAYER_WORDS[entry.kind]
        if code:
            what += f" {code}"
        out[posting.claim.patient_id].append(
            (
                entry,
                f"{what} from {posting.remittance.payer_name} on {where} "
                f"(835 {posting.remittance.trace_number})",
            )
        )
    _write_off_entries(patient_ids, out)


def _claim_place(line: ClaimLine | None, claim: Claim) -> tuple[str, str]:
    """What a payer's amount on a claim refers to in the ledger (the charge its line bills, or
    the claim when at claim level) and how a ledger line names it."""
    if line is not None:
        return f"charge:{line.charge_id}", f"{line.code} on {line.service_date.isoformat()}"
    return f"claim:{claim.pk}", f"claim {claim.patient_control_number}"


def _write_off_entries(
    patient_ids: list[int], out: dict[int, list[tuple[rules.LedgerEntry, str]]]
) -> None:
    """The denied amounts billing staff wrote off when closing their denials (one query)."""
    written = (
        DenialWorkItem.objects.filter(claim__patient_id__in=patient_ids, written_off__gt=0)
        .select_related("claim", "claim_line")
        .only(
            "written_off",
            "written_off_on",
            "group_code",
            "reason_code",
            "payer_name",
            "claim__patient_id",
            "claim__patient_control_number",
            "claim_line__charge_id",
            "claim_line__code",
            "claim_line__service_date",
        )
        .order_by("written_off_on", "id")
    )
    for item in written:
        assert item.written_off_on is not None  # the model's constraint
        code = f"{item.group_code}-{item.reason_code}" if item.group_code else ""
        reference, where = _claim_place(item.claim_line, item.claim)
        out[item.claim.patient_id].append(
            (
                rules.denial_write_off(
                    item.written_off, item.written_off_on, reference=reference, code=code
                ),
                f"Written off: {item.payer_name} denied {where}" + (f" ({code})" if code else ""),
            )
        )


def _charge_entries(
    charge: Charge,
    adjustments: list[ChargeAdjustment],
    agreements: list[SlidingFeeAgreement],
    out: dict[int, list[tuple[rules.LedgerEntry, str]]],
) -> None:
    tz = charge.site.tz
    label = f"{charge.code} on {charge.service_date.isoformat()}"
    reference = f"charge:{charge.pk}"
    self_pay = charge.payer.payer_type == PayerType.SELF_PAY
    side = rules.Side.PATIENT if self_pay else rules.Side.INSURANCE
    agreement = _agreement_on(agreements, charge.service_date) if self_pay else None
    share = agreement.share_percent if agreement is not None else None
    rows = out[charge.patient_id]
    if charge.amount > 0:
        rows.append(
            (
                rules.LedgerEntry(
                    kind=rules.EntryKind.CHARGE,
                    date=charge.service_date,
                    amount=charge.amount,
                    reference=reference,
                    side=side,
                ),
                f"{label}{'' if self_pay else f' (billed to {charge.payer.name})'}",
            )
        )
    if agreement is not None:
        discount_from = max(charge.service_date, _local_date(agreement.created_at, tz))
        discount = rules.self_pay_discount(charge.amount, agreement.share_percent)
        if discount > 0:
            rows.append(
                (
                    rules.LedgerEntry(
                        kind=rules.EntryKind.SLIDING_SCALE_DISCOUNT,
                        date=discount_from,
                        amount=discount,
                        reference=reference,
                    ),
                    f"Sliding fee discount on {label}: you pay "
                    f"{agreement.share_percent.normalize():f}%",
                )
            )
    previous = charge.amount
    for adjustment in adjustments:
        on = max(charge.service_date, _local_date(adjustment.created_at, tz))
        gross = adjustment.new_amount - previous
        change = _patient_part(adjustment.new_amount, share) - _patient_part(previous, share)
        if not self_pay:
            change = gross
        previous = adjustment.new_amount
        what = "voided" if adjustment.kind == AdjustmentKind.VOID else "corrected"
        if gross > 0:
            rows.append(
                (
                    rules.LedgerEntry(
                        kind=rules.EntryKind.CHARGE,
                        date=on,
                        amount=gross,
                        reference=reference,
                        side=side,
                    ),
                    f"{label} corrected up: {adjustment.reason}",
                )
            )
            if gross > change:  # the sliding fee covers part of the increase
                rows.append(
                    (
                        rules.LedgerEntry(
                            kind=rules.EntryKind.SLIDING_SCALE_DISCOUNT,
                            date=on,
                            amount=gross - change,
                            reference=reference,
                        ),
                        f"Sliding fee discount on the correction of {label}",
                    )
                )
        elif change < 0:
            # Only the patient's part of a decrease: the discounted part was never owed.
            rows.append(
                (
                    rules.LedgerEntry(
                        kind=rules.EntryKind.ADJUSTMENT,
                        date=on,
                        amount=-change,
                        reference=reference,
                        reason=adjustment.reason or f"Charge {what}",
                        side=side,
                    ),
                    f"{label} {what}: {adjustment.reason}",
                )
            )


def ledger_of(patient: Patient) -> Sources:
    """The patient's ledger sources (no access check: the caller has checked)."""
    return ledger_sources([patient.pk])[patient.pk]


def plan_status_of(sources: Sources, today: dt.date) -> rules.PlanStatus | None:
    if sources.plan is None:
        return None
    return rules.plan_status(installments_of(sources.plan), sources.plan_entries, today)


def lines_of(entries: Iterable[tuple[rules.LedgerEntry, str]]) -> tuple[Line, ...]:
    patient = insurance = ZERO
    lines: list[Line] = []
    for entry, description in entries:
        patient += entry.patient_change
        insurance += entry.insurance_change
        lines.append(Line(entry, description, patient, insurance))
    return tuple(lines)


def statement_of(sources: Sources, period_start: dt.date, period_end: dt.date) -> rules.Statement:
    """The domain statement of the patient's ledger for a period (plan status at its end)."""
    entries = [entry for entry, _ in sources.entries]
    return rules.statement(
        entries, period_start, period_end, plan=plan_status_of(sources, period_end)
    )


# --- access-checked reads ------------------------------------------------------------------------


def _patient(actor: Actor, patient_id: int, object_type: str) -> Patient:
    return get_for(
        actor,
        Patient.objects.select_related("site", "organization"),
        patient_id,
        cap=Cap.REVENUE_MANAGE,
        object_type=object_type,
        missing=NotFound("There is no patient with this number."),
        patient_of=lambda p: p,
    )


def patient_ledger(*, actor: Actor, patient_id: int, today: dt.date | None = None) -> PatientLedger:
    """A patient's ledger: every entry with the running balances, the balances, the patient
    balance's aging, the sliding-fee agreements, the active plan's status, the statements.
    Audited (object_type "patient_ledger")."""
    patient = _patient(actor, patient_id, "patient_ledger")
    day = today or clock.local_today(patient.site.tz)
    sources = ledger_of(patient)
    entries = [entry for entry, _ in sources.entries]
    return PatientLedger(
        patient=patient,
        today=day,
        lines=lines_of(sources.entries),
        balances=rules.balances(entries),
        aging=rules.aging(rules.patient_open_items(entries, day), day).totals,
        agreements=sources.agreements,
        agreement_today=_agreement_on(sources.agreements, day),
        plan=sources.plan,
        plan_status=plan_status_of(sources, day),
        statements=tuple(Statement.objects.filter(patient=patient).order_by("-generated_at")[:20]),
        reminders=tuple(ReminderSent.objects.filter(plan=sources.plan)[:10])
        if sources.plan is not None
        else (),
    )


def patient_estimates(patient: Patient) -> QuerySet[CostEstimate]:
    """The patient's self-pay cost estimates (from their admissions inquiries), newest first;
    for the sliding-fee form of a ledger page already checked and audited."""
    return CostEstimate.objects.filter(inquiry__patient=patient).order_by("-created_at", "-id")


@dataclass(frozen=True)
class PrintedStatement:
    record: Statement
    patient: Patient
    statement: rules.Statement
    lines: tuple[tuple[rules.StatementLine, str], ...]  # each with its description


def statement_get(*, actor: Actor, statement_id: int) -> PrintedStatement:
    """A generated statement, rebuilt from the ledger for its period (to print). Audited
    (object_type "patient_statement", action export)."""
    record = get_for(
        actor,
        Statement.objects.select_related("patient__site", "patient__organization"),
        statement_id,
        cap=Cap.REVENUE_MANAGE,
        object_type="patient_statement",
        missing=NotFound("There is no statement with this number."),
        patient_of=lambda s: s.patient,
        action=AuditAction.EXPORT,
    )
    sources = ledger_of(record.patient)
    built = statement_of(sources, record.period_start, record.period_end)
    # The statement's lines are the ledger's own entries: find each one's description by identity.
    descriptions = {id(entry): text for entry, text in sources.entries}
    lines = tuple((line, descriptions.get(id(line.entry), "")) for line in built.lines)
    return PrintedStatement(record, record.patient, built, lines)


@dataclass(frozen=True)
class BalanceRow:
    patient: Patient
    balances: rules.Balances
    plan: PaymentPlan | None


def account_patients(*, actor: Actor, search: str = "") -> QuerySet[Patient]:
    """The patients at the actor's sites with anything on their account (a charge, a
    responsibility, a payment or a refund), by name; `search` matches the name or the MRN. Not
    audited here: the page audits the patients it shows (`balances_for`)."""
    require(actor, Cap.REVENUE_MANAGE, object_type="patient_balances")
    active = (
        Exists(Charge.objects.filter(patient_id=OuterRef("pk")))
        | Exists(PatientResponsibility.objects.filter(patient_id=OuterRef("pk")))
        | Exists(PatientPayment.objects.filter(patient_id=OuterRef("pk")))
        | Exists(PatientRefund.objects.filter(patient_id=OuterRef("pk")))
    )
    qs = Patient.objects.filter(site_scope(actor)).filter(active)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(search_name__icontains=search.lower())
            | Q(legal_last_name__icontains=search)
            | Q(mrn__iexact=search)
        )
    return qs.select_related("site").order_by("legal_last_name", "legal_first_name", "id")


def balances_for(*, actor: Actor, patients: list[Patient]) -> list[BalanceRow]:
    """The balances of the patients of one page of `account_patients`, in a fixed number of
    queries; one audit entry naming every patient shown."""
    require(actor, Cap.REVENUE_MANAGE, object_type="patient_balances")
    ids = [p.pk for p in patients]
    if ids:
        audit_record_many(
            actor, action=AuditAction.VIEW, object_type="patient_balances", patient_ids=ids
        )
    sources = ledger_sources(ids)
    return [
        BalanceRow(
            patient=p,
            balances=rules.balances(entry for entry, _ in sources[p.pk].entries),
            plan=sources[p.pk].plan,
        )
        for p in patients
    ]
