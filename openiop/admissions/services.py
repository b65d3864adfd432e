"""Every write of admissions goes through these functions: one doorway each, audited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q

from openiop.accounts.access import require, require_patient, require_site
from openiop.accounts.domain import Cap, roles_with
from openiop.admissions.choices import (
    ForWhom,
    InquiryChannel,
    Stage,
    TaskStatus,
    WaitlistStatus,
)
from openiop.admissions.domain import admission as admission_rules
from openiop.admissions.domain import asam, packet, pipeline
from openiop.admissions.domain.prescreen import PrescreenAnswers, prescreen_result
from openiop.admissions.models import (
    AdmissionTask,
    Assessment,
    Inquiry,
    IntakeDocument,
    Prescreen,
    PublicInquiryThrottle,
    StageChange,
    WaitlistEntry,
)
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import EpisodeStatus, LevelOfCare, ReferralSource, TreatmentFocus
from openiop.episodes.models import Episode
from openiop.episodes.services import episode_open, episode_set_status
from openiop.measures.domain import AnswerError, cssrs
from openiop.patients.models import Patient
from openiop.patients.services import patient_create
from openiop.programs.choices import SessionStatus
from openiop.programs.models import Enrollment, GroupSession, Site, Track
from openiop.programs.services import enrollment_start, require_site_takes_new_work

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


# --- helpers -------------------------------------------------------------------------------------
def _validate(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise RuleViolation(
            f"{field.replace('_', ' ').capitalize()}: {' '.join(messages)}",
            code="invalid_field",
            field=None if field == "__all__" else field,
        ) from exc


def _require_inquiry(by: Actor, cap: Cap, inquiry: Inquiry) -> None:
    require_site(by, inquiry.site_id, cap, object_type="inquiry", patient_id=inquiry.patient_id)


def _audit(
    by: Actor, inquiry: Inquiry, action: str, detail: dict[str, Any], object_type: str = "inquiry"
) -> None:
    audit_record(
        by,
        action=action,
        patient_id=inquiry.patient_id,
        object_type=object_type,
        object_id=inquiry.pk,
        detail=detail,
    )


def _staff(by: Actor) -> User:
    """The signed-in staff member acting (services that reach here have checked a capability)."""
    assert by.user is not None
    return by.user


def _today(inquiry: Inquiry) -> dt.date:
    return clock.local_today(inquiry.site.tz)


def _set_stage(inquiry: Inquiry, stage: str, by: Actor, note: str = "") -> None:
    """Move the (locked, current) inquiry to `stage` and record the change. No permission check."""
    if stage == inquiry.stage:
        return
    StageChange.objects.create(
        inquiry=inquiry,
        from_stage=inquiry.stage,
        to_stage=stage,
        on=_today(inquiry),
        changed_by=by.user,
        note=note[:500],
    )
    inquiry.stage = stage
    inquiry.stage_entered_on = _today(inquiry)
    Inquiry.objects.filter(pk=inquiry.pk).update(
        stage=stage, stage_entered_on=inquiry.stage_entered_on, updated_at=clock.now()
    )


def _locked(inquiry: Inquiry) -> Inquiry:
    return Inquiry.objects.select_for_update().select_related("site").get(pk=inquiry.pk)


def _refuse_while_urgent_task(inquiry: Inquiry) -> None:
    task = inquiry.tasks.filter(urgent=True, status=TaskStatus.OPEN).first()
    if task is not None:
        raise RuleViolation(
            f"An urgent task is open: {task.title} Record what was done about it before going on.",
            code="urgent_task_open",
        )


def _refuse_if_closed(inquiry: Inquiry) -> None:
    if inquiry.stage not in pipeline.OPEN_STAGES:
        raise RuleViolation(
            f"This inquiry is {inquiry.get_stage_display().lower()}; reopen it first.",
            code="inquiry_closed",
        )


# --- inquiries -----------------------------------------------------------------------------------
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
    _validate(inquiry, exclude=["organization", "site", "owner", "patient", "episode"])
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
        _audit(by, inquiry, AuditAction.CREATE, {"channel": inquiry.channel})
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
        _audit(by, inquiry, AuditAction.CREATE, {"channel": "web_form", "public": True})
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
    _require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
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
    _validate(inquiry, exclude=["organization", "site", "owner", "patient", "episode"])
    inquiry.updated_at = clock.now()
    names = [("owner_id" if f == "owner" else f) for f in fields]
    with transaction.atomic():
        save_if_unchanged(inquiry, expected_version=expected_version, fields=[*names, "updated_at"])
        _audit(by, inquiry, AuditAction.UPDATE, {"fields": changed})
    return inquiry


def inquiry_move(*, inquiry: Inquiry, to_stage: str, note: str, by: Actor) -> Inquiry:
    """Move a card by hand: close it (referred elsewhere, declined, lost), step back, or reopen.

    Forward steps happen by doing the work. Raises RuleViolation for a move the pipeline does not
    allow (domain.pipeline.move_problem), a close without a note, or a close while an urgent task
    is open (a high-risk contact never ends silently); NotPermitted (audited) without
    Cap.ADMISSIONS_MANAGE.
    """
    _require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
    note = (note or "").strip()
    with transaction.atomic():
        current = _locked(inquiry)
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
            _refuse_while_urgent_task(current)
        before = current.stage
        _set_stage(current, to_stage, by, note)
        _audit(by, current, AuditAction.UPDATE, {"event": "stage", "from": before, "to": to_stage})
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return inquiry


def inquiry_link_patient(*, inquiry: Inquiry, patient: Patient | None, by: Actor) -> Inquiry:
    """Link the inquiry to an existing patient (a likely duplicate), or unlink with None.

    Admission then re-admits that patient (a new episode) instead of registering a new one.
    Raises RuleViolation once admitted or for a patient of another organization; NotPermitted
    (audited) without Cap.ADMISSIONS_MANAGE, or without access to the patient.
    """
    _require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
    if patient is not None:
        require_patient(by, Cap.PATIENT_DEMOGRAPHICS, patient, object_type="inquiry_link")
        if patient.organization_id != inquiry.organization_id:
            raise RuleViolation("That patient belongs to another organization.", code="org")
    with transaction.atomic():
        current = _locked(inquiry)
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


# --- pre-screen and tasks ------------------------------------------------------------------------
def prescreen_record(
    *,
    inquiry: Inquiry,
    answers: PrescreenAnswers,
    cssrs_answers: Sequence[int],
    notes: str = "",
    by: Actor,
) -> Prescreen:
    """Record the pre-screen and C-SSRS screener; returns it with its outcome.

    A high C-SSRS tier marks the inquiry high risk and creates an urgent task for its owner (or
    whoever picks it up); the assessment and admission are refused until the task is done, so the
    flow never continues silently. The inquiry moves forward to 'pre-screen'. Raises RuleViolation
    for invalid C-SSRS answers (measures.domain.cssrs) or a closed inquiry; NotPermitted (audited)
    without Cap.ADMISSIONS_PRESCREEN (intake runs it too: the screener's screen version is made
    for non-clinicians).
    """
    _require_inquiry(by, Cap.ADMISSIONS_PRESCREEN, inquiry)
    try:
        score = cssrs.score(list(cssrs_answers))
    except AnswerError as exc:
        raise RuleViolation(str(exc), code="cssrs", field=f"cssrs_{exc.item}") from exc
    tier = score.band or "none"
    try:
        result = prescreen_result(answers, tier)
    except ValueError as exc:
        raise RuleViolation(str(exc), code="prescreen") from exc
    with transaction.atomic():
        current = _locked(inquiry)
        _refuse_if_closed(current)
        screen = Prescreen.objects.create(
            inquiry=current,
            needs_24h_supervision=answers.needs_24h_supervision,
            needs_medical_withdrawal=answers.needs_medical_withdrawal,
            safe_home=answers.safe_home,
            substance_free_home=answers.substance_free_home,
            outpatient_not_enough=answers.outpatient_not_enough,
            can_attend=answers.can_attend,
            motivation=answers.motivation,
            cssrs_answers=list(cssrs_answers),
            cssrs_tier=tier,
            outcome=result.outcome,
            reasons=[*result.reasons, *result.notes],
            notes=(notes or "").strip()[:2000],
            screened_by=_staff(by),
        )
        if result.higher_level_now:
            AdmissionTask.objects.create(
                inquiry=current,
                urgent=True,
                title=(
                    f"C-SSRS high risk for {current.name}: same-day safety evaluation and a "
                    "higher level of care now."
                ),
                assigned_to=_urgent_task_assignee(current.owner, _staff(by)),
            )
            Inquiry.objects.filter(pk=current.pk).update(high_risk=True)
            inquiry.high_risk = True
        _set_stage(current, pipeline.advance(current.stage, pipeline.PRESCREEN), by)
        _audit(
            by,
            current,
            AuditAction.CREATE,
            {"event": "prescreen", "outcome": result.outcome, "cssrs_tier": tier},
            object_type="prescreen",
        )
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return screen


def task_cap(*, urgent: bool) -> Cap:
    """The capability that closes a task: an urgent (safety) task is clinician-owned
    (../shared/domain.md s.7: a high C-SSRS creates a clinician-owned task), others are the
    admissions staff's."""
    return Cap.ADMISSIONS_ASSESS if urgent else Cap.ADMISSIONS_MANAGE


