"""`openiop synth` writes signed treatment plans per stay and signed notes per attended session, as
the treatment and notes apps would have stored them."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

import pytest
from django.core.management import call_command

from openiop.attendance.choices import ATTENDED_STATUSES
from openiop.attendance.models import Attendance
from openiop.episodes.models import Episode
from openiop.notes import domain as notes_domain
from openiop.notes.models import NoteSection, ProgressNote
from openiop.treatment import domain as treatment_domain
from openiop.treatment.models import PlanObjective, TreatmentPlan
from openiop.treatment.services import plan_outline

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def network() -> None:
    call_command(
        "synth",
        *("--sites", "1", "--patients", "150", "--weeks", "6", "--seed", "3"),
        *("--today", str(TODAY)),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def test_plans_are_complete_signed_versions_per_stay(network: None) -> None:
    plans = TreatmentPlan.objects.prefetch_related(
        "problems__goals__objectives", "problems__goals__interventions", "signatures"
    ).select_related("patient")
    by_episode: dict[int, list[TreatmentPlan]] = defaultdict(list)
    for plan in plans.order_by("episode_id", "number"):
        by_episode[plan.episode_id].append(plan)
        assert treatment_domain.plan_gaps(plan_outline(plan)) == []
        assert plan.signed_at is not None
        required = treatment_domain.signatures_required(
            date_of_birth=plan.patient.date_of_birth, on=plan.signed_at.date()
        )
        assert sorted(s.role for s in plan.signatures.all()) == sorted(required)
    assert len(by_episode) > 100
    for versions in by_episode.values():
        assert [p.number for p in versions] == list(range(1, len(versions) + 1))
        assert [p.status for p in versions] == ["superseded"] * (len(versions) - 1) + ["signed"]
        assert [p.previous_id for p in versions] == [None] + [p.pk for p in versions[:-1]]
    # Every open stay past its first week has a plan; none is signed before admission.
    settled = Episode.objects.filter(
        status="active", admission_date__lte=TODAY - dt.timedelta(days=8)
    )
    assert settled.exists()
    assert not settled.exclude(pk__in=list(by_episode)).exists()
    for versions in by_episode.values():
        assert versions[0].signed_at.date() >= versions[0].episode.admission_date  # type: ignore[union-attr]
    assert TreatmentPlan.objects.filter(
        signatures__role="guardian", patient__date_of_birth__gt=TODAY.replace(year=TODAY.year - 19)
    ).exists()


def test_one_signed_note_per_attended_session_with_a_section_per_attendee(network: None) -> None:
    attended: dict[int, dict[int, Attendance]] = defaultdict(dict)
    for a in Attendance.objects.filter(status__in=ATTENDED_STATUSES):
        attended[a.session_id][a.episode_id] = a
    notes = ProgressNote.objects.prefetch_related("sections").select_related("session")
    assert notes.count() == len(attended) > 100
    assert {n.session_id for n in notes} == set(attended)
    kinds = set()
    drafts = recent = 0
    for note in notes:
        kinds.add(note.kind)
        if note.status == "signed":
            assert note.signed_at and note.signed_at > note.ends_at
        else:
            assert note.status == "draft" and note.signed_at is None
            drafts += 1
            recent += note.starts_at.date() >= TODAY - dt.timedelta(days=2)
        assert note.session is not None
        assert (note.starts_at, note.ends_at) == (note.session.starts_at, note.session.ends_at)
        rows = attended[note.session.pk]
        sections = list(note.sections.all())
        assert {s.episode_id for s in sections} == set(rows)
        group = note.kind == "group"
        assert group == (note.session.episode_id is None)
        fields = notes_domain.fields_for(note.note_format, group=group)
        for s in sections:
            a = rows[s.episode_id]
            assert s.attendance_id == a.pk and s.patient_id == a.patient_id
            assert s.minutes_attended == a.minutes_attended
            assert s.arrived_late == (a.status == "late")
            assert s.left_early == (a.status == "left_early")
            assert notes_domain.missing_fields(s.body, fields) == []
    assert kinds == {"group", "individual", "family"}
    # Most notes are signed; the drafts are mostly the last two days' (being written).
    assert 0 < recent <= drafts < notes.count() // 10
    assert recent > drafts / 2
    # A section's objectives come from its own episode's plan.
    linked = NoteSection.objectives.through.objects.select_related(
        "planobjective__goal__problem__plan"
    )
    assert linked.exists()
    for link in linked[:500]:
        plan = link.planobjective.goal.problem.plan
        section = NoteSection.objects.get(pk=link.notesection_id)
        assert plan.episode_id == section.episode_id
    assert PlanObjective.objects.exists()
