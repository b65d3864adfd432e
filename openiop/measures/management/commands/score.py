"""`openiop score INSTRUMENT --answers 1,0,2,... [--sex female|male] [--json]`: score one set of answers.

For audits and other tools: no database, no patient, nothing stored. With --json it prints one JSON
object {"instrument", "total", "band", "flags", "subscales"}; without it, one readable line.
Wrong answers (count or range) print a message naming the item and exit with status 2.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError

from openiop.core.cli import ProjectCommand
from openiop.measures.domain import REGISTRY, AnswerError
from openiop.measures.domain.base import flag_label


def parse_answers(text: str) -> list[int]:
    """Comma-separated integers; raises AnswerError naming the item that is not a whole number."""
    answers: list[int] = []
    for number, part in enumerate(text.split(","), start=1):
        part = part.strip()
        try:
            answers.append(int(part))
        except ValueError:
            raise AnswerError(
                f"item {number}: {part!r} is not a whole number.", item=number
            ) from None
    return answers


class Command(ProjectCommand):
    help = "Score one instrument's answers and print the total, band, flags and subscales."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("instrument", help="One of: " + ", ".join(REGISTRY))
        parser.add_argument(
            "--answers", required=True, help="Answers in the order of the form, e.g. 1,0,2,3"
        )
        parser.add_argument("--sex", choices=["female", "male"], default=None)
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        key: str = options["instrument"].lower()
        instrument = REGISTRY.get(key)
        if instrument is None:
            raise CommandError(
                f"Unknown instrument '{key}'. Choose one of: {', '.join(REGISTRY)}.", returncode=2
            )
        try:
            result = instrument.score(parse_answers(options["answers"]), sex=options["sex"])
        except AnswerError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
            return
        parts = [instrument.label]
        if result.total is not None:
            parts.append(f"total {result.total}")
        if result.band is not None:
            parts.append(f"band {result.band}")
        parts.extend(f"{k} {v}" for k, v in result.subscales.items())
        if result.flags:
            parts.append("flags: " + ", ".join(flag_label(f) for f in result.flags))
        self.stdout.write("; ".join(parts))
