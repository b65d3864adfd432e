"""`openiop remittances import FILE --as USERNAME`: import an 835 remittance file.

Runs `billing.services.remittances.remittance_import` as the --as user (their role and sites
apply; the import is audited under their name, channel "cli") and prints its report line by
line: what it posted, what it could not post (the unmatched queue) and what does not add up.
A file that cannot be read, is not an 835, was imported already, an unknown user or a refusal:
a message and exit code 2, nothing posted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from openiop.accounts.models import User
from openiop.billing.services.remittances import MAX_FILE_CHARS, remittance_import
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError


class Command(ProjectCommand):
    help = "Import an 835 remittance file (openiop remittances import FILE --as USER)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import an 835 file and print what it posted")
        imp.add_argument("file", help="The 835 file")
        imp.add_argument(
            "--as", dest="username", required=True, help="Staff username whose access applies"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff user named '{username[:40]}'.", returncode=2)
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_FILE_CHARS * 4:
                raise CommandError(f"{path.name} is too large for one remittance.", returncode=2)
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}", returncode=2) from exc
        command = f"remittances import {path.name} --as {username}"
        try:
            result = remittance_import(by=Actor.cli(user, command), name=path.name, text=text)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        for number, (outcome, line) in enumerate(result.report, start=1):
            self.stdout.write(f"{number:>4}. [{outcome}] {line}")
        self.stdout.write(result.sentence)
