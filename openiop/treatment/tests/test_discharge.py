"""The discharge summary: prefilled from the record, narrative and aftercare, signed, printed, copy."""

from __future__ import annotations

import datetime as dt
import io
import sys
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse
from pypdf import PdfReader

from openiop.audit.models import AuditEntry
from openiop.core.errors import RuleViolation
from openiop.treatment import services
from openiop.treatment.models import SummaryStatus
from openiop.treatment.tests.test_services import build_plan, sign_all

if TYPE_CHECKING:
    from django.test import Client

    from openiop.episodes.models import Episode
    from openiop.notes.tests.conftest import Clinic
    from openiop.treatment.models import DischargeSummary


def discharged_member(clinic: Clinic) -> Episode:
    """A member who attended two groups (one late) and an individual session, with a signed plan
    whose goal is met in version 2, then was discharged."""
    episode = clinic.patient("Rosalind", "Departwell")
    g1 = clinic.session(dt.date(2026, 1, 6))
    g2 = clinic.session(dt.date(2026, 1, 7))
    ind = clinic.session(
        dt.date(2026, 1, 8), minutes=50, kind="individual", track=None, episode=episode
    )
    missed = clinic.session(dt.date(2026, 1, 9))
    clinic.attend(g1, episode)
    clinic.attend(g2, episode, status="late", minutes=150)
    clinic.attend(ind, episode, minutes=50)
    clinic.attend(missed, episode, status="absent_unexcused")
    v1 = build_plan(clinic, episode)
    sign_all(clinic, v1)
    v2 = services.plan_revise(plan=v1, by=clinic.actor)
    services.plan_set_goal_status(goal=v2.problems.get().goals.get(), status="met", by=clinic.actor)
    sign_all(clinic, v2)
    episode.status = "discharged"
    episode.discharge_date = dt.date(2026, 2, 14)
    episode.discharge_reason = "completed"
    episode.level_of_care = "1"
    episode.save()
    return episode


def test_facts_are_filled_in_from_the_record(clinic: Clinic) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    facts = summary.facts
    assert facts["admission_date"] == "2026-01-05" and facts["discharge_date"] == "2026-02-14"
    assert facts["length_of_stay_days"] == 40
    assert facts["reason"] == "Treatment completed"
    assert facts["level_of_care"].startswith("Level 1")
    by_kind = {s["kind"]: (s["sessions"], s["minutes"]) for s in facts["services"]}
    assert by_kind == {"group_therapy": (2, 330), "individual": (1, 50)}
    assert facts["total_minutes"] == 380
    assert facts["plan_version"] == 2
    assert [g["met"] for g in facts["goals"]] == [True]
    assert "988" in summary.crisis_resources and "555-0100" in summary.crisis_resources


def test_scores_come_from_the_measures_app_only_when_installed(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    episode = discharged_member(clinic)
    from django.apps import apps

    installed = apps.is_installed("openiop.measures")
    facts = services.discharge_facts(episode)
    assert facts["scores"]["available"] is installed

    @dataclass
    class FakeSummary:
        instrument: str = "phq9"
        label: str = "PHQ-9"
        count: int = 3
        first_total: int = 18
        first_band: str = "Moderately severe"
        first_date: dt.date = dt.date(2026, 1, 6)
        latest_total: int = 7
        latest_band: str = "Mild"
        latest_date: dt.date = dt.date(2026, 2, 10)

    fake = types.ModuleType("openiop.measures.selectors")
    fake.score_summary_for_episode = lambda *, episode: [FakeSummary()]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "openiop.measures.selectors", fake)
    import openiop.measures

    monkeypatch.setattr(openiop.measures, "selectors", fake, raising=False)
    monkeypatch.setattr(apps, "is_installed", lambda name: True)
    rows = services.discharge_facts(episode)["scores"]["rows"]
    assert rows == [
        {"instrument": "phq9", "label": "PHQ-9", "count": 3, "first_total": 18,
         "first_band": "Moderately severe", "first_date": "2026-01-06", "latest_total": 7,
         "latest_band": "Mild", "latest_date": "2026-02-10"}
    ]  # fmt: skip


