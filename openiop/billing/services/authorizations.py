"""Payer authorizations, Medicare IOP physician certifications and concurrent-review packets:
one doorway per write, audited (issue 16, point 3).

Writes need Cap.REVENUE_MANAGE (billing and the director) at the patient's site; recording the
reason to continue of a concurrent-review packet needs Cap.CLINICAL_VIEW there (the packet is
clinical: the clinician and the director print it; billing staff see usage and forecasts, not the
packet). Every row is checked by billing.domain.authorizations' own types before it is saved, and
each refusal names the field to fix.

The alerts job (`authorization_alerts_raise`) stores the domain's alerts as episodes.Alert rows,
one per episode, kind and dedupe key (the same unique key attendance's absence alerts use), so a
rerun raises nothing twice. How many days before a recertification is due to warn is
configuration with no default (settings.RECERTIFICATION_WARN_DAYS, env
OPENIOP_RECERTIFICATION_WARN_DAYS): domain.md 2.1 says "alert before due dates" without a figure;
unset, only lapsed and missing certifications alert.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.admissions.services.common import validate_model
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.choices import PayerType
from openiop.billing.domain import authorizations as rules
from openiop.billing.models import (
    Authorization,
    ConcurrentReview,
    Coverage,
    PhysicianCertification,
)
from openiop.billing.review_packet import ReviewPacket, packet_for
from openiop.billing.selectors_authorizations import (
    authorization_states,
    certification_clock,
    certification_of,
)
from openiop.consents.choices import Channel
from openiop.consents.domain import PAYMENT, Recipient, redisclosure_notice
from openiop.consents.selectors import part2_release
from openiop.consents.services import DisclosureItem, disclosure_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import OPEN_STATUSES, AlertStatus
from openiop.episodes.models import Alert, Episode
from openiop.patients.models import Patient

AUTHORIZATION_FIELDS = (
    "reference_number",
    "unit_kind",
    "quantity",
    "start_date",
    "end_date",
    "service_codes",
    "note",
)
CERTIFICATION_FIELDS = (
    "physician_name",
    "physician_npi",
    "signed_on",
    "start_date",
    "end_date",
    "certified_weekly_minutes",
    "interval",
)
REASON_MAX_CHARS = 4000


def recertification_warn_days() -> int | None:
    """settings.RECERTIFICATION_WARN_DAYS: days before a recertification is due to alert, or None
    (not configured: no due-soon alert). Configuration, not a rule: domain.md gives no figure."""
    value = getattr(settings, "RECERTIFICATION_WARN_DAYS", None)
    return None if value is None else int(value)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _unknown(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")


def parse_codes(value: object) -> list[str]:
    """'H0015, s9480' or ['H0015'] -> ['H0015', 'S9480'] (upper case, each once, in order)."""
    if isinstance(value, str):
        items: list[object] = list(re.split(r"[\s,]+", value))
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = []
    codes: list[str] = []
    for item in items:
        code = str(item).strip().upper()
        if code and code not in codes:
            codes.append(code)
    return codes


# --- authorizations ---------------------------------------------------------------------------


def _patient_of(coverage: Coverage) -> Patient:
    if coverage.patient_id is None:
        raise RuleViolation(
            "This coverage belongs to an inquiry that is not admitted yet: record the "
            "authorization once the person is a patient.",
            code="coverage_no_patient",
            field="coverage",
        )
    patient = coverage.patient
    assert patient is not None
    return patient


def authorization_check(row: Authorization) -> None:
    """Raise RuleViolation, on the field to fix, unless `row` is a valid authorization."""
    row.service_codes = parse_codes(row.service_codes)
    validate_model(row, exclude=["coverage", "created_by"])
    if not row.reference_number.strip():
        raise RuleViolation(
            "Enter the payer's reference number.", code="reference", field="reference_number"
        )
    if row.quantity < 1:
        raise RuleViolation("Authorize 1 or more.", code="quantity", field="quantity")
    if row.end_date < row.start_date:
        raise RuleViolation(
            "The authorization cannot end before it starts.", code="dates", field="end_date"
        )
    if not row.service_codes:
        raise RuleViolation(
            "List the service codes it covers (for example H0015).",
            code="codes",
            field="service_codes",
        )
    for code in row.service_codes:
        if not (len(code) == 5 and code.isalnum()):
            raise RuleViolation(
                f"'{code}' is not a five-character procedure code.",
                code="codes",
                field="service_codes",
            )
    clash = Authorization.objects.filter(
        coverage_id=row.coverage_id, reference_number=row.reference_number
    ).exclude(pk=row.pk)
    if clash.exists():
        raise RuleViolation(
            f"This coverage already has authorization {row.reference_number}.",
            code="reference_taken",
            field="reference_number",
        )


def authorization_create(*, coverage: Coverage, by: Actor, **fields: Any) -> Authorization:
    """Record a payer's authorization on a patient's coverage (AUTHORIZATION_FIELDS). Raises
    RuleViolation (field named) for invalid input or a coverage with no patient; NotPermitted
    (audited) without Cap.REVENUE_MANAGE at the patient's site."""
    _unknown(fields, AUTHORIZATION_FIELDS)
    patient = _patient_of(coverage)
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type="authorization")
    assert by.user is not None
    row = Authorization(coverage=coverage, created_by=by.user, **fields)
    with transaction.atomic():
        Coverage.objects.select_for_update().filter(pk=coverage.pk).first()
        authorization_check(row)
        row.save()
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=patient.pk,
            object_type="authorization",
            object_id=row.pk,
            detail={f: _plain(getattr(row, f)) for f in AUTHORIZATION_FIELDS if f != "note"},
        )
    return row