def _urgent_task_assignee(*candidates: User | None) -> User | None:
    """The first of the candidates (the inquiry's owner, then whoever screened) who may close an
    urgent task, or None (any clinician at the site picks it up): the front desk runs the
    screener but the task it raises is a clinician's."""
    cap = task_cap(urgent=True)
    return next((u for u in candidates if u is not None and u.can(cap)), None)


def task_complete(*, task: AdmissionTask, outcome: str, by: Actor) -> AdmissionTask:
    """Record what was done about a task and close it. Raises RuleViolation without an outcome
    or when already done; NotPermitted (audited) without task_cap(urgent=task.urgent)."""
    cap = task_cap(urgent=task.urgent)
    _require_inquiry(by, cap, task.inquiry)
    outcome = (outcome or "").strip()
    if not outcome:
        raise RuleViolation("Say what was done.", code="required", field="outcome")
    with transaction.atomic():
        current = AdmissionTask.objects.select_for_update().get(pk=task.pk)
        if current.status == TaskStatus.DONE:
            raise RuleViolation("This task is already done.", code="task_done")
        current.status = TaskStatus.DONE
        current.done_by = by.user
        current.done_at = clock.now()
        current.outcome = outcome[:500]
        current.save(update_fields=["status", "done_by", "done_at", "outcome", "updated_at"])
        _audit(
            by,
            task.inquiry,
            AuditAction.UPDATE,
            {"event": "task_done", "task": task.pk, "urgent": task.urgent},
        )
    return current


