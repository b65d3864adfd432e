"""`openiop import patients FILE --site NAME --as USER [--source NAME] [--dry-run]`: import
patients, their coverages and open episodes from another EHR's CSV, or a FHIR Bundle of Patients.

Runs `imports.services.import_plan` (with --dry-run) or `import_apply` as the --as user (their
role and sites apply; audited under their name, channel "cli") and prints the report row by row:
what is (or would be) created, merged or refused, and why. The import writes every row or none.
A file that cannot be read, an unknown user or site, a refusal, or any refused row: the message
and exit code 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from openiop.accounts.models import User
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError
from openiop.imports.services import (
    MAX_FILE_BYTES,
    ImportRefused,
    ImportReport,
    format_for,
    import_apply,
    import_plan,
)
from openiop.programs.models import Site


class Command(ProjectCommand):
    help = (
        "Import patients, coverages and open episodes from a CSV or a FHIR Bundle of Patients "
        "(openiop import patients FILE --site NAME --as USER [--dry-run])."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        cmd = sub.add_parser("patients", help="import patients (CSV or FHIR Bundle JSON)")
        cmd.add_argument("file", help="The CSV file, or a .json FHIR Bundle of Patients")
        cmd.add_argument("--site", required=True, help="The site the patients are imported at")
        cmd.add_argument(
            "--as", dest="username", required=True, help="Staff username whose access applies"
        )
        cmd.add_argument(
            "--source",
            default="",
            help="The EHR the file comes from (default: the file's name without extension)",
        )
        cmd.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff user named '{username[:40]}'.", returncode=2)
        site_name: str = options["site"]
        sites = list(
            Site.objects.filter(name__iexact=site_name.strip()).select_related("organization")
        )
        if user.organization_id:
            sites = [s for s in sites if s.organization_id == user.organization_id]
        if len(sites) != 1:
            raise CommandError(f"No site named '{site_name[:60]}'.", returncode=2)
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{path.name} is too large: split it.", returncode=2)
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}", returncode=2) from exc
        source = options["source"] or path.stem
        verb = "--dry-run" if options["dry_run"] else ""
        actor = Actor.cli(user, f"import patients {path.name} --site {site_name} {verb}".strip())
        service = import_plan if options["dry_run"] else import_apply
        try:
            report = service(
                site=sites[0],
                text=text,
                file_format=format_for(path.name, text),
                source_name=source,
                by=actor,
            )
        except ImportRefused as refused:
            self._print(refused.report)
            raise CommandError(refused.message, returncode=2) from refused
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self._print(report)
        if report.dry_run and report.refused:
            raise CommandError(
                f"{len(report.refused)} rows would be refused: fix them before importing.",
                returncode=2,
            )

    def _print(self, report: ImportReport) -> None:
        for d in report.decisions:
            who = f"{d.label} ({d.mrn})" if d.mrn else d.label
            extra = []
            if d.outcome != "refuse":
                if d.opens_episode:
                    extra.append("open episode")
                if d.adds_coverage:
                    extra.append("coverage")
                if d.changes:
                    extra.append("changes " + ", ".join(d.changes))
            why = "; ".join([*d.reasons, *extra])
            self.stdout.write(f"row {d.row_no:>5}  {d.outcome:<7} {who}: {why}")
        self.stdout.write(report.sentence)
