"""The 835 remittance (005010X221A1): parse it, plan its posting against our claims, write one.

Three pure functions, no Django, no I/O, no clock:

- `parse_835(text) -> Remittance835` (and `parse_835_all` for an interchange holding several
  transaction sets): envelope, BPR payment, TRN trace, payer and payee, claims (CLP with CAS,
  patient, remark codes, references, statement dates) and their service lines (SVC with DTM, CAS,
  REF*6R and LQ*HE), PLB provider adjustments. Separators are read from the ISA. A broken file
  raises `RemittanceParseError` (a ValueError) naming the segment by its position in the file
  (ISA is segment 1). A segment the guide requires that is missing, a code outside the guide's
  list or an amount that is not whole cents is an error; a segment this module does not carry is
  listed in `Remittance835.not_carried`, never dropped silently.
- `match_remittance(remit, claims_index) -> PostingPlan`: which of our claims and lines each CLP
  and SVC belongs to, the postings (payment; adjustments by CAS group), the claim outcome, the
  denial worklist, the unmatched queue, the balancing problems, and a report line by line.
- `write_835(remit) -> str`: the 835 text for a `Remittance835` (tests and the demo). Every
  generated interchange is validated with pyx12 in the tests; `parse_835(write_835(r)) == r`.

CARC and RARC code lists are X12-licensed ([domain] §3): codes are carried, never their texts,
and behaviour is chosen by the CAS group code and the CLP02 claim status, never by a CARC.

Sources:

- [domain] /work/shared/domain.md §3: the 835 outline (BPR, TRN, CLP status, billed, paid,
  patient responsibility, payer control no.; CAS group CO/PR/OA/PI + CARC + amount; SVC lines;
  LQ*HE RARCs; PLB) and that the CARC/RARC lists are X12-licensed.
- [map] pyx12 4.0.0 map ``835.5010.X221.A1.xml`` (registered for ``005010X221A1``): loops,
  segment order and usage (R/S), element usage and the code lists enforced below (GS01 HP,
  BPR01/03/04, TRN01, N101 PR/PE, N103, CLP02, CLP06, CAS01, NM101 QC, SVC01-1, DTM01, LQ01).
  ST03 is "Not Used" in this map, so the writer does not send it.
- [status] data element 1029 Claim Status Code (Stedi's X12 reference, element 1029): 1/2/3
  processed as primary/secondary/tertiary, 4 denied, 19/20/21 processed and forwarded to
  additional payer(s), 22 reversal of previous payment, 23 not our claim, forwarded to
  additional payer(s), 25 predetermination pricing only, no payment.
- [groups] WPC "Claim Adjustment Reason Codes, more information" (wpc-edi.com carc_more): CO is a
  contractual or regulatory adjustment, generally written off and not billed to the patient; PR
  is to be billed to the patient (or another payer on the patient's behalf); PI is not the
  patient's responsibility in the payer's opinion, without a contract; OA when no other group
  applies. Noridian (Medicare contractor) "Claim Adjustment Group Codes": amounts not under PR
  may not be billed to the beneficiary.
- [balance] x12.org RFI 2601 and RFI 2348 (TR3 sections on service line and claim balancing):
  SVC02 minus the line's CAS amounts equals SVC03; CLP03 minus every claim and line CAS amount
  equals CLP04 (RFI 358: service adjustments are part of claim balancing). Transaction
  balancing (TR3 via ediacademy.com "835 balancing"): the sum of CLP04 minus the sum of the PLB
  amounts equals BPR02; a positive PLB amount reduces the payment, a negative one increases it
  (also BCBS GA "Provider Level Adjustments").
- [clp05] x12.org RFI 2548: CLP05 equals the sum of the PR adjustments at claim and line level,
  except on reversals; CLP05 is not part of transaction balancing.
- [reversal] [status] code 22 and the WPC group page: a reversal reports the previous claim with
  its amounts negated (TR3 section 2.2.8); 5010 has no CR group ([map] CAS01).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from openiop.billing.domain.x12 import (
    COMPONENT_SEPARATOR,
    ELEMENT_SEPARATOR,
    REPETITION_SEPARATOR,
    SEGMENT_TERMINATOR,
)

VERSION_835 = "005010X221A1"
CENT = Decimal("0.01")
ZERO = Decimal(0)

# [map] code lists this module checks on input and output.
CLAIM_STATUS_CODES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
CLAIM_FILING_CODES = frozenset(
    {"12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF"}
    | {"TV", "VA", "WC", "ZZ"}
)
GROUP_CODES = frozenset({"CO", "OA", "PI", "PR"})
HANDLING_CODES = frozenset({"C", "D", "H", "I", "P", "U", "X"})
PAYMENT_METHODS = frozenset({"ACH", "BOP", "CHK", "FWT", "NON"})
PRODUCT_QUALIFIERS = frozenset({"AD", "ER", "HC", "HP", "IV", "N4", "N6", "NU", "UI", "WK"})
PAYEE_ID_QUALIFIERS = frozenset({"FI", "XV", "XX"})
CONTACT_FUNCTIONS = ("CX", "BL", "IC")  # PER01 in 1000A, in map order

# [status]
STATUS_DENIED = "4"
STATUS_REVERSAL = "22"
STATUS_NOT_OUR_CLAIM = "23"
STATUS_PRICING_ONLY = "25"
STATUS_FORWARDED = frozenset({"19", "20", "21"})

GroupCode = Literal["CO", "OA", "PI", "PR"]


# ---------------------------------------------------------------------------------------------
# The remittance as data


@dataclass(frozen=True)
class Delimiters:
    """Segment terminator, element, component and repetition separators (ISA, [map])."""

    segment: str = SEGMENT_TERMINATOR
    element: str = ELEMENT_SEPARATOR
    component: str = COMPONENT_SEPARATOR
    repetition: str = REPETITION_SEPARATOR

    def __post_init__(self) -> None:
        chars = (self.segment, self.element, self.component, self.repetition)
        if any(len(c) != 1 or c.isalnum() or c == " " for c in chars) or len(set(chars)) != 4:
            raise ValueError(f"The X12 delimiters must be four distinct symbols (got {chars!r}).")


@dataclass(frozen=True)
class EnvelopeIds:
    """ISA/GS/ST identifiers. The date and time are GS04 (CCYYMMDD) and GS05 as sent."""

    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06, without its padding
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    application_sender_code: str  # GS02
    application_receiver_code: str  # GS03
    date: dt.date  # GS04 (ISA09 is the same date as YYMMDD)
    time: str  # GS05, HHMM[SS[D[D]]]
    interchange_control_number: int  # ISA13 / IEA02
    group_control_number: int  # GS06 / GE02
    transaction_set_control_number: str  # ST02 / SE02
    usage: Literal["P", "T"] = "P"  # ISA15
    acknowledgment_requested: bool = False  # ISA14


@dataclass(frozen=True)
class BankDetails:
    """BPR05-BPR15, sent when the money moves by ACH, BOP or FWT ([map] BPR, situational)."""

    format_code: str | None = None  # BPR05: CCP / CTX
    sender_dfi_qualifier: str | None = None  # BPR06
    sender_dfi_id: str | None = None  # BPR07
    sender_account_qualifier: str | None = None  # BPR08
    sender_account: str | None = None  # BPR09
    payer_identifier: str | None = None  # BPR10
    payer_supplemental_code: str | None = None  # BPR11
    receiver_dfi_qualifier: str | None = None  # BPR12
    receiver_dfi_id: str | None = None  # BPR13
    receiver_account_qualifier: str | None = None  # BPR14
    receiver_account: str | None = None  # BPR15

    def elements(self) -> tuple[str | None, ...]:
        return (
            self.format_code,
            self.sender_dfi_qualifier,
            self.sender_dfi_id,
            self.sender_account_qualifier,
            self.sender_account,
            self.payer_identifier,
            self.payer_supplemental_code,
            self.receiver_dfi_qualifier,
            self.receiver_dfi_id,
            self.receiver_account_qualifier,
            self.receiver_account,
        )


@dataclass(frozen=True)
class PaymentInfo:
    """BPR: what the payer paid in total, how and when."""

    handling_code: str  # BPR01, e.g. C payment with remittance, I remittance only, H notice
    amount: Decimal  # BPR02, the total actual provider payment
    credit_debit: Literal["C", "D"]  # BPR03
    method: str  # BPR04: ACH, BOP, CHK, FWT, NON
    date: dt.date  # BPR16, check issue or EFT effective date
    bank: BankDetails = field(default_factory=BankDetails)


@dataclass(frozen=True)
class Trace:
    """TRN: the check or EFT trace number that re-associates money and remittance."""

    trace_number: str  # TRN02
    payer_identifier: str  # TRN03, "1" followed by the payer's EIN
    originating_supplemental_code: str | None = None  # TRN04


@dataclass(frozen=True)
class PartyAddress:
    """N3/N4 of the payer or payee."""

    line1: str
    city: str
    line2: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Reference:
    """A REF segment: qualifier and value."""

    qualifier: str
    value: str


@dataclass(frozen=True)
class Contact:
    """A PER segment: function (CX business, BL technical, IC web site), name, numbers."""

    function: str
    name: str | None = None
    numbers: tuple[tuple[str, str], ...] = ()  # (qualifier, number) pairs: TE, EM, FX, UR, EX


@dataclass(frozen=True)
class Payer:
    """1000A: N1*PR, N3, N4 (required), REF, PER (the technical contact PER*BL is required)."""

    name: str
    address: PartyAddress
    contacts: tuple[Contact, ...]
    identifier: str | None = None  # N104 with qualifier XV
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Payee:
    """1000B: N1*PE with its identifier (FI tax id, XX NPI, XV), optional address and REFs."""

    name: str
    id_qualifier: str
    identifier: str
    address: PartyAddress | None = None
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class PersonName:
    """An NM1 of a person in 2100 (QC patient, IL insured)."""

    last_name: str | None
    first_name: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    id_qualifier: str | None = None
    identifier: str | None = None
    entity_type: str = "1"


@dataclass(frozen=True)
class Adjustment:
    """One adjustment of a CAS segment: group (CAS01), reason (CARC), amount, quantity.

    A CAS segment carries up to six reason/amount/quantity triplets of one group; they are
    flattened here, one `Adjustment` each, in the order sent.
    """

    group: str
    reason: str  # the CARC, carried as a code only ([domain] §3)
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class Procedure:
    """SVC01 / SVC06: qualifier (HC, NU, ...), code and up to four modifiers."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()
    description: str | None = None  # SVC06-07 only


