"""Every write of an episode of care goes through these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_denied, audit_record
from openiop.core.actor import Actor
from openiop.core.clock import now
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.core.part2 import mark_episode_records_part2
from openiop.episodes import domain
from openiop.episodes.choices import (
    OPEN_STATUSES,
    DischargeReason,
    EpisodeStatus,
    LevelOfCare,
    ReferralSource,
    TreatmentFocus,
)
from openiop.episodes.models import Episode, LevelOfCareChange
from openiop.measures.services import safety_settle_at_close
from openiop.patients.models import Patient
from openiop.programs.models import Enrollment, Site
from openiop.programs.services import enrollment_end_at_discharge, require_site_takes_new_work

if TYPE_CHECKING:
    from openiop.accounts.models import User


def _choice(value: Any, choices: type[Any], field: str, what: str) -> str:
    text = str(value or "")
    if text not in choices.values:
        raise RuleViolation(f"Choose a valid {what}.", code="invalid_choice", field=field)
    return text


def _check_staff(user: User | None, field: str, what: str) -> None:
    if user is None:
        return
    if not user.is_active or not user.can(Cap.CLINICAL_VIEW):
        raise RuleViolation(
            f"{user} cannot be the {what}: choose an active member of the clinical staff.",
            code="not_clinical_staff",
            field=field,
        )


def _refuse_if_discharged(episode: Episode) -> None:
    if episode.status == EpisodeStatus.DISCHARGED:
        raise RuleViolation(
            f"This episode was discharged on {episode.discharge_date:%Y-%m-%d} and can no longer "
            "change. Open a new episode to readmit the patient.",
            code="episode_discharged",
        )


def _locked(episode: Episode) -> Episode:
    """The episode re-read under a row lock, so checks and writes see the latest state."""
    return Episode.objects.select_for_update().select_related("patient", "site").get(pk=episode.pk)


def _sync(target: Episode, source: Episode) -> None:
    """Copy the saved state onto the caller's instance."""
    for field in (
        "status",
        "level_of_care",
        "discharge_date",
        "discharge_reason",
        "discharge_note",
        "primary_clinician_id",
        "case_manager_id",
        "version",
        "updated_at",
    ):
        setattr(target, field, getattr(source, field))


def _audit(by: Actor, episode: Episode, action: str, detail: dict[str, Any]) -> None:
    audit_record(
        by,
        action=action,
        patient_id=episode.patient_id,
        object_type="episode",
        object_id=episode.pk,
        detail=detail,
    )


def episode_open(
    *,
    patient: Patient,
    site: Site,
    focus: str,
    referral_source: str,
    admission_date: dt.date,
    level_of_care: str,
    status: str = EpisodeStatus.ACTIVE,
    primary_clinician: User | None = None,
    case_manager: User | None = None,
    referral_detail: str = "",
    by: Actor,
) -> Episode:
    """Open an episode of care (active or waitlisted) and record its opening level.

    Marks it 42 CFR Part 2 protected when the focus is substance use or co-occurring. Raises
    RuleViolation when the patient already has an open episode (naming it), for invalid values or
    a site that takes no new work; NotPermitted (audited) without Cap.EPISODE_MANAGE at the patient's site.
    """
    require_patient(by, Cap.EPISODE_MANAGE, patient, object_type="episode")
    focus = _choice(focus, TreatmentFocus, "focus", "treatment focus")
    referral_source = _choice(referral_source, ReferralSource, "referral_source", "referral source")
    level_of_care = _choice(level_of_care, LevelOfCare, "level_of_care", "level of care")
    status = _choice(status, EpisodeStatus, "status", "status")
    if status not in OPEN_STATUSES:
        raise RuleViolation(
            "A new episode starts as active or waitlisted.", code="invalid_status", field="status"
        )
    if site.organization_id != patient.organization_id:
        raise RuleViolation(
            f"{site.name} belongs to another organization.", code="site_mismatch", field="site"
        )
    require_site_takes_new_work(site)
    if admission_date is None:
        raise RuleViolation("Enter the admission date.", code="required", field="admission_date")
    _check_staff(primary_clinician, "primary_clinician", "primary clinician")
    _check_staff(case_manager, "case_manager", "case manager")
    with transaction.atomic():
        # Lock the patient so two intakes at once cannot both open an episode.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        current = (
            Episode.objects.filter(patient=patient, status__in=OPEN_STATUSES)
            .order_by("-admission_date")
            .first()
        )
        if current is not None:
            raise RuleViolation(
                f"{patient.display_name} already has an open episode (episode {current.pk}, "
                f"{current.get_status_display().lower()}, admitted "
                f"{current.admission_date:%Y-%m-%d}). Discharge it before opening another.",
                code="open_episode_exists",
            )
        episode = Episode(
            patient=patient,
            site=site,
            focus=focus,
            referral_source=referral_source,
            referral_detail=referral_detail,
            admission_date=admission_date,
            level_of_care=level_of_care,
            status=status,
            primary_clinician=primary_clinician,
            case_manager=case_manager,
        )
        episode.part2_protected = domain.is_part2_protected(focus)
        try:
            with transaction.atomic():
                episode.save()
        except IntegrityError as exc:  # another open episode slipped in (constraint backstop)
            raise RuleViolation(
                f"{patient.display_name} already has an open episode. Discharge it before "
                "opening another.",
                code="open_episode_exists",
            ) from exc
        LevelOfCareChange.objects.create(
            episode=episode,
            part2=episode.part2_protected,
            from_level="",
            to_level=level_of_care,
            effective_date=admission_date,
            reason="Admission",
            changed_by=by.user,
        )
        _audit(
            by,
            episode,
            AuditAction.CREATE,
            {
                "status": status,
                "level_of_care": level_of_care,
                "part2_protected": episode.part2_protected,
            },
        )
    return episode


