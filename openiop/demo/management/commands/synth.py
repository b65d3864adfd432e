"""`openiop synth`: fill the database with a synthetic clinic network for the benchmark.

    openiop synth --sites 50 --patients 20000 --weeks 26 --seed 7
    openiop synth --add care --seed 7     # add a later step to networks built before it

Meant for PostgreSQL (COPY keeps it to minutes); SQLite works for small networks. The people are
fictional. Exits 2 with a message on bad sizes.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from typing import Any, TextIO, cast

from django.core.management.base import CommandError

from openiop.core.cli import SEED_MAX, ProjectCommand, date_argument, whole_number
from openiop.core.clock import local_today
from openiop.core.dates import DateKind
from openiop.demo.synth.build import SYNTH_PASSWORD, add_care, build_network

# Far beyond any benchmark (50 sites, 20,000 patients), so a mistyped size fails at once instead of
# filling the disk for hours.
MAX_SITES = 10_000
MAX_PATIENTS = 10_000_000


class Command(ProjectCommand):
    help = "Fill the database with a synthetic clinic network (fictional people) for benchmarks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sites", type=whole_number(-MAX_SITES, MAX_SITES), default=50)
        parser.add_argument(
            "--patients", type=whole_number(-MAX_PATIENTS, MAX_PATIENTS), default=20_000
        )
        parser.add_argument(
            "--weeks", type=whole_number(-(10**6), 10**6), default=26, help="Weeks of past sessions"
        )
        parser.add_argument("--seed", type=whole_number(0, SEED_MAX), default=1)
        parser.add_argument(
            "--today",
            type=date_argument(DateKind.SEARCH),
            default=None,
            help="Pretend today is YYYY-MM-DD",
        )
        parser.add_argument(
            "--add",
            choices=["care"],
            default=None,
            help="Only add one later step to the synthetic networks already here that lack it "
            "(care: case management, medications and MAT, drug tests); sizes are ignored",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["add"]:
            self._add(options)
            return
        sizes = {k: options[k] for k in ("sites", "patients", "weeks")}
        bad = [f"--{k} must be 1 or more (got {v})" for k, v in sizes.items() if v < 1]
        if options["weeks"] > 104:
            bad.append("--weeks must be at most 104")
        if bad:
            raise CommandError("; ".join(bad), returncode=2)
        today = options["today"] or local_today(dt.UTC)
        started = time.monotonic()
        self.stdout.write(
            f"Synthetic network: {options['sites']} sites, {options['patients']:,} patients, "
            f"{options['weeks']} weeks to {today} (seed {options['seed']})"
        )
        result = build_network(
            sites=options["sites"],
            patients=options["patients"],
            weeks=options["weeks"],
            seed=options["seed"],
            today=today,
            stream=cast(TextIO, self.stderr._out),  # raw stream: the progress line rewrites itself
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        counts = ", ".join(f"{k} {v:,}" for k, v in result.counts.items())
        self.stdout.write(
            f"Done in {time.monotonic() - started:.1f} s, peak memory {peak_mb:.0f} MB."
        )
        self.stdout.write(counts)
        self.stdout.write(f"Staff logins use the password '{SYNTH_PASSWORD}'.")

    def _add(self, options: dict[str, Any]) -> None:
        today = options["today"] or local_today(dt.UTC)
        started = time.monotonic()
        added = add_care(
            today=today,
            seed=options["seed"],
            stream=cast(TextIO, self.stderr._out),
        )
        if not added:
            self.stdout.write("No synthetic network lacks the care step: nothing to add.")
            return
        for name, counts in added.items():
            rows = ", ".join(f"{k} {v:,}" for k, v in counts.items())
            self.stdout.write(f"{name}: {rows}")
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")
