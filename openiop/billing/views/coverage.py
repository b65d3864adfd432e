"""Billing pages: payers, an inquiry's coverages and benefits checks, self-pay cost estimates.

Coverages and estimates are reached from the admissions inquiry page and lead back to it.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.domain import Cap
from openiop.admissions import selectors as admissions_selectors
from openiop.billing import selectors, services
from openiop.billing.forms import CoverageForm, EstimateForm, PayerForm, VerificationForm
from openiop.billing.models import Payer
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.programs.selectors import visible_sites
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import paginate, refusals, staff_view


def _org_id(actor: Actor) -> int:
    user = actor.user
    assert user is not None
    if user.organization_id:
        return int(user.organization_id)
    site = visible_sites(actor=actor).first()
    if site is None:
        raise Http404("No organization")
    return int(site.organization_id)


@staff_view(Cap.BENEFITS_MANAGE)
def payer_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    org_id = _org_id(actor)
    form = PayerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.payer_create(organization_id=org_id, by=actor, **form.cleaned_data)
            messages.success(request, "Payer added.")
            return redirect("billing:payers")
    search = request.GET.get("q", "")[:100]
    page = paginate(request, selectors.payers(actor=actor, organization_id=org_id, search=search))
    return render(request, "billing/payers.html", {"form": form, "page": page, "q": search})


@staff_view(Cap.BENEFITS_MANAGE, patient_data=True)
def coverage_new(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = admissions_selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.BENEFITS_MANAGE, purpose="coverage_new"
    )
    payers = Payer.objects.filter(organization_id=inquiry.organization_id, is_active=True)
    form = CoverageForm(request.POST or None, payers=payers)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        payer = data.pop("payer")
        with refusals(request, form):
            services.coverage_add(inquiry=inquiry, payer=payer, by=actor, **data)
            messages.success(request, "Coverage added.")
            return redirect("admissions:inquiry", inquiry_id=inquiry.pk)
    return render(request, "billing/coverage_new.html", {"form": form, "inquiry": inquiry})


@staff_view(Cap.BENEFITS_MANAGE, patient_data=True)
def verify(request: HttpRequest, coverage_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    coverage = selectors.coverage_get(actor=actor, coverage_id=coverage_id)
    form = VerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.benefits_verify(coverage=coverage, by=actor, **form.values())
            messages.success(request, "Benefits verification recorded.")
            return redirect("admissions:inquiry", inquiry_id=coverage.inquiry_id)
    return render(
        request,
        "billing/verify.html",
        {"form": form, "coverage": coverage, "inquiry": coverage.inquiry},
    )


@staff_view(Cap.BENEFITS_MANAGE, patient_data=True)
def estimate_new(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = admissions_selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.BENEFITS_MANAGE, purpose="estimate_new"
    )
    form = EstimateForm(request.POST or None, initial={"first_date": local_today(inquiry.site.tz)})
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            estimate = services.estimate_prepare(inquiry=inquiry, by=actor, **form.cleaned_data)
            return redirect("billing:estimate", estimate_id=estimate.pk)
    return render(request, "billing/estimate_new.html", {"form": form, "inquiry": inquiry})


@staff_view(Cap.BENEFITS_MANAGE, patient_data=True)
def estimate_detail(request: HttpRequest, estimate_id: int) -> HttpResponse:
    estimate = selectors.estimate_get(actor=Actor.from_request(request), estimate_id=estimate_id)
    return render(
        request, "billing/estimate.html", {"estimate": estimate, "inquiry": estimate.inquiry}
    )


@staff_view(Cap.BENEFITS_MANAGE, patient_data=True)
def estimate_pdf(request: HttpRequest, estimate_id: int) -> HttpResponse:
    estimate = selectors.estimate_get(actor=Actor.from_request(request), estimate_id=estimate_id)
    return pdf_response(
        request,
        "billing/estimate_print.html",
        {"estimate": estimate, "inquiry": estimate.inquiry},
        filename=f"cost-estimate-{estimate.pk}.pdf",
    )
