"""Every write of measures: responses, patient links, safety alerts, safety plans, schedules.

One doorway each; each owns its transaction, permission check and audit entry. Scores are always
computed here from the raw answers, never taken from a form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from openiop.accounts.access import require_patient, require_site
from openiop.accounts.domain import Cap, Role
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import Conflict, NotFound, RuleViolation
from openiop.episodes.models import Episode
from openiop.measures.choices import (
    AlertAction,
    AlertReason,
    AlertStatus,
    LinkPurpose,
    PlanStatus,
    ResponseMode,
    RiskLevel,
)
from openiop.measures.domain import REGISTRY, AnswerError
from openiop.measures.domain.care import (
    PLAN_PRINT_CHARS_PER_LINE,
    PLAN_PRINT_MAX_LINES,
    ClinicHours,
    alert_owner,
    alert_triggers,
    escalation_due,
    plan_print_lines,
)
from openiop.measures.models import (
    MeasurementSchedule,
    PatientLink,
    Response,
    RiskAssessment,
    SafetyAlert,
    SafetyPlan,
    SiteSafetySettings,
)
from openiop.measures.selectors import SafetyAtClose, cssrs_recorded_after, safety_at_close
from openiop.programs.models import Site, Track

PLAN_FIELDS: tuple[str, ...] = (
    "warning_signs",
    "internal_coping",
    "distractions",
    "people_to_ask",
    "professionals",
    "safe_environment",
    "reasons_for_living",
)


def link_valid_hours() -> int:
    """How long a patient link works (setting MEASURES_LINK_HOURS, default 72)."""
    return int(getattr(settings, "MEASURES_LINK_HOURS", 72))


def default_escalation_minutes() -> int:
    """Minutes before an unacknowledged alert goes to the director when a site has no settings row
    (setting MEASURES_ESCALATION_MINUTES, default 60: "reaches a clinician the same hour")."""
    return int(getattr(settings, "MEASURES_ESCALATION_MINUTES", 60))


def safety_settings_for(site: Site) -> SiteSafetySettings:
    """The site's safety settings, or unsaved defaults (8:00-18:00 Mon-Fri, default escalation)."""
    found = SiteSafetySettings.objects.filter(site=site).first()
    if found is not None:
        return found
    return SiteSafetySettings(site=site, escalation_minutes=default_escalation_minutes())


def clinic_hours(site: Site, config: SiteSafetySettings) -> ClinicHours:
    return ClinicHours(config.opens_at, config.closes_at, config.weekdays(), site.tz)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- responses ----------------------------------------------------------------------------------


def _require_open_episode(episode: Episode) -> None:
    if not episode.is_open:
        raise RuleViolation(
            "This episode is closed; questionnaires belong to an open episode.",
            code="episode_closed",
        )


def _sex_for(instrument: str, patient_sex: str) -> str | None:
    if instrument != "auditc":
        return None
    return patient_sex if patient_sex in ("female", "male") else None


def _record(
    *,
    episode: Episode,
    instrument: str,
    answers: Sequence[int],
    mode: str,
    administered_at: dt.datetime,
    by: Actor,
    link: PatientLink | None = None,
    timeframe: str = "",
) -> Response:
    definition = REGISTRY.get(instrument)
    if definition is None:
        raise RuleViolation(f"'{instrument}' is not an instrument.", field="instrument")
    sex = _sex_for(instrument, episode.patient.sex)
    try:
        result = definition.score(list(answers), sex=sex)
    except AnswerError as exc:
        field = f"item_{exc.item}" if exc.item else None
        raise RuleViolation(str(exc), code="bad_answer", field=field) from exc
    response = Response.objects.create(
        patient_id=episode.patient_id,
        episode=episode,
        part2=episode.part2_protected,
        instrument=instrument,
        instrument_version=definition.version,
        answers=list(answers),
        sex_used=sex or "",
        mode=mode,
        timeframe=timeframe or definition.timeframe[:200],
        administered_at=administered_at,
        total=result.total,
        band=result.band or "",
        flags=list(result.flags),
        subscales=dict(result.subscales),
        entered_by=by.user,
        link=link,
    )
    audit_record(
        by,
        action=AuditAction.CREATE,
        patient_id=episode.patient_id,
        object_type="measure_response",
        object_id=response.pk,
        detail={"instrument": instrument, "mode": mode, "band": response.band},
    )
    for reason, level in alert_triggers(result):
        _open_alert(
            episode=episode,
            reason=reason,
            risk_level=level,
            message=_alert_message(reason, level, definition.label),
            response=response,
            by=by,
        )
    return response


