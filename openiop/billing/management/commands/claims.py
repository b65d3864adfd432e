"""`openiop claims build --period 2026-10 [--site NAME] --as USERNAME`: build draft claims from a
month's open charges; `openiop claims export --format x12 --out DIR [--site NAME] --as USERNAME`:
write the ready claims as 837I/837P interchanges into DIR and mark them submitted.

Both run billing.services.claims as the --as user (their role and sites apply; audited under
their name, channel "cli"), at the named site or at every site they may see, with a progress bar
on stderr site by site. A bad period, format or directory, an unknown user or site, or a refusal:
a message and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from openiop.accounts.models import User
from openiop.billing.management.commands.charges import month_period
from openiop.billing.services import claims_build, claims_export
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError
from openiop.core.jobs import progress_bar
from openiop.programs.models import Site


class Command(ProjectCommand):
    help = "Build claims from a month's charges, or export the ready claims as X12 837 files."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="build draft claims from a month's open charges")
        build.add_argument("--period", required=True, help="The month, YYYY-MM (e.g. 2026-10)")
        export = sub.add_parser("export", help="write the ready claims as 837 interchanges")
        export.add_argument("--format", required=True, help="x12 (the only format)")
        export.add_argument("--out", required=True, help="Directory the files are written to")
        for p in (build, export):
            p.add_argument(
                "--as", dest="username", required=True, help="Staff username whose access applies"
            )
            p.add_argument("--site", default=None, help="Site name (default: every site you see)")

    def handle(self, *args: Any, **options: Any) -> None:
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
        suffix = f" --as {username}" + (f" --site {site.name}" if site is not None else "")
        try:
            if options["action"] == "build":
                self._build(user, site, options["period"], suffix)
            else:
                self._export(user, site, options["format"], options["out"], suffix)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"\r{progress_bar(done, total)} sites", ending="")
        if done == total:
            self.stderr.write("")

    def _build(self, user: User, site: Site | None, period: str, suffix: str) -> None:
        try:
            start, end = month_period(period)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        result = claims_build(
            by=Actor.cli(user, f"claims build --period {period}{suffix}"),
            period_start=start,
            period_end=end,
            site=site,
            on_progress=self._progress,
        )
        self.stdout.write(result.sentence)
        for count, reason in result.not_built:
            self.stdout.write(f"  {count} charge(s) left off: {reason}")

    def _export(self, user: User, site: Site | None, fmt: str, out: str, suffix: str) -> None:
        if fmt != "x12":
            raise CommandError(f"{fmt[:20]!r} is not a format: use --format x12.", returncode=2)
        directory = Path(out)
        if not directory.is_dir():
            raise CommandError(f"{out[:200]} is not a directory.", returncode=2)
        result = claims_export(
            by=Actor.cli(user, f"claims export --format x12 --out {out[:200]}{suffix}"),
            site=site,
            out_dir=directory,
        )
        self.stdout.write(result.sentence)
        for export in result.exports:
            self.stdout.write(f"  {directory / export.file_name}")
