"""The floor of a month-end claims build that writes rows (issue 16, point 8): the cheapest
pure-SQL version of the writes the build must make, against the SQL aggregation that feeds it
(bench/claims_build.py's AGGREGATION, same organization and month), timed the same way in one run.

Run with DATABASE_URL pointing at a database filled by `openiop synth`, under
`flock /tmp/bench.lock`. Prints one JSON object on its last line. Nothing is kept: each run of the
writes is one transaction that is rolled back.

The writes, as set-based statements with no Python between them (no rules, no scrub):

1. `claims`: INSERT INTO billing_claim ... SELECT ... GROUP BY the aggregation's claim key (and
   the site): one row per key with every NOT NULL column filled (the rules' values replaced by
   constants or by what SQL can compute: total, statement dates, a key, a random 16-character
   CLM01 for the unique column).
2. `lines`: INSERT INTO billing_claimline ... SELECT: one row per charge, joined to its new claim,
   numbered by date (row_number), carrying the charge as it stands now (its last adjustment's
   units and amount, else its own) and a line control number.
3. `charges`: UPDATE billing_charge SET status = 'on_claim' for the same charges.

`--history` adds what the build also writes for every claim that SQL can write without the rules:
4. `events`: one creation ClaimEvent per claim.
5. `audit`: one audit entry per site naming its patients (audit_auditentry and
   audit_auditentrypatient, as audit_record_many writes them).
The scrubber's edits (ClaimEdit) need the rules and are left out of both.

The foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's), so they are checked at COMMIT;
a rolled-back transaction would skip them. Each run therefore starts with SET CONSTRAINTS ALL
IMMEDIATE, so the checks a commit would make are inside the time. The tables' statement-level
triggers (the page cache's site counters) fire as they would.

Timing: each side best of `--runs` (default 3), interleaved (aggregation, writes, aggregation,
writes, ...), from this process, round trips included; the writes' time runs from BEGIN to the
last statement's end (the ROLLBACK is timed apart and left out).

Before each run the tables written are vacuumed and analyzed (untimed; `--no-settle` skips it):
a rolled-back run leaves a dead version of every row it wrote (50,000 charges at 20,000
patients), and the bench server runs without autovacuum, so without it every run would start
from a more bloated table than the one before.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from claims_build import (  # bench/ is on sys.path when run as a script
    AGGREGATION,
    network_billing_and_month,
)
from django.db import connection

# The aggregation's WHERE, shared by every statement below (c: billing_charge, s: programs_site).
_OPEN = """
    FROM billing_charge c
    JOIN programs_site s ON s.id = c.site_id
    WHERE s.organization_id = %(org)s AND c.status = 'open' AND c.coverage_id IS NOT NULL
      AND c.service_date BETWEEN %(start)s AND %(end)s
"""

CLAIMS = f"""
INSERT INTO billing_claim (
    created_at, updated_at, version, key, claim_form, frequency, bill_type, facility_code,
    place_of_service, patient_status, condition_codes, diagnoses, "authorization",
    period_start, period_end, statement_from, statement_to, patient_control_number,
    payer_claim_control_number, state, total, coverage_id, created_by_id, episode_id,
    patient_id, payer_id, replaces_id, site_id, track_id)
SELECT now(), now(), 1,
       concat_ws('/', c.patient_id, c.coverage_id, c.episode_id, c.track_id, c.claim_form,
                 to_char(%(start)s::date, 'YYYY-MM')),
       c.claim_form, '1', '', '', '', '', '', '[]'::jsonb, '',
       %(start)s, %(end)s, min(c.service_date), max(c.service_date),
       upper(substr(md5(random()::text || clock_timestamp()::text), 1, 16)),
       '', 'draft', sum(c.amount), c.coverage_id, %(user)s, c.episode_id,
       c.patient_id, c.payer_id, NULL, c.site_id, c.track_id
{_OPEN}
GROUP BY c.site_id, c.patient_id, c.coverage_id, c.payer_id, c.episode_id, c.track_id,
         c.claim_form
"""

# The new claims are the ones created in this transaction: now() is the transaction's start.
LINES = """
INSERT INTO billing_claimline (
    claim_id, charge_id, number, service_date, code, modifiers, revenue_code, units, amount,
    line_control_number)
SELECT k.id, c.id,
       row_number() OVER (PARTITION BY k.id ORDER BY c.service_date, c.code, c.id),
       c.service_date, c.code, c.modifiers, c.revenue_code,
       coalesce(a.new_units, c.units), coalesce(a.new_amount, c.amount),
       k.patient_control_number || '-'
           || row_number() OVER (PARTITION BY k.id ORDER BY c.service_date, c.code, c.id)
FROM billing_charge c
JOIN programs_site s ON s.id = c.site_id
JOIN billing_claim k
  ON k.patient_id = c.patient_id AND k.coverage_id = c.coverage_id AND k.payer_id = c.payer_id
 AND k.episode_id = c.episode_id AND k.track_id = c.track_id AND k.claim_form = c.claim_form
 AND k.site_id = c.site_id AND k.period_start = %(start)s AND k.period_end = %(end)s
 AND k.created_at = now()
