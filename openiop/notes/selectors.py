"""Reads of progress notes: access checked and audited here.

A member's chart sees its own section of a group note and the shared part, never the other
sections (section_get, patient_notes); the whole note is the facilitator's working view (note_get).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from openiop.accounts.access import get_for, require, require_site, site_scope
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.attendance.choices import ATTENDED_STATUSES
from openiop.attendance.models import Attendance
from openiop.attendance.selectors import session_attendance
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.medications.selectors import discharge_medications
from openiop.notes import domain
from openiop.notes.models import NoteAddendum, NoteKind, NoteSection, NoteStatus, ProgressNote
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_match
from openiop.programs.models import GroupSession
from openiop.treatment.models import PlanObjective
from openiop.treatment.selectors import current_objectives

READ_CAP = Cap.NOTE_TEXT


def _sections() -> QuerySet[NoteSection]:
    return NoteSection.objects.select_related("patient", "episode", "attendance").prefetch_related(
        Prefetch("objectives", queryset=PlanObjective.objects.order_by("target_date", "id")),
        Prefetch("addenda", queryset=NoteAddendum.objects.select_related("author")),
    )


def _notes() -> QuerySet[ProgressNote]:
    return ProgressNote.objects.select_related(
        "site", "session", "author", "cosign_required_by"
    ).prefetch_related("facilitators")


# --- the group note screen ------------------------------------------------------------------------
@dataclass
class MemberRow:
    attendance: Attendance
    section: NoteSection | None
    objectives: list[PlanObjective]  # of the member's current plan, to choose from
    linked: set[int] = field(default_factory=set)  # the ids of those the section serves

    @property
    def patient(self) -> Patient:
        return self.attendance.patient


@dataclass
class GroupNoteScreen:
    session: GroupSession
    note: ProgressNote | None
    members: list[MemberRow]
    absent: int
    staff: list[User]
    facilitator_ids: set[int] = field(default_factory=set)  # of the note, among `staff`


def group_note_screen(*, actor: Actor, session_id: int) -> GroupNoteScreen:
    """What the one-screen group note shows: the session, its draft or signed note, one row per
    attending member (attendance, section, plan objectives to link) and the staff who can be
    facilitators (those of the note marked). Fixed number of queries whatever the number of
    members; one audit entry names every member shown."""
    require(actor, READ_CAP, object_type="group_note")
    # The note comes with its session (one query when a note exists, which is when the screen is
    # opened most); the session alone when nobody has started the note yet.
    note = (
        ProgressNote.objects.select_related("author", "session__site", "session__track")
        .filter(session_id=session_id, kind=NoteKind.GROUP)
        .first()
    )
    session = (
        note.session
        if note is not None and note.session is not None
        else GroupSession.objects.select_related("site", "track").filter(pk=session_id).first()
    )
    if session is None:
        raise NotFound("That session does not exist.", code="session_not_found")
    require_site(actor, session.site_id, object_type="session")
    # The editor shows each section's text and the ids of the objectives it serves (the member's
    # name and attendance come from the attendance rows; a draft has no addenda).
    sections: dict[int, NoteSection] = {}
    linked: dict[int, set[int]] = {}
    if note is not None:
        sections = {s.episode_id: s for s in NoteSection.objects.filter(note=note)}
        for section_id, objective_id in NoteSection.objectives.through.objects.filter(
            notesection__note=note
        ).values_list("notesection_id", "planobjective_id"):
            linked.setdefault(section_id, set()).add(objective_id)
    rows = list(session_attendance(session))  # absent members too: counted, given no section
    present = [a for a in rows if a.status in ATTENDED_STATUSES]
    objectives = current_objectives([a.episode_id for a in present])
    staff_rows = User.objects.filter(is_active=True, sites=session.site_id).filter(
        role__in=["clinician", "case_manager", "prescriber", "director"]
    )
    if note is not None:
        staff_rows = staff_rows.annotate(
            facilitates=Exists(
                ProgressNote.facilitators.through.objects.filter(
                    progressnote_id=note.pk, user_id=OuterRef("pk")
                )
            )
        )
    staff = list(staff_rows.order_by("last_name", "first_name"))
    members = []
    for a in present:
        section = sections.get(a.episode_id)
        members.append(
            MemberRow(
                a,
                section,
                objectives.get(a.episode_id, []),
                linked.get(section.pk, set()) if section else set(),
            )
        )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="group_note",
        object_id=session.pk,
        patient_ids=[a.patient_id for a in present],
    )
    return GroupNoteScreen(
        session=session,
        note=note,
        members=members,
        absent=len(rows) - len(present),
        staff=staff,
        facilitator_ids={u.pk for u in staff if getattr(u, "facilitates", False)},
    )


# --- whole notes (the author's and facilitator's view) --------------------------------------------
@dataclass
class NoteView:
    note: ProgressNote
    sections: list[NoteSection]


def note_get(*, actor: Actor, note_id: int) -> NoteView:
    """A whole note with every section (the facilitator's view, not a chart's); audited with every
    member named. Raises NotFound / NotPermitted (audited)."""
    require(actor, READ_CAP, object_type="progress_note")
    note = get_for(
        actor,
        _notes(),
        note_id,
        cap=READ_CAP,
        object_type="note",
        missing=NotFound("There is no note with this number.", code="note_not_found"),
        site_of=lambda n: n.site_id,
        action=None,  # audited below, naming every member
    )
    sections = list(_sections().filter(note=note))
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="progress_note",
        object_id=note.pk,
        patient_ids=[s.patient_id for s in sections],
    )
    return NoteView(note=note, sections=sections)


# --- a member's chart ------------------------------------------------------------------------------
def section_get(*, actor: Actor, section_id: int, purpose: str = "note_section") -> NoteSection:
    """One member's section with the note's shared part, as that member's chart shows it; audited
    for that member only. Other members' sections are not loaded."""
    return get_for(
        actor,
        _sections().select_related("note__site", "note__author", "note__session"),
        section_id,
        cap=READ_CAP,
        object_type=purpose,
        missing=NotFound("There is no note section with this number.", code="section_not_found"),
        patient_of=lambda s: s.patient,
        action=AuditAction.EXPORT if purpose.endswith("export") else AuditAction.VIEW,
    )


