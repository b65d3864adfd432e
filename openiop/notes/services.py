"""Every write of a progress note goes through these functions (audited, permission-checked).

A note is a draft until its author signs it; signing signs every member's section at once and locks
the note. After that only addenda. Notes by supervised staff wait for the supervisor's co-signature.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from openiop.accounts.access import require, require_patient, require_site
from openiop.accounts.domain import Cap
from openiop.attendance.choices import ATTENDED_STATUSES, AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.attendance.selectors import session_attendance
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_denied, audit_record, audit_record_many
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.notes import domain
from openiop.notes.models import (
    NoteAddendum,
    NoteFormat,
    NoteKind,
    NoteSection,
    NoteStatus,
    ProgressNote,
)
from openiop.notes.selectors import medication_review
from openiop.programs.models import GroupSession, Site
from openiop.treatment.models import PlanObjective
from openiop.treatment.selectors import current_objectives

if TYPE_CHECKING:
    from openiop.accounts.models import User

WRITE_CAP = Cap.NOTE_TEXT
EARLIER_NOTES_COMPARED = 5  # a member's most recent signed sections the guard compares with


@dataclass
class SectionInput:
    """What the author typed for one member: text per field, objective ids, and (when the guard
    flagged the section) why similar text is right for this member."""

    body: dict[str, str] = field(default_factory=dict)
    objective_ids: list[int] = field(default_factory=list)
    reason: str = ""


def _require_author(note: ProgressNote, by: Actor) -> None:
    if by.user is None or note.author_id != by.user.pk:
        audit_denied(by, patient_id=None, object_type="progress_note", reason="not the author")
        raise NotPermitted("Only the author of this note can change or sign it.", code="not_author")


def _acting(by: Actor) -> User:
    """The acting staff member (services call it after the permission check, which needs one)."""
    assert by.user is not None
    return by.user


def _require_draft(note: ProgressNote) -> None:
    if note.status != NoteStatus.DRAFT:
        raise RuleViolation(
            "This note is signed and locked. Add an addendum instead.", code="note_locked"
        )


def _require_ended(note: ProgressNote) -> None:
    """A note is signed once its service is over: after the note's end time and, for a note of a
    session, after the session's scheduled end (times compared on the site's clock)."""
    ends_at = note.ends_at
    if note.session_id is not None:
        ends_at = max(
            ends_at, GroupSession.objects.values_list("ends_at", flat=True).get(pk=note.session_id)
        )
    tz = Site.objects.get(pk=note.site_id).tz
    if problem := domain.not_ended_problem(ends_at, now(), tz):
        raise RuleViolation(problem, code="session_not_ended", field="ends_at")


def _clean_body(body: dict[str, str], fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {key: str(body.get(key, "") or "").strip() for key, _ in fields}


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if starts_at is None or ends_at is None:
        raise RuleViolation("Enter the start and end times.", code="required", field="starts_at")
    if problem := domain.session_times_problem(starts_at, ends_at):
        raise RuleViolation(problem, code="invalid_times", field="ends_at")


def _format(note_format: str, *, kind: str = NoteKind.INDIVIDUAL) -> str:
    if note_format not in NoteFormat.values or note_format not in domain.formats_for(kind):
        raise RuleViolation("Choose DAP, BIRP or SOAP.", code="invalid_choice", field="note_format")
    return note_format


def _objectives_for(episode_id: int, ids: Iterable[int]) -> list[PlanObjective]:
    wanted = {int(i) for i in ids}
    if not wanted:
        return []
    found = list(
        PlanObjective.objects.filter(pk__in=wanted, goal__problem__plan__episode_id=episode_id)
    )
    if len(found) != len(wanted):
        raise RuleViolation(
            "Link only objectives of this member's own treatment plan.",
            code="objective_mismatch",
            field="objectives",
        )
    return found


def _audit_note(by: Actor, note: ProgressNote, action: str, detail: dict[str, Any]) -> None:
    patient_ids = list(note.sections.values_list("patient_id", flat=True))
    audit_record_many(
        by,
        action=action,
        object_type="progress_note",
        object_id=note.pk,
        patient_ids=patient_ids,
        detail=detail,
    )


# --- group notes ---------------------------------------------------------------------------------
def attendees(session: GroupSession) -> list[Attendance]:
    """The members who attended (present, late or left early), by name; absent members get none."""
    return list(
        session_attendance(session).filter(status__in=ATTENDED_STATUSES).select_related("episode")
    )


def group_note_save(
    *,
    session: GroupSession,
    note_format: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    topic: str,
    curriculum_module: str = "",
    modality: str = "",
    interventions: str = "",
    facilitators: Iterable[User] = (),
    sections: dict[int, SectionInput],
    expected_version: int | None = None,
    by: Actor,
) -> ProgressNote:
    """Create or update the draft group note of a session: the shared part once and one section per
    attending member (keyed by episode id), pre-filled from attendance (minutes, late, left early).

    Sections given for members who did not attend are refused. Raises RuleViolation when the note
    is signed, Conflict on a stale `expected_version`, NotPermitted for someone other than the
    author or without Cap.NOTE_TEXT at the session's site.
    """
    require(by, WRITE_CAP, object_type="group_note")
    require_site(by, session.site_id, object_type="session")
    note_format = _format(note_format)
    _check_times(starts_at, ends_at)
    if session.episode_id is not None:  # an appointment: individual, family or prescriber visit
        raise RuleViolation(
            f"This is a {session.get_kind_display().lower()} appointment: write its note from "
            "the patient's notes, not a group note.",
            code="not_a_group",
        )
    present = attendees(session)
    if not present:
        raise RuleViolation(
            "Record attendance first: no member attended this session.", code="no_attendees"
        )
    by_episode = {a.episode_id: a for a in present}
    absent = sorted(set(sections) - set(by_episode))
    if absent:
        raise RuleViolation(
            "A section was written for a member who did not attend. Absent members get none.",
            code="absent_member",
        )
    fields = domain.fields_for(note_format, group=True)
    with transaction.atomic():
        GroupSession.objects.select_for_update().filter(pk=session.pk).first()
        note = ProgressNote.objects.filter(session=session, kind=NoteKind.GROUP).first()
        if note is None:
            note = ProgressNote(
                kind=NoteKind.GROUP,
                site_id=session.site_id,
                session=session,
                author=_acting(by),
            )
            action = AuditAction.CREATE
        else:
            _require_author(note, by)
            _require_draft(note)
            action = AuditAction.UPDATE
        note.note_format = note_format
        note.starts_at = starts_at
        note.ends_at = ends_at
        note.topic = topic.strip()[:200]
        note.curriculum_module = curriculum_module.strip()[:200]
        note.modality = modality.strip()[:60]
        note.interventions = interventions.strip()
        # The shared part of a group note with a substance-use member is Part 2 too: it is that
        # member's record of the session (once marked, never unset).
        note.part2 = note.part2 or any(a.episode.part2_protected for a in present)
        shared = ["note_format", "starts_at", "ends_at", "topic", "curriculum_module"]
        shared += ["modality", "interventions", "part2"]
        if note.pk is None:
            try:
                with transaction.atomic():
                    note.save()
            except IntegrityError as exc:  # two facilitators started it at once
                raise RuleViolation(
                    "Someone else started this group's note a moment ago. Reload the page.",
                    code="note_exists",
                ) from exc
        else:
            save_if_unchanged(note, expected_version=expected_version, fields=shared)
        note.facilitators.set(list(facilitators) or [session.facilitator])
        existing = {s.episode_id: s for s in note.sections.all()}
        for stale in set(existing) - set(by_episode):  # attendance changed to absent
            existing.pop(stale).delete()
        for episode_id, attendance in by_episode.items():
            given = sections.get(episode_id, SectionInput())
            section = existing.get(episode_id) or NoteSection(
                note=note,
                episode_id=episode_id,
                patient_id=attendance.patient_id,
                part2=attendance.episode.part2_protected,
            )
            section.attendance = attendance
            section.minutes_attended = attendance.minutes_attended
            section.arrived_late = attendance.status == AttendanceStatus.LATE
            section.left_early = attendance.status == AttendanceStatus.LEFT_EARLY
            section.body = _clean_body(given.body, fields)
            section.similarity_reason = given.reason.strip()[:500]
            section.save()
            section.objectives.set(_objectives_for(episode_id, given.objective_ids))
        _audit_note(by, note, action, {"kind": "group", "sections": len(by_episode)})
    return note


# --- individual, family and medication-management notes ---------------------------------------------
PRESCRIBER_CAP = Cap.PRESCRIBER_VISIT
MEDICATION_SESSION_KIND = "medication_mgmt"  # programs.choices.SessionKind.MEDICATION_MANAGEMENT


def require_prescriber(by: Actor, patient_id: int | None) -> None:
    """A medication-management note is the prescriber's: refused (audited by accounts.access)
    without Cap.PRESCRIBER_VISIT, with words that say so."""
    try:
        require(by, PRESCRIBER_CAP, patient_id=patient_id, object_type="progress_note")
    except NotPermitted:
        raise NotPermitted(
            "Only a prescriber writes or signs a medication-management note.",
            code="not_prescriber",
        ) from None


def _check_kind(kind: str, note_format: str, session: GroupSession | None) -> None:
    """The kind, its format and the booked session agree: a medication-management note is in its
    own format and documents a medication-management visit (when it names a session); an
    individual or family note is DAP, BIRP or SOAP and does not document one."""
    if kind not in (NoteKind.INDIVIDUAL, NoteKind.FAMILY, NoteKind.MEDICATION):
        raise RuleViolation(
            "Choose individual, family or medication management.",
            code="invalid_choice",
            field="kind",
        )
    if note_format not in domain.formats_for(kind):
        raise RuleViolation(
            "A medication-management note has its own format; individual and family notes are "
            "DAP, BIRP or SOAP.",
            code="invalid_choice",
            field="note_format",
        )
    if session is not None and (session.kind == MEDICATION_SESSION_KIND) != (
        kind == NoteKind.MEDICATION
    ):
        raise RuleViolation(
            "A medication-management visit is documented by a medication-management note, and "
            "only such a visit is.",
            code="kind_mismatch",
            field="kind",
        )


def individual_note_save(
    *,
    episode: Episode,
    kind: str,
    note_format: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    topic: str,
    body: dict[str, str],
    objective_ids: Iterable[int] = (),
    session: GroupSession | None = None,
    note: ProgressNote | None = None,
    expected_version: int | None = None,
    by: Actor,
) -> ProgressNote:
    """Create (note=None) or update a draft individual, family or medication-management note of
    one episode.

    A medication-management note (kind 'medication', format 'medication') is written by a
    prescriber only (NotPermitted, code 'not_prescriber', audited, without Cap.PRESCRIBER_VISIT);
    its "current medications reviewed" is the patient's medication list at this save, copied in
    (never taken from `body`). Raises RuleViolation for a kind and format or session that do not
    agree (_check_times, _check_kind), a session after discharge, a signed note; Conflict on a
    stale `expected_version`; NotPermitted without Cap.NOTE_TEXT for the patient.
    """
    require_patient(by, WRITE_CAP, episode.patient, object_type="progress_note")
    medication = kind == NoteKind.MEDICATION
    if medication or (note is not None and note.kind == NoteKind.MEDICATION):
        require_prescriber(by, episode.patient_id)
        if note is not None and note.kind != kind:
            raise RuleViolation(
                "A medication-management note stays one; write a new note of the other kind.",
                code="kind_mismatch",
                field="kind",
            )
    _check_kind(kind, note_format, session if note is None else note.session)
    note_format = _format(note_format, kind=kind)
    _check_times(starts_at, ends_at)
    if (
        episode.status == EpisodeStatus.DISCHARGED
        and episode.discharge_date
        and starts_at.astimezone(episode.site.tz).date() > episode.discharge_date
    ):
        raise RuleViolation(
            "The session is after the discharge date.", code="after_discharge", field="starts_at"
        )
    fields = domain.fields_for(note_format, group=False)
    objectives = _objectives_for(episode.pk, objective_ids)
    with transaction.atomic():
        if note is None:
            note = ProgressNote.objects.create(
                kind=kind,
                note_format=note_format,
                site_id=episode.site_id,
                session=session,
                starts_at=starts_at,
                ends_at=ends_at,
                topic=topic.strip()[:200],
                author=_acting(by),
                part2=episode.part2_protected,
            )
            section = NoteSection.objects.create(
                note=note,
                episode=episode,
                patient_id=episode.patient_id,
                part2=episode.part2_protected,
            )
            action = AuditAction.CREATE
        else:
            _require_author(note, by)
            locked = ProgressNote.objects.select_for_update().get(pk=note.pk)
            _require_draft(locked)
            note.kind, note.note_format = kind, note_format
            note.starts_at, note.ends_at, note.topic = starts_at, ends_at, topic.strip()[:200]
            save_if_unchanged(
                note,
                expected_version=expected_version,
                fields=["kind", "note_format", "starts_at", "ends_at", "topic"],
            )
            section = note.sections.get()
            action = AuditAction.UPDATE
        section.body = _clean_body(body, fields)
        if medication:
            section.body[domain.MEDICATION_LIST_FIELD] = medication_review(episode.patient_id)
        section.save()
        section.objectives.set(objectives)
        audit_record(
            by,
            action=action,
            patient_id=episode.patient_id,
            object_type="progress_note",
            object_id=note.pk,
            detail={"kind": kind},
        )
    return note


# --- the guard and signing ------------------------------------------------------------------------
def earlier_texts(sections: list[NoteSection], exclude_note_id: int) -> dict[str, dict[str, str]]:
    """Per section id (as a string), the member's most recent signed sections of other notes."""
    episode_ids = {s.episode_id for s in sections}
    order = [F("note__starts_at").desc(), F("id").desc()]
    rows = (
        NoteSection.objects.filter(episode_id__in=episode_ids, note__status=NoteStatus.SIGNED)
        .exclude(note_id=exclude_note_id)
        # Only the few compared, chosen in the database: a member who comes every day has
        # hundreds of signed sections, and each one's text was loaded to keep five.
        .annotate(recent=Window(RowNumber(), partition_by=[F("episode_id")], order_by=order))
        .filter(recent__lte=EARLIER_NOTES_COMPARED)
        .order_by(*order)
        .values_list("episode_id", "note_id", "body")
    )
    per_episode: dict[int, dict[str, str]] = {}
    for episode_id, note_id, body in rows:
        texts = per_episode.setdefault(episode_id, {})
        if len(texts) < EARLIER_NOTES_COMPARED:
            texts[str(note_id)] = domain.written_text(body or {})
    return {str(s.pk): per_episode.get(s.episode_id, {}) for s in sections}


