"""Reads of admissions data: access checked and audited here, so no interface can forget."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q

from openiop.accounts.access import get_for, require, site_scope
from openiop.accounts.domain import Cap
from openiop.admissions.choices import TaskStatus, WaitlistStatus
from openiop.admissions.domain import admission as admission_rules
from openiop.admissions.domain import pipeline
from openiop.admissions.models import (
    AdmissionTask,
    Assessment,
    Inquiry,
    IntakeDocument,
    WaitlistEntry,
)
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.billing.models import Coverage
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.errors import NotFound
from openiop.episodes.models import Episode
from openiop.patients import matching
from openiop.patients.selectors import Duplicate, patient_match
from openiop.patients.selectors import likely_duplicates as patient_likely_duplicates
from openiop.programs.models import Site, Track


def inquiry_get(
    *, actor: Actor, inquiry_id: int, cap: Cap = Cap.ADMISSIONS_VIEW, purpose: str = "inquiry"
) -> Inquiry:
    """One inquiry with its history, pre-screens, assessments, coverages and tasks; audited.

    Raises NotFound; NotPermitted (audited) without `cap` or at another site.
    """
    return get_for(
        actor,
        Inquiry.objects.select_related(
            "site", "organization", "owner", "patient", "episode"
        ).prefetch_related(
            "stage_changes__changed_by",
            "prescreens__screened_by",
            "assessments",
            Prefetch(
                "coverages",
                queryset=Coverage.objects.select_related("payer").prefetch_related(
                    "verifications__verified_by"
                ),
            ),
            "tasks__assigned_to",
            "estimates",
        ),
        inquiry_id,
        cap=cap,
        object_type=purpose,
        missing=NotFound("There is no inquiry with this number.", code="inquiry_not_found"),
        site_of=lambda i: i.site_id,
        patient_id_of=lambda i: i.patient_id,
    )


def likely_duplicates(*, actor: Actor, inquiry: Inquiry) -> list[Duplicate]:
    """Patients who are likely the inquiry's person: same name and date of birth, or same phone.

    Limited to the actor's sites; audited naming every patient shown.
    """
    return patient_likely_duplicates(
        actor=actor,
        organization_id=inquiry.organization_id,
        person=matching.Person(
            inquiry.first_name, inquiry.last_name, inquiry.date_of_birth, inquiry.phone
        ),
        object_type="inquiry_duplicates",
        object_id=inquiry.pk,
    ).shown


@dataclass
class Card:
    inquiry: Inquiry
    days_in_stage: int
    overdue: bool
    urgent_task: bool


@dataclass
class Column:
    stage: str
    label: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class Board:
    columns: list[Column]
    closed_counts: dict[str, int]
    today: dt.date
    total: int
    urgent_tasks: list[AdmissionTask] = field(default_factory=list)
    offers: list[WaitlistEntry] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.total >= CARD_LIMIT


CARD_LIMIT = 200


def pipeline_board(
    *, actor: Actor, site_id: int | None = None, search: str = "", owner_id: int | None = None
) -> Board:
    """The open inquiries by stage, each with days in stage and overdue flag; closed counts.

    Two queries however many cards (cards, then counts). Audited once naming the linked patients.
    """
    require(actor, Cap.ADMISSIONS_VIEW, object_type="pipeline")
    qs = Inquiry.objects.filter(site_scope(actor))
    if site_id:
        qs = qs.filter(site_id=site_id)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    for term in search.split()[:5]:
        qs = qs.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(phone__contains=term)
        )
    open_qs = (
        qs.filter(stage__in=pipeline.OPEN_STAGES)
        .select_related("owner", "site")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=AdmissionTask.objects.filter(urgent=True, status=TaskStatus.OPEN),
                to_attr="urgent_tasks",
            )
        )
        .order_by("next_action_date", "received_at")[:CARD_LIMIT]
    )
    columns = {s: Column(stage=s, label=pipeline.STAGE_LABELS[s]) for s in pipeline.OPEN_STAGES}
    today_by_tz: dict[str, dt.date] = {}
    rows = list(open_qs)
    for inquiry in rows:
        tz = inquiry.site.timezone
        if tz not in today_by_tz:
            today_by_tz[tz] = clock.local_today(inquiry.site.tz)
        today = today_by_tz[tz]
        columns[inquiry.stage].cards.append(
            Card(
                inquiry=inquiry,
                days_in_stage=pipeline.days_in_stage(inquiry.stage_entered_on, today),
                overdue=pipeline.is_overdue(inquiry.next_action_date, today, inquiry.stage),
                urgent_task=bool(inquiry.urgent_tasks),
            )
        )
    closed = {s: 0 for s in (pipeline.ADMITTED, *pipeline.CLOSING_STAGES)}
    for row in qs.exclude(stage__in=pipeline.OPEN_STAGES).values("stage").annotate(n=Count("id")):
        closed[row["stage"]] = row["n"]
    urgent = list(
        AdmissionTask.objects.filter(urgent=True, status=TaskStatus.OPEN)
        .filter(site_scope(actor, field="inquiry__site_id"))
        .select_related("inquiry")
        .order_by("created_at")[:20]
    )
    offers = list(
        WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED)
        .filter(site_scope(actor, field="track__site_id"))
        .select_related("episode__patient", "track")
        .order_by("offered_at", "id")[:50]
    )
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="pipeline",
        patient_ids=[i.patient_id for i in rows if i.patient_id]
        + [t.inquiry.patient_id for t in urgent if t.inquiry.patient_id]
        + [o.episode.patient_id for o in offers],
        detail={"cards": len(rows)},
    )
    return Board(
        columns=list(columns.values()),
        closed_counts=closed,
        today=next(iter(today_by_tz.values()), clock.now().date()),
        total=len(rows),
        urgent_tasks=urgent,
        offers=offers,
    )


def conversion_report(
    *, actor: Actor, start: dt.date, end: dt.date
) -> list[pipeline.ConversionRow]:
    """Inquiries and admissions per month received and referral source (no names shown).

    An inquiry's day (for `start`..`end` and its month) is its clinic's local date: an evening
    call on the last day of a month belongs to that month whatever UTC says.
    """
    require(actor, Cap.ADMISSIONS_VIEW, object_type="conversion")
    # UTC bounds one day wider than asked (every UTC offset is under a day); exact local dates below
    rows = (
        Inquiry.objects.filter(site_scope(actor))
        .filter(
            received_at__gte=dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), dt.UTC),
            received_at__lt=dt.datetime.combine(end + dt.timedelta(days=2), dt.time(), dt.UTC),
        )
        .values_list("received_at", "site__timezone", "referral_source", "stage")
    )
    facts = []
    for received, tz, source, stage in rows:
        local = received.astimezone(ZoneInfo(tz)).date()
        if start <= local <= end:
            facts.append(
                pipeline.InquiryFact(
                    received=local, referral_source=source, admitted=stage == pipeline.ADMITTED
                )
            )
    return pipeline.conversion_by_source(facts)


def assessment_get(
    *, actor: Actor, assessment_id: int, cap: Cap = Cap.ADMISSIONS_VIEW
) -> Assessment:
    return get_for(
        actor,
        Assessment.objects.select_related(
            "inquiry__site", "inquiry__organization", "assessed_by", "decided_by"
        ),
        assessment_id,
        cap=cap,
        object_type="assessment",
        missing=NotFound("There is no assessment with this number."),
        site_of=lambda a: a.inquiry.site_id,
        patient_id_of=lambda a: a.inquiry.patient_id,
    )


def document_get(
    *, actor: Actor, document_id: int, cap: Cap = Cap.ADMISSIONS_MANAGE
) -> IntakeDocument:
    return get_for(
        actor,
        IntakeDocument.objects.select_related(
            "patient__organization", "patient__site", "episode", "witnessed_by"
        ),
        document_id,
        cap=cap,
        object_type="intake_document",
        missing=NotFound("There is no such document."),
        patient_of=lambda d: d.patient,
    )


def packet_get(*, actor: Actor, episode_id: int) -> tuple[Episode, list[IntakeDocument]]:
    episode = get_for(
        actor,
        Episode.objects.select_related("patient__organization", "site"),
        episode_id,
        cap=Cap.ADMISSIONS_MANAGE,
        object_type="intake_packet",
        missing=NotFound("There is no episode with this number."),
        patient_of=lambda e: e.patient,
    )
    docs = list(episode.intake_documents.select_related("witnessed_by").order_by("id"))
    return episode, docs


@dataclass
class WaitRow:
    entry: WaitlistEntry
    position: int | None


def track_waitlist(
    *, actor: Actor, track_id: int, q: str = "", page: int | str | None = 1
) -> tuple[Track, Page[WaitRow]]:
    """A track's waitlist with positions (1 = next), a page of 25; audited naming every patient
    shown. `q` keeps the patients matching the search box (name words, MRN or date of birth);
    positions stay those in the whole queue. Fixed queries (one more with a search)."""
    require(actor, Cap.ADMISSIONS_VIEW, object_type="waitlist")
    track = get_for(
        actor,
        Track.objects.select_related("site"),
        track_id,
        cap=Cap.ADMISSIONS_VIEW,
        object_type="waitlist",
        missing=NotFound("There is no such track."),
        site_of=lambda t: t.site_id,
        action=None,  # audited below, naming every patient shown
    )
    open_entries = WaitlistEntry.objects.filter(
        track=track, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
    )
    entries = list(open_entries.select_related("episode__patient").order_by("joined_at", "id"))
    positions = admission_rules.waitlist_positions(
        (e.pk, e.joined_at) for e in entries if e.status == WaitlistStatus.WAITING
    )
    if q.strip():
        keep = set(
            open_entries.filter(patient_match(q, "episode__patient__")).values_list("pk", flat=True)
        )
        entries = [e for e in entries if e.pk in keep]
    shown = Paginator([WaitRow(entry=e, position=positions.get(e.pk)) for e in entries], 25)
    result = shown.get_page(page)
    audit_record_many(
        actor,
        action=AuditAction.VIEW,
        object_type="waitlist",
        object_id=track.pk,
        patient_ids=[r.entry.episode.patient_id for r in result.object_list],
    )
    return track, result


def waitlist_entry_get(*, actor: Actor, entry_id: int) -> WaitlistEntry:
    return get_for(
        actor,
        WaitlistEntry.objects.select_related("episode__patient", "track__site"),
        entry_id,
        cap=Cap.ADMISSIONS_MANAGE,
        object_type="waitlist",
        missing=NotFound("There is no such waitlist entry."),
        patient_of=lambda e: e.episode.patient,
    )


def open_urgent_tasks_for_today(
    *, actor: Actor, site: Site, limit: int = 50
) -> tuple[list[AdmissionTask], list[AdmissionTask]]:
    """Open urgent tasks (high-risk pre-screens) for the Today page, oldest first, each with its
    site: (those of inquiries at `site`, those assigned to the actor at any site they may see).
    One query; the caller checks Cap.ADMISSIONS_VIEW and audits."""
    user = actor.user
    mine = Q(assigned_to=user) if user is not None else Q(pk__in=[])
    rows = list(
        AdmissionTask.objects.filter(
            site_scope(actor, field="inquiry__site_id"), urgent=True, status=TaskStatus.OPEN
        )
        .filter(Q(inquiry__site=site) | mine)
        .select_related("inquiry__site", "assigned_to")
        .order_by("created_at", "id")[: limit * 2]
    )
    user_id = user.pk if user is not None else None
    return (
        [t for t in rows if t.inquiry.site_id == site.pk][:limit],
        [t for t in rows if t.assigned_to_id is not None and t.assigned_to_id == user_id][:limit],
    )


def task_get(*, actor: Actor, task_id: int) -> AdmissionTask:
    task = get_for(
        actor,
        AdmissionTask.objects.select_related("inquiry__site"),
        task_id,
        cap=Cap.ADMISSIONS_VIEW,
        object_type="task",
        missing=NotFound("There is no such task."),
        site_of=lambda t: t.inquiry.site_id,
        patient_id_of=lambda t: t.inquiry.patient_id,
        action=None,  # the view is audited as an admission_task (the refusal as a task)
    )
    audit_record(
        actor,
        action=AuditAction.VIEW,
        patient_id=task.inquiry.patient_id,
        object_type="admission_task",
        object_id=task.pk,
    )
    return task


def latest_decided_assessment(*, patient_id: int) -> Assessment | None:
    """The patient's most recent decided ASAM assessment (its inquiries'), or None. One query. No
    access check or audit: for a selector that checked the patient and audits what it shows
    (billing's concurrent-review packet)."""
    return (
        Assessment.objects.filter(inquiry__patient_id=patient_id, decided_at__isnull=False)
        .order_by("-decided_at", "-id")
        .first()
    )
