"""Medication-management notes (issue 18.2, "prescriber visits are appointments with their own
note type"): the format's rules, the prescriber-only writing and signing, the medication list
copied in at the time of writing, and who reads the text."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.medications import services as medications
from openiop.notes import domain, services
from openiop.notes.models import NoteStatus, ProgressNote
from openiop.programs.models import GroupSession
from openiop.testing import make_user

if TYPE_CHECKING:
    from django.test import Client

    from openiop.episodes.models import Episode
    from openiop.notes.tests.conftest import Clinic

MED_BODY = {
    "response": "Cravings down from daily to twice a week; mild headache the first three days.",
    "adherence": "Took every dose this week by her own count; one late dose on Saturday.",
    "assessment": "Responding to naltrexone without troubling side effects.",
    "plan": "Continue naltrexone 50 mg daily; recheck liver panel in four weeks.",
}


# --- the rules (no database) ----------------------------------------------------------------------
def test_the_medication_format_has_its_own_sections_and_no_group_form() -> None:
    keys = [k for k, _ in domain.fields_for("medication", group=False)]
    assert keys == ["medications_reviewed", "response", "adherence", "assessment", "plan"]
    with pytest.raises(ValueError, match="DAP, BIRP or SOAP"):
        domain.fields_for("medication", group=True)
    assert domain.formats_for("medication") == ("medication",)
    assert domain.formats_for("individual") == ("dap", "birp", "soap")


def test_the_copied_medication_list_is_neither_required_nor_compared_by_the_guard() -> None:
    fields = domain.fields_for("medication", group=False)
    body = {"medications_reviewed": "Naltrexone 50 mg, By mouth, daily", **MED_BODY}
    assert domain.missing_fields({**body, "medications_reviewed": ""}, fields) == []
    assert domain.missing_fields({**body, "adherence": " "}, fields) == ["Adherence"]
    assert "Naltrexone 50 mg" not in domain.written_text(body)
    assert MED_BODY["plan"] in domain.written_text(body)


@pytest.mark.parametrize(
    ("medications", "mat", "expected"),
    [
        ([], [], "No medications on the list."),
        (
            [
                {
                    "name": "Naltrexone",
                    "dose": "50 mg",
                    "route": "By mouth",
                    "frequency": "once daily",
                    "prescriber": "Dr. Fernwhistle",
                    "source": "Prescribed here",
                    "start_date": "2026-02-01",
                }
            ],
            [{"kind": "Buprenorphine", "started_on": "2026-01-20", "dispensing_program": ""}],
            "Naltrexone 50 mg, By mouth, once daily; prescribed here by Dr. Fernwhistle, since "
            "2026-02-01\nMAT: Buprenorphine since 2026-01-20",
        ),
        (
            [{"name": "Sertraline", "dose": "", "route": "", "frequency": "", "source": ""}],
            [{"kind": "Methadone", "started_on": "2025-12-01", "dispensing_program": "Elm OTP"}],
            "Sertraline\nMAT: Methadone since 2025-12-01 (dispensed by Elm OTP)",
        ),
    ],
)
def test_the_medication_list_is_written_one_line_each(
    medications: list[dict[str, str]], mat: list[dict[str, str]], expected: str
) -> None:
    assert domain.medication_review_text(medications, mat) == expected


# --- services -------------------------------------------------------------------------------------
@pytest.fixture
def prescriber(clinic: Clinic) -> Any:
    return make_user(
        Role.PRESCRIBER, sites=[clinic.site], org=clinic.org, first_name="Rowan", last_name="Pill"
    )


def _visit(clinic: Clinic, episode: Episode, prescriber: Any, day: dt.date) -> GroupSession:
    starts = dt.datetime.combine(day, dt.time(10, 0), tzinfo=clinic.site.tz)
    return GroupSession.objects.create(
        site=clinic.site,
        kind="medication_mgmt",
        title="Medication management",
        date=day,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
        facilitator=prescriber,
        episode=episode,
    )


def _add_med(episode: Episode, prescriber: Any, name: str = "Naltrexone") -> None:
    medications.medication_add(
        patient=episode.patient,
        name=name,
        dose="50 mg",
        route="oral",
        frequency="once daily",
        source="here",
        prescriber="Dr. Pill",
        by=Actor(user=prescriber),
    )


def _save(episode: Episode, session: GroupSession, by: Any, **kw: Any) -> ProgressNote:
    return services.individual_note_save(
        episode=episode,
        kind=kw.pop("kind", "medication"),
        note_format=kw.pop("note_format", "medication"),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        topic="Medication management",
        body={**MED_BODY, "medications_reviewed": "typed over by hand"},
        session=session,
        by=Actor(user=by),
        **kw,
    )


def test_prescriber_writes_and_signs_with_the_list_as_it_was(
    clinic: Clinic, prescriber: Any
) -> None:
    episode = clinic.patient("Pimpernel", "Dosewell")
    _add_med(episode, prescriber)
    session = _visit(clinic, episode, prescriber, local_today(clinic.site.tz) - dt.timedelta(1))
    note = _save(episode, session, prescriber)
    section = note.sections.get()
    listed = section.body["medications_reviewed"]
    assert listed.startswith("Naltrexone 50 mg, By mouth, once daily; prescribed here by Dr. Pill")
    assert "typed over by hand" not in listed
    assert note.part2 == episode.part2_protected
    services.note_sign(note=note, by=Actor(user=prescriber))
    _add_med(episode, prescriber, name="Sertraline")  # the list changes after signing
    note.refresh_from_db()
    section.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert section.body["medications_reviewed"] == listed  # the signed note keeps its list
    with pytest.raises(RuleViolation) as exc:
        _save(episode, session, prescriber, note=note, expected_version=note.version)
    assert exc.value.code == "note_locked"
    services.note_add_addendum(
        section=section, text="Liver panel normal.", by=Actor(user=prescriber)
    )
    with pytest.raises(NotPermitted):
        services.note_add_addendum(section=section, text="Seen.", by=clinic.actor)


def test_a_medication_note_of_a_visit_not_yet_over_is_refused_when_signed(
    clinic: Clinic, prescriber: Any
) -> None:
    episode = clinic.patient("Quillon", "Laterday")
    session = _visit(clinic, episode, prescriber, local_today(clinic.site.tz) + dt.timedelta(2))
    note = _save(episode, session, prescriber)
    with pytest.raises(RuleViolation, match="has not ended yet") as exc:
        services.note_sign(note=note, by=Actor(user=prescriber))
    assert exc.value.code == "session_not_ended"
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT


def test_a_clinician_cannot_write_a_medication_note_and_the_attempt_is_audited(
    clinic: Clinic, prescriber: Any
) -> None:
    episode = clinic.patient("Rosalind", "Nomeds")
    session = _visit(clinic, episode, prescriber, local_today(clinic.site.tz) - dt.timedelta(1))
    with pytest.raises(NotPermitted, match="Only a prescriber") as exc:
        _save(episode, session, clinic.clinician)
    assert exc.value.code == "not_prescriber"
    assert AuditEntry.objects.filter(
        outcome="denied", patient_id=episode.patient_id, object_type="progress_note"
    ).exists()
    assert not ProgressNote.objects.exists()


def test_a_prescriber_visit_is_documented_by_a_medication_note_only(
    clinic: Clinic, prescriber: Any
) -> None:
    episode = clinic.patient("Sorrel", "Mixup")
    session = _visit(clinic, episode, prescriber, local_today(clinic.site.tz) - dt.timedelta(1))
    with pytest.raises(RuleViolation) as exc:
        _save(episode, session, prescriber, kind="individual", note_format="soap")
    assert exc.value.code == "kind_mismatch"
    with pytest.raises(RuleViolation) as exc:
        _save(episode, session, prescriber, note_format="soap")
    assert exc.value.field == "note_format"


# --- pages by role --------------------------------------------------------------------------------
def test_prescriber_page_shows_the_list_read_only_and_clinicians_are_refused(
    clinic: Clinic, prescriber: Any, client: Client
) -> None:
    episode = clinic.patient("Tamsin", "Pagewell")
    _add_med(episode, prescriber)
    url = reverse("notes:individual_new", kwargs={"episode_id": episode.pk}) + "?kind=medication"
    client.force_login(prescriber)
    html = client.get(url).content.decode()
    assert "New medication-management note" in html
    assert "Naltrexone 50 mg, By mouth, once daily" in html
    assert 'name="medications_reviewed"' in html and "disabled" in html
    assert "Response and side effects" in html and "Format:" not in html
    client.force_login(clinic.clinician)
    response = client.get(url)
    assert response.status_code == 403
    assert "Only a prescriber writes or signs" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "reads"),
    [
        (Role.PRESCRIBER, True),
        (Role.CLINICIAN, True),
        (Role.CASE_MANAGER, False),
        (Role.BILLING, False),
    ],
)
def test_who_reads_a_signed_medication_note(
    clinic: Clinic, prescriber: Any, client: Client, role: Role, reads: bool
) -> None:
    episode = clinic.patient("Umbra", "Readsworth")
    _add_med(episode, prescriber)
    session = _visit(clinic, episode, prescriber, local_today(clinic.site.tz) - dt.timedelta(1))
    note = _save(episode, session, prescriber)
    services.note_sign(note=note, by=Actor(user=prescriber))
    reader = make_user(role, sites=[clinic.site], org=clinic.org)
    client.force_login(reader)
    pages = {}
    for name, url in (
        ("section", reverse("notes:section", kwargs={"section_id": note.sections.get().pk})),
        ("detail", reverse("notes:detail", kwargs={"note_id": note.pk})),
    ):
        response = client.get(url)
        pages[name] = html = response.content.decode()
        assert response.status_code == (200 if reads else 403)
        assert (MED_BODY["plan"] in html) is reads
        assert ("Naltrexone 50 mg" in html) is reads
    # Addenda to a prescriber's note are the prescriber's: only they are offered the form.
    assert ("Add an addendum" in pages["section"]) is (role == Role.PRESCRIBER)