def note_guard(
    note: ProgressNote, sections: list[NoteSection] | None = None
) -> dict[int, domain.GuardResult]:
    """The individualization guard for every section of a note: compared with the note's other
    sections and with the member's earlier notes (threshold: settings.NOTES_SIMILARITY_THRESHOLD).
    Returns GuardResult per section id."""
    sections = list(note.sections.all()) if sections is None else sections
    texts = {str(s.pk): s.text() for s in sections}
    results = domain.guard_sections(
        texts,
        earlier_texts(sections, note.pk),
        threshold=settings.NOTES_SIMILARITY_THRESHOLD,
    )
    return {int(k): v for k, v in results.items()}


def copied_lines(result: domain.GuardResult, names: dict[str, str], own_key: str) -> list[str]:
    """Each sentence the guard found copied, with where it appears, as staff read it:
    '“…” also appears in Bea Example's section of this note'. `names` maps section keys (ids as
    strings) to the member's name as staff see it."""
    lines = []
    for c in result.copied:
        who = names.get(c.member, "another member")
        if c.source == "section":
            where = f"{who}'s section of this note"
        elif c.member == own_key:
            where = f"an earlier note of {who} (this member)"
        else:
            where = f"an earlier note of {who}"
        lines.append(f"“{c.sentence}” also appears in {where}")
    return lines


