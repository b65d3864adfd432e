"""Issue 18.5: the discharge summary lists the medications at discharge (the active medication
list and any open MAT episode), in its facts, on its page and in its PDF; summaries signed before
the list existed still open."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from pypdf import PdfReader

from openiop.accounts.domain import Role
from openiop.medications.models import MatEpisode, Medication
from openiop.testing import make_user
from openiop.treatment import services
from openiop.treatment.models import DischargeSummary
from openiop.treatment.tests.test_discharge import complete, discharged_member

if TYPE_CHECKING:
    from django.test import Client

    from openiop.episodes.models import Episode
    from openiop.notes.tests.conftest import Clinic


def _medication(episode: Episode, by: Any, name: str, **kw: Any) -> Medication:
    values: dict[str, Any] = {
        "dose": "50 mg",
        "route": "oral",
        "frequency": "once a day",
        "source": "here",
        "start_date": dt.date(2026, 1, 6),
    }
    values.update(kw)
    return Medication.objects.create(
        patient=episode.patient,
        episode=episode,
        name=name,
        recorded_by=by,
        part2=episode.part2_protected,
        **values,
    )


def _medicated_member(clinic: Clinic) -> Episode:
    episode = discharged_member(clinic)
    by = clinic.clinician
    bup = _medication(episode, by, "Buprenorphine/naloxone", dose="8 mg/2 mg", route="sublingual")
    _medication(episode, by, "Sertraline", prescriber="Dr. Pretend Prescriber (fictional)")
    _medication(episode, by, "Hydroxyzine", stop_date=dt.date(2026, 2, 1), stop_reason="Not needed")
    MatEpisode.objects.create(
        patient=episode.patient,
        episode=episode,
        kind="naltrexone_oral",
        started_on=dt.date(2026, 1, 6),
        ended_on=dt.date(2026, 1, 20),
        started_by=by,
        part2=episode.part2_protected,
    )
    MatEpisode.objects.create(
        patient=episode.patient,
        episode=episode,
        kind="buprenorphine",
        medication=bup,
        started_on=dt.date(2026, 1, 21),
        started_by=by,
        part2=episode.part2_protected,
    )
    return episode


def test_the_facts_hold_the_active_medications_and_the_open_mat(clinic: Clinic) -> None:
    episode = _medicated_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    at_discharge = summary.facts["medications_at_discharge"]
    assert [m["name"] for m in at_discharge["medications"]] == [
        "Buprenorphine/naloxone",
        "Sertraline",
    ]  # the stopped hydroxyzine is not taken home
    sertraline = at_discharge["medications"][1]
    assert sertraline["prescriber"] == "Dr. Pretend Prescriber (fictional)"
    assert sertraline["route"] == "By mouth" and sertraline["start_date"] == "2026-01-06"
    assert [(m["kind"], m["started_on"]) for m in at_discharge["mat"]] == [
        ("Buprenorphine (incl. buprenorphine/naloxone)", "2026-01-21")
    ]


def test_a_summary_outside_part2_leaves_out_substance_use_medications_and_says_so(
    clinic: Clinic, client: Client
) -> None:
    """A mental-health episode's summary (not a Part 2 record, printed without the notice) does
    not carry the medications and MAT of the patient's substance-use care: it says how many it
    left out, not what they were. A Part 2 episode's own summary lists them."""
    episode = discharged_member(clinic)
    type(episode).objects.filter(pk=episode.pk).update(part2_protected=False)  # mental health
    episode.refresh_from_db()
    by = clinic.clinician
    _medication(episode, by, "Sertraline")
    bup = _medication(episode, by, "Buprenorphine/naloxone", route="sublingual")
    Medication.objects.filter(pk=bup.pk).update(part2=True)
    MatEpisode.objects.create(
        patient=episode.patient,
        episode=episode,
        kind="buprenorphine",
        medication=bup,
        started_on=dt.date(2026, 1, 21),
        started_by=by,
        part2=True,
    )
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    at_discharge = summary.facts["medications_at_discharge"]
    assert [m["name"] for m in at_discharge["medications"]] == ["Sertraline"]
    assert at_discharge["mat"] == [] and at_discharge["part2_left_out"] == 2
    client.force_login(clinic.clinician)
    html = client.get(reverse("treatment:discharge", kwargs={"episode_id": episode.pk})).text
    assert "2 medication(s) from the patient's substance-use care are not listed" in html
    assert "Buprenorphine" not in html
    from openiop.medications.selectors import discharge_medications

    inside = discharge_medications(episode.patient_id, part2_allowed=True)
    assert [m["name"] for m in inside["medications"]] == ["Buprenorphine/naloxone", "Sertraline"]
    assert inside["part2_left_out"] == 0


def test_a_member_without_medications_says_so(clinic: Clinic, client: Client) -> None:
    episode = discharged_member(clinic)
    services.discharge_summary_start(episode=episode, by=clinic.actor)
    client.force_login(clinic.clinician)
    html = client.get(reverse("treatment:discharge", kwargs={"episode_id": episode.pk})).text
    assert "Medications at discharge" in html
    assert "No open MAT episode at discharge." in html
    assert "No active medications on the list at discharge." in html


def test_the_signed_pdf_lists_the_medications_and_keeps_them_after_a_change(
    clinic: Clinic, client: Client
) -> None:
    episode = _medicated_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    complete(clinic, summary)
    services.discharge_summary_sign(summary=summary, by=clinic.actor)
    # Stopped after signing: the signed summary keeps what was true at discharge.
    Medication.objects.filter(name="Sertraline").update(stop_date=dt.date(2026, 3, 1))
    client.force_login(clinic.clinician)
    html = client.get(reverse("treatment:discharge", kwargs={"episode_id": episode.pk})).text
    assert "Sertraline" in html
    pdf = client.get(reverse("treatment:discharge_pdf", kwargs={"episode_id": episode.pk}))
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = " ".join(text.split())  # a narrow table column wraps a long name
    for expected in ["Medications at discharge", "Sertraline", "Buprenorphine/",
                     "since 2026-01-21"]:  # fmt: skip
        assert expected in flat, (expected, flat)
    assert "Hydroxyzine" not in text


def test_a_summary_signed_before_the_medication_list_still_opens_and_prints(
    clinic: Clinic, client: Client
) -> None:
    episode = _medicated_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    facts = dict(summary.facts)
    facts.pop("medications_at_discharge")
    DischargeSummary.objects.filter(pk=summary.pk).update(facts=facts, status="signed")
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert "signed before the medication list was kept in this record" in response.text
    assert "Sertraline" not in response.text  # not made up from today's list
    pdf = client.get(reverse("treatment:discharge_pdf", kwargs={"episode_id": episode.pk}))
    assert pdf.status_code == 200


def test_billing_and_intake_do_not_open_the_discharge_summary(
    clinic: Clinic, client: Client
) -> None:
    episode = _medicated_member(clinic)
    services.discharge_summary_start(episode=episode, by=clinic.actor)
    for role in (Role.BILLING, Role.INTAKE):
        client.force_login(make_user(role, sites=[clinic.site], org=clinic.org))
        for name in ("treatment:discharge", "treatment:discharge_pdf"):
            response = client.get(reverse(name, kwargs={"episode_id": episode.pk}))
            assert response.status_code == 403, (role, name)
            assert "Sertraline" not in response.content.decode()
