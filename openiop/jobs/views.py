"""The Jobs page: the background jobs (core.jobs) with status, attempts, error and progress."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.accounts.domain import Cap
from openiop.core.jobs import UNFINISHED
from openiop.jobs import selectors
from openiop.jobs.forms import JobSearchForm
from openiop.ui.views_support import paginate, staff_view


@staff_view(Cap.STAFF_MANAGE)
def job_list(request: HttpRequest) -> HttpResponse:
    """Recent jobs, searchable by name and status. While one is unfinished, htmx asks for the
    table again every few seconds (the `_jobs.html` fragment alone, for an htmx request)."""
    form = JobSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = paginate(
        request, selectors.job_search(query=data.get("q", ""), status=data.get("status", ""))
    )
    context = {
        "form": form,
        "page": page,
        "busy": any(job.status in UNFINISHED for job in page.object_list),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "jobs/_jobs.html", context)
    return render(request, "jobs/jobs.html", context)