def _guard_refusal(
    unexplained: list[NoteSection],
    sections: list[NoteSection],
    results: dict[int, domain.GuardResult],
    group: bool,
) -> RuleViolation:
    """The refusal to sign while the guard flags sections without a reason: each section's first
    copied sentence is named with the member it appears for (and how many more there are); a
    section only too similar as a whole is named as such."""
    names = member_names(sections)
    parts = []
    for s in unexplained:
        who = s.patient.display_name if group else "This note"
        result = results[s.pk]
        found = []
        if result.similar:
            found.append("the text is very similar to another section or an earlier note")
        if lines := copied_lines(result, names, str(s.pk)):
            more = f" (and {len(lines) - 1} more sentences)" if len(lines) > 2 else ""
            more = " (and 1 more sentence)" if len(lines) == 2 else more
            found.append(lines[0] + more)
        parts.append(f"{who}: {'; '.join(found)}.")
    only_sentences = not any(results[s.pk].similar for s in unexplained)
    return RuleViolation(
        " ".join(parts)
        + " Individualize it, or give a reason to sign as it is (copied text is highlighted).",
        code="copied_sentence" if only_sentences else "similar_text",
        field=f"section-{unexplained[0].pk}" if group else "reason",
    )


def member_names(sections: Iterable[NoteSection]) -> dict[str, str]:
    """Section key (id as a string) -> the member's name as staff see it. The guard's findings
    point at sections of the same note (another member's section, or that member's earlier notes,
    are keyed by the member's section here), so the note's sections name every one."""
    return {str(s.pk): s.patient.display_name for s in sections}


