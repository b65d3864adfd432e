from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from openiop.accounts.access import pick_site
from openiop.accounts.domain import Cap
from openiop.attendance import selectors, services
from openiop.attendance.choices import AttendanceStatus
from openiop.attendance.forms import AttendanceRowForm, BelowHoursFilterForm
from openiop.attendance.selectors import RosterRow
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.episodes.selectors import episode_with_patient
from openiop.ui.views_support import paginate, refusals, staff_view

if TYPE_CHECKING:
    from openiop.programs.models import GroupSession, Site

LEDGER_WEEKS = 8


def _chosen_site(request: HttpRequest, actor: Actor) -> tuple[Site | None, list[Site]]:
    sites = selectors.sites_for(actor)
    wanted = request.GET.get("site") or request.POST.get("site")
    return pick_site(actor, sites, wanted), sites


@staff_view(Cap.SCHEDULE_VIEW, patient_data=True, cache=True)
def today(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    site, sites = _chosen_site(request, actor)
    board = None
    if site is not None:
        board = selectors.today_board(actor=actor, site=site, date=local_today(site.tz))
    return render(request, "attendance/today.html", {"board": board, "site": site, "sites": sites})


def _roster_context(request: HttpRequest, actor: Actor, session: GroupSession) -> dict[str, Any]:
    rows = selectors.session_roster(
        actor=actor, session=session, today=local_today(session.site.tz)
    )
    return {
        "session": session,
        "rows": rows,
        "tz": session.site.tz,
        "statuses": AttendanceStatus.choices,
        "can_record": request.user.can(Cap.ATTENDANCE_RECORD) and not session.is_cancelled,  # type: ignore[union-attr]
        "recorded": sum(1 for r in rows if r.attendance is not None),
        "errors": {},
        "typed": {},
        "roster_error": "",
    }


@staff_view(Cap.ATTENDANCE_VIEW, patient_data=True, cache=True)
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    """The roster of one session: take attendance ('All present', then the exceptions)."""
    actor = Actor.from_request(request)
    session = selectors.session_get(actor=actor, session_id=session_id)
    is_htmx = request.headers.get("HX-Request") == "true"
    if request.method == "POST":
        if request.POST.get("action") == "all_present":
            with refusals(request, flash=True):
                count = services.attendance_mark_all_present(session=session, by=actor)
                messages.success(request, f"Marked {count} present. Now record the exceptions.")
            return redirect(reverse("attendance:session", kwargs={"session_id": session.pk}))
        return _save_row(request, actor, session, is_htmx)
    return render(request, "attendance/session.html", _roster_context(request, actor, session))


def _save_row(
    request: HttpRequest, actor: Actor, session: GroupSession, is_htmx: bool
) -> HttpResponse:
    """Save one roster row. A refused row comes back with the stored value, the choice that was
    refused and the reason (422, or 409 when someone saved the row first): nothing is shown as saved
    that was not. htmx swaps both (ui/base.html, htmx-config)."""
    form = AttendanceRowForm(request.POST)
    error, status = "", 200
    episode_id = request.POST.get("episode_id", "")
    if form.is_valid():
        episode = episode_with_patient(episode_id=form.cleaned_data["episode_id"])
        if episode is None:
            error, status = "That patient is not on this roster. Reload the page.", 422
        else:
            with refusals(request) as refusal:
                services.attendance_record(
                    session=session,
                    episode=episode,
                    status=form.cleaned_data["status"],
                    minutes_attended=form.cleaned_data["minutes_attended"],
                    comment=form.cleaned_data["comment"] or "",
                    expected_version=form.cleaned_data["version"],
                    by=actor,
                )
            if refusal.error is not None:
                error, status = refusal.message, refusal.status
    else:
        error, status = _row_errors(form), 422
    if not error and not is_htmx:
        return redirect(reverse("attendance:session", kwargs={"session_id": session.pk}))
    context = _roster_context(request, actor, session)
    row = next((r for r in context["rows"] if str(r.episode.pk) == episode_id), None)
    if error:
        context["errors"] = {episode_id: error}
        context["typed"] = {
            episode_id: {
                "status": request.POST.get("status", ""),
                "minutes_attended": request.POST.get("minutes_attended", ""),
                "comment": request.POST.get("comment", ""),
            }
        }
        if row is None:  # no row to show it beside (a tampered or stale patient id)
            context["roster_error"] = error
    if is_htmx:
        if row is None:
            response = HttpResponse(
                format_html('<p class="field-error">{}</p>', error), status=status
            )
            response["HX-Retarget"] = "#roster-message"
            response["HX-Reswap"] = "innerHTML"
            return response
        return render(
            request, "attendance/_roster_row.html", {**context, "row": row}, status=status
        )
    return render(request, "attendance/session.html", context, status=status)


def _row_errors(form: AttendanceRowForm) -> str:
    """The form's errors as one sentence for the row; a hidden field's message stands alone."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(m) for m in errors)
        field = form.fields[name]
        parts.append(text if field.widget.is_hidden else f"{field.label or name}: {text}")
    return " ".join(parts)


@staff_view(Cap.ATTENDANCE_VIEW, patient_data=True)
def patient_hours(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    ledger = selectors.patient_weekly_ledger(actor=actor, patient_id=patient_id, weeks=LEDGER_WEEKS)
    return render(request, "attendance/patient_hours.html", {"ledger": ledger})


@staff_view(Cap.ATTENDANCE_VIEW, patient_data=True, cache=True)
def below_hours(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    site, sites = _chosen_site(request, actor)
    form = BelowHoursFilterForm(request.GET or None)
    rows: list[Any] = []
    week = None
    query = ""
    if site is not None:
        today_local = local_today(site.tz)
        week = IsoWeek.of(today_local)
        if form.is_valid() and form.cleaned_data.get("week"):
            week = form.cleaned_data["week"]
        query = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
        rows = selectors.below_hours(
            actor=actor, site=site, week=week, today=today_local, query=query or ""
        )
    page = paginate(request, rows)
    return render(
        request,
        "attendance/below_hours.html",
        {"page": page, "site": site, "sites": sites, "form": form, "week": week, "q": query},
    )


@require_POST
@staff_view(Cap.ALERT_ACK, patient_data=True)
def alert_ack(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    with refusals(request, flash=True):
        alert = selectors.alert_get(actor=actor, alert_id=alert_id)
        services.alert_acknowledge(alert=alert, by=actor)
        messages.success(request, "Alert acknowledged.")
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:today")
    return HttpResponseRedirect(target)  # a path, never a view name (redirect() would reverse it)


__all__ = ["RosterRow", "alert_ack", "below_hours", "patient_hours", "session_detail", "today"]
