"""Drug and alcohol testing pages: a patient's tests with their trend (and the BAM use scale
beside it), one test with its result entry, the prescriber's flags and their responses, the lab
file import with its dry run, and the weekly random draw. Reads through selectors, every write
through one service."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.access import visible_sites
from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.drugtests import selectors, services
from openiop.drugtests.forms import (
    DrawForm,
    FlagResponseForm,
    LabImportForm,
    OrderForm,
    ResultForm,
)
from openiop.drugtests.models import FlagStatus, OrderStatus
from openiop.ui.views_support import paginate, refusals, staff_view

READ = Cap.DRUGTEST_VIEW


@staff_view(READ, patient_data=True)
def patient_tests(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    data = selectors.patient_tests(actor=actor, patient_id=patient_id)
    form = OrderForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            order = services.order_create(patient=data.patient, by=actor, **form.cleaned_data)
            messages.success(request, f"{order.get_kind_display()} ordered.")
            return redirect("drugtests:test", drug_test_id=order.pk)
    context = {
        "patient": data.patient,
        "data": data,
        "page": paginate(request, data.orders),
        "tz": data.patient.site.tz,
        "form": form,
        "can_record": request.user.can(Cap.DRUGTEST_RECORD),  # type: ignore[union-attr]
    }
    return render(request, "drugtests/patient.html", context)


@staff_view(READ, patient_data=True)
def test_detail(request: HttpRequest, drug_test_id: int) -> HttpResponse:
    """One test: its results and flags; the result entry form while it waits for them."""
    actor = Actor.from_request(request)
    order = selectors.order_get(actor=actor, order_id=drug_test_id)
    tz = order.episode.site.tz
    form = ResultForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        collected = d["collected_at"].replace(tzinfo=None).replace(tzinfo=tz)  # clinic time
        with refusals(request, form):
            flags = services.results_record(
                order=order,
                results=form.results(),
                validity=d["validity"],
                observed=d["observed"],
                collected_at=collected,
                by=actor,
            )
            messages.success(
                request,
                "Results recorded"
                + (f"; {len(flags)} for the prescriber to review." if flags else "."),
            )
            return redirect("drugtests:test", drug_test_id=order.pk)
    analyte_fields = [f for f in form if f.name.startswith("a_")]
    context = {
        "order": order,
        "patient": order.patient,
        "tz": tz,
        "form": form,
        "analyte_fields": analyte_fields,
        "awaiting": order.status == OrderStatus.ORDERED,
        "can_record": request.user.can(Cap.DRUGTEST_RECORD),  # type: ignore[union-attr]
    }
    return render(request, "drugtests/test.html", context)


@staff_view(READ, patient_data=True, cache=True)
def flag_list(request: HttpRequest) -> HttpResponse:
    """The results waiting for the prescriber's response (or answered ones), at every site the
    user sees or one of them, searchable, 25 a page."""
    actor = Actor.from_request(request)
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", FlagStatus.OPEN)
    if status not in FlagStatus.values:
        status = FlagStatus.OPEN
    sites = list(visible_sites(actor))
    site = next((s for s in sites if str(s.pk) == request.GET.get("site")), None)
    page = selectors.flag_page(
        actor=actor,
        q=q,
        status=status,
        site_id=site.pk if site else None,
        page=request.GET.get("page"),
    )
    return render(
        request,
        "drugtests/flags.html",
        {"page": page, "q": q, "status": status, "sites": sites, "site": site},
    )


@staff_view(READ, patient_data=True)
def flag_detail(request: HttpRequest, drug_test_flag_id: int) -> HttpResponse:
    """A flag and, for the prescriber while it is open, the response form."""
    actor = Actor.from_request(request)
    flag = selectors.flag_get(actor=actor, flag_id=drug_test_flag_id)
    form = FlagResponseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.flag_respond(flag=flag, by=actor, **form.cleaned_data)
            messages.success(request, "Response recorded.")
            return redirect("drugtests:flag", drug_test_flag_id=flag.pk)
    context = {
        "flag": flag,
        "order": flag.order,
        "patient": flag.order.patient,
        "tz": flag.order.episode.site.tz,
        "form": form,
        "can_respond": request.user.can(Cap.DRUGTEST_RESPOND),  # type: ignore[union-attr]
    }
    return render(request, "drugtests/flag.html", context)


@staff_view(Cap.DRUGTEST_RECORD)
def lab_import(request: HttpRequest) -> HttpResponse:
    """Upload a lab's CSV: a dry run reports every row (would post, refused and why); without the
    dry run the rows that pass are posted, each whole or not at all."""
    actor = Actor.from_request(request)
    sites = list(visible_sites(actor, for_new_work=True))
    form = LabImportForm(
        request.POST or None, request.FILES or None, sites=[(s.pk, s.name) for s in sites]
    )
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            name, text = form.text()
        except forms.ValidationError as exc:
            form.add_error("file", exc)
        else:
            site = next(s for s in sites if s.pk == form.cleaned_data["site"])
            with refusals(request, form):
                report = services.lab_import(
                    site=site,
                    text=text,
                    file_name=name,
                    dry_run=form.cleaned_data["dry_run"],
                    by=actor,
                )
    return render(request, "drugtests/import.html", {"form": form, "report": report})


@staff_view(Cap.DRUGTEST_RECORD)
def random_draw(request: HttpRequest) -> HttpResponse:
    """The week's random draw at a site (once a week), and the draws made before."""
    actor = Actor.from_request(request)
    page = selectors.draw_page(actor=actor, site_id=request.GET.get("site"))
    choices = [(s.pk, s.name) for s in page.sites]
    form = DrawForm(
        request.POST if request.method == "POST" else None,
        sites=choices,
        initial={"site": page.site.pk if page.site else None},
    )
    if request.method == "POST" and form.is_valid():
        site = next(s for s in page.sites if s.pk == form.cleaned_data["site"])
        with refusals(request, form):
            draw = services.random_draw_run(
                site=site,
                week=local_today(site.tz),
                rate=form.cleaned_data["rate"] / Decimal(100),
                by=actor,
            )
            messages.success(
                request,
                f"Drawn {len(draw.drawn)} of {len(draw.population)}: their tests are ordered.",
            )
            return redirect(f"{request.path}?site={site.pk}")
    return render(request, "drugtests/draw.html", {"data": page, "form": form})