# --- assessment ----------------------------------------------------------------------------------
def assessment_schedule(*, inquiry: Inquiry, on: dt.date, by: Actor) -> Inquiry:
    """Set the assessment date; the inquiry moves forward to 'assessment scheduled'.

    Raises RuleViolation for a past date, a closed inquiry or an open urgent task; NotPermitted
    (audited) without Cap.ADMISSIONS_MANAGE or Cap.ADMISSIONS_ASSESS.
    """
    user = by.user
    cap = (
        Cap.ADMISSIONS_ASSESS
        if user is not None and user.can(Cap.ADMISSIONS_ASSESS)
        else Cap.ADMISSIONS_MANAGE
    )
    _require_inquiry(by, cap, inquiry)
    if on is None:
        raise RuleViolation("Enter the assessment date.", code="required", field="on")
    with transaction.atomic():
        current = _locked(inquiry)
        _refuse_if_closed(current)
        _refuse_while_urgent_task(current)
        if on < _today(current):
            raise RuleViolation("The assessment date has passed.", code="past", field="on")
        Inquiry.objects.filter(pk=current.pk).update(assessment_date=on, updated_at=clock.now())
        _set_stage(current, pipeline.advance(current.stage, pipeline.ASSESSMENT_SCHEDULED), by)
        _audit(by, current, AuditAction.UPDATE, {"event": "assessment_date", "on": on.isoformat()})
    inquiry.assessment_date = on
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return inquiry


def _ratings(ratings: Sequence[asam.DimensionRating], edition: str) -> asam.Recommendation:
    try:
        return asam.recommend_level_of_care(ratings, edition)
    except ValueError as exc:
        raise RuleViolation(str(exc), code="ratings") from exc


