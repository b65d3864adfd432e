"""A payer's billing rules for a program and its fee schedule: configuration of the charge rules
(billing.domain.charges), written by one doorway each and audited.

Every row is checked by the domain's own rules before it is saved (PayerBillingRules for the
billing rules, FeeScheduleEntry and FeeSchedule for fees), so a posting never meets a
configuration it cannot read; the domain's message is the refusal. The rows convert to the
domain's types with `rules_of` and `fee_entry_of` (billing.services.charges uses them).

Nothing here has a billing default: a threshold left empty is one the payer does not set
(../shared/domain.md 2; see PayerProgramBilling).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db import transaction

from openiop.accounts.access import require_site
from openiop.accounts.domain import Cap
from openiop.admissions.services.common import validate_model
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.domain import charges
from openiop.billing.models import FeeScheduleEntry, Payer, PayerProgramBilling
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.programs.choices import SessionKind
from openiop.programs.models import Track

PAYER_BILLING_FIELDS = (
    "mode",
    "claim_form",
    "per_diem_code",
    "revenue_code",
    "codes",
    "session_kinds",
    "min_minutes_per_day",
    "min_minutes_per_week",
    "min_days_per_week",
    "max_group_size",
    "group_count_required",
    "min_services_per_day",
    "short_day_as_services",
)
FEE_ENTRY_FIELDS = ("code", "modifiers", "revenue_code", "rate", "effective_from", "effective_to")


# --- rows to the domain's types ---------------------------------------------------------------


def parse_modifiers(text: str) -> tuple[str, ...]:
    """'hq, tf' -> ('HQ', 'TF'): modifiers as stored (comma-separated) to the domain's tuple."""
    return tuple(m for m in re.split(r"[\s,]+", (text or "").upper()) if m)


def codes_of(value: object) -> dict[charges.ServiceKind, tuple[charges.TimeBand, ...]]:
    """PayerProgramBilling.codes ({"individual": [["90832", 16, 37], ...]}) as the domain's
    codes. Raises ValueError saying what is wrong."""
    if not isinstance(value, dict):
        raise ValueError('Codes are an object: {"individual": [["90832", 16, 37], ...]}.')
    known = ", ".join(k.value for k in charges.ServiceKind)
    codes: dict[charges.ServiceKind, tuple[charges.TimeBand, ...]] = {}
    for kind, bands in value.items():
        if kind not in charges.ServiceKind._value2member_map_:
            raise ValueError(f"'{kind}' is not a service kind; use one of: {known}.")
        if not isinstance(bands, list) or not all(
            isinstance(b, list) and len(b) in (2, 3) for b in bands
        ):
            raise ValueError(
                f"The codes for {kind} are a list of [code, minimum minutes, maximum minutes or "
                "null]."
            )
        codes[charges.ServiceKind(kind)] = tuple(
            charges.TimeBand(b[0], b[1], b[2] if len(b) == 3 else None) for b in bands
        )
    return codes


def session_kinds_of(value: object) -> dict[str, charges.ServiceKind]:
    """PayerProgramBilling.session_kinds ({"skills": "group"}) checked: session kinds to service
    kinds. Raises ValueError saying what is wrong."""
    if not isinstance(value, dict):
        raise ValueError('Session kinds are an object: {"skills": "group"}.')
    mapped: dict[str, charges.ServiceKind] = {}
    for session_kind, service_kind in value.items():
        if session_kind not in SessionKind.values:
            raise ValueError(
                f"'{session_kind}' is not a kind of session; use one of: "
                f"{', '.join(SessionKind.values)}."
            )
        if service_kind not in charges.ServiceKind._value2member_map_:
            raise ValueError(
                f"'{service_kind}' is not a service kind; use one of: "
                f"{', '.join(k.value for k in charges.ServiceKind)}."
            )
        if session_kind == SessionKind.MEDICATION_MANAGEMENT:
            raise ValueError(
                "Medication-management visits are not billed (no code for them is in the "
                "program's billing sources): leave them out of the session kinds."
            )
        mapped[session_kind] = charges.ServiceKind(service_kind)
    return mapped


def rules_of(config: PayerProgramBilling) -> charges.PayerBillingRules:
    """The domain's PayerBillingRules of a row (payer and program named by their ids). Raises
    ValueError with the domain's words when the configuration breaks its rules."""
    session_kinds_of(config.session_kinds)
    return charges.PayerBillingRules(
        payer=str(config.payer_id),
        program=str(config.track_id),
        mode=charges.BillingMode(config.mode),
        claim_form=charges.ClaimForm(config.claim_form),
        per_diem_code=config.per_diem_code or None,
        codes=codes_of(config.codes),
        min_minutes_per_day=config.min_minutes_per_day,
        min_minutes_per_week=config.min_minutes_per_week,
        min_days_per_week=config.min_days_per_week,
        max_group_size=config.max_group_size,
        group_count_required=config.group_count_required,
        min_services_per_day=config.min_services_per_day,
        short_day_as_services=config.short_day_as_services,
    )