def _update(
    *,
    model: type[Authorization] | type[PhysicianCertification],
    row: Any,
    patient: Patient,
    expected_version: int | None,
    by: Actor,
    fields: dict[str, Any],
    check: Callable[[Any], None],
    object_type: str,
) -> Any:
    require_patient(by, Cap.REVENUE_MANAGE, patient, object_type=object_type)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=row.pk)
        before = {f: getattr(current, f) for f in fields}
        for name, value in fields.items():
            setattr(current, name, value)
        check(current)
        changed = [f for f in fields if getattr(current, f) != before[f]]
        save_if_unchanged(current, expected_version=expected_version, fields=[*changed])
        if changed:
            audit_record(
                by,
                action=AuditAction.UPDATE,
                patient_id=patient.pk,
                object_type=object_type,
                object_id=current.pk,
                detail={
                    "fields": changed,
                    "before": {f: _plain(before[f]) for f in changed},
                    "after": {f: _plain(getattr(current, f)) for f in changed},
                },
            )
    return current


def authorization_update(
    *, authorization: Authorization, expected_version: int | None, by: Actor, **fields: Any
) -> Authorization:
    """Change an authorization (an amendment: more units, other dates). Audited with the fields
    changed, before and after. Raises as authorization_create, and Conflict when someone saved it
    since `expected_version` was read."""
    _unknown(fields, AUTHORIZATION_FIELDS)
    patient = _patient_of(authorization.coverage)
    result: Authorization = _update(
        model=Authorization,
        row=authorization,
        patient=patient,
        expected_version=expected_version,
        by=by,
        fields=fields,
        check=authorization_check,
        object_type="authorization",
    )
    return result


