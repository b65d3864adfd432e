"""Claims from charges without a database: the builder, the scrubber, the claim's states, its
corrections and the 837I/837P it writes (validated with pyx12). Payers, programs, people and
numbers are fictional; each rule's source is in the test's docstring (../shared/domain.md
sections 2 and 3 unless said otherwise). Expected figures are worked by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import FrozenInstanceError
from decimal import Decimal
from typing import Any

import pytest

from openiop.billing.domain import x12
from openiop.billing.domain.charges import (
    MEDICARE_IOP_CONDITION_CODE,
    ChargeDraft,
    ClaimForm,
)
from openiop.billing.domain.claims import (
    Authorization,
    CertificationPeriod,
    ClaimCharge,
    ClaimDraft,
    ClaimEvent,
    ClaimHasErrors,
    ClaimLine,
    ClaimParties,
    ClaimPeriod,
    ClaimRecord,
    ClaimState,
    CorrectionRefused,
    Edit,
    EditCode,
    IllegalTransition,
    PayerClaimRules,
    ProgramClaimSetup,
    ScrubContext,
    SequentialEpisode,
    Severity,
    allowed_transitions,
    build_claims,
    has_errors,
    npi_is_valid,
    replacement_of,
    scrub,
    to_x12_claim,
    transition,
    void_of,
)
from openiop.billing.tests.x12_validation import assert_valid, npi_with_check_digit, segments

D = Decimal
F = x12.ClaimFrequency
MON = dt.date(2026, 3, 2)  # Monday of ISO week 2026-W10


def day(offset: int) -> dt.date:
    return MON + dt.timedelta(days=offset)


BILLING_NPI = npi_with_check_digit("123456789")  # 1234567893, CMS's worked example
RENDERING_NPI = npi_with_check_digit("987654321")

SUD = "iop-sud"
MH = "iop-mh"
ACME = "acme-health"
MEDICARE = "medicare-mac"

SUD_837I = ProgramClaimSetup(
    program=SUD, claim_form=ClaimForm.INSTITUTIONAL, rendering_npi_required=True, facility_code="13"
)
MH_837I = ProgramClaimSetup(
    program=MH, claim_form=ClaimForm.INSTITUTIONAL, rendering_npi_required=True, facility_code="76"
)
SUD_837P = ProgramClaimSetup(
    program=SUD,
    claim_form=ClaimForm.PROFESSIONAL,
    rendering_npi_required=True,
    place_of_service="11",
)
ACME_WEEKLY = PayerClaimRules(
    payer=ACME,
    period=ClaimPeriod.WEEK,
    sequential=False,
    authorization_required=True,
    certification_required=False,
    patient_status="01",
)
MEDICARE_WEEKLY = PayerClaimRules(
    payer=MEDICARE,
    period=ClaimPeriod.WEEK,
    sequential=True,
    authorization_required=False,
    certification_required=True,
    patient_status=None,
)
SETUPS = (SUD_837I, MH_837I, SUD_837P)
RULES = (ACME_WEEKLY, MEDICARE_WEEKLY)


def draft(
    service_date: dt.date,
    code: str = "H0015",
    *,
    amount: str = "250.00",
    payer: str = ACME,
    program: str = SUD,
    form: ClaimForm = ClaimForm.INSTITUTIONAL,
    revenue_code: str | None = "0906",
    modifiers: tuple[str, ...] = (),
    condition_codes: tuple[str, ...] = (),
) -> ChargeDraft:
    return ChargeDraft(
        payer=payer,
        program=program,
        service_date=service_date,
        code=code,
        modifiers=modifiers,
        revenue_code=revenue_code if form == ClaimForm.INSTITUTIONAL else None,
        units=1,
        rate=D(amount),
        amount=D(amount),
        claim_form=form,
        service_ids=(f"svc-{service_date:%m%d}-{code}",),
        condition_codes=condition_codes,
    )


def charge(
    charge_id: str,
    service_date: dt.date,
    code: str = "H0015",
    *,
    patient: str = "pt-testy",
    coverage: str = "cov-acme",
    episode: str = "ep-1",
    diagnoses: tuple[str, ...] = ("F10.20",),
    authorization: str | None = "AUTH-1",
    **kw: Any,
) -> ClaimCharge:
    return ClaimCharge(
        charge_id=charge_id,
        patient=patient,
        coverage=coverage,
        episode=episode,
        charge=draft(service_date, code, **kw),
        diagnoses=diagnoses,
        authorization=authorization,
    )


def per_diem_week(start: dt.date = MON, days: int = 5, **kw: Any) -> list[ClaimCharge]:
    """H0015 at $250.00 a day, Monday to Friday by default."""
    return [charge(f"c{i}", start + dt.timedelta(days=i), **kw) for i in range(days)]


def one_claim(charges: list[ClaimCharge], **kw: Any) -> ClaimDraft:
    built = build_claims(charges, setups=SETUPS, payer_rules=RULES, **kw)
    assert built.not_built == []
    assert len(built.claims) == 1
    return built.claims[0]


# Medicare IOP: a line per service, condition code 92 on each [domain.md 2.1]. A day of three
# services: G0410 $45.00 + G0177 $35.00 + 90834 $90.00 = $170.00.
MEDICARE_DAY = (("G0410", "45.00"), ("G0177", "35.00"), ("90834", "90.00"))


def medicare_week(week_monday: dt.date, episode: str = "ep-m") -> list[ClaimCharge]:
    """Monday, Wednesday and Friday, three services each: 9 lines, $510.00."""
    return [
        charge(
            f"m{week_monday:%m%d}-{offset}-{code}",
            week_monday + dt.timedelta(days=offset),
            code,
            amount=amount,
            payer=MEDICARE,
            coverage="cov-medicare",
            episode=episode,
            revenue_code="0905",
            authorization=None,
            condition_codes=(MEDICARE_IOP_CONDITION_CODE,),
        )
        for offset in (0, 2, 4)
        for code, amount in MEDICARE_DAY
    ]


def episode(
    billed_through: dt.date | None = None,
    discharge_date: dt.date | None = None,
    name: str = "ep-m",
) -> SequentialEpisode:
    return SequentialEpisode(
        episode=name,
        billed_through=billed_through,
        discharge_date=discharge_date,
        discharge_status="01" if discharge_date else None,
    )


# --- building claims -------------------------------------------------------------------------


def test_per_diem_week_is_one_claim_with_a_dated_line_a_day() -> None:
    """Commercial per diem: one revenue code, one unit per attended day, dated lines
    [domain.md 2.2, BCBS Nebraska RP-PI-002]; bill type 13x for a hospital outpatient program
    [domain.md 2.1]."""
    claim = one_claim(per_diem_week())
    assert [line.service_date for line in claim.lines] == [day(i) for i in range(5)]
    assert all(
        (line.code, line.revenue_code, line.units, line.amount) == ("H0015", "0906", 1, D("250.00"))
        for line in claim.lines
    )
    assert claim.total == D("1250.00")  # 5 x 250.00
    assert isinstance(claim.total, Decimal)
    assert (claim.statement_from, claim.statement_to) == (day(0), day(4))
    assert claim.frequency is F.ADMIT_THROUGH_DISCHARGE
    assert claim.bill_type == "131"
    assert claim.patient_status == "01"  # the payer's configuration
    assert claim.authorization == "AUTH-1"
    assert claim.diagnoses == ("F10.20",)
    assert claim.key == "pt-testy/cov-acme/ep-1/iop-sud/837I/2026-W10/AUTH-1"


@pytest.mark.parametrize(
    ("period", "labels"),
    [
        # Mon Mar 30, Tue Mar 31, Wed Apr 1 2026: three days; one ISO week (W14); two months.
        (ClaimPeriod.DAY, ["2026-03-30", "2026-03-31", "2026-04-01"]),
        (ClaimPeriod.WEEK, ["2026-W14"]),
        (ClaimPeriod.MONTH, ["2026-03", "2026-04"]),
    ],
)
def test_one_claim_per_claim_period_of_the_payer(period: ClaimPeriod, labels: list[str]) -> None:
    """Claims may be daily, weekly or monthly [domain.md 2.1]: the payer's configuration."""
    rules = PayerClaimRules(
        payer=ACME,
        period=period,
        sequential=False,
        authorization_required=False,
        certification_required=False,
        patient_status="01",
    )
    charges = per_diem_week(dt.date(2026, 3, 30), days=3, authorization=None)
    built = build_claims(charges, setups=SETUPS, payer_rules=[rules])
    assert [c.key.split("/")[-1] for c in built.claims] == labels
    assert sum(len(c.lines) for c in built.claims) == 3
    assert built.total == D("750.00")


