"""A pure X12 5010 writer for 837I (005010X223A2) and 837P (005010X222A1) claim interchanges.

Input is a tree of frozen dataclasses (`Interchange` → `InstitutionalClaim` / `ProfessionalClaim`
→ lines); output is the interchange text, ISA … IEA. Nothing here reads the clock or a counter:
the creation date-time and the interchange, group and transaction-set control numbers are
arguments (`Envelope`). No Django, no I/O. Money is `Decimal`.

Delimiters: segment ``~``, element ``*``, component ``:``, repetition ``^`` (ISA11, 5010).
Text that contains one of them is refused rather than escaped (X12 has no escape).

Sources (cited per segment below):

- [map-I] pyx12 4.0.0 map ``837Q3.I.5010.X223.A1.xml`` (registered in pyx12's ``maps.xml`` for
  ``005010X223A2``) and [map-P] ``837.5010.X222.A1.xml``: loop order, segment order, usage,
  repeat counts, code values and element lengths. The test suite validates every generated
  interchange against these maps with pyx12.
- [domain] /work/shared/domain.md §2 (bill types, condition code 92, revenue codes, sequential
  Medicare claims with frequency 1/2/3/4 and patient status 30 on interim claims) and §3 (the
  837 skeleton, SV2/SV1, DTP*472, 5-character procedure codes).
- [RFI-2281] x12.org RFI 2281 and [RFI-1496]: 2010BA N3/N4/DMG are sent only when the patient is
  the subscriber; otherwise the patient's address and demographics go in 2010CA; the 2000B loop
  is repeated for each claim.
- [RFI-1538] / [RFI-2110] x12.org RFIs on 837I 2300 REF*F8: "Required when CLM05-3 indicates this
  claim is a replacement or void to a previously adjudicated claim. If not required by this
  implementation guide, do not send." (and it may not be required for frequency 1).
- [CLM02] 837I TR3 CLM02 note (as quoted by a companion guide): the total claim charge must be
  greater than or equal to zero and balance to the sum of the service line charges.
- [CMS-MLN-1450] CMS MLN "Medicare Billing: 837I & Form CMS-1450", Loop 2300 CL1: report the
  patient status as of the Through date of the billing period.
- [Stedi-freq] Stedi claim edit "Invalid claim frequency code and patient status code
  combination": frequency 1 (admit through discharge) conflicts with patient status 30.
- [RFI-1256] / [RFI-2820]: the 837I Patient's Reason for Visit HI is situational (certain
  outpatient bills, per the NUBC manual); this writer sends it only when given.
- [SV105] 837P SV105 (line place of service) is sent only when it differs from CLM05-1
  (eclaims.com "Box 24b" mapping of the X222A1 note).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

SEGMENT_TERMINATOR = "~"
ELEMENT_SEPARATOR = "*"
COMPONENT_SEPARATOR = ":"
REPETITION_SEPARATOR = "^"
_DELIMITERS = (SEGMENT_TERMINATOR, ELEMENT_SEPARATOR, COMPONENT_SEPARATOR, REPETITION_SEPARATOR)

VERSION_837I = "005010X223A2"
VERSION_837P = "005010X222A1"

CENT = Decimal("0.01")

Gender = Literal["F", "M", "U"]  # DMG03 [map-I], [map-P]
UsageIndicator = Literal["P", "T"]  # ISA15: production / test [map-I]
# SBR01 Payer Responsibility Sequence Number Code, values listed in [map-I]/[map-P].
PayerResponsibility = Literal["A", "B", "C", "D", "E", "F", "G", "H", "P", "S", "T", "U"]
AssignmentCode = Literal["A", "B", "C"]  # CLM07 [map-I]/[map-P]; see RFI 1030 (payer 2010BB)
BenefitsAssignment = Literal["N", "W", "Y"]  # CLM08
ReleaseOfInformation = Literal["I", "Y"]  # CLM09
# PAT01 Individual Relationship Code, values listed in [map-I] 2000C.
PatientRelationship = Literal["01", "19", "20", "21", "39", "40", "53", "G8"]


class ClaimFrequency(enum.StrEnum):
    """CLM05-3, the claim frequency type code (NUBC; [domain] §2.1, §3).

    1/2/3/4 are the Medicare sequential-claim codes (admit through discharge, first, continuing
    and last interim); 7 replaces and 8 voids a prior claim, quoting the payer's claim control
    number (REF*F8) [RFI-1538]. The interim codes are for 837I only ([domain] §3).
    """

    ADMIT_THROUGH_DISCHARGE = "1"
    INTERIM_FIRST = "2"
    INTERIM_CONTINUING = "3"
    INTERIM_LAST = "4"
    REPLACEMENT = "7"
    VOID = "8"

    @property
    def is_correction(self) -> bool:
        return self in (ClaimFrequency.REPLACEMENT, ClaimFrequency.VOID)


INTERIM_FREQUENCIES = frozenset(
    {ClaimFrequency.INTERIM_FIRST, ClaimFrequency.INTERIM_CONTINUING, ClaimFrequency.INTERIM_LAST}
)
PROFESSIONAL_FREQUENCIES = frozenset(
    {ClaimFrequency.ADMIT_THROUGH_DISCHARGE, ClaimFrequency.REPLACEMENT, ClaimFrequency.VOID}
)
STILL_A_PATIENT = "30"  # CL103 patient status "still a patient" ([domain] §2.1)


def sequential_frequency(*, first: bool, last: bool) -> ClaimFrequency:
    """The frequency of one claim in a Medicare sequential series ([domain] §2.1).

    A single claim covering the whole stay (first and last) is 1; otherwise 2 for the first
    interim claim, 3 for a continuing one, 4 for the last.
    """
    if first and last:
        return ClaimFrequency.ADMIT_THROUGH_DISCHARGE
    if first:
        return ClaimFrequency.INTERIM_FIRST
    if last:
        return ClaimFrequency.INTERIM_LAST
    return ClaimFrequency.INTERIM_CONTINUING


# ---------------------------------------------------------------------------------------------
# Input


def _text(value: str, what: str, *, max_len: int | None = None, min_len: int = 1) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be text (got {value!r}).")
    value = value.strip()
    if len(value) < min_len:
        raise ValueError(f"{what} is required.")
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{what} is longer than {max_len} characters: {value!r}.")
    for delimiter in _DELIMITERS:
        if delimiter in value:
            raise ValueError(f"{what} cannot contain the X12 delimiter {delimiter!r}: {value!r}.")
    return value


def _optional_text(value: str | None, what: str, *, max_len: int | None = None) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _text(value, what, max_len=max_len)


def _pattern(value: str, pattern: str, what: str) -> str:
    value = _text(value, what)
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{what} is not valid: {value!r}.")
    return value


def _money(value: Decimal | int, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal (got {value!r}).")
    amount = Decimal(value)
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValueError(f"{what} must be a whole number of cents (got {value!r}).")
    if amount < 0:
        # [CLM02]: charges are >= 0.
        raise ValueError(f"{what} cannot be negative (got {value!r}).")
    return amount


def _npi(value: str, what: str) -> str:
    # NM109 with qualifier XX carries the 10-digit NPI.
    return _pattern(value, r"\d{10}", what)


@dataclass(frozen=True)
class Address:
    """N3/N4: street lines, city, state and ZIP ([map-I]/[map-P] N3, N4)."""

    line1: str
    city: str
    state: str
    postal_code: str
    line2: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "line1", _text(self.line1, "The address line", max_len=55))
        object.__setattr__(
            self, "line2", _optional_text(self.line2, "The second address line", max_len=55)
        )
        object.__setattr__(self, "city", _text(self.city, "The city", max_len=30))
        object.__setattr__(self, "state", _pattern(self.state, r"[A-Z]{2}", "The state code"))
        object.__setattr__(
            self, "postal_code", _pattern(self.postal_code, r"\d{5}(\d{4})?", "The ZIP code")
        )


@dataclass(frozen=True)
class Envelope:
    """ISA/GS/ST/BHT control data. Control numbers and the creation moment are passed in.

    ISA13 and IEA02 carry `interchange_control_number` (9 digits, zero-padded); GS06 and GE02
    `group_control_number`; ST02 and SE02 `transaction_set_control_number` (at least 4 digits,
    zero-padded); BHT03 `reference` (the originator's batch identifier).
    """

    sender_qualifier: str  # ISA05, e.g. "ZZ" (mutually defined) or "30" (federal tax id)
    sender_id: str  # ISA06, up to 15 characters (padded)
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    application_sender_code: str  # GS02
    application_receiver_code: str  # GS03
    interchange_control_number: int
    group_control_number: int
    transaction_set_control_number: int
    created_at: dt.datetime
    reference: str  # BHT03
    usage: UsageIndicator = "T"
    acknowledgment_requested: bool = False  # ISA14

    def __post_init__(self) -> None:
        qualifiers = {"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"}  # ISA05/07 [map-I]
        for name in ("sender_qualifier", "receiver_qualifier"):
            if getattr(self, name) not in qualifiers:
                raise ValueError(
                    f"The interchange id qualifier {getattr(self, name)!r} is unknown."
                )
        object.__setattr__(self, "sender_id", _text(self.sender_id, "The sender id", max_len=15))
        object.__setattr__(
            self, "receiver_id", _text(self.receiver_id, "The receiver id", max_len=15)
        )
        object.__setattr__(
            self,
            "application_sender_code",
            _text(self.application_sender_code, "The application sender code", max_len=15),
        )
        object.__setattr__(
            self,
            "application_receiver_code",
            _text(self.application_receiver_code, "The application receiver code", max_len=15),
        )
        object.__setattr__(
            self, "reference", _text(self.reference, "The BHT03 reference", max_len=50)
        )
        _control(self.interchange_control_number, "The interchange control number", 999_999_999)
        _control(self.group_control_number, "The group control number", 999_999_999)
        _control(
            self.transaction_set_control_number, "The transaction set control number", 999_999_999
        )
        if not isinstance(self.created_at, dt.datetime):
            raise TypeError("The creation moment must be a datetime.")


def _control(value: int, what: str, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValueError(f"{what} must be a whole number from 1 to {maximum} (got {value!r}).")


@dataclass(frozen=True)
class Submitter:
    """1000A: the party sending the file (NM1*41 + PER*IC)."""

    name: str
    identifier: str  # NM109 (qualifier 46, the ETIN the receiver assigned)
    contact_name: str
    phone: str  # PER04 with qualifier TE, digits only

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "The submitter name", max_len=60))
        object.__setattr__(
            self, "identifier", _text(self.identifier, "The submitter id", min_len=2, max_len=80)
        )
        object.__setattr__(
            self, "contact_name", _text(self.contact_name, "The submitter contact", max_len=60)
        )
        object.__setattr__(self, "phone", _pattern(self.phone, r"\d{10,}", "The submitter phone"))


@dataclass(frozen=True)
class Receiver:
    """1000B: the receiver of the file (NM1*40, qualifier 46)."""

    name: str
    identifier: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "The receiver name", max_len=60))
        object.__setattr__(
            self, "identifier", _text(self.identifier, "The receiver id", min_len=2, max_len=80)
        )


@dataclass(frozen=True)
class BillingProvider:
    """2000A/2010AA: the billing organization (NM1*85*2 with NPI, N3/N4, REF*EI, PRV*BI)."""

    name: str
    npi: str
    ein: str  # REF*EI, 9 digits
    address: Address
    taxonomy: str | None = None  # PRV*BI*PXC (2000A, situational)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "The billing provider name", max_len=60))
        object.__setattr__(self, "npi", _npi(self.npi, "The billing provider NPI"))
        object.__setattr__(self, "ein", _pattern(self.ein, r"\d{9}", "The billing provider EIN"))
        if len(self.address.postal_code) != 9:
            # 2010AA N403 must match [0-9]{9} in [map-I]; one type serves both writers (the 837P
            # map has no such pattern: UNCONFIRMED there, harmless to send ZIP+4).
            raise ValueError("The billing provider's ZIP code needs all nine digits (ZIP+4).")
        if self.taxonomy is not None:
            object.__setattr__(
                self, "taxonomy", _pattern(self.taxonomy, r"[0-9A-Z]{10}", "The taxonomy code")
            )


@dataclass(frozen=True)
class Payer:
    """2010BB: the destination payer (NM1*PR*2, qualifier PI) and SBR09 claim filing indicator."""

    name: str
    payer_id: str
    claim_filing_indicator: str  # SBR09, e.g. "MA" Medicare Part A, "CI" commercial, "MC" Medicaid

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "The payer name", max_len=60))
        object.__setattr__(
            self, "payer_id", _text(self.payer_id, "The payer id", min_len=2, max_len=80)
        )
        object.__setattr__(
            self,
            "claim_filing_indicator",
            _pattern(self.claim_filing_indicator, r"[0-9A-Z]{2}", "The claim filing indicator"),
        )


@dataclass(frozen=True)
class Person:
    """A named person with address and demographics (NM1, N3/N4, DMG)."""

    last_name: str
    first_name: str
    birth_date: dt.date
    gender: Gender
    address: Address
    middle_name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "last_name", _text(self.last_name, "The last name", max_len=60))
        object.__setattr__(self, "first_name", _text(self.first_name, "The first name", max_len=35))
        object.__setattr__(
            self, "middle_name", _optional_text(self.middle_name, "The middle name", max_len=25)
        )
        if self.gender not in ("F", "M", "U"):
            raise ValueError(f"The gender code must be F, M or U (got {self.gender!r}).")
        if not isinstance(self.birth_date, dt.date):
            raise TypeError("The birth date must be a date.")


@dataclass(frozen=True)
class Subscriber:
    """2000B/2010BA: the insured (SBR + NM1*IL with member id qualifier MI)."""

    person: Person
    member_id: str
    group_number: str | None = None  # SBR03
    payer_responsibility: PayerResponsibility = "P"  # SBR01

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "member_id", _text(self.member_id, "The member id", min_len=2, max_len=80)
        )
        object.__setattr__(
            self, "group_number", _optional_text(self.group_number, "The group number", max_len=50)
        )


@dataclass(frozen=True)
class Patient:
    """2000C/2010CA: the patient when not the subscriber (PAT01 relationship + NM1*QC)."""

    person: Person
    relationship: PatientRelationship  # PAT01, e.g. "19" child, "01" spouse, "G8" other


@dataclass(frozen=True)
class Provider:
    """A person provider in 2310A (837I attending, NM1*71) or 2310B (837P rendering, NM1*82)."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "last_name", _text(self.last_name, "The provider last name", max_len=60)
        )
        object.__setattr__(
            self, "first_name", _text(self.first_name, "The provider first name", max_len=35)
        )
        object.__setattr__(self, "npi", _npi(self.npi, "The provider NPI"))
        if self.taxonomy is not None:
            object.__setattr__(
                self, "taxonomy", _pattern(self.taxonomy, r"[0-9A-Z]{10}", "The taxonomy code")
            )


