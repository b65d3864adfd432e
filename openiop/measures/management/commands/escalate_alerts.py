"""`openiop escalate_alerts`: send safety alerts left unacknowledged too long to the director.

Run it every few minutes (cron or a timer). Idempotent: an alert is escalated once; running it again
changes nothing. The time allowed is per site (SiteSafetySettings.escalation_minutes).
"""

from __future__ import annotations

from typing import Any

from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.measures.services import alerts_escalate


class Command(ProjectCommand):
    help = "Escalate unacknowledged safety alerts to the program director."

    def handle(self, *args: Any, **options: Any) -> None:
        escalated = alerts_escalate(by=Actor.system("escalate_alerts"))
        for alert in escalated:
            to = alert.escalated_to.get_full_name() if alert.escalated_to else "no director on file"
            self.stdout.write(f"Escalated safety alert {alert.pk} to {to}.")
        self.stdout.write(f"Escalated {len(escalated)} alert(s).")