def test_a_week_ends_on_sunday() -> None:
    """Weekly claims follow the ISO week: Friday and the next Monday are on two claims."""
    built = build_claims(
        [charge("fri", day(4)), charge("mon", day(7))], setups=SETUPS, payer_rules=RULES
    )
    assert [[line.charge_id for line in c.lines] for c in built.claims] == [["fri"], ["mon"]]


def test_patients_coverages_and_episodes_never_share_a_claim() -> None:
    charges = [
        charge("a1", day(0)),
        charge("a2", day(1)),
        charge("b1", day(0), patient="pt-testina"),
        charge("a-other-coverage", day(2), coverage="cov-acme-2"),
        charge("a-readmitted", day(3), episode="ep-2"),
    ]
    built = build_claims(charges, setups=SETUPS, payer_rules=RULES)
    assert sorted([line.charge_id for line in c.lines] for c in built.claims) == [
        ["a-other-coverage"],
        ["a-readmitted"],
        ["a1", "a2"],
        ["b1"],
    ]


def test_each_authorization_gets_its_own_claim() -> None:
    """A claim carries one prior authorization (REF*G1 in loop 2300) [domain.md 3]: a week
    authorized in two pieces makes two claims."""
    charges = [
        *per_diem_week(days=3, authorization="AUTH-1"),
        charge("thu", day(3), authorization="AUTH-2"),
        charge("fri", day(4), authorization="AUTH-2"),
    ]
    built = build_claims(charges, setups=SETUPS, payer_rules=RULES)
    assert [(c.authorization, len(c.lines), c.total) for c in built.claims] == [
        ("AUTH-1", 3, D("750.00")),
        ("AUTH-2", 2, D("500.00")),
    ]


def test_bill_type_is_the_programs_configuration() -> None:
    """Bill types per program: hospital outpatient 13x, CMHC 76x [domain.md 2.1]; the facility
    code is the first two digits [domain.md 3]."""
    charges = [charge("sud", day(0)), charge("mh", day(0), program=MH)]
    built = build_claims(charges, setups=SETUPS, payer_rules=RULES)
    assert sorted((c.program, c.facility_code, c.bill_type) for c in built.claims) == [
        (MH, "76", "761"),
        (SUD, "13", "131"),
    ]


def test_professional_claim_has_a_place_of_service_and_no_bill_type() -> None:
    """837P (CMS-1500): place of service in CLM05-1, no revenue code, frequency 1 [domain.md 3]."""
    charges = [
        charge("ind", day(0), "90837", amount="120.00", form=ClaimForm.PROFESSIONAL),
        charge("grp", day(1), "90853", amount="40.00", form=ClaimForm.PROFESSIONAL),
    ]
    claim = one_claim(charges)
    assert claim.claim_form == ClaimForm.PROFESSIONAL
    assert (claim.place_of_service, claim.bill_type, claim.patient_status) == ("11", None, None)
    assert claim.frequency is F.ADMIT_THROUGH_DISCHARGE
    assert [line.revenue_code for line in claim.lines] == [None, None]
    assert claim.total == D("160.00")  # 120.00 + 40.00


def test_claim_diagnoses_are_the_lines_in_order_and_lines_point_to_theirs() -> None:
    """HI: principal (ABK) then other diagnoses; an 837P line points to its own (SV107)
    [domain.md 3]. F10.20 written twice (with and without the dot) is one code."""
    charges = [
        charge("1", day(0), diagnoses=("F10.20", "F32.1")),
        charge("2", day(1), diagnoses=("F32.1", "F41.1")),
        charge("3", day(2), diagnoses=("f1020",)),
    ]
    claim = one_claim(charges)
    assert claim.diagnoses == ("F10.20", "F32.1", "F41.1")
    assert [claim.diagnosis_pointers(line) for line in claim.lines] == [(1, 2), (2, 3), (1,)]


def test_condition_codes_are_the_programs_then_the_charges() -> None:
    """Condition code 92 on Medicare IOP claims; 89 on a hospital-based OTP's [domain.md 2.1]."""
    otp = ProgramClaimSetup(
        program=SUD,
        claim_form=ClaimForm.INSTITUTIONAL,
        rendering_npi_required=True,
        facility_code="13",
        condition_codes=("89",),
    )
    built = build_claims(medicare_week(MON), setups=[otp], payer_rules=RULES, episodes=[episode()])
    assert built.claims[0].condition_codes == ("89", "92")


