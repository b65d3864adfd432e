"""The revenue cycle in the real browser (issue 16 point 9): a clinician takes attendance for
yesterday's three-hour group, the billing user posts the charges, sees them, builds the month's
claim, marks it ready and exports the 837 (validated with pyx12), imports the payer's 835 (paid
with a contractual write-off and a PR-1 deductible), sees the claim paid and the deductible on
the patient's balance, and prints a statement PDF showing it. Screenshots of the key pages are
kept in e2e/artifacts/ (to read them: they are for people)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from e2e.conftest import ARTIFACTS
from openiop.accounts.domain import Role
from openiop.admissions.models import Inquiry
from openiop.billing import services
from openiop.billing.domain import remittance as r
from openiop.billing.models import Claim, Coverage, PayerClaimSetup, TrackClaimSetup
from openiop.billing.tests.x12_validation import assert_valid, npi_with_check_digit
from openiop.consents.services import consent_record
from openiop.core.actor import Actor
from openiop.programs.models import Enrollment
from openiop.testing import (
    PASSWORD,
    make_episode,
    make_org,
    make_patient,
    make_session,
    make_site,
    make_track,
    make_user,
)
from openiop.treatment.models import PlanProblem, TreatmentPlan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
RATE = Decimal("250.00")


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"revenue-{name}.png"), full_page=True)


def make_clinic() -> dict[str, Any]:
    """What a director set up before (payer rules, fee schedule, claim setup, the clinic's NPI)
    and a patient admitted with a coverage, a diagnosis and the Part 2 TPO consent signed at
    intake; yesterday's group, not yet taken."""
    org = make_org(name="Thistledown Recovery (fictional)", mrn_prefix="TD")
    site = make_site(org, name="Thistledown North", timezone="America/Chicago")
    clinician = make_user(
        Role.CLINICIAN, sites=[site], org=org, username="juniper",
        first_name="Juniper", last_name="Groveheart",
    )  # fmt: skip
    make_user(
        Role.BILLING, sites=[site], org=org, username="bramble",
        first_name="Bramble", last_name="Ledgerworth",
    )  # fmt: skip
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    by = Actor(user=director)
    track = make_track(site, name="Adult Day IOP (fictional)", weekly_minimum_minutes=540)
    payer = services.payer_create(
        organization_id=org.pk, name="Bluebell Mutual (fictional)", payer_id="BBM01",
        payer_type="commercial", by=by,
    )  # fmt: skip
    # The payer's own rules (configuration): H0015 per diem from 3 h a day on the 837I, 0906.
    services.payer_billing_create(
        payer=payer, track=track, mode="per_diem", claim_form="837I", per_diem_code="H0015",
        revenue_code="0906", min_minutes_per_day=180, by=by,
    )  # fmt: skip
    services.fee_entry_create(
        payer=payer, track=track, code="H0015", rate=RATE,
        effective_from=dt.date(2026, 1, 1), by=by,
    )  # fmt: skip
    PayerClaimSetup.objects.create(
        payer=payer, period="month", sequential=False, authorization_required=False,
        certification_required=False, patient_status="01", claim_filing_indicator="CI",
        receiver_name="TEST CLEARINGHOUSE", receiver_id="TESTRECEIVER", receiver_qualifier="ZZ",
        receiver_interchange_id="TESTRECEIVER", application_receiver_code="TESTRECEIVER",
        assignment="A", benefits_assignment="Y", release_of_information="Y",
        provider_signature_on_file=True,
    )  # fmt: skip
    TrackClaimSetup.objects.create(
        track=track, claim_form="837I", facility_code="13", rendering_npi_required=False
    )
    services.billing_provider_save(
        by=by,
        site=site,
        values={
            "name": "THISTLEDOWN TEST IOP", "npi": npi_with_check_digit("123456789"),
            "ein": "990000001", "address_line": "2 Fictional Plaza", "city": "Springfield",
            "state": "IL", "postal_code": "627010001", "submitter_name": "THISTLEDOWN TEST IOP",
            "submitter_id": "TESTSUBMITTER", "contact_name": "Testy McTestface",
            "contact_phone": "5555550100", "sender_qualifier": "ZZ",
            "sender_id": "TESTSUBMITTER", "application_sender_code": "TESTSUBMITTER",
            "production": False,
        },
    )  # fmt: skip
    yesterday = timezone.localdate(timezone=site.tz) - dt.timedelta(days=1)
    patient = make_patient(
        site, legal_first_name="Percival", legal_last_name="Pennywhistle",
        address_line="1 Fictional Way", city="Springfield", state="IL", postal_code="62701",
    )  # fmt: skip
    admitted = yesterday - dt.timedelta(days=14)
    episode = make_episode(patient, admission_date=admitted)
    Enrollment.objects.create(episode=episode, track=track, start_date=admitted)
    inquiry = Inquiry.objects.create(
        organization=org, site=site, received_at=timezone.now(), channel="call",
        referral_source="self", first_name="Percival", last_name="Pennywhistle",
        concerns="co_occurring", stage_entered_on=admitted, patient=patient,
    )  # fmt: skip
    Coverage.objects.create(
        inquiry=inquiry, patient=patient, payer=payer, rank="primary", member_id="ZZ0001",
        start_date=dt.date(2026, 1, 1),
    )  # fmt: skip
    plan = TreatmentPlan.objects.create(
        episode=episode, patient=patient, number=1, status="signed", created_by=clinician
    )
    PlanProblem.objects.create(
        plan=plan, position=1, description="Fictional problem", icd10_code="F10.20",
        patient_words="fictional",
    )  # fmt: skip
    # Co-occurring care is Part 2: the claim to the payer needs the TPO consent of the intake
    # packet (billing's part2_consent_missing edit otherwise holds it as a draft).
    consent_record(
        patient=patient,
        information="My substance use disorder treatment records at this program.",
        recipient_kind="tpo_class",
        purpose="tpo",
        effective_on=admitted,
        signed_by_name="Percival Pennywhistle",
        signed_at=timezone.now() - dt.timedelta(days=14),
        source="intake_packet",
        by=by,
    )
    session = make_session(site, clinician, yesterday, track=track)
    return {"site": site, "patient": patient, "session": session, "day": yesterday}


def remittance_for(claim: Claim, paid_on: dt.date) -> str:
    """The payer's 835 for the exported claim: 250.00 billed, 180.00 paid, 20.00 written off
    (CO-45), 50.00 deductible (PR-1) moved to the patient."""
    line = claim.lines.get()
    svc = r.ServicePayment(
        procedure=r.Procedure("HC", "H0015"),
        billed=line.amount,
        paid=Decimal("180.00"),
        units_paid=Decimal(1),
        service_date=line.service_date,
        adjustments=(
            r.Adjustment("CO", "45", Decimal("20.00")),
            r.Adjustment("PR", "1", Decimal("50.00")),
        ),
        line_control_number=line.line_control_number,
    )
    clp = r.ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status="1",
        billed=claim.total,
        paid=Decimal("180.00"),
        patient_responsibility=Decimal("50.00"),
        filing_indicator="12",
        payer_claim_control_number="BBM2026000001",
        patient=r.PersonName("PENNYWHISTLE", "PERCIVAL", id_qualifier="MI", identifier="ZZ0001"),
        lines=(svc,),
    )
    remit = r.Remittance835(
        envelope=r.EnvelopeIds(
            sender_qualifier="ZZ",
            sender_id="BLUEBELL",
            receiver_qualifier="ZZ",
            receiver_id="THISTLEDOWN",
            application_sender_code="BLUEBELL",
            application_receiver_code="THISTLEDOWN",
            date=paid_on,
            time="1200",
            interchange_control_number=701,
            group_control_number=701,
            transaction_set_control_number="0001",
            usage="T",
        ),
        payment=r.PaymentInfo("I", Decimal("180.00"), "C", "NON", paid_on),
        trace=r.Trace("TRACE7001", "1999999999"),
        payer=r.Payer(
            name="BLUEBELL MUTUAL TEST",
            identifier="BBM01",
            address=r.PartyAddress(
                line1="1 TEST WAY", city="TESTVILLE", state="NY", postal_code="12345"
            ),
            contacts=(r.Contact("BL", "TEST EDI DESK", (("TE", "5555550199"),)),),
        ),
        payee=r.Payee(name="THISTLEDOWN TEST IOP", id_qualifier="XX", identifier="1234567893"),
        claims=(clp,),
    )
    return r.write_835(remit)


