"""Group, individual and family notes through their services: save, guard, sign, lock, co-sign."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.notes import services
from openiop.notes.models import NoteSection, NoteStatus, ProgressNote
from openiop.notes.services import SectionInput
from openiop.notes.tests.conftest import INDIVIDUAL_TEXTS
from openiop.testing import make_user
from openiop.treatment.models import PlanGoal, PlanObjective, PlanProblem, TreatmentPlan

if TYPE_CHECKING:
    from openiop.episodes.models import Episode
    from openiop.notes.tests.conftest import Clinic
    from openiop.programs.models import GroupSession


def body(i: int) -> dict[str, str]:
    return {
        "participation": INDIVIDUAL_TEXTS[i],
        "response": f"Engaged with the exercise in a way specific to week {i} goals.",
        "risk": "",
        "plan": ["Continue IOP", "Review trigger log", "Call sponsor", "Practice skill"][i % 4]
        + f" before session {i + 2}.",
    }


def save(
    clinic: Clinic,
    session: GroupSession,
    members: list[Episode],
    sections: dict[int, SectionInput] | None = None,
    **kw: Any,
) -> ProgressNote:
    defaults: dict[str, Any] = dict(
        session=session,
        note_format="dap",
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        topic="Coping with cravings",
        curriculum_module="Week 3: urge surfing",
        modality="CBT",
        interventions="Psychoeducation on the craving curve; urge surfing practice; feedback round.",
        sections=sections
        if sections is not None
        else {e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)},
        by=clinic.actor,
    )
    # Saved from an up-to-date page: the version the note has now (0 before it exists).
    current = ProgressNote.objects.filter(session=session, kind="group").first()
    defaults["expected_version"] = current.version if current else 0
    defaults.update(kw)
    return services.group_note_save(**defaults)


def test_group_note_has_a_section_per_attendee_prefilled_from_attendance(clinic: Clinic) -> None:
    session, members = clinic.group(4)
    late = clinic.patient("Wren", "Latecomer")
    clinic.attend(session, late, status="late", minutes=150)
    absent = clinic.patient("Vesper", "Absentia")
    clinic.attend(session, absent, status="absent_unexcused")
    note = save(clinic, session, members)
    sections = {s.episode_id: s for s in note.sections.all()}
    assert set(sections) == {e.pk for e in members} | {late.pk}
    assert absent.pk not in sections  # absent members get none
    assert sections[late.pk].arrived_late and sections[late.pk].minutes_attended == 150
    assert sections[members[0].pk].minutes_attended == 180
    assert AuditEntry.objects.filter(object_type="progress_note", action="create").exists()


def test_a_section_for_an_absent_member_is_refused(clinic: Clinic) -> None:
    session, members = clinic.group(2)
    absent = clinic.patient("Vesper", "Absentia")
    clinic.attend(session, absent, status="absent_excused")
    with pytest.raises(RuleViolation, match="did not attend"):
        save(clinic, session, members, sections={absent.pk: SectionInput(body=body(0))})


def test_one_signature_signs_every_section_and_locks_the_note(clinic: Clinic) -> None:
    session, members = clinic.group(6)
    note = save(clinic, session, members)
    services.note_sign(note=note, by=clinic.actor)
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and note.signed_at is not None
    assert note.sections.count() == 6
    with pytest.raises(RuleViolation, match="signed and locked"):
        save(clinic, session, members)
    with pytest.raises(RuleViolation, match="signed and locked"):
        services.note_sign(note=note, by=clinic.actor)


def test_the_guard_refuses_a_copied_section_until_a_reason_is_given(clinic: Clinic) -> None:
    session, members = clinic.group(3)
    sections = {e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)}
    sections[members[2].pk] = SectionInput(body=body(0))  # copied from the first member
    note = save(clinic, session, members, sections=sections)
    results = services.note_guard(note)
    flagged = {s.episode_id for s in note.sections.all() if results[s.pk].flagged}
    assert flagged == {members[0].pk, members[2].pk}
    with pytest.raises(RuleViolation) as exc:
        services.note_sign(note=note, by=clinic.actor)
    assert exc.value.code == "similar_text"
    reasons = {
        s.pk: "Both described the same shared exercise; reviewed." for s in note.sections.all()
    }
    services.note_sign(note=note, by=clinic.actor, reasons=reasons)
    copied = NoteSection.objects.get(note=note, episode=members[2])
    assert copied.similarity_flagged and copied.similarity_score == 1.0
    assert copied.similarity_reason.startswith("Both described")
    assert not NoteSection.objects.get(note=note, episode=members[1]).similarity_flagged


def test_the_guard_compares_with_the_members_earlier_notes(clinic: Clinic) -> None:
    first, members = clinic.group(2, day=dt.date(2026, 3, 2))
    services.note_sign(note=save(clinic, first, members), by=clinic.actor)
    second = clinic.session(dt.date(2026, 3, 3))
    for e in members:
        clinic.attend(second, e)
    again = {members[0].pk: SectionInput(body=body(0)), members[1].pk: SectionInput(body=body(5))}
    note = save(clinic, second, members, sections=again)
    results = services.note_guard(note)
    by_episode = {s.episode_id: results[s.pk] for s in note.sections.all()}
    assert by_episode[members[0].pk].flagged
    best = by_episode[members[0].pk].best
    assert best is not None and best.source.startswith("earlier:")
    assert not by_episode[members[1].pk].flagged


def test_the_guard_reads_each_members_most_recent_signed_sections_only(clinic: Clinic) -> None:
    members = [clinic.patient("Sorrel", "Singleton"), clinic.patient("Tansy", "Tumbleweed")]
    # Seven earlier sessions written out of order (creation order is not session order), one
    # left as a draft: the guard compares with the five latest signed ones by session time.
    days = [5, 1, 7, 3, 6, 2, 4, 8]
    notes = {}
    for day in days:
        session = clinic.session(dt.date(2026, 3, day))
        for e in members:
            clinic.attend(session, e)
        notes[day] = save(clinic, session, members)
    ProgressNote.objects.filter(pk__in=[notes[d].pk for d in days if d != 7]).update(
        status=NoteStatus.SIGNED
    )
    current = notes[8]
    sections = list(current.sections.all())
    earlier = services.earlier_texts(sections, current.pk)
    expected = [str(notes[d].pk) for d in (6, 5, 4, 3, 2)]  # 7 is a draft; 8 is this note
    assert services.EARLIER_NOTES_COMPARED == 5
    for s in sections:
        assert list(earlier[str(s.pk)]) == expected
        assert all(earlier[str(s.pk)].values())


def test_another_members_name_in_a_section_or_the_shared_part_blocks_signing(
    clinic: Clinic,
) -> None:
    session, members = clinic.group(3)
    sections = {e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)}
    other_first = members[1].patient.legal_first_name
    sections[members[0].pk].body["response"] = f"Gave {other_first} helpful feedback on the plan."
    note = save(clinic, session, members, sections=sections)
    with pytest.raises(RuleViolation) as exc:
        services.note_sign(note=note, by=clinic.actor)
    assert exc.value.code == "other_member_named"
    sections[members[0].pk].body["response"] = "Gave a peer helpful feedback on the plan."
    note = save(
        clinic, session, members, sections=sections, interventions=f"Role play led by {other_first}"
    )
    with pytest.raises(RuleViolation, match="shared part"):
        services.note_sign(note=note, by=clinic.actor)


def test_signing_needs_every_required_field(clinic: Clinic) -> None:
    session, members = clinic.group(2)
    sections = {e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)}
    sections[members[1].pk].body["plan"] = ""
    note = save(clinic, session, members, sections=sections)
    with pytest.raises(RuleViolation, match="plan") as exc:
        services.note_sign(note=note, by=clinic.actor)
    assert exc.value.code == "section_incomplete"


def test_only_the_author_edits_and_signs(clinic: Clinic) -> None:
    session, members = clinic.group(2)
    note = save(clinic, session, members)
    other = Actor(user=clinic.supervisor)
    with pytest.raises(NotPermitted):
        services.note_sign(note=note, by=other)
    with pytest.raises(NotPermitted):
        save(clinic, session, members, by=other)


def test_a_stale_draft_is_a_conflict(clinic: Clinic) -> None:
    session, members = clinic.group(2)
    note = save(clinic, session, members)
    save(clinic, session, members, expected_version=note.version)
    with pytest.raises(Conflict):
        save(clinic, session, members, expected_version=note.version)


def test_billing_cannot_write_notes(clinic: Clinic) -> None:
    session, members = clinic.group(2)
    billing = make_user(Role.BILLING, sites=[clinic.site], org=clinic.org)
    with pytest.raises(NotPermitted):
        save(clinic, session, members, by=Actor(user=billing))


def test_supervised_author_needs_the_supervisors_cosignature(clinic: Clinic) -> None:
    clinic.clinician.supervisor = clinic.supervisor
    clinic.clinician.save()
    session, members = clinic.group(2)
    note = services.note_sign(note=save(clinic, session, members), by=clinic.actor)
    assert note.awaiting_cosign and note.cosign_required_by == clinic.supervisor
    stranger = make_user(Role.CLINICIAN, sites=[clinic.site], org=clinic.org)
    with pytest.raises(NotPermitted):
        services.note_cosign(note=note, by=Actor(user=stranger))
    services.note_cosign(note=note, by=Actor(user=clinic.supervisor))
    note.refresh_from_db()
    assert note.cosigned_at is not None and not note.awaiting_cosign
    with pytest.raises(RuleViolation, match="already"):
        services.note_cosign(note=note, by=Actor(user=clinic.supervisor))


def test_unsupervised_author_needs_no_cosignature(clinic: Clinic) -> None:
    session, members = clinic.group(2)
    note = services.note_sign(note=save(clinic, session, members), by=clinic.actor)
    assert not note.awaiting_cosign
    with pytest.raises(RuleViolation, match="does not need"):
        services.note_cosign(note=note, by=Actor(user=clinic.supervisor))


def test_addenda_only_after_signing_and_the_signed_text_stays(clinic: Clinic) -> None:
    session, members = clinic.group(2)
    note = save(clinic, session, members)
    section = note.sections.first()
    assert section is not None
    with pytest.raises(RuleViolation, match="draft"):
        services.note_add_addendum(section=section, text="Late detail", by=clinic.actor)
    services.note_sign(note=note, by=clinic.actor)
    section.refresh_from_db()
    before = dict(section.body)
    services.note_add_addendum(section=section, text="Called after group: safe.", by=clinic.actor)
    section.refresh_from_db()
    assert section.body == before
    assert [a.text for a in section.addenda.all()] == ["Called after group: safe."]


def _plan_with_objective(episode: Episode, clinic: Clinic) -> PlanObjective:
    plan = TreatmentPlan.objects.create(
        episode=episode, patient=episode.patient, number=1, created_by=clinic.clinician
    )
    problem = PlanProblem.objects.create(
        plan=plan, description="AUD", icd10_code="F10.20", patient_words="I drink to sleep"
    )
    goal = PlanGoal.objects.create(problem=problem, text="Sleep without alcohol")
    return PlanObjective.objects.create(
        goal=goal, text="Wind-down routine 5 nights a week", target_date=dt.date(2026, 4, 1)
    )


@pytest.mark.parametrize("kind,fmt", [("individual", "birp"), ("family", "soap")])
def test_individual_and_family_notes_link_objectives_and_sign(
    clinic: Clinic, kind: str, fmt: str
) -> None:
    episode = clinic.patient("Sorrel", "Singleton")
    objective = _plan_with_objective(episode, clinic)
    start = dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC)
    fields = {"birp": ["behavior", "intervention", "response", "plan"],
              "soap": ["subjective", "objective", "assessment", "plan"]}[fmt]  # fmt: skip
    note = services.individual_note_save(
        episode=episode,
        kind=kind,
        note_format=fmt,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=50),
        topic="Sleep and cravings",
        body={k: f"{k} text for the session, specific {i}" for i, k in enumerate(fields)},
        objective_ids=[objective.pk],
        by=clinic.actor,
    )
    assert list(note.sections.get().objectives.all()) == [objective]
    services.note_sign(note=note, by=clinic.actor)
    assert ProgressNote.objects.get(pk=note.pk).status == NoteStatus.SIGNED


def test_objectives_of_another_members_plan_are_refused(clinic: Clinic) -> None:
    episode = clinic.patient("Sorrel", "Singleton")
    other = clinic.patient("Tamsin", "Otherly")
    objective = _plan_with_objective(other, clinic)
    start = dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC)
    with pytest.raises(RuleViolation, match="own treatment plan"):
        services.individual_note_save(
            episode=episode,
            kind="individual",
            note_format="dap",
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=50),
            topic="x",
            body={},
            objective_ids=[objective.pk],
            by=clinic.actor,
        )


def test_end_before_start_is_refused(clinic: Clinic) -> None:
    episode = clinic.patient("Sorrel", "Singleton")
    start = dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC)
    with pytest.raises(RuleViolation, match="end after"):
        services.individual_note_save(
            episode=episode,
            kind="individual",
            note_format="dap",
            starts_at=start,
            ends_at=start,
            topic="x",
            body={},
            by=clinic.actor,
        )


def test_staff_set_supervisor_is_audited_and_checks_the_supervisor(clinic: Clinic) -> None:
    from openiop.accounts.services import staff_set_supervisor

    director = make_user(Role.DIRECTOR, sites=[clinic.site], org=clinic.org)
    by = Actor(user=director)
    staff_set_supervisor(user=clinic.clinician, supervisor=clinic.supervisor, by=by)
    clinic.clinician.refresh_from_db()
    assert clinic.clinician.supervisor == clinic.supervisor
    assert AuditEntry.objects.filter(object_type="staff", detail__supervisor=clinic.supervisor.pk)
    with pytest.raises(RuleViolation):
        staff_set_supervisor(user=clinic.clinician, supervisor=clinic.clinician, by=by)
    billing = make_user(Role.BILLING, sites=[clinic.site], org=clinic.org)
    with pytest.raises(RuleViolation):
        staff_set_supervisor(user=clinic.clinician, supervisor=billing, by=by)
    with pytest.raises(NotPermitted):
        staff_set_supervisor(user=clinic.clinician, supervisor=None, by=clinic.actor)


def test_the_database_allows_one_group_note_per_session(clinic: Clinic) -> None:
    from django.db import IntegrityError, transaction

    session, members = clinic.group(2)
    note = save(clinic, session, members)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressNote.objects.create(
            kind="group", note_format="dap", site=clinic.site, session=session,
            starts_at=note.starts_at, ends_at=note.ends_at, author=clinic.clinician,
        )  # fmt: skip


def test_an_addendum_naming_another_member_is_refused(clinic: Clinic) -> None:
    session, members = clinic.group(3)
    note = save(clinic, session, members)
    services.note_sign(note=note, by=clinic.actor)
    section = note.sections.get(episode=members[0])
    other = members[1].patient
    for text in (
        f"Talked with {other.legal_first_name} after group.",
        f"Sat next to {other.legal_last_name}.",
    ):
        with pytest.raises(RuleViolation) as refused:
            services.note_add_addendum(section=section, text=text, by=clinic.actor)
        assert refused.value.field == "text"
    assert not section.addenda.exists()
    own = section.patient.legal_first_name
    services.note_add_addendum(section=section, text=f"{own} called: safe.", by=clinic.actor)
    assert section.addenda.count() == 1


def test_a_member_with_plan_objectives_needs_a_linked_objective_to_sign(clinic: Clinic) -> None:
    session, members = clinic.group(3)
    objective = _plan_with_objective(members[0], clinic)  # the others have no plan yet
    note = save(clinic, session, members)
    with pytest.raises(RuleViolation, match="objective") as refused:
        services.note_sign(note=note, by=clinic.actor)
    section = note.sections.get(episode=members[0])
    assert refused.value.field == f"section-{section.pk}"
    assert members[0].patient.display_name in str(refused.value)
    sections = {e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)}
    sections[members[0].pk] = SectionInput(body=body(0), objective_ids=[objective.pk])
    note = save(clinic, session, members, sections=sections, expected_version=note.version)
    services.note_sign(note=note, by=clinic.actor)
    assert ProgressNote.objects.get(pk=note.pk).status == NoteStatus.SIGNED


def test_an_individual_note_of_a_member_with_a_plan_links_an_objective(clinic: Clinic) -> None:
    episode = clinic.patient("Sorrel", "Unlinked")
    _plan_with_objective(episode, clinic)
    start = dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC)
    note = services.individual_note_save(
        episode=episode,
        kind="individual",
        note_format="dap",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=50),
        topic="Sleep",
        body={"data": "Slept four hours.", "assessment": "Tired.", "plan": "Routine."},
        by=clinic.actor,
    )
    with pytest.raises(RuleViolation) as refused:
        services.note_sign(note=note, by=clinic.actor)
    assert refused.value.field == "objectives"


# --- no signature before the session ends ------------------------------------------------------------
def test_a_group_note_is_refused_a_signature_before_the_session_ends(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, members = clinic.group(2)
    note = save(clinic, session, members)
    monkeypatch.setattr(services, "now", lambda: session.ends_at - dt.timedelta(minutes=1))
    with pytest.raises(RuleViolation) as exc:
        services.note_sign(note=note, by=clinic.actor)
    assert exc.value.code == "session_not_ended"
    assert "Mon Mar 2, 2026 12:00 PM CST" in exc.value.message  # the site's clock and zone
    assert ProgressNote.objects.get(pk=note.pk).status == NoteStatus.DRAFT
    monkeypatch.setattr(services, "now", lambda: session.ends_at)
    services.note_sign(note=note, by=clinic.actor)
    assert ProgressNote.objects.get(pk=note.pk).status == NoteStatus.SIGNED


def test_a_note_is_signed_after_the_later_of_its_own_end_and_the_sessions_end(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, members = clinic.group(2)
    # The note says the group ran until 12:30 (half an hour over the scheduled 12:00).
    note = save(clinic, session, members, ends_at=session.ends_at + dt.timedelta(minutes=30))
    monkeypatch.setattr(services, "now", lambda: session.ends_at + dt.timedelta(minutes=10))
    with pytest.raises(RuleViolation, match="12:30 PM CST"):
        services.note_sign(note=note, by=clinic.actor)


def test_an_individual_note_of_a_future_service_cannot_be_signed(clinic: Clinic) -> None:
    episode = clinic.patient("Sorrel", "Singleton")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    note = services.individual_note_save(
        episode=episode,
        kind="individual",
        note_format="dap",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=50),
        topic="Sleep",
        body={"data": "Slept four hours.", "assessment": "Tired.", "plan": "Routine."},
        by=clinic.actor,
    )
    with pytest.raises(RuleViolation) as exc:
        services.note_sign(note=note, by=clinic.actor)
    assert exc.value.code == "session_not_ended"
    assert ProgressNote.objects.get(pk=note.pk).status == NoteStatus.DRAFT


def test_co_signature_and_addenda_are_not_held_to_the_session_end(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic.clinician.supervisor = clinic.supervisor
    clinic.clinician.save()
    session, members = clinic.group(2)
    note = services.note_sign(note=save(clinic, session, members), by=clinic.actor)
    # Back on the session's own morning (a wrong clock must not undo what was signed): the
    # supervisor co-signs and an addendum is added all the same.
    monkeypatch.setattr(services, "now", lambda: session.starts_at)
    supervisor = Actor(user=clinic.supervisor, client_addr="127.0.0.1")
    services.note_cosign(note=note, by=supervisor)
    section = note.sections.get(episode=members[0])
    services.note_add_addendum(section=section, text="Called after group: safe.", by=clinic.actor)
    assert ProgressNote.objects.get(pk=note.pk).cosigned_at is not None


# --- the sentence rule -------------------------------------------------------------------------------
COPIED_SENTENCE = "Identified the evening walk home as the riskiest time for cravings."


def test_a_copied_sentence_is_named_with_the_member_before_signing(clinic: Clinic) -> None:
    session, members = clinic.group(3)
    sections = {e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)}
    for i in (0, 2):
        text = sections[members[i].pk].body
        text["response"] = text["response"] + " " + COPIED_SENTENCE
    note = save(clinic, session, members, sections=sections)
    results = services.note_guard(note)
    by_episode = {s.episode_id: results[s.pk] for s in note.sections.all()}
    assert not by_episode[members[2].pk].similar  # the sections as a whole are individual
    assert by_episode[members[2].pk].flagged and by_episode[members[0].pk].flagged
    assert not by_episode[members[1].pk].flagged
    with pytest.raises(RuleViolation) as exc:
        services.note_sign(note=note, by=clinic.actor)
    assert exc.value.code == "copied_sentence"
    first, third = (members[0].patient.display_name, members[2].patient.display_name)
    assert f"{first}: “{COPIED_SENTENCE}” also appears in {third}'s section of this note" in (
        exc.value.message
    )
    assert ProgressNote.objects.get(pk=note.pk).status == NoteStatus.DRAFT
    reasons = {s.pk: "Both named the same walk home; reviewed." for s in note.sections.all()}
    services.note_sign(note=note, by=clinic.actor, reasons=reasons)
    assert NoteSection.objects.get(note=note, episode=members[2]).similarity_flagged


def test_a_sentence_from_another_members_earlier_note_is_named_with_that_member(
    clinic: Clinic,
) -> None:
    first, members = clinic.group(2, day=dt.date(2026, 3, 2))
    sections = {e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)}
    sections[members[1].pk].body["response"] = COPIED_SENTENCE
    services.note_sign(note=save(clinic, first, members, sections=sections), by=clinic.actor)
    second = clinic.session(dt.date(2026, 3, 3))
    for e in members:
        clinic.attend(second, e)
    again = {members[0].pk: SectionInput(body=body(4)), members[1].pk: SectionInput(body=body(5))}
    again[members[0].pk].body["plan"] = COPIED_SENTENCE
    note = save(clinic, second, members, sections=again)
    with pytest.raises(RuleViolation) as exc:
        services.note_sign(note=note, by=clinic.actor)
    other = members[1].patient.display_name
    assert f"also appears in an earlier note of {other}." in exc.value.message
    assert exc.value.message.startswith(members[0].patient.display_name)


def test_an_individual_note_repeating_a_sentence_of_the_members_earlier_note_is_named(
    clinic: Clinic,
) -> None:
    episode = clinic.patient("Sorrel", "Singleton")

    def write(day: int, data: str) -> ProgressNote:
        start = dt.datetime(2026, 3, day, 15, tzinfo=dt.UTC)
        return services.individual_note_save(
            episode=episode,
            kind="individual",
            note_format="dap",
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=50),
            topic="Cravings",
            body={"data": data, "assessment": f"Assessment of day {day}.", "plan": "Routine."},
            by=clinic.actor,
        )

    services.note_sign(note=write(4, COPIED_SENTENCE), by=clinic.actor)
    note = write(5, "Slept badly on Sunday. " + COPIED_SENTENCE)
    with pytest.raises(RuleViolation) as exc:
        services.note_sign(note=note, by=clinic.actor)
    assert exc.value.field == "reason"
    assert "also appears in an earlier note of Sorrel Singleton (this member)" in exc.value.message
