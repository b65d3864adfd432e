"""The one doorway that writes audit entries. Selectors and services call it; nothing else writes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, models

from openiop.audit.models import AuditAction, AuditEntry, AuditEntryPatient, AuditOutcome
from openiop.core.actor import Actor
from openiop.core.clock import now

# While a page is rendered for the page cache, the entries it wrote, so that serving it again
# from the cache writes the same entries (see openiop.pagecache.cache).
_captured: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "audit_captured", default=None
)


@contextmanager
def capture_entries() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Collect what audit_record and audit_record_many write inside the block (they still write)."""
    captured: list[tuple[str, dict[str, Any]]] = []
    token = _captured.set(captured)
    try:
        yield captured
    finally:
        _captured.reset(token)


def replay_entries(actor: Actor, captured: list[tuple[str, dict[str, Any]]]) -> None:
    """Write again, for `actor` now, the entries that capture_entries collected."""
    for kind, kwargs in captured:
        if kind == "many":
            audit_record_many(actor, **kwargs)
        else:
            audit_record(actor, **kwargs)


# While a staff page runs (ui.views_support.staff_view), how to find the patients its URL names:
# its `patient_id`, or the patient of the note, episode, alert... whose id it carries. Asked only
# when an attempt is refused and the refusal does not name a patient itself, so that every denied
# entry about a patient names them and their audit trail shows the attempt.
_denied_patients: ContextVar[Callable[[], list[int]] | None] = ContextVar(
    "audit_denied_patients", default=None
)


@contextmanager
def patients_if_denied(resolve: Callable[[], list[int]]) -> Iterator[None]:
    """Inside the block, audit_denied names the patients `resolve` returns (called at most once,
    on the first refusal that does not name its patient)."""
    found: list[list[int]] = []

    def once() -> list[int]:
        if not found:
            found.append(resolve())
        return found[0]

    token = _denied_patients.set(once)
    try:
        yield
    finally:
        _denied_patients.reset(token)


def _capture(kind: str, kwargs: dict[str, Any]) -> None:
    captured = _captured.get()
    if captured is not None:
        captured.append((kind, kwargs))


def _entry(
    actor: Actor,
    *,
    action: str,
    patient_id: int | None,
    object_type: str,
    object_id: object,
    outcome: str,
    detail: dict[str, Any] | None,
) -> AuditEntry:
    user = actor.user
    if actor.client_id:
        detail = {**(detail or {}), "client_id": actor.client_id}
    return AuditEntry(
        at=now(),
        user_id=user.pk if user else None,
        username=user.get_username() if user else (actor.channel if actor.channel != "web" else ""),
        role=getattr(user, "role", "") if user else "",
        patient_id=patient_id,
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id)[:60],
        channel=actor.channel,
        path=actor.path[:500],
        client_addr=actor.client_addr[:64],
        outcome=outcome,
        detail=detail or {},
    )