def authorization_end(
    *,
    authorization: Authorization,
    end_date: dt.date,
    reason: str,
    expected_version: int | None,
    by: Actor,
) -> Authorization:
    """End an authorization early (the payer withdrew or replaced it): its last day becomes
    `end_date`, between its start and its current end. Raises RuleViolation (field named),
    Conflict, NotPermitted as authorization_update."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why it ends early.", code="reason", field="end_reason")
    if not authorization.start_date <= end_date <= authorization.end_date:
        raise RuleViolation(
            f"The new last day must be from {authorization.start_date:%b %-d, %Y} to "
            f"{authorization.end_date:%b %-d, %Y}.",
            code="end_date",
            field="end_date",
        )
    patient = _patient_of(authorization.coverage)
    result: Authorization = _update(
        model=Authorization,
        row=authorization,
        patient=patient,
        expected_version=expected_version,
        by=by,
        fields={"end_date": end_date, "end_reason": reason[:200]},
        check=authorization_check,
        object_type="authorization",
    )
    return result


# --- Medicare certifications ------------------------------------------------------------------


def certification_check(row: PhysicianCertification) -> None:
    """Raise RuleViolation, on the field to fix, unless `row` is a valid certification."""
    row.physician_npi = (row.physician_npi or "").strip()
    validate_model(row, exclude=["episode", "created_by"])
    if not (len(row.physician_npi) == 10 and row.physician_npi.isdigit()):
        raise RuleViolation("The physician's NPI is 10 digits.", code="npi", field="physician_npi")
    if row.end_date is not None and row.end_date < row.start_date:
        raise RuleViolation(
            "The certification cannot end before it starts.", code="dates", field="end_date"
        )
    if row.interval not in rules.RecertificationInterval._value2member_map_:
        raise RuleViolation(
            "Choose how the recertification interval is counted.",
            code="interval",
            field="interval",
        )
    try:
        certification_of(row)
    except ValueError as exc:
        raise RuleViolation(str(exc), code="certification") from exc


def certification_create(*, episode: Episode, by: Actor, **fields: Any) -> PhysicianCertification:
    """Record a physician's Medicare IOP certification or recertification of an episode
    (CERTIFICATION_FIELDS; `interval` is required: no default). Raises RuleViolation (field
    named); NotPermitted (audited) without Cap.REVENUE_MANAGE at the patient's site."""
    _unknown(fields, CERTIFICATION_FIELDS)
    require_patient(by, Cap.REVENUE_MANAGE, episode.patient, object_type="certification")
    assert by.user is not None
    row = PhysicianCertification(episode=episode, created_by=by.user, **fields)
    with transaction.atomic():
        certification_check(row)
        row.save()
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="certification",
            object_id=row.pk,
            detail={f: _plain(getattr(row, f)) for f in CERTIFICATION_FIELDS},
        )
    return row


def certification_update(
    *,
    certification: PhysicianCertification,
    expected_version: int | None,
    by: Actor,
    **fields: Any,
) -> PhysicianCertification:
    """Correct a certification as entered. Audited with the fields changed. Raises as
    certification_create, and Conflict for a stale version."""
    _unknown(fields, CERTIFICATION_FIELDS)
    result: PhysicianCertification = _update(
        model=PhysicianCertification,
        row=certification,
        patient=certification.episode.patient,
        expected_version=expected_version,
        by=by,
        fields=fields,
        check=certification_check,
        object_type="certification",
    )
    return result


