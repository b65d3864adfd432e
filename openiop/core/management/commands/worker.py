"""`openiop worker`: run the background jobs on the task queue, and put periodic jobs on it when due.

Start as many as you like, on as many machines as share the database: each task is claimed by one
worker (a locked row), and each periodic job is enqueued once (core.jobs.enqueue_due). Stopped with
Ctrl+C or SIGTERM, a worker finishes the task it is running; tasks still queued wait in the
database for the next worker. `--batch` runs what is ready, then exits (cron, tests).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.crypto import get_random_string

from openiop.core.cli import ProjectCommand
from openiop.core.jobs import database_worker, enqueue_due


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
        worker_id = f"{socket.gethostname()[:40]}-{get_random_string(8)}"
        try:
            worker = database_worker(worker_id=worker_id)
        except LookupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if not options["batch"]:
            # Ctrl+C or SIGTERM: finish the running task, then stop (a second one stops at once).
            worker.configure_signals()
        self.stdout.write(f"Worker {worker_id} started.")
        while worker.running:
            if not options["no_schedule"]:
                for job in enqueue_due():
                    self.stdout.write(f"Enqueued {job.name} (due).")
            worker.run()  # every ready task, then back here
            if options["batch"]:
                return
            time.sleep(options["interval"])
