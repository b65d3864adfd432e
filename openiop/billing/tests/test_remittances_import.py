"""Importing an 835 (billing.services.remittance_import) and working what it leaves: a round trip
through write_835 and the service for claims of a fictional clinic; the amounts posted to claim
lines by CAS group; PR to the patient's balance; a denial on the worklist; an unmatched CLP in
the queue and attached later; a bad file, the same file twice and the same trace number refused
with nothing written; another organization's claims left alone; the command."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from openiop.audit.models import AuditEntry
from openiop.billing.domain import remittance as r
from openiop.billing.models import (
    Claim,
    ClaimEvent,
    DenialWorkItem,
    ImportReportLine,
    PatientResponsibility,
    Remittance,
    RemittancePosting,
    UnmatchedRemittanceItem,
)
from openiop.billing.services.remittances import (
    denial_work,
    remittance_import,
    unmatched_resolve,
)
from openiop.billing.tests.remittance_books import (
    RemitBooks,
    adj,
    clp,
    make_remit_books,
    remit,
    svc,
)
from openiop.billing.tests.test_remittance_domain import (  # noqa: F401 - the fixture
    Findings,
    assert_valid_835,
    pyx12_findings,
)
from openiop.core.errors import NotPermitted, RuleViolation

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def books() -> RemitBooks:
    return make_remit_books()


def scenario(books: RemitBooks) -> tuple[r.Remittance835, dict[str, Claim]]:
    """Testy's claim paid in part with PR, Sunny's denied, one CLP we never sent, and one naming
    another organization's claim."""
    claims = {
        "paid": books.claim("RB0001", "Testy", "McTestface", ["250.00", "250.00"]),
        "denied": books.claim("RB0002", "Sunny", "Testperson", ["250.00"]),
        "foreign": books.claim("EW0001", "Xanthe", "Farberry", ["250.00"], site=books.foreign_site),
    }
    text = remit(
        clp(
            "RB0001",
            "1",
            "500",
            "380",
            (
                svc(
                    "250", "200", 0, adj("CO", "45", "20"), adj("PR", "1", "30"), control="RB0001-1"
                ),
                svc(
                    "250", "180", 1, adj("CO", "45", "50"), adj("PR", "2", "20"), control="RB0001-2"
                ),
            ),
            pr="50",
        ),
        clp("RB0002", "4", "250", "0", (svc("250", "0", 0, adj("CO", "50", "250")),)),
        clp("ZZ9999", "1", "100", "80", (svc("100", "80", 3, adj("CO", "45", "20")),)),
        clp("EW0001", "1", "250", "250", (svc("250", "250", 0),)),
    )
    return text, claims


def test_an_835_round_trip_posts_payments_adjustments_and_patient_share(
    books: RemitBooks,
    pyx12_findings: Findings,  # noqa: F811 - the imported fixture
) -> None:
    data, claims = scenario(books)
    text = r.write_835(data)
    assert_valid_835(text, pyx12_findings)  # the file is a valid 005010X221A1 835
    assert r.parse_835(text) == data  # the file the service reads is the one written
    result = remittance_import(by=books.actor("billing"), name="bluebell.835", text=text)
    remittance = result.remittance
    assert remittance.payment_amount == D("710")
    assert remittance.posted_payments == D("380")
    assert remittance.unmatched_payments == D("330")
    assert remittance.payer == books.payer
    paid = claims["paid"]
    postings = RemittancePosting.objects.filter(claim=paid)
    by_kind: dict[str, Decimal] = {}
    for p in postings:
        by_kind[p.kind] = by_kind.get(p.kind, D(0)) + p.amount
    assert by_kind == {
        "payment": D("380"),
        "contractual write-off": D("70"),
        "patient responsibility": D("50"),
    }
    line1 = paid.lines.get(number=1)
    assert sorted(
        (p.kind, p.group_code, p.reason_code, p.amount) for p in postings.filter(claim_line=line1)
    ) == [
        ("contractual write-off", "CO", "45", D("20")),
        ("patient responsibility", "PR", "1", D("30")),
        ("payment", "", "", D("200")),
    ]
    paid.refresh_from_db()
    assert paid.state == "paid"
    assert paid.payer_claim_control_number == "PAYERRB0001"
    assert ClaimEvent.objects.filter(claim=paid, from_state="submitted", to_state="paid").exists()
    shares = PatientResponsibility.objects.filter(patient=paid.patient).order_by("amount")
    assert [s.amount for s in shares] == [D("20"), D("30")]
    assert all(s.date == data.payment.date for s in shares)
    lines = list(ImportReportLine.objects.filter(remittance=remittance).order_by("line_no"))
    assert [line.line_no for line in lines] == list(range(1, len(lines) + 1))
    texts = "\n".join(line.text for line in lines)
    assert "Posted $200.00 payment to line 1" in texts
    assert {"posted", "could not post"} <= {line.outcome for line in lines}
    entry = AuditEntry.objects.get(object_type="remittance", object_id=str(remittance.pk))
    assert entry.action == "create"
    assert {p.patient_id for p in entry.patients.all()} == {
        paid.patient_id,
        claims["denied"].patient_id,
    }


