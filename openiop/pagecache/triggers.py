"""Database triggers that count changes per site, so a cached page knows when it is stale.

Every table that holds what a page shows gets three statement-level triggers (insert, update,
delete). Each finds the sites of the rows the statement touched, through the table's foreign keys
(an attendance row through its session, a plan objective through goal, problem, plan and episode),
and adds one to those sites' DataGeneration rows in the same transaction as the change. A row
that reaches no site (a payer, a patient's demographics, a staff member's name) counts for site 0,
which every page includes. Nothing in Python has to remember to invalidate anything: a write that
reaches the database by any path (a service, the admin, a bulk load, SQL typed by hand) counts.

The specification is derived from the models. It is installed by a step of its own, run after
`migrate` whenever the models changed: `openiop pagecache_triggers` (idempotent), and checked three
ways: `openiop pagecache_triggers --check` exits 1 naming each table whose triggers are missing or
differ from the models; the page cache checks the same before it serves anything in a process and
stays off (every page rendered, an error logged) until they match; test_triggers.py fails when a
table of any app, one added later included, is not counted. Each trigger carries a fingerprint of
the SQL it was made from (its comment), which is what the checks compare.

PostgreSQL only. On SQLite (the embedded single-user default) pages are not cached.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections
from django.db.models import ForeignKey, Model

# Tables whose rows no page of patient data shows, or whose writes are the reads themselves.
EXCLUDED_APPS = frozenset(
    {
        "admin",
        "audit",  # each page view appends an entry: counting them would make every page stale
        "auth",
        "axes",
        "contenttypes",
        "django_tasks_db",  # the task queue: workers write it every second, no page shows it
        "otp_static",
        "otp_totp",
        "pagecache",
        "sessions",
    }
)
# core_submission: a form's used token, which no page shows (openiop.core.submissions).
# core_job, core_jobschedule: background jobs and their progress, on the Jobs page (never cached).
# core_workerheartbeat: each worker writes it every few seconds; counted, it would make every page
# of the network stale that often.
EXCLUDED_TABLES = frozenset(
    {
        "admissions_publicinquirythrottle",
        "accounts_staffsession",
        "core_submission",
        "core_job",
        "core_jobschedule",
        "core_workerheartbeat",
    }
)
# The staff table: a login writes last_login and must not make every page of the network stale.
USER_COLUMNS_IGNORED = frozenset({"password", "last_login"})
# When a table reaches a site by more than one foreign key, the one that says where care happens.
PREFERRED = (
    "site",
    "episode",
    "session",
    "note",
    "section",
    "inquiry",
    "track",
    "plan",
    "problem",
    "goal",
    "summary",
    "coverage",
    "block",
    "response",
    "alert",
    "attendance",
)
MAX_DEPTH = 6
FUNCTION = "openiop_count_site_change"
TRIGGERS = ("openiop_count_ins", "openiop_count_upd", "openiop_count_del")
ALL = "all"  # the trigger argument for a table whose rows belong to no one site


@dataclass(frozen=True)
class TableSpec:
    table: str
    # A query over the changed rows (the transition table, written %1$I, aliased r) that yields
    # the site id of each, once per way the row reaches a site (NULL where a key is empty); or
    # ALL for a table whose rows count for site 0, which every page includes.
    sites: str


def _site_model() -> type[Model]:
    return apps.get_model("programs", "Site")


def _foreign_keys(model: type[Model]) -> list[ForeignKey[Any, Any]]:
    user = apps.get_model("accounts", "User")
    org = apps.get_model("programs", "Organization")
    fks = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, ForeignKey) and f.related_model not in (user, org, model)
    ]
    return sorted(
        fks, key=lambda f: (PREFERRED.index(f.name) if f.name in PREFERRED else 99, f.name)
    )


def _target(fk: ForeignKey[Any, Any]) -> type[Model]:
    model = fk.related_model
    assert not isinstance(model, str)  # resolved once the app registry is ready
    return model


def _site_path(model: type[Model]) -> list[ForeignKey[Any, Any]] | None:
    """The shortest chain of foreign keys from `model` to a row with a site (preferred names first)."""
    site = _site_model()
    queue: deque[tuple[type[Model], list[ForeignKey[Any, Any]]]] = deque([(model, [])])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        for fk in _foreign_keys(current):
            if fk.related_model is site:
                return [*path, fk]
        if len(path) >= MAX_DEPTH:
            continue
        for fk in _foreign_keys(current):
            target = _target(fk)
            if target not in seen:
                seen.add(target)
                queue.append((target, [*path, fk]))
    return None


def _paths(model: type[Model]) -> list[list[ForeignKey[Any, Any]]]:
    """Every way a row reaches a site: through each of its foreign keys, by that key's shortest
    chain (an attendance row counts for its session's site and for its episode's)."""
    site = _site_model()
    paths = []
    for fk in _foreign_keys(model):
        if fk.related_model is site:
            paths.append([fk])
            continue
        rest = _site_path(_target(fk))
        if rest is not None:
            paths.append([fk, *rest])
    return paths


def _select(path: list[ForeignKey[Any, Any]]) -> str:
    joins: list[str] = []
    alias = "r"
    for i, fk in enumerate(path[:-1], start=1):
        target = _target(fk)._meta
        joins.append(
            f'LEFT JOIN "{target.db_table}" t{i} ON t{i}."{target.pk.column}" = {alias}."{fk.column}"'
        )
        alias = f"t{i}"
    return " ".join([f'SELECT {alias}."{path[-1].column}" FROM %1$I r', *joins])


def _spec(model: type[Model]) -> TableSpec:
    table = model._meta.db_table
    if model is _site_model():
        return TableSpec(table, "SELECT r.id FROM %1$I r")
    if model is apps.get_model("patients", "Patient"):
        # A patient's name and details show wherever they have been seen: count for every site.
        return TableSpec(table, ALL)
    paths = _paths(model)
    if not paths:
        return TableSpec(table, ALL)
    return TableSpec(table, " UNION ".join(_select(p) for p in paths))


def table_specs() -> list[TableSpec]:
    """One spec per table counted (the staff table is handled apart: see install)."""
    user = apps.get_model("accounts", "User")
    specs = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label in EXCLUDED_APPS or meta.db_table in EXCLUDED_TABLES:
            continue
        if model is user or not meta.managed or meta.proxy:
            continue
        specs.append(_spec(model))
    return sorted(specs, key=lambda s: s.table)


def _function_sql(generation_table: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed text;
    counted bigint;
    touched boolean;
BEGIN
    IF TG_ARGV[0] = 'all' THEN
        INSERT INTO "{generation_table}" (site_id, n) VALUES (0, 1)
        ON CONFLICT (site_id) DO UPDATE SET n = "{generation_table}".n + 1;
        RETURN NULL;
    END IF;
    FOREACH changed IN ARRAY (CASE TG_OP
        WHEN 'INSERT' THEN ARRAY['changed_new']
        WHEN 'DELETE' THEN ARRAY['changed_old']
        ELSE ARRAY['changed_old', 'changed_new'] END)
    LOOP
        -- Sites in id order, so two transactions touching the same sites lock their rows alike.
        EXECUTE format(
            'INSERT INTO "{generation_table}" (site_id, n) '
            'SELECT DISTINCT s, 1 FROM (' || TG_ARGV[0] || ') AS x(s) WHERE s IS NOT NULL '
            'ORDER BY 1 ON CONFLICT (site_id) DO UPDATE SET n = "{generation_table}".n + 1',
            changed);
        GET DIAGNOSTICS counted = ROW_COUNT;
        IF counted = 0 THEN
            -- Rows changed that reach no site (every key empty): they count for every site.
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', changed) INTO touched;
            IF touched THEN
                INSERT INTO "{generation_table}" (site_id, n) VALUES (0, 1)
                ON CONFLICT (site_id) DO UPDATE SET n = "{generation_table}".n + 1;
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _table_triggers(spec: TableSpec) -> list[str]:
    args = _quote(spec.sites)
    table = f'"{spec.table}"'
    return [
        f"DROP TRIGGER IF EXISTS openiop_count_ins ON {table}",
        f"DROP TRIGGER IF EXISTS openiop_count_upd ON {table}",
        f"DROP TRIGGER IF EXISTS openiop_count_del ON {table}",
        f"CREATE TRIGGER openiop_count_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
        f"changed_new FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}({args})",
        f"CREATE TRIGGER openiop_count_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS "
        f"changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}({args})",
        f"CREATE TRIGGER openiop_count_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS "
        f"changed_old FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}({args})",
    ]


def _user_triggers() -> list[str]:
    user = apps.get_model("accounts", "User")
    table = f'"{user._meta.db_table}"'
    columns = ", ".join(
        f'"{f.column}"'
        for f in user._meta.concrete_fields
        if f.column not in USER_COLUMNS_IGNORED and f.column != user._meta.pk.column
    )
    return [
        f"DROP TRIGGER IF EXISTS openiop_count_ins ON {table}",
        f"DROP TRIGGER IF EXISTS openiop_count_upd ON {table}",
        f"DROP TRIGGER IF EXISTS openiop_count_del ON {table}",
        f"CREATE TRIGGER openiop_count_ins AFTER INSERT ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{ALL}')",
        # Column list: a login (last_login) or a new password changes nothing a page shows.
        f"CREATE TRIGGER openiop_count_upd AFTER UPDATE OF {columns} ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{ALL}')",
        f"CREATE TRIGGER openiop_count_del AFTER DELETE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{ALL}')",
    ]


def _fingerprint(statements: list[str]) -> str:
    return "openiop:" + hashlib.sha256("\n".join(statements).encode()).hexdigest()[:20]


def _plan() -> tuple[str, dict[str, tuple[str, list[str]]]]:
    """The function's SQL and, per counted table, the fingerprint its triggers carry and the
    statements that make them (ending with the comments that hold the fingerprint)."""
    generation = apps.get_model("pagecache", "DataGeneration")._meta.db_table
    function = _function_sql(generation)
    tables = {spec.table: _table_triggers(spec) for spec in table_specs()}
    tables[apps.get_model("accounts", "User")._meta.db_table] = _user_triggers()
    plan = {}
    for table, statements in sorted(tables.items()):
        mark = _fingerprint([function, *statements])
        comments = [f'COMMENT ON TRIGGER {n} ON "{table}" IS {_quote(mark)}' for n in TRIGGERS]
        plan[table] = (mark, [*statements, *comments])
    return function, plan


def problems(using: str = "default") -> list[str]:
    """What is wrong with the installed triggers, one line per table ([] when all match the
    models). Two queries. On a database other than PostgreSQL: [] (nothing is cached there)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, obj_description(t.oid, 'pg_trigger') "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = ANY(%s) AND pg_table_is_visible(c.oid)",
            [list(TRIGGERS)],
        )
        found: dict[str, dict[str, str | None]] = {}
        for table, name, mark in cursor.fetchall():
            found.setdefault(table, {})[name] = mark
    lines = []
    for table, (mark, _) in _plan()[1].items():
        if table not in existing:
            lines.append(f"{table}: no such table (run migrate)")
        elif set(found.get(table, {})) != set(TRIGGERS):
            lines.append(f"{table}: no counting triggers")
        elif any(m != mark for m in found[table].values()):
            lines.append(f"{table}: triggers differ from the models")
    return lines


def install(using: str = "default") -> int:
    """Create or replace the triggers on every counted table; returns how many tables. Idempotent.

    Run by `openiop pagecache_triggers` after `migrate`; tables not made yet are left for the next
    run (problems() names them)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    existing = set(connection.introspection.table_names())
    function, plan = _plan()
    installed = 0
    with connection.cursor() as cursor:
        cursor.execute(function)
        for table, (_, statements) in plan.items():
            if table in existing:
                for sql in statements:
                    cursor.execute(sql)
                installed += 1
    return installed