def episode_change_level(
    *,
    episode: Episode,
    to_level: str,
    effective_date: dt.date,
    reason: str,
    by: Actor,
    expected_version: int | None = None,
) -> LevelOfCareChange:
    """Step the episode up or down to `to_level` from `effective_date`; returns the history row.

    Raises RuleViolation for a discharged episode, the same level, a date before admission or
    before the last change, or a missing reason; Conflict on a stale version; NotPermitted
    (audited) without Cap.EPISODE_MANAGE.
    """
    require_patient(by, Cap.EPISODE_MANAGE, episode.patient, object_type="episode")
    to_level = _choice(to_level, LevelOfCare, "to_level", "level of care")
    reason = (reason or "").strip()
    with transaction.atomic():
        current = _locked(episode)
        _refuse_if_discharged(current)
        direction = domain.classify_level_change(current.level_of_care, to_level)
        if direction == "same":
            raise RuleViolation(
                f"The episode is already at {LevelOfCare(to_level).label}.",
                code="same_level",
                field="to_level",
            )
        if effective_date < current.admission_date:
            raise RuleViolation(
                "The change cannot take effect before the admission date "
                f"({current.admission_date:%Y-%m-%d}).",
                code="before_admission",
                field="effective_date",
            )
        last = current.level_changes.order_by("-effective_date", "-id").first()
        if last is not None and effective_date < last.effective_date:
            raise RuleViolation(
                f"The change cannot take effect before the last level change "
                f"({last.effective_date:%Y-%m-%d}).",
                code="before_last_change",
                field="effective_date",
            )
        if not reason:
            raise RuleViolation(
                "Give the clinical reason for the change.", code="required", field="reason"
            )
        change = LevelOfCareChange.objects.create(
            episode=current,
            part2=current.part2_protected,
            from_level=current.level_of_care,
            to_level=to_level,
            effective_date=effective_date,
            reason=reason,
            changed_by=by.user,
        )
        current.level_of_care = to_level
        current.updated_at = now()
        save_if_unchanged(
            current, expected_version=expected_version, fields=["level_of_care", "updated_at"]
        )
        _audit(
            by,
            current,
            AuditAction.UPDATE,
            {
                "event": direction,
                "from_level": change.from_level,
                "to_level": to_level,
                "effective_date": effective_date.isoformat(),
            },
        )
    _sync(episode, current)
    return change


def episode_set_status(
    *, episode: Episode, status: str, by: Actor, expected_version: int | None = None
) -> Episode:
    """Move an episode waitlisted -> active, active -> on hold, or on hold -> active.

    Discharge has its own service. Raises RuleViolation for other moves, Conflict on a stale
    version, NotPermitted (audited) without Cap.EPISODE_MANAGE.
    """
    require_patient(by, Cap.EPISODE_MANAGE, episode.patient, object_type="episode")
    status = _choice(status, EpisodeStatus, "status", "status")
    with transaction.atomic():
        current = _locked(episode)
        _refuse_if_discharged(current)
        if status == EpisodeStatus.DISCHARGED:
            raise RuleViolation(
                "Use Discharge to end an episode: it records the date and reason.",
                code="use_discharge",
                field="status",
            )
        if not domain.status_change_allowed(current.status, status):
            raise RuleViolation(
                f"An episode that is {current.get_status_display().lower()} cannot become "
                f"{EpisodeStatus(status).label.lower()}.",
                code="status_not_allowed",
                field="status",
            )
        before = current.status
        current.status = status
        current.updated_at = now()
        save_if_unchanged(
            current, expected_version=expected_version, fields=["status", "updated_at"]
        )
        _audit(by, current, AuditAction.UPDATE, {"event": "status", "from": before, "to": status})
    _sync(episode, current)
    return episode


