"""An intake coordinator imports patients from another EHR in the real browser: a CSV with one bad
row is reported row by row and cannot be imported; the fixed file is, in one go (issue 17.5)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from openiop.accounts.domain import Role
from openiop.billing.models import Payer
from openiop.patients.models import Patient
from openiop.testing import PASSWORD, make_org, make_site, make_track, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

SHOTS = Path(os.environ.get("OPENIOP_SHOTS", Path(__file__).parent / "artifacts"))
HEADER = "external_id,first_name,last_name,date_of_birth,sex,phone,payer,member_id,focus,admission_date,level_of_care,track\n"
ROWS = [
    "HX-1,Quillon,Fakename,1991-04-05,male,555-0142,Fictional Mutual,ZZ100,mental_health,2025-01-06,2.1,Adult Evening IOP",
    "HX-2,Brisa,Nottareal,1988-11-30,female,555-0143,,,,,,",
    "HX-3,Cosmo,Imaginary,1979-02-30,male,555-0199,,,,,,",
]


def test_upload_see_the_report_fix_and_import(live_server: Any, page: Page) -> None:
    org = make_org()
    site = make_site(org, name="Maple Street Clinic", timezone="UTC")
    make_track(site, name="Adult Evening IOP")
    Payer.objects.create(organization=org, name="Fictional Mutual", payer_type="commercial")
    make_user(
        Role.INTAKE, sites=[site], org=org, username="ivy", first_name="Ivy", last_name="Intakeson"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("ivy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/imports/")
    page.get_by_label("Source system").fill("Harbor EHR")
    page.get_by_label("File").set_input_files(
        {
            "name": "harbor.csv",
            "mimeType": "text/csv",
            "buffer": (HEADER + "\n".join(ROWS)).encode(),
        }
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Import of harbor.csv")).to_be_visible()
    bad_row = page.locator("tr.import-refuse")
    expect(bad_row).to_contain_text("date_of_birth '1979-02-30' is not a date")
    expect(page.get_by_role("alert").first).to_contain_text("1 row is refused")
    expect(page.get_by_role("button", name="Import 3 rows")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "import_1_refused_row.png"), full_page=True)
    page.get_by_role("button", name="Discard this file").click()
    expect(page.get_by_role("heading", name="Import patients")).to_be_visible()
    # The fixed file.
    fixed = HEADER + "\n".join([*ROWS[:2], ROWS[2].replace("1979-02-30", "1979-02-28")])
    page.get_by_label("Source system").fill("Harbor EHR")
    page.get_by_label("File").set_input_files(
        {"name": "harbor-fixed.csv", "mimeType": "text/csv", "buffer": fixed.encode()}
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("tr.import-create")).to_have_count(3)
    page.screenshot(path=str(SHOTS / "import_2_dry_run.png"), full_page=True)
    assert Patient.objects.count() == 0
    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.get_by_text("Imported: 3 patients created").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "import_3_imported.png"), full_page=True)
    assert Patient.objects.count() == 3
    assert "/imports/" in page.url and "Quillon" not in page.url
