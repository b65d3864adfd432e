"""Remittance pages: import an 835 and read its report, the denial worklist, the unmatched
queue. Every write goes through billing.services.remittances; every read through
billing.selectors_remittances (access and audit there)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.domain import Cap
from openiop.billing import selectors_remittances as selectors
from openiop.billing import services
from openiop.billing.choices_remittances import DenialStatus, UnmatchedStatus
from openiop.billing.forms_remittances import (
    DenialWorkForm,
    RemittanceUploadForm,
    UnmatchedResolveForm,
)
from openiop.core.actor import Actor
from openiop.ui.views_support import paginate, refusals, staff_view


@staff_view(Cap.REVENUE_MANAGE)
def remittance_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = RemittanceUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            name, text = form.text()
        except forms.ValidationError as exc:
            form.add_error("file", exc)
        else:
            with refusals(request, form):
                result = services.remittance_import(by=actor, name=name, text=text)
                messages.success(request, result.sentence)
                return redirect("billing:remittance", remittance_id=result.remittance.pk)
    search = request.GET.get("q", "")[:100]
    page = paginate(request, selectors.remittances(actor=actor, search=search))
    return render(request, "billing/remittances.html", {"form": form, "page": page, "q": search})


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def remittance_detail(request: HttpRequest, remittance_id: int) -> HttpResponse:
    remittance, claims, report = selectors.remittance_get(
        actor=Actor.from_request(request), remittance_id=remittance_id
    )
    return render(
        request,
        "billing/remittance.html",
        {"remittance": remittance, "claims": claims, "report": report},
    )


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def denial_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:100]
    status = request.GET.get("status", DenialStatus.OPEN)
    page = selectors.denial_page(
        actor=Actor.from_request(request),
        search=search,
        status=status,
        page=request.GET.get("page"),
    )
    return render(
        request,
        "billing/denials.html",
        {"page": page, "q": search, "status": status, "statuses": DenialStatus.choices},
    )


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def denial_work(request: HttpRequest, denial_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    item = selectors.denial_get(actor=actor, denial_id=denial_id)
    form = DenialWorkForm(
        request.POST or None,
        initial={"status": item.status, "version": item.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        item.version = data["version"]
        with refusals(request, form):
            services.denial_work(
                by=actor,
                item=item,
                status=data["status"],
                note=data["note"],
                next_action=data["next_action"],
                take=data["take"],
                write_off=data["write_off"],
            )
            messages.success(
                request,
                f"Denial closed; {item.written_off} written off."
                if data["write_off"]
                else "Denial updated.",
            )
            return redirect("billing:denials")
    return render(request, "billing/denial_work.html", {"item": item, "form": form})


@staff_view(Cap.REVENUE_MANAGE)
def unmatched_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:100]
    status = request.GET.get("status", UnmatchedStatus.OPEN)
    items = selectors.unmatched_items(
        actor=Actor.from_request(request), search=search, status=status
    )
    return render(
        request,
        "billing/unmatched.html",
        {
            "page": paginate(request, items),
            "q": search,
            "status": status,
            "statuses": UnmatchedStatus.choices,
        },
    )


@staff_view(Cap.REVENUE_MANAGE)
def unmatched_resolve(request: HttpRequest, unmatched_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    item = selectors.unmatched_get(actor=actor, item_id=unmatched_id)
    form = UnmatchedResolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            claim, line = selectors.claim_by_number(
                actor=actor,
                patient_control_number=form.cleaned_data["claim_number"],
                line_number=form.cleaned_data["line_number"],
            )
            result = services.unmatched_resolve(by=actor, item=item, claim=claim, line=line)
            messages.success(request, result.sentence)
            return redirect("billing:remittance", remittance_id=item.remittance_id)
    return render(request, "billing/unmatched_resolve.html", {"item": item, "form": form})
