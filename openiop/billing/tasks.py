"""Background jobs of billing (run by `openiop worker`), calling the same services as the
command line."""

from __future__ import annotations

import datetime as dt

from openiop.accounts.models import User
from openiop.billing.services import charges_post, claims_build
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