def episode_change_focus(
    *, episode: Episode, focus: str, by: Actor, expected_version: int | None = None
) -> Episode:
    """Correct the treatment focus. A Part 2 marking is never removed, even when the new focus is
    mental health only: the records already written stay protected (42 CFR Part 2).

    Raises RuleViolation for a discharged episode or an invalid focus; Conflict on a stale version;
    NotPermitted (audited) without Cap.EPISODE_MANAGE.
    """
    require_patient(by, Cap.EPISODE_MANAGE, episode.patient, object_type="episode")
    focus = _choice(focus, TreatmentFocus, "focus", "treatment focus")
    with transaction.atomic():
        current = _locked(episode)
        _refuse_if_discharged(current)
        before = current.focus
        current.focus = focus
        was_protected = current.part2_protected
        current.part2_protected = domain.part2_after_focus_change(current.part2_protected, focus)
        current.updated_at = now()
        save_if_unchanged(
            current,
            expected_version=expected_version,
            fields=["focus", "part2_protected", "updated_at"],
        )
        marked: dict[str, int] = {}
        if current.part2_protected and not was_protected:
            # The records already written are records of substance-use care now.
            marked = mark_episode_records_part2(current.pk)
        _audit(
            by,
            current,
            AuditAction.UPDATE,
            {
                "event": "focus",
                "from": before,
                "to": focus,
                "part2_protected": current.part2_protected,
                **({"part2_marked": marked} if marked else {}),
            },
        )
    _sync(episode, current)
    episode.focus = current.focus
    episode.part2_protected = current.part2_protected
    return episode


def _discharge_cap(user: User | None, episode: Episode) -> Cap | None:
    """The capability under which `user` may discharge `episode`, or None.

    Whoever manages episodes (Cap.EPISODE_MANAGE: the director, case managers) discharges any
    episode at their sites; a clinician (Cap.EPISODE_DISCHARGE_OWN) discharges their own patients:
    the episodes of which they are the primary clinician, the one accountable for the patient's
    care. Facilitating the patient's group does not make the patient theirs.
    """
    if user is None or not user.is_active:
        return None
    if user.can(Cap.EPISODE_MANAGE):
        return Cap.EPISODE_MANAGE
    if user.can(Cap.EPISODE_DISCHARGE_OWN) and episode.primary_clinician_id == user.pk:
        return Cap.EPISODE_DISCHARGE_OWN
    return None


def may_discharge(user: User | None, episode: Episode) -> bool:
    """Whether the user's role and the episode let them discharge it (pages show Discharge by
    this; the patient's site is checked where the episode is read)."""
    return _discharge_cap(user, episode) is not None


def require_discharge(by: Actor, episode: Episode) -> None:
    """Raise NotPermitted (audited) unless `by` may discharge the episode (_discharge_cap) and
    the patient is at one of their sites."""
    cap = _discharge_cap(by.user, episode)
    if cap is None and by.user is not None and by.user.can(Cap.EPISODE_DISCHARGE_OWN):
        audit_denied(
            by,
            patient_id=episode.patient_id,
            object_type="episode",
            reason="not the episode's primary clinician",
        )
        raise NotPermitted(
            "Only the patient's primary clinician, a case manager or the director may discharge "
            "this episode.",
            code="not_primary_clinician",
        )
    require_patient(by, cap or Cap.EPISODE_MANAGE, episode.patient, object_type="episode")


def enrollments_ending_at_discharge(episode: Episode, discharge_date: dt.date) -> list[Enrollment]:
    """The track enrollments a discharge on `discharge_date` ends (open, or ending later)."""
    return [
        e
        for e in episode.enrollments.select_related("track").order_by("start_date", "id")
        if e.end_date is None or e.end_date > discharge_date
    ]