def _procedure(code: str) -> str:
    # [domain] §3: procedure codes are exactly 5 characters.
    return _pattern(
        code.upper() if isinstance(code, str) else code, r"[0-9A-Z]{5}", "The procedure code"
    )


def _modifiers(modifiers: Sequence[str]) -> tuple[str, ...]:
    # SV202-03..06 / SV101-03..06: up to 4 modifiers, 2 characters each (data element 1339).
    result = tuple(_pattern(m.upper(), r"[0-9A-Z]{2}", "The procedure modifier") for m in modifiers)
    if len(result) > 4:
        raise ValueError("A service line carries at most 4 procedure modifiers.")
    return result


def _diagnosis(code: str) -> str:
    """An ICD-10-CM code as carried in HI: letters and digits, without the decimal point.

    UNCONFIRMED in the searched material: that X12 transmits ICD codes without the dot is the
    common practice; the dot is removed here so callers can pass the printed form (F10.20).
    """
    value = _text(code, "The diagnosis code").replace(".", "").upper()
    return _pattern(value, r"[A-Z][0-9][0-9A-Z]{1,5}", "The ICD-10-CM code")


def _units(value: Decimal | int, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal or int (got {value!r}).")
    units = Decimal(value)
    if not units.is_finite() or units <= 0 or units != units.quantize(Decimal("0.001")):
        raise ValueError(f"{what} must be more than zero with at most 3 decimals (got {value!r}).")
    return units


@dataclass(frozen=True)
class InstitutionalLine:
    """2400 of an 837I: LX, SV2 (revenue code, HC:HCPCS:modifiers, charge, UN, units), DTP*472."""

    revenue_code: str  # SV201, 4 digits (NUBC revenue code, e.g. 0905/0906; [domain] §2.2)
    charge: Decimal
    units: Decimal
    service_date: dt.date
    hcpcs: str | None = None
    modifiers: tuple[str, ...] = ()
    control_number: str | None = None  # REF*6R line item control number (1-50), 835 SVC quotes it

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "revenue_code", _pattern(self.revenue_code, r"\d{4}", "The revenue code")
        )
        object.__setattr__(
            self,
            "control_number",
            _optional_text(self.control_number, "The line item control number", max_len=50),
        )
        object.__setattr__(self, "charge", _money(self.charge, "The line charge"))
        object.__setattr__(self, "units", _units(self.units, "The line units"))
        if self.hcpcs is not None:
            object.__setattr__(self, "hcpcs", _procedure(self.hcpcs))
        elif self.modifiers:
            raise ValueError("Modifiers need a HCPCS code on the line.")
        object.__setattr__(self, "modifiers", _modifiers(self.modifiers))