def _alert_message(reason: str, level: str, label: str) -> str:
    if reason == AlertReason.ITEM9:
        return (
            f"{label} item 9 answered at 1 or more (thoughts of death or self-harm): "
            "assess with the C-SSRS today."
        )
    return f"C-SSRS screen at {level} risk: review the safety plan and act on the risk."


def response_record(
    *,
    episode: Episode,
    instrument: str,
    answers: Sequence[int],
    administered_at: dt.datetime | None = None,
    by: Actor,
) -> Response:
    """Store answers a staff member entered in the chart, score them, and open any safety alert.

    Raises RuleViolation (field item_N) for answers that do not fit the instrument, or a closed
    episode; NotPermitted without Cap.MEASURE_RECORD for the patient.
    """
    require_patient(by, Cap.MEASURE_RECORD, episode.patient, object_type="measure_response")
    _require_open_episode(episode)
    when = administered_at or now()
    if when > now() + dt.timedelta(minutes=5):
        raise RuleViolation(
            "A questionnaire cannot be dated in the future.", field="administered_at"
        )
    with transaction.atomic():
        return _record(
            episode=episode,
            instrument=instrument,
            answers=answers,
            mode=ResponseMode.STAFF,
            administered_at=when,
            by=by,
        )


# --- patient links ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedLink:
    link: PatientLink
    token: str  # shown once; only its hash is stored


def patient_link_create(
    *,
    episode: Episode,
    purpose: str,
    instrument: str = "",
    mode: str = ResponseMode.PATIENT_LINK,
    hours_valid: int | None = None,
    by: Actor,
) -> IssuedLink:
    """Create a single-use (questionnaire) or read-only (safety plan) link that expires.

    Raises RuleViolation for an unknown instrument, a safety-plan link without a signed plan, or a
    closed episode.
    """
    require_patient(by, Cap.MEASURE_RECORD, episode.patient, object_type="patient_link")
    _require_open_episode(episode)
    if purpose == LinkPurpose.QUESTIONNAIRE:
        if instrument not in REGISTRY:
            raise RuleViolation("Choose a questionnaire to send.", field="instrument")
        if mode not in (ResponseMode.PATIENT_LINK, ResponseMode.TABLET):
            raise RuleViolation(
                "A link is for the patient's phone or a clinic tablet.", field="mode"
            )
    elif purpose == LinkPurpose.SAFETY_PLAN:
        instrument = ""
        if not SafetyPlan.objects.filter(
            patient_id=episode.patient_id, status=PlanStatus.SIGNED
        ).exists():
            raise RuleViolation(
                "Sign a safety plan with the patient before sharing it.", code="no_signed_plan"
            )
    else:
        raise RuleViolation(f"'{purpose}' is not a kind of link.", field="purpose")
    token = secrets.token_urlsafe(24)
    hours = hours_valid if hours_valid is not None else link_valid_hours()
    if hours < 1:
        raise RuleViolation("A link must work for at least an hour.", field="hours_valid")
    assert by.user is not None
    link = PatientLink.objects.create(
        patient_id=episode.patient_id,
        episode=episode,
        part2=episode.part2_protected,
        purpose=purpose,
        instrument=instrument,
        mode=mode,
        token_hash=hash_token(token),
        expires_at=now() + dt.timedelta(hours=hours),
        created_by=by.user,
    )
    audit_record(
        by,
        action=AuditAction.CREATE,
        patient_id=episode.patient_id,
        object_type="patient_link",
        object_id=link.pk,
        detail={"purpose": purpose, "instrument": instrument, "hours": hours},
    )
    return IssuedLink(link=link, token=token)


LINK_GONE = "This link has expired or was already used. Ask your care team for a new one."


