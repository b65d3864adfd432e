"""`openiop export --format ndjson --out DIR [--type Patient,Observation] [--since INSTANT]
[--site ID | --track ID | --patient ID] --as USERNAME`: the FHIR bulk export of the API's
`$export` (fhir.exports: the same service, access, Part 2 filtering and audit) run at once, its
files written to DIR as <Type>.ndjson (and OperationOutcome.ndjson for what Part 2 withheld),
with a progress bar on stderr. Bad input: a message and exit status 2."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from openiop.accounts.models import User
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand, whole_number
from openiop.core.errors import DomainError
from openiop.core.jobs import progress_bar
from openiop.fhir import exports
from openiop.fhir.models import ExportKind

ID = whole_number(1, 2**63 - 1)


class Command(ProjectCommand):
    help = "Export FHIR resources as NDJSON files, as the API's $export does."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--format", required=True, choices=["ndjson"])
        parser.add_argument("--out", required=True, help="The directory the files are written to")
        parser.add_argument(
            "--type", default="", help="Resource types, comma-separated (default: all allowed)"
        )
        parser.add_argument("--since", default="", help="Only resources changed since (instant)")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--site", type=ID, help="The patients of this site (site id)")
        group.add_argument("--track", type=ID, help="The patients enrolled in this track (id)")
        group.add_argument("--patient", type=ID, help="One patient (id)")
        parser.add_argument("--as", dest="as_user", required=True, help="The staff user")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["as_user"], is_active=True).first()
        if user is None:
            raise CommandError(
                f"No active staff user named '{options['as_user'][:40]}'.", returncode=2
            )
        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} is not a directory.", returncode=2)
        params: dict[str, list[str]] = {}
        if options["type"]:
            params["_type"] = [options["type"]]
        if options["since"]:
            params["_since"] = [options["since"]]
        kind, group_id = ExportKind.SYSTEM, ""
        if options["site"]:
            kind, group_id = ExportKind.GROUP, f"site-{options['site']}"
        elif options["track"]:
            kind, group_id = ExportKind.GROUP, f"track-{options['track']}"
        elif options["patient"]:
            kind, params["patient"] = ExportKind.PATIENT, [f"Patient/{options['patient']}"]
        actor = Actor.cli(user, "export")
        client = exports.ExportClient(
            client_id="", name="openiop export", organization_id=user.organization_id
        )
        try:
            export = exports.export_create(
                actor=actor,
                client=client,
                kind=kind,
                params=params,
                request_url="openiop export " + " ".join(f"{k}={v}" for k, v in params.items()),
                group_id=group_id,
            )
            summary = exports.export_run(
                export_id=export.pk,
                channel="cli",
                on_progress=lambda done, total: self.stderr.write(
                    f"\rexport {progress_bar(done, total)}", ending=""
                ),
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stderr.write("")
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, int] = {}
        opened: dict[str, Any] = {}
        try:
            for resource_type, _is_error, text in exports.export_file_texts(export):
                if resource_type not in opened:
                    opened[resource_type] = (out / f"{resource_type}.ndjson").open("w")
                opened[resource_type].write(text)
                written[resource_type] = written.get(resource_type, 0) + text.count("\n")
        finally:
            for handle in opened.values():
                handle.close()
        exports.export_drop_files(export)
        (out / "manifest.json").write_text(
            json.dumps(
                {
                    "files": {f"{t}.ndjson": n for t, n in written.items()},
                    "summary": summary.sentence,
                },
                indent=2,
            )
        )
        self.stdout.write(summary.sentence)
        for name, count in sorted(written.items()):
            self.stdout.write(f"  {out / (name + '.ndjson')}: {count}")