@dataclass(frozen=True)
class ProfessionalLine:
    """2400 of an 837P: LX, SV1 (HC:code:modifiers, charge, UN, units, POS, pointers), DTP*472."""

    hcpcs: str
    charge: Decimal
    units: Decimal
    service_date: dt.date
    diagnosis_pointers: tuple[int, ...] = (1,)  # SV107: 1..4 pointers into the claim's HI, 1-12
    modifiers: tuple[str, ...] = ()
    place_of_service: str | None = None  # SV105, sent only when it differs from CLM05-1 [SV105]
    control_number: str | None = None  # REF*6R line item control number (1-50), 835 SVC quotes it

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "control_number",
            _optional_text(self.control_number, "The line item control number", max_len=50),
        )
        object.__setattr__(self, "hcpcs", _procedure(self.hcpcs))
        object.__setattr__(self, "charge", _money(self.charge, "The line charge"))
        object.__setattr__(self, "units", _units(self.units, "The line units"))
        object.__setattr__(self, "modifiers", _modifiers(self.modifiers))
        pointers = tuple(self.diagnosis_pointers)
        if not 1 <= len(pointers) <= 4 or any(
            isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= 12 for p in pointers
        ):
            raise ValueError("A line points to 1 to 4 diagnoses, numbered 1 to 12.")
        if len(set(pointers)) != len(pointers):
            raise ValueError("A line cannot point to the same diagnosis twice.")
        object.__setattr__(self, "diagnosis_pointers", pointers)
        if self.place_of_service is not None:
            object.__setattr__(
                self,
                "place_of_service",
                _pattern(self.place_of_service, r"\d{2}", "The place of service"),
            )