def test_charges_that_cannot_go_on_a_claim_are_listed_with_why() -> None:
    no_status = PayerClaimRules(
        payer="plan-nostatus",
        period=ClaimPeriod.WEEK,
        sequential=False,
        authorization_required=False,
        certification_required=False,
        patient_status=None,
    )
    charges = [
        charge("ok", day(0)),
        charge("payer1", day(0), payer="unknown-plan"),
        charge("payer2", day(1), payer="unknown-plan"),
        charge("program", day(0), program="iop-teen"),
        charge("status", day(0), payer="plan-nostatus"),
        charge(
            "medicare-837p",
            day(0),
            "90837",
            payer=MEDICARE,
            form=ClaimForm.PROFESSIONAL,
        ),
        charge("no-episode", day(0), payer=MEDICARE, episode="ep-none"),
    ]
    built = build_claims(charges, setups=SETUPS, payer_rules=[*RULES, no_status])
    assert [line.charge_id for c in built.claims for line in c.lines] == ["ok"]
    assert [(n.charge_ids, n.reason) for n in built.not_built] == [
        (
            ("payer1", "payer2"),
            "no claim rules for payer unknown-plan: set its claim period and checks",
        ),
        (("program",), "no claim setup for program iop-teen on 837I: set its bill type"),
        (("status",), "payer plan-nostatus has no patient status set for its 837I claims"),
        (
            ("medicare-837p",),
            "payer medicare-mac takes sequential claims (frequency 2, 3, 4), which are 837I; "
            "program iop-sud bills it on 837P",
        ),
        (
            ("no-episode",),
            "episode ep-none has no sequential-claim status: say whether a claim was sent and "
            "whether the patient is discharged",
        ),
    ]


def test_sequential_charges_already_billed_or_after_discharge_are_left_off() -> None:
    """A Medicare series is billed in order [domain.md 2.1]: a late charge for a period already
    billed goes on a replacement (frequency 7), not on a new claim."""
    charges = medicare_week(MON)  # Mon Mar 2, Wed Mar 4, Fri Mar 6
    ep = episode(billed_through=day(2), discharge_date=day(3))  # billed through Wed, out Thu
    built = build_claims(charges, setups=SETUPS, payer_rules=RULES, episodes=[ep])
    assert built.claims == []
    reasons = {n.reason: len(n.charge_ids) for n in built.not_built}
    assert reasons == {
        "the episode's claims are sent through Wed Mar 4, 2026; a charge dated Mon Mar 2, 2026 "
        "goes on a replacement (frequency 7) of the claim for that date": 3,
        "the episode's claims are sent through Wed Mar 4, 2026; a charge dated Wed Mar 4, 2026 "
        "goes on a replacement (frequency 7) of the claim for that date": 3,
        "dated Fri Mar 6, 2026, after the discharge on Thu Mar 5, 2026": 3,
    }


def test_building_refuses_repeated_ids_and_configuration() -> None:
    with pytest.raises(ValueError, match="once"):
        build_claims([charge("x", day(0)), charge("x", day(1))], setups=SETUPS, payer_rules=RULES)
    with pytest.raises(ValueError, match="claim setup"):
        build_claims([], setups=[SUD_837I, SUD_837I], payer_rules=RULES)
    with pytest.raises(ValueError, match="claim rules"):
        build_claims([], setups=SETUPS, payer_rules=[ACME_WEEKLY, ACME_WEEKLY])


# --- Medicare sequential claims --------------------------------------------------------------

W10, W11, W12 = MON, day(7), day(14)  # Mondays Mar 2, Mar 9, Mar 16 2026


@pytest.mark.parametrize(
    ("weeks", "ep", "expected"),
    [
        # Not discharged, nothing sent: first interim, then continuing; all still patients (30).
        ((W10, W11, W12), episode(), [("2", "30"), ("3", "30"), ("3", "30")]),
        # Discharged Fri Mar 20: the last claim is 4 with the discharge status (01 home).
        ((W10, W11, W12), episode(discharge_date=day(18)), [("2", "30"), ("3", "30"), ("4", "01")]),
        # One claim from admission to discharge: 1.
        ((W10,), episode(discharge_date=day(4)), [("1", "01")]),
        # Sent through Sun Mar 8 already: the series continues (3), and ends (4) on discharge.
        ((W11, W12), episode(billed_through=day(6)), [("3", "30"), ("3", "30")]),
        (
            (W11, W12),
            episode(billed_through=day(6), discharge_date=day(18)),
            [("3", "30"), ("4", "01")],
        ),
        ((W11,), episode(billed_through=day(6), discharge_date=day(18)), [("4", "01")]),
    ],
)
def test_medicare_sequential_frequency_and_patient_status(
    weeks: tuple[dt.date, ...], ep: SequentialEpisode, expected: list[tuple[str, str]]
) -> None:
    """Medicare IOP claims are sequential: frequency 1 admit through discharge, 2 first interim,
    3 continuing, 4 last; interim claims carry patient status 30; condition code 92
    [domain.md 2.1, CGS; MM13222/MM13496]."""
    charges = [c for monday in weeks for c in medicare_week(monday)]
    built = build_claims(charges, setups=SETUPS, payer_rules=RULES, episodes=[ep])
    assert built.not_built == []
    assert [(c.frequency.value, c.patient_status) for c in built.claims] == expected
    assert [c.bill_type for c in built.claims] == [f"13{freq}" for freq, _ in expected]
    for claim, monday in zip(built.claims, weeks, strict=True):
        assert claim.condition_codes == ("92",)
        assert len(claim.lines) == 9  # 3 days x 3 services, a line per service
        assert claim.total == D("510.00")  # 3 x (45.00 + 35.00 + 90.00)
        assert (claim.statement_from, claim.statement_to) == (
            monday,
            monday + dt.timedelta(days=4),
        )


def test_medicare_monthly_series() -> None:
    """Monthly claims are allowed, still sequential [domain.md 2.1]."""
    monthly = PayerClaimRules(
        payer=MEDICARE,
        period=ClaimPeriod.MONTH,
        sequential=True,
        authorization_required=False,
        certification_required=True,
        patient_status=None,
    )
    charges = [*medicare_week(dt.date(2026, 3, 23)), *medicare_week(dt.date(2026, 3, 30))]
    # Mar 23, 25, 27, 30 in March; Apr 1, 3 in April.
    built = build_claims(
        charges,
        setups=SETUPS,
        payer_rules=[monthly],
        episodes=[episode(discharge_date=dt.date(2026, 4, 3))],
    )
    assert [(c.key.split("/")[-1], c.frequency, len(c.lines)) for c in built.claims] == [
        ("2026-03", F.INTERIM_FIRST, 12),
        ("2026-04", F.INTERIM_LAST, 6),
    ]