def patient_link_resolve(*, token: str, purpose: str | None = None) -> PatientLink:
    """The live link for `token`. Raises NotFound (one message for every failure, so a guess learns
    nothing) when it is unknown, expired, used or its episode is closed."""
    link = (
        PatientLink.objects.select_related("episode", "patient", "patient__organization")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if (
        link is None
        or link.expires_at <= now()
        or (link.purpose == LinkPurpose.QUESTIONNAIRE and link.used_at is not None)
        or not link.episode.is_open
        or (purpose is not None and link.purpose != purpose)
    ):
        raise NotFound(LINK_GONE, code="link_gone")
    return link


def patient_link_submit(
    *, token: str, answers: Sequence[int], client_addr: str = "", by: Actor | None = None
) -> Response:
    """Store the answers a patient gave through their link, spend the link, open any alert.

    The patient has no account: the actor is the link itself (audit channel "patient").
    Raises NotFound for a link that cannot be used, RuleViolation (field item_N) for bad answers.
    """
    link = patient_link_resolve(token=token, purpose=LinkPurpose.QUESTIONNAIRE)
    actor = by or Actor(
        user=None, channel="patient", client_addr=client_addr, path=f"link {link.pk}"
    )
    with transaction.atomic():
        spent = PatientLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now())
        if not spent:
            raise NotFound(LINK_GONE, code="link_gone")
        return _record(
            episode=link.episode,
            instrument=link.instrument,
            answers=answers,
            mode=link.mode,
            administered_at=now(),
            by=actor,
            link=link,
        )


# --- safety alerts ------------------------------------------------------------------------------


def _open_alert(
    *,
    episode: Episode,
    reason: str,
    risk_level: str,
    message: str,
    by: Actor,
    response: Response | None = None,
) -> SafetyAlert:
    config = safety_settings_for(episode.site)
    opened = now()
    owner_id, basis = alert_owner(
        at=opened,
        hours=clinic_hours(episode.site, config),
        primary_clinician_id=episode.primary_clinician_id,
        on_call_id=config.on_call_id,
    )
    alert = SafetyAlert.objects.create(
        patient_id=episode.patient_id,
        episode=episode,
        part2=episode.part2_protected,
        reason=reason,
        risk_level=risk_level,
        message=message[:500],
        response=response,
        owner_id=owner_id,
        owner_basis=basis,
        raised_by=by.user,
    )
    audit_record(
        by,
        action=AuditAction.CREATE,
        patient_id=episode.patient_id,
        object_type="safety_alert",
        object_id=alert.pk,
        detail={"reason": reason, "risk": risk_level, "owner": owner_id, "basis": basis},
    )
    return alert


def risk_assess(*, episode: Episode, risk_level: str, note: str, by: Actor) -> RiskAssessment:
    """Record a clinician's own judgement of risk; at moderate or high it opens a safety alert.

    The level shows in the patient header until a newer assessment or C-SSRS. Raises RuleViolation
    without a note or with an unknown level.
    """
    require_patient(by, Cap.MEASURE_RECORD, episode.patient, object_type="risk_assessment")
    _require_open_episode(episode)
    if risk_level not in (RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH):
        raise RuleViolation("Choose the level of risk you judge.", field="risk_level")
    note = note.strip()
    if not note:
        raise RuleViolation("Say what you saw or heard that tells you the level.", field="note")
    assert by.user is not None
    with transaction.atomic():
        alert = None
        if risk_level in (RiskLevel.MODERATE, RiskLevel.HIGH):
            alert = _open_alert(
                episode=episode,
                reason=AlertReason.CLINICIAN,
                risk_level=risk_level,
                message=f"Clinician's judgement: {RiskLevel(risk_level).label.lower()} risk. {note}",
                by=by,
            )
        assessment = RiskAssessment.objects.create(
            patient_id=episode.patient_id,
            episode=episode,
            part2=episode.part2_protected,
            risk_level=risk_level,
            note=note[:400],
            assessed_by=by.user,
            alert=alert,
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="risk_assessment",
            object_id=assessment.pk,
            detail={"risk": risk_level},
        )
    return assessment


def safety_alert_flag(*, episode: Episode, risk_level: str, note: str, by: Actor) -> SafetyAlert:
    """A clinician's flag at moderate or high risk: the alert `risk_assess` opens.

    Raises RuleViolation for a level below moderate (record those with `risk_assess`).
    """
    if risk_level not in (RiskLevel.MODERATE, RiskLevel.HIGH):
        raise RuleViolation("A flag is for moderate or high risk.", field="risk_level")
    assessment = risk_assess(episode=episode, risk_level=risk_level, note=note, by=by)
    assert assessment.alert is not None
    return assessment.alert