def assessment_save(
    *,
    inquiry: Inquiry,
    edition: str,
    ratings: Sequence[asam.DimensionRating],
    by: Actor,
    assessment: Assessment | None = None,
    expected_version: int | None = None,
) -> Assessment:
    """Rate the six dimensions and store the recommendation (asam.recommend_level_of_care).

    With `assessment`, re-rates that draft. A decided assessment never changes. Raises
    RuleViolation for missing or invalid ratings, a decided assessment, a closed inquiry or an open
    urgent task; Conflict on a stale version; NotPermitted (audited) without Cap.ADMISSIONS_ASSESS.
    """
    _require_inquiry(by, Cap.ADMISSIONS_ASSESS, inquiry)
    rec = _ratings(ratings, edition)
    stored = [
        {"dimension": r.dimension, "rating": r.rating, "notes": (r.notes or "").strip()[:2000]}
        for r in sorted(ratings, key=lambda r: r.dimension)
    ]
    values = {
        "edition": str(edition),
        "ratings": stored,
        "recommended_level": rec.level,
        "withdrawal_management": rec.withdrawal_management,
        "reasons": rec.reasons,
        "why_not_lower": rec.why_not_lower,
        "why_not_higher": rec.why_not_higher,
    }
    with transaction.atomic():
        current = _locked(inquiry)
        _refuse_if_closed(current)
        _refuse_while_urgent_task(current)
        if assessment is None:
            assessment = Assessment.objects.create(
                inquiry=current, assessed_by=_staff(by), **values
            )
            action = AuditAction.CREATE
        else:
            if assessment.inquiry_id != current.pk:
                raise RuleViolation("That assessment belongs to another inquiry.", code="mismatch")
            if Assessment.objects.filter(pk=assessment.pk, decided_at__isnull=False).exists():
                raise RuleViolation(
                    "This assessment is decided and cannot change; start a new one.",
                    code="decided",
                )
            for name, value in values.items():
                setattr(assessment, name, value)
            assessment.updated_at = clock.now()
            save_if_unchanged(
                assessment, expected_version=expected_version, fields=[*values, "updated_at"]
            )
            action = AuditAction.UPDATE
        _audit(
            by,
            current,
            action,
            {"assessment": assessment.pk, "recommended_level": rec.level},
            object_type="assessment",
        )
    return assessment


def assessment_decide(
    *,
    assessment: Assessment,
    chosen_level: str,
    justification: str = "",
    by: Actor,
    expected_version: int | None = None,
) -> Assessment:
    """Accept the recommended level, or override it with a justification; then it is fixed.

    The inquiry moves forward to 'assessed'. Raises RuleViolation for an override without a
    justification, an unknown level or an assessment already decided; Conflict on a stale version;
    NotPermitted (audited) without Cap.ADMISSIONS_ASSESS.
    """
    inquiry = assessment.inquiry
    _require_inquiry(by, Cap.ADMISSIONS_ASSESS, inquiry)
    if chosen_level not in LevelOfCare.values:
        raise RuleViolation("Choose a level of care.", code="invalid", field="chosen_level")
    justification = (justification or "").strip()
    if chosen_level != assessment.recommended_level and not justification:
        raise RuleViolation(
            f"Choosing Level {chosen_level} instead of the recommended Level "
            f"{assessment.recommended_level} needs a justification for the record.",
            code="justification_required",
            field="justification",
        )
    with transaction.atomic():
        current = _locked(inquiry)
        if Assessment.objects.filter(pk=assessment.pk, decided_at__isnull=False).exists():
            raise RuleViolation("This assessment is already decided.", code="decided")
        _refuse_while_urgent_task(current)
        assessment.chosen_level = chosen_level
        assessment.override_justification = (
            justification if chosen_level != assessment.recommended_level else ""
        )
        assessment.decided_by = by.user
        assessment.decided_at = clock.now()
        assessment.updated_at = assessment.decided_at
        save_if_unchanged(
            assessment,
            expected_version=expected_version,
            fields=[
                "chosen_level",
                "override_justification",
                "decided_by_id",
                "decided_at",
                "updated_at",
            ],
        )
        if current.stage in pipeline.OPEN_STAGES:
            verified = current.coverages.filter(verifications__isnull=False).exists()
            target = pipeline.BENEFITS_VERIFIED if verified else pipeline.ASSESSED
            _set_stage(current, pipeline.advance(current.stage, target), by)
        _audit(
            by,
            current,
            AuditAction.UPDATE,
            {
                "event": "decide",
                "assessment": assessment.pk,
                "recommended_level": assessment.recommended_level,
                "chosen_level": chosen_level,
                "override": assessment.is_override,
            },
            object_type="assessment",
        )
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return assessment


