"""`openiop mfa_reset USERNAME --as ADMINUSERNAME`: reset a staff member's two-factor.

Their authenticator and recovery codes are removed and their sessions end; they enrol a new
authenticator at their next login. The acting administrator needs staff management and cannot
reset their own account. Audited as that administrator on the cli channel.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from openiop.accounts.mfa import mfa_reset
from openiop.accounts.models import User
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError


class Command(ProjectCommand):
    help = "Reset a staff member's two-factor (they enrol again at their next login)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--as", dest="acting", required=True, help="The administrator acting")

    def handle(self, *args: Any, **options: Any) -> None:
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[options["username"], options["acting"]])
        }
        for name in (options["username"], options["acting"]):
            if name not in users:
                raise CommandError(f"No staff account is named '{name}'.", returncode=2)
        try:
            mfa_reset(
                user=users[options["username"]],
                by=Actor.cli(users[options["acting"]], f"mfa_reset {options['username']}"),
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(
            f"Reset two-factor for {options['username']}: they enrol at their next login."
        )
