"""Progress-note pages: the one-screen group note (htmx), individual and family notes, a member's
section as their chart shows it (view, PDF, text export), addenda, co-signature, the late list."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from markupsafe import Markup, escape

from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.errors import RuleViolation
from openiop.episodes.selectors import episode_get
from openiop.notes import domain, selectors, services
from openiop.notes.forms import AddendumForm, GroupNoteForm, IndividualNoteForm
from openiop.notes.models import NoteFormat, NoteKind, NoteStatus, ProgressNote
from openiop.notes.services import SectionInput
from openiop.programs.selectors import episode_appointment
from openiop.ui.fields import parse_id
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import paginate, refusals, staff_view

if TYPE_CHECKING:
    from openiop.programs.models import GroupSession

MAX_TEXT = 4000
THERAPY_FORMAT_CHOICES = [
    (v, label) for v, label in NoteFormat.choices if v in domain.THERAPY_FORMATS
]
MEDICATION_SESSION_KIND = services.MEDICATION_SESSION_KIND


def _ids(values: list[str]) -> set[int]:
    """The record ids among values read from a form (anything else is ignored)."""
    return {i for i in map(parse_id, values) if i is not None}


def highlight(text: str, spans: tuple[tuple[int, int], ...]) -> Markup:
    """The text, escaped, with the given character spans wrapped in <mark>."""
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(str(escape(text[pos:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def _source_label(source: str) -> str:
    return "another member's section" if source.startswith("section:") else "an earlier note"


def _parse_time(value: str, day: dt.date, tz: Any) -> dt.datetime | None:
    try:
        t = dt.time.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return dt.datetime.combine(day, t, tzinfo=tz)


# --- the group note -------------------------------------------------------------------------------
def _risk_levels(patient_ids: list[int]) -> dict[int, str]:
    """Each member's current suicide-risk level for the group screen (from the measures app when it
    is installed; a facilitator writing risk observations sees it next to the name)."""
    if not apps.is_installed("openiop.measures"):
        return {}
    from openiop.measures.selectors import patient_risk_levels

    return patient_risk_levels(patient_ids)


def _group_context(
    request: HttpRequest,
    screen: selectors.GroupNoteScreen,
    *,
    posted: bool,
    error: str = "",
    error_field: str = "",
) -> dict[str, Any]:
    session, note = screen.session, screen.note
    tz = session.site.tz
    post = request.POST if posted else None
    fmt = (post.get("note_format") if post else None) or (note.note_format if note else "dap")
    if fmt not in domain.THERAPY_FORMATS:
        fmt = "dap"
    fields = domain.fields_for(fmt, group=True)
    guard: dict[int, domain.GuardResult] = {}
    names: dict[str, str] = {}
    if note is not None and posted:
        sections = [m.section for m in screen.members if m.section is not None]
        guard = services.note_guard(note, sections)
        names = {
            str(m.section.pk): m.attendance.patient.display_name
            for m in screen.members
            if m.section
        }
    risks = _risk_levels([m.attendance.patient_id for m in screen.members])
    members = []
    for m in screen.members:
        e = m.attendance.episode_id
        section = m.section
        values = {
            key: (
                post.get(f"s-{e}-{key}", "")
                if post
                else (section.body.get(key, "") if section else "")
            )
            for key, _ in fields
        }
        chosen = _ids(post.getlist(f"s-{e}-objectives")) if post else m.linked
        result = guard.get(section.pk) if section else None
        members.append(
            {
                "row": m,
                "episode_id": e,
                "values": values,
                "chosen": chosen,
                "reason": post.get(f"s-{e}-reason", "")
                if post
                else (section.similarity_reason if section else ""),
                "flagged": bool(result and result.flagged),
                "similar": bool(result and result.similar),
                "copied": services.copied_lines(result, names, str(section.pk))
                if result and section
                else [],
                "score": round(result.best.score * 100) if result and result.best else None,
                "source": _source_label(result.best.source) if result and result.best else "",
                "highlighted": highlight(section.text(), result.spans)
                if result and result.flagged and section
                else "",
                "error": error_field == f"section-{section.pk}" if section else False,
                "risk": risks.get(m.attendance.patient_id),
            }
        )
    shared_keys = ("topic", "curriculum_module", "modality", "interventions")
    if post:
        shared = {k: post.get(k, "") for k in shared_keys}
        starts, ends = post.get("starts", ""), post.get("ends", "")
        facilitator_ids = _ids(post.getlist("facilitators"))
    elif note:
        shared = {k: getattr(note, k) for k in shared_keys}
        starts = note.starts_at.astimezone(tz).strftime("%H:%M")
        ends = note.ends_at.astimezone(tz).strftime("%H:%M")
        facilitator_ids = screen.facilitator_ids
    else:
        shared = {
            "topic": session.topic or session.title,
            "curriculum_module": "",
            "modality": "",
            "interventions": "",
        }
        starts = session.starts_at.astimezone(tz).strftime("%H:%M")
        ends = session.ends_at.astimezone(tz).strftime("%H:%M")
        facilitator_ids = {session.facilitator_id}
    return {
        "screen": screen,
        "session": session,
        "note": note,
        "tz": tz,
        "fmt": fmt,
        "formats": THERAPY_FORMAT_CHOICES,
        "fields": fields,
        "members": members,
        "shared": shared,
        "starts": starts,
        "ends": ends,
        "facilitator_ids": facilitator_ids,
        "error": error,
        "flagged_count": sum(1 for m in members if m["flagged"]),
        "checked": posted and note is not None,
        "editable": note is None
        or (note.status == NoteStatus.DRAFT and note.author_id == request.user.pk),
    }


def _sections_input(
    request: HttpRequest, screen: selectors.GroupNoteScreen, fmt: str
) -> dict[int, SectionInput]:
    fields = domain.fields_for(fmt, group=True)
    out: dict[int, SectionInput] = {}
    for m in screen.members:
        e = m.attendance.episode_id
        body = {k: request.POST.get(f"s-{e}-{k}", "") for k, _ in fields}
        if any(len(text) > MAX_TEXT for text in body.values()):
            raise RuleViolation(
                f"{m.attendance.patient.display_name}'s section: each field holds at most "
                f"{MAX_TEXT:,} characters.",
                code="too_long",
                field=f"section-{m.section.pk}" if m.section else "",
            )
        out[e] = SectionInput(
            body=body,
            objective_ids=[
                i for i in map(parse_id, request.POST.getlist(f"s-{e}-objectives")) if i is not None
            ],
            reason=request.POST.get(f"s-{e}-reason", ""),
        )
    return out


@staff_view(Cap.NOTE_TEXT, patient_data=True, cache=True)
def group_note(request: HttpRequest, session_id: int) -> HttpResponse:
    """The group note on one screen. Saving and checking are htmx requests that swap the form;
    a successful signature sends the browser to the signed note (HX-Redirect)."""
    actor = Actor.from_request(request)
    is_htmx = request.headers.get("HX-Request") == "true"
    screen = selectors.group_note_screen(actor=actor, session_id=session_id)
    if request.method != "POST":
        return render(request, "notes/group.html", _group_context(request, screen, posted=False))
    session = screen.session
    tz = session.site.tz
    form = GroupNoteForm(request.POST)
    with refusals(request) as refusal:
        if not form.is_valid():
            message, name = form.first_error()
            raise RuleViolation(message, code="invalid", field=name)
        shared = form.cleaned_data
        fmt = shared["note_format"]
        starts = _parse_time(request.POST.get("starts", ""), session.date, tz)
        ends = _parse_time(request.POST.get("ends", ""), session.date, tz)
        if starts is None or ends is None:
            raise RuleViolation(
                "Enter the start and end times (HH:MM).", code="required", field="starts"
            )
        staff = {u.pk: u for u in screen.staff}
        note = services.group_note_save(
            session=session,
            note_format=fmt,
            starts_at=starts,
            ends_at=ends,
            topic=shared["topic"],
            curriculum_module=shared["curriculum_module"],
            modality=shared["modality"],
            interventions=shared["interventions"],
            facilitators=[
                staff[i] for i in _ids(request.POST.getlist("facilitators")) if i in staff
            ],
            sections=_sections_input(request, screen, fmt),
            expected_version=shared["version"],
            by=actor,
        )
        if request.POST.get("action") == "sign":
            services.note_sign(note=note, by=actor)
            messages.success(request, "Signed. Every member's section is now locked.")
            target = reverse("notes:detail", kwargs={"note_id": note.pk})
            if is_htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target)
    # A refusal is answered with the form and its message; htmx swaps 409/422 (ui/base.html).
    error, error_field, status = refusal.message, refusal.field, refusal.status
    screen = selectors.group_note_screen(actor=actor, session_id=session_id)
    context = _group_context(request, screen, posted=True, error=error, error_field=error_field)
    if screen.note is not None:
        context["version"] = screen.note.version
    template = "notes/_group_form.html" if is_htmx else "notes/group.html"
    return render(request, template, context, status=status)


# --- whole notes, individual and family notes ------------------------------------------------------
@staff_view(Cap.NOTE_TEXT, patient_data=True)
def note_detail(request: HttpRequest, note_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    view = selectors.note_get(actor=actor, note_id=note_id)
    note = view.note
    if note.status == NoteStatus.DRAFT and note.author_id == request.user.pk:
        if note.kind == NoteKind.GROUP and note.session_id:
            return redirect("notes:group", session_id=note.session_id)
        return redirect("notes:individual_edit", note_id=note.pk)
    labels = dict(domain.fields_for(note.note_format, group=note.kind == NoteKind.GROUP))
    return render(
        request,
        "notes/detail.html",
        {"note": note, "sections": view.sections, "labels": labels, "tz": note.site.tz},
    )


def _individual(
    request: HttpRequest,
    actor: Actor,
    episode: Any,
    note: ProgressNote | None,
    session: GroupSession | None = None,
) -> HttpResponse:
    tz = episode.site.tz
    if note is not None:
        medication = note.kind == NoteKind.MEDICATION
    elif session is not None:
        medication = session.kind == MEDICATION_SESSION_KIND
    else:
        medication = (request.POST.get("kind") or request.GET.get("kind")) == NoteKind.MEDICATION
    if medication:  # refused before the form is shown (audited), not only when it is saved
        services.require_prescriber(actor, episode.patient_id)
    fmt = (
        request.POST.get("note_format")
        or request.GET.get("format")
        or (note.note_format if note else "dap")
    )
    if medication:
        fmt = domain.MEDICATION_FORMAT
    elif fmt not in domain.THERAPY_FORMATS:
        fmt = "dap"
    objectives = selectors.objectives_for_episode(episode.pk)
    initial: dict[str, Any] = {
        "note_format": fmt,
        "kind": NoteKind.MEDICATION if medication else "individual",
    }
    if session is not None:  # a booked appointment: its date and times
        initial.update(
            kind=NoteKind.MEDICATION
            if medication
            else ("family" if session.kind == "family" else "individual"),
            date=session.date,
            starts=session.starts_at.astimezone(tz).time(),
            ends=session.ends_at.astimezone(tz).time(),
            topic=session.topic or session.title,
        )
    if note is not None:
        section = note.sections.get()
        initial.update(
            kind=note.kind,
            date=note.starts_at.astimezone(tz).date(),
            starts=note.starts_at.astimezone(tz).time(),
            ends=note.ends_at.astimezone(tz).time(),
            topic=note.topic,
            objectives=[o.pk for o in section.objectives.all()],
            version=note.version,
            **section.body,
        )
    if medication:  # the list as it will be saved with this draft (what the prescriber reviews)
        initial[domain.MEDICATION_LIST_FIELD] = selectors.medication_review(episode.patient_id)
    form = IndividualNoteForm(
        request.POST or None,
        initial=initial,
        fields=domain.fields_for(fmt, group=False),
        objectives=objectives,
        medication=medication,
    )
    guard = None
    saved = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusals(request, form) as refusal:
            note = services.individual_note_save(
                episode=episode,
                kind=data["kind"],
                note_format=fmt,
                starts_at=dt.datetime.combine(data["date"], data["starts"], tzinfo=tz),
                ends_at=dt.datetime.combine(data["date"], data["ends"], tzinfo=tz),
                topic=data["topic"],
                body={k: data.get(k, "") for k, _ in domain.fields_for(fmt, group=False)},
                objective_ids=[o.pk for o in data["objectives"]],
                session=session,
                note=note,
                expected_version=data.get("version"),
                by=actor,
            )
            saved = True
            if request.POST.get("action") == "sign":
                reasons = {}
                if data.get("reason"):
                    reasons = {note.sections.get().pk: data["reason"]}
                services.note_sign(note=note, by=actor, reasons=reasons)
                messages.success(request, "Signed and locked.")
                return redirect("notes:detail", note_id=note.pk)
            messages.success(request, "Draft saved.")
            return redirect("notes:individual_edit", note_id=note.pk)
        if refusal.error is not None:
            if saved and note is not None:
                # The draft was saved and only signing was refused: the page goes on editing that
                # draft (its edit URL, its new version), so fixing and signing neither makes a
                # second draft nor reads as someone else's change.
                current = request.POST.copy()
                current["version"] = str(note.version)
                form.data = current
            if note is not None and note.pk:
                section = note.sections.get()
                result = services.note_guard(note, [section]).get(section.pk)
                if result and result.flagged:
                    guard = {
                        "highlighted": highlight(section.text(), result.spans),
                        "similar": result.similar,
                        "copied": services.copied_lines(
                            result, {str(section.pk): episode.patient.display_name}, str(section.pk)
                        ),
                    }
    return render(
        request,
        "notes/individual.html",
        {
            "form": form,
            "episode": episode,
            "patient": episode.patient,
            "note": note,
            "fmt": fmt,
            "formats": [] if medication else THERAPY_FORMAT_CHOICES,
            "medication": medication,
            "guard": guard,
        },
    )


@staff_view(Cap.NOTE_TEXT, patient_data=True)
def individual_note_new(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.NOTE_TEXT, purpose="progress_note_new"
    )
    session = None
    wanted = request.GET.get("session", "")
    wanted_id = parse_id(wanted)
    if wanted_id:  # only the episode's own booked individual or family session
        session = episode_appointment(episode=episode, session_id=wanted_id)
    return _individual(request, actor, episode, None, session)


@staff_view(Cap.NOTE_TEXT, patient_data=True)
def individual_note_edit(request: HttpRequest, note_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    view = selectors.note_get(actor=actor, note_id=note_id)
    note = view.note
    if note.kind == NoteKind.GROUP or note.status != NoteStatus.DRAFT:
        return redirect("notes:detail", note_id=note.pk)
    if note.author_id != request.user.pk:
        return render(
            request, "ui/denied.html", {"message": "Only the author can edit a draft."}, status=403
        )
    return _individual(request, actor, view.sections[0].episode, note)


@require_POST
@staff_view(Cap.NOTE_TEXT, patient_data=True)
def note_cosign(request: HttpRequest, note_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    view = selectors.note_get(actor=actor, note_id=note_id)
    with refusals(request, flash=True):
        services.note_cosign(note=view.note, by=actor)
        messages.success(request, "Co-signed.")
    return redirect("notes:detail", note_id=note_id)


# --- a member's chart -----------------------------------------------------------------------------
def _section_context(section: Any) -> dict[str, Any]:
    note = section.note
    return {
        "section": section,
        "note": note,
        "patient": section.patient,
        "labels": dict(domain.fields_for(note.note_format, group=note.kind == NoteKind.GROUP)),
        "tz": note.site.tz,
    }


@staff_view(Cap.NOTE_TEXT, patient_data=True)
def section_detail(request: HttpRequest, section_id: int) -> HttpResponse:
    """One member's note as their chart shows it: the shared part and this member's section only."""
    actor = Actor.from_request(request)
    section = selectors.section_get(actor=actor, section_id=section_id)
    form = AddendumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.note_add_addendum(section=section, text=form.cleaned_data["text"], by=actor)
            messages.success(request, "Addendum added.")
            return redirect("notes:section", section_id=section.pk)
    context = _section_context(section)
    context["form"] = form
    return render(request, "notes/section.html", context)


@staff_view(Cap.NOTE_TEXT, patient_data=True)
def section_pdf(request: HttpRequest, section_id: int) -> HttpResponse:
    section = selectors.section_get(
        actor=Actor.from_request(request), section_id=section_id, purpose="note_section_print"
    )
    return pdf_response(
        request,
        "notes/section_print.html",
        _section_context(section),
        filename=f"note-{section.note_id}-{section.patient.mrn}.pdf",
    )


@staff_view(Cap.NOTE_TEXT, patient_data=True)
def section_export(request: HttpRequest, section_id: int) -> HttpResponse:
    """The member's note as plain text (the chart's export): shared part and this section only."""
    section = selectors.section_get(
        actor=Actor.from_request(request), section_id=section_id, purpose="note_section_export"
    )
    text = render(request, "notes/section_export.txt", _section_context(section)).content
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="note-{section.note_id}-{section.patient.mrn}.txt"'
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_view(Cap.NOTE_TEXT, patient_data=True)
def patient_notes(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, sections = selectors.patient_notes(
        actor=Actor.from_request(request), patient_id=patient_id
    )
    page = paginate(request, sections)
    open_episode = patient.episodes.filter(status__in=["active", "on_hold"]).first()
    return render(
        request,
        "notes/patient_notes.html",
        {"patient": patient, "page": page, "open_episode": open_episode},
    )


@staff_view(Cap.NOTE_TEXT, patient_data=True)
def late_notes(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    mine = request.GET.get("mine") == "1"
    q = request.GET.get("q", "").strip()[:100]
    rows = selectors.late_notes(actor=actor, now=now(), mine_only=mine, q=q)
    queue = selectors.cosign_queue(actor=actor)
    return render(
        request,
        "notes/late.html",
        {"page": paginate(request, rows), "mine": mine, "queue": queue, "q": q},
    )
