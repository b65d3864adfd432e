"""Authorization pages: the site list with forecasts, a patient's authorizations with their
burn-down and the Medicare certification clock, the edit and end forms (Cap.REVENUE_MANAGE:
billing and the director), and the concurrent-review packet (Cap.CLINICAL_VIEW: clinicians and
the director; billing staff see usage and forecasts, not the packet)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.domain import Cap
from openiop.billing import selectors_authorizations as selectors
from openiop.billing import services
from openiop.billing.chart import burndown_svg
from openiop.billing.forms_authorizations import (
    AuthorizationEditForm,
    AuthorizationForm,
    CertificationEditForm,
    CertificationForm,
    EndForm,
    ReviewPacketForm,
)
from openiop.billing.services.authorizations import recertification_warn_days
from openiop.core.actor import Actor
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import refusals, staff_view

AUTH_EDIT = ("reference_number", "unit_kind", "quantity", "start_date", "end_date", "note")
CERT_EDIT = (
    "physician_name",
    "physician_npi",
    "signed_on",
    "start_date",
    "end_date",
    "certified_weekly_minutes",
    "interval",
)


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def authorization_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    current = request.GET.get("current") == "1"
    page = selectors.authorization_list(
        actor=Actor.from_request(request),
        search=search,
        page=request.GET.get("page"),
        current_only=current,
    )
    return render(
        request,
        "billing/authorizations.html",
        {"page": page, "q": search, "current": current},
    )


def _coverage_choices(page: selectors.PatientAuthorizations) -> list[tuple[int, str]]:
    return [
        (
            c.pk,
            f"{c.get_rank_display()}: {c.payer.name}"
            + (f" ({c.member_id})" if c.member_id else ""),
        )
        for c in page.coverages
    ]


def _episode_choices(page: selectors.PatientAuthorizations) -> list[tuple[int, str]]:
    return [
        (e.pk, f"Episode admitted {e.admission_date:%b %-d, %Y} ({e.get_status_display()})")
        for e in page.episodes
    ]


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def patient_authorizations(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    page = selectors.patient_authorizations(
        actor=actor, patient_id=patient_id, warn_days=recertification_warn_days()
    )
    action = request.POST.get("action") if request.method == "POST" else None
    auth_form = AuthorizationForm(
        request.POST if action == "authorization" else None,
        coverages=_coverage_choices(page),
        prefix="auth",
    )
    open_episode = page.open_episode
    cert_form = CertificationForm(
        request.POST if action == "certification" else None,
        episodes=_episode_choices(page),
        prefix="cert",
        initial={"episode": open_episode.pk if open_episode else None},
    )
    if action == "authorization" and auth_form.is_valid():
        data = dict(auth_form.cleaned_data)
        coverage = next(c for c in page.coverages if c.pk == data.pop("coverage"))
        with refusals(request, auth_form):
            services.authorization_create(coverage=coverage, by=actor, **data)
            messages.success(request, "Authorization recorded.")
            return redirect("billing:patient_authorizations", patient_id=patient_id)
    if action == "certification" and cert_form.is_valid():
        data = dict(cert_form.cleaned_data)
        episode = next(e for e in page.episodes if e.pk == data.pop("episode"))
        with refusals(request, cert_form):
            services.certification_create(episode=episode, by=actor, **data)
            messages.success(request, "Certification recorded.")
            return redirect("billing:patient_authorizations", patient_id=patient_id)
    charts = {
        s.row.pk: burndown_svg(
            s.forecast, title=f"Authorization {s.row.reference_number} burn-down"
        )
        for s in page.states
        if s.forecast is not None and not s.ended
    }
    return render(
        request,
        "billing/patient_authorizations.html",
        {
            "page": page,
            "patient": page.patient,
            "auth_form": auth_form,
            "cert_form": cert_form,
            "charts": charts,
            "warn_days": recertification_warn_days(),
        },
    )


def _initial(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields} | {"version": row.version}


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def authorization_edit(request: HttpRequest, authorization_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    auth = selectors.authorization_get(actor=actor, authorization_id=authorization_id)
    patient = auth.coverage.patient
    if patient is None:
        raise Http404("No patient")
    action = request.POST.get("action") if request.method == "POST" else None
    initial = _initial(auth, AUTH_EDIT) | {"service_codes": ", ".join(auth.service_codes)}
    form = AuthorizationEditForm(
        request.POST if action == "edit" else None, initial=initial, prefix="edit"
    )
    end_form = EndForm(
        request.POST if action == "end" else None,
        initial={"version": auth.version, "end_date": auth.end_date},
        prefix="end",
    )
    if action == "edit" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        with refusals(request, form):
            services.authorization_update(
                authorization=auth, expected_version=version, by=actor, **data
            )
            messages.success(request, "Authorization changed.")
            return redirect("billing:patient_authorizations", patient_id=patient.pk)
    if action == "end" and end_form.is_valid():
        data = end_form.cleaned_data
        with refusals(request, end_form):
            services.authorization_end(
                authorization=auth,
                end_date=data["end_date"],
                reason=data["end_reason"],
                expected_version=data["version"],
                by=actor,
            )
            messages.success(request, "Authorization ended.")
            return redirect("billing:patient_authorizations", patient_id=patient.pk)
    return render(
        request,
        "billing/authorization_edit.html",
        {"auth": auth, "patient": patient, "form": form, "end_form": end_form},
    )


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def certification_edit(request: HttpRequest, certification_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    cert = selectors.certification_get(actor=actor, certification_id=certification_id)
    patient = cert.episode.patient
    action = request.POST.get("action") if request.method == "POST" else None
    form = CertificationEditForm(
        request.POST if action == "edit" else None, initial=_initial(cert, CERT_EDIT), prefix="edit"
    )
    end_form = EndForm(
        request.POST if action == "end" else None,
        initial={"version": cert.version, "end_date": cert.end_date},
        prefix="end",
    )
    if action == "edit" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        with refusals(request, form):
            services.certification_update(
                certification=cert, expected_version=version, by=actor, **data
            )
            messages.success(request, "Certification changed.")
            return redirect("billing:patient_authorizations", patient_id=patient.pk)
    if action == "end" and end_form.is_valid():
        data = end_form.cleaned_data
        with refusals(request, end_form):
            services.certification_end(
                certification=cert,
                end_date=data["end_date"],
                reason=data["end_reason"],
                expected_version=data["version"],
                by=actor,
            )
            messages.success(request, "Certification ended.")
            return redirect("billing:patient_authorizations", patient_id=patient.pk)
    return render(
        request,
        "billing/certification_edit.html",
        {"cert": cert, "patient": patient, "form": form, "end_form": end_form},
    )


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def review_packet_pdf(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """GET: the form for the reason to continue; POST: store it and answer the packet as PDF."""
    actor = Actor.from_request(request)
    auth = selectors.authorization_get(
        actor=actor, authorization_id=authorization_id, cap=Cap.CLINICAL_VIEW
    )
    form = ReviewPacketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            packet = services.concurrent_review_print(
                authorization=auth,
                reason_to_continue=form.cleaned_data["reason_to_continue"],
                by=actor,
            )
            return pdf_response(
                request,
                "billing/review_packet_print.html",
                {"packet": packet},
                filename=f"concurrent-review-{auth.reference_number}.pdf",
            )
    return render(
        request,
        "billing/review_packet.html",
        {"auth": auth, "patient": auth.coverage.patient, "form": form},
    )
