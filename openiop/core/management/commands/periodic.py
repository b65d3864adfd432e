"""`openiop periodic`: put the clinic's periodic jobs (core.jobs.PERIODIC) on the task queue.

`openiop worker` already does this between tasks, so with the database queue this command is only
needed for `--once`: enqueue every periodic job now and run the queue until it is empty (for cron,
a systemd timer, or a test). Without `--once` it loops, enqueueing jobs when due, for a task
backend whose workers do not schedule (Redis/RQ).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandParser

from openiop.core.cli import ProjectCommand
from openiop.core.jobs import enqueue_due, run_queued
from openiop.core.models import Job, JobStatus


class Command(ProjectCommand):
    help = (
        "Enqueue periodic jobs (safety-alert escalation, used form tokens) when due, in a loop; "
        "or all of them once and run them with --once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="enqueue every periodic job, run them, and exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            jobs = enqueue_due(force=True)
            run_queued()
            failed = []
            for job in Job.objects.filter(pk__in=[j.pk for j in jobs]).order_by("pk"):
                self.stdout.write(f"{job.name}: {job.get_status_display()}. {job.outcome}")
                if job.status != JobStatus.SUCCEEDED:
                    self.stderr.write(f"{job.name} failed: {job.error}")
                    failed.append(job.name)
            if failed:
                raise SystemExit(1)
            return
        while True:
            for job in enqueue_due():
                self.stdout.write(f"Enqueued {job.name} (due).")
            time.sleep(5)