@dataclass(frozen=True, kw_only=True)
class _ClaimBase:
    patient_control_number: str  # CLM01 (receivers keep 20 characters; [CLM02] note source)
    subscriber: Subscriber
    payer: Payer
    frequency: ClaimFrequency
    principal_diagnosis: str
    assignment: AssignmentCode  # CLM07
    benefits_assignment: BenefitsAssignment  # CLM08
    release_of_information: ReleaseOfInformation  # CLM09
    patient: Patient | None = None  # None: the subscriber is the patient (SBR02 = 18)
    other_diagnoses: tuple[str, ...] = ()
    condition_codes: tuple[str, ...] = ()  # HI*BG, e.g. "92" for Medicare IOP ([domain] §2.1)
    prior_authorization: str | None = None  # REF*G1
    original_claim_reference: str | None = None  # REF*F8, only for frequency 7 or 8 [RFI-1538]

    def _check_base(self) -> None:
        object.__setattr__(
            self,
            "patient_control_number",
            _text(self.patient_control_number, "The patient control number", max_len=20),
        )
        object.__setattr__(self, "frequency", ClaimFrequency(self.frequency))
        object.__setattr__(self, "principal_diagnosis", _diagnosis(self.principal_diagnosis))
        object.__setattr__(
            self, "other_diagnoses", tuple(_diagnosis(c) for c in self.other_diagnoses)
        )
        object.__setattr__(
            self,
            "condition_codes",
            tuple(_pattern(c, r"[0-9A-Z]{2}", "The condition code") for c in self.condition_codes),
        )
        if len(self.condition_codes) > 24:  # HI Condition Information: 2 segments x 12
            raise ValueError("A claim carries at most 24 condition codes.")
        object.__setattr__(
            self,
            "prior_authorization",
            _optional_text(self.prior_authorization, "The prior authorization number", max_len=50),
        )
        object.__setattr__(
            self,
            "original_claim_reference",
            _optional_text(
                self.original_claim_reference, "The payer claim control number", max_len=50
            ),
        )
        if self.frequency.is_correction and self.original_claim_reference is None:
            raise ValueError(
                "A replacement (7) or void (8) needs the original claim's payer control number."
            )
        if not self.frequency.is_correction and self.original_claim_reference is not None:
            raise ValueError(
                "The payer claim control number (REF*F8) is sent only on a replacement or void."
            )
        if self.patient is not None and self.patient.person == self.subscriber.person:
            raise ValueError("When the subscriber is the patient, leave `patient` empty.")


