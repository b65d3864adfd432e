"""Claim pages over HTTP: the billing worklist's tabs, a claim's page and its actions (mark
ready, export and download, void with confirmation), who may open them, the navigation link, and
the worklist's query count pinned whatever the number of claims."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from openiop.audit.models import AuditEntry
from openiop.billing.models import Claim, ClaimExport
from openiop.billing.tests.test_claims_services import WEEK, Office, office  # noqa: F401
from openiop.billing.tests.x12_validation import assert_valid
from openiop.testing import page_query_count

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

TABS = ("unbilled", "charges", "draft", "ready", "submitted", "denied", "aging")


def _claims(office: Office, names: tuple[str, ...]) -> list[Claim]:  # noqa: F811
    for name in names:
        patient, episode, coverage = office.patient(name, office.commercial)
        for day in WEEK:
            office.charge(patient, episode, coverage, day)
    office.build()
    return list(Claim.objects.order_by("id"))


def _worklist(office: Office, tab: str, **extra: str) -> str:  # noqa: F811
    query = "&".join(f"{k}={v}" for k, v in {"site": office.site.pk, "tab": tab, **extra}.items())
    return f"{reverse('billing:worklist')}?{query}"


@pytest.mark.parametrize("who", ["billing", "director"])
def test_the_worklist_tabs_and_the_claim_page_render_for_billing_and_the_director(
    office: Office,  # noqa: F811
    client: Client,
    mfa_passed: None,
    who: str,
) -> None:
    (claim,) = _claims(office, ("Zephyrine",))
    client.force_login(office.users[who])
    for tab in TABS:
        response = client.get(_worklist(office, tab))
        assert response.status_code == 200, tab
    draft = client.get(_worklist(office, "draft")).text
    assert claim.patient_control_number in draft and "Zephyrine" in draft
    page = client.get(reverse("billing:claim", kwargs={"claim_id": claim.pk})).text
    assert "H0015" in page and claim.lines.first().line_control_number in page  # type: ignore[union-attr]
    assert f'href="{reverse("billing:worklist")}"' in page


def test_a_clinician_is_refused_and_the_refusal_audited(
    office: Office,  # noqa: F811
    client: Client,
    mfa_passed: None,
) -> None:
    (claim,) = _claims(office, ("Zephyrine",))
    client.force_login(office.users["clinician"])
    assert client.get(_worklist(office, "draft")).status_code == 403
    assert client.get(reverse("billing:claim", kwargs={"claim_id": claim.pk})).status_code == 403
    assert AuditEntry.objects.filter(
        outcome="denied", user_id=office.users["clinician"].pk
    ).exists()
    assert reverse("billing:worklist") not in client.get(reverse("programs:schedule")).text


def test_the_navigation_links_to_the_worklist_for_billing(
    office: Office,  # noqa: F811
    client: Client,
    mfa_passed: None,
) -> None:
    client.force_login(office.users["billing"])
    assert f'href="{reverse("billing:worklist")}"' in client.get(reverse("billing:payers")).text


def test_search_finds_a_claim_by_patient_and_by_claim_number(
    office: Office,  # noqa: F811
    client: Client,
    mfa_passed: None,
) -> None:
    first, second = _claims(office, ("Zephyrine", "Quillon"))
    client.force_login(office.users["billing"])
    page = client.get(_worklist(office, "draft", q="quillon")).text
    assert second.patient_control_number in page and first.patient_control_number not in page
    page = client.get(_worklist(office, "draft", q=first.patient_control_number)).text
    assert first.patient_control_number in page and second.patient_control_number not in page
    assert "No draft claim matches" in client.get(_worklist(office, "draft", q="nobody")).text


def test_mark_ready_export_download_and_void_with_confirmation(
    office: Office,  # noqa: F811
    client: Client,
    mfa_passed: None,
) -> None:
    (claim,) = _claims(office, ("Zephyrine",))
    client.force_login(office.users["billing"])
    url = reverse("billing:claim", kwargs={"claim_id": claim.pk})
    client.post(url, {"action": "ready", "version": claim.version})
    claim.refresh_from_db()
    assert claim.state == "ready"

    response = client.post(url, {"action": "export", "version": claim.version}, follow=True)
    export = ClaimExport.objects.get()
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{export.file_name}"'
    assert_valid(response.content.decode())
    claim.refresh_from_db()
    assert claim.state == "submitted"

    Claim.objects.filter(pk=claim.pk).update(state="accepted", payer_claim_control_number="ICN7")
    claim.refresh_from_db()
    asked = client.post(url, {"action": "void", "version": claim.version})
    assert asked.status_code == 200 and "Yes, make the void" in asked.text
    assert Claim.objects.count() == 1
    client.post(url, {"action": "void", "version": claim.version, "confirm": "1"})
    void = Claim.objects.exclude(pk=claim.pk).get()
    assert void.frequency == "8" and void.replaces_id == claim.pk


def test_the_worklist_makes_as_many_queries_for_many_claims_as_for_one(
    office: Office,  # noqa: F811
    client: Client,
    mfa_passed: None,
) -> None:
    client.force_login(office.users["billing"])
    _claims(office, ("Zephyrine",))
    one = {tab: page_query_count(client, _worklist(office, tab)) for tab in TABS}
    _claims(office, ("Quillon", "Bartholomew", "Ottoline"))
    many = {tab: page_query_count(client, _worklist(office, tab)) for tab in TABS}
    assert one == many
    assert one["draft"] <= 20, one


def test_the_charges_tab_searches_pages_and_pins_its_queries_and_says_when_empty(
    office: Office,  # noqa: F811
    client: Client,
) -> None:
    client.force_login(office.users["billing"])
    url = _worklist(office, "charges")
    assert "No charges posted yet at" in client.get(url).text
    patient, episode, coverage = office.patient("Zephyrine", office.commercial)
    office.charge(patient, episode, coverage, WEEK[0])
    small = page_query_count(client, url)
    for name in ("Quillon", "Bartholomew"):
        patient, episode, coverage = office.patient(name, office.commercial)
        for day in WEEK:
            office.charge(patient, episode, coverage, day)
    assert page_query_count(client, url) == small
    page = client.get(url + "&q=Quillon").text
    assert "Testperson, Quillon" in page and "Testperson, Zephyrine" not in page
    assert "No charge matches" in client.get(url + "&q=nobody-by-this-name").text


def test_posting_charges_from_the_worklist_keeps_the_input_on_a_refusal(
    office: Office,  # noqa: F811
    client: Client,
) -> None:
    client.force_login(office.users["billing"])
    url = _worklist(office, "charges")
    # The office's clock is 2026-11-02: a period ending today is not over yet.
    refused = client.post(
        url,
        {
            "site": office.site.pk,
            "action": "post_charges",
            "period_start": "2026-10-01",
            "period_end": "2026-11-02",
        },
    )
    assert refused.status_code == 422
    assert 'value="2026-11-02"' in refused.text
    done = client.post(
        url,
        {
            "site": office.site.pk,
            "action": "post_charges",
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
        },
        follow=True,
    )
    assert "Posted 2026-10-01 to 2026-10-31" in done.text
    assert AuditEntry.objects.filter(object_type="charge_posting").exists()