def patient_notes(*, actor: Actor, patient_id: int) -> tuple[Patient, list[NoteSection]]:
    """A patient's note sections (newest first) for the chart; audited."""
    patient = get_for(
        actor,
        Patient.objects.select_related("site"),
        patient_id,
        cap=READ_CAP,
        object_type="patient_notes",
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
        action=None,  # audited below once the sections are read (an entry without an object id)
    )
    sections = list(
        NoteSection.objects.filter(patient=patient)
        .select_related("note__author", "note__session")
        .order_by("-note__starts_at", "-id")
    )
    audit_record(actor, action=AuditAction.VIEW, patient_id=patient.pk, object_type="patient_notes")
    return patient, sections


# --- work lists ------------------------------------------------------------------------------------
@dataclass
class LateRow:
    session_end: dt.datetime
    due_at: dt.datetime
    note: ProgressNote | None
    session: GroupSession | None
    patient_ids: list[int]
    title: str


LATE_LOOKBACK_DAYS = 60


def late_notes(
    *, actor: Actor, now: dt.datetime, mine_only: bool = False, q: str = ""
) -> list[LateRow]:
    """Notes still unsigned `settings.NOTES_LATE_AFTER_HOURS` after their session ended, and
    sessions (group, individual, family) attended in the last 60 days that have no note at all. Oldest first. Fixed queries;
    one audit entry names the members concerned. `q` keeps the notes and sessions with a member
    matching the patient search box (name words, MRN or date of birth)."""
    require(actor, READ_CAP, object_type="late_notes")
    hours = settings.NOTES_LATE_AFTER_HOURS
    cutoff = now - dt.timedelta(hours=hours)
    since = now - dt.timedelta(days=LATE_LOOKBACK_DAYS)
    drafts = (
        ProgressNote.objects.filter(site_scope(actor), status=NoteStatus.DRAFT, ends_at__lt=cutoff)
        .select_related("author", "session", "site")  # the site: its times in its zone
        .prefetch_related("sections")
    )
    sessions = (
        GroupSession.objects.filter(site_scope(actor), ends_at__lt=cutoff, ends_at__gte=since)
        .filter(
            Exists(Attendance.objects.filter(session=OuterRef("pk"), status__in=ATTENDED_STATUSES))
        )
        .filter(~Exists(ProgressNote.objects.filter(session=OuterRef("pk"))))
        .select_related("facilitator", "site")
        .prefetch_related(
            Prefetch(
                "attendances",
                queryset=Attendance.objects.filter(status__in=ATTENDED_STATUSES),
            )
        )
    )
    if q.strip():
        match = patient_match(q)
        drafts = drafts.filter(
            Exists(NoteSection.objects.filter(match, note=OuterRef("pk")).values("pk"))
        )
        sessions = sessions.filter(
            Exists(
                Attendance.objects.filter(
                    match, session=OuterRef("pk"), status__in=ATTENDED_STATUSES
                ).values("pk")
            )
        )
    if mine_only and actor.user is not None:
        drafts = drafts.filter(author=actor.user)
        sessions = sessions.filter(facilitator=actor.user)
    rows = [
        LateRow(
            session_end=n.ends_at,
            due_at=domain.note_due_at(n.ends_at, hours),
            note=n,
            session=n.session,
            patient_ids=[s.patient_id for s in n.sections.all()],
            title=n.topic or n.get_kind_display(),
        )
        for n in drafts
        if domain.is_late(
            session_end=n.ends_at, signed_at=n.signed_at, now=now, late_after_hours=hours
        )
    ]
    rows += [
        LateRow(
            session_end=s.ends_at,
            due_at=domain.note_due_at(s.ends_at, hours),
            note=None,
            session=s,
            patient_ids=[a.patient_id for a in s.attendances.all()],
            title=s.title,
        )
        for s in sessions
    ]
    rows.sort(key=lambda r: r.session_end)
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="late_notes",
        patient_ids=[p for r in rows for p in r.patient_ids],
    )
    return rows


def cosign_queue(*, actor: Actor) -> list[ProgressNote]:
    """Signed notes waiting for the acting supervisor's co-signature (oldest first)."""
    require(actor, READ_CAP, object_type="cosign_queue")
    notes = list(
        ProgressNote.objects.filter(
            cosign_required_by=actor.user, status=NoteStatus.SIGNED, cosigned_at__isnull=True
        )
        .select_related("author", "session", "site")
        .prefetch_related("sections")
        .order_by("signed_at")
    )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="cosign_queue",
        patient_ids=[s.patient_id for n in notes for s in n.sections.all()],
    )
    return notes


def objectives_for_episode(episode_id: int) -> list[PlanObjective]:
    return current_objectives([episode_id]).get(episode_id, [])


def medication_review(patient_id: int) -> str:
    """The patient's medication list as a medication-management note keeps it
    (domain.medication_review_text: active medications, then open MAT episodes). Two queries. No
    access check or audit: for the note's service and page, which read the patient through a
    selector or service that checked and audited (the note is written with Cap.PRESCRIBER_VISIT)."""
    listed = discharge_medications(patient_id)
    return domain.medication_review_text(listed["medications"], listed["mat"])