def safety_alert_acknowledge(
    *, alert: SafetyAlert, action: str, note: str = "", by: Actor
) -> SafetyAlert:
    """Acknowledge an open safety alert with the action taken (and an optional note).

    Raises RuleViolation for an unknown action, an alert already acknowledged, or "C-SSRS done"
    when no C-SSRS of the patient was recorded since the alert opened; Conflict when someone
    acknowledged it a moment ago.
    """
    require_patient(by, Cap.ALERT_ACK, alert.patient, object_type="safety_alert")
    if action not in AlertAction.values:
        raise RuleViolation("Say what you did about this alert.", field="action")
    if alert.status != AlertStatus.OPEN:
        raise RuleViolation("This alert was already acknowledged.", code="already_acknowledged")
    if action == AlertAction.CSSRS_DONE and not cssrs_recorded_after(alert):
        raise RuleViolation(
            "No C-SSRS was recorded for this patient since the alert opened. Record the C-SSRS "
            "first, or choose what you did instead.",
            code="no_cssrs_after_alert",
            field="action",
        )
    at = now()
    updated = SafetyAlert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_by=by.user,
        acknowledged_at=at,
        action_taken=action,
        # A note kept from a decision at discharge stays in front of this one.
        action_note=" · ".join(n for n in (alert.action_note, note.strip()) if n)[:1000],
    )
    if not updated:
        raise Conflict("Someone acknowledged this alert a moment ago.", code="stale_version")
    alert.refresh_from_db()
    audit_record(
        by,
        action=AuditAction.UPDATE,
        patient_id=alert.patient_id,
        object_type="safety_alert",
        object_id=alert.pk,
        detail={"status": "acknowledged", "action": action},
    )
    return alert


# A decision at discharge about an open alert: acknowledge it now with one of AlertAction, or keep
# it open (it stays on the alert list, Today and the chart until someone acknowledges it).
KEEP_OPEN = "keep_open"


def safety_close_refusal(
    *, items: SafetyAtClose, decisions: Mapping[int, str] | None, note: str
) -> RuleViolation | None:
    """Why an episode with these open safety items may not close yet, or None.

    A positive item 9 with no C-SSRS or risk level after it (and its alert closed) always stops
    it (code unassessed_screen): record one first. An open alert stops it (code
    open_safety_alert) until each has a decision (KEEP_OPEN or an AlertAction) and `note` says
    who follows up.
    """
    if items.unassessed:
        first = items.unassessed[0]
        return RuleViolation(
            f"The {first.get_instrument_display()} of {first.administered_at:%Y-%m-%d} has item 9 "
            "positive (thoughts of death or self-harm) and no C-SSRS or risk level was recorded "
            "after it. Record a C-SSRS or a risk level before closing the episode.",
            code="unassessed_screen",
        )
    decisions = decisions or {}
    allowed = {KEEP_OPEN, *AlertAction.values}
    if any(decisions.get(a.pk) not in allowed for a in items.alerts):
        count = len(items.alerts)
        return RuleViolation(
            f"{count} safety alert{'s are' if count != 1 else ' is'} open for this patient. "
            "A clinician must acknowledge each one, or decide about each one on the discharge "
            "page, before the episode closes.",
            code="open_safety_alert",
        )
    if items.alerts and not note.strip():
        return RuleViolation(
            "Say who follows up the open safety alerts and how.",
            code="open_safety_alert",
            field="safety_note",
        )
    return None