# --- admission -----------------------------------------------------------------------------------
@dataclass
class AdmissionResult:
    patient: Patient
    episode: Episode
    enrollment: Enrollment | None
    waitlist_entry: WaitlistEntry | None
    start_date: dt.date
    documents: list[IntakeDocument]


def next_session_date(track: Track) -> dt.date:
    """The date of the track's next scheduled session that has not started yet.

    Raises RuleViolation when the track has none (its schedule needs generating).
    """
    now = clock.now()
    rows = GroupSession.objects.filter(
        track=track, starts_at__gt=now, status=SessionStatus.SCHEDULED
    ).values_list("date", "starts_at")[:50]
    upcoming = [admission_rules.UpcomingSession(date=d, starts_at=s) for d, s in rows]
    first = admission_rules.first_session_on_or_after(upcoming, clock.local_today(track.site.tz))
    if first is None:
        raise RuleViolation(
            f"{track.name} has no upcoming sessions; generate its schedule first.",
            code="no_sessions",
            field="track",
        )
    return first.date


def _focus_for(concerns: str) -> str:
    return concerns if concerns in TreatmentFocus.values else TreatmentFocus.MENTAL_HEALTH


def _open_packet(episode: Episode, by: Actor) -> list[IntakeDocument]:
    docs = [
        IntakeDocument(
            episode=episode,
            patient_id=episode.patient_id,
            kind=kind,
            document_version=packet.VERSIONS[kind],
            details=(
                {
                    "purpose": "for treatment, payment, and health care operations",
                    "recipients": "my treating providers, health plans, third-party payers, and "
                    "people helping to operate this program",
                    "information": "my substance use disorder diagnosis, treatment, attendance "
                    "and progress records",
                    "expiration": "when I revoke it in writing",
                }
                if kind == packet.PART2_CONSENT
                else {}
            ),
        )
        for kind in packet.PACKET
    ]
    IntakeDocument.objects.bulk_create(docs)
    return list(IntakeDocument.objects.filter(episode=episode).order_by("id"))


