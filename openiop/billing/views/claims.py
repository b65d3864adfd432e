"""Claim pages: the billing worklist (/billing/) with its tabs, a claim with its lines, edits,
history and actions, and the download of an 837 file written. Reads go through
billing.selectors_claims, writes through billing.services; DomainErrors reach the user through
`refusals` (never caught here otherwise)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.accounts.access import pick_site
from openiop.accounts.domain import Cap
from openiop.billing import selectors, selectors_claims, services
from openiop.billing.forms_claims import BuildForm, ChargePostForm, ClaimActionForm
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.programs.selectors import visible_sites
from openiop.ui.views_support import paginate, refusals, staff_view

TABS = (
    ("unbilled", "Unbilled"),
    ("charges", "Charges"),
    ("draft", "Draft"),
    ("ready", "Ready"),
    ("submitted", "Submitted"),
    ("denied", "Denied and rejected"),
    ("aging", "A/R aging"),
)
UNBILLED_DAYS = 92  # the unbilled tab shows about a quarter back


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def worklist(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    sites = list(visible_sites(actor=actor))
    site = pick_site(actor, sites, request.GET.get("site") or request.POST.get("site"))
    tab = request.GET.get("tab", "draft")
    if tab not in dict(TABS):
        tab = "draft"
    search = request.GET.get("q", "")[:100]
    posting = request.method == "POST" and request.POST.get("action") == "post_charges"
    build_form = BuildForm(None if posting else (request.POST or None))
    today_here = local_today(site.tz) if site is not None else None
    post_form = ChargePostForm(
        request.POST if posting else None,
        initial={
            "period_start": today_here.replace(day=1) if today_here else None,
            "period_end": today_here - dt.timedelta(days=1) if today_here else None,
        },
    )
    context: dict[str, Any] = {
        "sites": sites,
        "site": site,
        "tab": tab,
        "tabs": TABS,
        "q": search,
        "build_form": build_form,
        "post_form": post_form,
        "page": None,
        "aging": None,
        "exports": [],
    }
    if site is None:
        return render(request, "billing/claims_worklist.html", context)
    here = f"{reverse('billing:worklist')}?site={site.pk}"
    if request.method == "POST" and request.POST.get("action") == "export":
        with refusals(request, flash=True):
            result = services.claims_export(by=actor, site=site)
            messages.success(request, result.sentence)
        return redirect(f"{here}&tab=submitted")
    if posting and post_form.is_valid():
        with refusals(request, post_form):
            posted = services.charges_post(
                by=actor,
                period_start=post_form.cleaned_data["period_start"],
                period_end=post_form.cleaned_data["period_end"],
                site=site,
            )
            messages.success(request, posted.sentence)
            return redirect(f"{here}&tab=charges")
    if request.method == "POST" and not posting and build_form.is_valid():
        start, end = build_form.cleaned_data["period"]
        with refusals(request, build_form):
            built = services.claims_build(by=actor, period_start=start, period_end=end, site=site)
            messages.success(request, built.sentence)
            for count, reason in built.not_built:
                messages.warning(request, f"{count} charge(s) left off: {reason}.")
            return redirect(f"{here}&tab=draft")
    today = local_today(site.tz)
    if tab == "unbilled":
        rows = selectors.site_unbilled_days(
            actor=actor,
            site_id=site.pk,
            period_start=today - dt.timedelta(days=UNBILLED_DAYS),
            period_end=today,
        )
        context["page"] = paginate(request, rows)
    elif tab == "charges":
        context["page"] = selectors_claims.charges_page(
            actor=actor, site_id=site.pk, search=search, page_number=request.GET.get("page")
        )
    elif tab == "aging":
        context["aging"] = selectors_claims.claims_aging(actor=actor, site_id=site.pk, as_of=today)
    else:
        context["page"] = selectors_claims.claims_page(
            actor=actor,
            site_id=site.pk,
            tab=tab,
            search=search,
            page_number=request.GET.get("page"),
        )
    if tab in ("ready", "submitted"):
        context["exports"] = list(selectors_claims.site_exports(actor=actor, site_id=site.pk))
    return render(request, "billing/claims_worklist.html", context)


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    form = ClaimActionForm(request.POST or None)
    confirming = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        action, version = data["action"], data["version"]
        with refusals(request, flash=True):
            if action in ("replacement", "void") and not data["confirm"]:
                confirming = action
            elif action in ("replacement", "void"):
                new = services.claim_correct(
                    by=actor, claim_id=claim_id, kind=action, expected_version=version
                )
                messages.success(request, f"A {action} was made as a new draft claim.")
                return redirect("billing:claim", claim_id=new.pk)
            elif action == "ready":
                services.claim_mark_ready(by=actor, claim_id=claim_id, expected_version=version)
                messages.success(request, "The claim is ready to send.")
            elif action == "scrub":
                services.claim_scrub(by=actor, claim_id=claim_id)
                messages.success(request, "The claim was scrubbed again.")
            elif action == "reopen":
                services.claim_reopen(by=actor, claim_id=claim_id, expected_version=version)
                messages.success(request, "The claim is a draft again.")
            else:
                result = services.claims_export(by=actor, claim_ids=[claim_id])
                messages.success(request, result.sentence)
                if result.exports:
                    return redirect("billing:claim_file", export_id=result.exports[0].pk)
            if not confirming:
                return redirect("billing:claim", claim_id=claim_id)
    claim = selectors_claims.claim_get(actor=actor, claim_id=claim_id)
    payments = selectors_claims.line_payments(
        list(claim.lines.all()), list(claim.remittance_postings.all()), list(claim.denials.all())
    )
    return render(
        request,
        "billing/claim.html",
        {"claim": claim, "form": form, "confirming": confirming, "payments": payments},
    )


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def claim_file(request: HttpRequest, export_id: int) -> HttpResponse:
    export = selectors_claims.claim_export_get(
        actor=Actor.from_request(request), export_id=export_id
    )
    response = HttpResponse(export.content, content_type="application/edi-x12")
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    return response