def complete(clinic: Clinic, summary: DischargeSummary) -> None:
    services.discharge_summary_update(
        summary=summary,
        narrative="Completed the program; abstinent for the last five weeks.",
        next_level_of_care="Level 1 outpatient",
        relapse_prevention="Triggers: payday, family events. Plan: call sponsor, attend a meeting.",
        crisis_resources=summary.crisis_resources,
        medication_continuity="Naltrexone 50 mg daily; refill with the prescriber below.",
        expected_version=summary.version,
        by=clinic.actor,
    )
    for kind, name in [
        ("therapist", "Dr. Imaginary Counselor (fictional)"),
        ("prescriber", "Pretend Family Clinic (fictional)"),
        ("support_group", "Tuesday Night 12-step Group (fictional)"),
        ("sober_living", "Maplewood Sober House (fictional)"),
        ("alumni", "Lantern Hill Alumni Group (fictional)"),
    ]:
        services.discharge_summary_add_referral(
            summary=summary, kind=kind, name=name, phone="555-0142",
            address="1 Example Way, Springfield", hours="Mon-Fri 9-5", by=clinic.actor,
        )  # fmt: skip


def test_signing_needs_a_discharged_episode_and_a_complete_aftercare_plan(clinic: Clinic) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    with pytest.raises(RuleViolation, match="narrative"):
        services.discharge_summary_sign(summary=summary, by=clinic.actor)
    complete(clinic, summary)
    services.discharge_summary_sign(summary=summary, by=clinic.actor)
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.SIGNED and summary.signed_by == clinic.clinician
    with pytest.raises(RuleViolation, match="locked"):
        services.discharge_summary_add_referral(
            summary=summary, kind="other", name="x", phone="1", by=clinic.actor
        )


def test_a_summary_of_an_open_episode_cannot_be_signed(clinic: Clinic) -> None:
    episode = clinic.patient("Sorrel", "Stillhere")
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    complete(clinic, summary)
    with pytest.raises(RuleViolation, match="Discharge the episode first"):
        services.discharge_summary_sign(summary=summary, by=clinic.actor)


def test_referral_needs_a_way_to_reach_them(clinic: Clinic) -> None:
    summary = services.discharge_summary_start(episode=discharged_member(clinic), by=clinic.actor)
    with pytest.raises(RuleViolation, match="phone number or an address"):
        services.discharge_summary_add_referral(
            summary=summary, kind="therapist", name="Someone", by=clinic.actor
        )


def test_printable_pdf_and_copy_given_is_recorded(clinic: Clinic, client: Client) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    complete(clinic, summary)
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    assert (
        client.post(url, {"action": "copy", "copy-how": "printed"}).status_code == 422
    )  # unsigned
    assert client.post(url, {"action": "sign"}).status_code == 302
    pdf = client.get(reverse("treatment:discharge_pdf", kwargs={"episode_id": episode.pk}))
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in ["Discharge summary", "40 days", "Treatment completed", "Group therapy",
                     "Maplewood Sober House", "Lantern Hill Alumni Group", "988", "Naltrexone",
                     "Signed electronically"]:  # fmt: skip
        assert expected in text, expected
    assert client.post(url, {"action": "copy", "copy-how": "printed"}).status_code == 302
    summary.refresh_from_db()
    assert summary.copy_given_at is not None and summary.copy_given_by == clinic.clinician
    assert AuditEntry.objects.filter(
        object_type="discharge_summary", action="export", patient_id=episode.patient_id
    ).exists()
    assert "Copy given to the patient" in client.get(url).content.decode()


def test_discharge_page_through_the_browser_client(clinic: Clinic, client: Client) -> None:
    episode = discharged_member(clinic)
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    assert "Start the discharge summary" in client.get(url).content.decode()
    assert client.post(url, {"action": "start"}).status_code == 302
    html = client.get(url).content.decode()
    assert "40 days" in html and "Met" in html
    response = client.post(
        url, {"action": "referral", "ref-kind": "therapist", "ref-name": "Nobody"}
    )
    assert "phone number or an address" in response.content.decode()