@dataclass(frozen=True)
class ServicePayment:
    """2110: one adjudicated service line."""

    procedure: Procedure  # SVC01, as adjudicated
    billed: Decimal  # SVC02
    paid: Decimal  # SVC03
    revenue_code: str | None = None  # SVC04
    units_paid: Decimal | None = None  # SVC05
    submitted_procedure: Procedure | None = None  # SVC06, when it differs from SVC01
    submitted_units: Decimal | None = None  # SVC07
    service_date: dt.date | None = None  # DTM*472
    period_start: dt.date | None = None  # DTM*150
    period_end: dt.date | None = None  # DTM*151
    adjustments: tuple[Adjustment, ...] = ()
    line_control_number: str | None = None  # REF*6R, the 837's line item control number
    references: tuple[Reference, ...] = ()  # the other line REFs
    remark_codes: tuple[str, ...] = ()  # LQ*HE, RARCs as codes only

    @property
    def date(self) -> dt.date | None:
        return self.service_date or self.period_start


@dataclass(frozen=True)
class ClaimPayment:
    """2100: one adjudicated claim (CLP) with its claim-level adjustments and its lines."""

    patient_control_number: str  # CLP01, our CLM01
    status: str  # CLP02 [status]
    billed: Decimal  # CLP03
    paid: Decimal  # CLP04
    filing_indicator: str  # CLP06
    payer_claim_control_number: str  # CLP07
    patient: PersonName  # NM1*QC (required)
    patient_responsibility: Decimal | None = None  # CLP05
    facility_code: str | None = None  # CLP08
    frequency: str | None = None  # CLP09
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    insured: PersonName | None = None  # NM1*IL
    remark_codes: tuple[str, ...] = ()  # MOA03-07 / MIA05, MIA20-23: claim-level RARCs
    references: tuple[Reference, ...] = ()
    statement_from: dt.date | None = None  # DTM*232
    statement_to: dt.date | None = None  # DTM*233
    lines: tuple[ServicePayment, ...] = ()
    header_number: int = 1  # LX01 of the 2000 loop holding the claim


@dataclass(frozen=True)
class ProviderAdjustment:
    """One adjustment of a PLB segment (up to six per segment; flattened here)."""

    provider_identifier: str  # PLB01
    fiscal_period_date: dt.date  # PLB02
    reason: str  # PLB03-01 (adjustment reason code, e.g. WO, FB, L6), carried as a code
    amount: Decimal  # PLB04: positive reduces the payment, negative increases it [balance]
    reference: str | None = None  # PLB03-02


@dataclass(frozen=True)
class SkippedSegment:
    """A segment the parser read but does not carry (situational data, or not an 835 segment)."""

    number: int
    segment_id: str
    why: str


@dataclass(frozen=True)
class Remittance835:
    """One 835 transaction set (ST..SE) and its envelope."""

    envelope: EnvelopeIds
    payment: PaymentInfo
    trace: Trace
    payer: Payer
    payee: Payee
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    currency: str | None = None  # CUR02
    receiver_identifier: str | None = None  # REF*EV
    version_identifier: str | None = None  # REF*F2
    production_date: dt.date | None = None  # DTM*405
    not_carried: tuple[SkippedSegment, ...] = ()


# ---------------------------------------------------------------------------------------------
# Parsing


class RemittanceParseError(ValueError):
    """An 835 that cannot be read; the message names the segment by its position in the file."""

    def __init__(
        self, message: str, *, segment_number: int | None = None, segment_id: str | None = None
    ) -> None:
        where = ""
        if segment_number is not None:
            where = f"Segment {segment_number}" + (f" ({segment_id})" if segment_id else "") + ": "
        super().__init__(where + message)
        self.segment_number = segment_number
        self.segment_id = segment_id
        self.detail = message


_Fail = Callable[[str], RemittanceParseError]
_AMOUNT = re.compile(r"-?(\d+\.?\d*|\.\d+)")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_REMARK_ELEMENTS = {"MOA": (3, 4, 5, 6, 7), "MIA": (5, 20, 21, 22, 23)}
_CLAIM_NAMES = frozenset({"QC", "IL", "74", "82", "TT", "PR", "GB"})  # NM101 in 2100 [map]
# Every segment id of the 835 ([map]); anything else is not an 835 segment.
_KNOWN_835 = frozenset(
    {"ISA", "GS", "ST", "BPR", "TRN", "CUR", "REF", "DTM", "N1", "N3", "N4", "PER", "RDM", "LX"}
    | {"TS3", "TS2", "CLP", "CAS", "NM1", "MIA", "MOA", "AMT", "QTY", "SVC", "LQ", "PLB", "SE"}
    | {"GE", "IEA", "TA1"}
)


@dataclass(frozen=True)
class _Seg:
    number: int
    id: str
    elements: tuple[str, ...]  # elements[0] is the segment id
    component: str

    def error(self, message: str) -> RemittanceParseError:
        return RemittanceParseError(message, segment_number=self.number, segment_id=self.id)

    def name(self, n: int) -> str:
        return f"{self.id}{n:02d}"

    def get(self, n: int) -> str:
        return self.elements[n] if n < len(self.elements) else ""

    def opt(self, n: int) -> str | None:
        return self.get(n) or None

    def req(self, n: int, what: str) -> str:
        value = self.get(n)
        if not value:
            raise self.error(f"{self.name(n)} ({what}) is required.")
        return value

    def code(self, n: int, what: str, allowed: Iterable[str]) -> str:
        value = self.req(n, what)
        if value not in allowed:
            raise self.error(f"{self.name(n)} ({what}) {value!r} is not a code of {VERSION_835}.")
        return value

    def money(self, n: int, what: str) -> Decimal:
        return _money(self.req(n, what), lambda m: self.error(f"{self.name(n)} ({what}) {m}"))

    def opt_money(self, n: int, what: str) -> Decimal | None:
        return self.money(n, what) if self.get(n) else None

    def quantity(self, n: int, what: str) -> Decimal | None:
        value = self.get(n)
        if not value:
            return None
        if not _AMOUNT.fullmatch(value):
            raise self.error(f"{self.name(n)} ({what}) is not a number: {value!r}.")
        return Decimal(value)

    def date(self, n: int, what: str) -> dt.date:
        return _date(self.req(n, what), lambda m: self.error(f"{self.name(n)} ({what}) {m}"))

    def components(self, n: int) -> list[str]:
        return self.get(n).split(self.component)


def _money(text: str, fail: _Fail) -> Decimal:
    if not _AMOUNT.fullmatch(text):
        raise fail(f"is not an amount: {text!r}.")
    amount = Decimal(text)
    if amount != amount.quantize(CENT):
        raise fail(f"is not a whole number of cents: {text!r}.")
    return amount


def _date(text: str, fail: _Fail) -> dt.date:
    if not re.fullmatch(r"\d{8}", text):
        raise fail(f"is not a CCYYMMDD date: {text!r}.")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise fail(f"is not a calendar date: {text!r}.") from None


def _split(text: str) -> tuple[list[_Seg], Delimiters]:
    """Read the separators from the ISA and cut the text into numbered segments."""
    text = text.lstrip("\ufeff\r\n\t ")
    if not text.startswith("ISA") or len(text) < 106:
        raise RemittanceParseError(
            "The file does not start with an ISA segment.", segment_number=1, segment_id="ISA"
        )
    element = text[3]
    # ISA has 16 elements; ISA16 is the component separator, the next character ends the segment.
    position, count = -1, 0
    for index, char in enumerate(text):
        if char == element:
            count += 1
            if count == 16:
                position = index
                break
    if position < 0 or position + 2 >= len(text):
        raise RemittanceParseError(
            "The ISA segment is incomplete.", segment_number=1, segment_id="ISA"
        )
    component, terminator = text[position + 1], text[position + 2]
    isa_elements = text[:position].split(element)
    if len(isa_elements) != 16 or isa_elements[12] != "00501":
        raise RemittanceParseError(
            "Only 5010 interchanges (ISA12 00501) are read.", segment_number=1, segment_id="ISA"
        )
    repetition = isa_elements[11]
    try:
        delimiters = Delimiters(
            segment=terminator,
            element=element,
            component=component,
            repetition=repetition,
        )
    except ValueError as exc:
        raise RemittanceParseError(str(exc), segment_number=1, segment_id="ISA") from None
    segments: list[_Seg] = []
    for raw in text.split(terminator):
        piece = raw.strip("\r\n")
        if not piece.strip():
            continue
        number = len(segments) + 1
        parts = tuple(piece.split(element))
        seg_id = parts[0]
        if not _SEGMENT_ID.fullmatch(seg_id):
            raise RemittanceParseError(
                f"{piece[:20]!r} does not start with a segment id.", segment_number=number
            )
        segments.append(_Seg(number, seg_id, parts, component))
    return segments, delimiters


