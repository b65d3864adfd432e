"""Prescriber visits (issue 18.2): a medication-management visit is an appointment for one
episode, booked like individual and family sessions, with a prescriber only."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.programs import domain, services
from openiop.programs.models import GroupSession
from openiop.programs.selectors import episode_appointment
from openiop.testing import make_user

if TYPE_CHECKING:
    from django.test import Client

    from openiop.programs.tests.conftest import Clinic

D = dt.date


@pytest.mark.parametrize(
    ("kind", "prescribes", "refused"),
    [
        ("medication_mgmt", True, False),
        ("medication_mgmt", False, True),
        ("individual", False, False),
        ("individual", True, False),
        ("family", False, False),
    ],
)
def test_only_a_prescriber_provides_a_medication_management_visit(
    kind: str, prescribes: bool, refused: bool
) -> None:
    problem = domain.appointment_provider_problem(kind, "Juniper", provider_prescribes=prescribes)
    assert bool(problem) is refused
    if refused:
        assert problem.startswith("Juniper is not a prescriber")


def test_a_group_kind_is_not_an_appointment() -> None:
    with pytest.raises(ValueError, match="not a kind of appointment"):
        domain.appointment_provider_problem("group_therapy", "Juniper", provider_prescribes=True)


@pytest.fixture
def prescriber(clinic: Clinic) -> Any:
    return make_user(
        Role.PRESCRIBER, sites=[clinic.site], org=clinic.org, first_name="Rowan", last_name="Pill"
    )


def _book(clinic: Clinic, episode: Any, facilitator: Any, by: Any) -> GroupSession:
    return services.appointment_book(
        episode=episode,
        facilitator=facilitator,
        kind="medication_mgmt",
        date=D(2026, 3, 10),
        start_time=dt.time(11, 0),
        duration_minutes=30,
        room=None,
        title="",
        by=Actor(user=by, path="/test"),
    )


def test_prescriber_books_a_medication_visit_for_the_episode_and_it_is_audited(
    clinic: Clinic, prescriber: Any
) -> None:
    episode = clinic.episode()
    session = _book(clinic, episode, prescriber, prescriber)
    assert (session.kind, session.episode_id, session.track_id, session.facilitator_id) == (
        "medication_mgmt",
        episode.pk,
        None,
        prescriber.pk,
    )
    assert session.title == "Medication management (prescriber visit)"
    assert episode_appointment(episode=episode, session_id=session.pk) == session
    assert AuditEntry.objects.filter(
        object_type="appointment", object_id=str(session.pk), patient_id=episode.patient_id
    ).exists()


def test_a_clinician_cannot_be_the_provider_of_a_medication_visit(
    clinic: Clinic, prescriber: Any
) -> None:
    episode = clinic.episode()
    with pytest.raises(RuleViolation, match="is not a prescriber") as exc:
        _book(clinic, episode, clinic.clinician, clinic.clinician)
    assert (exc.value.code, exc.value.field) == ("not_prescriber", "facilitator")
    assert not GroupSession.objects.filter(episode=episode).exists()
    # The clinician books it for the patient with a prescriber: booking stays APPOINTMENT_BOOK.
    assert _book(clinic, episode, prescriber, clinic.clinician).facilitator == prescriber


def test_booking_page_refuses_a_non_prescriber_and_keeps_the_input(
    clinic: Clinic, prescriber: Any, client: Client
) -> None:
    episode = clinic.episode()
    url = reverse("programs:appointment_book", kwargs={"episode_id": episode.pk})
    client.force_login(prescriber)
    form = client.get(url + "?kind=medication_mgmt").content.decode()
    assert 'value="medication_mgmt" selected' in form
    data = {
        "kind": "medication_mgmt",
        "facilitator": clinic.clinician.pk,
        "date": "2026-03-10",
        "start_time": "11:15",
        "duration_minutes": "30",
        "room": "",
        "title": "Naltrexone follow-up",
    }
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "is not a prescriber: a medication-management visit is booked with a prescriber" in html
    assert 'value="11:15"' in html and 'value="Naltrexone follow-up"' in html
    assert not GroupSession.objects.filter(episode=episode).exists()
    response = client.post(url, {**data, "facilitator": prescriber.pk})
    assert response.status_code == 302
    visit = GroupSession.objects.get(episode=episode)
    assert (visit.kind, visit.title) == ("medication_mgmt", "Naltrexone follow-up")