def test_from_an_attended_group_to_a_paid_claim_and_the_patients_statement(
    live_server: Any, page: Page
) -> None:
    clinic = make_clinic()
    base = live_server.url
    day: dt.date = clinic["day"]

    # The clinician takes attendance: everyone present for the three hours.
    log_in(page, base, "juniper")
    page.goto(f"{base}/attendance/sessions/{clinic['session'].pk}/")
    page.get_by_role("button", name=re.compile("All present")).click()
    row = page.locator("tr", has_text="Percival Pennywhistle")
    expect(row.get_by_test_id("week-hours")).to_have_text(re.compile(r"^3\.0 h"))
    page.get_by_role("button", name="Log out").click()

    # The billing user posts the period's charges and sees the day's H0015.
    log_in(page, base, "bramble")
    page.get_by_role("link", name="Billing").first.click()
    page.get_by_label("Post charges from").fill(day.replace(day=1).isoformat())
    page.get_by_label("Post charges to").fill(day.isoformat())
    page.get_by_role("button", name="Post charges").click()
    expect(page.get_by_text(re.compile(r"1 new charge\(s\)"))).to_be_visible()
    expect(page.get_by_role("link", name="Charges", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    charge_row = page.locator("tr", has_text="Pennywhistle, Percival")
    expect(charge_row).to_contain_text("H0015")
    expect(charge_row).to_contain_text("250.00")
    shot(page, "1-charges")

    # Builds the month's claim, opens it, marks it ready and exports the 837.
    page.get_by_label("Month to build").fill(day.strftime("%Y-%m"))
    page.get_by_role("button", name="Build claims").click()
    expect(page.get_by_text(re.compile(r"1 (draft )?claim"))).to_be_visible()
    claim = Claim.objects.get(patient=clinic["patient"])
    page.get_by_role("link", name=claim.patient_control_number).click()
    expect(
        page.get_by_role("heading", name=f"Claim {claim.patient_control_number}")
    ).to_be_visible()
    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_text("Ready", exact=True)).to_be_visible()
    # Exporting downloads the 837; the claim is then submitted.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export and download the 837").click()
    page.reload()
    expect(page.get_by_text("Submitted", exact=True)).to_be_visible()
    shot(page, "2-claim-submitted")
    exported = download.value.path().read_text()
    assert_valid(exported)
    assert f"CLM*{claim.patient_control_number}*250" in exported

    # Imports the payer's 835 and sees what it posted.
    page.get_by_role("link", name="Billing").first.click()
    page.get_by_role("link", name="Remittances").first.click()
    claim.refresh_from_db()
    text = remittance_for(claim, timezone.localdate(timezone=clinic["site"].tz))
    page.get_by_label("835 file").set_input_files(
        files=[{"name": "bluebell-7001.835", "mimeType": "text/plain", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text(re.compile(r"Moved \$50\.00 \(PR-1\)"))).to_be_visible()
    shot(page, "3-remittance")

    # The claim is paid, and its page says what the payer did to the line.
    page.goto(f"{base}/billing/claims/{claim.pk}/")
    expect(page.get_by_role("definition").filter(has_text=re.compile(r"^Paid$"))).to_be_visible()
    answer = page.locator("section", has_text="Payer's answer").locator("tbody tr")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("180.00")
    expect(answer).to_contain_text("CO-45 20.00; PR-1 50.00")

    # Nothing is left with the payer in A/R aging.
    page.get_by_role("link", name=re.compile("Billing worklist")).click()
    page.get_by_role("link", name="A/R aging").click()
    expect(page.get_by_text(re.compile("Nothing is owed by a payer"))).to_be_visible()

    # The patient's ledger: the deductible is the patient's, nothing with insurance.
    page.get_by_role("link", name="Patient balances").click()
    page.get_by_role("link", name=re.compile("Pennywhistle")).click()
    expect(page.locator("[data-balance=patient]")).to_have_text("$50.00")
    expect(page.locator("[data-balance=insurance]")).to_have_text("$0.00")
    expect(page.get_by_text(re.compile("Payment from BLUEBELL MUTUAL TEST"))).to_be_visible()
    shot(page, "4-ledger")

    # Prints a statement.
    page.get_by_label("Statement from").fill(day.replace(day=1).isoformat())
    with page.expect_response(re.compile(r"/statements/\d+/pdf/$")) as shown:
        page.get_by_role("button", name="Generate statement (PDF)").click()
    # The browser shows it in its PDF viewer; the same address read as the same user is the file.
    response = page.request.get(shown.value.url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    words = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "50.00" in words and "Pennywhistle" in words