class _Cursor:
    def __init__(self, segments: list[_Seg]) -> None:
        self.segments = segments
        self.index = 0
        self.skipped: list[SkippedSegment] = []

    def peek(self) -> _Seg | None:
        return self.segments[self.index] if self.index < len(self.segments) else None

    def at(self, seg_id: str, qualifier: str | None = None) -> bool:
        seg = self.peek()
        return (
            seg is not None and seg.id == seg_id and (qualifier is None or seg.get(1) == qualifier)
        )

    def take(self, seg_id: str, what: str, qualifier: str | None = None) -> _Seg:
        seg = self.peek()
        if seg is None:
            last = self.segments[-1]
            raise RemittanceParseError(
                f"The file ends where the {what} ({seg_id}) is required.",
                segment_number=last.number + 1,
            )
        if not self.at(seg_id, qualifier):
            wanted = seg_id + (f"*{qualifier}" if qualifier else "")
            raise seg.error(f"The {what} ({wanted}) is required here.")
        self.index += 1
        return seg

    def skip(self, seg: _Seg, why: str) -> None:
        self.skipped.append(SkippedSegment(seg.number, seg.id, why))
        self.index += 1

    def unexpected(self, seg: _Seg, loop: str) -> RemittanceParseError:
        return seg.error(f"{seg.id} is not expected in the {loop}.")


def _skip_or_fail(cursor: _Cursor, seg: _Seg, loop: str, not_carried: frozenset[str]) -> None:
    """A segment of this loop that is not carried is listed; an unknown id is listed too; an 835
    segment that does not belong in this loop is an error."""
    if seg.id in not_carried:
        cursor.skip(seg, f"situational {seg.id} in the {loop}, not carried")
    elif seg.id not in _KNOWN_835:
        cursor.skip(seg, f"not an 835 segment ({loop})")
    else:
        raise cursor.unexpected(seg, loop)


def _address(cursor: _Cursor, required: bool, loop: str) -> PartyAddress | None:
    if not cursor.at("N3"):
        if required:
            cursor.take("N3", f"{loop} address")
        return None
    n3 = cursor.take("N3", "address")
    n4 = cursor.take("N4", f"{loop} city, state and ZIP code")
    return PartyAddress(
        line1=n3.req(1, "address line"),
        line2=n3.opt(2),
        city=n4.req(1, "city"),
        state=n4.opt(2),
        postal_code=n4.opt(3),
        country=n4.opt(4),
    )


def _contact(seg: _Seg) -> Contact:
    numbers: list[tuple[str, str]] = []
    for q in (3, 5, 7):
        qualifier, number = seg.get(q), seg.get(q + 1)
        if qualifier or number:
            if not (qualifier and number):
                raise seg.error(f"{seg.name(q)} and {seg.name(q + 1)} go together.")
            numbers.append((qualifier, number))
    return Contact(function=seg.get(1), name=seg.opt(2), numbers=tuple(numbers))


def _person(seg: _Seg) -> PersonName:
    return PersonName(
        last_name=seg.opt(3),
        first_name=seg.opt(4),
        middle_name=seg.opt(5),
        suffix=seg.opt(7),
        id_qualifier=seg.opt(8),
        identifier=seg.opt(9),
        entity_type=seg.req(2, "entity type"),
    )


def _adjustments(seg: _Seg) -> list[Adjustment]:
    group = seg.code(1, "claim adjustment group", GROUP_CODES)
    found: list[Adjustment] = []
    for start in (2, 5, 8, 11, 14, 17):
        reason, amount = seg.get(start), seg.get(start + 1)
        if not reason and not amount and not seg.get(start + 2):
            continue
        found.append(
            Adjustment(
                group=group,
                reason=seg.req(start, "adjustment reason code"),
                amount=seg.money(start + 1, "adjustment amount"),
                quantity=seg.quantity(start + 2, "adjustment quantity"),
            )
        )
    if not found:
        raise seg.error("CAS02 and CAS03 (reason and amount) are required.")
    return found


def _procedure(seg: _Seg, n: int, what: str) -> Procedure:
    parts = seg.components(n)
    qualifier = parts[0]
    if qualifier not in PRODUCT_QUALIFIERS:
        raise seg.error(f"{seg.name(n)}-01 ({what} qualifier) {qualifier!r} is not a code.")
    if len(parts) < 2 or not parts[1]:
        raise seg.error(f"{seg.name(n)}-02 ({what} code) is required.")
    modifiers = tuple(m for m in parts[2:6] if m)
    return Procedure(
        qualifier=qualifier,
        code=parts[1],
        modifiers=modifiers,
        description=parts[6] if len(parts) > 6 and parts[6] else None,
    )


def _service(cursor: _Cursor) -> ServicePayment:
    svc = cursor.take("SVC", "service payment information")
    procedure = _procedure(svc, 1, "procedure")
    submitted = _procedure(svc, 6, "submitted procedure") if svc.get(6) else None
    values: dict[str, dt.date | None] = {"472": None, "150": None, "151": None}
    adjustments: list[Adjustment] = []
    references: list[Reference] = []
    remarks: list[str] = []
    control: str | None = None
    while (seg := cursor.peek()) is not None and seg.id not in {"SVC", "CLP", "LX", "PLB", "SE"}:
        if seg.id == "DTM":
            qualifier = seg.code(1, "date qualifier", values)
            if values[qualifier] is not None:
                raise seg.error(f"DTM*{qualifier} is sent twice for one line.")
            values[qualifier] = seg.date(2, "service date")
            cursor.index += 1
        elif seg.id == "CAS":
            adjustments.extend(_adjustments(seg))
            cursor.index += 1
        elif seg.id == "REF":
            qualifier = seg.req(1, "reference qualifier")
            if qualifier == "6R":
                if control is not None:
                    raise seg.error("REF*6R (line item control number) is sent twice.")
                control = seg.req(2, "line item control number")
            else:
                references.append(Reference(qualifier, seg.req(2, "reference")))
            cursor.index += 1
        elif seg.id == "LQ":
            qualifier = seg.code(1, "code list qualifier", {"HE", "RX"})
            if qualifier == "HE":
                remarks.append(seg.req(2, "remark code"))
                cursor.index += 1
            else:
                cursor.skip(seg, "LQ*RX (NCPDP reject code), not carried")
        else:
            _skip_or_fail(cursor, seg, "service payment loop 2110", frozenset({"AMT", "QTY"}))
    return ServicePayment(
        procedure=procedure,
        billed=svc.money(2, "line charge"),
        paid=svc.money(3, "line payment"),
        revenue_code=svc.opt(4),
        units_paid=svc.quantity(5, "units paid"),
        submitted_procedure=submitted,
        submitted_units=svc.quantity(7, "original units"),
        service_date=values["472"],
        period_start=values["150"],
        period_end=values["151"],
        adjustments=tuple(adjustments),
        line_control_number=control,
        references=tuple(references),
        remark_codes=tuple(remarks),
    )


def _claim(cursor: _Cursor, header_number: int) -> ClaimPayment:
    clp = cursor.take("CLP", "claim payment information")
    adjustments: list[Adjustment] = []
    patient: PersonName | None = None
    insured: PersonName | None = None
    remarks: list[str] = []
    references: list[Reference] = []
    dates: dict[str, dt.date | None] = {"232": None, "233": None}
    while (seg := cursor.peek()) is not None and seg.id not in {"SVC", "CLP", "LX", "PLB", "SE"}:
        if seg.id == "CAS":
            adjustments.extend(_adjustments(seg))
            cursor.index += 1
        elif seg.id == "NM1" and seg.get(1) in {"QC", "IL"}:
            if (patient if seg.get(1) == "QC" else insured) is not None:
                raise seg.error(f"NM1*{seg.get(1)} is sent twice for one claim.")
            if seg.get(1) == "QC":
                patient = _person(seg)
            else:
                insured = _person(seg)
            cursor.index += 1
        elif seg.id in _REMARK_ELEMENTS:
            # Claim-level RARCs come in MOA (outpatient) or MIA (inpatient) [map]; the rates and
            # amounts beside them are not carried, and are listed when sent.
            remark_positions = _REMARK_ELEMENTS[seg.id]
            remarks.extend(seg.get(n) for n in remark_positions if seg.get(n))
            if any(seg.get(n) for n in range(1, len(seg.elements)) if n not in remark_positions):
                cursor.skip(seg, f"{seg.id} rates and amounts, not carried (remark codes are)")
            else:
                cursor.index += 1
        elif seg.id == "NM1" and seg.get(1) not in _CLAIM_NAMES:
            raise seg.error(f"NM1*{seg.get(1)} is not a name of the claim payment loop 2100.")
        elif seg.id == "DTM" and seg.get(1) not in {"232", "233", "036", "050"}:
            raise seg.error(f"DTM*{seg.get(1)} is not a date of the claim payment loop 2100.")
        elif seg.id == "REF":
            references.append(Reference(seg.req(1, "reference qualifier"), seg.req(2, "reference")))
            cursor.index += 1
        elif seg.id == "DTM" and seg.get(1) in dates:
            if dates[seg.get(1)] is not None:
                raise seg.error(f"DTM*{seg.get(1)} is sent twice for one claim.")
            dates[seg.get(1)] = seg.date(2, "statement date")
            cursor.index += 1
        else:
            _skip_or_fail(
                cursor,
                seg,
                "claim payment loop 2100",
                frozenset({"NM1", "DTM", "PER", "AMT", "QTY"}),
            )
    if patient is None:
        raise clp.error("The patient name (NM1*QC) is required in each claim (loop 2100).")
    lines: list[ServicePayment] = []
    while cursor.at("SVC"):
        lines.append(_service(cursor))
    return ClaimPayment(
        patient_control_number=clp.req(1, "patient control number"),
        status=clp.code(2, "claim status", CLAIM_STATUS_CODES),
        billed=clp.money(3, "total claim charge"),
        paid=clp.money(4, "claim payment"),
        patient_responsibility=clp.opt_money(5, "patient responsibility"),
        filing_indicator=clp.code(6, "claim filing indicator", CLAIM_FILING_CODES),
        payer_claim_control_number=clp.req(7, "payer claim control number"),
        facility_code=clp.opt(8),
        frequency=clp.opt(9),
        adjustments=tuple(adjustments),
        patient=patient,
        insured=insured,
        remark_codes=tuple(remarks),
        references=tuple(references),
        statement_from=dates["232"],
        statement_to=dates["233"],
        lines=tuple(lines),
        header_number=header_number,
    )