# --- configuration and claim invariants ------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: ProgramClaimSetup(
                program=SUD, claim_form=ClaimForm.INSTITUTIONAL, rendering_npi_required=True
            ),
            "facility code",
        ),
        (
            lambda: ProgramClaimSetup(
                program=SUD,
                claim_form=ClaimForm.PROFESSIONAL,
                rendering_npi_required=True,
                place_of_service="11",
                facility_code="13",
            ),
            "837I claims, not 837P",
        ),
        (
            lambda: ProgramClaimSetup(
                program=SUD, claim_form=ClaimForm.PROFESSIONAL, rendering_npi_required=True
            ),
            "place of service",
        ),
        (
            lambda: PayerClaimRules(
                payer=MEDICARE,
                period=ClaimPeriod.WEEK,
                sequential=True,
                authorization_required=False,
                certification_required=True,
                patient_status="01",
            ),
            "from the episode",
        ),
        (
            lambda: PayerClaimRules(
                payer=ACME,
                period=ClaimPeriod.WEEK,
                sequential=False,
                authorization_required=False,
                certification_required=False,
                patient_status="30",
            ),
            "frequency 1",
        ),
        (
            lambda: SequentialEpisode(
                episode="e", billed_through=None, discharge_date=MON, discharge_status=None
            ),
            "together",
        ),
        (
            lambda: SequentialEpisode(
                episode="e", billed_through=None, discharge_date=MON, discharge_status="30"
            ),
            "not 30",
        ),
    ],
)
def test_configuration_is_checked(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_claim_invariants() -> None:
    claim = one_claim(per_diem_week())
    other_auth = ClaimLine.of(charge("x", day(5), authorization="AUTH-2"))
    with pytest.raises(ValueError, match="one prior authorization"):
        ClaimDraft(**{**_fields(claim), "lines": (*claim.lines, other_auth)})
    with pytest.raises(ValueError, match="cannot have patient status 30"):
        ClaimDraft(**{**_fields(claim), "patient_status": "30"})
    with pytest.raises(ValueError, match="status 30"):
        ClaimDraft(**{**_fields(claim), "frequency": F.INTERIM_FIRST})  # status 01
    with pytest.raises(ValueError, match="payer claim control number"):
        ClaimDraft(**{**_fields(claim), "frequency": F.REPLACEMENT})
    with pytest.raises(ValueError, match="once"):
        ClaimDraft(**{**_fields(claim), "lines": (claim.lines[0], claim.lines[0])})
    professional = one_claim(
        [charge("p", day(0), "90837", amount="120.00", form=ClaimForm.PROFESSIONAL)]
    )
    with pytest.raises(ValueError, match="837I claims only"):
        ClaimDraft(**{**_fields(professional), "frequency": F.INTERIM_LAST})
    with pytest.raises(FrozenInstanceError):
        claim.__setattr__("frequency", F.VOID)


def _fields(claim: ClaimDraft) -> dict[str, Any]:
    return {name: getattr(claim, name) for name in ClaimDraft.__dataclass_fields__}


# --- scrubbing -------------------------------------------------------------------------------

AUTH_1 = Authorization(
    reference="AUTH-1",
    start=dt.date(2026, 3, 1),
    end=dt.date(2026, 3, 31),
    units_remaining=5,
    codes=("H0015",),
)


def context(**overrides: Any) -> ScrubContext:
    values: dict[str, Any] = dict(
        payer_rules=ACME_WEEKLY,
        setup=SUD_837I,
        billing_npi=BILLING_NPI,
        rendering_npi=RENDERING_NPI,
        coverage_start=dt.date(2026, 1, 1),
        coverage_end=None,
        authorizations=(AUTH_1,),
        certifications=(),
        other_claims=(),
    )
    values.update(overrides)
    return ScrubContext(**values)


# Itemized professional services under one authorization of any code.
AUTH_ANY_CODE = Authorization(
    reference="AUTH-1", start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), units_remaining=20
)


def professional_context(**overrides: Any) -> ScrubContext:
    return context(**{"setup": SUD_837P, "authorizations": (AUTH_ANY_CODE,), **overrides})


def codes(edits: list[Edit]) -> list[tuple[EditCode, Severity, tuple[int, ...]]]:
    return [(e.code, e.severity, e.lines) for e in edits]


ERR, WARN = Severity.ERROR, Severity.WARNING


def test_a_clean_claim_has_no_edits() -> None:
    assert scrub(one_claim(per_diem_week()), context()) == []


def test_npi_check_digit() -> None:
    """CMS "Requirements for NPI Check Digit": Luhn with the implied prefix 80840; the worked
    example 123456789 has check digit 3."""
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678AB")
    assert npi_is_valid(RENDERING_NPI)


def test_billing_npi_missing_or_wrong() -> None:
    claim = one_claim(per_diem_week())
    edits = scrub(claim, context(billing_npi=None))
    assert codes(edits) == [(EditCode.BILLING_NPI_MISSING, ERR, ())]
    assert edits[0].message == "The billing provider has no NPI: record the organization's NPI."
    edits = scrub(claim, context(billing_npi="1234567890"))
    assert codes(edits) == [(EditCode.BILLING_NPI_INVALID, ERR, ())]
    assert "1234567890 is not a valid NPI" in edits[0].message


def test_rendering_npi_where_the_program_needs_it() -> None:
    """Whether the rendering (837P) / attending (837I) NPI is needed is the program's
    configuration (not in domain.md)."""
    claim = one_claim(per_diem_week())
    edits = scrub(claim, context(rendering_npi=None))
    assert codes(edits) == [(EditCode.RENDERING_NPI_MISSING, ERR, ())]
    assert "attending provider's NPI" in edits[0].message  # 837I: the attending
    relaxed = ProgramClaimSetup(
        program=SUD,
        claim_form=ClaimForm.INSTITUTIONAL,
        rendering_npi_required=False,
        facility_code="13",
    )
    assert scrub(claim, context(setup=relaxed, rendering_npi=None)) == []
    assert codes(scrub(claim, context(setup=relaxed, rendering_npi="9876543210"))) == [
        (EditCode.RENDERING_NPI_INVALID, ERR, ())
    ]


def test_no_diagnosis() -> None:
    claim = one_claim(per_diem_week(diagnoses=()))
    edits = scrub(claim, context())
    assert codes(edits) == [(EditCode.NO_DIAGNOSIS, ERR, ())]
    assert "ICD-10-CM" in edits[0].message


def test_a_diagnosis_that_is_not_icd10_cm() -> None:
    """ICD-10-CM for services from 1 Oct 2015 [domain.md 3, Stedi edits]: a letter, a digit,
    then up to five letters or digits (without the dot)."""
    charges = [charge("1", day(0)), charge("2", day(1), diagnoses=("F10.20", "296.32"))]
    edits = scrub(one_claim(charges), context())
    assert codes(edits) == [(EditCode.DIAGNOSIS_INVALID, ERR, (2,))]
    assert edits[0].message == "296.32 is not an ICD-10-CM code: correct the diagnosis."


def test_837p_carries_twelve_diagnoses_and_each_line_needs_one() -> None:
    """837P HI carries 12 diagnoses (HI01-HI12) and each SV1 points to one [domain.md 3; x12
    map-P]."""
    twelve = [
        charge(
            f"p{i}",
            day(0),
            "90853",
            amount="40.00",
            form=ClaimForm.PROFESSIONAL,
            diagnoses=(f"F10.{i}",),
        )
        for i in range(12)
    ]
    assert scrub(one_claim(twelve), professional_context()) == []
    thirteen = [
        *twelve,
        charge(
            "p12",
            day(1),
            "90853",
            amount="40.00",
            form=ClaimForm.PROFESSIONAL,
            diagnoses=("F32.1",),
        ),
    ]
    assert codes(scrub(one_claim(thirteen), professional_context())) == [
        (EditCode.TOO_MANY_DIAGNOSES, ERR, ())
    ]
    bare = [
        charge("a", day(0), "90837", amount="120.00", form=ClaimForm.PROFESSIONAL),
        charge("b", day(1), "90853", amount="40.00", form=ClaimForm.PROFESSIONAL, diagnoses=()),
    ]
    edits = scrub(one_claim(bare), professional_context())
    assert codes(edits) == [(EditCode.LINE_WITHOUT_DIAGNOSIS, ERR, (2,))]
    assert edits[0].message == "Line 2 points to no diagnosis: each 837P line needs one."


