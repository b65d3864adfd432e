"""`openiop charges post --period 2026-10 --as USERNAME [--site NAME]`: post a month's charges.

Runs `billing.services.charges_post` as the --as user (their role and sites apply; the posting is
audited under their name, channel "cli"): at the named site, or at every site they may see.
Running it again posts only what changed (adjustments), nothing when nothing did. Prints the
counts. A bad period, an unknown user or site, or a refusal: a message and exit code 2.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from django.core.management.base import CommandError, CommandParser

from openiop.accounts.models import User
from openiop.billing.services import charges_post
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError
from openiop.programs.models import Site

PERIOD = re.compile(r"(\d{4})-(\d{2})")


def month_period(text: str) -> tuple[dt.date, dt.date]:
    """'2026-10' -> (2026-10-01, 2026-10-31). Raises ValueError saying what is wrong."""
    match = PERIOD.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text[:40]!r} is not a month (YYYY-MM, e.g. 2026-10).")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValueError(f"{text[:40]!r} is not a month from 2000-01 to 2100-12.")
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


class Command(ProjectCommand):
    help = "Post charges from attendance for a month (openiop charges post --period 2026-10)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        post = sub.add_parser("post", help="post a month's charges from attendance")
        post.add_argument("--period", required=True, help="The month, YYYY-MM (e.g. 2026-10)")
        post.add_argument(
            "--as", dest="username", required=True, help="Staff username whose access applies"
        )
        post.add_argument("--site", default=None, help="Site name (default: every site you see)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start, end = month_period(options["period"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        username: str = options["username"]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff user named '{username[:40]}'.", returncode=2)
        site = None
        if options["site"] is not None:
            sites = Site.objects.filter(name=options["site"])
            if user.organization_id:
                sites = sites.filter(organization_id=user.organization_id)
            site = sites.select_related("organization").first()
            if site is None:
                raise CommandError(f"No site is named '{options['site'][:80]}'.", returncode=2)
        command = f"charges post --period {options['period']} --as {username}"
        if site is not None:
            command += f" --site {site.name}"
        try:
            result = charges_post(
                by=Actor.cli(user, command), period_start=start, period_end=end, site=site
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(result.sentence)