def _isa_envelope(isa: _Seg) -> tuple[str, str, str, str, int, str, bool]:
    if len(isa.elements) != 17:
        raise isa.error(f"The ISA has {len(isa.elements) - 1} elements; it needs 16.")
    if isa.get(12) != "00501":
        raise isa.error(f"ISA12 {isa.get(12)!r}: only version 00501 (5010) is read.")
    control = isa.get(13)
    if not re.fullmatch(r"\d{9}", control):
        raise isa.error(f"ISA13 (interchange control number) {control!r} is not 9 digits.")
    usage = isa.code(15, "usage indicator", {"P", "T"})
    ack = isa.code(14, "acknowledgment requested", {"0", "1"})
    return (
        isa.req(5, "sender qualifier"),
        isa.req(6, "sender id").strip(),
        isa.req(7, "receiver qualifier"),
        isa.req(8, "receiver id").strip(),
        int(control),
        usage,
        ack == "1",
    )


def _transaction(cursor: _Cursor, envelope: EnvelopeIds) -> Remittance835:
    st = cursor.take("ST", "transaction set header")
    st.code(1, "transaction set", {"835"})
    first_index = cursor.index - 1
    cursor.skipped = []
    bpr = cursor.take("BPR", "financial information")
    credit_debit = bpr.code(3, "credit or debit flag", {"C", "D"})
    payment = PaymentInfo(
        handling_code=bpr.code(1, "transaction handling code", HANDLING_CODES),
        amount=bpr.money(2, "total provider payment"),
        credit_debit="C" if credit_debit == "C" else "D",
        method=bpr.code(4, "payment method", PAYMENT_METHODS),
        date=bpr.date(16, "check issue or EFT effective date"),
        bank=BankDetails(*(bpr.opt(n) for n in range(5, 16))),
    )
    trn = cursor.take("TRN", "reassociation trace number")
    trn.code(1, "trace type", {"1"})
    trace = Trace(
        trace_number=trn.req(2, "check or EFT trace number"),
        payer_identifier=trn.req(3, "payer identifier"),
        originating_supplemental_code=trn.opt(4),
    )
    currency: str | None = None
    receiver: str | None = None
    version: str | None = None
    production: dt.date | None = None
    while (seg := cursor.peek()) is not None:
        if seg.id == "CUR":
            seg.code(1, "entity", {"PR"})
            currency = seg.req(2, "currency code")
        elif seg.id == "REF" and seg.get(1) == "EV":
            receiver = seg.req(2, "receiver identifier")
        elif seg.id == "REF" and seg.get(1) == "F2":
            version = seg.req(2, "version identification")
        elif seg.id == "DTM" and seg.get(1) == "405":
            production = seg.date(2, "production date")
        elif seg.id not in _KNOWN_835:
            cursor.skip(seg, "not an 835 segment (header)")
            continue
        else:
            break
        cursor.index += 1
    n1 = cursor.take("N1", "payer identification", "PR")
    payer_id: str | None = None
    if n1.get(3) or n1.get(4):
        n1.code(3, "payer id qualifier", {"XV"})
        payer_id = n1.req(4, "payer identifier")
    payer_address = _address(cursor, True, "payer")
    assert payer_address is not None
    payer_refs: list[Reference] = []
    contacts: list[Contact] = []
    while (seg := cursor.peek()) is not None:
        if seg.id == "REF":
            payer_refs.append(Reference(seg.req(1, "reference qualifier"), seg.req(2, "id")))
        elif seg.id == "PER":
            seg.code(1, "contact function", CONTACT_FUNCTIONS)
            contacts.append(_contact(seg))
        elif seg.id not in _KNOWN_835:
            cursor.skip(seg, "not an 835 segment (payer loop 1000A)")
            continue
        else:
            break
        cursor.index += 1
    if not any(c.function == "BL" for c in contacts):
        raise n1.error("The payer's technical contact (PER*BL) is required in loop 1000A.")
    payer = Payer(
        name=n1.req(2, "payer name"),
        identifier=payer_id,
        address=payer_address,
        contacts=tuple(contacts),
        references=tuple(payer_refs),
    )
    pe = cursor.take("N1", "payee identification", "PE")
    payee_address = _address(cursor, False, "payee")
    payee_refs: list[Reference] = []
    while (seg := cursor.peek()) is not None and seg.id not in {"LX", "PLB", "SE", "CLP"}:
        if seg.id == "REF":
            payee_refs.append(Reference(seg.req(1, "reference qualifier"), seg.req(2, "id")))
            cursor.index += 1
        else:
            _skip_or_fail(cursor, seg, "payee loop 1000B", frozenset({"RDM"}))
    payee = Payee(
        name=pe.req(2, "payee name"),
        id_qualifier=pe.code(3, "payee id qualifier", PAYEE_ID_QUALIFIERS),
        identifier=pe.req(4, "payee identifier"),
        address=payee_address,
        references=tuple(payee_refs),
    )
    claims: list[ClaimPayment] = []
    if cursor.at("CLP"):
        raise cursor.segments[cursor.index].error(
            "A claim (CLP) must follow a header number (LX, loop 2000)."
        )
    while cursor.at("LX"):
        lx = cursor.take("LX", "header number")
        number_text = lx.req(1, "assigned number")
        if not number_text.isdigit():
            raise lx.error(f"LX01 (assigned number) {number_text!r} is not a number.")
        while (seg := cursor.peek()) is not None and seg.id in {"TS3", "TS2"}:
            cursor.skip(seg, f"{seg.id} provider summary, not carried")
        cursor.take("CLP", "claim payment information (at least one per LX)")
        cursor.index -= 1
        while cursor.at("CLP"):
            claims.append(_claim(cursor, int(number_text)))
    adjustments: list[ProviderAdjustment] = []
    while cursor.at("PLB"):
        plb = cursor.take("PLB", "provider adjustment")
        provider = plb.req(1, "provider identifier")
        fiscal = plb.date(2, "fiscal period date")
        for n in (3, 5, 7, 9, 11, 13):
            if not plb.get(n) and not plb.get(n + 1):
                continue
            parts = plb.components(n)
            if not parts[0]:
                raise plb.error(f"{plb.name(n)}-01 (adjustment reason) is required.")
            adjustments.append(
                ProviderAdjustment(
                    provider_identifier=provider,
                    fiscal_period_date=fiscal,
                    reason=parts[0],
                    reference=parts[1] if len(parts) > 1 and parts[1] else None,
                    amount=plb.money(n + 1, "provider adjustment amount"),
                )
            )
    seg = cursor.peek()
    if seg is not None and seg.id != "SE":
        raise cursor.unexpected(seg, "835 after the claims")
    se = cursor.take("SE", "transaction set trailer")
    count = cursor.index - first_index
    if se.get(1) != str(count):
        raise se.error(f"SE01 says {se.get(1)!r} segments; the transaction set has {count}.")
    if se.get(2) != st.get(2):
        raise se.error(f"SE02 {se.get(2)!r} does not match ST02 {st.get(2)!r}.")
    return Remittance835(
        envelope=replace(
            envelope, transaction_set_control_number=st.req(2, "transaction set control number")
        ),
        payment=payment,
        trace=trace,
        payer=payer,
        payee=payee,
        claims=tuple(claims),
        provider_adjustments=tuple(adjustments),
        currency=currency,
        receiver_identifier=receiver,
        version_identifier=version,
        production_date=production,
        not_carried=tuple(cursor.skipped),
    )


def parse_835_all(text: str) -> tuple[Remittance835, ...]:
    """Every 835 transaction set of one interchange (ISA..IEA), in order."""
    segments, _delimiters = _split(text)
    cursor = _Cursor(segments)
    isa = cursor.take("ISA", "interchange control header")
    sq, sid, rq, rid, control, usage, ack = _isa_envelope(isa)
    remittances: list[Remittance835] = []
    groups = 0
    while cursor.at("GS"):
        gs = cursor.take("GS", "functional group header")
        gs.code(1, "functional identifier", {"HP"})
        if gs.get(8) != VERSION_835:
            raise gs.error(f"GS08 {gs.get(8)!r}: only {VERSION_835} (the 5010 835) is read.")
        gs.code(7, "responsible agency", {"X"})
        group_control = gs.req(6, "group control number")
        if not group_control.isdigit():
            raise gs.error(f"GS06 (group control number) {group_control!r} is not a number.")
        time = gs.req(5, "time")
        if not re.fullmatch(r"\d{4}(\d{2}(\d{1,2})?)?", time):
            raise gs.error(f"GS05 (time) {time!r} is not HHMM[SS[DD]].")
        envelope = EnvelopeIds(
            sender_qualifier=sq,
            sender_id=sid,
            receiver_qualifier=rq,
            receiver_id=rid,
            application_sender_code=gs.req(2, "application sender code"),
            application_receiver_code=gs.req(3, "application receiver code"),
            date=gs.date(4, "date"),
            time=time,
            interchange_control_number=control,
            group_control_number=int(group_control),
            transaction_set_control_number="",
            usage="P" if usage == "P" else "T",
            acknowledgment_requested=ack,
        )
        sets = 0
        while cursor.at("ST"):
            remittances.append(_transaction(cursor, envelope))
            sets += 1
        if sets == 0:
            cursor.take("ST", "transaction set header")
        ge = cursor.take("GE", "functional group trailer")
        if ge.get(1) != str(sets):
            raise ge.error(f"GE01 says {ge.get(1)!r} transaction sets; the group has {sets}.")
        if ge.get(2) != group_control:
            raise ge.error(f"GE02 {ge.get(2)!r} does not match GS06 {group_control!r}.")
        groups += 1
    if groups == 0:
        cursor.take("GS", "functional group header")
    iea = cursor.take("IEA", "interchange control trailer")
    if iea.get(1) != str(groups):
        raise iea.error(f"IEA01 says {iea.get(1)!r} groups; the interchange has {groups}.")
    if iea.get(2) != isa.get(13):
        raise iea.error(f"IEA02 {iea.get(2)!r} does not match ISA13 {isa.get(13)!r}.")
    extra = cursor.peek()
    if extra is not None:
        raise extra.error("Nothing may follow the IEA (one interchange per file).")
    return tuple(remittances)


