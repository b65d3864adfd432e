"""What every management command of the project shares: bad arguments are refused with a message
and exit status 2, before the command does any work (the CLI side of core.input_policy).

- ProjectCommand (the base of every command in openiop/*/management/commands) refuses a text
  argument holding a NUL character or longer than MAX_ARGUMENT characters.
- whole_number(low, high) and date_argument(kind) are argparse types for bounded numbers and
  dates in their kind's plausible range (core.dates).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from openiop.core import clock
from openiop.core.dates import DateKind, date_out_of_range

# No argument of ours (usernames, MRNs, site names, instruments, answers) comes near this.
MAX_ARGUMENT = 1_000
# A random seed typed on the command line (random.seed takes any int; a 32-bit one is plenty).
SEED_MAX = 2**32 - 1


def argument_problem(value: str) -> str | None:
    """Why a text argument is refused, else None."""
    if "\x00" in value:
        return "contains a NUL character, which no argument may hold"
    if len(value) > MAX_ARGUMENT:
        return f"is {len(value):,} characters long; at most {MAX_ARGUMENT:,} are accepted"
    return None


class ProjectCommand(BaseCommand):
    """A command whose text arguments are checked (argument_problem) before it runs."""

    def execute(self, *args: Any, **options: Any) -> Any:
        named = [(f"argument {n}", a) for n, a in enumerate(args, start=1)]
        for key, value in options.items():
            values = value if isinstance(value, list | tuple) else [value]
            named.extend((f"--{key.replace('_', '-')}", v) for v in values)
        for name, value in named:
            if isinstance(value, str) and (problem := argument_problem(value)):
                raise CommandError(f"The {name} {problem}.", returncode=2)
        return super().execute(*args, **options)


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high:,} (got {text[:40]})")
        return value

    return parse


def date_argument(kind: DateKind) -> Callable[[str], dt.date]:
    """An argparse type: a YYYY-MM-DD date inside `kind`'s plausible range."""

    def parse(text: str) -> dt.date:
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None
        if message := date_out_of_range(kind, value, clock.now().date()):
            raise argparse.ArgumentTypeError(message)
        return value

    return parse
