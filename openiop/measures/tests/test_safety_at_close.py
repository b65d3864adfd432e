"""An open safety alert is never hidden (issue 14): closing an episode is stopped while an alert is
open or a positive screen is unassessed, unless a clinician decides about each alert (audited); a
kept-open alert stays on the alert list, Today and the chart until acknowledged; "C-SSRS done"
needs a C-SSRS recorded after the alert; Today lists what waits for the user at all their sites."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.audit.models import AuditEntry
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.episodes.models import Episode
from openiop.episodes.services import episode_discharge
from openiop.measures import services
from openiop.measures.domain.care import outcome_markers
from openiop.measures.models import SafetyAlert
from openiop.measures.selectors import my_safety_alerts, patient_risk_level
from openiop.testing import make_episode, make_patient, make_user

if TYPE_CHECKING:
    from django.test import Client

    from openiop.episodes.models import Episode
    from openiop.measures.tests.conftest import Clinic

DISCHARGE_ON = dt.date(2026, 2, 20)


def _item9(clinic: Clinic, episode: Episode | None = None, by: User | None = None) -> SafetyAlert:
    """A PHQ-9 with item 9 at 1: opens an item 9 alert owned by the primary clinician."""
    episode = episode or clinic.episode
    services.response_record(
        episode=episode,
        instrument="phq9",
        answers=[0] * 8 + [1],
        by=clinic.actor(by or clinic.clinician),
    )
    return SafetyAlert.objects.filter(episode=episode).latest("created_at")


@pytest.fixture
def manager(clinic: Clinic) -> User:
    """A case manager: discharges episodes and may acknowledge alerts."""
    return make_user(Role.CASE_MANAGER, sites=[clinic.site], org=clinic.site.organization)


def _discharge(clinic: Clinic, by: User | None = None, **kw: Any) -> Episode:
    by = by or make_user(Role.CASE_MANAGER, sites=[clinic.site], org=clinic.site.organization)
    clinic.episode.refresh_from_db()
    return episode_discharge(
        episode=clinic.episode,
        discharge_date=DISCHARGE_ON,
        reason="completed",
        expected_version=clinic.episode.version,
        by=clinic.actor(by),
        **kw,
    )


# --- the service -------------------------------------------------------------------------------


def test_discharge_refused_with_the_reason_while_a_safety_alert_is_open(clinic: Clinic) -> None:
    _item9(clinic)
    with pytest.raises(RuleViolation) as err:
        _discharge(clinic)
    assert err.value.code == "open_safety_alert"
    assert "1 safety alert is open" in err.value.message
    episode = Episode.objects.get(pk=clinic.episode.pk)
    assert episode.is_open and episode.discharge_date is None
    assert clinic.episode.enrollments.get().end_date is None  # nothing changed


def test_discharge_refused_while_a_positive_screen_is_unassessed_even_with_its_alert_closed(
    clinic: Clinic,
) -> None:
    alert = _item9(clinic)
    services.safety_alert_acknowledge(
        alert=alert, action="safety_plan_reviewed", by=clinic.actor(clinic.clinician)
    )
    with pytest.raises(RuleViolation) as err:
        _discharge(clinic)
    assert err.value.code == "unassessed_screen"
    assert "no C-SSRS or risk level was recorded after it" in err.value.message
    services.risk_assess(
        episode=clinic.episode,
        risk_level="low",
        note="Passive thoughts last week, none now; plan reviewed.",
        by=clinic.actor(clinic.clinician),
    )
    assert _discharge(clinic).status == "discharged"


def test_discharge_with_an_explicit_decision_keeps_the_alert_open_and_audits_it(
    clinic: Clinic, manager: User
) -> None:
    alert = _item9(clinic)
    with pytest.raises(RuleViolation) as err:  # a decision needs a note saying who follows up
        _discharge(clinic, alert_decisions={alert.pk: services.KEEP_OPEN})
    assert err.value.field == "safety_note"
    _discharge(
        clinic,
        by=manager,
        alert_decisions={alert.pk: services.KEEP_OPEN},
        safety_note="Dr Oakhaven calls her tomorrow morning.",
    )
    alert.refresh_from_db()
    assert alert.status == "open"
    assert "Dr Oakhaven calls her tomorrow morning." in alert.action_note
    decision = AuditEntry.objects.get(object_type="safety_alert", detail__decision="keep_open")
    assert (decision.user_id, decision.object_id) == (manager.pk, str(alert.pk))
    discharge = AuditEntry.objects.get(object_type="episode", detail__event="discharge")
    assert discharge.detail["alert_decisions"] == {str(alert.pk): "keep_open"}


def test_discharge_can_acknowledge_the_alert_as_its_decision(clinic: Clinic) -> None:
    alert = _item9(clinic)
    services.response_record(
        episode=clinic.episode,
        instrument="cssrs",
        answers=[1, 0, 0, 0, 0, 0, 0],
        by=clinic.actor(clinic.clinician),
    )
    _discharge(
        clinic, alert_decisions={alert.pk: "cssrs_done"}, safety_note="Low risk; plan signed."
    )
    alert.refresh_from_db()
    assert (alert.status, alert.action_taken) == ("acknowledged", "cssrs_done")


def test_a_decision_of_cssrs_done_without_a_cssrs_rolls_the_whole_discharge_back(
    clinic: Clinic,
) -> None:
    alert = _item9(clinic)
    with pytest.raises(RuleViolation) as err:
        _discharge(clinic, alert_decisions={alert.pk: "cssrs_done"}, safety_note="Done.")
    assert err.value.code == "no_cssrs_after_alert"
    assert Episode.objects.get(pk=clinic.episode.pk).is_open
    alert.refresh_from_db()
    assert alert.status == "open"


def test_only_someone_who_may_acknowledge_alerts_decides_about_them(clinic: Clinic) -> None:
    alert = _item9(clinic)
    with pytest.raises(RuleViolation):  # intake is told why, without decisions
        _discharge(clinic, by=clinic.intake)
    with pytest.raises(NotPermitted):
        _discharge(
            clinic,
            by=clinic.intake,
            alert_decisions={alert.pk: services.KEEP_OPEN},
            safety_note="x",
        )
    assert Episode.objects.get(pk=clinic.episode.pk).is_open


# --- still visible after the episode closed ------------------------------------------------------


def _closed_with_open_alert(clinic: Clinic) -> SafetyAlert:
    alert = _item9(clinic)
    _discharge(
        clinic,
        alert_decisions={alert.pk: services.KEEP_OPEN},
        safety_note="On-call clinician follows up by phone.",
    )
    return alert


def test_a_kept_open_alert_shows_on_the_alert_list_today_and_chart_until_acknowledged(
    client: Client, clinic: Clinic
) -> None:
    alert = _closed_with_open_alert(clinic)
    by = clinic.actor(clinic.clinician)
    assert [a.pk for a in my_safety_alerts(actor=by).object_list] == [alert.pk]
    assert patient_risk_level(clinic.patient.pk) == "unassessed"
    client.force_login(clinic.clinician)
    pages = {
        "alerts": reverse("measures:alerts"),
        "today": reverse("web:today"),
        "chart": reverse("patients:chart", kwargs={"patient_id": clinic.patient.pk}),
    }
    alert_url = reverse("measures:alert", kwargs={"safety_alert_id": alert.pk})
    for name, url in pages.items():
        body = client.get(url).content.decode()
        assert alert_url in body, name
    chart = client.get(pages["chart"]).content.decode()
    assert 'data-risk="unassessed"' in chart and "No current risk identified" not in chart
    page = client.get(alert_url).content.decode()
    assert "On-call clinician follows up by phone." in page.split('data-testid="follow-up"')[1]

    services.safety_alert_acknowledge(alert=alert, action="safety_plan_reviewed", by=by)
    for name, url in pages.items():
        assert alert_url not in client.get(url).content.decode(), name


def test_the_chart_never_says_no_current_risk_while_an_alert_of_a_closed_episode_is_open(
    client: Client, clinic: Clinic
) -> None:
    alert = _item9(clinic)
    services.response_record(
        episode=clinic.episode,
        instrument="cssrs",
        answers=[0] * 7,
        by=clinic.actor(clinic.clinician),
    )
    _discharge(clinic, alert_decisions={alert.pk: services.KEEP_OPEN}, safety_note="Phone call.")
    client.force_login(clinic.clinician)
    chart = client.get(reverse("patients:chart", kwargs={"patient_id": clinic.patient.pk}))
    body = chart.content.decode()
    assert "No current risk identified" not in body
    assert 'data-risk="unassessed"' in body
    measures = client.get(reverse("measures:episode", kwargs={"episode_id": clinic.episode.pk}))
    assert 'data-risk="none"' not in measures.content.decode()


# --- "C-SSRS done" -------------------------------------------------------------------------------


def test_cssrs_done_is_refused_and_not_offered_without_a_cssrs_after_the_alert(
    client: Client, clinic: Clinic
) -> None:
    alert = _item9(clinic)
    by = clinic.actor(clinic.clinician)
    with pytest.raises(RuleViolation) as err:
        services.safety_alert_acknowledge(alert=alert, action="cssrs_done", by=by)
    assert (err.value.code, err.value.field) == ("no_cssrs_after_alert", "action")
    client.force_login(clinic.clinician)
    url = reverse("measures:alert", kwargs={"safety_alert_id": alert.pk})
    page = client.get(url).content.decode()
    assert 'value="cssrs_done"' not in page and 'value="safety_plan_reviewed"' in page
    posted = client.post(url, {"action": "cssrs_done", "note": "typed"})
    assert posted.status_code == 400 and "typed</textarea>" in posted.content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"

    services.response_record(
        episode=clinic.episode, instrument="cssrs", answers=[1, 0, 0, 0, 0, 0, 0], by=by
    )
    assert 'value="cssrs_done"' in client.get(url).content.decode()
    done = services.safety_alert_acknowledge(alert=alert, action="cssrs_done", by=by)
    assert done.action_taken == "cssrs_done"


def test_the_cssrs_that_opened_an_alert_does_not_count_as_done_after_it(clinic: Clinic) -> None:
    by = clinic.actor(clinic.clinician)
    services.response_record(
        episode=clinic.episode, instrument="cssrs", answers=[1, 1, 1, 0, 0, 0, 0], by=by
    )
    alert = SafetyAlert.objects.get(reason="cssrs")
    with pytest.raises(RuleViolation):
        services.safety_alert_acknowledge(alert=alert, action="cssrs_done", by=by)


# --- the discharge page ---------------------------------------------------------------------------


def _form(**extra: str) -> dict[str, str]:
    return {
        "version": "1",
        "discharge_date": DISCHARGE_ON.isoformat(),
        "reason": "completed",
        "note": "",
        **extra,
    }


def test_discharge_page_refuses_with_the_reason_and_keeps_what_was_typed(
    client: Client, clinic: Clinic, manager: User
) -> None:
    _item9(clinic)
    client.force_login(manager)
    url = reverse("episodes:discharge", kwargs={"episode_id": clinic.episode.pk})
    body = client.get(url).content.decode()
    assert "Safety first: open items stop the discharge" in body
    response = client.post(url, _form(note="Finished the program well"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Decide about this open safety alert." in body
    assert "Finished the program well" in body
    response = client.post(url, _form(confirm="yes"))
    assert "Confirm discharge" not in response.content.decode()
    assert Episode.objects.get(pk=clinic.episode.pk).is_open


def test_intake_sees_why_the_discharge_stops_without_the_alert_itself(
    client: Client, clinic: Clinic
) -> None:
    _item9(clinic)
    client.force_login(clinic.intake)
    url = reverse("episodes:discharge", kwargs={"episode_id": clinic.episode.pk})
    body = client.post(url, _form()).content.decode()
    assert "1 safety alert is open for this patient" in body
    assert "item 9 answered" not in body  # the alert's clinical text stays with clinical staff
    assert Episode.objects.get(pk=clinic.episode.pk).is_open


def test_discharge_page_decision_path_confirms_then_discharges_with_the_alert_kept_open(
    client: Client, clinic: Clinic, manager: User
) -> None:
    alert = _item9(clinic)
    client.force_login(manager)
    url = reverse("episodes:discharge", kwargs={"episode_id": clinic.episode.pk})
    typed = _form(**{f"alert_{alert.pk}": "keep_open", "safety_note": "Calls on Monday."})
    confirm = client.post(url, typed).content.decode()
    assert "Confirm discharge" in confirm
    assert 'data-alert-decision="keep_open"' in confirm and "Calls on Monday." in confirm
    done = client.post(url, {**typed, "confirm": "yes"})
    assert done.status_code == 302
    episode = Episode.objects.get(pk=clinic.episode.pk)
    alert.refresh_from_db()
    assert (episode.status, alert.status) == ("discharged", "open")


# --- Today across the user's sites ------------------------------------------------------------------


def test_today_lists_what_waits_for_the_user_at_all_their_sites_with_the_site_named(
    client: Client, clinic: Clinic
) -> None:
    from openiop.attendance.tests.test_views import _urgent_admission_task

    both = make_user(
        Role.CLINICIAN, sites=[clinic.site, clinic.other_site], org=clinic.site.organization
    )
    far = make_patient(clinic.other_site, legal_first_name="Oriel", legal_last_name="Farthingale")
    far_episode = make_episode(far, primary_clinician=both)
    mine = _item9(clinic, far_episode, by=both)
    assert mine.owner_id == both.pk
    someone_elses = make_episode(
        make_patient(clinic.other_site, legal_first_name="Piers", legal_last_name="Nettlecombe"),
        primary_clinician=clinic.other_clinician,
    )
    _item9(clinic, someone_elses, by=both)
    task = _urgent_admission_task(clinic.other_site, "Quillby")
    task.assigned_to = both
    task.save()
    _urgent_admission_task(clinic.other_site, "Notmine")

    client.force_login(both)
    body = client.get(reverse("web:today"), {"site": clinic.site.pk}).content.decode()
    waiting = body.split('data-section="waiting"')[1].split("</section>")[0]
    assert "Oriel Farthingale" in waiting and "Urgent Quillby" in waiting
    assert waiting.count("Elsewhere (fictional)") == 2  # each item names its site
    assert "Nettlecombe" not in waiting and "Notmine" not in waiting
    # Someone who does not work at that site is not shown it, even if named on it.
    client.force_login(clinic.clinician)
    assert "Farthingale" not in client.get(reverse("web:today")).content.decode()


# --- flags and remission ---------------------------------------------------------------------------


def test_flags_read_as_words_on_the_measures_page(client: Client, clinic: Clinic) -> None:
    _item9(clinic)
    client.force_login(clinic.clinician)
    body = client.get(
        reverse("measures:episode", kwargs={"episode_id": clinic.episode.pk})
    ).content.decode()
    assert "Item 9 positive: thoughts of death or self-harm" in body
    assert "item9_positive" not in body


def test_no_remission_with_item9_positive() -> None:
    assert outcome_markers("phq9", 15, 2).remission
    assert not outcome_markers("phq9", 15, 2, flags=("item9_positive",)).remission


def test_the_trend_has_no_remission_star_for_a_phq9_with_item9_positive(
    client: Client, clinic: Clinic
) -> None:
    by = clinic.actor(clinic.clinician)
    services.response_record(
        episode=clinic.episode, instrument="phq9", answers=[2] * 8 + [0], by=by
    )
    services.response_record(
        episode=clinic.episode, instrument="phq9", answers=[0] * 8 + [1], by=by
    )
    client.force_login(clinic.clinician)
    url = reverse("measures:episode", kwargs={"episode_id": clinic.episode.pk})
    assert 'data-marker="remission"' not in client.get(url).content.decode()
    services.response_record(episode=clinic.episode, instrument="phq9", answers=[0] * 9, by=by)
    assert 'data-marker="remission"' in client.get(url).content.decode()
