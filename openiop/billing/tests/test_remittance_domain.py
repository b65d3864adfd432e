"""The pure 835 remittance module (openiop.billing.domain.remittance).

Every 835 this file writes is checked by pyx12 against its 005010X221A1 map (the local fixture
`pyx12_findings`: pyx12's verdict, its JSON error tree and its error log; pyx12 cannot write a
999 for an 835 because its 999 writer needs ST03, which the 835 map marks Not Used). All people,
payers and numbers are fictional; CARC/RARC values are used as bare codes only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

# A dev dependency, imported plainly: a missing validator fails the run instead of skipping it.
import pyx12.params
import pyx12.x12n_document

from openiop.billing.domain import remittance as r

D = Decimal
Findings = Callable[[str], list[str]]


@pytest.fixture
def pyx12_findings(caplog: pytest.LogCaptureFixture) -> Findings:
    """Validate an interchange with pyx12; return what it found (empty: valid)."""

    def bad_nodes(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if node.get("errors"):
                yield from (str(e) for e in node["errors"])
            if node.get("ack_code") not in (None, "A"):
                yield f"ack code {node['ack_code']} for {node.get('trn_set_id') or node}"
            for value in node.values():
                yield from bad_nodes(value)
        elif isinstance(node, list):
            for item in node:
                yield from bad_nodes(item)

    def check(text: str) -> list[str]:
        caplog.clear()
        tree = io.StringIO()
        with caplog.at_level(logging.ERROR, logger="pyx12"):
            valid = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(),
                src_file=io.StringIO(text),
                fd_997=None,
                fd_html=None,
                fd_json=tree,
            )
        found = [rec.getMessage() for rec in caplog.records if rec.name.startswith("pyx12")]
        found.extend(bad_nodes(json.loads(tree.getvalue() or "{}")))
        if not valid and not found:
            found.append("pyx12 says the interchange is not valid")
        return found

    return check


def assert_valid_835(text: str, findings: Findings) -> None:
    problems = findings(text)
    if problems:
        print(text.replace("~", "~\n"))
    assert problems == []


# --- the scenario: a payer pays some lines, adjusts others, denies one claim, and pays one claim
# --- we never sent ------------------------------------------------------------------------------

ENVELOPE = r.EnvelopeIds(
    sender_qualifier="ZZ",
    sender_id="TESTPAYER",
    receiver_qualifier="ZZ",
    receiver_id="TESTCLINIC",
    application_sender_code="TESTPAYER",
    application_receiver_code="TESTCLINIC",
    date=dt.date(2024, 3, 15),
    time="1200",
    interchange_control_number=123,
    group_control_number=45,
    transaction_set_control_number="0001",
    usage="T",
)
PAYER = r.Payer(
    name="TEST HEALTH PLAN",
    identifier=None,
    address=r.PartyAddress(line1="1 PAYER WAY", city="TESTVILLE", state="NY", postal_code="12345"),
    contacts=(
        r.Contact("CX", "TEST CLAIMS DESK", (("TE", "5555550198"),)),
        r.Contact("BL", "TEST EDI DESK", (("TE", "5555550199"), ("EM", "edi@example.test"))),
    ),
    references=(r.Reference("2U", "TESTPAYER1"),),
)
PAYEE = r.Payee(
    name="TEST IOP CLINIC",
    id_qualifier="XX",
    identifier="1234567893",
    references=(r.Reference("TJ", "990000001"),),
)
TESTY = r.PersonName("MCTESTFACE", "TESTY", id_qualifier="MI", identifier="TESTMBI0001")
SUNNY = r.PersonName("TESTPERSON", "SUNNY", id_qualifier="MI", identifier="TESTMBI0002")


def svc(
    billed: str,
    paid: str,
    day: int,
    *adjustments: r.Adjustment,
    code: str = "H0015",
    modifiers: tuple[str, ...] = ("HF",),
    **kw: Any,
) -> r.ServicePayment:
    return r.ServicePayment(
        procedure=r.Procedure("HC", code, modifiers),
        billed=D(billed),
        paid=D(paid),
        units_paid=D(1),
        service_date=dt.date(2024, 2, day),
        adjustments=adjustments,
        **kw,
    )


def adj(group: str, reason: str, amount: str) -> r.Adjustment:
    return r.Adjustment(group, reason, D(amount))


PARTLY_PAID = r.ClaimPayment(
    patient_control_number="TESTPCN0001",
    status="1",
    billed=D("750.00"),
    paid=D("380.00"),
    patient_responsibility=D("20.00"),
    filing_indicator="12",
    payer_claim_control_number="TESTICN0001",
    facility_code="11",
    frequency="1",
    patient=TESTY,
    references=(r.Reference("EA", "TESTMRN0001"),),
    lines=(
        svc("250.00", "180.00", 5, adj("CO", "45", "50.00"), adj("PR", "2", "20.00")),
        svc("250.00", "200.00", 6, adj("CO", "45", "50.00"), line_control_number="TESTLINE02"),
        svc("250.00", "0", 7, adj("CO", "50", "250.00"), remark_codes=("N115",)),
    ),
)
DENIED = r.ClaimPayment(
    patient_control_number="TESTPCN0002",
    status="4",
    billed=D("596.00"),
    paid=D("0"),
    filing_indicator="12",
    payer_claim_control_number="TESTICN0002",
    facility_code="13",
    patient=SUNNY,
    remark_codes=("MA130",),
    statement_from=dt.date(2024, 2, 12),
    statement_to=dt.date(2024, 2, 12),
    lines=(
        svc(
            "596.00",
            "0",
            12,
            adj("CO", "197", "596.00"),
            modifiers=(),
            revenue_code="0906",
            remark_codes=("N54",),
        ),
    ),
)
NOT_OURS = r.ClaimPayment(
    patient_control_number="TESTPCN0099",
    status="1",
    billed=D("250.00"),
    paid=D("200.00"),
    filing_indicator="12",
    payer_claim_control_number="TESTICN0099",
    patient=r.PersonName("UNKNOWN", "NOBODY"),
    lines=(svc("250.00", "200.00", 8, adj("CO", "45", "50.00")),),
    header_number=2,
)
CLAIM_LEVEL = r.ClaimPayment(
    patient_control_number="TESTPCN0003",
    status="1",
    billed=D("1192.00"),
    paid=D("900.00"),
    patient_responsibility=D("100.00"),
    filing_indicator="12",
    payer_claim_control_number="TESTICN0003",
    patient=TESTY,
    insured=TESTY,
    adjustments=(adj("CO", "45", "192.00"), adj("PR", "1", "100.00")),
    statement_from=dt.date(2024, 2, 19),
    statement_to=dt.date(2024, 2, 20),
    header_number=2,
)
RECOVERY = r.ProviderAdjustment(
    provider_identifier="1234567893",
    fiscal_period_date=dt.date(2024, 12, 31),
    reason="WO",
    reference="TESTICN0777",
    amount=D("25.00"),
)
REMIT = r.Remittance835(
    envelope=ENVELOPE,
    payment=r.PaymentInfo(
        handling_code="I",
        amount=D("1455.00"),  # 380 + 0 + 200 + 900 paid on claims, less the 25 recovered
        credit_debit="C",
        method="CHK",
        date=dt.date(2024, 3, 15),
    ),
    trace=r.Trace(trace_number="TESTCHK0001", payer_identifier="1990000009"),
    payer=PAYER,
    payee=PAYEE,
    claims=(PARTLY_PAID, DENIED, NOT_OURS, CLAIM_LEVEL),
    provider_adjustments=(RECOVERY,),
    production_date=dt.date(2024, 3, 14),
)


def line(
    line_id: str, day: int, billed: str = "250.00", modifiers: tuple[str, ...] = ("HF",), **kw: Any
) -> r.IndexedLine:
    return r.IndexedLine(
        id=line_id,
        code=kw.pop("code", "H0015"),
        modifiers=modifiers,
        service_date=dt.date(2024, 2, day),
        billed=D(billed),
        **kw,
    )


INDEX: dict[str, r.IndexedClaim] = {
    "TESTPCN0001": r.IndexedClaim(
        "CLM-1",
        (line("L-11", 5), line("L-12", 6, line_control_number="TESTLINE02"), line("L-13", 7)),
    ),
    "TESTPCN0002": r.IndexedClaim(
        "CLM-2", (line("L-21", 12, "596.00", modifiers=(), revenue_code="0906"),)
    ),
    "TESTPCN0003": r.IndexedClaim(
        "CLM-3",
        (
            line("L-31", 19, "596.00", modifiers=(), revenue_code="0906"),
            line("L-32", 20, "596.00", modifiers=(), revenue_code="0906"),
        ),
    ),
}


def remit_with(*claims: r.ClaimPayment, **kw: Any) -> r.Remittance835:
    """REMIT with other claims, its BPR02 recomputed so the transaction balances."""
    plb = kw.get("provider_adjustments", ())
    total = sum((c.paid for c in claims), D(0)) - sum((a.amount for a in plb), D(0))
    payment = dataclasses.replace(REMIT.payment, amount=max(total, D(0)))
    return dataclasses.replace(
        REMIT,
        claims=claims,
        payment=payment,
        provider_adjustments=plb,
        **{k: v for k, v in kw.items() if k != "provider_adjustments"},
    )


def segments(text: str) -> list[list[str]]:
    return [seg.split("*") for seg in text.split("~") if seg]


# --- writing and validating ----------------------------------------------------------------------


def test_the_written_835_is_valid_and_says_what_was_paid(pyx12_findings: Findings) -> None:
    text = r.write_835(REMIT)
    assert_valid_835(text, pyx12_findings)
    segs = segments(text)
    assert segs[2] == ["ST", "835", "0001"]  # no ST03: Not Used in the 835 map
    assert segs[1][1] == "HP" and segs[1][8] == "005010X221A1"
    assert ["BPR", "I", "1455", "C", "CHK", *[""] * 11, "20240315"] in segs
    assert ["TRN", "1", "TESTCHK0001", "1990000009"] in segs
    assert ["CLP", "TESTPCN0001", "1", "750", "380", "20", "12", "TESTICN0001", "11", "1"] in segs
    assert ["SVC", "HC:H0015:HF", "250", "180", "", "1"] in segs
    assert ["CAS", "CO", "45", "50"] in segs and ["CAS", "PR", "2", "20"] in segs
    assert ["REF", "6R", "TESTLINE02"] in segs and ["LQ", "HE", "N115"] in segs
    assert ["MOA", "", "", "MA130"] in segs
    # Two claim-level adjustments of different groups: two CAS segments, in the order given.
    assert ["CAS", "CO", "45", "192"] in segs and ["CAS", "PR", "1", "100"] in segs
    assert [s[1] for s in segs if s[0] == "LX"] == ["1", "2"]
    assert ["PLB", "1234567893", "20241231", "WO:TESTICN0777", "25"] in segs
    se = next(s for s in segs if s[0] == "SE")
    assert int(se[1]) == len(segs) - 4 and se[2] == "0001"
    assert len("*".join(segs[0])) == 105 and segs[0][16] == ":"


def test_the_validator_rejects_a_broken_835(pyx12_findings: Findings) -> None:
    text = r.write_835(REMIT)
    # A claim filing indicator the 835 does not list (CI is an 837 code, not an 835 one).
    assert pyx12_findings(text.replace("*12*TESTICN0001", "*CI*TESTICN0001"))
    # A wrong segment count.
    se = next(seg for seg in text.split("~") if seg.startswith("SE*"))
    assert pyx12_findings(text.replace(se, "SE*99*0001"))
    # A required segment removed: the patient's name.
    nm1 = next(seg for seg in text.split("~") if seg.startswith("NM1*QC*1*TESTPERSON"))
    assert pyx12_findings(text.replace(nm1 + "~", ""))


def test_round_trip_write_then_parse_gives_the_same_data() -> None:
    assert r.parse_835(r.write_835(REMIT)) == REMIT


def test_round_trip_with_other_separators_and_line_breaks(pyx12_findings: Findings) -> None:
    delimiters = r.Delimiters(segment="'", element="|", component=">", repetition="!")
    text = r.write_835(REMIT, delimiters=delimiters)
    assert text.startswith("ISA|00|") and "HC>H0015>HF" in text and "*" not in text
    assert_valid_835(text, pyx12_findings)
    assert r.parse_835(text) == REMIT
    assert r.parse_835(text.replace("'", "'\r\n")) == REMIT
    assert r.parse_835(r.write_835(REMIT).replace("~", "~\n")) == REMIT


def test_round_trip_of_a_fuller_remittance(pyx12_findings: Findings) -> None:
    fuller = dataclasses.replace(
        REMIT,
        payment=dataclasses.replace(
            REMIT.payment,
            handling_code="C",
            method="ACH",
            bank=r.BankDetails(
                format_code="CCP",
                sender_dfi_qualifier="01",
                sender_dfi_id="999999992",
                sender_account_qualifier="DA",
                sender_account="TESTACCT1",
                payer_identifier="1990000009",
                receiver_dfi_qualifier="01",
                receiver_dfi_id="999999992",
                receiver_account_qualifier="DA",
                receiver_account="TESTACCT2",
            ),
        ),
        trace=dataclasses.replace(REMIT.trace, originating_supplemental_code="TESTSUPP"),
        payer=dataclasses.replace(
            PAYER,
            contacts=(*PAYER.contacts, r.Contact("IC", None, (("UR", "www.example.test"),))),
        ),
        payee=dataclasses.replace(
            PAYEE,
            address=r.PartyAddress("1 TEST STREET", "TESTVILLE", "SUITE 2", "NY", "123451234"),
        ),
        receiver_identifier="TESTRECV",
        claims=(
            dataclasses.replace(
                PARTLY_PAID,
                lines=(
                    *PARTLY_PAID.lines[:2],
                    dataclasses.replace(
                        PARTLY_PAID.lines[2],
                        procedure=r.Procedure("HC", "H0015"),
                        submitted_procedure=r.Procedure("HC", "H0015", ("HF", "95")),
                        submitted_units=D(1),
                        service_date=None,
                        period_start=dt.date(2024, 2, 7),
                        period_end=dt.date(2024, 2, 7),
                        adjustments=(
                            r.Adjustment("CO", "50", D("200.00"), D(1)),
                            r.Adjustment("CO", "45", D("50.00")),
                        ),
                        references=(r.Reference("G1", "TESTAUTH1"),),
                    ),
                ),
            ),
            *REMIT.claims[1:],
        ),
        provider_adjustments=(
            RECOVERY,
            dataclasses.replace(RECOVERY, reason="L6", reference=None, amount=D("-2.50")),
        ),
    )
    text = r.write_835(fuller)
    assert_valid_835(text, pyx12_findings)
    segs = segments(text)
    assert ["CAS", "CO", "50", "200", "1", "45", "50"] in segs  # one CAS, two reasons
    assert ["SVC", "HC:H0015", "250", "0", "", "1", "HC:H0015:HF:95", "1"] in segs
    assert ["PLB", "1234567893", "20241231", "WO:TESTICN0777", "25", "L6", "-2.5"] in segs
    assert r.parse_835(text) == fuller


def test_the_writer_refuses_what_it_cannot_send() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        r.write_835(dataclasses.replace(REMIT, payee=dataclasses.replace(PAYEE, name="A*B")))
    with pytest.raises(ValueError, match="PER\\*BL"):
        r.write_835(
            dataclasses.replace(
                REMIT, payer=dataclasses.replace(PAYER, contacts=PAYER.contacts[:1])
            )
        )
    with pytest.raises(ValueError, match="cents"):
        r.write_835(remit_with(dataclasses.replace(NOT_OURS, paid=D("1.005"))))
    with pytest.raises(ValueError, match="filing code"):
        r.write_835(remit_with(dataclasses.replace(NOT_OURS, filing_indicator="CI")))
    with pytest.raises(ValueError, match="distinct"):
        r.Delimiters(segment="*")


# --- parsing: what is carried, what is an error -------------------------------------------------


def test_parse_reads_the_payment_trace_and_parties() -> None:
    remit = r.parse_835(r.write_835(REMIT))
    assert remit.payment.amount == D("1455.00") and remit.payment.method == "CHK"
    assert remit.trace.trace_number == "TESTCHK0001"
    assert remit.envelope.interchange_control_number == 123
    assert remit.envelope.sender_id == "TESTPAYER"  # the ISA padding is gone
    assert remit.payer.name == "TEST HEALTH PLAN" and remit.payee.identifier == "1234567893"
    first = remit.claims[0]
    assert first.lines[1].line_control_number == "TESTLINE02"
    assert first.lines[2].remark_codes == ("N115",)
    assert [a.group + a.reason for a in first.lines[0].adjustments] == ["CO45", "PR2"]
    assert remit.claims[1].remark_codes == ("MA130",)
    assert remit.provider_adjustments == (RECOVERY,)
    assert remit.not_carried == ()


def _fix_se(text: str) -> str:
    segs = text.split("~")
    st = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    segs[se] = f"SE*{se - st + 1}*{segs[se].split('*')[2]}"
    return "~".join(segs)


def test_situational_and_foreign_segments_are_listed_not_lost() -> None:
    text = r.write_835(REMIT)
    text = text.replace(
        "NM1*QC*1*MCTESTFACE*TESTY****MI*TESTMBI0001~",
        "NM1*QC*1*MCTESTFACE*TESTY****MI*TESTMBI0001~AMT*AU*750~ZZZ*1~",
        1,
    )
    text = _fix_se(text.replace("MOA***MA130~", "MOA*0.8*100*MA130~"))
    segs = text.split("~")
    remit = r.parse_835(text)
    assert [(s.segment_id, s.why) for s in remit.not_carried] == [
        ("AMT", "situational AMT in the claim payment loop 2100, not carried"),
        ("ZZZ", "not an 835 segment (claim payment loop 2100)"),
        ("MOA", "MOA rates and amounts, not carried (remark codes are)"),
    ]
    amt = next(s for s in remit.not_carried if s.segment_id == "AMT")
    assert segs[amt.number - 1].startswith("AMT*AU")  # numbered from the ISA, 1-based
    assert remit.claims[1].remark_codes == ("MA130",)
    assert dataclasses.replace(remit, not_carried=()) == REMIT


def _number_of(text: str, starts: str) -> int:
    return next(i for i, s in enumerate(text.split("~"), start=1) if s.startswith(starts))


@pytest.mark.parametrize(
    ("change", "at", "message"),
    [
        (("NM1*QC*1*TESTPERSON*SUNNY****MI*TESTMBI0002~", ""), "CLP*TESTPCN0002", "NM1\\*QC"),
        (("CLP*TESTPCN0001*1*750", "CLP*TESTPCN0001*7*750"), "CLP*TESTPCN0001", "CLP02"),
        (
            ("SVC*HC:H0015:HF*250*180", "SVC*HC:H0015:HF*250*180.005"),
            "SVC*HC:H0015:HF*250*180",
            "cents",
        ),
        (("CAS*CO*45*192", "CAS*CR*45*192"), "CAS*CR", "CAS01"),
        (("PER*BL*TEST EDI DESK*TE*5555550199*EM*edi@example.test~", ""), "N1*PR", "PER\\*BL"),
        (("DTM*472*20240205", "DTM*472*20240231"), "DTM*472*20240231", "calendar date"),
        (("N1*PE*TEST IOP CLINIC*XX", "N1*PE*TEST IOP CLINIC*ZZ"), "N1*PE", "N103"),
        (("TRN*1*TESTCHK0001*1990000009~", ""), "DTM*405", "TRN"),
        (("LX*1~", ""), "CLP*TESTPCN0001", "header number"),
    ],
    ids=[
        "no-patient",
        "status",
        "cents",
        "group-CR",
        "no-PER-BL",
        "date",
        "payee-qual",
        "no-TRN",
        "no-LX",
    ],
)
def test_a_broken_835_names_the_segment(change: tuple[str, str], at: str, message: str) -> None:
    text = _fix_se(r.write_835(REMIT).replace(*change, 1))
    with pytest.raises(r.RemittanceParseError, match=message) as caught:
        r.parse_835(text)
    assert isinstance(caught.value, ValueError)
    assert caught.value.segment_number == _number_of(text, at)
    assert str(caught.value).startswith(f"Segment {caught.value.segment_number} (")


def test_envelope_errors() -> None:
    text = r.write_835(REMIT)
    with pytest.raises(r.RemittanceParseError, match="SE01"):
        r.parse_835(text.replace("SE*", "SE*1", 1))
    with pytest.raises(r.RemittanceParseError, match="IEA02"):
        r.parse_835(text.replace("IEA*1*000000123", "IEA*1*000000124"))
    with pytest.raises(r.RemittanceParseError, match="GS08"):
        r.parse_835(text.replace("*X*005010X221A1", "*X*005010X222A1"))
    with pytest.raises(r.RemittanceParseError, match="ISA"):
        r.parse_835("GS*HP~" + text)
    with pytest.raises(r.RemittanceParseError, match="follow the IEA"):
        r.parse_835(text + "ST*835*0002~")
    with pytest.raises(r.RemittanceParseError, match="ends where"):
        r.parse_835(text[: text.index("GE*")])
    with pytest.raises(r.RemittanceParseError, match="00501"):
        r.parse_835(text.replace("*00501*", "*00401*", 1))


def test_several_transaction_sets_in_one_interchange() -> None:
    first = r.write_835(REMIT)
    second = r.write_835(
        dataclasses.replace(
            remit_with(NOT_OURS),
            envelope=dataclasses.replace(ENVELOPE, transaction_set_control_number="0002"),
        )
    )
    body = second[second.index("ST*") : second.index("GE*")]
    both = first.replace("GE*1*", body + "GE*2*")
    remits = r.parse_835_all(both)
    assert [x.envelope.transaction_set_control_number for x in remits] == ["0001", "0002"]
    assert remits[0] == REMIT and remits[1].claims == (NOT_OURS,)
    with pytest.raises(r.RemittanceParseError, match="parse_835_all"):
        r.parse_835(both)


# --- matching and posting -------------------------------------------------------------------------


def test_round_trip_then_match_gives_the_postings_worklist_queue_and_report() -> None:
    plan = r.match_remittance(r.parse_835(r.write_835(REMIT)), INDEX)
    P = r.PostingKind
    assert [
        (p.claim_key, p.line_id, p.kind, p.amount, p.group, p.reason, p.remark_codes)
        for p in plan.postings
    ] == [
        ("CLM-1", "L-11", P.PAYMENT, D("180"), None, None, ()),
        ("CLM-1", "L-11", P.CONTRACTUAL_WRITE_OFF, D("50"), "CO", "45", ()),
        ("CLM-1", "L-11", P.PATIENT_RESPONSIBILITY, D("20"), "PR", "2", ()),
        ("CLM-1", "L-12", P.PAYMENT, D("200"), None, None, ()),
        ("CLM-1", "L-12", P.CONTRACTUAL_WRITE_OFF, D("50"), "CO", "45", ()),
        ("CLM-1", "L-13", P.DENIAL, D("250"), "CO", "50", ("N115",)),
        ("CLM-2", "L-21", P.DENIAL, D("596"), "CO", "197", ("N54",)),
        ("CLM-3", None, P.PAYMENT, D("900"), None, None, ()),
        ("CLM-3", None, P.CONTRACTUAL_WRITE_OFF, D("192"), "CO", "45", ()),
        ("CLM-3", None, P.PATIENT_RESPONSIBILITY, D("100"), "PR", "1", ()),
    ]
    assert [(c.claim_key, c.outcome) for c in plan.claims] == [
        ("CLM-1", r.ClaimOutcome.PARTIALLY_PAID),
        ("CLM-2", r.ClaimOutcome.DENIED),
        ("CLM-3", r.ClaimOutcome.PAID),
    ]
    assert [(m.position, m.line_id, m.matched_by) for m in plan.claims[0].lines] == [
        (1, "L-11", "code, modifiers, date and charge"),
        (2, "L-12", "line control number"),
        (3, "L-13", "code, modifiers, date and charge"),
    ]
    assert [(t.claim_key, t.line_id, t.amount) for t in plan.patient_transfers] == [
        ("CLM-1", "L-11", D("20")),
        ("CLM-3", None, D("100")),
    ]
    assert [c.patient_responsibility for c in plan.claims] == [D("20"), D("0"), D("100")]
    # The denial worklist, by payer and reason, with a next action chosen by group.
    assert [
        (d.payer_id, d.claim_key, d.line_id, d.group, d.reason, d.amount) for d in plan.denials
    ] == [
        ("1990000009", "CLM-1", "L-13", "CO", "50", D("250")),
        ("1990000009", "CLM-2", "L-21", "CO", "197", D("596")),
    ]
    assert all(d.next_action == r.next_action("CO", d.status) for d in plan.denials)
    assert "may not be billed" in plan.denials[0].next_action
    assert list(plan.denials_by_payer_and_reason()) == [
        ("1990000009", "CO", "197"),
        ("1990000009", "CO", "50"),
    ]
    # The claim we never sent waits, whole, in the unmatched queue.
    assert [
        (u.patient_control_number, u.amount_paid, u.line, u.reason) for u in plan.unmatched
    ] == [
        ("TESTPCN0099", D("200"), None, "no claim has patient control number TESTPCN0099"),
    ]
    assert plan.unmatched[0].claim == NOT_OURS
    # Everything paid is either posted or waiting; with the PLB it adds up to the check.
    assert plan.posted_payments == D("1280")
    assert plan.posted_payments + plan.unmatched_payments - D("25") == REMIT.payment.amount
    assert plan.provider_adjustments == (RECOVERY,)
    assert plan.problems == ()
    assert [(x.status.value, x.text) for x in plan.report] == [
        ("posted", "Posted $180.00 payment to line 1 (H0015:HF, 2024-02-05) of claim CLM-1 (TESTPCN0001)."),
        ("posted", "Wrote off $50.00 (CO-45) on line 1 (H0015:HF, 2024-02-05) of claim CLM-1 (TESTPCN0001)."),
        ("posted", "Moved $20.00 (PR-2) to the patient's balance from line 1 (H0015:HF, 2024-02-05) of claim CLM-1 (TESTPCN0001)."),
        ("posted", "Posted $200.00 payment to line 2 (H0015:HF, 2024-02-06) of claim CLM-1 (TESTPCN0001)."),
        ("posted", "Wrote off $50.00 (CO-45) on line 2 (H0015:HF, 2024-02-06) of claim CLM-1 (TESTPCN0001)."),
        ("posted", "Denied $250.00 (CO-50) on line 3 (H0015:HF, 2024-02-07) of claim CLM-1 (TESTPCN0001): left open and put on the denial worklist."),
        ("note", "Claim TESTPCN0001 (payer claim TESTICN0001): partially paid."),
        ("posted", "Denied $596.00 (CO-197) on line 1 (H0015, 2024-02-12) of claim CLM-2 (TESTPCN0002): left open and put on the denial worklist."),
        ("note", "Claim TESTPCN0002 (payer claim TESTICN0002): denied."),
        ("could not post", "Could not match claim TESTPCN0099 (payer claim TESTICN0099), paid $200.00: no claim has patient control number TESTPCN0099. It waits in the unmatched queue with its lines and adjustments."),
        ("posted", "Posted $900.00 payment to claim CLM-3 (TESTPCN0003) at claim level."),
        ("posted", "Wrote off $192.00 (CO-45) on claim CLM-3 (TESTPCN0003) at claim level."),
        ("posted", "Moved $100.00 (PR-1) to the patient's balance from claim CLM-3 (TESTPCN0003) at claim level."),
        ("note", "Claim TESTPCN0003 (payer claim TESTICN0003): paid."),
        ("note", "Provider-level adjustment WO TESTICN0777 of $25.00 (reduces the payment): belongs to no claim line; book it at provider level."),
    ]  # fmt: skip


def test_balancing_problems_are_reported_not_raised() -> None:
    unbalanced_line = dataclasses.replace(
        PARTLY_PAID,
        lines=(dataclasses.replace(PARTLY_PAID.lines[0], paid=D("170.00")), *PARTLY_PAID.lines[1:]),
    )
    wrong_pr = dataclasses.replace(CLAIM_LEVEL, patient_responsibility=D("90.00"))
    remit = dataclasses.replace(
        REMIT, claims=(unbalanced_line, wrong_pr), provider_adjustments=()
    )  # BPR02 still says 1455
    plan = r.match_remittance(remit, INDEX)
    assert [(p.where, p.message) for p in plan.problems] == [
        (
            "Claim TESTPCN0001 (payer claim TESTICN0001), remittance line 1",
            "does not balance: billed $250.00 less paid $170.00 less adjustments leaves $10.00.",
        ),
        (
            "Claim TESTPCN0003 (payer claim TESTICN0003)",
            "states patient responsibility $90.00 (CLP05) but its PR adjustments total $100.00.",
        ),
        (
            "Remittance TESTCHK0001",
            "does not balance: the claims pay $1,280.00, less provider-level adjustments $0.00, "
            "but BPR02 says $1,455.00.",
        ),
    ]
    # The claim itself still balances (CLP04 is 380) but its lines pay 370: the difference is
    # posted at claim level so the payments posted add up to CLP04.
    claim = plan.claims[0]
    assert sum(p.amount for p in claim.postings if p.kind is r.PostingKind.PAYMENT) == D("380")
    assert [p.amount for p in claim.postings if p.line_id is None] == [D("10")]
    assert sum(1 for x in plan.report if x.status is r.ReportStatus.PROBLEM) == 3

    unbalanced_claim = dataclasses.replace(CLAIM_LEVEL, paid=D("901.00"))
    plan = r.match_remittance(remit_with(unbalanced_claim), INDEX)
    assert [p.message for p in plan.problems] == [
        "does not balance: billed $1,192.00 less paid $901.00 less every adjustment leaves -$1.00."
    ]


def test_lines_match_by_control_number_else_by_attributes_else_wait() -> None:
    # The payer changed the code (SVC06 carries what we billed) and dropped the date on one
    # line; another line's REF*6R wins over its attributes; a third matches nothing.
    changed = dataclasses.replace(
        PARTLY_PAID.lines[0],
        procedure=r.Procedure("HC", "H2019"),
        submitted_procedure=r.Procedure("HC", "H0015", ("HF",)),
    )
    by_control = dataclasses.replace(PARTLY_PAID.lines[1], service_date=dt.date(2024, 2, 9))
    # Same code, modifiers and date as our third line, another charge: not that line.
    stranger = dataclasses.replace(
        PARTLY_PAID.lines[2], billed=D("240.00"), adjustments=(adj("CO", "50", "240.00"),)
    )
    claim = dataclasses.replace(
        PARTLY_PAID, billed=D("740.00"), lines=(changed, by_control, stranger)
    )
    plan = r.match_remittance(remit_with(claim), INDEX)
    assert [(m.line_id, m.matched_by) for m in plan.claims[0].lines] == [
        ("L-11", "code, modifiers, date and charge"),
        ("L-12", "line control number"),
        (None, None),
    ]
    assert [(u.claim_key, u.line, u.amount_paid) for u in plan.unmatched] == [
        ("CLM-1", stranger, D("0")),
    ]
    assert plan.unmatched[0].reason == "no open line has the same code, modifiers, date and charge"
    assert [x.text for x in plan.report if x.status is r.ReportStatus.NOT_POSTED] == [
        "Could not match remittance line 3 (H0015:HF, 2024-02-07, billed $240.00) of claim "
        "CLM-1 (TESTPCN0001): no open line has the same code, modifiers, date and charge. Its "
        "payment $0.00 and adjustments wait in the unmatched queue."
    ]
    # Nothing is posted to the line that matched nothing.
    assert all(p.line_id != "L-13" for p in plan.postings)


def test_two_identical_remittance_lines_go_to_two_lines() -> None:
    twin = r.IndexedClaim("CLM-9", (line("L-91", 5), line("L-92", 5)))
    paid = svc("250.00", "250.00", 5)
    claim = dataclasses.replace(
        PARTLY_PAID, billed=D("500.00"), paid=D("500.00"), patient_responsibility=None,
        lines=(paid, paid),
    )  # fmt: skip
    plan = r.match_remittance(remit_with(claim), {"TESTPCN0001": twin})
    assert [m.line_id for m in plan.claims[0].lines] == ["L-91", "L-92"]
    assert plan.claims[0].outcome is r.ClaimOutcome.PAID


def test_an_institutional_line_matches_by_revenue_code() -> None:
    nu = r.ServicePayment(
        procedure=r.Procedure("NU", "0906"),
        billed=D("596.00"),
        paid=D("596.00"),
        service_date=dt.date(2024, 2, 12),
    )
    claim = dataclasses.replace(DENIED, status="1", paid=D("596.00"), lines=(nu,))
    plan = r.match_remittance(remit_with(claim), INDEX)
    assert plan.claims[0].lines[0].line_id == "L-21"
    assert plan.claims[0].outcome is r.ClaimOutcome.PAID and plan.denials == ()


def test_a_reversal_posts_negated_amounts_and_no_denial() -> None:
    def negate(a: r.Adjustment) -> r.Adjustment:
        return dataclasses.replace(a, amount=-a.amount)

    reversal = dataclasses.replace(
        PARTLY_PAID,
        status="22",
        billed=-PARTLY_PAID.billed,
        paid=-PARTLY_PAID.paid,
        patient_responsibility=D("-20.00"),
        lines=tuple(
            dataclasses.replace(
                x, billed=-x.billed, paid=-x.paid, adjustments=tuple(map(negate, x.adjustments))
            )
            for x in PARTLY_PAID.lines
        ),
    )
    corrected = PARTLY_PAID
    remit = remit_with(reversal, corrected)
    # CLP05 need not equal the PR adjustments on a reversal ([clp05]): no problem either way.
    unstated = r.match_remittance(
        remit_with(dataclasses.replace(reversal, patient_responsibility=None), corrected), INDEX
    )
    assert unstated.problems == ()
    assert remit.payment.amount == D(0)
    plan = r.match_remittance(remit, INDEX)
    assert plan.problems == ()
    assert [c.outcome for c in plan.claims] == [
        r.ClaimOutcome.REVERSED,
        r.ClaimOutcome.PARTIALLY_PAID,
    ]
    reversed_postings = plan.claims[0].postings
    assert sum(p.amount for p in reversed_postings) == D("-750")
    assert all(p.kind is not r.PostingKind.DENIAL for p in reversed_postings)
    assert sum(p.amount for p in plan.postings) == D(0)  # undone, then posted again
    assert len(plan.denials) == 1  # only the corrected claim's denied line
    texts = [x.text for x in plan.report]
    assert (
        "Reversed $180.00 payment on line 1 (H0015:HF, 2024-02-05) of claim CLM-1 (TESTPCN0001)."
        in texts
    )
    assert "Reversed the contractual write-off of $50.00 (CO-45) on line 1 (H0015:HF, 2024-02-05) of claim CLM-1 (TESTPCN0001)." in texts  # fmt: skip
    assert r.parse_835(r.write_835(remit)) == remit


def test_claim_statuses_drive_the_outcome_and_next_action() -> None:
    not_ours = dataclasses.replace(
        CLAIM_LEVEL,
        status="23",
        paid=D("0"),
        patient_responsibility=None,
        adjustments=(adj("OA", "109", "1192.00"),),
    )
    pricing = dataclasses.replace(CLAIM_LEVEL, status="25")
    forwarded = dataclasses.replace(CLAIM_LEVEL, status="19")
    deductible = dataclasses.replace(
        CLAIM_LEVEL,
        paid=D("0"),
        patient_responsibility=D("1000.00"),
        adjustments=(adj("CO", "45", "192.00"), adj("PR", "1", "1000.00")),
    )
    bare_denial = dataclasses.replace(
        CLAIM_LEVEL, status="4", paid=D("0"), patient_responsibility=None, adjustments=()
    )
    for claim, outcome in [
        (not_ours, r.ClaimOutcome.NOT_OUR_CLAIM),
        (pricing, r.ClaimOutcome.PRICING_ONLY),
        (forwarded, r.ClaimOutcome.PAID),
        (deductible, r.ClaimOutcome.APPLIED_TO_PATIENT),
        (bare_denial, r.ClaimOutcome.DENIED),
    ]:
        plan = r.match_remittance(remit_with(claim), INDEX)
        assert plan.claims[0].outcome is outcome, claim.status
        if claim is not_ours:
            assert [(d.group, d.reason, d.amount) for d in plan.denials] == [
                ("OA", "109", D("1192"))
            ]
            assert "status 23" in plan.denials[0].next_action
            assert plan.postings[0].kind is r.PostingKind.DENIAL
        elif claim is pricing:
            assert plan.postings == () and plan.denials == ()
            assert "predetermination" in plan.report[0].text
        elif claim is forwarded:
            assert plan.claims[0].forwarded_to_another_payer
            assert any("forwarded to another payer" in x.text for x in plan.report)
            assert plan.denials == ()
        elif claim is deductible:
            assert plan.denials == ()
            assert [p.amount for p in plan.patient_transfers] == [D("1000")]
        else:
            assert [(d.group, d.reason, d.amount) for d in plan.denials] == [
                (None, None, D("1192"))
            ]
            assert plan.denials[0].next_action == r.next_action(None, "4")


def test_pr_on_a_denied_claim_moves_to_the_patient_and_is_worked() -> None:
    denied_pr = dataclasses.replace(
        CLAIM_LEVEL,
        status="4",
        paid=D("0"),
        patient_responsibility=D("1192.00"),
        adjustments=(adj("PR", "27", "1192.00"),),
    )
    plan = r.match_remittance(remit_with(denied_pr), INDEX)
    assert [(p.kind, p.amount) for p in plan.postings] == [
        (r.PostingKind.PATIENT_RESPONSIBILITY, D("1192"))
    ]
    assert [(d.group, d.reason) for d in plan.denials] == [("PR", "27")]
    assert "bill the patient" in plan.denials[0].next_action


def test_next_actions_differ_by_group_and_never_by_reason_code() -> None:
    actions = {group: r.next_action(group, "4") for group in ("CO", "PI", "OA", "PR", None)}
    assert len(set(actions.values())) == 5
    assert "may not be billed" in actions["CO"]
    assert "not the patient's to pay" in actions["PI"]
    assert "do not bill the patient" in actions["OA"]
    assert "bill the patient" in actions["PR"]
    assert r.next_action("CO", "23") != actions["CO"]
    assert r.next_action("CO", "1") == actions["CO"]


def test_a_paid_line_with_only_patient_responsibility_is_not_a_denial() -> None:
    deductible_line = svc("250.00", "0", 7, adj("PR", "1", "250.00"))
    claim = dataclasses.replace(
        PARTLY_PAID,
        paid=D("380.00"),
        patient_responsibility=D("270.00"),
        lines=(*PARTLY_PAID.lines[:2], deductible_line),
    )
    plan = r.match_remittance(remit_with(claim), INDEX)
    assert plan.denials == () and plan.problems == ()
    assert plan.claims[0].outcome is r.ClaimOutcome.PAID
    assert plan.claims[0].patient_responsibility == D("270")


def test_claim_billed_amount_differing_from_ours_is_a_problem() -> None:
    index = {**INDEX, "TESTPCN0003": r.IndexedClaim("CLM-3", (line("L-31", 19, "596.00"),))}
    plan = r.match_remittance(remit_with(CLAIM_LEVEL), index)
    assert [p.message for p in plan.problems] == [
        "bills $1,192.00 on the remittance; our claim CLM-3 totals $596.00."
    ]
    assert plan.claims[0].postings  # still posted: the payer's numbers are what was paid


def test_dollars() -> None:
    assert r.dollars(D("1234.5")) == "$1,234.50"
    assert r.dollars(D("-20")) == "-$20.00"
    assert r.dollars(D("0")) == "$0.00"


def test_a_claim_level_adjustment_beside_lines_keeps_payments_equal_to_clp04() -> None:
    # The lines pay 380 but the payer takes 7.60 off at claim level: CLP04 is 372.40.
    claim = dataclasses.replace(
        PARTLY_PAID, paid=D("372.40"), adjustments=(adj("CO", "253", "7.60"),)
    )
    plan = r.match_remittance(remit_with(claim), INDEX)
    assert plan.problems == ()
    claim_level = [(p.kind, p.amount) for p in plan.postings if p.line_id is None]
    assert claim_level == [
        (r.PostingKind.PAYMENT, D("-7.60")),
        (r.PostingKind.CONTRACTUAL_WRITE_OFF, D("7.60")),
    ]
    assert plan.posted_payments == D("372.40")
    assert (
        "Posted -$7.60 payment to claim CLM-1 (TESTPCN0001) at claim level: the claim payment "
        "less the line payments."
    ) in [x.text for x in plan.report]