@dataclass(frozen=True, kw_only=True)
class InstitutionalClaim(_ClaimBase):
    """2300 of an 837I (UB-04): bill type, statement dates, CL1, diagnoses, codes, SV2 lines."""

    facility_code: str  # CLM05-1: first two digits of the bill type, e.g. "13", "76"
    statement_from: dt.date  # DTP*434
    statement_to: dt.date
    patient_status: str  # CL103, e.g. "30" still a patient, "01" home
    admission_type: str | None = None  # CL101 (situational)
    admission_source: str | None = None  # CL102 (situational)
    reason_for_visit_diagnoses: tuple[str, ...] = ()  # HI*APR, up to 3 [RFI-1256]
    attending: Provider | None = None  # 2310A NM1*71
    lines: tuple[InstitutionalLine, ...]

    def __post_init__(self) -> None:
        self._check_base()
        object.__setattr__(
            self, "facility_code", _pattern(self.facility_code, r"\d{2}", "The facility type code")
        )
        if self.statement_to < self.statement_from:
            raise ValueError("The statement period ends before it starts.")
        object.__setattr__(
            self, "patient_status", _pattern(self.patient_status, r"\d{2}", "The patient status")
        )
        for name in ("admission_type", "admission_source"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _pattern(value, r"[0-9A-Z]", f"The {name}"))
        if len(self.other_diagnoses) > 24:  # HI Other Diagnosis: 2 segments x 12
            raise ValueError("An 837I carries at most 24 other diagnoses.")
        object.__setattr__(
            self,
            "reason_for_visit_diagnoses",
            tuple(_diagnosis(c) for c in self.reason_for_visit_diagnoses),
        )
        if len(self.reason_for_visit_diagnoses) > 3:
            raise ValueError("An 837I carries at most 3 reasons for visit.")
        # Patient status is reported as of the Through date [CMS-MLN-1450]: first and continuing
        # interim claims leave the patient still a patient ([domain] §2.1), an admit-through-
        # discharge claim cannot [Stedi-freq].
        if (
            self.frequency in (ClaimFrequency.INTERIM_FIRST, ClaimFrequency.INTERIM_CONTINUING)
            and self.patient_status != STILL_A_PATIENT
        ):
            raise ValueError("A first or continuing interim claim has patient status 30.")
        if (
            self.frequency is ClaimFrequency.ADMIT_THROUGH_DISCHARGE
            and self.patient_status == STILL_A_PATIENT
        ):
            raise ValueError("An admit-through-discharge claim cannot have patient status 30.")
        object.__setattr__(self, "lines", tuple(self.lines))
        _check_lines(self.lines, InstitutionalLine)
        for line in self.lines:
            if not self.statement_from <= line.service_date <= self.statement_to:
                raise ValueError(
                    f"The line dated {line.service_date} is outside the statement period."
                )

    @property
    def total_charge(self) -> Decimal:
        """CLM02: the sum of the line charges [CLM02]."""
        return sum((line.charge for line in self.lines), Decimal(0))