def fee_entry_of(
    entry: FeeScheduleEntry, default_revenue_code: str = ""
) -> charges.FeeScheduleEntry:
    """The domain's FeeScheduleEntry of a row; an entry without a revenue code takes
    `default_revenue_code` (its payer's for the program). Raises ValueError as the domain does."""
    return charges.FeeScheduleEntry(
        payer=str(entry.payer_id),
        program=str(entry.track_id),
        code=entry.code,
        rate=Decimal(entry.rate),
        effective_from=entry.effective_from,
        effective_to=entry.effective_to,
        modifiers=parse_modifiers(entry.modifiers),
        revenue_code=entry.revenue_code or default_revenue_code or None,
    )


# --- checks -----------------------------------------------------------------------------------


def _same_organization(payer: Payer, track: Track) -> None:
    if payer.organization_id != track.site.organization_id:
        raise RuleViolation(
            "Choose one of your organization's payers for this program.", code="org", field="payer"
        )


def payer_billing_check(config: PayerProgramBilling) -> None:
    """The rules a payer's billing rules for a program must meet to be saved: the domain's
    (PayerBillingRules: a per-diem code for per-diem payers and only for them, 837I for Medicare
    IOP, thresholds of 1 or more, codes whose minutes do not overlap...), a four-digit revenue
    code, known session kinds, one row per payer and program. Raises RuleViolation."""
    config.per_diem_code = (config.per_diem_code or "").strip().upper()
    config.revenue_code = (config.revenue_code or "").strip()
    config.codes = config.codes or {}
    config.session_kinds = config.session_kinds or {}
    validate_model(config, exclude=["payer", "track"])
    _same_organization(config.payer, config.track)
    if config.revenue_code and not (
        len(config.revenue_code) == 4 and config.revenue_code.isdigit()
    ):
        raise RuleViolation(
            f"'{config.revenue_code}' is not a four-digit revenue code.",
            code="revenue_code",
            field="revenue_code",
        )
    try:
        rules_of(config)
    except ValueError as exc:
        raise RuleViolation(str(exc), code="billing_rules") from exc
    taken = PayerProgramBilling.objects.filter(payer_id=config.payer_id, track_id=config.track_id)
    if taken.exclude(pk=config.pk).exists():
        raise RuleViolation(
            f"{config.payer} already has billing rules for {config.track}; change those.",
            code="duplicate",
            field="track",
        )


def fee_entry_check(entry: FeeScheduleEntry) -> None:
    """The rules a fee schedule entry must meet to be saved: the domain's (a five-character code,
    up to 4 two-character modifiers, a four-digit revenue code, a rate in whole cents of 0 or
    more, an end not before the start) and no other entry of the payer, program and code on any
    of its dates. Raises RuleViolation."""
    entry.code = (entry.code or "").strip().upper()
    entry.modifiers = ",".join(parse_modifiers(entry.modifiers))
    entry.revenue_code = (entry.revenue_code or "").strip()
    validate_model(entry, exclude=["payer", "track"])
    _same_organization(entry.payer, entry.track)
    try:
        mine = fee_entry_of(entry)
    except ValueError as exc:
        raise RuleViolation(str(exc), code="fee_entry") from exc
    others = list(
        FeeScheduleEntry.objects.filter(
            payer_id=entry.payer_id, track_id=entry.track_id, code=entry.code
        ).exclude(pk=entry.pk)
    )
    last = dt.date.max
    for other in others:
        if other.effective_from <= (entry.effective_to or last) and entry.effective_from <= (
            other.effective_to or last
        ):
            until = other.effective_to.isoformat() if other.effective_to else "with no end"
            raise RuleViolation(
                f"{entry.payer} already has a fee for {entry.code} in {entry.track} from "
                f"{other.effective_from.isoformat()} {'to ' if other.effective_to else ''}"
                f"{until}: one fee a day. End that one the day before this one starts.",
                code="overlap",
                field="effective_from",
            )
    try:
        charges.FeeSchedule([mine, *(fee_entry_of(o) for o in others)])
    except ValueError as exc:
        raise RuleViolation(str(exc), code="overlap", field="effective_from") from exc


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _changes(before: dict[str, Any], row: Any, fields: list[str]) -> dict[str, Any]:
    return {
        "fields": fields,
        "before": {f: _plain(before[f]) for f in fields},
        "after": {f: _plain(getattr(row, f)) for f in fields},
    }


