"""The remittance pages over HTTP: import through the upload form, the remittance with its report,
the denial worklist (its query count pinned), working a denial, the unmatched queue and attaching
an item; billing staff open them, a clinician is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from openiop.billing.domain import remittance as r
from openiop.billing.models import DenialWorkItem, Remittance, UnmatchedRemittanceItem
from openiop.billing.services.remittances import remittance_import
from openiop.billing.tests.remittance_books import (
    RemitBooks,
    adj,
    clp,
    make_remit_books,
    remit,
    svc,
)
from openiop.billing.tests.test_remittances_import import scenario
from openiop.testing import page_query_count

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def books() -> RemitBooks:
    return make_remit_books()


def imported(books: RemitBooks) -> Remittance:
    data, _ = scenario(books)
    return remittance_import(
        by=books.actor("billing"), name="a.835", text=r.write_835(data)
    ).remittance


def pages(remittance: Remittance) -> list[str]:
    denial = DenialWorkItem.objects.first()
    item = UnmatchedRemittanceItem.objects.first()
    assert denial is not None and item is not None
    return [
        reverse("billing:remittances"),
        reverse("billing:remittance", kwargs={"remittance_id": remittance.pk}),
        reverse("billing:denials"),
        reverse("billing:denial_work", kwargs={"denial_id": denial.pk}),
        reverse("billing:unmatched"),
        reverse("billing:unmatched_resolve", kwargs={"unmatched_id": item.pk}),
    ]


def test_the_pages_render_for_billing_and_are_refused_to_a_clinician(
    books: RemitBooks, client: Client
) -> None:
    remittance = imported(books)
    client.force_login(books.users["billing"])
    for url in pages(remittance):
        assert client.get(url).status_code == 200, url
    client.force_login(books.users["clinician"])
    for url in pages(remittance):
        assert client.get(url).status_code == 403, url


def test_importing_through_the_page_shows_the_report(books: RemitBooks, client: Client) -> None:
    data, _ = scenario(books)
    client.force_login(books.users["billing"])
    upload = SimpleUploadedFile("bluebell.835", r.write_835(data).encode())
    response = client.post(reverse("billing:remittances"), {"file": upload}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Posted $200.00 payment to line 1" in body
    assert "not matched: in the unmatched queue" in body
    again = SimpleUploadedFile("bluebell-again.835", r.write_835(data).encode())
    refused = client.post(reverse("billing:remittances"), {"file": again})
    assert refused.status_code == 422
    assert "already imported" in refused.content.decode()
    assert Remittance.objects.count() == 1
    bad = SimpleUploadedFile("bad.835", b"ISA*nonsense~")
    response = client.post(reverse("billing:remittances"), {"file": bad})
    assert response.status_code == 422
    assert "nothing was posted" in response.content.decode()


def test_the_denial_worklist_groups_by_payer_and_reason_and_its_queries_are_pinned(
    books: RemitBooks, client: Client
) -> None:
    imported(books)
    client.force_login(books.users["billing"])
    url = reverse("billing:denials")
    body = client.get(url).content.decode()
    assert "BLUEBELL MUTUAL TEST · CO-50" in body
    assert "Testperson, Sunny" in body
    assert "McTestface" not in body  # paid, not denied
    assert "corrected claim or appeal" in body
    few = page_query_count(client, url)
    for n in range(4):
        claim = books.claim(f"RB01{n:02d}", "Extra", f"Testcase{n}", ["250.00"])
        remittance_import(
            by=books.actor("billing"),
            name=f"more{n}.835",
            text=r.write_835(
                remit(
                    clp(claim.patient_control_number, "4", "250", "0",
                        (svc("250", "0", 0, adj("CO", "50", "250")),)),
                    trace=f"TRACE1{n}",
                    control=600 + n,
                )
            ),
        )  # fmt: skip
    assert DenialWorkItem.objects.count() == 5
    assert page_query_count(client, url) == few
    searched = client.get(url, {"q": "Testcase2"}).content.decode()
    assert "Testcase2" in searched and "Testperson" not in searched


def test_working_a_denial_and_attaching_an_unmatched_item_through_the_pages(
    books: RemitBooks, client: Client
) -> None:
    imported(books)
    client.force_login(books.users["billing"])
    denial = DenialWorkItem.objects.get()
    url = reverse("billing:denial_work", kwargs={"denial_id": denial.pk})
    refused = client.post(url, {"status": "closed", "version": denial.version})
    assert refused.status_code == 422
    client.post(url, {"status": "worked", "note": "Appeal faxed.", "version": denial.version})
    denial.refresh_from_db()
    assert denial.status == "worked" and "Appeal faxed." in denial.note
    ours = books.claim("RB0003", "Pat", "Placeholder", ["100.00"])
    ours.lines.update(service_date=ours.statement_from.replace(day=8))
    item = UnmatchedRemittanceItem.objects.get(patient_control_number="ZZ9999")
    url = reverse("billing:unmatched_resolve", kwargs={"unmatched_id": item.pk})
    missing = client.post(url, {"claim_number": "NOPE"})
    assert missing.status_code == 422
    client.post(url, {"claim_number": "RB0003"})
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolved_to == ours
    ours.refresh_from_db()
    assert ours.state == "paid"
    queue = client.get(reverse("billing:unmatched")).content.decode()
    assert "ZZ9999" not in queue and "EW0001" in queue


def test_the_claim_page_shows_the_payers_answer_line_by_line(
    books: RemitBooks, client: Client
) -> None:
    """A billing user reads on the claim what the 835 did to each line: paid, written off, moved
    to the patient (with the CARC codes), denied and still open; a claim not answered says so."""
    data, claims = scenario(books)
    client.force_login(books.users["billing"])
    unanswered = client.get(reverse("billing:claim", kwargs={"claim_id": claims["paid"].pk})).text
    assert "No remittance has answered this claim yet." in unanswered
    remittance_import(by=books.actor("billing"), name="a.835", text=r.write_835(data))

    paid = client.get(reverse("billing:claim", kwargs={"claim_id": claims["paid"].pk})).text
    assert "No remittance has answered" not in paid
    # Line 1: 250 charged, 200 paid, CO-45 20 adjusted, PR-1 30 to the patient: none denied,
    # none written off, 0 open.
    assert (
        "<td>250.00</td><td>200.00</td><td>20.00</td><td>30.00</td><td>0.00</td><td>0.00</td>"
        "<td>0.00</td><td>CO-45 20.00; PR-1 30.00</td>"
    ) in paid
    assert "<td>CO-45 50.00; PR-2 20.00</td>" in paid
    denied = client.get(reverse("billing:claim", kwargs={"claim_id": claims["denied"].pk})).text
    # The denied line stays open (the denial worklist holds it) and the page links there.
    assert (
        "<td>250.00</td><td>0.00</td><td>0.00</td><td>0.00</td><td>250.00</td><td>0.00</td>"
        "<td>250.00</td>" in denied
    )
    assert "denial worklist" in denied


def test_the_claim_pages_queries_do_not_grow_with_its_postings(
    books: RemitBooks, client: Client
) -> None:
    data, claims = scenario(books)
    client.force_login(books.users["billing"])
    url = reverse("billing:claim", kwargs={"claim_id": claims["paid"].pk})
    before = page_query_count(client, url)
    remittance_import(by=books.actor("billing"), name="a.835", text=r.write_835(data))
    assert page_query_count(client, url) == before
