"""The pure 837I/837P writer (openiop.billing.domain.x12), validated with pyx12.

Every generated interchange goes through pyx12's validator against the 5010 HIPAA maps
(837Q3.I.5010.X223.A1 for 005010X223A2, 837.5010.X222.A1 for 005010X222A1; the helper is
x12_validation.py, shared with the claim builder's tests); any finding fails the test and is
printed. All names and identifiers are fictional; NPIs carry a valid check digit computed with
the 80840 prefix (Luhn).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openiop.billing.domain import x12
from openiop.billing.tests.x12_validation import (
    assert_valid,
    npi_with_check_digit,
    segments,
    validate,
)

# --- helpers --------------------------------------------------------------------------------


def luhn_ok(npi: str) -> bool:
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


BILLING_NPI = npi_with_check_digit("123456789")
ATTENDING_NPI = npi_with_check_digit("987654321")
CREATED = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)


def envelope(control: int = 1) -> x12.Envelope:
    return x12.Envelope(
        sender_qualifier="ZZ",
        sender_id="TESTSUBMITTER",
        receiver_qualifier="ZZ",
        receiver_id="TESTRECEIVER",
        application_sender_code="TESTSUBMITTER",
        application_receiver_code="TESTRECEIVER",
        interchange_control_number=control,
        group_control_number=control + 100,
        transaction_set_control_number=control + 7,
        created_at=CREATED,
        reference=f"BATCH{control}",
    )


ADDRESS = x12.Address(line1="1 TEST STREET", city="TESTVILLE", state="NY", postal_code="12345")
SUBMITTER = x12.Submitter(
    name="TEST IOP CLINIC", identifier="TESTETIN01", contact_name="TEST BILLER", phone="5555550100"
)
RECEIVER = x12.Receiver(name="TEST CLEARINGHOUSE", identifier="TESTRCV01")
PROVIDER = x12.BillingProvider(
    name="TEST IOP CLINIC",
    npi=BILLING_NPI,
    ein="990000001",
    address=x12.Address(
        line1="1 TEST STREET", city="TESTVILLE", state="NY", postal_code="123451234"
    ),
    taxonomy="261QR0405X",
)
MEDICARE = x12.Payer(name="TEST MEDICARE MAC", payer_id="TESTMAC01", claim_filing_indicator="MA")
COMMERCIAL = x12.Payer(name="TEST HEALTH PLAN", payer_id="TESTPLAN1", claim_filing_indicator="CI")
SUBSCRIBER_PERSON = x12.Person(
    last_name="TESTPATIENT",
    first_name="ALEX",
    birth_date=dt.date(1960, 5, 17),
    gender="U",
    address=ADDRESS,
)
SUBSCRIBER = x12.Subscriber(person=SUBSCRIBER_PERSON, member_id="TESTMBI0001")
CHILD = x12.Patient(
    person=x12.Person(
        last_name="TESTPATIENT",
        first_name="JORDAN",
        birth_date=dt.date(2008, 2, 3),
        gender="F",
        address=ADDRESS,
    ),
    relationship="19",
)
ATTENDING = x12.Provider(last_name="TESTDOCTOR", first_name="SAM", npi=ATTENDING_NPI)


def per_diem_lines(
    start: dt.date, days: int, charge: str = "596.00"
) -> tuple[x12.InstitutionalLine, ...]:
    return tuple(
        x12.InstitutionalLine(
            revenue_code="0906",
            hcpcs="H0015",
            charge=Decimal(charge),
            units=Decimal(1),
            service_date=start + dt.timedelta(days=i),
        )
        for i in range(days)
    )


def institutional_claim(**overrides: Any) -> x12.InstitutionalClaim:
    values: dict[str, Any] = dict(
        patient_control_number="TESTPCN0001",
        subscriber=SUBSCRIBER,
        payer=COMMERCIAL,
        frequency=x12.ClaimFrequency.ADMIT_THROUGH_DISCHARGE,
        principal_diagnosis="F10.20",
        other_diagnoses=("F32.1",),
        assignment="A",
        benefits_assignment="Y",
        release_of_information="Y",
        facility_code="13",
        statement_from=dt.date(2024, 2, 5),
        statement_to=dt.date(2024, 2, 9),
        patient_status="01",
        prior_authorization="TESTAUTH1",
        attending=ATTENDING,
        lines=per_diem_lines(dt.date(2024, 2, 5), 5),
    )
    values.update(overrides)
    return x12.InstitutionalClaim(**values)


def interchange(
    *claims: x12.InstitutionalClaim | x12.ProfessionalClaim, control: int = 1
) -> x12.Interchange:
    return x12.Interchange(
        envelope=envelope(control),
        submitter=SUBMITTER,
        receiver=RECEIVER,
        billing_provider=PROVIDER,
        claims=claims,
    )


def medicare_interim(
    frequency: x12.ClaimFrequency, start: dt.date, status: str, **kw: Any
) -> x12.InstitutionalClaim:
    end = start + dt.timedelta(days=6)
    lines = tuple(
        x12.InstitutionalLine(
            revenue_code="0905",
            hcpcs=code,
            charge=Decimal("120.00"),
            units=Decimal(1),
            service_date=day,
        )
        for day in (start, start + dt.timedelta(days=2), start + dt.timedelta(days=4))
        for code in ("G0410", "90853", "G0176")
    )
    return institutional_claim(
        patient_control_number=f"TESTMCR{frequency.value}{start:%m%d}",
        payer=MEDICARE,
        frequency=frequency,
        statement_from=start,
        statement_to=end,
        patient_status=status,
        condition_codes=("92",),
        prior_authorization=None,
        lines=lines,
        **kw,
    )


# --- tests ----------------------------------------------------------------------------------


def test_npi_helper_makes_luhn_valid_numbers() -> None:
    # The worked example from CMS's NPI check-digit note: 123456789 -> check digit 3.
    assert npi_with_check_digit("123456789") == "1234567893"
    assert luhn_ok(BILLING_NPI) and luhn_ok(ATTENDING_NPI)
    assert not luhn_ok("1234567890")


def test_837i_per_diem_h0015_over_several_days_is_valid() -> None:
    text = x12.write_837i(interchange(institutional_claim()))
    assert_valid(text)
    segs = segments(text)
    sv2 = [s for s in segs if s[0] == "SV2"]
    assert [s[1] for s in sv2] == ["0906"] * 5
    assert all(s[2] == "HC:H0015" and s[3] == "596" and s[4] == "UN" and s[5] == "1" for s in sv2)
    dates = [s[3] for s in segs if s[0] == "DTP" and s[1] == "472"]
    assert dates == ["20240205", "20240206", "20240207", "20240208", "20240209"]
    clm = next(s for s in segs if s[0] == "CLM")
    assert clm[1] == "TESTPCN0001" and clm[2] == "2980" and clm[5] == "13:A:1"
    assert ["DTP", "434", "RD8", "20240205-20240209"] in segs
    assert ["REF", "G1", "TESTAUTH1"] in segs
    assert ["HI", "ABK:F1020"] in segs and ["HI", "ABF:F321"] in segs
    assert ["NM1", "85", "2", "TEST IOP CLINIC", "", "", "", "", "XX", BILLING_NPI] in segs
    assert ["REF", "EI", "990000001"] in segs
    assert ["PRV", "BI", "PXC", "261QR0405X"] in segs


def test_837i_medicare_interim_series_is_valid_and_carries_status_30_and_cc_92() -> None:
    first = medicare_interim(x12.ClaimFrequency.INTERIM_FIRST, dt.date(2024, 1, 1), "30")
    middle = medicare_interim(x12.ClaimFrequency.INTERIM_CONTINUING, dt.date(2024, 1, 8), "30")
    last = medicare_interim(x12.ClaimFrequency.INTERIM_LAST, dt.date(2024, 1, 15), "01")
    for control, claim in enumerate((first, middle, last), start=10):
        text = x12.write_837i(interchange(claim, control=control))
        assert_valid(text)
        segs = segments(text)
        clm = next(s for s in segs if s[0] == "CLM")
        assert clm[5] == f"13:A:{claim.frequency.value}"
        assert ["HI", "BG:92"] in segs
        cl1 = next(s for s in segs if s[0] == "CL1")
        assert cl1[-1] == claim.patient_status
        assert not any(s[0] == "REF" and s[1] == "F8" for s in segs)
    # The three claims also go together in one interchange.
    assert_valid(x12.write_837i(interchange(first, middle, last, control=20)))


def test_sequential_frequency() -> None:
    f = x12.sequential_frequency
    assert f(first=True, last=True) is x12.ClaimFrequency.ADMIT_THROUGH_DISCHARGE
    assert f(first=True, last=False) is x12.ClaimFrequency.INTERIM_FIRST
    assert f(first=False, last=False) is x12.ClaimFrequency.INTERIM_CONTINUING
    assert f(first=False, last=True) is x12.ClaimFrequency.INTERIM_LAST


def test_interim_claims_refuse_a_wrong_patient_status() -> None:
    with pytest.raises(ValueError, match="status 30"):
        medicare_interim(x12.ClaimFrequency.INTERIM_FIRST, dt.date(2024, 1, 1), "01")
    with pytest.raises(ValueError, match="status 30"):
        medicare_interim(x12.ClaimFrequency.INTERIM_CONTINUING, dt.date(2024, 1, 1), "01")
    with pytest.raises(ValueError, match="cannot have patient status 30"):
        institutional_claim(patient_status="30")


@pytest.mark.parametrize(
    "frequency", [x12.ClaimFrequency.REPLACEMENT, x12.ClaimFrequency.VOID], ids=["7", "8"]
)
def test_replacement_and_void_carry_the_payer_claim_control_number(
    frequency: x12.ClaimFrequency,
) -> None:
    claim = institutional_claim(frequency=frequency, original_claim_reference="TESTICN000123")
    text = x12.write_837i(interchange(claim))
    assert_valid(text)
    segs = segments(text)
    assert next(s for s in segs if s[0] == "CLM")[5] == f"13:A:{frequency.value}"
    assert ["REF", "F8", "TESTICN000123"] in segs
    # REF*G1 precedes REF*F8 in the 2300 loop.
    refs = [s[1] for s in segs if s[0] == "REF"]
    assert refs.index("G1") < refs.index("F8")


def test_payer_claim_control_number_only_with_corrections() -> None:
    with pytest.raises(ValueError, match="payer control number"):
        institutional_claim(frequency=x12.ClaimFrequency.VOID)
    with pytest.raises(ValueError, match="only on a replacement or void"):
        institutional_claim(original_claim_reference="TESTICN000123")


def professional_claim(**overrides: Any) -> x12.ProfessionalClaim:
    values: dict[str, Any] = dict(
        patient_control_number="TESTPCN0P01",
        subscriber=SUBSCRIBER,
        payer=COMMERCIAL,
        frequency=x12.ClaimFrequency.ADMIT_THROUGH_DISCHARGE,
        principal_diagnosis="F10.20",
        other_diagnoses=("F41.1", "F32.1"),
        assignment="A",
        benefits_assignment="Y",
        release_of_information="Y",
        place_of_service="11",
        provider_signature_on_file=True,
        rendering=x12.Provider(
            last_name="TESTCOUNSELOR", first_name="RIVER", npi=ATTENDING_NPI, taxonomy="101YA0400X"
        ),
        lines=(
            x12.ProfessionalLine(
                hcpcs="H0015",
                modifiers=("HF",),
                charge=Decimal("250.00"),
                units=Decimal(1),
                service_date=dt.date(2024, 2, 5),
                diagnosis_pointers=(1, 2),
            ),
            x12.ProfessionalLine(
                hcpcs="H0015",
                modifiers=("HF", "95"),
                charge=Decimal("250.50"),
                units=Decimal(1),
                service_date=dt.date(2024, 2, 6),
                place_of_service="10",
                diagnosis_pointers=(1, 3),
            ),
        ),
    )
    values.update(overrides)
    return x12.ProfessionalClaim(**values)


def test_837p_with_sv1_and_place_of_service_is_valid() -> None:
    text = x12.write_837p(interchange(professional_claim()))
    assert_valid(text)
    segs = segments(text)
    assert ["ST", "837", "0008", "005010X222A1"] in segs
    clm = next(s for s in segs if s[0] == "CLM")
    assert clm[2] == "500.5" and clm[5] == "11:B:1" and clm[6:10] == ["Y", "A", "Y", "Y"]
    sv1 = [s for s in segs if s[0] == "SV1"]
    assert sv1[0] == ["SV1", "HC:H0015:HF", "250", "UN", "1", "", "", "1:2"]
    # A line's own place of service is sent only when it differs from the claim's.
    assert sv1[1] == ["SV1", "HC:H0015:HF:95", "250.5", "UN", "1", "10", "", "1:3"]
    assert ["HI", "ABK:F1020", "ABF:F411", "ABF:F321"] in segs
    assert ["PRV", "PE", "PXC", "101YA0400X"] in segs


def test_837p_replacement_is_valid() -> None:
    claim = professional_claim(
        frequency=x12.ClaimFrequency.REPLACEMENT, original_claim_reference="TESTICN9"
    )
    text = x12.write_837p(interchange(claim))
    assert_valid(text)
    assert ["REF", "F8", "TESTICN9"] in segments(text)


def test_837p_refuses_interim_frequencies() -> None:
    with pytest.raises(ValueError, match="institutional claims only"):
        professional_claim(frequency=x12.ClaimFrequency.INTERIM_FIRST)


@pytest.mark.parametrize("kind", ["837I", "837P"])
def test_subscriber_who_is_not_the_patient_gets_a_2000c_loop(kind: str) -> None:
    if kind == "837I":
        text = x12.write_837i(interchange(institutional_claim(patient=CHILD)))
    else:
        text = x12.write_837p(interchange(professional_claim(patient=CHILD)))
    assert_valid(text)
    segs = segments(text)
    hls = [s for s in segs if s[0] == "HL"]
    assert hls == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "22", "1"],
        ["HL", "3", "2", "23", "0"],
    ]
    sbr = next(s for s in segs if s[0] == "SBR")
    assert sbr[2] == ""  # SBR02 is 18 only when the subscriber is the patient
    assert ["PAT", "19"] in segs
    assert ["NM1", "QC", "1", "TESTPATIENT", "JORDAN"] in segs
    # 2010BA carries no address or demographics when the patient is someone else.
    nm1_il = next(i for i, s in enumerate(segs) if s[:2] == ["NM1", "IL"])
    assert segs[nm1_il + 1][:2] == ["NM1", "PR"]
    assert ["DMG", "D8", "20080203", "F"] in segs
    assert ["DMG", "D8", "19600517", "U"] not in segs


def test_subscriber_is_patient_has_no_2000c_loop() -> None:
    segs = segments(x12.write_837i(interchange(institutional_claim())))
    assert [s for s in segs if s[0] == "HL"] == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "22", "0"],
    ]
    assert next(s for s in segs if s[0] == "SBR")[2] == "18"
    assert ["DMG", "D8", "19600517", "U"] in segs
    assert not any(s[0] == "PAT" for s in segs)


def test_segment_counts_and_control_numbers() -> None:
    claims = (
        institutional_claim(),
        institutional_claim(patient=CHILD, patient_control_number="TESTPCN0002"),
    )
    text = x12.write_837i(interchange(*claims, control=4321))
    assert_valid(text)
    segs = segments(text)
    isa, gs, st = segs[0], segs[1], segs[2]
    se, ge, iea = segs[-3], segs[-2], segs[-1]
    assert isa[13] == "000004321" == iea[2]
    assert gs[6] == "4421" == ge[2]
    assert st[2] == "4328" == se[2]
    assert int(se[1]) == len(segs) - 4  # ST..SE inclusive: everything but ISA, GS, GE, IEA
    assert ge[1] == "1" and iea[1] == "1"
    assert gs[8] == st[3] == "005010X223A2"
    assert isa[9:11] == ["240301", "0930"] and gs[4:6] == ["20240301", "0930"]
    assert len(segs[0]) == 17 and len("*".join(isa)) == 105  # fixed-length ISA
    assert isa[11] == "^" and isa[16] == ":"
    # Two claims: one HL 22 each, HL numbers unique and parents pointing back.
    hls = [s for s in segs if s[0] == "HL"]
    assert [h[1] for h in hls] == ["1", "2", "3", "4"]
    assert [h[3] for h in hls] == ["20", "22", "22", "23"]
    assert hls[3][2] == "3"


def test_a_broken_interchange_is_reported_by_the_validator() -> None:
    text = x12.write_837i(interchange(institutional_claim()))
    se = next(seg for seg in text.split("~") if seg.startswith("SE*"))
    count = int(se.split("*")[1])
    broken = text.replace(se, f"SE*{count + 3}*{se.split('*')[2]}")
    ok, findings = validate(broken)
    assert not ok and findings
    # A required segment removed (CL1) is an error too.
    cl1 = next(seg for seg in text.split("~") if seg.startswith("CL1*"))
    ok, findings = validate(text.replace(cl1 + "~", ""))
    assert not ok and findings
    # A bad code value (CLM05-2 must be A on an 837I).
    ok, findings = validate(text.replace(":A:1*", ":B:1*"))
    assert not ok and findings


def test_total_charge_is_the_sum_of_lines_and_money_is_exact() -> None:
    claim = institutional_claim(lines=per_diem_lines(dt.date(2024, 2, 5), 3, charge="259.13"))
    assert claim.total_charge == Decimal("777.39")
    with pytest.raises(ValueError, match="cents"):
        x12.InstitutionalLine(
            revenue_code="0906",
            charge=Decimal("1.001"),
            units=Decimal(1),
            service_date=dt.date(2024, 1, 1),
        )
    with pytest.raises(TypeError):
        x12.InstitutionalLine(
            revenue_code="0906",
            charge=1.5,  # type: ignore[arg-type]
            units=Decimal(1),
            service_date=dt.date(2024, 1, 1),
        )


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        x12.Address(line1="1 TEST*STREET", city="TESTVILLE", state="NY", postal_code="12345")
    with pytest.raises(ValueError, match="procedure code"):
        x12.InstitutionalLine(
            revenue_code="0906",
            hcpcs="H001",
            charge=Decimal(1),
            units=Decimal(1),
            service_date=dt.date(2024, 1, 1),
        )
    with pytest.raises(ValueError, match="outside the statement period"):
        institutional_claim(lines=per_diem_lines(dt.date(2024, 3, 1), 1))
    with pytest.raises(TypeError, match="InstitutionalClaim"):
        x12.write_837i(interchange(professional_claim()))
    with pytest.raises(TypeError, match="ProfessionalClaim"):
        x12.write_837p(interchange(institutional_claim()))
    with pytest.raises(ValueError, match="does not carry"):
        professional_claim(other_diagnoses=())


def test_line_item_control_numbers_go_in_ref_6r_after_the_service_date() -> None:
    from dataclasses import replace

    base = institutional_claim()
    lines = tuple(
        replace(line, control_number=f"TESTPCN0001-{n}")
        for n, line in enumerate(base.lines, start=1)
    )
    text = x12.write_837i(interchange(institutional_claim(lines=lines)))
    assert_valid(text)
    segs = segments(text)
    refs = [s for s in segs if s[0] == "REF" and s[1] == "6R"]
    assert [s[2] for s in refs] == [f"TESTPCN0001-{n}" for n in range(1, 6)]
    first_ref = segs.index(refs[0])
    assert segs[first_ref - 1][:2] == ["DTP", "472"]

    pro = professional_claim()
    pro_lines = tuple(replace(line, control_number=f"L{n}") for n, line in enumerate(pro.lines))
    text = x12.write_837p(interchange(professional_claim(lines=pro_lines)))
    assert_valid(text)
    assert [s[2] for s in segments(text) if s[:2] == ["REF", "6R"]] == ["L0", "L1"]
    # Without control numbers nothing is written.
    assert not any(s[:2] == ["REF", "6R"] for s in segments(x12.write_837p(interchange(pro))))