def test_a_denied_claim_lands_on_the_worklist_with_its_next_action(books: RemitBooks) -> None:
    data, claims = scenario(books)
    remittance_import(by=books.actor("billing"), name="a.835", text=r.write_835(data))
    denied = claims["denied"]
    denied.refresh_from_db()
    assert denied.state == "denied"
    item = DenialWorkItem.objects.get(claim=denied)
    assert (item.group_code, item.reason_code, item.amount, item.status) == (
        "CO",
        "50",
        D("250"),
        "open",
    )
    assert item.payer_name == "BLUEBELL MUTUAL TEST"
    assert item.claim_line == denied.lines.get()
    assert "corrected claim or appeal" in item.next_action
    with pytest.raises(RuleViolation, match="to close it"):
        denial_work(by=books.actor("billing"), item=item, status="closed")
    denial_work(
        by=books.actor("billing"), item=item, status="worked", note="Appeal sent.", take=True
    )
    item.refresh_from_db()
    assert (item.status, item.owner, item.version) == ("worked", books.users["billing"], 2)
    assert "Appeal sent." in item.note
    assert DenialWorkItem.objects.filter(claim=claims["paid"]).count() == 0


def test_another_organizations_claim_is_left_alone_and_waits_unmatched(
    books: RemitBooks,
) -> None:
    data, claims = scenario(books)
    remittance_import(by=books.actor("billing"), name="a.835", text=r.write_835(data))
    foreign = claims["foreign"]
    foreign.refresh_from_db()
    assert foreign.state == "submitted"
    assert foreign.payer_claim_control_number == ""
    assert not RemittancePosting.objects.filter(claim=foreign).exists()
    queued = dict(
        UnmatchedRemittanceItem.objects.values_list("patient_control_number", "amount_paid")
    )
    assert queued == {"ZZ9999": D("80"), "EW0001": D("250")}
    item = UnmatchedRemittanceItem.objects.get(patient_control_number="ZZ9999")
    assert item.line_position is None
    assert item.data["patient_control_number"] == "ZZ9999"
    assert D(item.data["lines"][0]["paid"]) == D("80")