@dataclass
class NameProblem:
    section_id: int | None  # None = the shared part
    names: list[str]


def name_problems(note: ProgressNote, sections: list[NoteSection]) -> list[NameProblem]:
    """Where a member's name appears outside their own section (the shared part, or another
    member's section), so no member's name shows in another member's chart."""
    names_by_episode = {
        s.episode_id: [s.patient.legal_first_name, s.patient.legal_last_name]
        + ([s.patient.preferred_name] if s.patient.preferred_name else [])
        for s in sections
    }
    problems: list[NameProblem] = []
    if len(sections) > 1:
        everyone = [n for names in names_by_episode.values() for n in names]
        shared = " ".join([note.topic, note.curriculum_module, note.modality, note.interventions])
        if found := domain.names_mentioned(shared, everyone):
            problems.append(NameProblem(None, found))
    for s in sections:
        others = [n for e, names in names_by_episode.items() if e != s.episode_id for n in names]
        own = set(names_by_episode[s.episode_id])
        others = [n for n in others if n not in own]
        if found := domain.names_mentioned(s.text(), others):
            problems.append(NameProblem(s.pk, found))
    return problems


def note_sign(
    *, note: ProgressNote, by: Actor, reasons: dict[int, str] | None = None
) -> ProgressNote:
    """Sign a draft note: every section at once. Locks it; afterwards only addenda.

    Refused (RuleViolation) before the session has ended (code 'session_not_ended'; the later of
    the note's end time and its session's scheduled end, shown in the site's time zone), while a
    section misses required text, when a member's name appears in the shared part or in another
    member's section, or when the individualization guard flags a section and no reason is given
    for it (`reasons` by section id; code 'similar_text', or 'copied_sentence' naming each copied
    sentence and the member it appears for), or when a member's plan has objectives and their
    section links none (code 'objective_required'). When the author has a supervisor, the note
    then waits for the supervisor's co-signature.
    """
    require(by, WRITE_CAP, object_type="progress_note")
    require_site(by, note.site_id, object_type="note")
    if note.kind == NoteKind.MEDICATION:
        require_prescriber(by, None)
    _require_author(note, by)
    user = by.user
    assert user is not None
    reasons = {int(k): v.strip() for k, v in (reasons or {}).items() if v and v.strip()}
    with transaction.atomic():
        locked = ProgressNote.objects.select_for_update().get(pk=note.pk)
        _require_draft(locked)
        _require_ended(locked)
        sections = list(note.sections.select_related("patient"))
        if not sections:
            raise RuleViolation("The note has no member sections.", code="no_sections")
        group = note.kind == NoteKind.GROUP
        fields = domain.fields_for(note.note_format, group=group)
        if group and not note.topic.strip():
            raise RuleViolation("Enter the group's topic.", code="required", field="topic")
        for s in sections:
            missing = domain.missing_fields(s.body, fields)
            if missing:
                who = s.patient.display_name if group else "The note"
                raise RuleViolation(
                    f"{who}: write {', '.join(missing).lower()}.",
                    code="section_incomplete",
                    field=f"section-{s.pk}",
                )
        # Every note serves the plan: a member whose current treatment plan has objectives gets
        # a section linked to at least one (before the first plan there is nothing to link).
        offered = current_objectives([s.episode_id for s in sections])
        linked = set(
            NoteSection.objects.filter(
                pk__in=[s.pk for s in sections], objectives__isnull=False
            ).values_list("pk", flat=True)
        )
        for s in sections:
            if offered.get(s.episode_id) and s.pk not in linked:
                who = s.patient.display_name if group else "The note"
                raise RuleViolation(
                    f"{who}: link the treatment-plan objective this session serves.",
                    code="objective_required",
                    field=f"section-{s.pk}" if group else "objectives",
                )
        for problem in name_problems(note, sections):
            where = "the shared part" if problem.section_id is None else "another member's section"
            raise RuleViolation(
                f"A member's name ({', '.join(problem.names)}) appears in {where}. Each section is "
                "shown in its own member's chart only: remove other members' names.",
                code="other_member_named",
                field=f"section-{problem.section_id}" if problem.section_id else "interventions",
            )
        results = note_guard(note, sections)
        unexplained = [
            s
            for s in sections
            if results[s.pk].flagged and not (reasons.get(s.pk) or s.similarity_reason)
        ]
        if unexplained:
            raise _guard_refusal(unexplained, sections, results, group)
        for s in sections:
            result = results[s.pk]
            s.similarity_flagged = result.flagged
            s.similarity_score = round(result.best.score, 3) if result.best else None
            if result.flagged:
                s.similarity_reason = (reasons.get(s.pk) or s.similarity_reason)[:500]
            else:
                s.similarity_reason = ""
            s.save(
                update_fields=[
                    "similarity_flagged",
                    "similarity_score",
                    "similarity_reason",
                    "updated_at",
                ]
            )
        note.status = NoteStatus.SIGNED
        note.signed_at = now()
        note.cosign_required_by = user.supervisor
        save_if_unchanged(
            note,
            expected_version=locked.version,
            fields=["status", "signed_at", "cosign_required_by"],
        )
        _audit_note(
            by,
            note,
            AuditAction.UPDATE,
            {
                "signed": True,
                "flagged_sections": [s.pk for s in sections if results[s.pk].flagged],
                "cosign_by": user.supervisor_id,
            },
        )
    return note


