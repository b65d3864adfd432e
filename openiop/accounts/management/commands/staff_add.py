"""`openiop staff_add USERNAME --role ROLE [--site NAME ...]`: create a staff account.

The password is read from standard input (one line), so it never lands in shell history.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError

from openiop.accounts.services import staff_create
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError
from openiop.programs.models import Site


class Command(ProjectCommand):
    help = "Create a staff account (password from standard input)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True)
        parser.add_argument(
            "--site", action="append", default=[], help="Site name (repeat for several)"
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--credentials", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        sites = []
        for name in options["site"]:
            site = Site.objects.select_related("organization").filter(name=name).first()
            if site is None:
                raise CommandError(f"No site is named '{name}'.", returncode=2)
            sites.append(site)
        password = sys.stdin.readline().rstrip("\n")
        try:
            user = staff_create(
                username=options["username"],
                role=options["role"],
                password=password,
                first_name=options["first_name"],
                last_name=options["last_name"],
                credentials=options["credentials"],
                organization=sites[0].organization if sites else None,
                sites=sites,
                by=Actor.cli(None, f"staff_add {options['username']}"),
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(f"Created {user.username} ({user.role_label}).")