def test_an_unmatched_claim_attached_to_our_claim_posts_then(books: RemitBooks) -> None:
    data, _ = scenario(books)
    remittance = remittance_import(
        by=books.actor("billing"), name="a.835", text=r.write_835(data)
    ).remittance
    ours = books.claim("RB0003", "Pat", "Placeholder", ["100.00"])
    ours.lines.update(service_date=ours.statement_from.replace(day=8))
    item = UnmatchedRemittanceItem.objects.get(patient_control_number="ZZ9999")
    result = unmatched_resolve(by=books.actor("billing"), item=item, claim=ours)
    ours.refresh_from_db()
    assert ours.state == "paid"
    assert sum(p.amount for p in RemittancePosting.objects.filter(claim=ours, kind="payment")) == D(
        "80"
    )
    item.refresh_from_db()
    assert (item.status, item.resolved_to) == ("resolved", ours)
    assert result.remittance.posted_payments == D("460")
    assert result.remittance.unmatched_payments == D("250")
    assert ImportReportLine.objects.filter(
        remittance=remittance, text__contains="attached the unmatched claim"
    ).exists()
    with pytest.raises(RuleViolation, match="already"):
        unmatched_resolve(by=books.actor("billing"), item=item, claim=ours)


def test_a_bad_file_is_refused_naming_the_segment_and_changes_nothing(
    books: RemitBooks,
) -> None:
    data, _ = scenario(books)
    broken = r.write_835(data).replace("CLP*RB0002*4*", "CLP*RB0002*99*")
    with pytest.raises(RuleViolation, match=r"Segment \d+ \(CLP\)") as caught:
        remittance_import(by=books.actor("billing"), name="bad.835", text=broken)
    assert caught.value.field == "file"
    assert not Remittance.objects.exists()
    assert not RemittancePosting.objects.exists()
    assert not PatientResponsibility.objects.exists()
    assert set(Claim.objects.values_list("state", flat=True)) == {"submitted"}
    with pytest.raises(RuleViolation, match="empty"):
        remittance_import(by=books.actor("billing"), name="empty.835", text="  ")


def test_the_same_file_twice_and_the_same_trace_number_are_refused(books: RemitBooks) -> None:
    data, _ = scenario(books)
    text = r.write_835(data)
    remittance_import(by=books.actor("billing"), name="a.835", text=text)
    counts = (RemittancePosting.objects.count(), PatientResponsibility.objects.count())
    with pytest.raises(RuleViolation, match=r"already imported on .* TRACE0001"):
        remittance_import(by=books.actor("billing"), name="again.835", text=text)
    # Another organization is told the file posted once, not whose payment it was.
    with pytest.raises(RuleViolation) as elsewhere:
        remittance_import(by=books.actor("foreign_billing"), name="again.835", text=text)
    assert "already imported" in elsewhere.value.message
    assert "TRACE0001" not in elsewhere.value.message
    # Another file (another interchange number) carrying the same payment's trace number.
    resent = r.write_835(remit(*data.claims, control=777))
    assert resent != text
    with pytest.raises(RuleViolation, match="trace number TRACE0001"):
        remittance_import(by=books.actor("billing"), name="resent.835", text=resent)
    assert Remittance.objects.count() == 1
    assert (RemittancePosting.objects.count(), PatientResponsibility.objects.count()) == counts


def test_only_revenue_staff_import(books: RemitBooks) -> None:
    data, _ = scenario(books)
    with pytest.raises(NotPermitted):
        remittance_import(by=books.actor("clinician"), name="a.835", text=r.write_835(data))
    assert not Remittance.objects.exists()
    assert AuditEntry.objects.filter(
        user_id=books.users["clinician"].pk, outcome="denied", object_type="remittance"
    ).exists()


def test_the_command_prints_the_report_and_exits_2_on_a_bad_file(
    books: RemitBooks, tmp_path: Path
) -> None:
    data, _ = scenario(books)
    good = tmp_path / "good.835"
    good.write_text(r.write_835(data))
    out = io.StringIO()
    call_command(
        "remittances", "import", str(good), "--as", books.users["billing"].username, stdout=out
    )
    printed = out.getvalue()
    assert "Posted $200.00 payment to line 1" in printed
    assert "could not post" in printed
    assert "TRACE0001" in printed
    bad = tmp_path / "bad.835"
    bad.write_text("ISA*nonsense~")
    with pytest.raises(CommandError) as caught:
        call_command("remittances", "import", str(bad), "--as", books.users["billing"].username)
    assert caught.value.returncode == 2
    assert "nothing was posted" in str(caught.value)


