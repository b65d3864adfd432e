"""Import pages: upload a file (its dry run), read the row-by-row report, confirm the import or
discard the file. Every write goes through imports.services; every read through
imports.selectors (access and audit there). The file stays on the server between the steps: the
URL carries only the import's number."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from openiop.accounts.access import visible_sites
from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.imports import selectors, services, tasks
from openiop.imports.forms import ReportSearchForm, UploadForm
from openiop.ui.views_support import PAGE_SIZE, paginate, refusals, staff_view


@staff_view(Cap.PATIENT_EDIT)
def import_list(request: HttpRequest) -> HttpResponse:
    """The upload form and the files kept at the user's sites (names, counts: no patient data;
    the upload's dry run audits the patients it matched)."""
    actor = Actor.from_request(request)
    sites = [(s.pk, s.name) for s in visible_sites(actor, for_new_work=True)]
    form = UploadForm(request.POST or None, request.FILES or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            name, text = form.text()
        except forms.ValidationError as exc:
            form.add_error("file", exc)
        else:
            site = next(s for s in visible_sites(actor) if s.pk == form.cleaned_data["site"])
            with refusals(request, form):
                batch, report = services.batch_upload(
                    site=site,
                    file_name=name,
                    text=text,
                    source_name=form.cleaned_data["source_name"],
                    by=actor,
                )
                messages.success(request, report.sentence)
                return redirect("imports:detail", batch_id=batch.pk)
    page = paginate(request, selectors.batch_list(actor=actor))
    return render(request, "imports/imports.html", {"form": form, "page": page})


@staff_view(Cap.PATIENT_EDIT, patient_data=True)
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The report row by row (searchable, paginated) and, after a clean dry run, the confirm."""
    batch = selectors.batch_get(actor=Actor.from_request(request), batch_id=batch_id)
    search = ReportSearchForm(request.GET or None)
    data = search.cleaned_data if search.is_valid() else {}
    rows = selectors.report_rows(batch, search=data.get("q", ""), outcome=data.get("outcome", ""))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = {
        k: sum(1 for r in batch.report if r.get("outcome") == k)
        for k in ("create", "merge", "refuse")
    }
    context = {
        "batch": batch,
        "search": search,
        "page": page,
        "counts": counts,
        "background": len(batch.report) > services.INLINE_ROWS,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "imports/_status.html", context)
    return render(request, "imports/batch.html", context)


@staff_view(Cap.PATIENT_EDIT, patient_data=True)
def import_confirm(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Import a kept file: inline when small, on the background queue when large."""
    actor = Actor.from_request(request)
    batch = selectors.batch_get(actor=actor, batch_id=batch_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with refusals(request, flash=True):
        if len(batch.report) > services.INLINE_ROWS:
            tasks.batch_queue(batch=batch, by=actor)
            messages.success(request, "The import runs in the background; this page follows it.")
        else:
            report = services.batch_apply(batch=batch, by=actor)
            if report is None:
                messages.error(request, f"{batch.summary} Fix the file and upload it again.")
            else:
                messages.success(request, report.sentence)
    return redirect("imports:detail", batch_id=batch_id)


@staff_view(Cap.PATIENT_EDIT, patient_data=True)
def import_discard(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Forget a kept file (its text is cleared)."""
    actor = Actor.from_request(request)
    batch = selectors.batch_get(actor=actor, batch_id=batch_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with refusals(request, flash=True):
        services.batch_discard(batch=batch, by=actor)
        messages.success(request, "The file is discarded; nothing was imported.")
    return redirect("imports:list")
