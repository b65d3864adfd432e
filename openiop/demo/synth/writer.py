"""Bulk writing for the synthetic network: PostgreSQL COPY, or batched INSERTs on SQLite.

Rows are dicts keyed by field name; fields left out take the model's default. Ids are given by the
caller (allocated with `next_id`), so foreign keys can be written without reading rows back, and
the table's identity sequence is moved past them when the table is done.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from django.db import connection, models
from django.db.models import Max
from django.utils import timezone

PROGRESS_EVERY = 50_000


class Progress:
    """A one-line progress display on a stream: table, rows written, share of the expected, rate."""

    def __init__(self, label: str, expected: int | None, stream: TextIO | None = None) -> None:
        self.label = label
        self.expected = expected
        self.stream = stream if stream is not None else sys.stderr
        self.count = 0
        self.started = time.monotonic()

    def step(self, n: int = 1) -> None:
        before = self.count
        self.count += n
        if self.count // PROGRESS_EVERY != before // PROGRESS_EVERY:
            self._show(end="\r")

    def done(self) -> None:
        self._show(end="\n")

    def _show(self, *, end: str) -> None:
        elapsed = time.monotonic() - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        share = ""
        if self.expected:
            pct = min(100, round(100 * self.count / self.expected))
            filled = pct // 5
            share = f" [{'#' * filled}{'.' * (20 - filled)}] {pct:3d}%"
        self.stream.write(
            f"  {self.label:<22}{share} {self.count:>10,} rows {elapsed:6.1f} s {rate:>9,.0f}/s{end}"
        )
        self.stream.flush()


def next_id(model: type[models.Model]) -> int:
    """The first id above every id in the model's table."""
    return int(model._default_manager.aggregate(m=Max("pk"))["m"] or 0) + 1


def write_rows(
    model: type[models.Model],
    rows: Iterable[Mapping[str, Any]],
    *,
    expected: int | None = None,
    stream: TextIO | None = None,
) -> int:
    """Write `rows` into the model's table; returns how many. Every row must carry its `id`."""
    fields = [f for f in model._meta.concrete_fields]
    columns = [f.column for f in fields]
    now = timezone.now()
    defaults: dict[str, Any] = {}
    for f in fields:
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
            defaults[f.attname] = now
        elif f.has_default():
            defaults[f.attname] = f.get_default()
        elif f.null:
            defaults[f.attname] = None
        elif f.blank and isinstance(f, models.CharField | models.TextField):
            defaults[f.attname] = ""
    names = [f.attname for f in fields]
    progress = Progress(model._meta.db_table, expected, stream)

    def values(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[n] if n in row else defaults[n] for n in names)

    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg 3
            with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
                    progress.step()
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"GREATEST((SELECT MAX(id) FROM {table}), 1))",
                [model._meta.db_table],
            )
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(values(row))
                if len(batch) >= 5_000:
                    cursor.executemany(sql, batch)
                    progress.step(len(batch))
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
                progress.step(len(batch))
    progress.done()
    return progress.count


def aware(day: dt.date, hour: int = 9) -> dt.datetime:
    """Midday-ish UTC instant of a date, for created_at-like stamps."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
