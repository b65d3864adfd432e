"""Measures pages: the episode's questionnaires and trends, entry, links, alerts, safety plans,
the due list and the program view; and the patient's own link pages (no account)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.access import pick_site
from openiop.accounts.domain import Cap
from openiop.attendance.selectors import sites_for
from openiop.audit.choices import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.errors import NotFound, RuleViolation
from openiop.core.submissions import completed
from openiop.episodes.selectors import episode_get
from openiop.measures import selectors, services
from openiop.measures.choices import LinkPurpose, PlanStatus
from openiop.measures.domain import REGISTRY
from openiop.measures.forms import (
    AcknowledgeForm,
    AnswersForm,
    FlagForm,
    LinkForm,
    ProgramFilterForm,
    SafetyPlanForm,
    ScheduleForm,
    SignPlanForm,
)
from openiop.measures.models import MeasurementSchedule, PatientLink
from openiop.programs.selectors import track_in_scope
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import form_error, paginate, refusals, staff_view

if TYPE_CHECKING:
    from openiop.programs.models import Site


def _site_choice(request: HttpRequest, actor: Actor) -> tuple[Site | None, list[Site]]:
    sites = sites_for(actor)
    return pick_site(actor, sites, request.GET.get("site")), sites


# --- the episode's measures -------------------------------------------------------------------


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def episode_page(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    page = selectors.episode_measures(actor=actor, episode_id=episode_id)
    link_form = LinkForm(initial={"hours_valid": services.link_valid_hours(), "instrument": "phq9"})
    return render(
        request,
        "measures/episode.html",
        {
            "page": page,
            "episode": page.episode,
            "link_form": link_form,
            "instruments": list(REGISTRY.values()),
        },
    )


@staff_view(Cap.MEASURE_RECORD, patient_data=True)
def enter(request: HttpRequest, episode_id: int, instrument: str) -> HttpResponse:
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.MEASURE_RECORD, purpose="measure_entry"
    )
    definition = REGISTRY.get(instrument)
    if definition is None:
        raise NotFound("There is no such questionnaire.")
    form = AnswersForm(request.POST or None, instrument=definition)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            response = services.response_record(
                episode=episode, instrument=instrument, answers=form.answers(), by=actor
            )
            note = f"{definition.label} saved"
            if response.total is not None:
                note += f": {response.total} ({response.band_label})"
            messages.success(request, note + ".")
            if hasattr(response, "safety_alert"):
                messages.warning(
                    request, "A safety alert was opened: see it at the top of this page."
                )
            return redirect("measures:episode", episode_id=episode.pk)
    return render(
        request,
        "measures/enter.html",
        {"episode": episode, "instrument": definition, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@staff_view(Cap.MEASURE_RECORD, patient_data=True)
def link_create(request: HttpRequest, episode_id: int) -> HttpResponse:
    """POST: make a questionnaire or safety-plan link and show it once."""
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.MEASURE_RECORD, purpose="patient_link"
    )
    if request.method != "POST":
        return redirect("measures:episode", episode_id=episode.pk)
    purpose = request.POST.get("purpose", LinkPurpose.QUESTIONNAIRE)
    with refusals(request, flash=True) as refusal:
        if purpose == LinkPurpose.SAFETY_PLAN:
            issued = services.patient_link_create(
                episode=episode, purpose=LinkPurpose.SAFETY_PLAN, by=actor
            )
        else:
            form = LinkForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose a questionnaire and how long the link works.")
                return redirect("measures:episode", episode_id=episode.pk)
            issued = services.patient_link_create(
                episode=episode,
                purpose=LinkPurpose.QUESTIONNAIRE,
                instrument=form.cleaned_data["instrument"],
                mode=form.cleaned_data["mode"],
                hours_valid=form.cleaned_data["hours_valid"],
                by=actor,
            )
    if refusal.error is not None:
        return redirect("measures:episode", episode_id=episode.pk)
    link_url = request.build_absolute_uri(
        reverse("measures:patient_link", kwargs={"token": issued.token})
    )
    return render(
        request,
        "measures/link_created.html",
        {"episode": episode, "link": issued.link, "link_url": link_url},
    )


@staff_view(Cap.MEASURE_RECORD, patient_data=True)
def flag(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.MEASURE_RECORD, purpose="safety_flag"
    )
    form = FlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.risk_assess(
                episode=episode,
                risk_level=form.cleaned_data["risk_level"],
                note=form.cleaned_data["note"],
                by=actor,
            )
            messages.success(request, "Risk level recorded.")
            return redirect("measures:episode", episode_id=episode.pk)
    return render(request, "measures/flag.html", {"episode": episode, "form": form})


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def trends_pdf(request: HttpRequest, episode_id: int) -> HttpResponse:
    page = selectors.episode_measures(actor=Actor.from_request(request), episode_id=episode_id)
    return pdf_response(
        request,
        "measures/trends_print.html",
        {"page": page, "episode": page.episode, "patient": page.episode.patient},
        filename=f"trends-{page.episode.patient.mrn}.pdf",
    )


# --- safety alerts ---------------------------------------------------------------------------------


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def alerts(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    q = request.GET.get("q", "").strip()[:100]
    page = selectors.my_safety_alerts(actor=actor, page=request.GET.get("page"), q=q)
    return render(request, "measures/alerts.html", {"page": page, "q": q})


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def alert_detail(request: HttpRequest, safety_alert_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    alert = selectors.safety_alert_get(actor=actor, alert_id=safety_alert_id)
    cssrs_after = selectors.cssrs_recorded_after(alert)
    form = AcknowledgeForm(request.POST or None, cssrs_after=cssrs_after)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.safety_alert_acknowledge(
                alert=alert,
                action=form.cleaned_data["action"],
                note=form.cleaned_data["note"],
                by=actor,
            )
            messages.success(request, "Alert acknowledged.")
            return redirect("measures:episode", episode_id=alert.episode_id)
    return render(
        request,
        "measures/alert.html",
        {"alert": alert, "episode": alert.episode, "form": form, "cssrs_after": cssrs_after},
        status=400 if form.is_bound and form.errors else 200,
    )


# --- safety plans ---------------------------------------------------------------------------------


@staff_view(Cap.MEASURE_RECORD, patient_data=True)
def plan_start(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode = episode_get(
        actor=actor, episode_id=episode_id, cap=Cap.MEASURE_RECORD, purpose="safety_plan"
    )
    if request.method != "POST":
        return redirect("measures:episode", episode_id=episode.pk)
    with refusals(request, flash=True):
        plan = services.safety_plan_start(episode=episode, by=actor)
        return redirect("measures:plan", plan_id=plan.pk)
    return redirect("measures:episode", episode_id=episode.pk)


def _plan_values(plan: Any) -> dict[str, Any]:
    return {f: getattr(plan, f) for f in services.PLAN_FIELDS} | {"version": plan.version}


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    safety_plan = selectors.safety_plan_get(actor=actor, plan_id=plan_id)
    editable = safety_plan.status == PlanStatus.DRAFT and request.user.can(Cap.MEASURE_RECORD)  # type: ignore[union-attr]
    form = SafetyPlanForm(
        request.POST if request.method == "POST" else None, initial=_plan_values(safety_plan)
    )
    if request.method == "POST" and editable and form.is_valid():
        with refusals(request, form):
            services.safety_plan_update(
                plan=safety_plan,
                values={f: form.cleaned_data[f] for f in services.PLAN_FIELDS},
                expected_version=form.cleaned_data["version"],
                by=actor,
            )
            messages.success(request, "Safety plan saved.")
            return redirect("measures:plan", plan_id=safety_plan.pk)
    sign_form = SignPlanForm(initial={"version": safety_plan.version})
    return render(
        request,
        "measures/plan.html",
        {
            "plan": safety_plan,
            "episode": safety_plan.episode,
            "form": form,
            "sign_form": sign_form,
            "editable": editable,
            "crisis_line": safety_plan.patient.organization.crisis_line,
        },
    )


@require_POST
@staff_view(Cap.MEASURE_RECORD, patient_data=True)
def plan_sign(request: HttpRequest, plan_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    safety_plan = selectors.safety_plan_get(actor=actor, plan_id=plan_id)
    form = SignPlanForm(request.POST)
    with refusals(request, flash=True):
        if not form.is_valid():
            raise RuleViolation("Reload the plan and sign again.")
        services.safety_plan_sign(
            plan=safety_plan,
            patient_agreed=form.cleaned_data["patient_agreed"],
            expected_version=form.cleaned_data["version"],
            by=actor,
        )
        messages.success(request, f"Safety plan {safety_plan.number} signed and locked.")
    return redirect("measures:plan", plan_id=safety_plan.pk)


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def plan_pdf(request: HttpRequest, plan_id: int) -> HttpResponse:
    safety_plan = selectors.safety_plan_get(
        actor=Actor.from_request(request), plan_id=plan_id, purpose="safety_plan_pdf"
    )
    return pdf_response(
        request,
        "measures/plan_print.html",
        {
            "plan": safety_plan,
            "patient": safety_plan.patient,
            "crisis_line": safety_plan.patient.organization.crisis_line,
        },
        filename=f"safety-plan-{safety_plan.patient.mrn}-{safety_plan.number}.pdf",
    )


# --- lists ------------------------------------------------------------------------------------------


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def due(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    site, sites = _site_choice(request, actor)
    # Directors cover everyone by default; clinicians see the patients they are primary for.
    default = "1" if getattr(request.user, "role", "") == "director" else "0"
    everyone = request.GET.get("everyone", default) == "1"
    q = request.GET.get("q", "").strip()[:100]
    rows = selectors.due_list(actor=actor, site=site, everyone=everyone, q=q) if site else []
    return render(
        request,
        "measures/due.html",
        {
            "page": paginate(request, rows),
            "q": q,
            "site": site,
            "sites": sites,
            "everyone": everyone,
            "registry": REGISTRY,
        },
    )


@staff_view(Cap.CLINICAL_VIEW, patient_data=True, cache=True)
def program(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    site, sites = _site_choice(request, actor)
    form = ProgramFilterForm(request.GET or None)
    q, only = "", False
    if form.is_valid():
        q, only = form.cleaned_data["q"], form.cleaned_data["nonresponders"]
    page = (
        selectors.program_outcomes(
            actor=actor, site=site, q=q, nonresponders_only=only, page=request.GET.get("page")
        )
        if site
        else None
    )
    return render(
        request,
        "measures/program.html",
        {
            "page": page,
            "site": site,
            "sites": sites,
            "form": form,
            "rules": selectors.outcome_rules(),
        },
    )


@staff_view(Cap.SCHEDULE_VIEW)
def schedule(request: HttpRequest, track_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    track = track_in_scope(actor=actor, track_id=track_id)
    if track is None:  # another site's track is as unknown as a missing one
        raise NotFound("There is no such track.")
    form = ScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.schedule_set(
                track=track,
                instrument=form.cleaned_data["instrument"],
                at_admission=form.cleaned_data["at_admission"],
                every_days=form.cleaned_data["every_days"],
                at_discharge=form.cleaned_data["at_discharge"],
                by=actor,
            )
            messages.success(request, "Measurement schedule saved.")
            return redirect("measures:schedule", track_id=track.pk)
    rows = MeasurementSchedule.objects.filter(track=track).order_by("instrument")
    return render(
        request,
        "measures/schedule.html",
        {"track": track, "rows": rows, "form": form, "registry": REGISTRY},
    )


# --- the patient's link (no account) ---------------------------------------------------------------


def _patient_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    # The token is in the URL: never send it to another site (same-origin keeps the Origin header
    # that CSRF checks need on the form post).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_actor(request: HttpRequest, link: PatientLink) -> Actor:
    return Actor(
        user=None,
        channel="patient",
        client_addr=Actor.from_request(request).client_addr,
        path=f"link {link.pk}",
    )


def patient_link(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's page: one questionnaire (single use) or their signed safety plan.

    Shows no name, no clinic name and nothing else from the chart; crisis resources are on the page
    and shown prominently once item 9 is answered at 1 or more (by a small script, and again by the
    server after submitting).
    """
    with refusals(request) as gone:
        link = services.patient_link_resolve(token=token)
    if gone.error is not None:
        return _patient_page(request, "measures/patient_gone.html", {"message": gone.message}, 404)
    crisis_line = link.patient.organization.crisis_line
    actor = _link_actor(request, link)
    if link.purpose == LinkPurpose.SAFETY_PLAN:
        safety_plan = selectors.latest_signed_plan(link.patient_id)
        if safety_plan is None:
            return _patient_page(
                request, "measures/patient_gone.html", {"message": services.LINK_GONE}, 404
            )
        audit_record(
            actor,
            action=AuditAction.VIEW,
            patient_id=link.patient_id,
            object_type="safety_plan",
            object_id=safety_plan.pk,
        )
        return _patient_page(
            request, "measures/patient_plan.html", {"plan": safety_plan, "crisis_line": crisis_line}
        )
    definition = REGISTRY[link.instrument]
    form = AnswersForm(request.POST or None, instrument=definition)
    if request.method == "POST" and form.is_valid():
        with refusals(request) as refusal:
            response = services.patient_link_submit(token=token, answers=form.answers(), by=actor)
            # Every C-SSRS tier above none gets 988 and the crisis line (domain.md s.7: "all tiers
            # 988 + crisis resources"); an alert opens only at moderate or high.
            at_risk = "item9_positive" in response.flags or (
                response.instrument == "cssrs" and response.band not in ("none", None)
            )
            # The page is the result: the same answers sent twice get it again (with the
            # crisis resources), not "link gone" (openiop.core.submissions).
            return completed(
                _patient_page(
                    request,
                    "measures/patient_done.html",
                    {"at_risk": at_risk, "crisis_line": crisis_line},
                )
            )
        if isinstance(refusal.error, NotFound):
            return _patient_page(
                request, "measures/patient_gone.html", {"message": refusal.message}, 404
            )
        if refusal.error is not None:
            form_error(form, refusal.error)
    return _patient_page(
        request,
        "measures/patient_form.html",
        {"instrument": definition, "form": form, "crisis_line": crisis_line},
        status=400 if form.is_bound and form.errors else 200,
    )