def test_scores_from_the_measures_app_first_and_latest(clinic: Clinic) -> None:
    from django.utils import timezone

    from openiop.measures.models import Response

    episode = discharged_member(clinic)
    for days, total, band in [(40, 19, "moderately_severe"), (20, 12, "moderate"), (2, 6, "mild")]:
        Response.objects.create(
            patient=episode.patient, episode=episode, instrument="phq9", instrument_version="1",
            answers=[0] * 9, mode="staff", total=total, band=band,
            administered_at=timezone.now() - dt.timedelta(days=days),
        )  # fmt: skip
    scores = services.discharge_facts(episode)["scores"]
    assert scores["available"] is True
    (phq,) = scores["rows"]
    assert (phq["first_total"], phq["latest_total"], phq["count"]) == (19, 6, 3)
    assert phq["first_band"] == "moderately_severe" and phq["latest_band"] == "mild"


def test_the_clinician_decides_goal_outcomes_and_a_refresh_keeps_them(
    clinic: Clinic, client: Client
) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    (goal,) = summary.facts["goals"]
    assert goal["met"] is True  # prefilled from the plan's goal status
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    assert client.post(url, {"action": "goal", "key": goal["key"], "met": "no"}).status_code == 302
    summary.refresh_from_db()
    assert summary.facts["goals"][0]["met"] is False
    services.discharge_summary_refresh(summary=summary, by=clinic.actor)
    summary.refresh_from_db()
    assert summary.facts["goals"][0]["met"] is False and summary.facts["goals"][0]["decided"]
    with pytest.raises(RuleViolation, match="not on this summary"):
        services.discharge_summary_decide_goal(summary=summary, key="x", met=True, by=clinic.actor)
    page = client.get(url).content.decode()
    assert "decided at discharge" in page and "Mark met" in page


# --- ready before it is signed: filled on open, gaps listed, referrals removable ---------------------
def test_the_derived_fields_are_filled_when_the_page_opens(clinic: Clinic, client: Client) -> None:
    episode = discharged_member(clinic)
    episode.status, episode.discharge_date, episode.discharge_reason = "active", None, ""
    episode.save()
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    assert summary.facts["length_of_stay_days"] is None  # started before the discharge
    late = clinic.session(dt.date(2026, 2, 10))
    clinic.attend(late, episode)
    episode.status, episode.discharge_date, episode.discharge_reason = (
        "discharged",
        dt.date(2026, 2, 14),
        "completed",
    )
    episode.save()
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    html = client.get(url).content.decode()
    assert "40 days" in html and "Treatment completed" in html
    summary.refresh_from_db()
    facts = summary.facts
    assert facts["length_of_stay_days"] == 40 and facts["discharge_date"] == "2026-02-14"
    assert facts["total_minutes"] == 380 + 180
    assert [g["met"] for g in facts["goals"]] == [True]
    filled = AuditEntry.objects.filter(
        object_type="discharge_summary", action="update", patient_id=episode.patient_id
    ).latest("id")
    assert {"length_of_stay_days", "total_minutes", "services"} <= set(filled.detail["filled"])
    # Opening it again with nothing new writes nothing.
    version = summary.version
    client.get(url)
    summary.refresh_from_db()
    assert summary.version == version
    assert (
        AuditEntry.objects.filter(object_type="discharge_summary", action="update").latest("id").pk
        == filled.pk
    )


def test_a_signed_summary_keeps_the_facts_it_was_signed_with(
    clinic: Clinic, client: Client
) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    complete(clinic, summary)
    services.discharge_summary_sign(summary=summary, by=clinic.actor)
    summary.refresh_from_db()
    signed_facts = summary.facts
    clinic.attend(clinic.session(dt.date(2026, 2, 11)), episode)
    client.force_login(clinic.clinician)
    client.get(reverse("treatment:discharge", kwargs={"episode_id": episode.pk}))
    summary.refresh_from_db()
    assert summary.facts == signed_facts


def test_signing_an_incomplete_summary_lists_everything_missing(clinic: Clinic) -> None:
    episode = clinic.patient("Sorrel", "Stillhere")
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    with pytest.raises(RuleViolation) as exc:
        services.discharge_summary_sign(summary=summary, by=clinic.actor)
    assert exc.value.code == "not_discharged"
    for gap in ["Discharge the episode first", "Write the narrative.", "next level of care",
                "Add at least one aftercare referral."]:  # fmt: skip
        assert gap in exc.value.message, gap
    assert "crisis resources" not in exc.value.message  # prefilled with 988 at the start
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.DRAFT