def test_service_dates_outside_the_coverage() -> None:
    claim = one_claim(per_diem_week())  # Mon Mar 2 .. Fri Mar 6
    edits = scrub(claim, context(coverage_start=day(2)))  # from Wed Mar 4
    assert codes(edits) == [(EditCode.OUTSIDE_COVERAGE, ERR, (1, 2))]
    assert edits[0].message == (
        "Lines 1 and 2 (Mon Mar 2, 2026 and Tue Mar 3, 2026) fall outside the coverage (from "
        "Wed Mar 4, 2026): bill another coverage or the patient."
    )
    edits = scrub(claim, context(coverage_end=day(3)))  # ends Thu Mar 5
    assert codes(edits) == [(EditCode.OUTSIDE_COVERAGE, ERR, (5,))]


def test_authorization_missing_names_the_one_on_file() -> None:
    claim = one_claim(per_diem_week(authorization=None))
    edits = scrub(claim, context())
    assert codes(edits) == [(EditCode.AUTHORIZATION_MISSING, ERR, ())]
    assert edits[0].message == (
        "The payer requires prior authorization and the claim has none. Authorization AUTH-1 on "
        "file covers these dates: put it on the charges."
    )
    edits = scrub(claim, context(authorizations=()))
    assert edits[0].message.endswith("Record the payer's authorization for these dates.")
    # A payer that does not require authorization: nothing to say.
    not_required = PayerClaimRules(
        payer=ACME,
        period=ClaimPeriod.WEEK,
        sequential=False,
        authorization_required=False,
        certification_required=False,
        patient_status="01",
    )
    assert scrub(claim, context(payer_rules=not_required)) == []


def test_authorization_not_on_file() -> None:
    claim = one_claim(per_diem_week(authorization="AUTH-9"))
    assert codes(scrub(claim, context())) == [(EditCode.AUTHORIZATION_UNKNOWN, ERR, ())]


def test_authorization_expired_for_the_later_days() -> None:
    auth = Authorization(
        reference="AUTH-1", start=dt.date(2026, 2, 1), end=day(2), units_remaining=5
    )
    edits = scrub(one_claim(per_diem_week()), context(authorizations=(auth,)))
    # Thu Mar 5 and Fri Mar 6 are after Wed Mar 4; the three days inside use 3 of 5 units.
    assert codes(edits) == [(EditCode.AUTHORIZATION_EXPIRED, ERR, (4, 5))]
    assert edits[0].message == (
        "Authorization AUTH-1 ended on Wed Mar 4, 2026; lines 4 and 5 (Thu Mar 5, 2026 and Fri "
        "Mar 6, 2026) come after it: request an extension (concurrent review)."
    )


def test_authorization_not_yet_valid_for_the_earlier_days() -> None:
    auth = Authorization(reference="AUTH-1", start=day(1), end=day(30), units_remaining=5)
    edits = scrub(one_claim(per_diem_week()), context(authorizations=(auth,)))
    assert codes(edits) == [(EditCode.AUTHORIZATION_NOT_STARTED, ERR, (1,))]


def test_authorization_for_another_code() -> None:
    auth = Authorization(
        reference="AUTH-1", start=day(0), end=day(30), units_remaining=5, codes=("S9480",)
    )
    edits = scrub(one_claim(per_diem_week()), context(authorizations=(auth,)))
    assert codes(edits) == [(EditCode.AUTHORIZATION_CODE, ERR, (1, 2, 3, 4, 5))]
    assert edits[0].message.startswith("Authorization AUTH-1 covers S9480, not H0015")


def test_authorization_units_exhausted() -> None:
    """Payers authorize IOP in increments (day limits) [domain.md 2.3, getforwardcare;
    Codapedia]: with 3 units left, the 4th and 5th days go beyond."""
    auth = Authorization(reference="AUTH-1", start=day(0), end=day(30), units_remaining=3)
    edits = scrub(one_claim(per_diem_week()), context(authorizations=(auth,)))
    assert codes(edits) == [(EditCode.AUTHORIZATION_EXHAUSTED, ERR, (4, 5))]
    assert edits[0].message.startswith("Authorization AUTH-1 has 3 units left; lines 4 and 5")
    # Exactly enough units: no edit.
    enough = Authorization(reference="AUTH-1", start=day(0), end=day(30), units_remaining=5)
    assert scrub(one_claim(per_diem_week()), context(authorizations=(enough,))) == []


def test_authorization_problems_are_warnings_where_the_payer_does_not_require_one() -> None:
    not_required = PayerClaimRules(
        payer=ACME,
        period=ClaimPeriod.WEEK,
        sequential=False,
        authorization_required=False,
        certification_required=False,
        patient_status="01",
    )
    auth = Authorization(reference="AUTH-1", start=day(0), end=day(30), units_remaining=3)
    edits = scrub(
        one_claim(per_diem_week()), context(payer_rules=not_required, authorizations=(auth,))
    )
    assert codes(edits) == [(EditCode.AUTHORIZATION_EXHAUSTED, WARN, (4, 5))]
    assert not has_errors(edits)


def _medicare_context(**overrides: Any) -> ScrubContext:
    values: dict[str, Any] = dict(
        payer_rules=MEDICARE_WEEKLY,
        authorizations=(),
        certifications=(CertificationPeriod(dt.date(2026, 2, 1), dt.date(2026, 3, 31)),),
    )
    values.update(overrides)
    return context(**values)


def _medicare_claims(*mondays: dt.date, ep: SequentialEpisode | None = None) -> list[ClaimDraft]:
    charges = [c for monday in mondays for c in medicare_week(monday)]
    built = build_claims(charges, setups=SETUPS, payer_rules=RULES, episodes=[ep or episode()])
    return built.claims


def test_medicare_days_without_a_physician_certification() -> None:
    """The physician certifies the need for IOP and recertifies at least every other month
    [domain.md 2.1; 42 CFR 424.24]: a day outside every certification is an error."""
    (claim,) = _medicare_claims(W10)  # Mon Mar 2, Wed Mar 4, Fri Mar 6: lines 1-3, 4-6, 7-9
    certified_to_tuesday = CertificationPeriod(dt.date(2026, 1, 5), day(1))
    edits = scrub(claim, _medicare_context(certifications=(certified_to_tuesday,)))
    assert codes(edits) == [(EditCode.UNCERTIFIED_DAYS, ERR, (4, 5, 6, 7, 8, 9))]
    assert edits[0].message.startswith(
        "No physician certification covers Wed Mar 4, 2026 and Fri Mar 6, 2026 (lines 4, 5, 6, "
        "7, 8 and 9)"
    )
    recertified = CertificationPeriod(day(2), dt.date(2026, 5, 1))
    assert scrub(claim, _medicare_context(certifications=(certified_to_tuesday, recertified))) == []
    # A payer that does not require certification: nothing to say.
    assert scrub(claim, context(authorizations=(), payer_rules=_no_cert_medicare())) == []