def admission_admit(
    *,
    inquiry: Inquiry,
    track: Track,
    by: Actor,
    level_of_care: str | None = None,
    sex: str = "unknown",
    date_of_birth: dt.date | None = None,
    primary_clinician: User | None = None,
) -> AdmissionResult:
    """Admit an assessed inquiry: patient, episode, track (or waitlist), intake packet; one action.

    Registers the patient with patients' `patient_create` from the inquiry's details, or re-admits
    the linked existing patient (a new episode on the same patient). Opens the episode with
    episodes' `episode_open` at `level_of_care` (default: the level the clinician chose on the
    assessment) and the inquiry's referral source. Enrolls in `track` with programs'
    `enrollment_start` from its next session; when the track is full the episode is waitlisted and
    joins the track's waitlist. Opens the six packet documents to sign. Moves the inquiry to
    'admitted'. Everything happens or nothing does.

    Raises RuleViolation when the inquiry has no decided assessment or is not at 'assessed' /
    'benefits verified', `level_of_care` differs from the level decided on the assessment (only a
    clinician's override there, with its justification, changes it), an urgent task is open, the track has no upcoming session, or a rule of
    the reused services refuses; NotPermitted (audited) without Cap.ADMISSIONS_MANAGE (and the
    patient and episode capabilities the reused services check).
    """
    _require_inquiry(by, Cap.ADMISSIONS_MANAGE, inquiry)
    if track is None:
        raise RuleViolation("Choose a track.", code="required", field="track")
    with transaction.atomic():
        current = _locked(inquiry)
        if current.stage not in pipeline.ADMITTABLE_STAGES:
            raise RuleViolation(
                f"Only an assessed inquiry can be admitted; this one is at "
                f"'{current.get_stage_display()}'.",
                code="not_assessed",
            )
        _refuse_while_urgent_task(current)
        assessment = (
            current.assessments.filter(decided_at__isnull=False).order_by("-decided_at").first()
        )
        if assessment is None:
            raise RuleViolation("Decide the level-of-care assessment first.", code="no_assessment")
        level = level_of_care or assessment.chosen_level
        if level != assessment.chosen_level:
            raise RuleViolation(
                f"The assessment decided Level {assessment.chosen_level}; admit at that level, or "
                "have a clinician record a new assessment (an override needs a justification).",
                code="level_not_decided",
                field="level_of_care",
            )
        if track.site_id != current.site_id:
            raise RuleViolation(
                f"{track.name} runs at another site than this inquiry.", code="site", field="track"
            )
        start = next_session_date(track)
        patient = current.patient
        if patient is None:
            dob = date_of_birth or current.date_of_birth
            if dob is None:
                raise RuleViolation(
                    "Enter the date of birth to register the patient.",
                    code="required",
                    field="date_of_birth",
                )
            patient = patient_create(
                organization=current.organization,
                site=current.site,
                by=by,
                legal_first_name=current.first_name,
                legal_last_name=current.last_name,
                date_of_birth=dob,
                sex=sex,
                phone=current.phone,
                email=current.email,
            )
        today = clock.local_today(current.site.tz)
        full = _track_full_on(track, start)
        episode = episode_open(
            patient=patient,
            site=current.site,
            focus=_focus_for(current.concerns),
            referral_source=current.referral_source,
            referral_detail=current.referral_detail,
            admission_date=today if full else start,
            level_of_care=level,
            status=EpisodeStatus.WAITLISTED if full else EpisodeStatus.ACTIVE,
            primary_clinician=primary_clinician,
            by=by,
        )
        enrollment: Enrollment | None = None
        entry: WaitlistEntry | None = None
        if full:
            entry = WaitlistEntry.objects.create(
                track=track, episode=episode, joined_at=clock.now()
            )
        else:
            enrollment = enrollment_start(episode=episode, track=track, start_date=start, by=by)
        documents = _open_packet(episode, by)
        current.coverages.filter(patient__isnull=True).update(patient=patient)
        Inquiry.objects.filter(pk=current.pk).update(
            patient=patient, episode=episode, updated_at=clock.now()
        )
        current.patient, current.episode = patient, episode
        _set_stage(current, pipeline.ADMITTED, by, f"Episode {episode.pk}")
        _audit(
            by,
            current,
            AuditAction.CREATE,
            {
                "event": "admit",
                "episode": episode.pk,
                "track": track.pk,
                "start_date": start.isoformat(),
                "waitlisted": full,
                "readmission": inquiry.patient_id is not None,
            },
            object_type="admission",
        )
    inquiry.patient, inquiry.episode = patient, episode
    inquiry.stage, inquiry.stage_entered_on = current.stage, current.stage_entered_on
    return AdmissionResult(
        patient=patient,
        episode=episode,
        enrollment=enrollment,
        waitlist_entry=entry,
        start_date=start,
        documents=documents,
    )


def _enrolled_on(track: Track, day: dt.date) -> int:
    return Enrollment.objects.on(day).filter(track=track).count()


def _track_full_on(track: Track, day: dt.date) -> bool:
    """Full when no seat is free on `day`, counting seats already offered to the waitlist, or
    when someone is already waiting (first come, first served)."""
    waiting = WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.WAITING).exists()
    offered = WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.OFFERED).count()
    return (
        waiting
        or admission_rules.free_seats(track.capacity, _enrolled_on(track, day), offered) == 0
    )