@dataclass(frozen=True, kw_only=True)
class ProfessionalClaim(_ClaimBase):
    """2300 of an 837P (CMS-1500): place of service, diagnoses (12 at most), SV1 lines."""

    place_of_service: str  # CLM05-1
    provider_signature_on_file: bool  # CLM06
    rendering: Provider | None = None  # 2310B NM1*82
    lines: tuple[ProfessionalLine, ...]

    def __post_init__(self) -> None:
        self._check_base()
        object.__setattr__(
            self,
            "place_of_service",
            _pattern(self.place_of_service, r"\d{2}", "The place of service"),
        )
        if self.frequency not in PROFESSIONAL_FREQUENCIES:
            raise ValueError("Interim frequencies (2, 3, 4) are for institutional claims only.")
        if len(self.other_diagnoses) > 11:  # [map-P] HI01..HI12, HI01 the principal
            raise ValueError("An 837P carries at most 12 diagnoses.")
        object.__setattr__(self, "lines", tuple(self.lines))
        _check_lines(self.lines, ProfessionalLine)
        count = 1 + len(self.other_diagnoses)
        for line in self.lines:
            if max(line.diagnosis_pointers) > count:
                raise ValueError("A line points to a diagnosis the claim does not carry.")

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal(0))


def _check_lines(lines: Sequence[object], kind: type) -> None:
    if not lines:
        raise ValueError("A claim needs at least one service line.")
    if any(not isinstance(line, kind) for line in lines):
        raise TypeError(f"The claim's lines must be {kind.__name__}.")


@dataclass(frozen=True)
class Interchange:
    """One ISA/GS/ST envelope holding the claims of one billing provider."""

    envelope: Envelope
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    claims: tuple[InstitutionalClaim | ProfessionalClaim, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "claims", tuple(self.claims))
        if not self.claims:
            raise ValueError("An interchange needs at least one claim.")


# ---------------------------------------------------------------------------------------------
# Output


def _amount(value: Decimal) -> str:
    """An X12 R (decimal) value without trailing zeros: 259.13, 100, 100.5."""
    text = format(value.normalize(), "f")
    return text


def _d8(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


class _Segments:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, *elements: str | None) -> None:
        values = ["" if e is None else e for e in elements]
        while len(values) > 1 and values[-1] == "":
            values.pop()
        self.items.append(ELEMENT_SEPARATOR.join(values))


def _component(*parts: str | None) -> str:
    values = ["" if p is None else p for p in parts]
    while values and values[-1] == "":
        values.pop()
    return COMPONENT_SEPARATOR.join(values)