def test_the_page_lists_what_is_missing_and_a_refused_signature_says_it(
    clinic: Clinic, client: Client
) -> None:
    episode = discharged_member(clinic)
    services.discharge_summary_start(episode=episode, by=clinic.actor)
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    html = client.get(url).content.decode()
    assert 'data-testid="summary-gaps"' in html and "Write the narrative." in html
    refused = client.post(url, {"action": "sign"})
    body = refused.content.decode()
    assert refused.status_code == 422
    assert 'class="error-box"' in body and "Before signing, complete the summary." in body
    assert "Add at least one aftercare referral." in body


def test_a_refused_save_keeps_what_was_typed(clinic: Clinic, client: Client) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    stale = summary.version
    clinic.attend(clinic.session(dt.date(2026, 2, 12)), episode)
    client.get(url)  # another opening fills the new session in: the version moves on
    response = client.post(
        url,
        {
            "action": "save",
            "version": stale,
            "narrative": "Typed before the reload.",
            "next_level_of_care": "Level 1",
            "crisis_resources": "988",
        },
    )
    body = response.content.decode()
    assert response.status_code == 409 and "Typed before the reload." in body
    summary.refresh_from_db()
    assert summary.narrative == ""


def test_removing_a_referral_asks_first_then_removes_it_and_audits(
    clinic: Clinic, client: Client
) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    complete(clinic, summary)
    sober = summary.referrals.get(kind="sober_living")
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    asked = client.post(url, {"action": "remove_referral", "referral": sober.pk})
    html = asked.content.decode()
    assert asked.status_code == 200 and 'data-testid="confirm-remove"' in html
    assert "Remove the referral to Maplewood Sober House (fictional)" in html
    assert summary.referrals.filter(pk=sober.pk).exists()  # nothing removed yet
    done = client.post(
        url, {"action": "remove_referral", "referral": sober.pk, "confirm": "1"}, follow=True
    )
    assert "Removed the referral to Maplewood Sober House (fictional)." in done.content.decode()
    assert not summary.referrals.filter(pk=sober.pk).exists()
    entry = AuditEntry.objects.get(object_type="discharge_summary", action="delete")
    assert entry.patient_id == episode.patient_id and entry.username == clinic.clinician.username
    assert entry.detail["referral_removed"] == {
        "id": sober.pk,
        "kind": "sober_living",
        "name": "Maplewood Sober House (fictional)",
    }


def test_a_referral_cannot_be_removed_after_signing_or_from_another_summary(
    clinic: Clinic, client: Client
) -> None:
    episode = discharged_member(clinic)
    summary = services.discharge_summary_start(episode=episode, by=clinic.actor)
    complete(clinic, summary)
    other_episode = clinic.patient("Tamsin", "Otherly")
    other = services.discharge_summary_start(episode=other_episode, by=clinic.actor)
    theirs = services.discharge_summary_add_referral(
        summary=other,
        kind="alumni",
        name="Elsewhere Alumni (fictional)",
        phone="1",
        by=clinic.actor,
    )
    with pytest.raises(RuleViolation, match="not on this summary"):
        services.discharge_summary_remove_referral(
            summary=summary, referral_id=theirs.pk, by=clinic.actor
        )
    services.discharge_summary_sign(summary=summary, by=clinic.actor)
    ours = summary.referrals.get(kind="therapist")
    with pytest.raises(RuleViolation, match="signed and locked"):
        services.discharge_summary_remove_referral(
            summary=summary, referral_id=ours.pk, by=clinic.actor
        )
    client.force_login(clinic.clinician)
    url = reverse("treatment:discharge", kwargs={"episode_id": episode.pk})
    for confirm in ({}, {"confirm": "1"}):  # a signed summary is not even asked about
        page = client.post(
            url, {"action": "remove_referral", "referral": ours.pk, **confirm}, follow=True
        ).content.decode()
        assert "The discharge summary is signed and locked." in page
        assert 'data-testid="confirm-remove"' not in page
    assert summary.referrals.count() == 5
    assert not AuditEntry.objects.filter(object_type="discharge_summary", action="delete").exists()