LEFT JOIN LATERAL (
    SELECT j.new_units, j.new_amount FROM billing_chargeadjustment j
    WHERE j.charge_id = c.id ORDER BY j.created_at DESC, j.id DESC LIMIT 1
) a ON true
WHERE s.organization_id = %(org)s AND c.status = 'open' AND c.coverage_id IS NOT NULL
  AND c.service_date BETWEEN %(start)s AND %(end)s
"""

CHARGES = """
UPDATE billing_charge c SET status = 'on_claim'
FROM programs_site s
WHERE s.id = c.site_id
  AND s.organization_id = %(org)s AND c.status = 'open' AND c.coverage_id IS NOT NULL
  AND c.service_date BETWEEN %(start)s AND %(end)s
"""

EVENTS = """
INSERT INTO billing_claimevent (claim_id, event, from_state, to_state, by_id, at, note)
SELECT k.id, 'create', '', 'draft', %(user)s, now(),
       'built for ' || %(start)s::text || ' to ' || %(end)s::text
FROM billing_claim k JOIN programs_site s ON s.id = k.site_id
WHERE s.organization_id = %(org)s AND k.period_start = %(start)s AND k.period_end = %(end)s
  AND k.created_at = now()
"""

AUDIT = """
WITH entries AS (
    INSERT INTO audit_auditentry (
        at, user_id, username, role, patient_id, action, object_type, object_id, channel,
        path, client_addr, outcome, detail)
    SELECT now(), %(user)s, 'bench', 'billing', NULL, 'create', 'claim_build', s.id::text,
           'task', 'claims_floor', 'local', 'ok', '{}'::jsonb
    FROM programs_site s WHERE s.organization_id = %(org)s
    RETURNING id, object_id
)
INSERT INTO audit_auditentrypatient (patient_id, entry_id, at, on_entry)
SELECT DISTINCT k.patient_id, e.id, now(), false
FROM entries e
JOIN billing_claim k ON k.site_id = e.object_id::bigint
WHERE k.period_start = %(start)s AND k.period_end = %(end)s AND k.created_at = now()
"""


# What the writes touch: vacuumed and analyzed before each run (see the module).
SETTLE = (
    "billing_charge, billing_claim, billing_claimline, billing_claimevent, audit_auditentry, "
    "audit_auditentrypatient"
)


@dataclass
class _Run:
    """One run of the writes: its time, each statement's time and rows, the ROLLBACK's time."""

    total: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    rollback: float = 0.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _writes(cursor: Any, steps: list[tuple[str, str]], params: dict[str, object]) -> _Run:
    run = _Run()
    began = time.perf_counter()
    cursor.execute("BEGIN")
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        for name, sql in steps:
            step_began = time.perf_counter()
            cursor.execute(sql, params)
            run.steps[name] = time.perf_counter() - step_began
            run.rows[name] = cursor.rowcount
        run.total = time.perf_counter() - began
    finally:
        rolled = time.perf_counter()
        cursor.execute("ROLLBACK")
        run.rollback = time.perf_counter() - rolled
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--history", action="store_true", help="also the creation events and the audit entries"
    )
    parser.add_argument(
        "--no-settle", action="store_true", help="do not vacuum the tables before each run"
    )
    args = parser.parse_args()
    org, user, (start, end) = network_billing_and_month()
    params: dict[str, object] = {"org": org.pk, "start": start, "end": end, "user": user.pk}
    steps = [("claims", CLAIMS), ("lines", LINES), ("charges", CHARGES)]
    if args.history:
        steps += [("events", EVENTS), ("audit", AUDIT)]

    agg_runs: list[float] = []
    write_runs: list[_Run] = []
    groups: list[Any] = []
    connection.ensure_connection()
    raw: Any = connection.connection  # psycopg connection: explicit BEGIN / ROLLBACK below
    raw.autocommit = True
    with raw.cursor() as cursor:
        for _ in range(max(1, args.runs)):
            if not args.no_settle:
                cursor.execute(f"VACUUM (ANALYZE) {SETTLE}")
            began = time.perf_counter()
            cursor.execute(AGGREGATION, [org.pk, start, end])
            groups = cursor.fetchall()
            agg_runs.append(time.perf_counter() - began)
            write_runs.append(_writes(cursor, steps, params))
    charges = sum(int(row[6]) for row in groups)
    best_agg = min(agg_runs)
    best = min(write_runs, key=lambda r: r.total)
    rows = best.rows
    if rows["claims"] != len(groups) or rows["lines"] != charges or rows["charges"] != charges:
        sys.exit(f"the writes do not match the aggregation: {rows} vs {len(groups)}, {charges}")
    print(
        json.dumps(
            {
                "database": connection.settings_dict["NAME"],
                "period": f"{start.isoformat()}..{end.isoformat()}",
                "claim_keys": len(groups),
                "charges": charges,
                "history": args.history,
                "settled": not args.no_settle,
                "rows_written": rows,
                "aggregation_ms": _ms(best_agg),
                "aggregation_ms_each": [_ms(t) for t in agg_runs],
                "writes_ms": _ms(best.total),
                "writes_ms_each": [_ms(r.total) for r in write_runs],
                "writes_steps_ms": {k: _ms(v) for k, v in best.steps.items()},
                "rollback_ms": _ms(best.rollback),
                "ratio_writes_to_aggregation": round(best.total / best_agg, 2),
                "budget": 2.0,
            }
        )
    )


if __name__ == "__main__":
    main()