def _no_cert_medicare() -> PayerClaimRules:
    return PayerClaimRules(
        payer=MEDICARE,
        period=ClaimPeriod.WEEK,
        sequential=True,
        authorization_required=False,
        certification_required=False,
        patient_status=None,
    )


@pytest.mark.parametrize(
    ("state", "waits"),
    [
        (ClaimState.DRAFT, True),
        (ClaimState.READY, True),
        (ClaimState.SUBMITTED, True),
        (ClaimState.ACCEPTED, True),
        (ClaimState.PAID, False),
        (ClaimState.PARTIALLY_PAID, False),
        (ClaimState.DENIED, False),
        (ClaimState.APPEALED, False),
        (ClaimState.REJECTED, False),
    ],
)
def test_the_next_sequential_claim_waits_for_the_prior_remittance(
    state: ClaimState, waits: bool
) -> None:
    """Sequential claims: the remittance advice of a claim comes before the next is sent
    [domain.md 2.1, CGS; MM13222/MM13496]."""
    first, second = _medicare_claims(W10, W11)
    prior = ClaimRecord(first, state, payer_claim_control_number="ICN-TEST-1")
    edits = scrub(second, _medicare_context(other_claims=(prior,)))
    if waits:
        assert codes(edits) == [(EditCode.PRIOR_CLAIM_NOT_REMITTED, ERR, ())]
        assert edits[0].message.startswith(
            f"Claim {first.key} (Mon Mar 2, 2026 to Fri Mar 6, 2026, {state.words}) has no "
            "remittance yet"
        )
    else:
        assert edits == []
    # The first claim of the series waits for nothing.
    assert scrub(first, _medicare_context(other_claims=(prior,))) == []


def test_same_service_on_another_claim_is_a_duplicate() -> None:
    claim = one_claim(per_diem_week())
    other = one_claim([charge("old", day(1), authorization=None)])  # H0015 Tue Mar 3
    record = ClaimRecord(other, ClaimState.PAID, payer_claim_control_number="ICN-TEST-2")
    edits = scrub(claim, context(other_claims=(record,)))
    assert codes(edits) == [(EditCode.DUPLICATE_SERVICE, ERR, (2,))]
    assert edits[0].message == (
        f"Line 2 (H0015 on Tue Mar 3, 2026) is already on claim {other.key} (paid): remove the "
        "duplicate, or correct that claim with a replacement."
    )


def test_claims_voided_replaced_rejected_or_of_another_patient_hold_no_service() -> None:
    claim = one_claim(per_diem_week())
    other = one_claim([charge("old", day(1), authorization=None)])
    paid = ClaimRecord(other, ClaimState.PAID, payer_claim_control_number="ICN-TEST-2")
    ignored = [
        ClaimRecord(other, ClaimState.PAID, "ICN-TEST-2", superseded=True),
        ClaimRecord(void_of(paid), ClaimState.ACCEPTED, "ICN-TEST-3"),
        ClaimRecord(other, ClaimState.REJECTED),
        ClaimRecord(
            one_claim([charge("them", day(1), patient="pt-testina", authorization=None)]),
            ClaimState.PAID,
        ),
        ClaimRecord(claim, ClaimState.DRAFT),  # the claim itself, as saved
    ]
    assert scrub(claim, context(other_claims=ignored)) == []


def test_per_diem_twice_on_one_day() -> None:
    """Per diem: one line a day [domain.md 2.2]. Two group sessions on an itemized claim are not
    a duplicate."""
    claim = one_claim([charge("a", day(0)), charge("b", day(0))])
    edits = scrub(claim, context())
    assert codes(edits) == [(EditCode.DUPLICATE_PER_DIEM, ERR, (1, 2))]
    assert edits[0].message == (
        "Lines 1 and 2 bill H0015 twice on Mon Mar 2, 2026; a per diem is one line a day: "
        "remove the extra line."
    )
    groups = one_claim(
        [
            charge(g, day(0), "90853", amount="40.00", form=ClaimForm.PROFESSIONAL)
            for g in ("g1", "g2")
        ]
    )
    assert scrub(groups, professional_context()) == []


def test_zero_charge_line() -> None:
    claim = one_claim([charge("a", day(0)), charge("b", day(1), amount="0.00")])
    edits = scrub(claim, context())
    assert codes(edits) == [(EditCode.ZERO_CHARGE, ERR, (2,))]
    assert edits[0].message == (
        "Line 2 (H0015 on Tue Mar 3, 2026) has no charge: set the fee or take the line off."
    )


def test_every_problem_is_listed_at_once() -> None:
    claim = one_claim([charge("a", day(0), diagnoses=(), amount="0.00", authorization="AUTH-9")])
    edits = scrub(claim, context(billing_npi=None, coverage_start=day(1)))
    assert [e.code for e in edits] == [
        EditCode.BILLING_NPI_MISSING,
        EditCode.NO_DIAGNOSIS,
        EditCode.OUTSIDE_COVERAGE,
        EditCode.AUTHORIZATION_UNKNOWN,
        EditCode.ZERO_CHARGE,
    ]


def test_a_void_is_checked_for_what_the_payer_needs_to_find_it() -> None:
    original = one_claim([charge("a", day(0), amount="0.00")])
    void = void_of(ClaimRecord(original, ClaimState.PAID, "ICN-TEST-4"))
    assert scrub(void, context(coverage_start=day(5), authorizations=())) == []
    assert codes(scrub(void, context(billing_npi=None))) == [
        (EditCode.BILLING_NPI_MISSING, ERR, ())
    ]


def test_scrub_refuses_another_claims_configuration() -> None:
    claim = one_claim(per_diem_week())
    with pytest.raises(ValueError, match="program and form"):
        scrub(claim, context(setup=MH_837I))
    with pytest.raises(ValueError, match="payer"):
        scrub(claim, context(payer_rules=MEDICARE_WEEKLY))


# --- states ----------------------------------------------------------------------------------


