"""Background job of the week's plan (run by `openiop worker`)."""

from __future__ import annotations

from openiop.core.jobs import job, report_progress
from openiop.planning.solve import proposal_failed, proposal_solve, solve_seconds


@job(max_attempts=1)
def solve_plan(proposal_id: int) -> str:
    """Plan a queued proposal's week (plan_week, OPENIOP_PLANNING_SECONDS) and store the
    solution as a draft. Returns counts, never names. A failure marks the proposal failed."""
    report_progress(0, 1, f"Planning (up to {solve_seconds():.0f} s)")
    try:
        outcome = proposal_solve(proposal_id=proposal_id)
    except Exception as exc:
        proposal_failed(proposal_id=proposal_id, error=f"{type(exc).__name__}: {exc}")
        raise
    report_progress(1, 1, "Planned")
    return outcome
