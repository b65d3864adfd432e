"""A posted 835 on the patient's ledger and in A/R aging (issue 16 points 5-7): the payer's
payment and contractual write-off lower the insurance balance, the PR amount moves to the
patient once, a denied line stays with the payer, a paid claim leaves A/R; the ledger page and
the balances list read no more queries with remittances than without (no N+1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from openiop.billing.domain import ledger as rules
from openiop.billing.domain import remittance as r
from openiop.billing.models import Claim, DenialWorkItem
from openiop.billing.selectors_accounts import balances_for, patient_ledger
from openiop.billing.selectors_claims import claims_aging
from openiop.billing.services.remittances import denial_work, remittance_import
from openiop.billing.tests.remittance_books import (
    RemitBooks,
    adj,
    clp,
    make_remit_books,
    remit,
    svc,
)
from openiop.core.errors import RuleViolation
from openiop.testing import page_query_count

pytestmark = pytest.mark.django_db
D = Decimal
PAID_ON = dt.date(2026, 11, 20)  # remittance_books' BPR16
SENT = dt.date(2026, 11, 1)


@pytest.fixture
def books() -> RemitBooks:
    return make_remit_books()


def _import(books: RemitBooks, *claims: r.ClaimPayment, trace: str = "TRACE0001") -> None:
    remittance_import(
        by=books.actor("billing"),
        name=f"{trace}.835",
        text=r.write_835(remit(*claims, trace=trace)),
    )


def _paid_with_deductible(pcn: str) -> r.ClaimPayment:
    # Two lines of 250.00: line 1 paid 200 (CO-45 20, PR-1 30), line 2 paid 180 (CO-45 50, PR-2 20).
    return clp(
        pcn,
        "1",
        "500",
        "380",
        (
            svc("250", "200", 0, adj("CO", "45", "20"), adj("PR", "1", "30"), control=f"{pcn}-1"),
            svc("250", "180", 1, adj("CO", "45", "50"), adj("PR", "2", "20"), control=f"{pcn}-2"),
        ),
        pr="50",
    )


def test_a_remittance_lowers_the_insurance_balance_and_moves_the_deductible_to_the_patient_once(
    books: RemitBooks,
) -> None:
    claim = books.claim("RB0001", "Testy", "McTestface", ["250.00", "250.00"])
    actor = books.actor("billing")
    before = patient_ledger(actor=actor, patient_id=claim.patient_id, today=PAID_ON)
    assert (before.balances.insurance, before.balances.patient) == (D("500.00"), D("0.00"))

    _import(books, _paid_with_deductible("RB0001"))

    book = patient_ledger(actor=actor, patient_id=claim.patient_id, today=PAID_ON)
    # 500 billed - 380 paid - 70 CO - 50 PR = 0 with the payer; the 50 PR is the patient's.
    assert (book.balances.insurance, book.balances.patient) == (D("0.00"), D("50.00"))
    kinds = [line.entry.kind for line in book.lines]
    assert kinds.count(rules.EntryKind.PATIENT_RESPONSIBILITY) == 2  # one per line, not twice
    assert kinds.count(rules.EntryKind.PAYER_PAYMENT) == 2
    assert kinds.count(rules.EntryKind.PAYER_ADJUSTMENT) == 2
    texts = [line.description for line in book.lines]
    assert "Payment from BLUEBELL MUTUAL TEST on H0015 on 2026-10-05 (835 TRACE0001)" in texts
    assert "Adjustment CO-45 from BLUEBELL MUTUAL TEST on H0015 on 2026-10-06 (835 TRACE0001)" in (
        texts
    )
    assert book.lines[-1].insurance_balance == D("0.00")
    assert book.aging.days_0_30 == D("50.00")
    # The balances list says the same.
    (row,) = balances_for(actor=actor, patients=[book.patient])
    assert (row.balances.insurance, row.balances.patient) == (D("0.00"), D("50.00"))


def test_a_denied_line_stays_with_the_payer_on_the_ledger_and_in_aging(books: RemitBooks) -> None:
    claim = books.claim("RB0002", "Sunny", "Testperson", ["250.00", "250.00"])
    Claim.objects.filter(pk=claim.pk).update(state="submitted")
    _import(
        books,
        clp(
            "RB0002",
            "1",
            "500",
            "200",
            (
                svc("250", "200", 0, adj("CO", "45", "50"), control="RB0002-1"),
                svc("250", "0", 1, adj("CO", "50", "250"), control="RB0002-2"),
            ),
        ),
    )
    claim.refresh_from_db()
    assert claim.state == "partially_paid"
    book = patient_ledger(actor=books.actor("billing"), patient_id=claim.patient_id, today=PAID_ON)
    # 500 - 200 paid - 50 CO on line 1; line 2's 250 denied stays with the payer.
    assert (book.balances.insurance, book.balances.patient) == (D("250.00"), D("0.00"))
    report = claims_aging(actor=books.actor("billing"), site_id=books.site.pk, as_of=PAID_ON)
    (row,) = report.aging.rows
    assert (row.payer, row.amounts.total, report.claims) == (
        "Bluebell Mutual (fictional)",
        D("250.00"),
        1,
    )


def test_a_denial_written_off_when_closed_leaves_the_insurance_balance_and_aging(
    books: RemitBooks, client: Client
) -> None:
    claim = books.claim("RB0003", "Sunny", "Writeoffson", ["250.00", "250.00"])
    Claim.objects.filter(pk=claim.pk).update(state="submitted")
    _import(
        books,
        clp(
            "RB0003",
            "1",
            "500",
            "200",
            (
                svc("250", "200", 0, adj("CO", "45", "50"), control="RB0003-1"),
                svc("250", "0", 1, adj("CO", "50", "250"), control="RB0003-2"),
            ),
        ),
    )
    denial = DenialWorkItem.objects.get(claim=claim)
    billing = books.actor("billing")
    # Writing off without closing is refused, and changes nothing.
    with pytest.raises(RuleViolation) as refused:
        denial_work(by=billing, item=denial, status="worked", note="Appeal?", write_off=True)
    assert refused.value.code == "write_off_needs_close"
    denial.refresh_from_db()
    assert (denial.status, denial.written_off) == ("open", D("0.00"))

    client.force_login(books.users["billing"])
    url = reverse("billing:denial_work", kwargs={"denial_id": denial.pk})
    response = client.post(
        url,
        {
            "status": "closed",
            "note": "Not medically necessary per payer; appeal window passed.",
            "write_off": "on",
            "version": denial.version,
        },
    )
    assert response.status_code == 302
    denial.refresh_from_db()
    assert (denial.status, denial.written_off) == ("closed", D("250.00"))
    book = patient_ledger(actor=billing, patient_id=claim.patient_id, today=PAID_ON)
    assert (book.balances.insurance, book.balances.patient) == (D("0.00"), D("0.00"))
    assert any(
        "Written off: " in line.description and "(CO-50)" in line.description for line in book.lines
    )
    report = claims_aging(actor=billing, site_id=books.site.pk, as_of=PAID_ON)
    assert (report.aging.rows, report.claims) == ((), 0)
    page = client.get(reverse("billing:claim", kwargs={"claim_id": claim.pk})).text
    assert "<td>0.00</td><td>250.00</td><td>250.00</td><td>0.00</td><td>CO-50 250.00</td>" in page


def test_aging_drops_a_claim_when_it_is_paid_and_keeps_what_is_still_open(
    books: RemitBooks,
) -> None:
    paid = books.claim("RB0001", "Testy", "McTestface", ["250.00", "250.00"])
    books.claim("RB0003", "Ottoline", "Waitsworth", ["250.00"])
    actor = books.actor("billing")
    before = claims_aging(actor=actor, site_id=books.site.pk, as_of=PAID_ON)
    assert (before.aging.total, before.claims) == (D("750.00"), 2)

    _import(books, _paid_with_deductible("RB0001"))

    paid.refresh_from_db()
    assert paid.state == "paid"
    after = claims_aging(actor=actor, site_id=books.site.pk, as_of=PAID_ON)
    # Only Ottoline's unanswered 250.00 is still receivable from the payer.
    assert (after.aging.total, after.claims) == (D("250.00"), 1)


def test_aging_leaves_out_a_claim_whose_correction_was_sent_and_voids(books: RemitBooks) -> None:
    original = books.claim("RB0004", "Testy", "McTestface", ["250.00"], state="denied")
    correction = books.claim("RB0005", "Testy", "McTestface", ["250.00"])
    Claim.objects.filter(pk=correction.pk).update(replaces=original, frequency="7")
    void = books.claim("RB0006", "Sunny", "Testperson", ["100.00"])
    Claim.objects.filter(pk=void.pk).update(frequency="8")
    report = claims_aging(actor=books.actor("billing"), site_id=books.site.pk, as_of=PAID_ON)
    assert (report.aging.total, report.claims) == (D("250.00"), 1)
    # A draft correction has not reached the payer: the original is still receivable.
    Claim.objects.filter(pk=correction.pk).update(state="draft")
    report = claims_aging(actor=books.actor("billing"), site_id=books.site.pk, as_of=PAID_ON)
    assert (report.aging.total, report.claims) == (D("250.00"), 1)
    assert report.aging.rows[0].amounts.total == D("250.00")


def test_remittances_add_no_queries_to_the_ledger_the_balances_list_or_aging(
    books: RemitBooks, client: Client
) -> None:
    first = books.claim("RB0001", "Testy", "McTestface", ["250.00", "250.00"])
    books.claim("RB0009", "Ottoline", "Waitsworth", ["250.00"])  # unanswered: stays in A/R
    client.force_login(books.users["billing"])
    ledger_url = reverse("billing:ledger", args=[first.patient_id])
    balances_url = reverse("billing:balances")
    aging_url = reverse("billing:worklist") + f"?site={books.site.pk}&tab=aging"
    assert client.get(aging_url).status_code == 200
    counts = [page_query_count(client, u) for u in (ledger_url, balances_url, aging_url)]
    _import(books, _paid_with_deductible("RB0001"))
    for n in range(2, 6):
        pcn = f"RB000{n}"
        books.claim(pcn, "Quill", f"Ledgerly{n}", ["250.00", "250.00"])
        _import(books, _paid_with_deductible(pcn), trace=f"TRACE000{n}")
    assert [page_query_count(client, u) for u in (ledger_url, balances_url, aging_url)] == counts
