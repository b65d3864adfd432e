"""The consents block of the demo clinic: the single TPO consent (42 CFR 2.31(a)(4)-(5)) that
patients of substance-use care sign in their intake packet, recorded through the consents service
by the site's intake coordinator. Called by `openiop demo` before the billing block, whose claims
to payers need it (billing's part2_consent_missing edit).

The newest patient in care has none on file yet (their Consents page shows what is missing, and
any claim of theirs would be held by the scrubber); one discharged patient revoked theirs in
writing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.consents import services
from openiop.consents.choices import ConsentSource, Purpose, RecipientKind
from openiop.core.actor import Actor
from openiop.episodes.models import Episode

INFORMATION = (
    "My substance use disorder treatment records at this program: diagnoses, admission and "
    "discharge dates, services and attendance, treatment plan and progress."
)


def build_consents_demo(builder: Any) -> None:
    """Add the demo's Part 2 consents (uses the builder's organization, sites and staff)."""
    episodes = list(
        Episode.objects.filter(site__organization=builder.org, part2_protected=True)
        .select_related("patient", "site")
        .order_by("admission_date", "id")
    )
    in_care = [e for e in episodes if e.status in ("active", "on_hold")]
    without = in_care[-1].patient_id if in_care else None  # the newest admission: not yet signed
    intake = {
        builder.riverbend.pk: Actor.cli(builder.staff["intake"], "demo"),
        builder.cedar.pk: Actor.cli(builder.staff["intake2"], "demo"),
    }
    recorded: dict[int, Any] = {}
    for episode in episodes:
        patient = episode.patient
        if patient.pk == without or patient.pk in recorded:
            continue
        signed_at = dt.datetime.combine(
            episode.admission_date, dt.time(10, 15), tzinfo=episode.site.tz
        )
        recorded[patient.pk] = services.consent_record(
            patient=patient,
            information=INFORMATION,
            recipient_kind=RecipientKind.TPO_CLASS,
            purpose=Purpose.TPO,
            effective_on=episode.admission_date,
            signed_by_name=patient.legal_name,
            signed_at=signed_at,
            source=ConsentSource.INTAKE_PACKET,
            by=intake[episode.site_id],
        )
    discharged = [e for e in episodes if e.status == "discharged" and e.patient_id in recorded]
    revoked = 0
    if discharged:
        last = discharged[-1]
        services.consent_revoke(
            consent=recorded[last.patient_id],
            note="Written revocation handed in at discharge (demo).",
            by=intake[last.site_id],
        )
        revoked = 1
    builder.out(
        f"  consents: {len(recorded)} Part 2 TPO consents ({revoked} revoked), "
        f"{1 if without else 0} patient in care without one"
    )
