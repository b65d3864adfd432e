"""Reads of questionnaire scores, alerts and safety plans: access checked and audited here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.episodes.models import Episode
from openiop.measures.domain import REGISTRY
from openiop.measures.models import Response


@dataclass(frozen=True)
class ScoreSummary:
    """First and latest score of one instrument in one episode (for the discharge summary).

    `total` fields are None for instruments without a total (C-SSRS, BAM): read `band`/`subscales`.
    `change` is latest minus first total (negative = fewer symptoms), None without totals.
    """

    instrument: str
    label: str
    count: int
    first_total: int | None
    first_band: str
    first_date: dt.date
    latest_total: int | None
    latest_band: str
    latest_date: dt.date
    first_subscales: Mapping[str, int] = field(default_factory=dict)
    latest_subscales: Mapping[str, int] = field(default_factory=dict)

    @property
    def change(self) -> int | None:
        if self.first_total is None or self.latest_total is None:
            return None
        return self.latest_total - self.first_total


def score_summary_for_episode(
    *, episode: Episode, actor: Actor | None = None
) -> list[ScoreSummary]:
    """Per instrument given in `episode`: first and latest total, band and date, in registry order.

    One query. With `actor`, checks Cap.CLINICAL_VIEW for the patient (NotPermitted, audited) and
    writes a view entry; without it the caller (e.g. the discharge summary's own selector) must
    already have checked access and audited the read. Dates are in the episode site's time zone.
    """
    if actor is not None:
        require_patient(actor, Cap.CLINICAL_VIEW, episode.patient, object_type="measure_scores")
        audit_record(
            actor,
            action=AuditAction.VIEW,
            patient_id=episode.patient_id,
            object_type="measure_scores",
            object_id=episode.pk,
        )
    tz = episode.site.tz
    by_instrument: dict[str, list[Response]] = {}
    for response in Response.objects.filter(episode=episode).order_by("administered_at", "id"):
        by_instrument.setdefault(response.instrument, []).append(response)
    summaries: list[ScoreSummary] = []
    for key, instrument in REGISTRY.items():
        rows = by_instrument.get(key)
        if not rows:
            continue
        first, latest = rows[0], rows[-1]
        summaries.append(
            ScoreSummary(
                instrument=key,
                label=instrument.label,
                count=len(rows),
                first_total=first.total,
                first_band=first.band,
                first_date=first.administered_at.astimezone(tz).date(),
                latest_total=latest.total,
                latest_band=latest.band,
                latest_date=latest.administered_at.astimezone(tz).date(),
                first_subscales=dict(first.subscales),
                latest_subscales=dict(latest.subscales),
            )
        )
    return summaries
