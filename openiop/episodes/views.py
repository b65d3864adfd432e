"""Episode pages: open, detail, change level, status, staff, discharge (with confirmation)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.episodes import domain, services
from openiop.episodes.choices import DischargeReason
from openiop.episodes.forms import (
    AssignForm,
    ChangeLevelForm,
    DischargeForm,
    EpisodeOpenForm,
    SetStatusForm,
    clinical_staff,
)
from openiop.episodes.models import Episode
from openiop.episodes.selectors import episode_get
from openiop.measures.selectors import cssrs_recorded_after, safety_at_close
from openiop.measures.services import safety_close_refusal
from openiop.patients.selectors import patient_get
from openiop.programs.selectors import active_sites_in_scope
from openiop.ui.views_support import form_error, refusals, staff_view


@staff_view(Cap.EPISODE_MANAGE, patient_data=True)
def episode_open(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    patient = patient_get(
        actor=actor, patient_id=patient_id, cap=Cap.EPISODE_MANAGE, purpose="episode_open"
    )
    sites = active_sites_in_scope(actor=actor, organization_id=patient.organization_id)
    staff = clinical_staff(patient.organization_id)
    initial = {"site": patient.site_id, "admission_date": local_today(patient.site.tz)}
    form = EpisodeOpenForm(request.POST or None, initial=initial, sites=sites, staff=staff)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            episode = services.episode_open(patient=patient, by=actor, **form.cleaned_data)
            messages.success(request, f"Opened episode {episode.pk}.")
            return redirect("episodes:detail", episode_id=episode.pk)
    return render(request, "episodes/open.html", {"form": form, "patient": patient})


@staff_view(Cap.EPISODE_VIEW, patient_data=True)
def episode_detail(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = episode_get(actor=Actor.from_request(request), episode_id=episode_id)
    return render(request, "episodes/detail.html", {"episode": episode, "patient": episode.patient})


def _closed(request: HttpRequest, episode: Episode) -> HttpResponse:
    return render(request, "episodes/closed.html", {"episode": episode, "patient": episode.patient})


@staff_view(Cap.EPISODE_MANAGE, patient_data=True)
def episode_change_level(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.EPISODE_MANAGE, purpose="episode_change_level"
    )
    if not episode.is_open:
        return _closed(request, episode)
    initial = {"version": episode.version, "effective_date": local_today(episode.site.tz)}
    form = ChangeLevelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusals(request, form):
            change = services.episode_change_level(
                episode=episode,
                to_level=data["to_level"],
                effective_date=data["effective_date"],
                reason=data["reason"],
                expected_version=data["version"],
                by=actor,
            )
            word = {"step_up": "Stepped up", "step_down": "Stepped down"}[change.direction]
            messages.success(request, f"{word} to {change.get_to_level_display()}.")
            return redirect("episodes:detail", episode_id=episode.pk)
    return render(request, "episodes/change_level.html", {"form": form, "episode": episode})


@staff_view(Cap.EPISODE_MANAGE, patient_data=True)
def episode_set_status(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.EPISODE_MANAGE, purpose="episode_set_status"
    )
    if not episode.is_open:
        return _closed(request, episode)
    allowed = sorted(domain.STATUS_TRANSITIONS[episode.status])
    form = SetStatusForm(
        request.POST or None, initial={"version": episode.version}, allowed=allowed
    )
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.episode_set_status(
                episode=episode,
                status=form.cleaned_data["status"],
                expected_version=form.cleaned_data["version"],
                by=actor,
            )
            messages.success(request, f"The episode is now {episode.get_status_display().lower()}.")
            return redirect("episodes:detail", episode_id=episode.pk)
    return render(request, "episodes/set_status.html", {"form": form, "episode": episode})


@staff_view(Cap.EPISODE_MANAGE, patient_data=True)
def episode_assign(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.EPISODE_MANAGE, purpose="episode_assign"
    )
    if not episode.is_open:
        return _closed(request, episode)
    initial = {
        "version": episode.version,
        "primary_clinician": episode.primary_clinician_id,
        "case_manager": episode.case_manager_id,
    }
    staff = clinical_staff(episode.patient.organization_id)
    form = AssignForm(request.POST or None, initial=initial, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusals(request, form):
            services.episode_assign(
                episode=episode,
                primary_clinician=data["primary_clinician"],
                case_manager=data["case_manager"],
                expected_version=data["version"],
                by=actor,
            )
            messages.success(request, "Staff assigned.")
            return redirect("episodes:detail", episode_id=episode.pk)
    return render(request, "episodes/assign.html", {"form": form, "episode": episode})


@staff_view(Cap.EPISODE_VIEW, patient_data=True)
def episode_discharge(request: HttpRequest, episode_id: int) -> HttpResponse:
    """Two steps: the form, then a confirmation page saying what the discharge will do.
    Whoever may discharge this episode (services.require_discharge) opens it."""
    actor = Actor.from_request(request)
    episode = episode_get(actor=actor, episode_id=episode_id, purpose="episode_discharge")
    services.require_discharge(actor, episode)
    if not episode.is_open:
        return _closed(request, episode)
    # Open safety alerts and unassessed positive screens stop the discharge until a clinician
    # decides about each alert here (measures.services.safety_close_refusal says why).
    safety = safety_at_close(episode)
    user = request.user
    decides = user.can(Cap.ALERT_ACK) and user.can(Cap.CLINICAL_VIEW)  # type: ignore[union-attr]
    alerts = safety.alerts if decides else []
    initial = {"version": episode.version, "discharge_date": local_today(episode.site.tz)}
    form = DischargeForm(
        request.POST or None,
        initial=initial,
        alerts=alerts,
        cssrs_after={a.pk for a in alerts if cssrs_recorded_after(a)},
    )
    context = {
        "form": form,
        "episode": episode,
        "patient": episode.patient,
        "safety": safety,
        "decides": decides,
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        problem = domain.discharge_date_problem(episode.admission_date, data["discharge_date"])
        refusal = safety_close_refusal(
            items=safety, decisions=form.decisions(), note=data.get("safety_note", "")
        )
        if problem:
            form.add_error("discharge_date", problem)
        elif refusal is not None:
            form_error(form, refusal)
        elif request.POST.get("confirm") != "yes":
            context["ending"] = services.enrollments_ending_at_discharge(
                episode, data["discharge_date"]
            )
            context["reason_label"] = DischargeReason(data["reason"]).label
            return render(request, "episodes/discharge_confirm.html", context)
        else:
            with refusals(request, form):
                services.episode_discharge(
                    episode=episode,
                    discharge_date=data["discharge_date"],
                    reason=data["reason"],
                    note=data["note"],
                    expected_version=data["version"],
                    alert_decisions=form.decisions(),
                    safety_note=data.get("safety_note", ""),
                    by=actor,
                )
                messages.success(
                    request, f"Discharged on {data['discharge_date']:%Y-%m-%d}; enrollments ended."
                )
                return redirect("patients:chart", patient_id=episode.patient_id)
    return render(request, "episodes/discharge.html", context)
