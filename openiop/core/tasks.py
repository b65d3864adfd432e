"""Background jobs of the core app (run by `openiop worker`; scheduled in core.jobs.PERIODIC)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from openiop.core import submissions
from openiop.core.jobs import UNFINISHED, job, report_progress, worker_lease
from openiop.core.models import Job, WorkerHeartbeat

# A finished job is kept this long on the Jobs page (and its attempts in the queue's table).
JOB_KEEP = dt.timedelta(days=30)
PRUNE_BATCH = 500


@job(max_attempts=3)
def expire_submissions() -> str:
    """Delete used form tokens older than a day (core.submissions.expire, as `openiop
    expire_submissions` does); returns how many, as a sentence."""
    return f"{submissions.expire()} used form token(s) expired."


@job(max_attempts=3)
def prune_jobs() -> str:
    """Delete finished jobs, and the queue's finished attempts, older than JOB_KEEP, a batch at a
    time with progress, and the heartbeats of workers silent for longer than the lease (their
    tasks are taken back all the same: core.jobs.recover_lost); returns how many jobs, as a
    sentence."""
    now = timezone.now()
    WorkerHeartbeat.objects.filter(seen_at__lt=now - worker_lease()).delete()
    cutoff = now - JOB_KEEP
    old = Job.objects.exclude(status__in=UNFINISHED).filter(enqueued_at__lt=cutoff)
    total = old.count()
    done = 0
    report_progress(0, total, "old jobs deleted")
    while ids := list(old.values_list("pk", flat=True)[:PRUNE_BATCH]):
        done += Job.objects.filter(pk__in=ids).delete()[0]
        report_progress(done, total, "old jobs deleted")
    DBTaskResult.objects.filter(
        Q(status__in=["SUCCESSFUL", "FAILED"]), finished_at__lt=cutoff
    ).delete()
    return f"{done} finished job(s) older than {JOB_KEEP.days} days deleted."