# --- payer billing rules ----------------------------------------------------------------------


def payer_billing_create(
    *, payer: Payer, track: Track, by: Actor, **fields: Any
) -> PayerProgramBilling:
    """Set how `payer` bills `track` (PAYER_BILLING_FIELDS). Raises RuleViolation as
    payer_billing_check; NotPermitted (audited) without Cap.REVENUE_MANAGE at the track's site."""
    unknown = sorted(set(fields) - set(PAYER_BILLING_FIELDS))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    require_site(by, track.site_id, Cap.REVENUE_MANAGE, object_type="payer_billing")
    config = PayerProgramBilling(payer=payer, track=track, **fields)
    with transaction.atomic():
        Payer.objects.select_for_update().filter(pk=payer.pk).first()
        payer_billing_check(config)
        config.save()
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="payer_billing",
            object_id=config.pk,
            detail={"payer": payer.pk, "track": track.pk, "mode": config.mode},
        )
    return config


def payer_billing_update(
    *, config: PayerProgramBilling, by: Actor, **fields: Any
) -> PayerProgramBilling:
    """Change a payer's billing rules for a program (PAYER_BILLING_FIELDS); charges already
    posted keep theirs until a posting adjusts them. Audited with the fields changed, before and
    after. Raises as payer_billing_create."""
    unknown = sorted(set(fields) - set(PAYER_BILLING_FIELDS))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    require_site(by, config.track.site_id, Cap.REVENUE_MANAGE, object_type="payer_billing")
    with transaction.atomic():
        current = (
            PayerProgramBilling.objects.select_for_update()
            .select_related("payer", "track__site")
            .get(pk=config.pk)
        )
        before = {f: getattr(current, f) for f in fields}
        for field, value in fields.items():
            setattr(current, field, value)
        payer_billing_check(current)
        changed = [f for f in fields if getattr(current, f) != before[f]]
        if changed:
            current.save(update_fields=[*changed, "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                object_type="payer_billing",
                object_id=current.pk,
                detail=_changes(before, current, changed),
            )
    for field in PAYER_BILLING_FIELDS:
        setattr(config, field, getattr(current, field))
    return config


# --- fee schedule -----------------------------------------------------------------------------


def fee_entry_create(*, payer: Payer, track: Track, by: Actor, **fields: Any) -> FeeScheduleEntry:
    """Add what `payer` pays for a code in `track` from a date (FEE_ENTRY_FIELDS). The payer's row
    is locked while the other entries are read, so two entries saved at once cannot overlap.
    Raises RuleViolation as fee_entry_check; NotPermitted (audited) without Cap.REVENUE_MANAGE
    at the track's site."""
    unknown = sorted(set(fields) - set(FEE_ENTRY_FIELDS))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    require_site(by, track.site_id, Cap.REVENUE_MANAGE, object_type="fee_schedule_entry")
    entry = FeeScheduleEntry(payer=payer, track=track, **fields)
    with transaction.atomic():
        Payer.objects.select_for_update().filter(pk=payer.pk).first()
        fee_entry_check(entry)
        entry.save()
        audit_record(
            by,
            action=AuditAction.CREATE,
            object_type="fee_schedule_entry",
            object_id=entry.pk,
            detail={
                "payer": payer.pk,
                "track": track.pk,
                "code": entry.code,
                "rate": str(entry.rate),
                "effective_from": entry.effective_from.isoformat(),
            },
        )
    return entry


def fee_entry_update(*, entry: FeeScheduleEntry, by: Actor, **fields: Any) -> FeeScheduleEntry:
    """Change a fee schedule entry (FEE_ENTRY_FIELDS), e.g. end it the day before a new rate
    starts. Charges already posted keep their amount until a posting adjusts them. Audited with
    the fields changed, before and after. Raises as fee_entry_create."""
    unknown = sorted(set(fields) - set(FEE_ENTRY_FIELDS))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    require_site(by, entry.track.site_id, Cap.REVENUE_MANAGE, object_type="fee_schedule_entry")
    with transaction.atomic():
        Payer.objects.select_for_update().filter(pk=entry.payer_id).first()
        current = FeeScheduleEntry.objects.select_related("payer", "track__site").get(pk=entry.pk)
        before = {f: getattr(current, f) for f in fields}
        for field, value in fields.items():
            setattr(current, field, value)
        fee_entry_check(current)
        changed = [f for f in fields if getattr(current, f) != before[f]]
        if changed:
            current.save(update_fields=[*changed, "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                object_type="fee_schedule_entry",
                object_id=current.pk,
                detail=_changes(before, current, changed),
            )
    for field in FEE_ENTRY_FIELDS:
        setattr(entry, field, getattr(current, field))
    return entry
