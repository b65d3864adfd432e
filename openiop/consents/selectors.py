"""Reads of consents and disclosures, and the seam every way out calls before Part 2 records leave
the program (42 CFR Part 2, ../shared/domain.md section 5).

The seam for other interfaces (FHIR, bulk export, portal, print, claims):

    release = part2_release(patient_ids=..., recipient=Recipient(...), purpose="treatment")
    release.allows(patient_id)          # may this patient's Part 2 records go?
    release.consent_for(patient_id)     # the consent that covers it (for the accounting)
    kept, withheld = split_part2(records, release, type_of=..., patient_id_of=...)

then `consents.services.disclosure_record(...)` for what went, and `withheld.sentence` (counts by
type, never contents) in the response.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from openiop.accounts.access import get_for
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.consents import domain
from openiop.consents.domain import ConsentTerms, Decision, Recipient, Withheld
from openiop.consents.models import Consent, Disclosure
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.episodes.choices import OPEN_STATUSES
from openiop.episodes.models import Episode
from openiop.patients.models import Patient

if TYPE_CHECKING:
    from openiop.admissions.models import IntakeDocument

R = TypeVar("R")


def _terms_queryset(patient_ids: Iterable[int]) -> QuerySet[Consent]:
    episodes = Episode.objects.filter(patient_id=OuterRef("patient_id"))
    return (
        Consent.objects.filter(patient_id__in=list(patient_ids))
        .annotate(
            open_episode=Exists(episodes.filter(status__in=[s.value for s in OPEN_STATUSES])),
            last_discharge=Subquery(
                episodes.values("patient_id").annotate(d=Max("discharge_date")).values("d")[:1]
            ),
        )
        .order_by("patient_id", "-signed_at", "-id")
    )


def terms_of(consent: Consent) -> ConsentTerms:
    """A consent's deciding elements (domain.ConsentTerms). On a row from consent_terms_for the
    end of treatment is known; on another row, treatment counts as not ended."""
    ended = None
    if consent.expiry_event == domain.END_OF_TREATMENT and not getattr(
        consent, "open_episode", True
    ):
        ended = getattr(consent, "last_discharge", None)
    return ConsentTerms(
        consent_id=consent.pk,
        recipient_kind=consent.recipient_kind,
        recipient_identifier=consent.recipient_identifier or consent.recipient_name,
        purpose=consent.purpose,
        effective_on=consent.effective_on,
        expires_on=consent.expires_on,
        expiry_event=consent.expiry_event,
        treatment_ended_on=ended,
        revoked_at=consent.revoked_at,
    )


def consent_terms_for(patient_ids: Iterable[int]) -> dict[int, list[ConsentTerms]]:
    """Every consent of these patients as domain terms, by patient: ONE query, whatever the
    number of patients. No access check or audit: the caller decides a disclosure it checked."""
    found: dict[int, list[ConsentTerms]] = defaultdict(list)
    for consent in _terms_queryset(patient_ids):
        found[consent.patient_id].append(terms_of(consent))
    return found


@dataclass(frozen=True)
class Release:
    """Which patients' Part 2 records may go to one recipient for one purpose, and why not."""

    recipient: Recipient
    purpose: str
    on: dt.datetime
    permitted: dict[int, int | None] = field(default_factory=dict)  # patient -> consent id
    withheld: dict[int, Decision] = field(default_factory=dict)

    def allows(self, patient_id: int) -> bool:
        return patient_id in self.permitted

    def consent_for(self, patient_id: int) -> int | None:
        return self.permitted.get(patient_id)


def part2_release(
    *,
    patient_ids: Iterable[int],
    recipient: Recipient,
    purpose: str,
    on: dt.datetime | None = None,
) -> Release:
    """Decide, for each patient, whether their Part 2 records may be disclosed to `recipient` for
    `purpose` at `on` (default now): domain.disclosure_decision over the consents on file.

    One query for any number of patients (none when the recipient is inside the program). The
    caller has checked the actor's access to the patients; it passes the patients whose results
    hold Part 2 records (rows with part2=True, or an episode with part2_protected)."""
    ids = sorted(set(patient_ids))
    when = on or timezone.localtime()
    if recipient.inside_program:
        inside = domain.disclosure_decision((), recipient, purpose, when)
        return Release(recipient, purpose, when, permitted=dict.fromkeys(ids, inside.consent_id))
    terms = consent_terms_for(ids) if ids else {}
    permitted: dict[int, int | None] = {}
    withheld: dict[int, Decision] = {}
    for pid in ids:
        decision = domain.disclosure_decision(terms.get(pid, ()), recipient, purpose, when)
        if decision.permitted:
            permitted[pid] = decision.consent_id
        else:
            withheld[pid] = decision
    return Release(recipient, purpose, when, permitted=permitted, withheld=withheld)


