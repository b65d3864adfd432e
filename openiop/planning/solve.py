"""The planner's run on a stored proposal: the background job's body (planning.tasks)."""

from __future__ import annotations

from django.conf import settings

from openiop.core.clock import now
from openiop.planning.domain.jsonio import instance_from_dict, solution_to_dict
from openiop.planning.domain.plan import plan_week
from openiop.planning.models import PlanProposal, ProposalStatus


def solve_seconds() -> float:
    """The planner's time limit for a proposal (setting OPENIOP_PLANNING_SECONDS, default 10)."""
    return float(getattr(settings, "OPENIOP_PLANNING_SECONDS", 10))


def proposal_solve(*, proposal_id: int) -> str:
    """Run the planner on a queued proposal (the background job's body); returns a sentence of
    counts. Safe to run again: a proposal no longer queued is left alone."""
    proposal = PlanProposal.objects.filter(pk=proposal_id).first()
    if proposal is None or proposal.status != ProposalStatus.QUEUED:
        return "Nothing to plan."
    instance = instance_from_dict(proposal.instance)
    solution = plan_week(instance, time_limit_seconds=solve_seconds())
    updated = PlanProposal.objects.filter(pk=proposal.pk, status=ProposalStatus.QUEUED).update(
        solution=solution_to_dict(solution), status=ProposalStatus.DRAFT, updated_at=now()
    )
    if not updated:
        return "The proposal was discarded while it was planned."
    added = len(set(solution.patient_sessions) - set(instance.fixed.patient_sessions))
    return (
        f"Planned {len(instance.patients)} patients: {added} added to sessions, "
        f"{len(solution.shortfalls)} still short."
    )


def proposal_failed(*, proposal_id: int, error: str) -> None:
    PlanProposal.objects.filter(pk=proposal_id, status=ProposalStatus.QUEUED).update(
        status=ProposalStatus.FAILED, error=error[:300], updated_at=now()
    )