def waitlist_offer_seats(*, track: Track, by: Actor) -> list[WaitlistEntry]:
    """Offer freed seats of `track` to the next people on its waitlist; returns the new offers.

    A seat is free on the track's next session when enrolled patients and outstanding offers are
    fewer than its capacity. Called from the waitlist page, and when an enrollment ends
    (waitlist_offer_freed_seats).
    Needs no capability when called by the system (`by.user` None); otherwise
    Cap.ADMISSIONS_MANAGE.
    """
    if by.user is not None:
        require(by, Cap.ADMISSIONS_MANAGE, object_type="waitlist")
    try:
        start = next_session_date(track)
    except RuleViolation:
        return []
    offers: list[WaitlistEntry] = []
    with transaction.atomic():
        Track.objects.select_for_update().filter(pk=track.pk).first()
        offered = WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.OFFERED).count()
        seats = admission_rules.free_seats(track.capacity, _enrolled_on(track, start), offered)
        if seats == 0:
            return []
        waiting = list(
            WaitlistEntry.objects.filter(track=track, status=WaitlistStatus.WAITING)
            .select_related("episode")
            .order_by("joined_at", "id")[:seats]
        )
        now = clock.now()
        for entry in waiting:
            entry.status = WaitlistStatus.OFFERED
            entry.offered_at = now
            entry.offered_start_date = start
            entry.save(update_fields=["status", "offered_at", "offered_start_date", "updated_at"])
            audit_record(
                by,
                action=AuditAction.UPDATE,
                patient_id=entry.episode.patient_id,
                object_type="waitlist",
                object_id=entry.pk,
                detail={"event": "offer", "start_date": start.isoformat()},
            )
            offers.append(entry)
    return offers


def waitlist_offer_freed_seats(*, track: Track, freed_by: str) -> None:
    """A seat of `track` may have freed: once the caller's transaction commits, offer the track's
    free seats to its waitlist (waitlist_offer_seats), as the system, since whoever ended the
    enrollment need not manage admissions. Does nothing when no one is waiting.

    Called (through programs.signals.seat_freed) by programs.services.enrollment_end, the one service that ends an enrollment (a
    discharge ends them through it); nothing else frees a seat. `freed_by` says what did, for the
    audit entry's path.
    """
    track_id = track.pk

    def offer() -> None:
        current = Track.objects.select_related("site").filter(pk=track_id).first()
        if current is not None and current.waitlist.filter(status=WaitlistStatus.WAITING).exists():
            waitlist_offer_seats(track=current, by=Actor.system(f"waitlist: {freed_by}"))

    transaction.on_commit(offer)


def waitlist_accept(*, entry: WaitlistEntry, by: Actor) -> Enrollment:
    """The patient takes the offered seat: enrolled from the track's next session, episode active.

    Raises RuleViolation when no seat was offered or a reused rule refuses (e.g. the track filled);
    NotPermitted (audited) without Cap.ADMISSIONS_MANAGE / Cap.EPISODE_MANAGE at the site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, entry.episode.patient, object_type="waitlist")
    with transaction.atomic():
        current = (
            WaitlistEntry.objects.select_for_update()
            .select_related("track", "episode")
            .get(pk=entry.pk)
        )
        if current.status != WaitlistStatus.OFFERED:
            raise RuleViolation("No seat has been offered to this patient yet.", code="not_offered")
        start = next_session_date(current.track)
        enrollment = enrollment_start(
            episode=current.episode, track=current.track, start_date=start, by=by
        )
        if current.episode.status == EpisodeStatus.WAITLISTED:
            episode_set_status(
                episode=current.episode,
                status=EpisodeStatus.ACTIVE,
                expected_version=current.episode.version,
                by=by,
            )
        current.status = WaitlistStatus.ENROLLED
        current.save(update_fields=["status", "updated_at"])
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=current.episode.patient_id,
            object_type="waitlist",
            object_id=current.pk,
            detail={"event": "enrolled", "start_date": start.isoformat()},
        )
    entry.status = current.status
    return enrollment


# --- intake packet -------------------------------------------------------------------------------
DATA_URL = re.compile(r"^data:image/png;base64,[A-Za-z0-9+/=]+$")
SIGNATURE_MAX_CHARS = 200_000


def _refuse_if_signed(document: IntakeDocument) -> None:
    if IntakeDocument.objects.filter(pk=document.pk, signed_at__isnull=False).exists():
        raise RuleViolation(
            "This document is signed and cannot change; add a new version instead.",
            code="signed",
        )


def document_fill(
    *,
    document: IntakeDocument,
    details: dict[str, str],
    by: Actor,
    expected_version: int | None = None,
) -> IntakeDocument:
    """Fill in a consent's or release's details (recipient, information, purpose, expiration).

    Raises RuleViolation once signed or for unknown details; Conflict on a stale version;
    NotPermitted (audited) without Cap.ADMISSIONS_MANAGE at the patient's site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, document.patient, object_type="intake_document")
    allowed = packet.DETAIL_FIELDS.get(document.kind, ())
    unknown = sorted(set(details) - set(allowed))
    if unknown:
        raise RuleViolation(f"Unknown details: {', '.join(unknown)}", code="details")
    with transaction.atomic():
        _refuse_if_signed(document)
        document.details = {k: (details.get(k) or "").strip()[:500] for k in allowed}
        document.updated_at = clock.now()
        save_if_unchanged(
            document, expected_version=expected_version, fields=["details", "updated_at"]
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=document.patient_id,
            object_type="intake_document",
            object_id=document.pk,
            detail={"event": "details", "kind": document.kind},
        )
    return document