def test_an_unmatched_service_line_attached_to_its_line_posts_there(books: RemitBooks) -> None:
    claim = books.claim("RB0005", "Testy", "Linefinder", ["250.00", "250.00"])
    data = remit(
        clp(
            "RB0005",
            "1",
            "500",
            "450",
            (
                svc("250", "225", 0, adj("CO", "45", "25"), control="RB0005-1"),
                # Dated a day the claim never billed and sent without REF*6R: matches no line.
                svc("250", "225", 9, adj("CO", "45", "25")),
            ),
        )
    )
    remittance_import(by=books.actor("billing"), name="a.835", text=r.write_835(data))
    item = UnmatchedRemittanceItem.objects.get()
    assert (item.line_position, item.candidate_claim, item.amount_paid) == (2, claim, D("225"))
    line2 = claim.lines.get(number=2)
    assert not RemittancePosting.objects.filter(claim_line=line2).exists()
    with pytest.raises(RuleViolation, match="Choose the line"):
        unmatched_resolve(by=books.actor("billing"), item=item, claim=claim)
    result = unmatched_resolve(by=books.actor("billing"), item=item, claim=claim, line=line2)
    assert sorted(
        (p.kind, p.amount) for p in RemittancePosting.objects.filter(claim_line=line2)
    ) == [("contractual write-off", D("25")), ("payment", D("225"))]
    # Nothing more at claim level: the CLP's claim-level difference was posted at import.
    assert sum(
        p.amount for p in RemittancePosting.objects.filter(claim=claim, kind="payment")
    ) == D("450")
    assert result.remittance.unmatched_payments == D(0)
    claim.refresh_from_db()
    assert claim.state == "paid"
    assert ClaimEvent.objects.filter(claim=claim).count() == 1  # the import's, not the resolve's


def test_a_reversal_posts_negated_amounts_and_keeps_the_claim_state(books: RemitBooks) -> None:
    data, claims = scenario(books)
    remittance_import(by=books.actor("billing"), name="a.835", text=r.write_835(data))
    reversal = remit(
        clp(
            "RB0001",
            "22",
            "-500",
            "-380",
            (
                svc("-250", "-200", 0, adj("CO", "45", "-20"), adj("PR", "1", "-30"),
                    control="RB0001-1"),
                svc("-250", "-180", 1, adj("CO", "45", "-50"), adj("PR", "2", "-20"),
                    control="RB0001-2"),
            ),
            pr="-50",
        ),
        trace="TRACE0002",
        control=502,
    )  # fmt: skip
    result = remittance_import(by=books.actor("billing"), name="b.835", text=r.write_835(reversal))
    paid = claims["paid"]
    reversed_ = RemittancePosting.objects.filter(remittance=result.remittance, claim=paid)
    assert all(p.reversal for p in reversed_)
    assert sum(p.amount for p in reversed_ if p.kind == "payment") == D("-380")
    assert sum(p.amount for p in RemittancePosting.objects.filter(claim=paid)) == D(0)
    paid.refresh_from_db()
    assert paid.state == "paid"
    assert PatientResponsibility.objects.filter(patient=paid.patient).count() == 2  # unchanged
    problems = [text for outcome, text in result.report if outcome == "problem"]
    assert any("take it off the patient's account by hand" in t for t in problems)


def test_each_claim_state_change_is_audited_with_its_claim(books: RemitBooks) -> None:
    data, claims = scenario(books)
    remittance_import(by=books.actor("billing"), name="a.835", text=r.write_835(data))
    changes = {
        (e.patient_id, e.detail["from"], e.detail["to"])
        for e in AuditEntry.objects.filter(object_type="claim", action="update")
    }
    assert changes == {
        (claims["paid"].patient_id, "submitted", "paid"),
        (claims["denied"].patient_id, "submitted", "denied"),
    }