def parse_835(text: str) -> Remittance835:
    """The one 835 transaction set of an interchange (`parse_835_all` reads several)."""
    remittances = parse_835_all(text)
    if len(remittances) != 1:
        raise RemittanceParseError(
            f"The interchange holds {len(remittances)} remittances; read it with parse_835_all."
        )
    return remittances[0]


# ---------------------------------------------------------------------------------------------
# Posting plan


@dataclass(frozen=True)
class IndexedLine:
    """One line of one of our claims, as the 837 sent it."""

    id: str
    code: str  # the HCPCS/CPT code (SV101-2 / SV202-2)
    service_date: dt.date
    billed: Decimal
    modifiers: tuple[str, ...] = ()
    line_control_number: str | None = None  # REF*6R sent on the 837 line, if any
    revenue_code: str | None = None  # SV201 on an 837I


@dataclass(frozen=True)
class IndexedClaim:
    """One of our claims: its key (e.g. the claim's id) and its lines."""

    key: str
    lines: tuple[IndexedLine, ...]


ClaimsIndex = Mapping[str, IndexedClaim]  # by patient control number (CLM01 = CLP01)


class PostingKind(enum.StrEnum):
    """What a posting does to the claim line's balance (chosen by the CAS group [groups])."""

    PAYMENT = "payment"
    CONTRACTUAL_WRITE_OFF = "contractual write-off"  # CO
    PATIENT_RESPONSIBILITY = "patient responsibility"  # PR: moves to the patient's balance
    PAYER_REDUCTION = "payer-initiated reduction"  # PI
    OTHER_ADJUSTMENT = "other adjustment"  # OA
    # A CO/PI/OA amount on a denied claim or line: it stays open on the line until the denial
    # worklist entry is worked (appeal, corrected claim, or a write-off someone decides).
    DENIAL = "denial"


class ClaimOutcome(enum.StrEnum):
    """The claim's adjudication in one word for the claim list.

    From CLP02 [status]: 4 denied, 22 reversed, 23 not our claim, 25 pricing only. For a
    processed claim (1, 2, 3, 19, 20, 21) this module sums up its lines: a line (or a claim sent
    without lines) is *denied* when the payer paid nothing on a charge, assigned none of it to
    the patient (PR) and adjusted it under CO, PI or OA; the claim is DENIED when every line is,
    PARTIALLY_PAID when some are, APPLIED_TO_PATIENT when nothing was paid and part is the
    patient's (PR), PAID otherwise. This summary is this module's, not the guide's.
    """

    PAID = "paid"
    PARTIALLY_PAID = "partially paid"
    DENIED = "denied"
    APPLIED_TO_PATIENT = "applied to the patient"
    REVERSED = "reversed"
    NOT_OUR_CLAIM = "not this payer's claim"
    PRICING_ONLY = "predetermination pricing only"


@dataclass(frozen=True)
class Posting:
    """One amount to post on one of our claims (line_id None: at claim level)."""

    claim_key: str
    line_id: str | None
    kind: PostingKind
    amount: Decimal
    group: str | None = None  # CAS01; None for a payment
    reason: str | None = None  # CARC
    remark_codes: tuple[str, ...] = ()  # RARCs of the line (LQ*HE) or the claim (MOA/MIA)


@dataclass(frozen=True)
class LineMatch:
    """Which of our lines an SVC went to (position: the SVC's 1-based place in the CLP)."""

    position: int
    line_id: str | None
    matched_by: str | None  # "line control number" or "code, modifiers, date and charge"
    reason: str | None = None  # why it matched nothing


@dataclass(frozen=True)
class DenialEntry:
    """A denial for the worklist, by payer and reason, with a next action in words."""

    payer_name: str
    payer_id: str
    claim_key: str
    patient_control_number: str
    payer_claim_control_number: str
    line_id: str | None
    status: str  # CLP02
    group: str | None  # CAS01; None when the payer gave no adjustment
    reason: str | None  # CARC
    remark_codes: tuple[str, ...]
    amount: Decimal
    next_action: str


@dataclass(frozen=True)
class UnmatchedItem:
    """A claim (line None) or a line of a matched claim that matched nothing: kept, not lost."""

    patient_control_number: str
    payer_claim_control_number: str
    amount_paid: Decimal
    reason: str
    claim: ClaimPayment
    line: ServicePayment | None = None
    claim_key: str | None = None  # set when only the line failed to match


@dataclass(frozen=True)
class Problem:
    """Something that does not add up; reported, never raised."""

    where: str
    message: str


class ReportStatus(enum.StrEnum):
    POSTED = "posted"
    NOT_POSTED = "could not post"
    PROBLEM = "problem"
    NOTE = "note"


@dataclass(frozen=True)
class ReportLine:
    status: ReportStatus
    text: str


@dataclass(frozen=True)
class ClaimPosting:
    """The plan for one CLP that matched one of our claims."""

    claim_key: str
    patient_control_number: str
    payer_claim_control_number: str
    status: str
    outcome: ClaimOutcome
    paid: Decimal
    patient_responsibility: Decimal  # the PR postings' sum
    forwarded_to_another_payer: bool  # CLP02 19/20/21 [status]
    lines: tuple[LineMatch, ...]
    postings: tuple[Posting, ...]


@dataclass(frozen=True)
class PostingPlan:
    """What importing one 835 would do; the service carries it out."""

    claims: tuple[ClaimPosting, ...]
    denials: tuple[DenialEntry, ...]
    unmatched: tuple[UnmatchedItem, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]
    problems: tuple[Problem, ...]
    report: tuple[ReportLine, ...]

    @property
    def postings(self) -> tuple[Posting, ...]:
        return tuple(p for claim in self.claims for p in claim.postings)

    @property
    def patient_transfers(self) -> tuple[Posting, ...]:
        """The PR amounts that move to the patients' balances."""
        return tuple(p for p in self.postings if p.kind is PostingKind.PATIENT_RESPONSIBILITY)

    @property
    def posted_payments(self) -> Decimal:
        return sum((p.amount for p in self.postings if p.kind is PostingKind.PAYMENT), ZERO)

    @property
    def unmatched_payments(self) -> Decimal:
        return sum((u.amount_paid for u in self.unmatched), ZERO)

    def denials_by_payer_and_reason(
        self,
    ) -> dict[tuple[str, str, str], tuple[DenialEntry, ...]]:
        """The worklist grouped by (payer id, CAS group, CARC); '' where the payer gave none."""
        grouped: dict[tuple[str, str, str], list[DenialEntry]] = {}
        for entry in self.denials:
            key = (entry.payer_id, entry.group or "", entry.reason or "")
            grouped.setdefault(key, []).append(entry)
        return {key: tuple(grouped[key]) for key in sorted(grouped)}


