"""Services: answers scored on the server, alerts opened and owned, links, escalation, plans."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command

from openiop.audit.models import AuditEntry
from openiop.core.errors import Conflict, NotFound, NotPermitted, RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.measures import services
from openiop.measures.models import (
    PatientLink,
    Response,
    SafetyAlert,
    SafetyPlan,
    SiteSafetySettings,
)
from openiop.measures.selectors import patient_risk_level

if TYPE_CHECKING:
    from openiop.measures.models import SafetyPlan
    from openiop.measures.tests.conftest import Clinic

ALWAYS_OPEN = {
    "opens_at": dt.time(0, 0),
    "closes_at": dt.time(23, 59, 59),
    "open_weekdays": "0,1,2,3,4,5,6",
}
ALWAYS_CLOSED = {"open_weekdays": ""}


def settings_for(clinic: Clinic, **kw: Any) -> SiteSafetySettings:
    return SiteSafetySettings.objects.create(site=clinic.site, on_call=clinic.on_call, **kw)


def test_staff_entry_stores_raw_answers_and_computes_the_score(clinic: Clinic) -> None:
    r = services.response_record(
        episode=clinic.episode,
        instrument="gad7",
        answers=[3, 3, 2, 1, 0, 0, 1],
        by=clinic.actor(clinic.clinician),
    )
    r.refresh_from_db()
    assert r.answers == [3, 3, 2, 1, 0, 0, 1]
    assert (r.total, r.band, r.flags) == (10, "moderate", ["screen_positive"])
    assert r.instrument_version == "1" and r.mode == "staff"
    assert "2 weeks" in r.timeframe
    assert AuditEntry.objects.filter(
        object_type="measure_response", patient_id=clinic.patient.pk
    ).exists()
    assert not SafetyAlert.objects.exists()


def test_bad_answer_is_refused_naming_the_item_field(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation) as err:
        services.response_record(
            episode=clinic.episode,
            instrument="phq9",
            answers=[0, 0, 0, 4, 0, 0, 0, 0, 0],
            by=clinic.actor(clinic.clinician),
        )
    assert err.value.field == "item_4"
    assert not Response.objects.exists()


def test_auditc_uses_the_patients_sex(clinic: Clinic) -> None:
    r = services.response_record(
        episode=clinic.episode,
        instrument="auditc",
        answers=[1, 1, 1],
        by=clinic.actor(clinic.clinician),
    )
    assert (r.sex_used, r.band) == ("female", "positive")


@pytest.mark.parametrize("role", ["intake", "billing", "other_clinician"])
def test_roles_without_clinical_access_cannot_enter_answers(clinic: Clinic, role: str) -> None:
    with pytest.raises(NotPermitted):
        services.response_record(
            episode=clinic.episode,
            instrument="gad7",
            answers=[0] * 7,
            by=clinic.actor(getattr(clinic, role)),
        )


def test_item9_with_a_low_total_opens_an_alert_owned_by_the_clinician_in_hours(
    clinic: Clinic,
) -> None:
    settings_for(clinic, **ALWAYS_OPEN)
    r = services.response_record(
        episode=clinic.episode,
        instrument="phq9",
        answers=[0, 0, 0, 0, 0, 0, 0, 0, 1],
        by=clinic.actor(clinic.clinician),
    )
    alert = SafetyAlert.objects.get()
    assert alert.response == r
    assert (alert.reason, alert.risk_level, alert.status) == ("item9", "unassessed", "open")
    assert (alert.owner, alert.owner_basis) == (clinic.clinician, "primary clinician")
    assert patient_risk_level(clinic.patient.pk) == "unassessed"


def test_after_hours_the_on_call_clinician_owns_the_alert(clinic: Clinic) -> None:
    settings_for(clinic, **ALWAYS_CLOSED)
    services.response_record(
        episode=clinic.episode,
        instrument="cssrs",
        answers=[1, 1, 0, 1, 0, 0, 0],
        by=clinic.actor(clinic.clinician),
    )
    alert = SafetyAlert.objects.get()
    assert (alert.reason, alert.risk_level) == ("cssrs", "high")
    assert (alert.owner, alert.owner_basis) == (clinic.on_call, "on call")
    assert patient_risk_level(clinic.patient.pk) == "high"


def test_low_cssrs_opens_no_alert_but_sets_the_header(clinic: Clinic) -> None:
    services.response_record(
        episode=clinic.episode,
        instrument="cssrs",
        answers=[1, 0, 0, 0, 0, 0, 0],
        by=clinic.actor(clinic.clinician),
    )
    assert not SafetyAlert.objects.exists()
    assert patient_risk_level(clinic.patient.pk) == "low"


def test_clinicians_own_flag_opens_an_alert(clinic: Clinic) -> None:
    alert = services.safety_alert_flag(
        episode=clinic.episode,
        risk_level="moderate",
        note="Said goodbye to the group.",
        by=clinic.actor(clinic.clinician),
    )
    assert (alert.reason, alert.status) == ("clinician_flag", "open")
    with pytest.raises(RuleViolation) as err:
        services.safety_alert_flag(
            episode=clinic.episode, risk_level="high", note=" ", by=clinic.actor(clinic.clinician)
        )
    assert err.value.field == "note"


def test_acknowledge_needs_an_action_and_happens_once(clinic: Clinic) -> None:
    services.safety_alert_flag(
        episode=clinic.episode,
        risk_level="high",
        note="Plan disclosed.",
        by=clinic.actor(clinic.clinician),
    )
    alert = SafetyAlert.objects.get()
    with pytest.raises(RuleViolation) as err:
        services.safety_alert_acknowledge(alert=alert, action="", by=clinic.actor(clinic.clinician))
    assert err.value.field == "action"
    done = services.safety_alert_acknowledge(
        alert=alert,
        action="higher_level_of_care",
        note="Referred to PHP",
        by=clinic.actor(clinic.clinician),
    )
    assert (done.status, done.action_taken, done.acknowledged_by) == (
        "acknowledged",
        "higher_level_of_care",
        clinic.clinician,
    )
    stale = SafetyAlert.objects.get()
    stale.status = "open"  # a page read before the acknowledgement
    with pytest.raises(Conflict):
        services.safety_alert_acknowledge(
            alert=stale, action="safety_plan_reviewed", by=clinic.actor(clinic.on_call)
        )
    with pytest.raises(RuleViolation):
        services.safety_alert_acknowledge(
            alert=done, action="cssrs_done", by=clinic.actor(clinic.clinician)
        )


def test_intake_cannot_acknowledge(clinic: Clinic) -> None:
    alert = services.safety_alert_flag(
        episode=clinic.episode, risk_level="high", note="x", by=clinic.actor(clinic.clinician)
    )
    with pytest.raises(NotPermitted):
        services.safety_alert_acknowledge(
            alert=alert, action="cssrs_done", by=clinic.actor(clinic.intake)
        )


def test_escalation_after_the_configured_minutes_is_idempotent(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_for(clinic, escalation_minutes=30, director=clinic.director)
    alert = services.safety_alert_flag(
        episode=clinic.episode, risk_level="high", note="x", by=clinic.actor(clinic.clinician)
    )
    call_command("escalate_alerts")
    alert.refresh_from_db()
    assert alert.escalated_at is None
    later = alert.created_at + dt.timedelta(minutes=31)
    monkeypatch.setattr(services, "now", lambda: later)
    call_command("escalate_alerts")
    call_command("escalate_alerts")
    escalated = SafetyAlert.objects.get(pk=alert.pk)
    assert (escalated.escalated_to, escalated.escalated_at) == (clinic.director, later)
    assert (
        AuditEntry.objects.filter(
            object_type="safety_alert", detail__escalated_to=clinic.director.pk
        ).count()
        == 1
    )
    assert "Escalated 1" in capsys.readouterr().out


def test_acknowledged_alerts_never_escalate(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = services.safety_alert_flag(
        episode=clinic.episode, risk_level="high", note="x", by=clinic.actor(clinic.clinician)
    )
    services.safety_alert_acknowledge(
        alert=alert, action="emergency_services", by=clinic.actor(clinic.clinician)
    )
    monkeypatch.setattr(services, "now", lambda: alert.created_at + dt.timedelta(days=1))
    assert services.alerts_escalate(by=clinic.actor(None)) == []


def test_director_is_found_without_settings(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = services.safety_alert_flag(
        episode=clinic.episode, risk_level="high", note="x", by=clinic.actor(clinic.clinician)
    )
    monkeypatch.setattr(services, "now", lambda: alert.created_at + dt.timedelta(minutes=60))
    [escalated] = services.alerts_escalate(by=clinic.actor(None))
    assert escalated.escalated_to == clinic.director


def test_patient_link_is_hashed_single_use_and_opens_the_alert(clinic: Clinic) -> None:
    issued = services.patient_link_create(
        episode=clinic.episode,
        purpose="questionnaire",
        instrument="phq9",
        by=clinic.actor(clinic.clinician),
    )
    stored = PatientLink.objects.get()
    assert issued.token not in stored.token_hash and len(stored.token_hash) == 64
    r = services.patient_link_submit(token=issued.token, answers=[0, 0, 0, 0, 0, 0, 0, 0, 2])
    assert r.mode == "patient_link" and r.entered_by is None and r.link == stored
    assert SafetyAlert.objects.get().reason == "item9"
    assert AuditEntry.objects.filter(channel="patient", object_type="measure_response").exists()
    with pytest.raises(NotFound):
        services.patient_link_submit(token=issued.token, answers=[0] * 9)


def test_bad_answers_through_a_link_do_not_spend_it(clinic: Clinic) -> None:
    issued = services.patient_link_create(
        episode=clinic.episode,
        purpose="questionnaire",
        instrument="gad7",
        by=clinic.actor(clinic.clinician),
    )
    with pytest.raises(RuleViolation):
        services.patient_link_submit(token=issued.token, answers=[0] * 6)
    assert PatientLink.objects.get().used_at is None
    services.patient_link_submit(token=issued.token, answers=[0] * 7)


def test_expired_or_unknown_links_say_the_same_thing(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = services.patient_link_create(
        episode=clinic.episode,
        purpose="questionnaire",
        instrument="gad7",
        hours_valid=1,
        by=clinic.actor(clinic.clinician),
    )
    with pytest.raises(NotFound) as unknown:
        services.patient_link_resolve(token="nope")
    monkeypatch.setattr(services, "now", lambda: PatientLink.objects.get().expires_at)
    with pytest.raises(NotFound) as expired:
        services.patient_link_resolve(token=issued.token)
    assert unknown.value.message == expired.value.message


def test_link_of_a_discharged_episode_stops_working(clinic: Clinic) -> None:
    issued = services.patient_link_create(
        episode=clinic.episode,
        purpose="questionnaire",
        instrument="gad7",
        by=clinic.actor(clinic.clinician),
    )
    clinic.episode.status = EpisodeStatus.DISCHARGED
    clinic.episode.discharge_date = dt.date(2026, 2, 1)
    clinic.episode.save()
    with pytest.raises(NotFound):
        services.patient_link_submit(token=issued.token, answers=[0] * 7)


def _filled(plan: SafetyPlan) -> dict[str, str]:
    return {f: f"Our words for {f}" for f in services.PLAN_FIELDS}


def test_safety_plan_signed_then_locked_then_new_version(clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    plan = services.safety_plan_start(episode=clinic.episode, by=by)
    with pytest.raises(RuleViolation):
        services.safety_plan_start(episode=clinic.episode, by=by)
    services.safety_plan_update(
        plan=plan, values=_filled(plan), expected_version=plan.version, by=by
    )
    with pytest.raises(RuleViolation) as err:
        services.safety_plan_sign(
            plan=plan, patient_agreed=False, expected_version=plan.version, by=by
        )
    assert err.value.field == "patient_agreed"
    services.safety_plan_sign(plan=plan, patient_agreed=True, expected_version=plan.version, by=by)
    with pytest.raises(RuleViolation):
        services.safety_plan_update(
            plan=plan, values={"warning_signs": "x"}, expected_version=plan.version, by=by
        )
    second = services.safety_plan_start(episode=clinic.episode, by=by)
    assert second.number == 2 and second.warning_signs == "Our words for warning_signs"
    plan.refresh_from_db()
    assert plan.status == "signed" and plan.warning_signs == "Our words for warning_signs"


def test_safety_plan_needs_every_step_before_signing(clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    plan = services.safety_plan_start(episode=clinic.episode, by=by)
    values = _filled(plan)
    values["safe_environment"] = ""
    services.safety_plan_update(plan=plan, values=values, expected_version=plan.version, by=by)
    with pytest.raises(RuleViolation) as err:
        services.safety_plan_sign(
            plan=plan, patient_agreed=True, expected_version=plan.version, by=by
        )
    assert err.value.field == "safe_environment"


def test_stale_safety_plan_edit_is_a_conflict(clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    plan = services.safety_plan_start(episode=clinic.episode, by=by)
    services.safety_plan_update(plan=plan, values={"warning_signs": "a"}, expected_version=1, by=by)
    with pytest.raises(Conflict):
        services.safety_plan_update(
            plan=SafetyPlan.objects.get(), values={"warning_signs": "b"}, expected_version=1, by=by
        )


def test_safety_plan_link_needs_a_signed_plan(clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    with pytest.raises(RuleViolation):
        services.patient_link_create(episode=clinic.episode, purpose="safety_plan", by=by)


def test_schedule_set_and_remove(clinic: Clinic) -> None:
    by = clinic.actor(clinic.director)
    s = services.schedule_set(
        track=clinic.track,
        instrument="phq9",
        at_admission=True,
        every_days=7,
        at_discharge=True,
        by=by,
    )
    assert s is not None and s.every_days == 7
    assert (
        services.schedule_set(
            track=clinic.track,
            instrument="phq9",
            at_admission=False,
            every_days=None,
            at_discharge=False,
            by=by,
        )
        is None
    )
    with pytest.raises(NotPermitted):
        services.schedule_set(
            track=clinic.track,
            instrument="phq9",
            at_admission=True,
            every_days=None,
            at_discharge=False,
            by=clinic.actor(clinic.clinician),
        )


def test_clinicians_low_assessment_opens_no_alert_and_sets_the_header_once_alerts_are_handled(
    clinic: Clinic,
) -> None:
    by = clinic.actor(clinic.clinician)
    services.response_record(
        episode=clinic.episode, instrument="phq9", answers=[0] * 8 + [1], by=by
    )
    alert = SafetyAlert.objects.get()
    low = services.risk_assess(
        episode=clinic.episode, risk_level="low", note="Passive thoughts, no plan.", by=by
    )
    assert low.alert is None and SafetyAlert.objects.count() == 1
    assert patient_risk_level(clinic.patient.pk) == "unassessed"  # the open alert still shows
    services.safety_alert_acknowledge(alert=alert, action="safety_plan_reviewed", by=by)
    assert patient_risk_level(clinic.patient.pk) == "low"
    assert AuditEntry.objects.filter(
        object_type="risk_assessment", patient_id=clinic.patient.pk
    ).exists()


def test_a_flag_is_for_moderate_or_high(clinic: Clinic) -> None:
    with pytest.raises(RuleViolation):
        services.safety_alert_flag(
            episode=clinic.episode, risk_level="low", note="x", by=clinic.actor(clinic.clinician)
        )


def test_the_periodic_runner_escalates_overdue_alerts(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_for(clinic, escalation_minutes=30, director=clinic.director)
    alert = services.safety_alert_flag(
        episode=clinic.episode, risk_level="high", note="x", by=clinic.actor(clinic.clinician)
    )
    monkeypatch.setattr(services, "now", lambda: alert.created_at + dt.timedelta(minutes=31))
    call_command("periodic", "--once")
    alert.refresh_from_db()
    assert alert.escalated_to == clinic.director
    assert "Escalated 1 alert(s)." in capsys.readouterr().out