def test_allowed_transitions_table() -> None:
    s, e = ClaimState, ClaimEvent
    remittance = {e.PAY: s.PAID, e.PAY_PARTIALLY: s.PARTIALLY_PAID, e.DENY: s.DENIED}
    expected = {
        s.DRAFT: {e.MARK_READY: s.READY},
        s.READY: {e.REOPEN: s.DRAFT, e.SUBMIT: s.SUBMITTED},
        s.SUBMITTED: {e.ACCEPT: s.ACCEPTED, e.REJECT: s.REJECTED, **remittance},
        s.ACCEPTED: remittance,
        s.REJECTED: {},
        s.PAID: {},
        s.PARTIALLY_PAID: {e.APPEAL: s.APPEALED},
        s.DENIED: {e.APPEAL: s.APPEALED},
        s.APPEALED: remittance,
    }
    assert {state: dict(allowed_transitions(state)) for state in s} == expected


def test_a_claim_from_draft_to_paid_after_appeal() -> None:
    state = transition(ClaimState.DRAFT, ClaimEvent.MARK_READY, edits=[])
    for event in (ClaimEvent.SUBMIT, ClaimEvent.ACCEPT, ClaimEvent.DENY, ClaimEvent.APPEAL):
        state = transition(state, event)
    assert transition(state, ClaimEvent.PAY) is ClaimState.PAID


@pytest.mark.parametrize(
    ("state", "event", "message"),
    [
        (
            ClaimState.DRAFT,
            ClaimEvent.SUBMIT,
            "A draft claim cannot be submitted. From draft it can be marked ready.",
        ),
        (
            ClaimState.ACCEPTED,
            ClaimEvent.APPEAL,
            "An accepted claim cannot be appealed. From accepted it can be paid, partially paid "
            "or denied.",
        ),
        (
            ClaimState.PAID,
            ClaimEvent.SUBMIT,
            "A paid claim cannot be submitted. It is final: correct it with a replacement (7) or "
            "a void (8).",
        ),
        (
            ClaimState.REJECTED,
            ClaimEvent.SUBMIT,
            "A rejected claim cannot be submitted. The payer never took it: build a new claim "
            "from its charges.",
        ),
        (
            ClaimState.SUBMITTED,
            ClaimEvent.REOPEN,
            "A submitted claim cannot be reopened. From submitted it can be accepted, rejected, "
            "paid, partially paid or denied.",
        ),
    ],
)
def test_illegal_moves_are_refused_in_words(
    state: ClaimState, event: ClaimEvent, message: str
) -> None:
    with pytest.raises(IllegalTransition) as raised:
        transition(state, event)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == message
    assert (raised.value.state, raised.value.event) == (state, event)


def test_a_claim_with_an_error_cannot_become_ready() -> None:
    error = Edit(EditCode.NO_DIAGNOSIS, ERR, "The claim has no diagnosis.")
    warning = Edit(EditCode.AUTHORIZATION_EXHAUSTED, WARN, "Authorization AUTH-1 is used up.")
    with pytest.raises(ClaimHasErrors) as raised:
        transition(ClaimState.DRAFT, ClaimEvent.MARK_READY, edits=[warning, error])
    assert raised.value.edits == (error,)
    assert str(raised.value) == (
        "The claim has 1 error to fix before it is ready: The claim has no diagnosis."
    )
    assert transition(ClaimState.DRAFT, ClaimEvent.MARK_READY, edits=[warning]) is ClaimState.READY
    with pytest.raises(IllegalTransition, match="Scrub the claim"):
        transition(ClaimState.DRAFT, ClaimEvent.MARK_READY)


def test_a_real_scrub_result_blocks_ready() -> None:
    claim = one_claim(per_diem_week(diagnoses=()))
    with pytest.raises(ClaimHasErrors):
        transition(ClaimState.DRAFT, ClaimEvent.MARK_READY, edits=scrub(claim, context()))


# --- corrections -----------------------------------------------------------------------------


def test_replacement_quotes_the_original_and_leaves_it_unchanged() -> None:
    """Corrections are replacements (frequency 7) quoting the payer's claim control number
    (REF*F8), never edits of a sent claim [domain.md 3; issue 16]."""
    original = one_claim(per_diem_week())
    record = ClaimRecord(original, ClaimState.PAID, payer_claim_control_number="ICN-TEST-5")
    snapshot = _fields(original)
    fixed_lines = original.lines[:4]  # Friday was not attended after all
    replacement = replacement_of(record, lines=fixed_lines)
    assert replacement.frequency is F.REPLACEMENT
    assert replacement.bill_type == "137"
    assert replacement.original_claim_reference == "ICN-TEST-5"
    assert replacement.replaces == original.key
    assert replacement.key == f"{original.key}/replacement"
    assert replacement.total == D("1000.00")  # 4 x 250.00
    assert replacement.statement_to == day(3)
    assert _fields(original) == snapshot and original.frequency is F.ADMIT_THROUGH_DISCHARGE
    # Its own original is not a duplicate of it.
    assert scrub(replacement, context(other_claims=(record,))) == []


def test_void_quotes_the_original() -> None:
    original = one_claim(per_diem_week())
    void = void_of(ClaimRecord(original, ClaimState.DENIED, "ICN-TEST-6"), key="claim-77")
    assert (void.frequency, void.bill_type, void.key) == (F.VOID, "138", "claim-77")
    assert void.original_claim_reference == "ICN-TEST-6"
    assert void.lines == original.lines


@pytest.mark.parametrize(
    ("state", "icn", "message"),
    [
        (ClaimState.DRAFT, "TESTICN1", "was not sent"),
        (ClaimState.READY, "TESTICN1", "was not sent"),
        (ClaimState.SUBMITTED, None, "until the payer acknowledges it"),
        (ClaimState.REJECTED, None, "build a new claim"),
        (ClaimState.PAID, None, "claim control number is needed"),
    ],
)
def test_corrections_need_a_claim_the_payer_holds(
    state: ClaimState, icn: str | None, message: str
) -> None:
    """Replacement and void quote the payer's claim control number [domain.md 3]: only a claim
    the payer holds can be corrected; a draft is still edited, a rejected claim rebuilt."""
    held = ClaimRecord(one_claim(per_diem_week()), state, payer_claim_control_number=icn)
    for correct in (replacement_of, void_of):
        with pytest.raises(CorrectionRefused, match=message):
            correct(held)


def test_a_void_or_a_corrected_claim_is_not_corrected_again() -> None:
    original = one_claim(per_diem_week())
    paid = ClaimRecord(original, ClaimState.PAID, "ICN-TEST-7")
    with pytest.raises(CorrectionRefused, match="already replaced or voided"):
        replacement_of(ClaimRecord(original, ClaimState.PAID, "ICN-TEST-7", superseded=True))
    void = ClaimRecord(void_of(paid), ClaimState.ACCEPTED, "ICN-TEST-8")
    with pytest.raises(CorrectionRefused, match="A void cannot be replaced"):
        replacement_of(void)


# --- to the 837 ------------------------------------------------------------------------------

CREATED = dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.UTC)
ADDRESS = x12.Address(line1="1 TEST STREET", city="TESTVILLE", state="NY", postal_code="12345")
TESTY = x12.Person(
    last_name="MCTESTFACE",
    first_name="TESTY",
    birth_date=dt.date(1958, 4, 1),
    gender="U",
    address=ADDRESS,
)


