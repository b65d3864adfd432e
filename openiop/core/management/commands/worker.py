"""`openiop worker`: run the background jobs on the task queue, and put periodic jobs on it when due.

Start as many as you like, on as many machines as share the database: each task is claimed by one
worker (a locked row), and each periodic job is enqueued once (core.jobs.enqueue_due). Stopped with
Ctrl+C or SIGTERM, a worker finishes the task it is running; tasks still queued wait in the
database for the next worker. `--batch` runs what is ready, then exits (cron, tests).

A worker beats (a heartbeat row, kept fresh every quarter of the lease by a thread, while a task
runs too). A worker that stops beating (killed, out of memory, its machine gone) loses its running
task after the lease (settings.OPENIOP_WORKER_LEASE_SECONDS, 60 s by default) to any other worker,
which queues it again if its attempts allow, else fails it (core.jobs.recover_lost).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from openiop.core.cli import ProjectCommand
from openiop.core.jobs import Heartbeat, database_worker, enqueue_due, new_worker_id


class Command(ProjectCommand):
    help = "Run background jobs from the task queue (and enqueue periodic ones when due)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run what is ready, then exit")
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="do not enqueue periodic jobs (another worker or `openiop periodic` does)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait when the queue is empty (default 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["interval"] <= 3600:
            raise CommandError("--interval must be from 0 to 3600 seconds.", returncode=2)
        worker_id = new_worker_id()
        try:
            worker = database_worker(worker_id=worker_id)
        except LookupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if not options["batch"]:
            # Ctrl+C or SIGTERM: finish the running task, then stop (a second one stops at once).
            worker.configure_signals()
        self.stdout.write(f"Worker {worker_id} started.")
        with Heartbeat(worker_id, report=self.stdout.write):
            while worker.running:
                if not options["no_schedule"]:
                    for job in enqueue_due():
                        self.stdout.write(f"Enqueued {job.name} (due).")
                worker.run()  # every ready task, then back here
                if options["batch"]:
                    return
                time.sleep(options["interval"])