def episode_discharge(
    *,
    episode: Episode,
    discharge_date: dt.date,
    reason: str,
    note: str = "",
    by: Actor,
    expected_version: int | None = None,
    alert_decisions: Mapping[int, str] | None = None,
    safety_note: str = "",
) -> Episode:
    """Discharge the episode and end its open track enrollments on the discharge date; each seat
    freed is offered to its track's waitlist once the discharge commits (enrollment_end_at_discharge calls
    admissions.services.waitlist_offers.waitlist_offer_freed_seats).

    The patient stays on rosters up to and including the discharge date and leaves later ones.
    An open safety alert or an unassessed positive screen stops the discharge with the reason,
    unless `alert_decisions` decides about each open alert (alert id -> an AlertAction to
    acknowledge it with now, or "keep_open") with `safety_note` saying who follows up; see
    measures.services.safety_settle_at_close. A kept-open alert stays on the alert list, Today
    and the chart until someone acknowledges it.
    Raises RuleViolation when already discharged, for a date before admission or before the start
    of an enrollment, an invalid reason (TEDS categories), or an open safety item; Conflict on a
    stale version; NotPermitted (audited) unless require_discharge allows it (or without
    Cap.ALERT_ACK to decide about alerts).
    """
    require_discharge(by, episode)
    reason = _choice(reason, DischargeReason, "reason", "discharge reason")
    if discharge_date is None:
        raise RuleViolation("Enter the discharge date.", code="required", field="discharge_date")
    with transaction.atomic():
        current = _locked(episode)
        _refuse_if_discharged(current)
        problem = domain.discharge_date_problem(current.admission_date, discharge_date)
        if problem:
            raise RuleViolation(problem, code="discharge_before_admission", field="discharge_date")
        ending = enrollments_ending_at_discharge(current, discharge_date)
        for enrollment in ending:
            if enrollment.start_date > discharge_date:
                raise RuleViolation(
                    f"The enrollment in {enrollment.track} starts on "
                    f"{enrollment.start_date:%Y-%m-%d}, after this discharge date. Remove that "
                    "enrollment first, or choose a later discharge date.",
                    code="enrollment_after_discharge",
                    field="discharge_date",
                )
        safety_settle_at_close(episode=current, decisions=alert_decisions, note=safety_note, by=by)
        for enrollment in ending:  # each offers its freed seat to the track's waitlist
            enrollment_end_at_discharge(
                enrollment=enrollment,
                end_date=discharge_date,
                reason=f"Discharged: {DischargeReason(reason).label}",
                by=by,
            )
        current.status = EpisodeStatus.DISCHARGED
        current.discharge_date = discharge_date
        current.discharge_reason = reason
        current.discharge_note = (note or "").strip()[:500]
        current.updated_at = now()
        save_if_unchanged(
            current,
            expected_version=expected_version,
            fields=["status", "discharge_date", "discharge_reason", "discharge_note", "updated_at"],
        )
        _audit(
            by,
            current,
            AuditAction.UPDATE,
            {
                "event": "discharge",
                "discharge_date": discharge_date.isoformat(),
                "reason": reason,
                "enrollments_ended": [e.pk for e in ending],
                "alert_decisions": {str(k): v for k, v in (alert_decisions or {}).items()},
            },
        )
    _sync(episode, current)
    return episode


def episode_assign(
    *,
    episode: Episode,
    primary_clinician: User | None,
    case_manager: User | None,
    by: Actor,
    expected_version: int | None = None,
) -> Episode:
    """Set the primary clinician and case manager (None clears one).

    Raises RuleViolation for a discharged episode or staff who are not active clinical staff;
    Conflict on a stale version; NotPermitted (audited) without Cap.EPISODE_MANAGE.
    """
    require_patient(by, Cap.EPISODE_MANAGE, episode.patient, object_type="episode")
    _check_staff(primary_clinician, "primary_clinician", "primary clinician")
    _check_staff(case_manager, "case_manager", "case manager")
    with transaction.atomic():
        current = _locked(episode)
        _refuse_if_discharged(current)
        current.primary_clinician = primary_clinician
        current.case_manager = case_manager
        current.updated_at = now()
        save_if_unchanged(
            current,
            expected_version=expected_version,
            fields=["primary_clinician_id", "case_manager_id", "updated_at"],
        )
        _audit(
            by,
            current,
            AuditAction.UPDATE,
            {
                "event": "assign",
                "primary_clinician_id": primary_clinician.pk if primary_clinician else None,
                "case_manager_id": case_manager.pk if case_manager else None,
            },
        )
    _sync(episode, current)
    episode.primary_clinician = primary_clinician
    episode.case_manager = case_manager
    return episode