def safety_settle_at_close(
    *,
    episode: Episode,
    decisions: Mapping[int, str] | None,
    note: str = "",
    by: Actor,
) -> None:
    """Refuse to close `episode` while a safety item is open (see safety_close_refusal), unless
    each open alert has an explicit decision; carry the decisions out, each in the audit log.
    Call inside the closing transaction (the episode row locked).

    Raises the refusal's RuleViolation, what safety_alert_acknowledge raises for an
    acknowledgement, and NotPermitted (audited) when the actor may not acknowledge alerts.
    """
    items = safety_at_close(episode)
    if not items:
        return
    refusal = safety_close_refusal(items=items, decisions=decisions, note=note)
    if refusal is not None:
        raise refusal
    require_patient(by, Cap.ALERT_ACK, episode.patient, object_type="safety_alert")
    decisions = decisions or {}
    note = note.strip()
    for alert in items.alerts:
        decision = decisions[alert.pk]
        if decision == KEEP_OPEN:
            # The note stays with the alert (shown on its page) until someone acknowledges it.
            SafetyAlert.objects.filter(pk=alert.pk).update(
                action_note=f"Kept open when episode {episode.pk} closed: {note}"[:1000]
            )
            audit_record(
                by,
                action=AuditAction.UPDATE,
                patient_id=alert.patient_id,
                object_type="safety_alert",
                object_id=alert.pk,
                detail={"decision": KEEP_OPEN, "episode_closed": episode.pk},
            )
        else:
            safety_alert_acknowledge(alert=alert, action=decision, note=note, by=by)


def _director_for(site: Site, config: SiteSafetySettings) -> User | None:
    if config.director_id is not None:
        return config.director
    return (
        User.objects.filter(
            role=Role.DIRECTOR.value, is_active=True, organization_id=site.organization_id
        )
        .order_by("id")
        .first()
    )


def alerts_escalate(*, by: Actor) -> list[SafetyAlert]:
    """Send every open, not yet escalated alert past its site's escalation time to the director.

    Idempotent: an alert is escalated once (escalated_at set in the same conditional update).
    Returns the alerts escalated by this call.
    """
    at = now()
    escalated: list[SafetyAlert] = []
    configs: dict[int, SiteSafetySettings] = {}
    candidates = SafetyAlert.objects.filter(
        status=AlertStatus.OPEN, escalated_at__isnull=True
    ).select_related("episode__site", "patient")
    for alert in candidates:
        site = alert.episode.site
        config = configs.setdefault(site.pk, safety_settings_for(site))
        if not escalation_due(
            opened_at=alert.created_at, now=at, minutes=config.escalation_minutes
        ):
            continue
        director = _director_for(site, config)
        with transaction.atomic():
            done = SafetyAlert.objects.filter(
                pk=alert.pk, status=AlertStatus.OPEN, escalated_at__isnull=True
            ).update(escalated_at=at, escalated_to=director)
            if not done:
                continue
            alert.escalated_at, alert.escalated_to = at, director
            audit_record(
                by,
                action=AuditAction.UPDATE,
                patient_id=alert.patient_id,
                object_type="safety_alert",
                object_id=alert.pk,
                detail={"escalated_to": director.pk if director else None},
            )
        escalated.append(alert)
    return escalated


# --- safety plans -------------------------------------------------------------------------------


def safety_plan_start(*, episode: Episode, by: Actor) -> SafetyPlan:
    """Start a draft plan: a copy of the latest signed plan (a new version) or a blank one.

    Raises RuleViolation when a draft already exists (finish or sign it first).
    """
    require_patient(by, Cap.MEASURE_RECORD, episode.patient, object_type="safety_plan")
    _require_open_episode(episode)
    assert by.user is not None
    with transaction.atomic():
        existing = SafetyPlan.objects.select_for_update().filter(patient_id=episode.patient_id)
        if existing.filter(status=PlanStatus.DRAFT).exists():
            raise RuleViolation(
                "There is already a draft safety plan: continue it.", code="draft_exists"
            )
        latest = existing.filter(status=PlanStatus.SIGNED).order_by("-number").first()
        number = (existing.aggregate(n=Max("number"))["n"] or 0) + 1
        copied = {f: getattr(latest, f) for f in PLAN_FIELDS} if latest else {}
        try:
            with transaction.atomic():
                plan = SafetyPlan.objects.create(
                    patient_id=episode.patient_id,
                    episode=episode,
                    part2=episode.part2_protected,
                    number=number,
                    created_by=by.user,
                    **copied,
                )
        except IntegrityError as exc:
            raise Conflict(
                "Someone started a safety plan for this patient a moment ago.", code="stale_version"
            ) from exc
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="safety_plan",
            object_id=plan.pk,
            detail={"number": number, "copied_from": latest.number if latest else None},
        )
    return plan


