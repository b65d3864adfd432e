"""Safety-alert escalation as a job on the task queue (measures.tasks)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.urls import reverse

from openiop.core import jobs
from openiop.core.models import JobStatus
from openiop.measures import services, tasks
from openiop.measures.models import SiteSafetySettings

if TYPE_CHECKING:
    import pytest
    from django.test import Client

    from openiop.measures.tests.conftest import Clinic


def test_the_escalation_job_escalates_overdue_alerts_and_its_page_names_no_patient(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, client: Client, mfa_passed: None
) -> None:
    SiteSafetySettings.objects.create(
        site=clinic.site, on_call=clinic.on_call, escalation_minutes=30, director=clinic.director
    )
    alert = services.safety_alert_flag(
        episode=clinic.episode, risk_level="high", note="x", by=clinic.actor(clinic.clinician)
    )
    monkeypatch.setattr(services, "now", lambda: alert.created_at + dt.timedelta(minutes=31))

    job = jobs.enqueue(tasks.escalate_alerts)
    jobs.run_queued()

    alert.refresh_from_db()
    job.refresh_from_db()
    assert alert.escalated_to == clinic.director
    assert (job.status, job.outcome) == (JobStatus.SUCCEEDED, "Escalated 1 alert(s).")
    assert job.max_attempts == 3

    client.force_login(clinic.director)
    page = client.get(reverse("jobs:list")).content.decode()
    assert "Escalated 1 alert(s)." in page
    assert "Sparrowgrass" not in page
    assert "Wendeline" not in page