def split_part2(
    records: Iterable[R],
    release: Release,
    *,
    patient_id_of: Callable[[R], int],
    type_of: Callable[[R], str] = lambda r: type(r).__name__,
    is_part2: Callable[[R], bool] = lambda r: bool(getattr(r, "part2", False)),
) -> tuple[list[R], Withheld]:
    """Keep the records that may go: those not Part 2, and the Part 2 records of patients the
    release allows. Returns them and what was withheld (counts by type, never contents)."""
    kept: list[R] = []
    withheld: list[tuple[str, int]] = []
    for record in records:
        pid = patient_id_of(record)
        if is_part2(record) and not release.allows(pid):
            withheld.append((type_of(record), pid))
        else:
            kept.append(record)
    return kept, domain.withheld_summary(withheld)


def patient_part2_ids(patient_ids: Iterable[int]) -> set[int]:
    """Which of these patients have Part 2 records (an episode marked part2_protected): one query."""
    return set(
        Episode.objects.filter(patient_id__in=list(patient_ids), part2_protected=True)
        .values_list("patient_id", flat=True)
        .distinct()
    )


# --- pages --------------------------------------------------------------------------------------


def patient_for(
    *, actor: Actor, patient_id: int, cap: Cap, purpose: str, action: str = AuditAction.VIEW
) -> Patient:
    """The patient of a consents page, audited once as `purpose` (`action`: a view, or an export
    for the PDF). Raises NotFound; NotPermitted (audited) without `cap` at the patient's site."""
    return get_for(
        actor,
        Patient.objects.select_related("site", "organization"),
        patient_id,
        cap=cap,
        object_type=purpose,
        missing=NotFound("There is no patient with this number.", code="patient_not_found"),
        patient_of=lambda p: p,
        action=action,
    )


def consents_of(patient: Patient) -> list[Consent]:
    """A patient already loaded through patient_for: their consents, newest first, with who
    recorded and revoked them (one query)."""
    return list(
        Consent.objects.filter(patient=patient).select_related(
            "recorded_by", "revoked_by", "intake_document"
        )
    )


def consent_get(*, actor: Actor, consent_id: int, cap: Cap = Cap.CONSENT_VIEW) -> Consent:
    """One consent (with its patient), audited. Raises NotFound; NotPermitted (audited)."""
    return get_for(
        actor,
        Consent.objects.select_related("patient", "patient__site"),
        consent_id,
        cap=cap,
        object_type="consent",
        missing=NotFound("There is no such consent.", code="consent_not_found"),
        patient_of=lambda c: c.patient,
    )


def disclosures_of(patient: Patient, *, since: dt.date | None = None) -> QuerySet[Disclosure]:
    """The accounting of disclosures of a patient already loaded through patient_for (audited
    there), since `since` (default: the prior three years, 42 CFR 2.25), newest first."""
    first = since or domain.accounting_since(timezone.localdate(timezone=patient.site.tz))
    return Disclosure.objects.filter(patient=patient, at__date__gte=first).select_related("consent")


def payer_choices(patient: Patient) -> list[tuple[int, str]]:
    """The payers of the patient's organization, by name, for a consent naming one payer."""
    from openiop.billing.models import Payer

    return list(
        Payer.objects.filter(organization_id=patient.organization_id)
        .order_by("name")
        .values_list("id", "name")
    )


def unlinked_intake_consents(patient: Patient) -> list[IntakeDocument]:
    """The patient's signed Part 2 consents of the intake packet that no Consent records yet
    (their wording was not clear enough to read as data): staff record them by hand."""
    from openiop.admissions.domain.packet import PART2_CONSENT
    from openiop.admissions.models import IntakeDocument

    return list(
        IntakeDocument.objects.filter(
            patient=patient, kind=PART2_CONSENT, signed_at__isnull=False, consent__isnull=True
        ).order_by("signed_at")
    )


def intake_consent_document(patient: Patient, document_id: int | None) -> IntakeDocument | None:
    """The patient's signed, unlinked intake Part 2 consent with this id, or None."""
    if document_id is None:
        return None
    return next((d for d in unlinked_intake_consents(patient) if d.pk == document_id), None)
