"""Case management pages: the resource directory, a patient's case file (referrals, rides and
childcare, tasks) and My tasks. Each page calls one selector, each form one service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.access import pick_site, visible_sites
from openiop.accounts.domain import Cap
from openiop.casemgmt import selectors, services
from openiop.casemgmt.choices import ReferralStatus, SupportStatus, TaskView
from openiop.casemgmt.forms import (
    ReferralForm,
    ReferralUpdateForm,
    ResourceEditForm,
    ResourceForm,
    ResourceSearchForm,
    SupportRequestForm,
    TaskForm,
)
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import local_label
from openiop.core.errors import NotFound, RuleViolation
from openiop.ui.fields import parse_id
from openiop.ui.views_support import REFUSED_STATUS, paginate, refusals, staff_view

CAP = Cap.CASE_MANAGE


# --- the directory ---------------------------------------------------------------------------
@staff_view(CAP)
def resource_list(request: HttpRequest) -> HttpResponse:
    """A site's community resources: search by name or address, filter by kind, 25 a page."""
    actor = Actor.from_request(request)
    sites = list(visible_sites(actor))
    site = pick_site(actor, sites, request.GET.get("site"))
    form = ResourceSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = None
    if site is not None:
        page = paginate(
            request,
            selectors.resource_search(
                actor=actor,
                site=site,
                query=data.get("q", ""),
                kind=data.get("kind", ""),
                include_inactive=bool(data.get("inactive")),
            ),
        )
    return render(
        request,
        "casemgmt/resources.html",
        {"form": form, "page": page, "site": site, "sites": sites, "query": data.get("q", "")},
    )


@staff_view(CAP)
def resource_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    sites = list(visible_sites(actor, for_new_work=True))
    site = pick_site(actor, sites, request.GET.get("site") or request.POST.get("site"))
    if site is None:
        raise NotFound("There is no site to add a resource to.", code="no_site")
    form = ResourceForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            resource = services.resource_create(site=site, by=actor, **form.cleaned_data)
            messages.success(request, f"Added {resource.name} to the directory.")
            return redirect(f"{_list_url()}?site={site.pk}")
    return render(
        request, "casemgmt/resource_form.html", {"form": form, "site": site, "resource": None}
    )


