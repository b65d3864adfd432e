"""`openiop pagecache_triggers [--check]`: install the triggers that count changes per site (run
after `migrate`), or check that they match the models (exit 1 naming each table that does not)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from openiop.core.cli import ProjectCommand
from openiop.pagecache import triggers


class Command(ProjectCommand):
    help = (
        "Install the page cache's counting triggers on every table a page can show (after "
        "migrate), or with --check report the tables whose triggers are missing or out of date."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Report, change nothing.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections))

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]

        def say(text: str) -> None:
            if options["verbosity"] > 0:
                self.stdout.write(text)

        if connections[using].vendor != "postgresql":
            say("Pages are cached on PostgreSQL only: no triggers on this database.")
            return
        if options["check"]:
            found = triggers.problems(using)
            if found:
                raise CommandError(
                    "The page cache's counting triggers do not match the models (the cache stays "
                    "off until they do); run `openiop pagecache_triggers`:\n  "
                    + "\n  ".join(found),
                    returncode=1,
                )
            say("The counting triggers match the models.")
            return
        with transaction.atomic(using=using):
            count = triggers.install(using)
        say(f"Counting triggers installed on {count} tables.")
        for line in triggers.problems(using):
            self.stderr.write(line)
