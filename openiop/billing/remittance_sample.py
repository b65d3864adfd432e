"""An 835 a payer could send back for claims OpenIOP sent: for the demo clinic and for tests.

`sample_835(...)` answers each claim named with the outcome asked (paid, partially paid or denied),
line by line, with the claim's own patient control number and line control numbers, so that
`remittance_import` matches it as it would a payer's file. The amounts are invented: a paid line
is allowed `allowed_percent` of its charge (CARC 45, charge exceeds the fee schedule, as a
contractual write-off, group CO), the patient owes `copay` of it (CARC 3, co-payment, group PR)
and the payer pays the rest; a denied line is adjusted whole under CO with `denial_reason`.
The 835's structure is the writer's (billing.domain.remittance.write_835, 005010X221A1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from openiop.billing.choices import PayerType
from openiop.billing.domain import remittance as r
from openiop.billing.models import Claim, ClaimLine

Outcome = Literal["paid", "partially_paid", "denied"]
CENT = Decimal("0.01")
ZERO = Decimal("0")

# CLP06, the claim filing indicator of the 835, by the payer's type (X12 835 code list: 12 a
# PPO, MC Medicaid, MA Medicare Part A).
FILING_BY_PAYER_TYPE: dict[str, str] = {
    PayerType.COMMERCIAL: "12",
    PayerType.MEDICAID: "MC",
    PayerType.MEDICARE: "MA",
}


@dataclass(frozen=True)
class Answer:
    """What the payer decided on one claim (its lines are read from the claim)."""

    claim: Claim
    outcome: Outcome


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _line(
    line: ClaimLine,
    *,
    denied: bool,
    allowed_percent: Decimal,
    copay: Decimal,
    denial_reason: str,
) -> r.ServicePayment:
    billed = _cents(line.amount)
    modifiers = tuple(m for m in line.modifiers.replace(",", " ").split() if m)
    if denied:
        paid = ZERO
        adjustments: tuple[r.Adjustment, ...] = (r.Adjustment("CO", denial_reason, billed),)
    else:
        allowed = _cents(billed * allowed_percent / 100)
        owed = min(copay, allowed)
        paid = allowed - owed
        adjustments = tuple(
            a
            for a in (r.Adjustment("CO", "45", billed - allowed), r.Adjustment("PR", "3", owed))
            if a.amount != 0
        )
    return r.ServicePayment(
        procedure=r.Procedure("HC", line.code, modifiers),
        billed=billed,
        paid=paid,
        revenue_code=line.revenue_code or None,
        units_paid=Decimal(line.units) if not denied else ZERO,
        service_date=line.service_date,
        adjustments=adjustments,
        line_control_number=line.line_control_number or None,
    )


def sample_835(
    answers: Sequence[Answer],
    *,
    payer_name: str,
    payer_identifier: str,
    payee_name: str,
    payee_npi: str,
    paid_on: dt.date,
    trace_number: str,
    control_number: int,
    allowed_percent: Decimal = Decimal("80"),
    copay: Decimal = Decimal("35.00"),
    denial_reason: str = "197",
) -> str:
    """The 835 text answering every claim of `answers` (each with its lines; the claims of one
    payer). A partially paid claim has its first line denied and the rest paid. Raises
    ValueError (the writer's) for codes an 835 cannot carry."""
    claims: list[r.ClaimPayment] = []
    for n, answer in enumerate(answers, start=1):
        claim = answer.claim
        lines = sorted(claim.lines.all(), key=lambda line: line.number)
        services = tuple(
            _line(
                line,
                denied=answer.outcome == "denied"
                or (answer.outcome == "partially_paid" and i == 0),
                allowed_percent=allowed_percent,
                copay=copay,
                denial_reason=denial_reason,
            )
            for i, line in enumerate(lines)
        )
        paid = sum((s.paid for s in services), ZERO)
        owed = sum((a.amount for s in services for a in s.adjustments if a.group == "PR"), ZERO)
        patient = claim.patient
        claims.append(
            r.ClaimPayment(
                patient_control_number=claim.patient_control_number,
                status=r.STATUS_DENIED if answer.outcome == "denied" else "1",
                billed=sum((s.billed for s in services), ZERO),
                paid=paid,
                patient_responsibility=owed,
                filing_indicator=FILING_BY_PAYER_TYPE.get(claim.payer.payer_type, "ZZ"),
                payer_claim_control_number=f"{trace_number}{n:03d}",
                patient=r.PersonName(
                    patient.legal_last_name.upper(),
                    patient.legal_first_name.upper(),
                    id_qualifier="MI" if claim.coverage.member_id else None,
                    identifier=claim.coverage.member_id or None,
                ),
                facility_code=claim.bill_type[:2] if claim.bill_type else None,
                frequency=claim.frequency or None,
                statement_from=claim.statement_from,
                statement_to=claim.statement_to,
                lines=services,
                header_number=1,
            )
        )
    total = sum((c.paid for c in claims), ZERO)
    sender = "".join(ch for ch in payer_identifier.upper() if ch.isalnum())[:15] or "PAYER"
    return r.write_835(
        r.Remittance835(
            envelope=r.EnvelopeIds(
                sender_qualifier="ZZ",
                sender_id=sender,
                receiver_qualifier="ZZ",
                receiver_id=payee_npi[:15],
                application_sender_code=sender,
                application_receiver_code=payee_npi[:15],
                date=paid_on,
                time="1200",
                interchange_control_number=control_number,
                group_control_number=control_number,
                transaction_set_control_number=f"{control_number % 10000:04d}",
                usage="T",
            ),
            payment=r.PaymentInfo(
                "C" if total else "H", total, "C", "CHK" if total else "NON", paid_on
            ),
            trace=r.Trace(trace_number, "1999999999"),
            payer=r.Payer(
                name=payer_name.upper()[:60],
                identifier=payer_identifier,
                address=r.PartyAddress(
                    line1="1 EXAMPLE PLAZA", city="FAKETOWN", state="NY", postal_code="12345"
                ),
                contacts=(r.Contact("BL", "EDI DESK (FICTIONAL)", (("TE", "5555550199"),)),),
            ),
            payee=r.Payee(name=payee_name.upper()[:60], id_qualifier="XX", identifier=payee_npi),
            claims=tuple(claims),
        )
    )
