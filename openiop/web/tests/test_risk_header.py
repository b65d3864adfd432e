"""Issue 4 point 4: the patient header shows the current suicide-risk level on every patient page.

The test walks every patient-data URL that names one patient (through a patient, episode, plan, note
section... argument), opens it as the director and looks for the risk badge, so a new
patient page without the header fails here the day it is added.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openiop.web.tests.test_audit_coverage import patient_data_urls

# URL arguments that pin a page to one patient. Pages keyed only by a session, note or site show
# several patients (group note, roster) and carry a badge per patient where they need one.
ONE_PATIENT_ARGS = {
    "patient_id",
    "episode_id",
    "treatment_plan_id",
    "section_id",
    "plan_id",
    "safety_alert_id",
    "contact_id",
    "enrollment_id",
    "mat_id",
    "drug_test_id",
    "drug_test_flag_id",
}

# Files and actions, not pages: PDFs carry the patient in print, exports are text, the rest only POST
# or redirect to a page that is itself in the walk.
NOT_HTML_PAGES = {
    "consents:disclosures_pdf",
    "measures:link_create",
    "measures:plan_pdf",
    "measures:plan_sign",
    "measures:plan_start",
    "measures:trends_pdf",
    "notes:section_export",
    "notes:section_pdf",
    "treatment:discharge_pdf",
    "treatment:plan_pdf",
    "treatment:plan_start",
}

PAGES = [
    (name, kwargs)
    for name, kwargs in patient_data_urls()
    if set(kwargs) & ONE_PATIENT_ARGS and not name.startswith("admissions:")
]


@pytest.mark.parametrize(("name", "kwargs"), PAGES, ids=[n for n, _ in PAGES])
def test_every_one_patient_page_shows_the_risk_level(
    name: str, kwargs: list[str], world: Any, client: Any, mfa_passed: Any
) -> None:
    client.force_login(world.users["director"])
    response = client.get(reverse(name, kwargs={k: world.ids[k] for k in kwargs}))
    is_page = response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert is_page == (name not in NOT_HTML_PAGES), f"{name}: {response.status_code}"
    if not is_page:
        return
    assert 'data-risk="' in response.content.decode(), f"{name} shows no risk level"
