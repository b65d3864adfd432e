"""Appointments: individual and family sessions and prescriber (medication-management) visits
booked for one episode's patient."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from openiop.accounts.access import require_patient
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.programs import domain
from openiop.programs.choices import SessionKind
from openiop.programs.models import (
    GroupSession,
    Room,
)
from openiop.programs.services._common import (
    _busy,
    _check_duration,
    _check_facilitator,
    _check_open_future_date,
    _check_room,
)
from openiop.programs.services.sites import require_site_takes_new_work

APPOINTMENT_KINDS = tuple(SessionKind(k) for k in domain.APPOINTMENT_KINDS)


def appointment_book(
    *,
    episode: Episode,
    facilitator: User,
    kind: str,
    date: dt.date,
    start_time: dt.time,
    duration_minutes: int,
    room: Room | None,
    title: str,
    by: Actor,
) -> GroupSession:
    """Book an individual or family session with a clinician, or a medication-management visit
    with a prescriber, for the episode's patient.

    The session is on the episode's site, with the episode set and no track; its roster is the
    patient. Raises RuleViolation for a discharged episode, a kind other than individual, family
    or medication management, a medication-management visit whose facilitator is not a prescriber
    (Cap.PRESCRIBER_VISIT; code 'not_prescriber', programs.domain.appointment_provider_problem),
    a past or closed date, a facilitator or room not at the site, a double booking, or a site that
    takes no new work; NotPermitted (audited) without Cap.APPOINTMENT_BOOK or for a patient at
    another site.
    """
    require_patient(by, Cap.APPOINTMENT_BOOK, episode.patient, object_type="appointment")
    if kind not in [k.value for k in APPOINTMENT_KINDS]:
        raise RuleViolation(
            "Choose individual therapy, family therapy or medication management.",
            code="invalid_choice",
            field="kind",
        )
    if date is None:
        raise RuleViolation("Enter the date.", code="required", field="date")
    if start_time is None:
        raise RuleViolation("Enter the start time.", code="required", field="start_time")
    _check_duration(duration_minutes)
    site = episode.site
    require_site_takes_new_work(site)
    _check_facilitator(facilitator, site)
    if problem := domain.appointment_provider_problem(
        kind,
        str(facilitator),
        provider_prescribes=facilitator.can(Cap.PRESCRIBER_VISIT),
    ):
        raise RuleViolation(problem, code="not_prescriber", field="facilitator")
    _check_room(room, site, required=False)
    title = (title or "").strip()[:200] or SessionKind(kind).label
    with transaction.atomic():
        current = Episode.objects.select_for_update().get(pk=episode.pk)
        if current.status == EpisodeStatus.DISCHARGED:
            raise RuleViolation(
                "This episode is discharged; open a new episode to book sessions.",
                code="episode_discharged",
            )
        tz = site.tz
        _check_open_future_date(site, date)
        starts_at, ends_at = domain.session_times(date, start_time, duration_minutes, tz)
        if starts_at <= clock.now():
            raise RuleViolation(
                "Choose a time that is still ahead.", code="time_past", field="start_time"
            )
        _busy(starts_at=starts_at, ends_at=ends_at, facilitator=facilitator, room=room)
        session = GroupSession.objects.create(
            site=site,
            track=None,
            block=None,
            kind=kind,
            title=title,
            date=date,
            starts_at=starts_at,
            ends_at=ends_at,
            facilitator=facilitator,
            room=room,
            episode=current,
        )
        session.episode = episode
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=episode.patient_id,
            object_type="appointment",
            object_id=session.pk,
            detail={"kind": kind, "date": date.isoformat(), "facilitator": facilitator.pk},
        )
    return session
