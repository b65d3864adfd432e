"""For web/tests/conftest.py's world: a draft week plan naming the world's patient, so the walks
of every page (patient data, bad input, offered actions) cover the plan pages."""

from __future__ import annotations

from typing import Any

from openiop.core.dates import IsoWeek
from openiop.planning.builder import build_week
from openiop.planning.domain.jsonio import instance_to_dict, solution_to_dict
from openiop.planning.domain.plan import plan_week
from openiop.planning.models import PlanProposal, ProposalStatus


def world_plan_ids(site: Any, today: Any, user: Any) -> dict[str, int]:
    built = build_week(site=site, week=IsoWeek.of(today), today=today)
    solution = plan_week(built.instance, use_cpsat=False)  # the greedy plan: instant
    proposal = PlanProposal.objects.create(
        site=site,
        week_start=IsoWeek.of(today).monday,
        instance=instance_to_dict(built.instance),
        solution=solution_to_dict(solution),
        status=ProposalStatus.DRAFT,
        created_by=user,
    )
    return {"proposal_id": proposal.pk}