def note_cosign(*, note: ProgressNote, by: Actor) -> ProgressNote:
    """The supervisor co-signs a signed note of a supervised author. Only the named supervisor."""
    require(by, WRITE_CAP, object_type="progress_note")
    with transaction.atomic():
        locked = ProgressNote.objects.select_for_update().get(pk=note.pk)
        if locked.status != NoteStatus.SIGNED or locked.cosign_required_by_id is None:
            raise RuleViolation("This note does not need a co-signature.", code="no_cosign")
        if locked.cosigned_at is not None:
            raise RuleViolation("This note is already co-signed.", code="already_cosigned")
        if by.user is None or locked.cosign_required_by_id != by.user.pk:
            audit_denied(by, patient_id=None, object_type="progress_note", reason="not supervisor")
            raise NotPermitted(
                "Only the author's supervisor can co-sign this note.", code="not_supervisor"
            )
        note.cosigned_at = now()
        note.status = locked.status
        note.cosign_required_by_id = locked.cosign_required_by_id
        save_if_unchanged(note, expected_version=locked.version, fields=["cosigned_at"])
        _audit_note(by, note, AuditAction.UPDATE, {"cosigned": True})
    return note


def note_add_addendum(*, section: NoteSection, text: str, by: Actor) -> NoteAddendum:
    """Add an addendum to a member's section of a signed note (the signed text never changes).
    A medication-management note's addenda are a prescriber's, like the note."""
    require_patient(by, WRITE_CAP, section.patient, object_type="progress_note")
    if section.note.kind == NoteKind.MEDICATION:
        require_prescriber(by, section.patient_id)
    text = (text or "").strip()
    if not text:
        raise RuleViolation("Write the addendum.", code="required", field="text")
    if section.note.status != NoteStatus.SIGNED:
        raise RuleViolation(
            "The note is still a draft: edit it instead of adding an addendum.",
            code="note_draft",
        )
    others = [s for s in section.note.sections.select_related("patient") if s.pk != section.pk]
    if others:
        own = {section.patient.legal_first_name, section.patient.legal_last_name}
        names = [
            n
            for s in others
            for n in (
                s.patient.legal_first_name,
                s.patient.legal_last_name,
                s.patient.preferred_name,
            )
            if n and n not in own
        ]
        if found := domain.names_mentioned(text, names):
            raise RuleViolation(
                f"This addendum shows in {section.patient.display_name}'s chart only: leave out "
                f"other members' names ({', '.join(found)}).",
                code="other_member_named",
                field="text",
            )
    with transaction.atomic():
        addendum = NoteAddendum.objects.create(
            section=section, text=text, author=_acting(by), part2=section.part2
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=section.patient_id,
            object_type="note_addendum",
            object_id=addendum.pk,
            detail={"section": section.pk},
        )
    return addendum
