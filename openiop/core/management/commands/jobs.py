"""`openiop jobs`: the background jobs, from the command line.

    openiop jobs list                    the most recent jobs, with status, attempts and error
                                         ([worker lost xN]: attempts taken back from a worker
                                         that stopped responding)
    openiop jobs run prune_jobs --wait   queue a job by name and show its progress until it ends

`run` only queues: a worker (`openiop worker`, started by `make run`) runs it. With `--wait` the
command prints a progress bar until the job ends, and exits 1 when it failed.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.module_loading import import_string

from openiop.core.cli import ProjectCommand, whole_number
from openiop.core.jobs import RUNNABLE, UNFINISHED, enqueue, progress_bar
from openiop.core.models import Job, JobStatus

POLL_SECONDS = 0.5


def pause(seconds: float) -> None:
    """Wait between two looks at a job (a seam for tests, which run the queue here instead)."""
    time.sleep(seconds)


class Command(ProjectCommand):
    help = "List background jobs, or queue one by name (and wait for it with a progress bar)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the most recent jobs")
        listing.add_argument("--limit", type=whole_number(1, 1000), default=20)
        run = sub.add_parser("run", help="queue a job by name")
        run.add_argument("name", help=f"one of: {', '.join(sorted(RUNNABLE))}")
        run.add_argument("--wait", action="store_true", help="show its progress until it ends")
        run.add_argument(
            "--timeout",
            type=whole_number(1, 7 * 24 * 3600),
            default=None,
            help="with --wait: give up waiting after this many seconds (exit 3)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self.list_jobs(options["limit"])
            return
        name = options["name"]
        if name not in RUNNABLE:
            raise CommandError(
                f"No job named {name[:40]!r}; choose one of: {', '.join(sorted(RUNNABLE))}.",
                returncode=2,
            )
        job = enqueue(import_string(RUNNABLE[name]))
        self.stdout.write(f"Queued {job.name} (job {job.pk}).")
        if options["wait"]:
            self.wait(job, options["timeout"])

    def list_jobs(self, limit: int) -> None:
        jobs = list(Job.objects.all()[:limit])
        if not jobs:
            self.stdout.write("No jobs yet.")
        for job in jobs:
            line = (
                f"{job.pk:>6}  {job.enqueued_at:%Y-%m-%d %H:%M}  {job.name:<22} "
                f"{job.get_status_display():<17} attempt {job.attempts}/{job.max_attempts}"
            )
            if job.workers_lost:
                line += f"  [worker lost x{job.workers_lost}]"
            if job.error:
                line += f"  {job.error.splitlines()[0][:80]}"
            self.stdout.write(line)

    def wait(self, job: Job, timeout: int | None) -> None:
        started = time.monotonic()
        shown = ""
        while True:
            job.refresh_from_db()
            line = f"{job.name} {progress_bar(job.progress_done, job.progress_total)}"
            if job.status in UNFINISHED:
                line += f" {job.get_status_display().lower()}"
            if line != shown:
                # Spaces cover what is left of a longer line before it.
                self.stdout.write(f"\r{line.ljust(len(shown))}", ending="")
                self.stdout.flush()
                shown = line
            if job.status not in UNFINISHED:
                break
            if timeout is not None and time.monotonic() - started > timeout:
                self.stdout.write("")
                raise CommandError(
                    f"Stopped waiting after {timeout} s; job {job.pk} is still "
                    f"{job.get_status_display().lower()}.",
                    returncode=3,
                )
            pause(POLL_SECONDS)
        self.stdout.write("")
        if job.status == JobStatus.FAILED:
            raise CommandError(
                f"{job.name} failed after {job.attempts} attempt(s): {job.error}", returncode=1
            )
        self.stdout.write(f"{job.name} succeeded. {job.outcome}")
