"""`openiop plan-week --instance FILE [--seconds 30] [--seed 0] [--workers 2] [--json]`.

Plans a week from an instance file in the JSON format of docs/planning-format.md (pure: no
database, no patient record read) and prints the solution: its JSON with --json, else a summary.
A file that cannot be read or is not an instance: a message and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from openiop.core.cli import SEED_MAX, ProjectCommand, whole_number
from openiop.planning.domain.check import check_solution
from openiop.planning.domain.jsonio import FormatError, read_instance, write_solution
from openiop.planning.domain.plan import plan_week


class Command(ProjectCommand):
    help = "Plan a week from an instance JSON file (docs/planning-format.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instance", required=True, help="Instance JSON file ('-': stdin)")
        parser.add_argument("--seconds", type=whole_number(1, 3_600), default=30)
        parser.add_argument("--seed", type=whole_number(0, SEED_MAX), default=0)
        parser.add_argument("--workers", type=whole_number(1, 64), default=2)
        parser.add_argument(
            "--wall-clock",
            action="store_true",
            help="limit by wall-clock seconds (default: CP-SAT's deterministic time, repeatable)",
        )
        parser.add_argument("--json", action="store_true", help="print the solution's JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["instance"]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {name[:200]}: {exc}", returncode=2) from exc
        try:
            instance = read_instance(text)
        except FormatError as exc:
            raise CommandError(
                f"{name[:200]} is not a plan-week instance: {exc}", returncode=2
            ) from exc
        solution = plan_week(
            instance,
            time_limit_seconds=options["seconds"],
            seed=options["seed"],
            workers=options["workers"],
            deterministic=not options["wall_clock"],
        )
        if options["json"]:
            self.stdout.write(write_solution(solution), ending="")
            return
        broken = check_solution(instance, solution)
        self.stdout.write(
            f"{solution.status} ({solution.solver}): objective {solution.objective:,}, "
            f"bound {solution.bound:,}, gap {solution.gap:.2%}, "
            f"{len(solution.patient_sessions):,} places for {len(instance.patients):,} patients, "
            f"{len(solution.shortfalls)} short, hard rules {'kept' if not broken else 'BROKEN'}"
        )
        for s in solution.shortfalls:
            self.stdout.write(f"  {s.patient}: {s.reason}")
