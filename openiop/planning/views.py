"""Pages of the week's plan (the director) and of make-up hours (clinicians)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.access import pick_site, require, visible_sites
from openiop.accounts.domain import Cap
from openiop.attendance.selectors import session_get
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.core.errors import RuleViolation
from openiop.episodes.selectors import episode_with_patient
from openiop.planning import selectors, services
from openiop.planning.builder import episode_key, session_key
from openiop.planning.domain.edit import Edit
from openiop.planning.forms import EditForm, StartForm
from openiop.planning.models import ProposalStatus
from openiop.ui.views_support import paginate, refusals, staff_view


def _planner(request: HttpRequest) -> Actor:
    """The actor, if they may plan: Cap.SCHEDULE_MANAGE (the decorator) and, since a plan names
    patients, Cap.ATTENDANCE_VIEW (an administrator manages the schedule but sees no patient)."""
    actor = Actor.from_request(request)
    require(actor, Cap.ATTENDANCE_VIEW, object_type="plan_proposal")
    return actor


def _site(request: HttpRequest, actor: Actor) -> tuple[Any, list[Any]]:
    sites = list(visible_sites(actor, for_new_work=True).order_by("name"))
    wanted = request.GET.get("site") or request.POST.get("site")
    return pick_site(actor, sites, wanted), sites


@staff_view(Cap.SCHEDULE_MANAGE)  # lists plans by week and author: no patient on it
def plans(request: HttpRequest) -> HttpResponse:
    """The site's plans, newest first; plan next week (or a later one) from here."""
    actor = _planner(request)
    site, sites = _site(request, actor)
    form = StartForm(request.POST or None, site=site)
    if request.method == "POST" and site is not None and form.is_valid():
        with refusals(request, form):
            proposal = services.proposal_start(
                site=site,
                week=form.cleaned_data["week"],
                track=form.cleaned_data["track"],
                by=actor,
            )
            return redirect(reverse("planning:plan", kwargs={"proposal_id": proposal.pk}))
    page = paginate(request, selectors.proposals_for(actor=actor, site=site) if site else [])
    return render(
        request, "planning/plans.html", {"site": site, "sites": sites, "form": form, "page": page}
    )


def _plan_context(
    request: HttpRequest, actor: Actor, proposal: Any, **extra: Any
) -> dict[str, Any]:
    view = selectors.proposal_view(actor=actor, proposal=proposal)
    context: dict[str, Any] = {
        "view": view,
        "proposal": proposal,
        "tz": proposal.site.tz,
        "draft": proposal.status == ProposalStatus.DRAFT,
        "queued": proposal.status == ProposalStatus.QUEUED,
        "edit_form": EditForm(
            initial={"version": proposal.version},
            patients=view.patients,
            lines=view.lines,
            tz=proposal.site.tz,
        ),
        "edit_error": "",
        "session_key": session_key,
        "episode_key": episode_key,
    }
    context.update(extra)
    return context


@staff_view(Cap.SCHEDULE_MANAGE, patient_data=True)
def plan(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """One plan: progress while it is planned, then who moves where, who falls short and why,
    edits, accept and discard. htmx polls the progress part."""
    actor = _planner(request)
    proposal = selectors.proposal_get(actor=actor, proposal_id=proposal_id)
    context = _plan_context(request, actor, proposal)
    if request.headers.get("HX-Request") == "true" and context["queued"]:
        return render(request, "planning/_progress.html", context)
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # planned: show the whole page
        return response
    return render(request, "planning/plan.html", context)


@require_POST
@staff_view(Cap.SCHEDULE_MANAGE, patient_data=True)
def plan_edit(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Move, remove or add one assignment. A refused edit comes back with the reason and the
    plan as it was (422; 409 when someone else changed it first)."""
    actor = _planner(request)
    proposal = selectors.proposal_get(actor=actor, proposal_id=proposal_id)
    view = selectors.proposal_view(actor=actor, proposal=proposal)
    form = EditForm(request.POST, patients=view.patients, lines=view.lines, tz=proposal.site.tz)
    if form.is_valid():
        data = form.cleaned_data
        with refusals(request, form):
            services.proposal_edit(
                proposal=proposal,
                edit=Edit(data["op"], data["patient"], data["from_session"], data["to_session"]),
                expected_version=data["version"],
                by=actor,
            )
            messages.success(request, "The plan was changed.")
            return redirect(reverse("planning:plan", kwargs={"proposal_id": proposal.pk}))
    proposal.refresh_from_db()
    context = _plan_context(request, actor, proposal, edit_form=form)
    return render(request, "planning/plan.html", context, status=422)


@require_POST
@staff_view(Cap.SCHEDULE_MANAGE)  # answers with a redirect; the plan page audits what it shows
def plan_decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Accept the plan into the rosters, or discard it (action=accept|discard)."""
    actor = _planner(request)
    proposal = selectors.proposal_get(actor=actor, proposal_id=proposal_id)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    action = request.POST.get("action")
    with refusals(request, flash=True):
        if action == "accept":
            done = services.proposal_accept(proposal=proposal, expected_version=version, by=actor)
            messages.success(
                request, f"Plan accepted: {done.seats_added} added to this week's rosters."
            )
        elif action == "discard":
            services.proposal_discard(proposal=proposal, expected_version=version, by=actor)
            messages.success(request, "Plan discarded.")
        else:
            raise RuleViolation("Choose Accept or Discard.")
    return redirect(reverse("planning:plan", kwargs={"proposal_id": proposal.pk}))


@staff_view(Cap.ATTENDANCE_RECORD, patient_data=True)
def makeup(request: HttpRequest) -> HttpResponse:
    """Make-up hours: patients who cannot reach this week's minimum on the sessions ahead of
    them, with later sessions of the week that fit; Add puts them on that roster."""
    actor = Actor.from_request(request)
    site, sites = _site(request, actor)
    if request.method == "POST" and site is not None:
        with refusals(request, flash=True):
            session = session_get(
                actor=actor,
                session_id=_int(request.POST.get("session_id")),
                cap=Cap.ATTENDANCE_RECORD,
            )
            episode = episode_with_patient(episode_id=_int(request.POST.get("episode_id")))
            if episode is None:
                raise RuleViolation("That patient is not on this list. Reload the page.")
            services.makeup_add(session=session, episode=episode, by=actor)
            messages.success(
                request,
                f"{episode.patient.display_name} was added to {session.title} on "
                f"{session.starts_at.astimezone(session.site.tz):%a %b %-d %H:%M}.",
            )
        return redirect(f"{reverse('planning:makeup')}?site={site.pk}")
    rows = (
        selectors.makeup_board(actor=actor, site=site, today=local_today(site.tz)) if site else []
    )
    week = IsoWeek.of(local_today(site.tz)) if site else None
    return render(
        request,
        "planning/makeup.html",
        {"site": site, "sites": sites, "rows": rows, "week": week},
    )


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0
