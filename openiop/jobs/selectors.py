"""Reads for the Jobs page (no patient data: the background jobs)."""

from __future__ import annotations

from django.db.models import QuerySet

from openiop.core.models import Job


def job_search(*, query: str = "", status: str = "") -> QuerySet[Job]:
    """The background jobs, newest first, whose name contains `query`, with `status` if given."""
    jobs = Job.objects.all()
    if query:
        jobs = jobs.filter(name__icontains=query)
    if status:
        jobs = jobs.filter(status=status)
    return jobs
