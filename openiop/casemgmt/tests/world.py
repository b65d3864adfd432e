"""For web/tests/conftest.py's world: case management records about the world's patient, so the
walks of every page (patient data, bad input, offered actions) cover the case management pages:
a resource with a referral, a ride to the world's session, and a task on the director's list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.casemgmt.models import CaseTask, CommunityResource, Referral, SupportRequest


def world_casemgmt_ids(
    site: Any, patient: Any, episode: Any, session: Any, users: dict[str, Any]
) -> dict[str, int]:
    resource = CommunityResource.objects.create(
        site=site, kind="food", name="Thimbleberry Food Pantry (fictional)", phone="555-0142"
    )
    Referral.objects.create(
        episode=episode, patient=patient, resource=resource, created_by=users["case_manager"]
    )
    SupportRequest.objects.create(
        episode=episode,
        patient=patient,
        session=session,
        kind="transportation",
        pickup_address="12 Nowhere Lane",
        pickup_at=session.starts_at - dt.timedelta(minutes=45),
        created_by=users["case_manager"],
    )
    CaseTask.objects.create(
        site=site,
        owner=users["director"],
        episode=episode,
        patient=patient,
        title="Call the pantry about a delivery",
        due_on=session.date,
        created_by=users["case_manager"],
    )
    return {"resource_id": resource.pk}