def audit_record(
    actor: Actor,
    *,
    action: str,
    patient_id: int | None = None,
    object_type: str = "",
    object_id: object = None,
    outcome: str = AuditOutcome.OK,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry and return it."""
    _capture(
        "one",
        {
            "action": action,
            "patient_id": patient_id,
            "object_type": object_type,
            "object_id": object_id,
            "outcome": outcome,
            "detail": detail,
        },
    )
    entry = _entry(
        actor,
        action=action,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=detail,
    )
    _save(entry, [])
    return entry


def audit_record_many(
    actor: Actor,
    *,
    action: str,
    object_type: str,
    patient_ids: Iterable[int],
    object_id: object = None,
    detail: dict[str, Any] | None = None,
    outcome: str = AuditOutcome.OK,
) -> AuditEntry:
    """Append one entry for a page that shows several patients (a roster, a list, Today).

    The entry links every patient shown, so filtering the log by patient finds it. With exactly one
    patient, patient_id is set on the entry itself too.
    """
    ids = sorted(set(patient_ids))
    _capture(
        "many",
        {
            "action": action,
            "object_type": object_type,
            "patient_ids": ids,
            "object_id": object_id,
            "detail": detail,
            "outcome": outcome,
        },
    )
    entry = _entry(
        actor,
        action=action,
        patient_id=ids[0] if len(ids) == 1 else None,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=detail,
    )
    _save(entry, ids)
    return entry


def _save(entry: AuditEntry, patient_ids: list[int]) -> None:
    """Insert the entry and its patient links. On PostgreSQL one statement (the links in one array
    parameter): every page of patient data writes one, so its round trips are every page's."""
    if connection.vendor != "postgresql":
        entry.save()
        if patient_ids:
            _link_patients(entry, patient_ids)
        return
    fields, insert, with_links = _insert_sql()
    values = [
        f.get_db_prep_save(value, connection) if adapt else value
        for f, adapt, value in zip(
            fields, _ADAPTED, (getattr(entry, f.attname) for f in fields), strict=True
        )
    ]
    with connection.cursor() as cursor:
        if patient_ids:
            cursor.execute(with_links, [*values, patient_ids])
        else:
            cursor.execute(insert, values)
        row = cursor.fetchone()
    assert row is not None
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias


# Which of the entry's columns need the field's own conversion to reach the database (the time,
# the ids: typed int8 for PostgreSQL's prepared statements, the JSON detail); the nine text
# columns _entry made as strings are passed as they are (converting all 13 values was a third of
# the cost of every page's audit write).
_ADAPTED = tuple(
    not isinstance(f, models.CharField)
    for f in AuditEntry._meta.concrete_fields
    if not f.primary_key
)


@functools.cache
def _insert_sql() -> tuple[list[Any], str, str]:
    """The entry's columns and the two PostgreSQL statements _save runs, built once."""
    meta = AuditEntry._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    insert = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id"
    )
    links = quote(AuditEntryPatient._meta.db_table)
    with_links = (
        f"WITH e AS ({insert[: -len('id')]}id, at, patient_id), "
        f"l AS (INSERT INTO {links} (entry_id, patient_id, at, on_entry) "
        "SELECT e.id, p, e.at, COALESCE(e.patient_id = p, FALSE) "
        "FROM e, unnest(%s::bigint[]) AS p) SELECT id FROM e"
    )
    return fields, insert, with_links


LINKS_PER_INSERT = 5_000  # well under SQLite's limit of 32,766 parameters a statement


def _link_patients(entry: AuditEntry, patient_ids: list[int]) -> None:
    """One INSERT of the entry's patient links (SQLite; PostgreSQL inserts them with the entry). bulk_create would wrap it in a transaction of its
    own (two more round trips on every roster, list and Today page) for a single statement that
    is atomic anyway."""
    table = connection.ops.quote_name(AuditEntryPatient._meta.db_table)
    at = AuditEntryPatient._meta.get_field("at").get_db_prep_save(entry.at, connection)
    with connection.cursor() as cursor:
        for start in range(0, len(patient_ids), LINKS_PER_INSERT):
            chunk = patient_ids[start : start + LINKS_PER_INSERT]
            rows = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = [
                value
                for patient_id in chunk
                for value in (entry.pk, patient_id, at, patient_id == entry.patient_id)
            ]
            cursor.execute(
                f"INSERT INTO {table} (entry_id, patient_id, at, on_entry) VALUES {rows}", params
            )


def audit_denied(actor: Actor, *, patient_id: int | None, object_type: str, reason: str) -> None:
    """Append a denied attempt. Without `patient_id`, the entry names (links) the patients of the
    record the page's URL names, when inside patients_if_denied."""
    resolve = _denied_patients.get() if patient_id is None else None
    ids = resolve() if resolve is not None else []
    if len(ids) > 1:
        audit_record_many(
            actor,
            action=AuditAction.VIEW,
            object_type=object_type,
            patient_ids=ids,
            outcome=AuditOutcome.DENIED,
            detail={"reason": reason},
        )
        return
    audit_record(
        actor,
        action=AuditAction.VIEW,
        patient_id=ids[0] if ids else patient_id,
        object_type=object_type,
        outcome=AuditOutcome.DENIED,
        detail={"reason": reason},
    )