@staff_view(CAP)
def resource_edit(request: HttpRequest, resource_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    resource = selectors.resource_get(actor=actor, resource_id=resource_id)
    initial = {f: getattr(resource, f) for f in services.RESOURCE_FIELDS}
    initial["version"] = resource.version
    form = ResourceEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        with refusals(request, form):
            services.resource_update(
                resource=resource, expected_version=data.pop("version"), by=actor, **data
            )
            messages.success(request, f"Saved {resource.name}.")
            return redirect(f"{_list_url()}?site={resource.site_id}")
    return render(
        request,
        "casemgmt/resource_form.html",
        {"form": form, "site": resource.site, "resource": resource},
    )


def _list_url() -> str:
    from django.urls import reverse

    return reverse("casemgmt:resources")


# --- a patient's case file -------------------------------------------------------------------
def _session_label(session: Any) -> str:
    track = f" · {session.track.name}" if session.track_id else ""
    return f"{local_label(session.starts_at, session.site.tz)} · {session.title}{track}"


@staff_view(CAP, patient_data=True)
def case_file(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's referrals, rides and childcare, and open tasks, with a form for each."""
    actor = Actor.from_request(request)
    file = selectors.case_file(actor=actor, patient_id=patient_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    post = request.POST if action else None
    forms: dict[str, Any] = {
        "referral": ReferralForm(
            post if action == "referral" else None,
            prefix="ref",
            resources=[(r.pk, f"{r.name} ({r.get_kind_display()})") for r in file.resources],
        ),
        "request": SupportRequestForm(
            post if action == "request" else None,
            prefix="req",
            sessions=[(s.pk, _session_label(s)) for s in file.sessions],
            initial={"pickup_address": _home_address(file.patient)},
        ),
        "task": TaskForm(
            post if action == "task" else None,
            prefix="task",
            owners=[(u.pk, u.get_full_name() or u.username) for u in file.staff],
            initial={"owner": actor.user.pk if actor.user else None},
        ),
    }
    update_forms = {
        r.pk: ReferralUpdateForm(
            post
            if action == "referral_update" and request.POST.get("referral") == str(r.pk)
            else None,
            prefix=f"upd{r.pk}",
            initial={
                "referral": r.pk,
                "version": r.version,
                "status": r.status,
                "follow_up_on": r.follow_up_on,
                "outcome": r.outcome,
            },
        )
        for r in file.referrals
    }
    if action:
        response = _act(request, actor, file, action, forms, update_forms)
        if response is not None:
            return response
    context = {
        "file": file,
        "patient": file.patient,
        "forms": forms,
        "update_forms": update_forms,
        "tz": file.patient.site.tz,
        "open_statuses": {ReferralStatus.PROPOSED, ReferralStatus.SENT, ReferralStatus.ACCEPTED},
        "SupportStatus": SupportStatus,
    }
    return render(request, "casemgmt/case_file.html", context)


def _act(
    request: HttpRequest,
    actor: Actor,
    file: selectors.CaseFile,
    action: str,
    forms: dict[str, Any],
    update_forms: dict[int, ReferralUpdateForm],
) -> HttpResponse | None:
    """Run one posted action through its service; a redirect when it went through, None to show
    the page again with the form's errors and what was typed."""
    here = redirect("casemgmt:patient", patient_id=file.patient.pk)
    episode = file.episode
    if action in ("request_status",):
        chosen = _pick(file.requests, request.POST.get("request"))
        if chosen is None:
            messages.error(request, "That request is not in this patient's file.")
            return here
        with refusals(request, flash=True):
            services.support_request_set_status(
                request=chosen,
                status=request.POST.get("status", ""),
                expected_version=parse_id(request.POST.get("version")) or None,
                by=actor,
            )
            messages.success(
                request, f"{chosen.get_kind_display()}: {chosen.get_status_display().lower()}."
            )
        return here
    if action == "referral_update":
        referral = _pick(file.referrals, request.POST.get("referral"))
        if referral is None:
            messages.error(request, "That referral is not in this patient's file.")
            return here
        form: Any = update_forms[referral.pk]
    elif action in forms:
        form = forms[action]
    else:
        messages.error(request, "That action is not offered here.")
        return here
    if not form.is_valid():
        setattr(request, REFUSED_STATUS, 422)
        return None
    d = form.cleaned_data
    with refusals(request, form):
        if action == "referral_update":
            services.referral_update(
                referral=referral,
                status=d["status"],
                follow_up_on=d["follow_up_on"],
                outcome=d["outcome"],
                expected_version=d["version"],
                by=actor,
            )
            messages.success(request, f"Saved the referral to {referral.resource.name}.")
            return here
        if episode is None:
            raise RuleViolation("This patient has no open episode.", code="no_episode")
        if action == "referral":
            resource = next((r for r in file.resources if r.pk == d["resource"]), None)
            if resource is None:
                raise RuleViolation(
                    "Choose a resource of this site.", code="resource", field="resource"
                )
            services.referral_create(
                episode=episode, resource=resource, follow_up_on=d["follow_up_on"], by=actor
            )
            messages.success(request, f"Referred to {resource.name}.")
        elif action == "request":
            session = next((s for s in file.sessions if s.pk == d["session"]), None)
            if session is None:
                raise RuleViolation(
                    "Choose an upcoming session this patient is on the roster of.",
                    code="session",
                    field="session",
                )
            services.support_request_create(
                episode=episode,
                session=session,
                kind=d["kind"],
                pickup_address=d["pickup_address"],
                pickup_time=d["pickup_time"],
                notes=d["notes"],
                by=actor,
            )
            messages.success(request, f"Requested for {_session_label(session)}.")
        elif action == "task":
            owner = next((u for u in file.staff if u.pk == d["owner"]), None)
            if owner is None:
                raise RuleViolation(
                    "Choose an active case manager of this site.", code="owner", field="owner"
                )
            services.task_create(
                site=episode.site,
                owner=owner,
                title=d["title"],
                due_on=d["due_on"],
                episode=episode,
                by=actor,
            )
            messages.success(request, "Task added.")
        return here
    return None


def _home_address(patient: Any) -> str:
    return ", ".join(p for p in (patient.address_line, patient.city) if p)


def _pick(rows: list[Any], wanted: str | None) -> Any:
    pk = parse_id(wanted)
    return next((r for r in rows if r.pk == pk), None) if pk else None


# --- My tasks --------------------------------------------------------------------------------
@staff_view(CAP, patient_data=True, cache=True)
def my_tasks(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's own tasks: open, overdue or done, by due date."""
    actor = Actor.from_request(request)
    user = actor.user
    assert user is not None
    today = local_today(user_tz(user))
    if request.method == "POST":
        task = selectors.task_get(actor=actor, task_id=parse_id(request.POST.get("task")) or 0)
        with refusals(request, flash=True):
            done = request.POST.get("action") == "done"
            services.task_set_done(task=task, done=done, by=actor)
            messages.success(request, f"{'Done' if done else 'Open again'}: {task.title}")
        return redirect(request.get_full_path())
    view = request.GET.get("view", TaskView.OPEN)
    if view not in TaskView.values:
        view = TaskView.OPEN
    page = paginate(request, selectors.my_tasks(actor=actor, view=view, today=today))
    page.object_list = list(page.object_list)
    selectors.my_tasks_shown(actor=actor, tasks=page.object_list)
    return render(
        request,
        "casemgmt/my_tasks.html",
        {
            "page": page,
            "view": view,
            "views": TaskView.choices,
            "counts": selectors.my_task_counts(actor=actor, today=today),
            "today": today,
        },
    )


def user_tz(user: Any) -> Any:
    """The zone of the user's own pages (their first site's): My tasks' 'today'."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(user.home_zone_name())