def certification_end(
    *,
    certification: PhysicianCertification,
    end_date: dt.date,
    reason: str,
    expected_version: int | None,
    by: Actor,
) -> PhysicianCertification:
    """End a certification on `end_date` (its last covered day; from its start on, and not later
    than an end already set). Raises RuleViolation (field named), Conflict, NotPermitted."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why it ends.", code="reason", field="end_reason")
    if end_date < certification.start_date or (
        certification.end_date is not None and end_date > certification.end_date
    ):
        raise RuleViolation(
            "The last day must be from the start of the certification to its current end.",
            code="end_date",
            field="end_date",
        )
    result: PhysicianCertification = _update(
        model=PhysicianCertification,
        row=certification,
        patient=certification.episode.patient,
        expected_version=expected_version,
        by=by,
        fields={"end_date": end_date, "end_reason": reason[:200]},
        check=certification_check,
        object_type="certification",
    )
    return result


# --- concurrent review ------------------------------------------------------------------------


def concurrent_review_record(
    *, authorization: Authorization, episode: Episode, reason_to_continue: str, by: Actor
) -> ConcurrentReview:
    """Store the reason to continue printed on a concurrent-review packet. Needs
    Cap.CLINICAL_VIEW at the patient's site (the packet is clinical). Raises RuleViolation
    (field reason_to_continue) when it is empty or too long, or when the episode is not the
    authorization's patient's; NotPermitted (audited)."""
    patient = _patient_of(authorization.coverage)
    require_patient(by, Cap.CLINICAL_VIEW, patient, object_type="concurrent_review")
    if episode.patient_id != patient.pk:
        raise RuleViolation("That episode is another patient's.", code="episode", field=None)
    reason = (reason_to_continue or "").strip()
    if not reason:
        raise RuleViolation(
            "Say why the patient needs to continue at this level of care.",
            code="reason",
            field="reason_to_continue",
        )
    if len(reason) > REASON_MAX_CHARS:
        raise RuleViolation(
            f"Keep the reason to {REASON_MAX_CHARS} characters.",
            code="reason",
            field="reason_to_continue",
        )
    assert by.user is not None
    with transaction.atomic():
        review = ConcurrentReview.objects.create(
            authorization=authorization,
            episode=episode,
            reason_to_continue=reason,
            printed_by=by.user,
            printed_at=clock.now(),
        )
        audit_record(
            by,
            action=AuditAction.EXPORT,
            patient_id=patient.pk,
            object_type="concurrent_review",
            object_id=review.pk,
            detail={"authorization": authorization.pk},
        )
    return review


def concurrent_review_print(
    *, authorization: Authorization, reason_to_continue: str, by: Actor
) -> ReviewPacket:
    """Record the reason to continue (concurrent_review_record) and return the packet's sections
    for the patient's open episode (else their latest). Raises RuleViolation when the patient has
    no episode or the reason is missing; NotPermitted (audited) without Cap.CLINICAL_VIEW at the
    patient's site."""
    patient = _patient_of(authorization.coverage)
    require_patient(by, Cap.CLINICAL_VIEW, patient, object_type="concurrent_review")
    episode = (
        Episode.objects.filter(patient=patient)
        .select_related("patient", "site")
        .order_by("-admission_date", "-id")
    )
    episodes = list(episode)  # the open episode is chosen first, else the latest
    chosen = next((e for e in episodes if e.status in OPEN_STATUSES), None) or (
        episodes[0] if episodes else None
    )
    if chosen is None:
        raise RuleViolation(
            "This patient has no episode of care to review.", code="no_episode", field=None
        )
    payer = authorization.coverage.payer
    recipient = Recipient.payer(payer.pk, payer.name)
    release = None
    if chosen.part2_protected:
        # The packet goes to the payer's reviewer: a Part 2 disclosure for payment (utilization
        # review), allowed only under a consent that covers the payer (42 CFR 2.31, 2.33).
        release = part2_release(patient_ids=[patient.pk], recipient=recipient, purpose=PAYMENT)
        if not release.allows(patient.pk):
            raise RuleViolation(
                f"No Part 2 consent covering {payer.name} for payment "
                f"({release.withheld[patient.pk].reason}): the packet discloses substance use "
                "disorder treatment. Record the patient's consent on their Consents page first.",
                code="part2_consent_missing",
                field=None,
            )
    with transaction.atomic():
        review = concurrent_review_record(
            authorization=authorization,
            episode=chosen,
            reason_to_continue=reason_to_continue,
            by=by,
        )
        if release is not None:
            disclosure_record(
                by=by,
                recipient=recipient,
                purpose=PAYMENT,
                channel=Channel.REVIEW_PACKET,
                items=[
                    DisclosureItem(
                        patient_id=patient.pk,
                        consent_id=release.consent_for(patient.pk),
                        description=(
                            f"Concurrent-review packet for authorization "
                            f"{authorization.reference_number}: ASAM ratings, level-of-care "
                            "history, score trends, attendance, goal progress"
                        ),
                        resources=({"type": "ConcurrentReview", "id": str(review.pk)},),
                    )
                ],
            )
    packet = packet_for(authorization=authorization, episode=chosen, review=review)
    if release is not None:
        packet.disclosure_notice = redisclosure_notice()
    return packet


