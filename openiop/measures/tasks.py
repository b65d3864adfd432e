"""Background jobs of the measures app (run by `openiop worker`; scheduled in core.jobs.PERIODIC)."""

from __future__ import annotations

import datetime as dt

from openiop.core.actor import Actor
from openiop.core.jobs import job
from openiop.measures.services import alerts_escalate


@job(max_attempts=3, retry_delay=dt.timedelta(seconds=20))
def escalate_alerts() -> str:
    """Send safety alerts left unacknowledged too long to the director (the service
    `alerts_escalate`, as `openiop escalate_alerts` does); returns how many, as a sentence."""
    escalated = alerts_escalate(by=Actor.system("escalate_alerts"))
    return f"Escalated {len(escalated)} alert(s)."
