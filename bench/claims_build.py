"""Time a month-end claims build of a whole synthetic network as a background job, against the SQL
aggregation that feeds it (issue 16, point 8: at most 2x).

Run with DATABASE_URL pointing at a database filled by `openiop synth` (which posts last month's
charges). Prints one JSON object on its last line.

1. The aggregation: one query grouping the month's open charges of the network per claim key
   (patient, coverage, payer, episode, program, form) with their count and total: what the
   builder reads before it decides anything. The best of `--sql-runs` runs, timed from this
   process (the query's round trip included).
2. The build: billing.tasks.build_claims for that month, for every site the network's billing
   user sees, enqueued on the app's task queue (core.jobs.enqueue) and run by a database worker
   in this process (core.jobs.run_queued, as `openiop worker --once`), timed from enqueue to the
   job's end; the job must succeed and build claims.
3. Afterwards the claims of that build are deleted and their charges opened again, so that the
   next run measures the same work: the benchmark's own bookkeeping on its own database, not
   something the app does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.config.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402

from openiop.accounts.models import User  # noqa: E402
from openiop.billing import tasks  # noqa: E402
from openiop.billing.models import Charge, Claim  # noqa: E402
from openiop.core import jobs  # noqa: E402
from openiop.core.models import Job, JobStatus  # noqa: E402
from openiop.programs.models import Organization  # noqa: E402

BUDGET = 2.0

AGGREGATION = """
SELECT c.patient_id, c.coverage_id, c.payer_id, c.episode_id, c.track_id, c.claim_form,
       count(*) AS lines, sum(c.amount) AS total, min(c.service_date), max(c.service_date)
FROM billing_charge c
JOIN programs_site s ON s.id = c.site_id
WHERE s.organization_id = %s AND c.status = 'open' AND c.coverage_id IS NOT NULL
  AND c.service_date BETWEEN %s AND %s
GROUP BY c.patient_id, c.coverage_id, c.payer_id, c.episode_id, c.track_id, c.claim_form
"""


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def undo_build(org_id: int, start: dt.date, end: dt.date) -> int:
    """Delete the network's claims for the month and open their charges again; returns how many
    claims were deleted."""
    with transaction.atomic():
        claims = Claim.objects.filter(
            site__organization_id=org_id, period_start=start, period_end=end
        )
        charge_ids = list(claims.values_list("lines__charge_id", flat=True))
        count = claims.count()
        claims.delete()
        Charge.objects.filter(pk__in=[c for c in charge_ids if c]).update(status="open")
    return count


def network_billing_and_month() -> tuple[Organization, User, tuple[dt.date, dt.date]]:
    """The synthetic network `openiop synth` built, its billing user and last month (first and
    last day): what a month-end build of the whole network is run for."""
    org = Organization.objects.filter(name__startswith="Synthetic Network").order_by("id").first()
    if org is None:
        sys.exit("no synthetic network in this database: run openiop synth first")
    user = User.objects.get(username=f"o{org.pk}-billing")
    return org, user, last_month(dt.datetime.now(dt.UTC).date())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql-runs", type=int, default=5)
    args = parser.parse_args()
    org, user, (start, end) = network_billing_and_month()
    undo_build(org.pk, start, end)  # a run stopped halfway left its claims

    timings = []
    with connection.cursor() as cursor:
        for _ in range(max(1, args.sql_runs)):
            began = time.perf_counter()
            cursor.execute(AGGREGATION, [org.pk, start, end])
            groups = cursor.fetchall()
            timings.append(time.perf_counter() - began)
    sql_s = min(timings)
    charges = sum(row[6] for row in groups)

    began = time.perf_counter()
    row = jobs.enqueue(tasks.build_claims, start.isoformat(), end.isoformat(), user.pk)
    jobs.run_queued()
    build_s = time.perf_counter() - began
    row.refresh_from_db()
    if row.status != JobStatus.SUCCEEDED:
        sys.exit(f"the build job ended {row.status}: {row.error}")
    claims = Claim.objects.filter(site__organization_id=org.pk, period_start=start).count()
    if not claims:
        sys.exit(f"the build built no claim: {row.outcome}")
    undone = undo_build(org.pk, start, end)
    Job.objects.filter(pk=row.pk).delete()
    ratio = build_s / sql_s
    print(
        json.dumps(
            {
                "period": f"{start.isoformat()}..{end.isoformat()}",
                "charges": charges,
                "claim_keys": len(groups),
                "claims": claims,
                "claims_undone": undone,
                "outcome": row.outcome,
                "sql_ms": round(sql_s * 1000, 2),
                "sql_ms_each": [round(t * 1000, 2) for t in timings],
                "build_ms": round(build_s * 1000, 1),
                "ratio": round(ratio, 1),
                "budget": BUDGET,
                "within_budget": ratio <= BUDGET,
            }
        )
    )


if __name__ == "__main__":
    main()