def document_text_for(document: IntakeDocument) -> packet.DocumentText:
    """The text of a document: as signed once signed, else as it would read now."""
    patient = document.patient
    if document.is_signed:
        return packet.DocumentText(
            title=packet.TITLES[document.kind],
            version=document.document_version,
            paragraphs=tuple(document.text),
        )
    return packet.document_text(
        document.kind,
        patient_name=patient.legal_name,
        program_name=patient.organization.name,
        details=document.details,
    )


def document_sign(
    *,
    document: IntakeDocument,
    signed_name: str,
    by: Actor,
    signer_relationship: str = "",
    signature_png: str = "",
    expected_version: int | None = None,
) -> IntakeDocument:
    """Sign a packet document electronically: the typed name, an optional drawn signature, the
    time, the client address and the document's version are kept with the text as signed.

    Raises RuleViolation without a typed name, with missing details, an invalid drawing, or once
    signed (signed documents never change); Conflict on a stale version; NotPermitted (audited)
    without Cap.ADMISSIONS_MANAGE at the patient's site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, document.patient, object_type="intake_document")
    signed_name = " ".join((signed_name or "").split())
    if not signed_name:
        raise RuleViolation(
            "Type the signer's full name to sign.", code="required", field="signed_name"
        )
    if len(signed_name) > 200:
        raise RuleViolation("The name is too long.", code="too_long", field="signed_name")
    signature_png = (signature_png or "").strip()
    if signature_png and (
        len(signature_png) > SIGNATURE_MAX_CHARS or not DATA_URL.match(signature_png)
    ):
        raise RuleViolation(
            "The drawn signature could not be read; clear it and draw again, or sign by name.",
            code="signature",
            field="signature_png",
        )
    problems = packet.detail_problems(document.kind, document.details)
    if problems:
        field, message = next(iter(problems.items()))
        raise RuleViolation(
            f"Fill in the document before signing: {message}", code="details", field=field
        )
    with transaction.atomic():
        _refuse_if_signed(document)
        text = document_text_for(document)
        document.text = list(text.paragraphs)
        document.signed_name = signed_name
        document.signer_relationship = (signer_relationship or "").strip()[:60]
        document.signature_png = signature_png
        document.signed_at = clock.now()
        document.signed_client_addr = by.client_addr[:64]
        document.witnessed_by = by.user
        document.updated_at = document.signed_at
        save_if_unchanged(
            document,
            expected_version=expected_version,
            fields=[
                "text",
                "signed_name",
                "signer_relationship",
                "signature_png",
                "signed_at",
                "signed_client_addr",
                "witnessed_by_id",
                "updated_at",
            ],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=document.patient_id,
            object_type="intake_document",
            object_id=document.pk,
            detail={
                "event": "signed",
                "kind": document.kind,
                "version": document.document_version,
                "drawn": bool(signature_png),
            },
        )
    return document


def release_add(*, episode: Episode, by: Actor) -> IntakeDocument:
    """Add another release of information to the episode's packet (one per recipient).

    Raises NotPermitted (audited) without Cap.ADMISSIONS_MANAGE at the patient's site.
    """
    require_patient(by, Cap.ADMISSIONS_MANAGE, episode.patient, object_type="intake_document")
    with transaction.atomic():
        document = IntakeDocument.objects.create(
            episode=episode,
            patient_id=episode.patient_id,
            kind=packet.RELEASE_OF_INFORMATION,
            document_version=packet.VERSIONS[packet.RELEASE_OF_INFORMATION],
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="intake_document",
            object_id=document.pk,
            detail={"kind": document.kind},
        )
    return document
