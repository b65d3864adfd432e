"""Background jobs of billing (run by `openiop worker`), calling the same services as the
command line."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from openiop.accounts.models import User
from openiop.billing.services import (
    authorization_alerts_raise,
    charges_post,
    claims_build,
    reminders_send,
)
from openiop.core.actor import Actor
from openiop.core.jobs import job, report_progress
from openiop.programs.models import Site


@job(max_attempts=3, retry_delay=dt.timedelta(minutes=1))
def post_charges(
    period_start: str, period_end: str, user_id: int, site_id: int | None = None
) -> str:
    """Post the charges of a period (ISO dates, both included) at one site or at every site the
    user may see, as that user (`charges_post`: their role and sites apply and the posting is
    audited under their name, channel "task"). Reports progress site by site; returns the counts
    as a sentence. Retrying is safe: a posting run twice posts nothing the second time."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise LookupError(f"No active staff user {user_id} to post charges as.")
    start, end = dt.date.fromisoformat(period_start), dt.date.fromisoformat(period_end)
    site = Site.objects.get(pk=site_id) if site_id is not None else None
    actor = Actor(
        user=user,
        channel="task",
        client_addr="local",
        path=f"post_charges {period_start}..{period_end}" + (f" site {site_id}" if site else ""),
    )
    report_progress(0, None, "Posting charges")
    result = charges_post(
        by=actor,
        period_start=start,
        period_end=end,
        site=site,
        on_progress=lambda done, total: report_progress(done, total, "sites posted"),
    )
    return result.sentence


@job(max_attempts=3, retry_delay=dt.timedelta(minutes=5))
def send_payment_reminders() -> str:
    """Record the payment-plan reminders due today (`reminders_send`, scheduled daily in
    core.jobs.PERIODIC), through settings.OPENIOP_PAYMENT_REMINDER_CHANNEL; each reminder key is
    sent once, so a retry or a second run sends nothing again. Returns the counts as a sentence."""
    return reminders_send(
        by=Actor.system("send_payment_reminders"),
        days_before=settings.OPENIOP_PAYMENT_REMINDER_DAYS_BEFORE,
        channel=settings.OPENIOP_PAYMENT_REMINDER_CHANNEL,
    ).sentence


@job(max_attempts=3, retry_delay=dt.timedelta(minutes=5))
def raise_authorization_alerts() -> str:
    """Daily: the authorization alerts (80% used, 7 days before the end) and the Medicare
    certification alerts, as episodes' staff alerts; a rerun raises nothing twice
    (`authorization_alerts_raise`). Runs as the system (channel "task")."""
    actor = Actor.system("raise_authorization_alerts")
    report_progress(0, None, "Checking authorizations and certifications")
    return authorization_alerts_raise(by=actor).sentence


@job(max_attempts=1)
def build_claims(
    period_start: str, period_end: str, user_id: int, site_id: int | None = None
) -> str:
    """Build draft claims from the open charges of a period (ISO dates, both included) at one
    site or at every site the user may see, as that user (`claims_build`: their role and sites
    apply, audited under their name, channel "task"). Reports progress site by site; returns the
    counts as a sentence (no patient data). Not retried: a build that failed wrote nothing of
    the failing site, and a second run builds only what is still open."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise LookupError(f"No active staff user {user_id} to build claims as.")
    start, end = dt.date.fromisoformat(period_start), dt.date.fromisoformat(period_end)
    site = Site.objects.get(pk=site_id) if site_id is not None else None
    actor = Actor(
        user=user,
        channel="task",
        client_addr="local",
        path=f"build_claims {period_start}..{period_end}" + (f" site {site_id}" if site else ""),
    )
    report_progress(0, None, "Building claims")
    result = claims_build(
        by=actor,
        period_start=start,
        period_end=end,
        site=site,
        on_progress=lambda done, total: report_progress(done, total, "sites built"),
    )
    return result.sentence