def _require_draft(plan: SafetyPlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise RuleViolation(
            "A signed safety plan is locked. Start a new version to change it.", code="plan_signed"
        )


def safety_plan_update(
    *, plan: SafetyPlan, values: Mapping[str, str], expected_version: int | None, by: Actor
) -> SafetyPlan:
    """Save the text of a draft plan. Raises RuleViolation when signed; Conflict when stale."""
    require_patient(by, Cap.MEASURE_RECORD, plan.patient, object_type="safety_plan")
    _require_draft(plan)
    for f in PLAN_FIELDS:
        if f in values:
            setattr(plan, f, values[f].strip())
    with transaction.atomic():
        current = SafetyPlan.objects.select_for_update().get(pk=plan.pk)
        _require_draft(current)  # signed by someone else since it was read
        plan.updated_at = now()
        save_if_unchanged(
            plan,
            expected_version=expected_version,
            fields=[*PLAN_FIELDS, "updated_at"],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=plan.patient_id,
            object_type="safety_plan",
            object_id=plan.pk,
        )
    return plan


def safety_plan_sign(
    *, plan: SafetyPlan, patient_agreed: bool, expected_version: int | None, by: Actor
) -> SafetyPlan:
    """Sign a draft written with the patient; from then on it is locked.

    Raises RuleViolation when a step is empty, the patient's agreement is not confirmed, or it is
    already signed; Conflict when someone changed it since it was read.
    """
    require_patient(by, Cap.MEASURE_RECORD, plan.patient, object_type="safety_plan")
    _require_draft(plan)
    empty = [f for f in PLAN_FIELDS if not getattr(plan, f).strip()]
    if empty:
        raise RuleViolation(
            "Fill in every step and the reasons for living before signing.", field=empty[0]
        )
    lines = plan_print_lines(getattr(plan, f) for f in PLAN_FIELDS)
    if lines > PLAN_PRINT_MAX_LINES:
        longest = max(PLAN_FIELDS, key=lambda f: plan_print_lines([getattr(plan, f)]))
        raise RuleViolation(
            f"The plan must print on one page: it needs {lines} lines of "
            f"{PLAN_PRINT_CHARS_PER_LINE} characters and a page holds {PLAN_PRINT_MAX_LINES}. "
            "Shorten it, starting with this step.",
            field=longest,
            code="plan_too_long",
        )
    if not patient_agreed:
        raise RuleViolation(
            "Confirm the plan was written with the patient and they agree to it.",
            field="patient_agreed",
        )
    with transaction.atomic():
        _require_draft(SafetyPlan.objects.select_for_update().get(pk=plan.pk))
        plan.status = PlanStatus.SIGNED
        plan.signed_by = by.user
        plan.signed_at = now()
        plan.patient_agreed = True
        save_if_unchanged(
            plan,
            expected_version=expected_version,
            fields=["status", "signed_by", "signed_at", "patient_agreed"],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=plan.patient_id,
            object_type="safety_plan",
            object_id=plan.pk,
            detail={"status": "signed", "number": plan.number},
        )
    return plan


# --- schedules ----------------------------------------------------------------------------------


def schedule_set(
    *,
    track: Track,
    instrument: str,
    at_admission: bool,
    every_days: int | None,
    at_discharge: bool,
    by: Actor,
) -> MeasurementSchedule | None:
    """Set (or, when nothing is chosen, remove) when `track` gives `instrument`. NotPermitted
    (audited) without Cap.SCHEDULE_MANAGE at the track's site."""
    require_site(by, track.site_id, Cap.SCHEDULE_MANAGE, object_type="measurement_schedule")
    if instrument not in REGISTRY:
        raise RuleViolation(f"'{instrument}' is not an instrument.", field="instrument")
    if every_days is not None and every_days < 1:
        raise RuleViolation("Repeat every 1 day or more, or leave it empty.", field="every_days")
    with transaction.atomic():
        if not (at_admission or every_days or at_discharge):
            MeasurementSchedule.objects.filter(track=track, instrument=instrument).delete()
            schedule = None
        else:
            schedule, _ = MeasurementSchedule.objects.update_or_create(
                track=track,
                instrument=instrument,
                defaults={
                    "at_admission": at_admission,
                    "every_days": every_days,
                    "at_discharge": at_discharge,
                },
            )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            object_type="measurement_schedule",
            object_id=f"track {track.pk} {instrument}",
            detail={
                "at_admission": at_admission,
                "every_days": every_days,
                "at_discharge": at_discharge,
            },
        )
    return schedule
