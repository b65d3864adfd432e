"""Issue 17 point 8, through the API (no browser): an outside organization's backend client gets a
token, finds the program's patients, reads their questionnaire scores and is withheld the
substance-use patient's until the patient's consent is on file; then the same search returns it
with the 42 CFR 2.32 notice, and the accounting of disclosures the patient may obtain shows it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from openiop.accounts.domain import Role
from openiop.consents.domain import REDISCLOSURE_NOTICE
from openiop.consents.selectors import disclosures_of
from openiop.consents.services import consent_record
from openiop.core.actor import Actor
from openiop.fhir.part2 import NOTICE_EXTENSION
from openiop.fhir.services import fhir_client_create
from openiop.fhir.tests.conftest import World, client_credentials_token, fhir_get
from openiop.testing import make_user

pytestmark = pytest.mark.django_db

OUTSIDE = "Fernhill Primary Care (fictional)"


def _outcomes(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e["resource"]["issue"][0]
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "outcome"
    ]


def _matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


@pytest.mark.usefixtures("mfa_passed")
def test_an_outside_client_reads_part2_scores_only_after_the_patient_consents(
    client: Client, world: World
) -> None:
    # The director registers the primary-care practice's integration: a service account of the
    # program (it reads the site) serving an outside organization, for treatment.
    account = make_user(Role.CLINICIAN, org=world.org, sites=[world.site], username="fernhill")
    new = fhir_client_create(
        user=account,
        scopes="system/Patient.read system/Observation.read",
        name="Fernhill EHR feed",
        purpose="treatment",
        outside_organization=OUTSIDE,
        by=Actor.cli(world.director, "fhir client create"),
    )

    # 1. Client credentials: a token.
    token = client_credentials_token(client, new)

    # 2. The program's patients (a Patient record is not itself from an episode).
    patients = fhir_get(client, "Patient", token, organization=str(world.org.pk)).json()
    found = {p["name"][0]["given"][0]: p["id"] for p in _matches(patients)}
    assert found == {"Quillon": str(world.sud_patient.pk), "Marigold": str(world.mh_patient.pk)}

    # 3. Their scores: the mental-health patient's come back; the substance-use patient's are
    # withheld and counted, and a direct read is refused.
    mh = fhir_get(client, "Observation", token, patient=found["Marigold"]).json()
    assert [o["id"] for o in _matches(mh)] == [str(world.records["Observation"][1])]
    assert not _outcomes(mh)
    sud = fhir_get(client, "Observation", token, patient=found["Quillon"]).json()
    assert _matches(sud) == []
    (withheld,) = _outcomes(sud)
    assert withheld["code"] == "suppressed"
    assert "1 Observation of 1 patient(s)" in withheld["diagnostics"]
    sud_obs = world.records["Observation"][0]
    refused = fhir_get(client, f"Observation/{sud_obs}", token)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    assert not disclosures_of(world.sud_patient).exists()

    # 4. The patient signs a consent naming the integration; staff record it.
    consent = consent_record(
        patient=world.sud_patient,
        information="Questionnaire scores (PHQ-9) during this episode",
        recipient_kind="api_client",
        recipient_identifier=new.client_id,
        recipient_name=OUTSIDE,
        purpose="treatment",
        effective_on=timezone.localdate(),
        expires_on=timezone.localdate() + dt.timedelta(days=365),
        signed_by_name="Quillon Testperson",
        signed_at=timezone.now(),
        by=Actor(user=world.clinician),
    )

    # 5. The same search now returns the score, labelled and with the redisclosure notice.
    again = fhir_get(client, "Observation", token, patient=found["Quillon"]).json()
    (score,) = _matches(again)
    assert score["id"] == str(sud_obs)
    assert {s["code"] for s in score["meta"]["security"]} == {"R", "42CFRPart2"}
    assert {"url": NOTICE_EXTENSION, "valueString": REDISCLOSURE_NOTICE} in score["meta"][
        "extension"
    ]
    (notice,) = _outcomes(again)
    assert notice["severity"] == "information"
    assert notice["diagnostics"].startswith(REDISCLOSURE_NOTICE)

    # 6. The accounting of disclosures shows it: the selector, the page and the PDF.
    (row,) = disclosures_of(world.sud_patient)
    assert row.consent_id == consent.pk and row.channel == "fhir_api"
    assert row.recipient_name == OUTSIDE and row.recipient_identifier == new.client_id
    assert row.resources == [{"type": "Observation", "id": str(sud_obs)}]
    assert row.disclosed_by_id == account.pk
    staff = Client()
    staff.force_login(world.director)
    url = reverse("consents:disclosures", kwargs={"patient_id": world.sud_patient.pk})
    page = staff.get(url).content.decode()
    assert OUTSIDE in page and "FHIR API" in page
    pdf = staff.get(
        reverse("consents:disclosures_pdf", kwargs={"patient_id": world.sud_patient.pk})
    )
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert "Fernhill Primary Care" in text and f"consent {consent.pk}" in text
    assert not disclosures_of(world.mh_patient).exists()