def _interchange(interchange: Interchange, version: str, body: list[str]) -> str:
    env = interchange.envelope
    control = f"{env.interchange_control_number:09d}"
    st02 = f"{env.transaction_set_control_number:04d}"
    isa = ELEMENT_SEPARATOR.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            env.sender_qualifier,
            env.sender_id.ljust(15),
            env.receiver_qualifier,
            env.receiver_id.ljust(15),
            env.created_at.strftime("%y%m%d"),
            env.created_at.strftime("%H%M"),
            REPETITION_SEPARATOR,
            "00501",
            control,
            "1" if env.acknowledgment_requested else "0",
            env.usage,
            COMPONENT_SEPARATOR,
        ]
    )
    transaction = [ELEMENT_SEPARATOR.join(["ST", "837", st02, version]), *body]
    # SE01 counts the segments from ST to SE inclusive.
    transaction.append(ELEMENT_SEPARATOR.join(["SE", str(len(transaction) + 1), st02]))
    segments = [
        isa,
        ELEMENT_SEPARATOR.join(
            [
                "GS",
                "HC",
                env.application_sender_code,
                env.application_receiver_code,
                env.created_at.strftime("%Y%m%d"),
                env.created_at.strftime("%H%M"),
                str(env.group_control_number),
                "X",
                version,
            ]
        ),
        *transaction,
        ELEMENT_SEPARATOR.join(["GE", "1", str(env.group_control_number)]),
        ELEMENT_SEPARATOR.join(["IEA", "1", control]),
    ]
    return SEGMENT_TERMINATOR.join(segments) + SEGMENT_TERMINATOR


def _header(out: _Segments, interchange: Interchange) -> None:
    env = interchange.envelope
    # BHT: 0019 structure, 00 original, CH chargeable [map-I]/[map-P].
    out.add(
        "BHT",
        "0019",
        "00",
        env.reference,
        env.created_at.strftime("%Y%m%d"),
        env.created_at.strftime("%H%M"),
        "CH",
    )
    sub = interchange.submitter
    out.add("NM1", "41", "2", sub.name, None, None, None, None, "46", sub.identifier)
    out.add("PER", "IC", sub.contact_name, "TE", sub.phone)
    rec = interchange.receiver
    out.add("NM1", "40", "2", rec.name, None, None, None, None, "46", rec.identifier)
    bp = interchange.billing_provider
    out.add("HL", "1", None, "20", "1")
    if bp.taxonomy:
        out.add("PRV", "BI", "PXC", bp.taxonomy)
    out.add("NM1", "85", "2", bp.name, None, None, None, None, "XX", bp.npi)
    _address(out, bp.address)
    out.add("REF", "EI", bp.ein)


def _address(out: _Segments, address: Address) -> None:
    out.add("N3", address.line1, address.line2)
    out.add("N4", address.city, address.state, address.postal_code)


def _person_name(
    out: _Segments, code: str, person: Person, qualifier: str | None, ident: str | None
) -> None:
    out.add(
        "NM1",
        code,
        "1",
        person.last_name,
        person.first_name,
        person.middle_name,
        None,
        None,
        qualifier,
        ident,
    )


def _demographics(out: _Segments, person: Person) -> None:
    out.add("DMG", "D8", _d8(person.birth_date), person.gender)


def _subscriber_and_patient(out: _Segments, claim: _ClaimBase, next_hl: int) -> int:
    """2000B (+2010BA, 2010BB) and, when the patient is someone else, 2000C/2010CA.

    Returns the next free HL number. The subscriber loop is repeated for each claim [RFI-1496].
    """
    sub = claim.subscriber
    subscriber_hl = next_hl
    has_patient = claim.patient is not None
    out.add("HL", str(subscriber_hl), "1", "22", "1" if has_patient else "0")
    out.add(
        "SBR",
        sub.payer_responsibility,
        None if has_patient else "18",
        sub.group_number,
        None,
        None,
        None,
        None,
        None,
        claim.payer.claim_filing_indicator,
    )
    _person_name(out, "IL", sub.person, "MI", sub.member_id)
    if not has_patient:
        # [RFI-2281]: address and demographics in 2010BA only when the patient is the subscriber.
        _address(out, sub.person.address)
        _demographics(out, sub.person)
    out.add("NM1", "PR", "2", claim.payer.name, None, None, None, None, "PI", claim.payer.payer_id)
    next_hl += 1
    if claim.patient is not None:
        out.add("HL", str(next_hl), str(subscriber_hl), "23", "0")
        out.add("PAT", claim.patient.relationship)
        _person_name(out, "QC", claim.patient.person, None, None)
        _address(out, claim.patient.person.address)
        _demographics(out, claim.patient.person)
        next_hl += 1
    return next_hl


def _references(out: _Segments, claim: _ClaimBase) -> None:
    # Map order: REF*G1 (prior authorization) precedes REF*F8 (payer claim control number).
    if claim.prior_authorization:
        out.add("REF", "G1", claim.prior_authorization)
    if claim.original_claim_reference:
        out.add("REF", "F8", claim.original_claim_reference)