def dollars(amount: Decimal) -> str:
    """$1,234.50; -$20.00."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount).quantize(CENT):,}"


def next_action(group: str | None, status: str) -> str:
    """The worklist's next action, chosen by the CLP02 status and the CAS group only.

    The CARC is shown to the worker, never interpreted here ([domain] §3). Group meanings from
    [groups]: CO and PI are not the patient's to pay; PR is; OA when no other group applies.
    """
    if status == STATUS_NOT_OUR_CLAIM:
        return (
            "The payer says this is not its claim and forwarded it to another payer (claim "
            "status 23): check the patient's coverage and follow the claim with that payer."
        )
    if group == "CO":
        return (
            "Contractual obligation: the patient may not be billed for it. Read the reason and "
            "remark codes, then send a corrected claim or appeal to the payer; write it off "
            "only if neither applies."
        )
    if group == "PI":
        return (
            "Payer-initiated reduction, not the patient's to pay: read the reason and remark "
            "codes, then send a corrected claim or appeal to the payer."
        )
    if group == "OA":
        return (
            "Other adjustment: read the reason and remark codes and settle it with the payer; "
            "do not bill the patient for it."
        )
    if group == "PR":
        return (
            "The payer assigns this amount to the patient: check the patient's coverage and "
            "eligibility for the date, then bill the patient or the next payer."
        )
    return "Denied without an adjustment reason: ask the payer why, then correct or appeal."


def _kind(group: str, denied: bool) -> PostingKind:
    if group == "PR":
        return PostingKind.PATIENT_RESPONSIBILITY
    if denied:
        return PostingKind.DENIAL
    return {
        "CO": PostingKind.CONTRACTUAL_WRITE_OFF,
        "PI": PostingKind.PAYER_REDUCTION,
    }.get(group, PostingKind.OTHER_ADJUSTMENT)


def _unit_denied(billed: Decimal, paid: Decimal, adjustments: Sequence[Adjustment]) -> bool:
    """A charge the payer paid nothing on, assigned nothing of to the patient (no PR), and
    adjusted under CO, PI or OA. A charge whose allowed amount all went to the patient (a
    deductible beside a contractual write-off) is not a denial: the PR group says who pays."""
    return (
        billed != 0
        and paid == 0
        and not any(a.group == "PR" and a.amount != 0 for a in adjustments)
        and any(a.group != "PR" and a.amount != 0 for a in adjustments)
    )


def _outcome(claim: ClaimPayment) -> ClaimOutcome:
    if claim.status == STATUS_REVERSAL:
        return ClaimOutcome.REVERSED
    if claim.status == STATUS_PRICING_ONLY:
        return ClaimOutcome.PRICING_ONLY
    if claim.status == STATUS_DENIED:
        return ClaimOutcome.DENIED
    if claim.status == STATUS_NOT_OUR_CLAIM:
        return ClaimOutcome.NOT_OUR_CLAIM
    units: list[tuple[Decimal, Decimal, Sequence[Adjustment]]]
    if claim.lines:
        units = [(line.billed, line.paid, line.adjustments) for line in claim.lines]
    else:
        units = [(claim.billed, claim.paid, claim.adjustments)]
    denied = sum(1 for unit in units if _unit_denied(*unit))
    if denied == len(units):
        return ClaimOutcome.DENIED
    if denied:
        return ClaimOutcome.PARTIALLY_PAID
    if claim.paid == 0 and _pr_total(claim) > 0:
        return ClaimOutcome.APPLIED_TO_PATIENT
    return ClaimOutcome.PAID


def _all_adjustments(claim: ClaimPayment) -> list[Adjustment]:
    return [*claim.adjustments, *(a for line in claim.lines for a in line.adjustments)]


def _pr_total(claim: ClaimPayment) -> Decimal:
    return sum((a.amount for a in _all_adjustments(claim) if a.group == "PR"), ZERO)


def _procedure_text(procedure: Procedure) -> str:
    return ":".join((procedure.code, *procedure.modifiers))


def _svc_text(line: ServicePayment) -> str:
    date = line.date.isoformat() if line.date else "no date"
    return f"{_procedure_text(line.procedure)}, {date}, billed {dollars(line.billed)}"


def _balance_problems(claim: ClaimPayment, label: str) -> list[Problem]:
    """[balance] line and claim balancing; [clp05] CLP05 against the PR adjustments."""
    problems: list[Problem] = []
    for position, line in enumerate(claim.lines, start=1):
        rest = line.billed - line.paid - sum((a.amount for a in line.adjustments), ZERO)
        if rest != 0:
            problems.append(
                Problem(
                    f"{label}, remittance line {position}",
                    f"does not balance: billed {dollars(line.billed)} less paid "
                    f"{dollars(line.paid)} less adjustments leaves {dollars(rest)}.",
                )
            )
    rest = claim.billed - claim.paid - sum((a.amount for a in _all_adjustments(claim)), ZERO)
    if rest != 0:
        problems.append(
            Problem(
                label,
                f"does not balance: billed {dollars(claim.billed)} less paid "
                f"{dollars(claim.paid)} less every adjustment leaves {dollars(rest)}.",
            )
        )
    if claim.status != STATUS_REVERSAL:
        stated = claim.patient_responsibility or ZERO
        if stated != _pr_total(claim):
            problems.append(
                Problem(
                    label,
                    f"states patient responsibility {dollars(stated)} (CLP05) but its PR "
                    f"adjustments total {dollars(_pr_total(claim))}.",
                )
            )
    return problems


def _line_matches(
    line: ServicePayment,
    candidate: IndexedLine,
    claim: ClaimPayment,
) -> bool:
    procedure = line.submitted_procedure or line.procedure
    if procedure.qualifier == "NU":
        if candidate.revenue_code is None or candidate.revenue_code != procedure.code:
            return False
    elif procedure.code != candidate.code or procedure.modifiers != candidate.modifiers:
        return False
    if line.revenue_code and candidate.revenue_code and line.revenue_code != candidate.revenue_code:
        return False
    date = line.date
    if date is None and claim.statement_from and claim.statement_from == claim.statement_to:
        date = claim.statement_from
    if date is not None and date != candidate.service_date:
        return False
    return abs(line.billed) == candidate.billed


class _PlanBuilder:
    def __init__(self, remit: Remittance835) -> None:
        self.remit = remit
        self.payer_id = remit.payer.identifier or remit.trace.payer_identifier
        self.claims: list[ClaimPosting] = []
        self.denials: list[DenialEntry] = []
        self.unmatched: list[UnmatchedItem] = []
        self.problems: list[Problem] = []
        self.report: list[ReportLine] = []

    def say(self, status: ReportStatus, text: str) -> None:
        self.report.append(ReportLine(status, text))

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))
        self.say(ReportStatus.PROBLEM, f"{where} {message}")

    def claim(self, claim: ClaimPayment, claims_index: ClaimsIndex) -> None:
        label = (
            f"Claim {claim.patient_control_number} (payer claim {claim.payer_claim_control_number})"
        )
        indexed = claims_index.get(claim.patient_control_number)
        if indexed is None:
            reason = f"no claim has patient control number {claim.patient_control_number}"
            self.unmatched.append(
                UnmatchedItem(
                    patient_control_number=claim.patient_control_number,
                    payer_claim_control_number=claim.payer_claim_control_number,
                    amount_paid=claim.paid,
                    reason=reason,
                    claim=claim,
                )
            )
            self.say(
                ReportStatus.NOT_POSTED,
                f"Could not match claim {claim.patient_control_number} (payer claim "
                f"{claim.payer_claim_control_number}), paid {dollars(claim.paid)}: {reason}. "
                "It waits in the unmatched queue with its lines and adjustments.",
            )
            for problem in _balance_problems(claim, label):
                self.problem(problem.where, problem.message)
            return
        self.matched_claim(claim, indexed, label)

    def matched_claim(self, claim: ClaimPayment, indexed: IndexedClaim, label: str) -> None:
        outcome = _outcome(claim)
        of_claim = f"of claim {indexed.key} ({claim.patient_control_number})"
        postings: list[Posting] = []
        matches: list[LineMatch] = []
        if claim.status == STATUS_PRICING_ONLY:
            self.say(
                ReportStatus.NOTE,
                f"{label} is a predetermination (claim status 25): priced only, nothing posted.",
            )
            self.claims.append(
                ClaimPosting(
                    claim_key=indexed.key,
                    patient_control_number=claim.patient_control_number,
                    payer_claim_control_number=claim.payer_claim_control_number,
                    status=claim.status,
                    outcome=outcome,
                    paid=claim.paid,
                    patient_responsibility=ZERO,
                    forwarded_to_another_payer=False,
                    lines=(),
                    postings=(),
                )
            )
            return
        whole_claim_denied = claim.status in {STATUS_DENIED, STATUS_NOT_OUR_CLAIM}
        reversal = claim.status == STATUS_REVERSAL
        line_total = sum((line.billed for line in indexed.lines), ZERO)
        if abs(claim.billed) != line_total:
            self.problem(
                label,
                f"bills {dollars(abs(claim.billed))} on the remittance; our claim "
                f"{indexed.key} totals {dollars(line_total)}.",
            )
        used: set[str] = set()
        position_of = {line.id: n for n, line in enumerate(indexed.lines, start=1)}
        for position, line in enumerate(claim.lines, start=1):
            match, how, why = self.match_line(line, indexed, used, claim, label, position)
            matches.append(LineMatch(position, match.id if match else None, how, why))
            if match is None:
                reason = why or "no line matches"
                self.unmatched.append(
                    UnmatchedItem(
                        patient_control_number=claim.patient_control_number,
                        payer_claim_control_number=claim.payer_claim_control_number,
                        amount_paid=line.paid,
                        reason=reason,
                        claim=claim,
                        line=line,
                        claim_key=indexed.key,
                    )
                )
                self.say(
                    ReportStatus.NOT_POSTED,
                    f"Could not match remittance line {position} ({_svc_text(line)}) "
                    f"{of_claim}: {reason}. Its payment {dollars(line.paid)} and adjustments "
                    "wait in the unmatched queue.",
                )
                continue
            used.add(match.id)
            code = ":".join((match.code, *match.modifiers))
            place = (
                f"line {position_of[match.id]} ({code}, {match.service_date}) "
                f"of claim {indexed.key} ({claim.patient_control_number})"
            )
            denied = not reversal and (
                whole_claim_denied or _unit_denied(line.billed, line.paid, line.adjustments)
            )
            postings.extend(
                self.post(
                    claim,
                    indexed.key,
                    match.id,
                    place,
                    line.paid,
                    line.adjustments,
                    line.remark_codes,
                    denied,
                    whole_claim_denied,
                )
            )
        if claim.lines:
            difference = claim.paid - sum((line.paid for line in claim.lines), ZERO)
        else:
            difference = claim.paid
        unit_denied = not reversal and (
            whole_claim_denied
            or (not claim.lines and _unit_denied(claim.billed, claim.paid, claim.adjustments))
        )
        postings.extend(
            self.post(
                claim,
                indexed.key,
                None,
                f"claim {indexed.key} ({claim.patient_control_number}) at claim level",
                difference,
                claim.adjustments,
                claim.remark_codes,
                unit_denied,
                whole_claim_denied,
            )
        )
        if whole_claim_denied and not _all_adjustments(claim):
            self.worklist(
                claim, indexed.key, None, None, None, claim.remark_codes, claim.billed - claim.paid
            )
        forwarded = claim.status in STATUS_FORWARDED
        pr = sum((p.amount for p in postings if p.kind is PostingKind.PATIENT_RESPONSIBILITY), ZERO)
        if forwarded:
            self.say(
                ReportStatus.NOTE,
                f"{label} was forwarded to another payer (claim status {claim.status}): the "
                f"patient's share {dollars(pr)} may be paid by that payer.",
            )
        self.say(ReportStatus.NOTE, f"{label}: {outcome.value}.")
        self.claims.append(
            ClaimPosting(
                claim_key=indexed.key,
                patient_control_number=claim.patient_control_number,
                payer_claim_control_number=claim.payer_claim_control_number,
                status=claim.status,
                outcome=outcome,
                paid=claim.paid,
                patient_responsibility=pr,
                forwarded_to_another_payer=forwarded,
                lines=tuple(matches),
                postings=tuple(postings),
            )
        )
        for problem in _balance_problems(claim, label):
            self.problem(problem.where, problem.message)

    def match_line(
        self,
        line: ServicePayment,
        indexed: IndexedClaim,
        used: set[str],
        claim: ClaimPayment,
        label: str,
        position: int,
    ) -> tuple[IndexedLine | None, str | None, str | None]:
        if line.line_control_number:
            by_control = [
                c for c in indexed.lines if c.line_control_number == line.line_control_number
            ]
            free = [c for c in by_control if c.id not in used]
            if free:
                found = free[0]
                if abs(line.billed) != found.billed:
                    self.problem(
                        f"{label}, remittance line {position}",
                        f"bills {dollars(abs(line.billed))}; our line with control number "
                        f"{line.line_control_number} bills {dollars(found.billed)}.",
                    )
                return found, "line control number", None
        for candidate in indexed.lines:
            if candidate.id not in used and _line_matches(line, candidate, claim):
                return candidate, "code, modifiers, date and charge", None
        if line.line_control_number:
            why = (
                f"no open line has line control number {line.line_control_number}, "
                "nor the same code, modifiers, date and charge"
            )
        else:
            why = "no open line has the same code, modifiers, date and charge"
        return None, None, why

    def post(
        self,
        claim: ClaimPayment,
        claim_key: str,
        line_id: str | None,
        place: str,
        paid: Decimal,
        adjustments: Sequence[Adjustment],
        remarks: tuple[str, ...],
        denied: bool,
        whole_claim_denied: bool,
    ) -> list[Posting]:
        postings: list[Posting] = []
        if paid != 0:
            postings.append(Posting(claim_key, line_id, PostingKind.PAYMENT, paid))
            if claim.status == STATUS_REVERSAL and paid < 0:
                text = f"Reversed {dollars(-paid)} payment on {place}."
            elif line_id is None and claim.lines:
                text = (
                    f"Posted {dollars(paid)} payment to {place}: the claim payment less the "
                    "line payments."
                )
            else:
                text = f"Posted {dollars(paid)} payment to {place}."
            self.say(ReportStatus.POSTED, text)
        for adjustment in adjustments:
            if adjustment.amount == 0:
                continue
            kind = _kind(adjustment.group, denied)
            postings.append(
                Posting(
                    claim_key,
                    line_id,
                    kind,
                    adjustment.amount,
                    adjustment.group,
                    adjustment.reason,
                    remarks,
                )
            )
            code = f"{adjustment.group}-{adjustment.reason}"
            amount = dollars(adjustment.amount)
            if adjustment.amount < 0:
                self.say(
                    ReportStatus.POSTED,
                    f"Reversed the {kind.value} of {dollars(-adjustment.amount)} ({code}) on "
                    f"{place}.",
                )
                continue
            texts = {
                PostingKind.PATIENT_RESPONSIBILITY: f"Moved {amount} ({code}) to the patient's "
                f"balance from {place}.",
                PostingKind.CONTRACTUAL_WRITE_OFF: f"Wrote off {amount} ({code}) on {place}.",
                PostingKind.PAYER_REDUCTION: f"Posted a payer reduction of {amount} ({code}) "
                f"on {place}.",
                PostingKind.OTHER_ADJUSTMENT: f"Posted an other adjustment of {amount} "
                f"({code}) on {place}.",
                PostingKind.DENIAL: f"Denied {amount} ({code}) on {place}: left open and put "
                "on the denial worklist.",
            }
            self.say(ReportStatus.POSTED, texts[kind])
            if kind is PostingKind.DENIAL or (whole_claim_denied and adjustment.group == "PR"):
                self.worklist(
                    claim,
                    claim_key,
                    line_id,
                    adjustment.group,
                    adjustment.reason,
                    remarks,
                    adjustment.amount,
                )
        return postings

    def worklist(
        self,
        claim: ClaimPayment,
        claim_key: str,
        line_id: str | None,
        group: str | None,
        reason: str | None,
        remarks: tuple[str, ...],
        amount: Decimal,
    ) -> None:
        self.denials.append(
            DenialEntry(
                payer_name=self.remit.payer.name,
                payer_id=self.payer_id,
                claim_key=claim_key,
                patient_control_number=claim.patient_control_number,
                payer_claim_control_number=claim.payer_claim_control_number,
                line_id=line_id,
                status=claim.status,
                group=group,
                reason=reason,
                remark_codes=remarks,
                amount=amount,
                next_action=next_action(group, claim.status),
            )
        )

    def provider_adjustments(self) -> None:
        for adj in self.remit.provider_adjustments:
            effect = "reduces" if adj.amount > 0 else "increases"
            ref = f" {adj.reference}" if adj.reference else ""
            self.say(
                ReportStatus.NOTE,
                f"Provider-level adjustment {adj.reason}{ref} of {dollars(adj.amount)} "
                f"({effect} the payment): belongs to no claim line; book it at provider level.",
            )

    def transaction_balance(self) -> None:
        """[balance] sum of CLP04 less the PLB amounts equals BPR02."""
        claims = sum((c.paid for c in self.remit.claims), ZERO)
        plb = sum((a.amount for a in self.remit.provider_adjustments), ZERO)
        if claims - plb != self.remit.payment.amount:
            self.problem(
                f"Remittance {self.remit.trace.trace_number}",
                f"does not balance: the claims pay {dollars(claims)}, less provider-level "
                f"adjustments {dollars(plb)}, but BPR02 says {dollars(self.remit.payment.amount)}.",
            )


def match_remittance(remit: Remittance835, claims_index: ClaimsIndex) -> PostingPlan:
    """Plan the posting of one remittance against our claims (`claims_index` by CLM01).

    Each CLP is matched by its patient control number; each SVC to one open line of that claim
    by its REF*6R line item control number, else by procedure (SVC06 when the payer changed it,
    else SVC01; the revenue code for NU), modifiers, date (DTM*472/150, or the claim's single
    statement date) and charge. What matches nothing goes to the unmatched queue with its money.

    Postings: the line payment (SVC03; without lines, CLP04), and one posting per CAS amount,
    its kind chosen by the group ([groups]): CO a contractual write-off, PR moved to the
    patient's balance, PI a payer-initiated reduction, OA another adjustment. On a denied claim
    (CLP02 4 or 23) or a denied line (see `ClaimOutcome`) the CO/PI/OA amounts are posted as
    DENIAL, left open, and each goes on the denial worklist with a next action chosen by group
    and status (`next_action`); PR amounts of a denied claim go on the worklist too. A reversal
    (CLP02 22) posts its negated amounts, undoing the earlier posting [reversal]. When the claim
    payment differs from the sum of its line payments (claim-level adjustments), the difference
    is posted at claim level so the payments posted add up to CLP04.

    Imbalances ([balance], [clp05]) are reported as problems, never raised.
    """
    builder = _PlanBuilder(remit)
    for claim in remit.claims:
        builder.claim(claim, claims_index)
    builder.provider_adjustments()
    builder.transaction_balance()
    return PostingPlan(
        claims=tuple(builder.claims),
        denials=tuple(builder.denials),
        unmatched=tuple(builder.unmatched),
        provider_adjustments=remit.provider_adjustments,
        problems=tuple(builder.problems),
        report=tuple(builder.report),
    )


# ---------------------------------------------------------------------------------------------
# Writing


def _r(value: Decimal) -> str:
    """An X12 R value without trailing zeros: 80, 80.5, -12.25."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def _d8(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


