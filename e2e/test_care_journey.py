"""Medications, MAT and drug testing in the browser (issue 18.7): a nurse records an
extended-release naltrexone injection (once refused without its injection site, her input kept);
a lab's results file is checked dry, row by row, then imported; the prescriber answers the flag
the imported result raised, and it shows as answered."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import ARTIFACTS
from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.drugtests.models import DrugTestOrder, ReconciliationFlag
from openiop.episodes.choices import TreatmentFocus
from openiop.medications import services as medication_services
from openiop.medications.models import DoseAdministration
from openiop.testing import (
    PASSWORD,
    make_episode,
    make_org,
    make_patient,
    make_site,
    make_user,
)

# A time shown in UTC rather than the clinic's zone (the word, not "Outcomes" in the menu).
UTC = re.compile(r"\bUTC\b")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def _clinic() -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Riverbend Clinic", timezone="America/Chicago")
    nurse = make_user(Role.PRESCRIBER, sites=[site], org=org, username="marisol",
                      first_name="Marisol", last_name="Quillfeather")  # fmt: skip
    today = local_today(site.tz)
    admitted = today - dt.timedelta(days=20)
    # Two substance-use patients: one on extended-release naltrexone given here, one on
    # buprenorphine (never both: naltrexone blocks the opioid).
    rosalind = make_patient(site, legal_first_name="Rosalind", legal_last_name="Thistlewood")
    make_episode(rosalind, focus=TreatmentFocus.SUBSTANCE_USE, admission_date=admitted)
    bartholomew = make_patient(site, legal_first_name="Bartholomew", legal_last_name="Fernsby")
    make_episode(bartholomew, focus=TreatmentFocus.SUBSTANCE_USE, admission_date=admitted)
    medication_services.medication_add(
        patient=bartholomew,
        catalog_key="buprenorphine_naloxone",
        name="",
        dose="8 mg/2 mg",
        route="sublingual",
        frequency="once a day",
        source="here",
        start_date=admitted,
        by=Actor(user=nurse, client_addr="127.0.0.1", path="/e2e-setup"),
    )
    return {"site": site, "today": today, "rosalind": rosalind, "bartholomew": bartholomew}


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"care_{name}.png"), full_page=True)


def test_an_injection_a_lab_file_and_the_prescribers_answer(
    live_server: Any, page: Page, tmp_path: Path
) -> None:
    world = _clinic()
    base = live_server.url
    _login(page, base, "marisol")

    # 1. The nurse opens the patient, starts the MAT episode and records the injection.
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Thistlewood, Rosalind").click()
    page.get_by_role("link", name="Medications", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Medications")
    expect(page.get_by_text("Rosalind Thistlewood").first).to_be_visible()
    expect(page.get_by_text("No MAT episode.")).to_be_visible()
    start = page.locator("form").filter(has=page.get_by_role("button", name="Start"))
    start.get_by_label("Medication").select_option(label="Naltrexone, extended-release injection")
    start.get_by_label("Started").fill(world["today"].isoformat())
    start.get_by_role("button", name="Start").click()
    expect(page.get_by_role("status")).to_contain_text("MAT episode started")
    mat_table = page.get_by_role("table", name="MAT episodes")
    mat_table.get_by_role("link", name="Naltrexone, extended-release injection").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("extended-release")
    _shot(page, "1_mat_episode")

    # Without the injection site: refused before anything is sent (both the lot and the site are
    # marked required for an injection), her input kept.
    page.get_by_label("Dose").fill("380 mg IM")
    page.get_by_label("Lot number").fill("NTX-4471")
    site_select = page.get_by_label("Injection site")
    expect(site_select).to_have_attribute("required", "")
    page.get_by_role("button", name="Record the dose").click()
    expect(page.locator("select:invalid")).to_have_count(1)
    expect(page.get_by_label("Dose")).to_have_value("380 mg IM")
    expect(page.get_by_label("Lot number")).to_have_value("NTX-4471")
    assert not DoseAdministration.objects.exists()
    _shot(page, "2_dose_refused_without_site")

    page.get_by_label("Injection site").select_option(label="Left gluteal")
    page.get_by_role("button", name="Record the dose").click()
    expect(page.get_by_role("status")).to_contain_text("Dose recorded.")
    dose_row = page.get_by_role("table", name="Doses").get_by_role("row").nth(1)
    expect(dose_row).to_contain_text("380 mg IM")
    expect(dose_row).to_contain_text("NTX-4471")
    expect(dose_row).to_contain_text("Left gluteal")
    expect(dose_row).to_contain_text("CST")  # clinic time (America/Chicago), not UTC
    expect(dose_row).not_to_contain_text(UTC)
    dose = DoseAdministration.objects.get()
    assert (dose.lot, dose.injection_site) == ("NTX-4471", "left_gluteal")
    _shot(page, "3_dose_recorded")

    # 2. The lab's file: a good row whose result does not match the medication list
    # (buprenorphine prescribed, not found) and a row for an MRN the clinic does not have.
    collected = world["today"] - dt.timedelta(days=1)
    bart = world["bartholomew"]
    csv_file = tmp_path / "riverbend-lab.csv"
    csv_file.write_text(
        "mrn,accession,collected_on,validity,buprenorphine,fentanyl,opiates\n"
        f"{bart.mrn},ACC-1001,{collected.isoformat()},valid,neg,neg,neg\n"
        f"ZZ999999,ACC-1002,{collected.isoformat()},valid,pos,neg,neg\n",
        encoding="utf-8",
    )
    page.get_by_role("link", name="Lab results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import lab results")
    page.get_by_label("Lab results file (CSV)").set_input_files(str(csv_file))
    expect(page.get_by_label("Dry run: check every row, post nothing")).to_be_checked()
    page.get_by_role("button", name="Check or import").click()
    expect(page.get_by_role("heading", name="Dry run of riverbend-lab.csv")).to_be_visible()
    expect(page.get_by_text("1 row would post, 1 refused.")).to_be_visible()
    rows = page.get_by_role("table", name="Rows").get_by_role("row")
    good = rows.filter(has_text="ACC-1001")
    expect(good).to_contain_text("Bartholomew Fernsby")
    expect(good).to_contain_text("would post")
    bad = rows.filter(has_text="ACC-1002")
    expect(bad).to_contain_text("refused")
    expect(bad).to_contain_text("no patient with this MRN at this site")
    assert not DrugTestOrder.objects.exists()
    _shot(page, "4_lab_dry_run")

    page.get_by_label("Lab results file (CSV)").set_input_files(str(csv_file))
    page.get_by_label("Dry run: check every row, post nothing").uncheck()
    page.get_by_role("button", name="Check or import").click()
    expect(page.get_by_role("heading", name="Import of riverbend-lab.csv")).to_be_visible()
    expect(page.get_by_text("1 row posted, 1 refused.")).to_be_visible()
    rows = page.get_by_role("table", name="Rows").get_by_role("row")
    expect(rows.filter(has_text="ACC-1001")).to_contain_text("posted (1 for review)")
    expect(rows.filter(has_text="ACC-1002")).to_contain_text("refused")
    order = DrugTestOrder.objects.get()
    assert (order.patient_id, order.accession) == (bart.pk, "ACC-1001")
    _shot(page, "5_lab_imported")

    # 3. The prescriber's flag: on "Tests to review", answered, then listed as answered.
    page.get_by_role("link", name="Tests to review").click()
    flags = page.get_by_role("table", name="Results to review")
    flag_row = flags.get_by_role("row").filter(has_text="Bartholomew Fernsby")
    expect(flag_row).to_contain_text("Buprenorphine was not found")
    expect(flag_row).to_contain_text("Open")
    expect(flag_row).not_to_contain_text(UTC)
    _shot(page, "6_tests_to_review")
    flag_row.get_by_role("link").click()
    expect(page.get_by_text("Buprenorphine was not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(UTC)
    page.get_by_label("Response").select_option(label="Discussed with the patient")
    page.get_by_label("What was discussed or decided").fill(
        "Talked it through: missed doses over the weekend; pharmacy pick-up moved to Friday."
    )
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Response recorded.")
    expect(page.get_by_role("heading", name="Response")).to_be_visible()
    expect(page.get_by_text("pharmacy pick-up moved to Friday")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(UTC)
    flag = ReconciliationFlag.objects.get()
    assert flag.status == "responded" and flag.response_kind == "discussion"
    _shot(page, "7_flag_answered")

    page.get_by_role("link", name="Results to review").click()
    expect(page.get_by_text("Nothing to review.")).to_be_visible()
    page.get_by_label("Show").select_option("responded")
    page.get_by_role("button", name="Search").click()
    answered = page.get_by_role("table", name="Results to review").get_by_role("row")
    expect(answered.filter(has_text="Bartholomew Fernsby")).to_contain_text(
        "Responded · Discussed with the patient"
    )
    _shot(page, "8_flags_answered")
