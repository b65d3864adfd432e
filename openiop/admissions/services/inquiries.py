"""Inquiries: recording a call, text, web form or referral, its details and follow-up, moving its
card by hand, and linking it to an existing patient."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q

from openiop.accounts.access import require_patient, require_site
from openiop.accounts.domain import Cap, roles_with
from openiop.admissions.choices import ForWhom, InquiryChannel, Stage
from openiop.admissions.domain import pipeline
from openiop.admissions.models import Inquiry, PublicInquiryThrottle, StageChange
from openiop.admissions.services.common import (
    audit_inquiry,
    lock_inquiry,
    refuse_while_urgent_task,
    require_inquiry,
    set_stage,
    validate_model,
)
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import ReferralSource
from openiop.patients.models import Patient
from openiop.programs.models import Site
from openiop.programs.services import require_site_takes_new_work

if TYPE_CHECKING:
    from openiop.accounts.models import User

INQUIRY_FIELDS: tuple[str, ...] = (
    "channel",
    "referral_source",
    "referral_detail",
    "for_whom",
    "caller_name",
    "caller_relationship",
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "concerns",
    "age_group",
    "urgency",
    "insurance_name",
    "insurance_member_id",
    "notes",
)
FOLLOW_UP_FIELDS: tuple[str, ...] = ("owner", "next_action", "next_action_date")


def _new_inquiry(site: Site, fields: dict[str, Any], received_at: dt.datetime) -> Inquiry:
    unknown = sorted(set(fields) - set(INQUIRY_FIELDS))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    inquiry = Inquiry(
        organization_id=site.organization_id,
        site=site,
        received_at=received_at,
        stage=Stage.INQUIRY,
        stage_entered_on=received_at.astimezone(site.tz).date(),
        **fields,
    )
    for name in ("first_name", "last_name", "phone", "email", "referral_detail", "caller_name"):
        setattr(inquiry, name, (getattr(inquiry, name) or "").strip())
    validate_model(inquiry, exclude=["organization", "site", "owner", "patient", "episode"])
    if inquiry.date_of_birth and inquiry.date_of_birth > inquiry.stage_entered_on:
        raise RuleViolation(
            "The date of birth cannot be in the future.", code="dob_future", field="date_of_birth"
        )
    if not inquiry.phone and not inquiry.email:
        raise RuleViolation(
            "Give a phone number or an email address so we can call back.",
            code="no_contact",
            field="phone",
        )
    return inquiry


def inquiry_create(
    *, site: Site, by: Actor, received_at: dt.datetime | None = None, **fields: Any
) -> Inquiry:
    """Record a call, text, web form or referral at `site`; returns the new inquiry (stage inquiry).

    Raises NotPermitted (audited) without Cap.ADMISSIONS_MANAGE at the site; RuleViolation for
    invalid fields, no way to call back, or a site that takes no new work.
    """
    require_site(by, site, Cap.ADMISSIONS_MANAGE, object_type="inquiry")
    require_site_takes_new_work(site)
    inquiry = _new_inquiry(site, fields, received_at or clock.now())
    with transaction.atomic():
        inquiry.save()
        StageChange.objects.create(
            inquiry=inquiry,
            to_stage=Stage.INQUIRY,
            on=inquiry.stage_entered_on,
            changed_by=by.user,
            note=f"Received by {inquiry.get_channel_display().lower()}",
        )
        audit_inquiry(by, inquiry, AuditAction.CREATE, {"channel": inquiry.channel})
    return inquiry


def public_post_count(*, by: Actor) -> int:
    """Count one post of the public form from `by.client_addr` in this clock hour; return the
    hour's count so far (this post included).

    Anonymous and not audited (no patient data); one row per address and hour, shared by every
    worker process. Rows older than the previous hour are removed as new hours start.
    """
    window = clock.now().replace(minute=0, second=0, microsecond=0)
    key = (by.client_addr or "unknown")[:64]
    rows = PublicInquiryThrottle.objects.filter(client_key=key, window_start=window)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    PublicInquiryThrottle.objects.create(
                        client_key=key, window_start=window, count=1
                    )
            except IntegrityError:  # another worker created it first
                rows.update(count=F("count") + 1)
            PublicInquiryThrottle.objects.filter(
                window_start__lt=window - dt.timedelta(hours=1)
            ).delete()
        return int(rows.values_list("count", flat=True).get())


def inquiry_submit_public(*, site: Site, by: Actor, **fields: Any) -> Inquiry:
    """The public web form: anyone may ask for help; stored as a web-form inquiry.

    No login and no capability: the view protects it (CSRF, rate limit, bot trap, lengths).
    Raises RuleViolation for invalid fields or a site that takes no new work.
    """
    require_site_takes_new_work(site)
    fields = {**fields, "channel": InquiryChannel.WEB_FORM}
    fields.setdefault(
        "referral_source",
        ReferralSource.SELF if fields.get("for_whom") == ForWhom.SELF else ReferralSource.FAMILY,
    )
    inquiry = _new_inquiry(site, fields, clock.now())
    with transaction.atomic():
        inquiry.save()
        StageChange.objects.create(
            inquiry=inquiry, to_stage=Stage.INQUIRY, on=inquiry.stage_entered_on, note="Web form"
        )
        audit_inquiry(by, inquiry, AuditAction.CREATE, {"channel": "web_form", "public": True})
    return inquiry


def inquiry_owner_choices(inquiry: Inquiry) -> models.QuerySet[User]:
    """The staff who may own the inquiry: active, of its organization, in a role that works
    inquiries (Cap.ADMISSIONS_MANAGE), at its site or in a role that covers all sites."""
    all_sites = [r.value for r in roles_with(Cap.ALL_SITES)]
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            organization_id=inquiry.organization_id,
            role__in=[r.value for r in roles_with(Cap.ADMISSIONS_MANAGE)],
        )
        .filter(Q(sites=inquiry.site_id) | Q(role__in=all_sites))
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def inquiry_update(
    *, inquiry: Inquiry, expected_version: int | None, by: Actor, **fields: Any
) -> Inquiry:
    """Change the inquiry's details or follow-up (owner, next action and its date).

    Raises Conflict on a stale version; NotPermitted (audited) without Cap.ADMISSIONS_MANAGE;
    RuleViolation for invalid values or an owner who may not own it (inquiry_owner_choices).
    """
    allowed = (*INQUIRY_FIELDS, *FOLLOW_UP_FIELDS)
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
    owner = fields.get("owner")
    if owner is not None and not inquiry_owner_choices(inquiry).filter(pk=owner.pk).exists():
        raise RuleViolation(
            "Choose an active colleague who works inquiries at this site as owner.",
            code="owner",
            field="owner",
        )
    changed = sorted(f for f, v in fields.items() if getattr(inquiry, f) != v)
    for name, value in fields.items():
        setattr(inquiry, name, value)
    validate_model(inquiry, exclude=["organization", "site", "owner", "patient", "episode"])
    inquiry.updated_at = clock.now()
    names = [("owner_id" if f == "owner" else f) for f in fields]
    with transaction.atomic():
        save_if_unchanged(inquiry, expected_version=expected_version, fields=[*names, "updated_at"])
        audit_inquiry(by, inquiry, AuditAction.UPDATE, {"fields": changed})
    return inquiry


def inquiry_move(*, inquiry: Inquiry, to_stage: str, note: str, by: Actor) -> Inquiry:
    """Move a card by hand: close it (referred elsewhere, declined, lost), step back, or reopen.

    Forward steps happen by doing the work. Raises RuleViolation for a move the pipeline does not
    allow (domain.pipeline.move_problem), a close without a note, or a close while an urgent task
    is open (a high-risk contact never ends silently); NotPermitted (audited) without
    Cap.ADMISSIONS_MANAGE.
    """
    require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
    note = (note or "").strip()
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        problem = pipeline.move_problem(current.stage, to_stage)
        if problem:
            raise RuleViolation(problem, code="move_not_allowed", field="to_stage")
        if to_stage in pipeline.CLOSING_STAGES and not note:
            raise RuleViolation(
                "Say why the inquiry closes (e.g. where they were referred).",
                code="required",
                field="note",
            )
        if to_stage in pipeline.CLOSING_STAGES:
            refuse_while_urgent_task(current)
        before = current.stage
        set_stage(current, to_stage, by, note)
        audit_inquiry(
            by, current, AuditAction.UPDATE, {"event": "stage", "from": before, "to": to_stage}
        )
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return inquiry


def inquiry_link_patient(*, inquiry: Inquiry, patient: Patient | None, by: Actor) -> Inquiry:
    """Link the inquiry to an existing patient (a likely duplicate), or unlink with None.

    Admission then re-admits that patient (a new episode) instead of registering a new one.
    Raises RuleViolation once admitted or for a patient of another organization; NotPermitted
    (audited) without Cap.ADMISSIONS_MANAGE, or without access to the patient.
    """
    require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
    if patient is not None:
        require_patient(by, Cap.PATIENT_DEMOGRAPHICS, patient, object_type="inquiry_link")
        if patient.organization_id != inquiry.organization_id:
            raise RuleViolation("That patient belongs to another organization.", code="org")
    with transaction.atomic():
        current = lock_inquiry(inquiry)
        if current.stage == Stage.ADMITTED:
            raise RuleViolation("An admitted inquiry keeps its patient.", code="admitted")
        before = current.patient_id
        current.patient = patient
        Inquiry.objects.filter(pk=current.pk).update(patient=patient, updated_at=clock.now())
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=patient.pk if patient else before,
            object_type="inquiry",
            object_id=current.pk,
            detail={"event": "link_patient", "from": before, "to": patient.pk if patient else None},
        )
    inquiry.patient = patient
    return inquiry