def _hi_chunks(qualifier: str, codes: Sequence[str], *, per_segment: int = 12) -> list[list[str]]:
    composites = [_component(qualifier, code) for code in codes]
    return [composites[i : i + per_segment] for i in range(0, len(composites), per_segment)]


def _provider_name(out: _Segments, code: str, provider: Provider, prv_code: str | None) -> None:
    out.add(
        "NM1",
        code,
        "1",
        provider.last_name,
        provider.first_name,
        None,
        None,
        None,
        "XX",
        provider.npi,
    )
    if prv_code and provider.taxonomy:
        out.add("PRV", prv_code, "PXC", provider.taxonomy)


def _check_kind(interchange: Interchange, kind: type) -> None:
    if any(not isinstance(claim, kind) for claim in interchange.claims):
        raise TypeError(f"Every claim in this interchange must be a {kind.__name__}.")


def write_837i(interchange: Interchange) -> str:
    """The 837I (005010X223A2) interchange text for institutional claims."""
    _check_kind(interchange, InstitutionalClaim)
    out = _Segments()
    _header(out, interchange)
    next_hl = 2
    for claim in interchange.claims:
        assert isinstance(claim, InstitutionalClaim)
        next_hl = _subscriber_and_patient(out, claim, next_hl)
        out.add(
            "CLM",
            claim.patient_control_number,
            _amount(claim.total_charge),
            None,
            None,
            _component(claim.facility_code, "A", claim.frequency.value),
            None,  # CLM06 is not used in the 837I [map-I]
            claim.assignment,
            claim.benefits_assignment,
            claim.release_of_information,
        )
        out.add("DTP", "434", "RD8", f"{_d8(claim.statement_from)}-{_d8(claim.statement_to)}")
        out.add("CL1", claim.admission_type, claim.admission_source, claim.patient_status)
        _references(out, claim)
        out.add("HI", _component("ABK", claim.principal_diagnosis))
        if claim.reason_for_visit_diagnoses:
            out.add("HI", *_hi_chunks("APR", claim.reason_for_visit_diagnoses)[0])
        for chunk in _hi_chunks("ABF", claim.other_diagnoses):
            out.add("HI", *chunk)
        for chunk in _hi_chunks("BG", claim.condition_codes):
            out.add("HI", *chunk)
        if claim.attending is not None:
            _provider_name(out, "71", claim.attending, "AT")
        for number, line in enumerate(claim.lines, start=1):
            out.add("LX", str(number))
            procedure = (
                _component("HC", line.hcpcs, *line.modifiers) if line.hcpcs is not None else None
            )
            out.add(
                "SV2",
                line.revenue_code,
                procedure,
                _amount(line.charge),
                "UN",
                _amount(line.units),
            )
            out.add("DTP", "472", "D8", _d8(line.service_date))
            if line.control_number is not None:
                out.add("REF", "6R", line.control_number)
    return _interchange(interchange, VERSION_837I, out.items)


def write_837p(interchange: Interchange) -> str:
    """The 837P (005010X222A1) interchange text for professional claims."""
    _check_kind(interchange, ProfessionalClaim)
    out = _Segments()
    _header(out, interchange)
    next_hl = 2
    for claim in interchange.claims:
        assert isinstance(claim, ProfessionalClaim)
        next_hl = _subscriber_and_patient(out, claim, next_hl)
        out.add(
            "CLM",
            claim.patient_control_number,
            _amount(claim.total_charge),
            None,
            None,
            _component(claim.place_of_service, "B", claim.frequency.value),
            "Y" if claim.provider_signature_on_file else "N",
            claim.assignment,
            claim.benefits_assignment,
            claim.release_of_information,
        )
        _references(out, claim)
        out.add(
            "HI",
            _component("ABK", claim.principal_diagnosis),
            *(_component("ABF", code) for code in claim.other_diagnoses),
        )
        for chunk in _hi_chunks("BG", claim.condition_codes):
            out.add("HI", *chunk)
        if claim.rendering is not None:
            _provider_name(out, "82", claim.rendering, "PE")
        for number, line in enumerate(claim.lines, start=1):
            out.add("LX", str(number))
            pos = (
                line.place_of_service
                if line.place_of_service not in (None, claim.place_of_service)
                else None
            )
            out.add(
                "SV1",
                _component("HC", line.hcpcs, *line.modifiers),
                _amount(line.charge),
                "UN",
                _amount(line.units),
                pos,
                None,
                _component(*(str(p) for p in line.diagnosis_pointers)),
            )
            out.add("DTP", "472", "D8", _d8(line.service_date))
            if line.control_number is not None:
                out.add("REF", "6R", line.control_number)
    return _interchange(interchange, VERSION_837P, out.items)