class _Writer:
    def __init__(self, delimiters: Delimiters) -> None:
        self.d = delimiters
        self.segments: list[str] = []

    def check(self, value: str) -> str:
        for char in (self.d.segment, self.d.element, self.d.component, self.d.repetition):
            if char in value:
                raise ValueError(f"{value!r} contains the X12 delimiter {char!r}.")
        return value

    def comp(self, *parts: str | None) -> str:
        values = [self.check(p) if p else "" for p in parts]
        while values and values[-1] == "":
            values.pop()
        return self.d.component.join(values)

    def add(self, *elements: str | None, composite: Sequence[int] = ()) -> None:
        values: list[str] = []
        for index, element in enumerate(elements):
            if element is None:
                values.append("")
            elif index in composite:
                values.append(element)  # already checked and joined by comp()
            else:
                values.append(self.check(element))
        while len(values) > 1 and values[-1] == "":
            values.pop()
        self.segments.append(self.d.element.join(values))


def _cas(out: _Writer, adjustments: Sequence[Adjustment]) -> None:
    """Consecutive adjustments of one group share a CAS, six at most ([map] CAS02..CAS19)."""
    chunks: list[list[Adjustment]] = []
    for adjustment in adjustments:
        if adjustment.group not in GROUP_CODES:
            raise ValueError(f"{adjustment.group!r} is not a claim adjustment group code.")
        if chunks and chunks[-1][0].group == adjustment.group and len(chunks[-1]) < 6:
            chunks[-1].append(adjustment)
        else:
            chunks.append([adjustment])
    for chunk in chunks:
        elements: list[str | None] = ["CAS", chunk[0].group]
        for a in chunk:
            quantity = _r(a.quantity) if a.quantity is not None else None
            elements.extend([a.reason, _r(a.amount), quantity])
        out.add(*elements)


