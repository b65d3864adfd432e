"""Schedule pages: tracks, blocks, curriculum, schedule, session and series edits, closures,
appointments and enrollment. Each view parses input, calls one service or selector, renders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.dates import IsoWeek, format_local
from openiop.core.errors import NotFound
from openiop.programs import selectors, services
from openiop.programs.choices import SessionKind, SessionStatus
from openiop.programs.forms import (
    AppointmentForm,
    BlockAddForm,
    CancelForm,
    ClosureForm,
    CurriculumForm,
    EnrollForm,
    EnrollmentEndForm,
    GenerateForm,
    MoveForm,
    ReassignForm,
    ScheduleFilterForm,
    SeriesForm,
    TrackCreateForm,
    TrackSearchForm,
)
from openiop.programs.models import Site
from openiop.ui.views_support import paginate, refusals, staff_view


def attendance_session_path(session_id: int) -> str:
    """The roster page of a session (owned by attendance; `attendance:session`)."""
    return f"/attendance/sessions/{session_id}/"


# --- tracks ---------------------------------------------------------------------------------


@staff_view(Cap.SCHEDULE_VIEW)
def track_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = TrackSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    tracks = selectors.track_search(
        actor=actor, query=data.get("q", ""), include_inactive=bool(data.get("inactive"))
    )
    page = paginate(request, tracks)
    return render(request, "programs/track_list.html", {"form": form, "page": page})


@staff_view(Cap.SCHEDULE_MANAGE)
def track_create(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = TrackCreateForm(
        request.POST or None, sites=selectors.visible_sites(actor=actor, for_new_work=True)
    )
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            track = services.track_create(by=actor, **form.cleaned_data)
            messages.success(request, f"Created {track.name}. Add its weekly blocks next.")
            return redirect("programs:track_detail", track_id=track.pk)
    return render(request, "programs/track_create.html", {"form": form})


@staff_view(Cap.SCHEDULE_VIEW)
def track_detail(request: HttpRequest, track_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    detail = selectors.track_detail(actor=actor, track_id=track_id)
    track = detail.track
    initial_start = (
        (detail.last_generated + dt.timedelta(days=1)) if detail.last_generated else detail.today
    )
    initial_start = max(initial_start, detail.today)
    form = GenerateForm(
        request.POST or None,
        initial={"start": initial_start, "end": initial_start + dt.timedelta(weeks=8, days=-1)},
    )
    if request.method == "POST":
        require(actor, Cap.SCHEDULE_MANAGE, object_type="track_sessions")
        if form.is_valid():
            with refusals(request, form):
                created = services.sessions_generate(
                    track=track,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                    by=actor,
                )
                start, end = form.cleaned_data["start"], form.cleaned_data["end"]
                messages.success(
                    request,
                    f"Generated {created} new session{'s' if created != 1 else ''} from "
                    f"{start:%b} {start.day} to {end:%b} {end.day}, {end.year}"
                    + (" (the others already existed)." if created == 0 else "."),
                )
                return redirect("programs:track_detail", track_id=track.pk)
    return render(
        request, "programs/track_detail.html", {"d": detail, "track": track, "form": form}
    )


@staff_view(Cap.SCHEDULE_MANAGE)
def block_add(request: HttpRequest, track_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    track = selectors.track_detail(actor=actor, track_id=track_id).track
    form = BlockAddForm(
        request.POST or None,
        initial={"valid_from": clock.local_today(track.site.tz), "duration_minutes": 90},
        staff=selectors.clinical_staff(site=track.site),
        rooms=selectors.rooms_at(site=track.site),
    )
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.block_add(track=track, by=actor, **form.cleaned_data)
            messages.success(request, "Block added. Generate sessions to put it on the schedule.")
            return redirect("programs:track_detail", track_id=track.pk)
    return render(request, "programs/block_add.html", {"form": form, "track": track})


@staff_view(Cap.SCHEDULE_MANAGE)
def curriculum(request: HttpRequest, track_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    detail = selectors.track_detail(actor=actor, track_id=track_id)
    text = "\n".join(
        f"{c.topic} | {c.modality}" if c.modality else c.topic for c in detail.curriculum
    )
    form = CurriculumForm(request.POST or None, initial={"topics": text})
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            weeks = services.curriculum_set(
                track=detail.track, topics=form.cleaned_data["topics"], by=actor
            )
            messages.success(request, f"Curriculum saved: a {weeks}-week rotation.")
            return redirect("programs:track_detail", track_id=detail.track.pk)
    return render(request, "programs/curriculum.html", {"form": form, "track": detail.track})


@staff_view(Cap.SCHEDULE_MANAGE)
def block_series(request: HttpRequest, block_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    block = selectors.block_get(actor=actor, block_id=block_id)
    site = block.track.site
    today = clock.local_today(site.tz)
    initial = {
        "effective_date": max(today, block.valid_from),
        "weekday": block.weekday,
        "start_time": block.start_time,
        "duration_minutes": block.duration_minutes,
        "kind": block.kind,
        "title": block.title,
        "facilitator": block.facilitator_id,
        "room": block.room_id,
    }
    form = SeriesForm(
        request.POST or None,
        initial=initial,
        staff=selectors.clinical_staff(site=site),
        rooms=selectors.rooms_at(site=site),
    )
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        effective = changes.pop("effective_date")
        with refusals(request, form):
            new = services.block_change_series(
                block=block, effective_date=effective, by=actor, **changes
            )
            messages.success(
                request,
                f"The series changes from {effective:%b} {effective.day}, {effective.year}; "
                "earlier sessions are unchanged.",
            )
            return redirect("programs:track_detail", track_id=new.track_id)
    return render(request, "programs/block_series.html", {"form": form, "block": block})


# --- schedule -------------------------------------------------------------------------------


def _default_site(request: HttpRequest, sites: QuerySet[Site]) -> Site | None:
    own = request.user.sites.order_by("name", "id").first()  # type: ignore[union-attr,misc]
    return own or sites.first()


@staff_view(Cap.SCHEDULE_VIEW, patient_data=True)
def schedule(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    sites = selectors.visible_sites(actor=actor)
    form = ScheduleFilterForm(request.GET or None, sites=sites)
    data = form.cleaned_data if request.GET and form.is_valid() else {}
    site = data.get("site") or _default_site(request, sites)
    if site is None:
        return render(request, "programs/schedule.html", {"form": form, "schedule": None})
    week: IsoWeek | None = data.get("week")
    if week is None:
        week = IsoWeek.of(data.get("date") or clock.local_today(site.tz))
    result = selectors.schedule_for_site(actor=actor, site=site, start=week.monday, end=week.sunday)
    if not request.GET:
        form = ScheduleFilterForm(initial={"site": site.pk, "week": str(week)}, sites=sites)
    return render(
        request,
        "programs/schedule.html",
        {
            "form": form,
            "schedule": result,
            "week": week,
            "site": site,
            "roster_path": attendance_session_path,
            "can_manage": request.user.can(Cap.SCHEDULE_MANAGE),  # type: ignore[union-attr]
            "can_book": request.user.can(Cap.APPOINTMENT_BOOK),  # type: ignore[union-attr]
        },
    )


@staff_view(Cap.SCHEDULE_VIEW)
def session_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    """Change one occurrence: move, reassign or cancel (cancelling asks to confirm first)."""
    actor = Actor.from_request(request)
    session = selectors.session_for_edit(actor=actor, session_id=session_id)
    site = session.site
    tz = site.tz
    action = request.POST.get("action") if request.method == "POST" else None
    version = {"version": session.version}
    local_start = session.starts_at.astimezone(tz)
    rooms = selectors.rooms_at(site=site)
    staff = selectors.clinical_staff(site=site)
    move = MoveForm(
        request.POST if action == "move" else None,
        initial={
            **version,
            "date": session.date,
            "start_time": local_start.time(),
            "room": session.room_id,
        },
        rooms=rooms,
        prefix="move",
    )
    reassign = ReassignForm(
        request.POST if action == "reassign" else None,
        initial={**version, "facilitator": session.facilitator_id},
        staff=staff,
        prefix="reassign",
    )
    cancel = CancelForm(
        request.POST if action == "cancel" else None, initial=version, prefix="cancel"
    )
    confirm_cancel = False
    form = {"move": move, "reassign": reassign, "cancel": cancel}.get(action or "")
    if form is not None and form.is_valid():
        data = form.cleaned_data
        with refusals(request, form):
            if action == "move":
                services.session_move(
                    session=session,
                    expected_version=data["version"],
                    date=data["date"],
                    start_time=data["start_time"],
                    room=data["room"],
                    by=actor,
                )
                done = "Session moved; other weeks are unchanged."
            elif action == "reassign":
                services.session_reassign(
                    session=session,
                    expected_version=data["version"],
                    facilitator=data["facilitator"],
                    by=actor,
                )
                done = f"{data['facilitator']} now facilitates this session."
            elif not data.get("confirm"):
                confirm_cancel = True
                done = ""
            else:
                services.session_cancel(
                    session=session,
                    expected_version=data["version"],
                    reason=data["reason"],
                    by=actor,
                )
                done = "Session cancelled; other weeks are unchanged."
            if done:
                messages.success(request, done)
                return redirect("programs:session_edit", session_id=session.pk)
    return render(
        request,
        "programs/session_edit.html",
        {
            "session": session,
            "tz": tz,
            "move": move,
            "reassign": reassign,
            "cancel": cancel,
            "confirm_cancel": confirm_cancel,
            "cancelled": session.status == SessionStatus.CANCELLED,
            "roster_path": attendance_session_path(session.pk),
            "week": str(IsoWeek.of(session.date)),
        },
    )


# --- closures -------------------------------------------------------------------------------


@staff_view(Cap.SCHEDULE_MANAGE)
def closures(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    organization = selectors.actor_organization(actor=actor)
    if organization is None:
        raise NotFound("Your account is not part of an organization.")
    sites = selectors.visible_sites(actor=actor).filter(organization=organization)
    form = ClosureForm(request.POST or None, sites=sites)
    preview: int | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data.get("confirm"):
            preview = selectors.closure_preview(
                organization=organization, site=data["site"], date=data["date"]
            )
        else:
            with refusals(request, form):
                closure = services.closure_add(
                    organization=organization,
                    site=data["site"],
                    date=data["date"],
                    name=data["name"],
                    by=actor,
                )
                n = closure.sessions_cancelled  # type: ignore[attr-defined]
                messages.success(
                    request, f"Closure added; {n} session{'s' if n != 1 else ''} cancelled."
                )
                return redirect("programs:closures")
    page = paginate(request, selectors.closures_list(actor=actor, organization=organization))
    return render(
        request,
        "programs/closures.html",
        {"form": form, "page": page, "preview": preview, "organization": organization},
    )


# --- patient pages: appointments and enrollment ---------------------------------------------


@staff_view(Cap.APPOINTMENT_BOOK, patient_data=True)
def appointment_book(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    ctx = selectors.episode_for_programs(
        actor=actor, episode_id=episode_id, cap=Cap.APPOINTMENT_BOOK, object_type="appointment"
    )
    episode = ctx.episode
    initial: dict[str, Any] = {"date": ctx.today, "facilitator": episode.primary_clinician_id}
    if request.GET.get("kind") == SessionKind.MEDICATION_MANAGEMENT:  # "book a prescriber visit"
        initial["kind"] = SessionKind.MEDICATION_MANAGEMENT
        if request.user.can(Cap.PRESCRIBER_VISIT):  # type: ignore[union-attr]
            initial["facilitator"] = request.user.pk
    form = AppointmentForm(
        request.POST or None,
        initial=initial,
        staff=selectors.clinical_staff(site=episode.site),
        rooms=selectors.rooms_at(site=episode.site),
    )
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            session = services.appointment_book(episode=episode, by=actor, **form.cleaned_data)
            messages.success(
                request,
                f"Booked {session.title} on {session.date:%a %b} {session.date.day} at "
                f"{format_local(session.starts_at, episode.site.tz, with_date=False)}.",
            )
            return redirect(
                f"/programs/schedule/?site={episode.site_id}&week={IsoWeek.of(session.date)}"
            )
    return render(request, "programs/appointment_book.html", {"form": form, "ctx": ctx})


@staff_view(Cap.EPISODE_MANAGE, patient_data=True)
def enroll(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    ctx = selectors.episode_for_programs(
        actor=actor, episode_id=episode_id, cap=Cap.EPISODE_MANAGE, object_type="enrollment"
    )
    form = EnrollForm(
        request.POST or None,
        initial={"start_date": max(ctx.today, ctx.episode.admission_date)},
        tracks=ctx.tracks,
    )
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            enrollment = services.enrollment_start(
                episode=ctx.episode, by=actor, **form.cleaned_data
            )
            messages.success(
                request,
                f"Enrolled in {enrollment.track.name} from {enrollment.start_date:%b} "
                f"{enrollment.start_date.day}, {enrollment.start_date.year}.",
            )
            return redirect("programs:enroll", episode_id=ctx.episode.pk)
    end_form = EnrollmentEndForm(initial={"end_date": ctx.today})
    return render(request, "programs/enroll.html", {"form": form, "ctx": ctx, "end_form": end_form})


@staff_view(Cap.EPISODE_MANAGE, patient_data=True)
def enrollment_end(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    enrollment = selectors.enrollment_get(actor=actor, enrollment_id=enrollment_id)
    today = clock.local_today(enrollment.episode.site.tz)
    form = EnrollmentEndForm(request.POST or None, initial={"end_date": today})
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.enrollment_end(enrollment=enrollment, by=actor, **form.cleaned_data)
            messages.success(
                request, f"The enrollment in {enrollment.track.name} ends on {enrollment.end_date}."
            )
            return redirect("programs:enroll", episode_id=enrollment.episode_id)
    return render(request, "programs/enrollment_end.html", {"form": form, "enrollment": enrollment})
