"""`openiop expire_submissions`: delete used form tokens older than a day (run by `periodic`)."""

from __future__ import annotations

from typing import Any

from openiop.core.cli import ProjectCommand
from openiop.core.submissions import MAX_AGE, expire


class Command(ProjectCommand):
    help = f"Delete used form tokens older than {MAX_AGE} (a form sent again after that saves)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = expire()
        self.stdout.write(f"{count} used form token(s) expired.")