def envelope(control: int) -> x12.Envelope:
    return x12.Envelope(
        sender_qualifier="ZZ",
        sender_id="TESTSUBMITTER",
        receiver_qualifier="ZZ",
        receiver_id="TESTRECEIVER",
        application_sender_code="TESTSUBMITTER",
        application_receiver_code="TESTRECEIVER",
        interchange_control_number=control,
        group_control_number=control,
        transaction_set_control_number=control,
        created_at=CREATED,
        reference=f"TESTBATCH{control}",
    )


def interchange(
    *claims: x12.InstitutionalClaim | x12.ProfessionalClaim, control: int = 1
) -> x12.Interchange:
    return x12.Interchange(
        envelope=envelope(control),
        submitter=x12.Submitter(
            name="TEST IOP CLINIC",
            identifier="TESTETIN01",
            contact_name="TEST BILLER",
            phone="5555550100",
        ),
        receiver=x12.Receiver(name="TEST CLEARINGHOUSE", identifier="TESTRCV01"),
        billing_provider=x12.BillingProvider(
            name="TEST IOP CLINIC",
            npi=BILLING_NPI,
            ein="990000001",
            address=x12.Address(
                line1="1 TEST STREET", city="TESTVILLE", state="NY", postal_code="123451234"
            ),
        ),
        claims=claims,
    )


def parties(payer: x12.Payer, pcn: str, **kw: Any) -> ClaimParties:
    return ClaimParties(
        patient_control_number=pcn,
        subscriber=x12.Subscriber(person=TESTY, member_id="TESTMEMBER1"),
        payer=payer,
        assignment="A",
        benefits_assignment="Y",
        release_of_information="Y",
        provider=x12.Provider(last_name="TESTDOCTOR", first_name="SAM", npi=RENDERING_NPI),
        **kw,
    )


X12_ACME = x12.Payer(name="TEST HEALTH PLAN", payer_id="TESTPLAN1", claim_filing_indicator="CI")
X12_MEDICARE = x12.Payer(
    name="TEST MEDICARE MAC", payer_id="TESTMAC01", claim_filing_indicator="MA"
)


def test_per_diem_commercial_claim_writes_a_valid_837i() -> None:
    claim = one_claim(per_diem_week())
    text = x12.write_837i(interchange(to_x12_claim(claim, parties(X12_ACME, "TESTPCN1"))))
    assert_valid(text)
    segs = segments(text)
    clm = next(s for s in segs if s[0] == "CLM")
    assert (clm[1], clm[2], clm[5]) == ("TESTPCN1", "1250", "13:A:1")
    assert [s[1:3] for s in segs if s[0] == "SV2"] == [["0906", "HC:H0015"]] * 5
    assert [s[3] for s in segs if s[:2] == ["DTP", "472"]] == [
        "20260302",
        "20260303",
        "20260304",
        "20260305",
        "20260306",
    ]
    assert ["DTP", "434", "RD8", "20260302-20260306"] in segs
    assert ["CL1", "", "", "01"] in segs
    assert ["REF", "G1", "AUTH-1"] in segs
    assert ["HI", "ABK:F1020"] in segs


def test_medicare_sequential_series_writes_valid_837i_claims() -> None:
    claims = _medicare_claims(W10, W11, W12, ep=episode(discharge_date=day(18)))
    written = [
        to_x12_claim(claim, parties(X12_MEDICARE, f"TESTMCR{n}"))
        for n, claim in enumerate(claims, start=1)
    ]
    for control, claim in enumerate(written, start=10):
        text = x12.write_837i(interchange(claim, control=control))
        assert_valid(text)
        segs = segments(text)
        assert ["HI", "BG:92"] in segs
        assert not any(s[:2] == ["REF", "G1"] for s in segs)
    text = x12.write_837i(interchange(*written, control=20))
    assert_valid(text)
    segs = segments(text)
    assert [s[5] for s in segs if s[0] == "CLM"] == ["13:A:2", "13:A:3", "13:A:4"]
    assert [s[3] for s in segs if s[0] == "CL1"] == ["30", "30", "01"]
    assert len([s for s in segs if s[0] == "SV2"]) == 27  # 3 claims x 9 lines


def test_itemized_professional_claim_writes_a_valid_837p() -> None:
    charges = [
        charge(
            "ind",
            day(0),
            "90837",
            amount="120.00",
            form=ClaimForm.PROFESSIONAL,
            diagnoses=("F10.20", "F32.1"),
        ),
        charge(
            "grp",
            day(1),
            "90853",
            amount="40.00",
            form=ClaimForm.PROFESSIONAL,
            modifiers=("HF",),
            diagnoses=("F10.20",),
        ),
        charge(
            "fam",
            day(2),
            "90847",
            amount="110.00",
            form=ClaimForm.PROFESSIONAL,
            diagnoses=("F41.1", "F10.20"),
        ),
    ]
    claim = one_claim(charges)
    written = to_x12_claim(claim, parties(X12_ACME, "TESTPCN2", provider_signature_on_file=True))
    text = x12.write_837p(interchange(written))
    assert_valid(text)
    segs = segments(text)
    clm = next(s for s in segs if s[0] == "CLM")
    assert (clm[2], clm[5]) == ("270", "11:B:1")  # 120 + 40 + 110
    assert ["HI", "ABK:F1020", "ABF:F321", "ABF:F411"] in segs
    assert [s for s in segs if s[0] == "SV1"] == [
        ["SV1", "HC:90837", "120", "UN", "1", "", "", "1:2"],
        ["SV1", "HC:90853:HF", "40", "UN", "1", "", "", "1"],
        ["SV1", "HC:90847", "110", "UN", "1", "", "", "3:1"],
    ]


def test_replacement_and_void_write_valid_837i_with_the_control_number() -> None:
    original = one_claim(per_diem_week())
    record = ClaimRecord(original, ClaimState.PAID, payer_claim_control_number="TESTICN0005")
    for correction, frequency in (
        (replacement_of(record, lines=original.lines[:4]), "7"),
        (void_of(record), "8"),
    ):
        text = x12.write_837i(interchange(to_x12_claim(correction, parties(X12_ACME, "TESTPCN3"))))
        assert_valid(text)
        segs = segments(text)
        assert next(s for s in segs if s[0] == "CLM")[5] == f"13:A:{frequency}"
        assert ["REF", "F8", "TESTICN0005"] in segs


def test_to_x12_refuses_what_the_writer_cannot_carry() -> None:
    with pytest.raises(ValueError, match="no diagnosis"):
        to_x12_claim(one_claim(per_diem_week(diagnoses=())), parties(X12_ACME, "TESTPCN4"))
    professional = one_claim(
        [charge("p", day(0), "90837", amount="120.00", form=ClaimForm.PROFESSIONAL)]
    )
    with pytest.raises(ValueError, match="signature"):
        to_x12_claim(professional, parties(X12_ACME, "TESTPCN4"))