def _person_nm1(out: _Writer, code: str, person: PersonName) -> None:
    out.add(
        "NM1",
        code,
        person.entity_type,
        person.last_name,
        person.first_name,
        person.middle_name,
        None,
        person.suffix,
        person.id_qualifier,
        person.identifier,
    )


def _party_address(out: _Writer, address: PartyAddress) -> None:
    out.add("N3", address.line1, address.line2)
    out.add("N4", address.city, address.state, address.postal_code, address.country)


def _money_out(value: Decimal, what: str) -> Decimal:
    if not isinstance(value, Decimal) or value != value.quantize(CENT):
        raise ValueError(f"{what} must be a Decimal of whole cents (got {value!r}).")
    return value


def _check_remittance(remit: Remittance835) -> None:
    if remit.payment.handling_code not in HANDLING_CODES:
        raise ValueError(f"BPR01 {remit.payment.handling_code!r} is not a handling code.")
    if remit.payment.method not in PAYMENT_METHODS:
        raise ValueError(f"BPR04 {remit.payment.method!r} is not a payment method.")
    _money_out(remit.payment.amount, "The payment amount")
    if not any(c.function == "BL" for c in remit.payer.contacts):
        raise ValueError("The payer needs a technical contact (PER*BL) [map] 1000A.")
    if any(c.function not in CONTACT_FUNCTIONS for c in remit.payer.contacts):
        raise ValueError("Payer contacts are CX, BL or IC.")
    if remit.payee.id_qualifier not in PAYEE_ID_QUALIFIERS:
        raise ValueError(f"N103 {remit.payee.id_qualifier!r} is not a payee id qualifier.")
    env = remit.envelope
    if len(env.sender_id) > 15 or len(env.receiver_id) > 15:
        raise ValueError("ISA06 and ISA08 hold at most 15 characters.")
    if not 1 <= env.interchange_control_number <= 999_999_999:
        raise ValueError("The interchange control number has at most 9 digits.")
    if not re.fullmatch(r"\d{4}(\d{2}(\d{1,2})?)?", env.time):
        raise ValueError(f"GS05 {env.time!r} is not HHMM[SS[DD]].")
    if not 4 <= len(env.transaction_set_control_number) <= 9:
        raise ValueError("ST02 holds 4 to 9 characters.")
    last_lx = 0
    for claim in remit.claims:
        if claim.status not in CLAIM_STATUS_CODES:
            raise ValueError(f"CLP02 {claim.status!r} is not a claim status code.")
        if claim.filing_indicator not in CLAIM_FILING_CODES:
            raise ValueError(f"CLP06 {claim.filing_indicator!r} is not a 835 filing code.")
        if claim.header_number < last_lx:
            raise ValueError("Claims must be in the order of their LX header numbers.")
        last_lx = claim.header_number
        for amount in (claim.billed, claim.paid, claim.patient_responsibility):
            if amount is not None:
                _money_out(amount, f"An amount of claim {claim.patient_control_number}")
        for line in claim.lines:
            for amount in (line.billed, line.paid, *(a.amount for a in line.adjustments)):
                _money_out(amount, f"A line amount of claim {claim.patient_control_number}")
            for procedure in filter(None, (line.procedure, line.submitted_procedure)):
                if procedure.qualifier not in PRODUCT_QUALIFIERS or len(procedure.modifiers) > 4:
                    raise ValueError(f"The procedure {procedure!r} cannot be sent in SVC.")


def write_835(remit: Remittance835, *, delimiters: Delimiters | None = None) -> str:
    """The 835 (005010X221A1) interchange text of one remittance, ISA … IEA.

    Writes what the dataclasses carry, in [map] order; `not_carried` is not written. The
    control numbers, dates and amounts are the caller's: the writer checks codes and delimiters,
    not the money's balance (tests write unbalanced files on purpose).
    """
    d = delimiters or Delimiters()
    _check_remittance(remit)
    out = _Writer(d)
    env = remit.envelope
    pay = remit.payment
    out.add(
        "BPR",
        pay.handling_code,
        _r(pay.amount),
        pay.credit_debit,
        pay.method,
        *pay.bank.elements(),
        _d8(pay.date),
    )
    trace = remit.trace
    out.add(
        "TRN", "1", trace.trace_number, trace.payer_identifier, trace.originating_supplemental_code
    )
    if remit.currency:
        out.add("CUR", "PR", remit.currency)
    if remit.receiver_identifier:
        out.add("REF", "EV", remit.receiver_identifier)
    if remit.version_identifier:
        out.add("REF", "F2", remit.version_identifier)
    if remit.production_date:
        out.add("DTM", "405", _d8(remit.production_date))
    payer = remit.payer
    out.add("N1", "PR", payer.name, "XV" if payer.identifier else None, payer.identifier)
    _party_address(out, payer.address)
    for ref in payer.references:
        out.add("REF", ref.qualifier, ref.value)
    for contact in payer.contacts:
        numbers = [x for pair in contact.numbers for x in pair]
        out.add("PER", contact.function, contact.name, *numbers)
    payee = remit.payee
    out.add("N1", "PE", payee.name, payee.id_qualifier, payee.identifier)
    if payee.address:
        _party_address(out, payee.address)
    for ref in payee.references:
        out.add("REF", ref.qualifier, ref.value)
    current_lx: int | None = None
    for claim in remit.claims:
        if claim.header_number != current_lx:
            current_lx = claim.header_number
            out.add("LX", str(current_lx))
        out.add(
            "CLP",
            claim.patient_control_number,
            claim.status,
            _r(claim.billed),
            _r(claim.paid),
            _r(claim.patient_responsibility) if claim.patient_responsibility is not None else None,
            claim.filing_indicator,
            claim.payer_claim_control_number,
            claim.facility_code,
            claim.frequency,
        )
        _cas(out, claim.adjustments)
        _person_nm1(out, "QC", claim.patient)
        if claim.insured:
            _person_nm1(out, "IL", claim.insured)
        if claim.remark_codes:
            if len(claim.remark_codes) > 5:
                raise ValueError("MOA carries at most five claim remark codes.")
            out.add("MOA", None, None, *claim.remark_codes)
        for ref in claim.references:
            out.add("REF", ref.qualifier, ref.value)
        if claim.statement_from:
            out.add("DTM", "232", _d8(claim.statement_from))
        if claim.statement_to:
            out.add("DTM", "233", _d8(claim.statement_to))
        for line in claim.lines:
            _write_line(out, line)
    for (provider, fiscal), items in _plb_groups(remit.provider_adjustments):
        elements: list[str | None] = ["PLB", provider, _d8(fiscal)]
        for item in items:
            elements.extend([out.comp(item.reason, item.reference), _r(item.amount)])
        out.add(*elements, composite=range(3, len(elements), 2))
    body = out.segments
    st02 = env.transaction_set_control_number
    transaction = [d.element.join(["ST", "835", st02]), *body]
    transaction.append(d.element.join(["SE", str(len(transaction) + 1), st02]))
    control = f"{env.interchange_control_number:09d}"
    isa = d.element.join(
        [
            "ISA", "00", " " * 10, "00", " " * 10,
            env.sender_qualifier, out.check(env.sender_id).ljust(15),
            env.receiver_qualifier, out.check(env.receiver_id).ljust(15),
            env.date.strftime("%y%m%d"), env.time[:4], d.repetition, "00501", control,
            "1" if env.acknowledgment_requested else "0", env.usage, d.component,
        ]
    )  # fmt: skip
    gs = d.element.join(
        [
            "GS", "HP", out.check(env.application_sender_code),
            out.check(env.application_receiver_code), _d8(env.date), env.time,
            str(env.group_control_number), "X", VERSION_835,
        ]
    )  # fmt: skip
    segments = [
        isa,
        gs,
        *transaction,
        d.element.join(["GE", "1", str(env.group_control_number)]),
        d.element.join(["IEA", "1", control]),
    ]
    return d.segment.join(segments) + d.segment


def _write_line(out: _Writer, line: ServicePayment) -> None:
    def procedure(p: Procedure | None) -> str | None:
        if p is None:
            return None
        mods = list(p.modifiers) + [""] * (4 - len(p.modifiers))
        return out.comp(p.qualifier, p.code, *mods, p.description)

    out.add(
        "SVC",
        procedure(line.procedure),
        _r(line.billed),
        _r(line.paid),
        line.revenue_code,
        _r(line.units_paid) if line.units_paid is not None else None,
        procedure(line.submitted_procedure),
        _r(line.submitted_units) if line.submitted_units is not None else None,
        composite=(1, 6),
    )
    for qualifier, date in (("472", line.service_date), ("150", line.period_start),
                            ("151", line.period_end)):  # fmt: skip
        if date is not None:
            out.add("DTM", qualifier, _d8(date))
    _cas(out, line.adjustments)
    for ref in line.references:
        out.add("REF", ref.qualifier, ref.value)
    if line.line_control_number:
        out.add("REF", "6R", line.line_control_number)
    for code in line.remark_codes:
        out.add("LQ", "HE", code)


def _plb_groups(
    adjustments: Sequence[ProviderAdjustment],
) -> list[tuple[tuple[str, dt.date], list[ProviderAdjustment]]]:
    """Consecutive adjustments of one provider and fiscal date share a PLB, six at most."""
    groups: list[tuple[tuple[str, dt.date], list[ProviderAdjustment]]] = []
    for adj in adjustments:
        _money_out(adj.amount, "A provider adjustment amount")
        key = (adj.provider_identifier, adj.fiscal_period_date)
        if groups and groups[-1][0] == key and len(groups[-1][1]) < 6:
            groups[-1][1].append(adj)
        else:
            groups.append((key, [adj]))
    return groups
