"""Reading the audit log: the director and the auditor filter by patient, user and date."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from typing import Any

from django.db import connection

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditEntry, AuditEntryPatient
from openiop.core.actor import Actor
from openiop.patients.models import Patient
from openiop.programs.models import Site

# What a row of the log shows.
ROW_FIELDS = (
    "id",
    "at",
    "username",
    "role",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "outcome",
    "client_addr",
    "channel",
    "path",
)


AuditRow = namedtuple("AuditRow", ROW_FIELDS)  # type: ignore[misc]

# The patient a row of the log names, read with the page's ids (AuditLog.patients): shown as they
# are now (a name can change; the entry cannot), so never part of a row kept rendered. `among`: the
# entry named several patients and this one is the patient searched for. `zone`: the IANA zone of
# the patient's site, in which the row's time is shown.
PatientCell = namedtuple("PatientCell", ["mrn", "name", "zone", "among"])


def entries_by_id(ids: list[int]) -> list[Any]:
    """The entries with these ids, as AuditRow tuples (what a row of the log shows).

    On PostgreSQL one plain SELECT; SQLite goes through the ORM, which turns its stored text back
    into times."""
    if not ids:
        return []
    if connection.vendor != "postgresql":
        return list(AuditEntry.objects.filter(pk__in=ids).values_list(*ROW_FIELDS, named=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(ROW_FIELDS)} FROM {_TABLE} WHERE id = ANY(%s)", [list(ids)]
        )
        return [AuditRow(*row) for row in cursor.fetchall()]


class AuditLog:
    """Entries matching a search, newest first, as the paginator reads them: count() and slices of
    (id, time) pairs (audit.views renders each entry's row once and keeps it: entries never
    change; the time is part of its key, so an id a test database hands out again is a new row).

    Searching one patient reads two index-ordered branches and merges them: entries that name the
    patient (the patient/time index, read newest first and only as far as the page needs) and
    entries of pages that showed the patient among others (the links table's own patient/time
    index, which carries the entry's time). One OR across both made PostgreSQL collect and sort
    every entry of the patient on every page: a patient seen on many rosters has thousands.

    Plain SQL, like the session and user look-ups (accounts.backends): building the same queries
    through the ORM cost more CPU than PostgreSQL took to run them.
    """

    # Counting stops here: a patient seen every day for months, or whose log is searched often, has
    # thousands of entries, and an exact count read them all on every page. The pager then says
    # "more than 1,000"; a date range narrows the search to any older entry.
    COUNT_CAP = 1000

    def __init__(
        self,
        branches: list[tuple[str, list[Any]]],
        expected: slice | None = None,
        known: list[int] | None = None,
    ) -> None:
        self.branches = branches  # (a SELECT of `id` and `at`, its parameters)
        # The page the caller will ask for: count() reads its ids in the same statement.
        self.expected = expected
        self._count: int | None = None
        self._read_ahead: tuple[int, list[tuple[int, Any]]] | None = None
        # On PostgreSQL, with `known` (ids whose rows the caller has rendered already), count()
        # also returns the whole row of every other entry on the expected page: the entries
        # written since the caller last showed this search (its own previous search, typically),
        # which would otherwise cost a query of their own. They are kept in `rows`.
        self.known = known if connection.vendor == "postgresql" else None
        self.rows: dict[int, Any] = {}
        # By entry id, the patient each entry read so far names (see PatientCell).
        self.patients: dict[int, PatientCell] = {}

    @property
    def capped(self) -> bool:
        """More entries match than count() says (it stopped at COUNT_CAP + 1)."""
        return self.count() > self.COUNT_CAP

    def _params(self) -> list[Any]:
        return [p for _, branch_params in self.branches for p in branch_params]

    def _count_sql(self) -> str:
        limit = self.COUNT_CAP + 1
        return " + ".join(
            f"(SELECT COUNT(*) FROM ({select} LIMIT {limit}) AS c{i})"
            for i, (select, _) in enumerate(self.branches)
        )

    def _ids_sql(self, start: int, stop: int) -> tuple[str, list[Any]]:
        parts = [
            f"SELECT * FROM ({select} ORDER BY at DESC, id DESC LIMIT {int(stop)}) AS b{i}"
            for i, (select, _) in enumerate(self.branches)
        ]
        # The time comes back as text as well: it is only part of the rendered row's cache key,
        # and turning 50 timestamps into datetimes cost 0.2 ms of a search's CPU. The patient
        # each entry names comes with it, joined to the page's rows only (PatientCell).
        sql = (
            f"SELECT u.id, u.at, CAST(u.at AS TEXT) AS at_text, {_PATIENT_COLUMNS} "
            f"FROM ({' UNION ALL '.join(parts)}) AS u "
            f"LEFT JOIN {_PATIENTS} pt ON pt.id = u.pid LEFT JOIN {_SITES} st ON st.id = pt.site_id "
            "ORDER BY u.at DESC, u.id DESC LIMIT %s OFFSET %s"
        )
        return sql, [*self._params(), stop - start, start]

    def _keep_patients(self, rows: list[Any], first: int) -> None:
        """Note the PatientCell of each row (columns from `first` on, as _PATIENT_COLUMNS)."""
        for row in rows:
            if row[0] is None:
                continue
            mrn, preferred, legal_first, last, zone, among = row[first + 1 : first + 7]
            if mrn is not None:
                name = f"{preferred or legal_first} {last}"
                self.patients[int(row[0])] = PatientCell(mrn, name, zone, bool(among))

    def count(self) -> int:
        """The number of matching entries, up to COUNT_CAP + 1; with `expected`, that page's
        ids come back in the same statement (one query for both)."""
        if self._count is not None:
            return self._count
        expected = self.expected
        with connection.cursor() as cursor:
            if expected is None or expected.stop is None:
                cursor.execute(f"SELECT {self._count_sql()}", self._params())
                row = cursor.fetchone()
                total = int(row[0]) if row else 0
            else:
                start = expected.start or 0
                ids_sql, ids_params = self._ids_sql(start, expected.stop)
                fields, join, join_params = "", "", []
                if self.known is not None:
                    fields = "".join(f", e.{f}" for f in ROW_FIELDS)
                    join = f" LEFT JOIN {_TABLE} e ON e.id = p.id AND NOT e.id = ANY(%s)"
                    join_params = [self.known]
                patient = "".join(f", p.{c}" for c in _PATIENT_NAMES)
                cursor.execute(
                    f"SELECT c.n, p.id, p.at_text{patient}{fields} "
                    f"FROM (SELECT {self._count_sql()} AS n) AS c "
                    f"LEFT JOIN ({ids_sql}) AS p ON 1 = 1{join} ORDER BY p.at DESC, p.id DESC",
                    [*self._params(), *ids_params, *join_params],
                )
                rows = cursor.fetchall()
                total = int(rows[0][0]) if rows else 0
                ids = [(int(r[1]), r[2]) for r in rows if r[1] is not None]
                self._keep_patients([r[1:] for r in rows], 2)
                skip = 3 + len(_PATIENT_NAMES)
                self.rows = {
                    int(r[1]): AuditRow(*r[skip:]) for r in rows if len(r) > skip and r[skip]
                }
                self._read_ahead = (start, ids)
        self._count = min(total, self.COUNT_CAP + 1)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[tuple[int, Any]]:
        """(id, time as text) of the entries in `page`, newest first (one query, or none when
        count() read this page ahead)."""
        start, stop = page.start or 0, page.stop
        if stop is None or stop <= start:
            return []
        if self._read_ahead is not None and self.expected is not None:
            ahead_start, ids = self._read_ahead
            if ahead_start == start and stop <= (self.expected.stop or 0):
                return ids[: stop - start]
        sql, params = self._ids_sql(start, stop)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        self._keep_patients([(r[0], *r[2:]) for r in rows], 2)
        return [(int(row[0]), row[2]) for row in rows]


_TABLE = AuditEntry._meta.db_table
_LINKS = AuditEntryPatient._meta.db_table
_PATIENTS = Patient._meta.db_table
_SITES = Site._meta.db_table
# What _ids_sql reads of each entry's patient, as named columns (PatientCell).
_PATIENT_NAMES = (
    "pid",
    "mrn",
    "preferred_name",
    "legal_first_name",
    "legal_last_name",
    "zone",
    "among",
)
_PATIENT_COLUMNS = (
    "u.pid, pt.mrn, pt.preferred_name, pt.legal_first_name, pt.legal_last_name, "
    "st.timezone AS zone, u.among"
)


# Each branch's patient: the one its entry names, or (a page that showed several) the one searched.
_NAMED = "e.patient_id AS pid, 0 AS among"
_AMONG = "l.patient_id AS pid, 1 AS among"


def audit_search(
    *,
    actor: Actor,
    patient_id: int | None = None,
    username: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    outcome: str = "",
    tz: dt.tzinfo = dt.UTC,
    expected: slice | None = None,
    known: list[int] | None = None,
) -> AuditLog:
    """Entries matching the filters, newest first. Dates are whole local days in tz.

    Reading the log is itself logged (by the caller, once it has read the page). Raises
    NotPermitted for roles without audit access. `expected`: the slice the caller's page will
    read (its ids then come with the count); `known`: see AuditLog.rows.
    """
    require(actor, Cap.AUDIT_VIEW, object_type="audit_log")
    ops = connection.ops
    # (condition, parameter) on the entry's own columns, and on its time.
    on_entry: list[tuple[str, Any]] = []
    on_time: list[tuple[str, Any]] = []
    if username:
        on_entry.append(("LOWER(e.username) = LOWER(%s)", username.strip()))
    if outcome:
        on_entry.append(("e.outcome = %s", outcome))
    if date_from:
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
        on_time.append(("{t}.at >= %s", ops.adapt_datetimefield_value(start)))
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        on_time.append(("{t}.at < %s", ops.adapt_datetimefield_value(end)))

    def where(first: list[tuple[str, list[Any]]], table: str) -> tuple[str, list[Any]]:
        """The WHERE clause and parameters of a branch reading `table` (e: entries, l: links)."""
        parts = [*first, *[(c.format(t=table), [v]) for c, v in on_time]]
        if on_entry and table == "e":
            parts += [(c, [v]) for c, v in on_entry]
        elif on_entry:  # the link has the time; the user and the outcome are on its entry
            exists = " AND ".join(c for c, _ in on_entry)
            parts.append(
                (
                    f"EXISTS (SELECT 1 FROM {_TABLE} e WHERE e.id = l.entry_id AND {exists})",
                    [v for _, v in on_entry],
                )
            )
        return " AND ".join(c for c, _ in parts) or "TRUE", [v for _, vs in parts for v in vs]

    if patient_id is None:
        sql, params = where([], "e")
        return AuditLog(
            [(f"SELECT e.id, e.at, {_NAMED} FROM {_TABLE} e WHERE {sql}", params)],
            expected,
            known,
        )
    named_sql, named_params = where([("e.patient_id = %s", [patient_id])], "e")
    # A link whose entry names the patient (on_entry) is found by the first branch already.
    linked_sql, linked_params = where(
        [("l.patient_id = %s", [patient_id]), ("NOT l.on_entry", [])], "l"
    )
    return AuditLog(
        [
            (f"SELECT e.id, e.at, {_NAMED} FROM {_TABLE} e WHERE {named_sql}", named_params),
            (
                f"SELECT l.entry_id AS id, l.at, {_AMONG} FROM {_LINKS} l WHERE {linked_sql}",
                linked_params,
            ),
        ],
        expected,
        known,
    )
