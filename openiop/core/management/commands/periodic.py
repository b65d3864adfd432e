"""`openiop periodic`: run the commands a clinic needs on a timer, without cron.

Each entry of PERIODIC is a management command and its interval in seconds. The loop runs each one
when it is due, reports failures and keeps going (a failed run is retried at its next turn).
`--once` runs every entry once and exits (for cron, a systemd timer, or a test). `make run` starts
the loop beside the web server, so a demo's safety alerts escalate on their own.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser

from openiop.core.cli import ProjectCommand

# Safety alerts left unacknowledged must reach the director within the site's escalation time
# (60 minutes by default), so checking every minute keeps the delay small against it.
# A form's used token is kept a day (openiop.core.submissions); hourly deletion is plenty.
PERIODIC: tuple[tuple[str, int], ...] = (("escalate_alerts", 60), ("expire_submissions", 3600))


class Command(ProjectCommand):
    help = (
        "Run periodic tasks (safety-alert escalation, used form tokens) in a loop, "
        "or once with --once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every task once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        due = {name: 0.0 for name, _ in PERIODIC}
        while True:
            for name, every in PERIODIC:
                if time.monotonic() < due[name]:
                    continue
                due[name] = time.monotonic() + every
                try:
                    call_command(name, stdout=self.stdout, stderr=self.stderr)
                except Exception as exc:  # keep the loop alive; the next turn retries
                    self.stderr.write(f"{name} failed: {exc}")
                    if options["once"]:
                        raise
            if options["once"]:
                return
            time.sleep(5)