# --- alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRun:
    """What a run of the alerts job raised (counts only)."""

    authorizations: int = 0
    certifications: int = 0
    raised: int = 0

    @property
    def sentence(self) -> str:
        return (
            f"Checked {self.authorizations} authorization(s) and the certifications of "
            f"{self.certifications} Medicare episode(s): {self.raised} new alert(s)."
        )


def _store(episode: Episode, alert: rules.Alert, by: Actor) -> bool:
    """One episodes.Alert per episode, kind and dedupe key (attendance's absence alerts use the
    same unique key); True when it is new."""
    row, created = Alert.objects.get_or_create(
        episode=episode,
        kind=alert.kind.value,
        dedupe_key=alert.dedupe_key[:120],
        defaults={
            "patient_id": episode.patient_id,
            "part2": episode.part2_protected,
            "message": alert.message[:500],
            "status": AlertStatus.OPEN,
        },
    )
    if created:
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="alert",
            object_id=row.pk,
            detail={"kind": row.kind},
        )
    return created


def authorization_alerts_raise(*, by: Actor, today: dt.date | None = None) -> AlertRun:
    """Raise the authorization alerts (80% used; 7 days before the end, issue 16 point 3) of
    every current authorization of a patient with an open episode, and the certification alerts
    (recertification due within settings.RECERTIFICATION_WARN_DAYS, lapsed, missing) of every
    open episode whose patient has a Medicare coverage in force, as episodes.Alert rows; a rerun
    raises nothing twice. `today` (tests) else each site's local date. Runs as the job's system
    actor: no capability check (it reads every site), each alert audited."""
    warn_days = recertification_warn_days()
    now = clock.now()
    episodes = {
        e.patient_id: e
        for e in Episode.objects.filter(status__in=OPEN_STATUSES).select_related("site")
    }

    def today_of(patient_id: int) -> dt.date:
        return today or clock.local_today(episodes[patient_id].site.tz)

    earliest = (today or now.date()) - dt.timedelta(days=1)
    rows = list(
        Authorization.objects.filter(
            coverage__patient_id__in=sorted(episodes), end_date__gte=earliest
        ).select_related("coverage__patient")
    )
    raised = 0
    patient_ids = {int(r.coverage.patient_id or 0) for r in rows}
    states = authorization_states(rows, today_of={p: today_of(p) for p in patient_ids})
    for state in states:
        patient_id = state.row.coverage.patient_id
        assert patient_id is not None
        for alert in rules.authorization_alerts(state.usage.authorization, state.used, state.today):
            raised += _store(episodes[patient_id], alert, by)
    medicare = set(
        Coverage.objects.filter(
            patient_id__in=sorted(episodes), payer__payer_type=PayerType.MEDICARE
        )
        .in_force(earliest, earliest)
        .values_list("patient_id", flat=True)
    )
    certs: dict[int, list[PhysicianCertification]] = defaultdict(list)
    for cert in PhysicianCertification.objects.filter(
        episode_id__in=[episodes[p].pk for p in medicare]
    ).order_by("id"):
        certs[cert.episode_id].append(cert)
    for patient_id in sorted(medicare):
        episode = episodes[patient_id]
        day = today_of(patient_id)
        if certs[episode.pk]:
            alerts = certification_clock(episode, certs[episode.pk], day, warn_days).alerts
        else:
            alerts = rules.certification_alerts(
                [], day, 0, interval=rules.RecertificationInterval.EVERY_OTHER_MONTH
            )  # no certification: the interval is not read
        for alert in alerts:
            raised += _store(episode, alert, by)
    return AlertRun(authorizations=len(states), certifications=len(medicare), raised=raised)
