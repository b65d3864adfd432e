"""Fill a database with a synthetic clinic network from `plan.plan_network` (for `openiop synth`).

Structure (organization, sites, rooms, staff, tracks, weekly blocks, schedules) goes through the
ORM in bulk; the large tables (patients, episodes, level history, enrollments, sessions, attendance,
audit trail, questionnaire responses, alerts, inquiries, plans, notes) stream through
`writer.write_rows`, which uses COPY on PostgreSQL, so memory stays small however large the
network. Every person is fictional: names are drawn from the demo cast's invented names.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.admissions.domain.pipeline import OPEN_STAGES
from openiop.admissions.models import Inquiry, StageChange
from openiop.attendance.models import Attendance
from openiop.audit.models import AuditEntry, AuditEntryPatient
from openiop.casemgmt.models import CommunityResource
from openiop.core.part2 import mark_all_part2_records
from openiop.demo.cast import FIRST_NAMES, LAST_NAMES
from openiop.demo.synth import clinical as synth_clinical
from openiop.demo.synth import plan as synth_plan
from openiop.demo.synth.attended import AttendedRows
from openiop.demo.synth.billing import write_billing
from openiop.demo.synth.care import write_care
from openiop.demo.synth.documentation import Documentation
from openiop.demo.synth.plan import Stay
from openiop.demo.synth.writer import aware, next_id, write_rows
from openiop.episodes.domain import is_part2_protected
from openiop.episodes.models import Episode, LevelOfCareChange
from openiop.measures.domain import REGISTRY
from openiop.measures.domain.care import alert_owner
from openiop.measures.models import MeasurementSchedule, Response, SafetyAlert, SiteSafetySettings
from openiop.measures.services import _alert_message, clinic_hours
from openiop.patients.domain import format_mrn, search_name_for
from openiop.patients.models import Patient
from openiop.programs.domain import BlockSpec, default_weekly_minimum_minutes, occurrences
from openiop.programs.models import (
    Enrollment,
    GroupSession,
    Organization,
    Room,
    Site,
    Track,
    TrackBlock,
)

SYNTH_PASSWORD = "openiop-bench"
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
FOCUS_MIX = (("substance_use", 0.45), ("co_occurring", 0.35), ("mental_health", 0.20))
REFERRAL_MIX = (
    ("self", 0.25),
    ("therapist", 0.2),
    ("inpatient", 0.15),
    ("php", 0.1),
    ("family", 0.1),
    ("court", 0.08),
    ("physician", 0.07),
    ("other", 0.05),
)
APPOINTMENT_TITLES = {"individual": "Individual therapy", "family": "Family session"}
STAFF_PER_SITE = (
    (Role.INTAKE, 1),
    (Role.CLINICIAN, 4),
    (Role.CASE_MANAGER, 2),
    (Role.PRESCRIBER, 1),
)


@dataclass
class SynthResult:
    organization_id: int
    counts: dict[str, int] = field(default_factory=dict)


def build_network(
    *,
    sites: int,
    patients: int,
    weeks: int,
    seed: int,
    today: dt.date,
    capacity: int = 15,
    org_name: str = "Synthetic Network",
    chart_views_per_patient: int = 15,
    stream: TextIO | None = None,
) -> SynthResult:
    """Create a network of `sites` clinics with `patients` patients and `weeks` weeks of sessions.

    Returns the new organization's id and the row counts written. Raises ValueError for sizes
    below one.
    """
    network = synth_plan.plan_network(
        sites=sites, patients=patients, weeks=weeks, today=today, capacity=capacity, seed=seed
    )
    rng = random.Random(seed + 1)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Check foreign keys at the end of each COPY rather than all at commit: the deferred
            # queue of ~12 million checks held about 600 MB in the server at the benchmark's size.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        builder = _Builder(network, rng=rng, today=today, org_name=org_name, stream=stream)
        builder.structure(sites)
        builder.people(patients)
        builder.sessions()
        builder.attendance()
        builder.audit_trail(chart_views_per_patient)
        builder.clinical_records()
        # The rows above are written without the services: mark those of substance-use episodes.
        mark_all_part2_records()
        write_billing(builder)
        builder.counts.update(
            write_care(organization_id=builder.org.pk, today=today, seed=seed, stream=stream)
        )
    return SynthResult(organization_id=builder.org.pk, counts=builder.counts)


def add_care(
    *, today: dt.date, seed: int, stream: TextIO | None = None
) -> dict[str, dict[str, int]]:
    """Add the care step (synth.care) to every synthetic network that has none yet (a network
    built before the step existed). Returns the rows written per network name; empty when every
    network has its care rows. One transaction."""
    added: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as build_network
        for org in Organization.objects.filter(name__startswith="Synthetic Network").order_by("id"):
            if CommunityResource.objects.filter(site__organization=org).exists():
                continue
            added[org.name] = write_care(
                organization_id=org.pk, today=today, seed=seed, stream=stream
            )
    return added


class _Builder:
    def __init__(
        self,
        network: synth_plan.NetworkPlan,
        *,
        rng: random.Random,
        today: dt.date,
        org_name: str,
        stream: TextIO | None,
    ) -> None:
        self.network = network
        self.rng = rng
        self.today = today
        self.org_name = org_name
        self.stream = stream
        self.counts: dict[str, int] = {}

    # --- structure: a few thousand rows through the ORM ----------------------------------------
    def structure(self, site_count: int) -> None:
        n = Organization.objects.count() + 1
        self.org = Organization.objects.create(
            name=f"{self.org_name} {n}", mrn_prefix=f"S{n % 100:02d}", crisis_line="555-0199"
        )
        self.sites = Site.objects.bulk_create(
            Site(
                organization=self.org,
                name=f"Clinic {i + 1:02d} (synthetic)",
                timezone=TIMEZONES[i % len(TIMEZONES)],
                address=f"{100 + i} Imaginary Way",
            )
            for i in range(site_count)
        )
        password = make_password(SYNTH_PASSWORD)
        users: list[User] = []
        site_of: list[int] = []
        for i in range(len(self.sites)):
            for role, count in STAFF_PER_SITE:
                for k in range(count):
                    users.append(self._user(f"o{self.org.pk}s{i + 1}-{role.value}{k + 1}", role))
                    users[-1].password = password
                    site_of.append(i)
        for role, name in ((Role.DIRECTOR, "director"), (Role.BILLING, "billing")):
            users.append(self._user(f"o{self.org.pk}-{name}", role))
            users[-1].password = password
            site_of.append(-1)
        users.append(self._user(f"o{self.org.pk}-auditor", Role.AUDITOR))
        users[-1].password = password
        site_of.append(-1)
        users = User.objects.bulk_create(users)
        through = User.sites.through
        through.objects.bulk_create(
            through(user_id=u.pk, site_id=self.sites[s].pk)
            for u, s in zip(users, site_of, strict=True)
            if s >= 0
        )
        self.staff_by_site: dict[int, dict[str, list[User]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for u, s in zip(users, site_of, strict=True):
            if s >= 0:
                self.staff_by_site[s][u.role].append(u)
        self.staff_names = {u.pk: str(u) for u in users}
        self.counts["staff"] = len(users)

        rooms = Room.objects.bulk_create(
            Room(site=site, name=f"Room {r + 1}", capacity=capacity)
            for site in self.sites
            for r, capacity in enumerate((16, 16, 12, 20))
        )
        self.rooms_by_site: dict[int, list[Room]] = defaultdict(list)
        for room in rooms:
            self.rooms_by_site[room.site_id].append(room)

        per_site_count: dict[tuple[int, str], int] = defaultdict(int)
        tracks: list[Track] = []
        for site_index, template in self.network.tracks:
            per_site_count[(site_index, template.name)] += 1
            nth = per_site_count[(site_index, template.name)]
            tracks.append(
                Track(
                    site=self.sites[site_index],
                    name=template.name if nth == 1 else f"{template.name} {nth}",
                    age_band=template.age_band,
                    capacity=15,
                    weekly_minimum_minutes=default_weekly_minimum_minutes(template.age_band),
                )
            )
        self.tracks = Track.objects.bulk_create(tracks)
        self.site_tz = {site.pk: site.tz for site in self.sites}
        self.sites_by_id = {site.pk: site for site in self.sites}
        blocks: list[TrackBlock] = []
        for track, (site_index, template) in zip(self.tracks, self.network.tracks, strict=True):
            clinicians = self.staff_by_site[site_index][Role.CLINICIAN.value]
            site_rooms = self.rooms_by_site[track.site_id]
            for weekday in template.weekdays:
                for b, block in enumerate(template.blocks):
                    blocks.append(
                        TrackBlock(
                            track=track,
                            weekday=weekday,
                            start_time=block.start,
                            duration_minutes=block.duration_minutes,
                            kind=block.kind,
                            title=block.title,
                            facilitator=clinicians[(track.pk + b) % len(clinicians)],
                            room=site_rooms[(track.pk + b) % len(site_rooms)],
                            valid_from=self.network.window_start,
                        )
                    )
        self.blocks = TrackBlock.objects.bulk_create(blocks)
        self.counts.update(sites=len(self.sites), tracks=len(self.tracks), blocks=len(self.blocks))

    def _user(self, username: str, role: Role) -> User:
        first = self.rng.choice(FIRST_NAMES)
        last = self.rng.choice(LAST_NAMES)
        return User(
            username=username,
            first_name=first,
            last_name=last,
            role=role.value,
            organization=self.org,
        )

    # --- patients, episodes, level history, enrollments --------------------------------------
    def people(self, patient_count: int) -> None:
        network = self.network
        first_patient = next_id(Patient)
        first_episode = next_id(Episode)
        seated = network.stays
        # Stay i is episode first_episode + i of patient first_patient + stay.person (a readmitted
        # patient has several stays); the patients and episodes after them are waitlisted or on hold.
        self.stay_ids: list[tuple[int, int]] = [
            (first_episode + i, first_patient + stay.person) for i, stay in enumerate(seated)
        ]
        first_stay_of: dict[int, Stay] = {}
        for stay in seated:
            first_stay_of.setdefault(stay.person, stay)

        self.names: dict[int, tuple[str, str]] = {}
        self.dob: dict[int, dt.date] = {}

        def patients() -> Iterator[dict[str, Any]]:
            for i in range(patient_count):
                if i < network.people:
                    site_index, template = network.tracks[first_stay_of[i].track_index]
                    adolescent = template.age_band != "adult"
                else:
                    site_index, adolescent = i % len(self.sites), self.rng.random() < 0.2
                first = self.rng.choice(FIRST_NAMES)
                last = self.rng.choice(LAST_NAMES)
                self.names[first_patient + i] = (first, last)
                age = self.rng.randint(13, 17) if adolescent else self.rng.randint(18, 70)
                dob = self.today - dt.timedelta(days=age * 365 + self.rng.randrange(365))
                self.dob[first_patient + i] = dob
                yield {
                    "id": first_patient + i,
                    "organization_id": self.org.pk,
                    "site_id": self.sites[site_index].pk,
                    "mrn": format_mrn(self.org.mrn_prefix, i + 1),
                    "legal_first_name": first,
                    "legal_last_name": last,
                    "date_of_birth": dob,
                    "sex": self.rng.choice(("female", "male")),
                    "phone": f"555-01{self.rng.randrange(100):02d}",
                    "search_name": search_name_for(first, "", last),
                    # A fictional address: a claim carries the patient's (837 2010BA/CA).
                    "address_line": f"{i + 1} Makebelieve Road",
                    "city": "Faketown",
                    "state": "ZZ",
                    "postal_code": "00000",
                }

        self.counts["patients"] = write_rows(
            Patient, patients(), expected=patient_count, stream=self.stream
        )
        Organization.objects.filter(pk=self.org.pk).update(next_mrn=patient_count + 1)

        episodes: list[dict[str, Any]] = []
        self.primary_clinician: list[int] = []
        self.focus: list[str] = []  # per stay
        for i in range(len(seated) + network.unseated):
            if i < len(seated):
                stay = seated[i]
                site_index = network.tracks[stay.track_index][0]
                status = "discharged" if stay.discharge else "active"
                admission, discharge, reason = stay.admission, stay.discharge, stay.reason
                patient_id = self.stay_ids[i][1]
            else:
                site_index = i % len(self.sites)
                status = "on_hold" if self.rng.random() < 0.3 else "waitlisted"
                admission = self.today + dt.timedelta(days=self.rng.randint(-7, 14))
                discharge, reason = None, ""
                patient_id = first_patient + network.people + (i - len(seated))
            staff = self.staff_by_site[site_index]
            focus = synth_plan.weighted(self.rng, FOCUS_MIX)
            clinician = self.rng.choice(staff[Role.CLINICIAN.value]).pk
            if i < len(seated):
                self.primary_clinician.append(clinician)
                self.focus.append(focus)
            episodes.append(
                {
                    "id": first_episode + i,
                    "patient_id": patient_id,
                    "site_id": self.sites[site_index].pk,
                    "focus": focus,
                    "part2_protected": is_part2_protected(focus),
                    "referral_source": synth_plan.weighted(self.rng, REFERRAL_MIX),
                    "admission_date": admission,
                    "level_of_care": "2.1",
                    "status": status,
                    "primary_clinician_id": clinician,
                    "case_manager_id": self.rng.choice(staff[Role.CASE_MANAGER.value]).pk,
                    "discharge_date": discharge,
                    "discharge_reason": reason,
                }
            )
        self.counts["episodes"] = write_rows(Episode, episodes, stream=self.stream)
        first_change = next_id(LevelOfCareChange)
        director = User.objects.get(username=f"o{self.org.pk}-director")
        self.counts["level_changes"] = write_rows(
            LevelOfCareChange,
            (
                {
                    "id": first_change + i,
                    "episode_id": e["id"],
                    "from_level": "",
                    "to_level": "2.1",
                    "effective_date": e["admission_date"],
                    "reason": "Admitted (synthetic)",
                    "changed_by_id": director.pk,
                }
                for i, e in enumerate(episodes)
            ),
            stream=self.stream,
        )
        del episodes
        first_enrollment = next_id(Enrollment)
        self.counts["enrollments"] = write_rows(
            Enrollment,
            (
                {
                    "id": first_enrollment + i,
                    "episode_id": self.stay_ids[i][0],
                    "track_id": self.tracks[stay.track_index].pk,
                    "start_date": stay.admission,
                    "end_date": stay.discharge,
                    "end_reason": "Discharged" if stay.discharge else "",
                }
                for i, stay in enumerate(seated)
            ),
            stream=self.stream,
        )

    # --- sessions and attendance ---------------------------------------------------------------
    def sessions(self) -> None:
        first_session = next_id(GroupSession)
        blocks_by_track: dict[int, list[TrackBlock]] = defaultdict(list)
        for block in self.blocks:
            blocks_by_track[block.track_id].append(block)
        # Per track: (session id, local date, minutes) for the attendance pass.
        self.track_sessions: dict[int, list[tuple[int, dt.date, int]]] = defaultdict(list)
        next_session = first_session
        # Past sessions: (starts, ends, facilitator, title, kind, site) for their notes.
        self.session_info: dict[int, tuple[dt.datetime, dt.datetime, int, str, str, int]] = {}

        def rows() -> Iterator[dict[str, Any]]:
            nonlocal next_session
            for track in self.tracks:
                blocks = {b.pk: b for b in blocks_by_track[track.pk]}
                specs = [
                    BlockSpec(
                        key=b.pk,
                        weekday=b.weekday,
                        start_time=b.start_time,
                        duration_minutes=b.duration_minutes,
                        valid_from=b.valid_from,
                    )
                    for b in blocks.values()
                ]
                tz = self.site_tz[track.site_id]
                for occ in occurrences(
                    specs, self.network.window_start, self.network.window_end, {}, tz
                ):
                    block = blocks[occ.key]
                    minutes = block.duration_minutes
                    self.track_sessions[track.pk].append((next_session, occ.date, minutes))
                    if occ.date < self.today:
                        self.session_info[next_session] = (
                            occ.starts_at,
                            occ.ends_at,
                            block.facilitator_id,
                            block.title,
                            block.kind,
                            track.site_id,
                        )
                    yield {
                        "id": next_session,
                        "site_id": track.site_id,
                        "track_id": track.pk,
                        "block_id": block.pk,
                        "kind": block.kind,
                        "title": block.title,
                        "date": occ.date,
                        "series_date": occ.date,
                        "starts_at": occ.starts_at,
                        "ends_at": occ.ends_at,
                        "facilitator_id": block.facilitator_id,
                        "room_id": block.room_id,
                        "status": "scheduled",
                    }
                    next_session += 1

        self.counts["sessions"] = write_rows(GroupSession, rows(), stream=self.stream)
        self.first_appointment = next_session
        self.counts["appointments"] = write_rows(
            GroupSession,
            (
                {
                    "id": session_id,
                    "site_id": track.site_id,
                    "track_id": None,  # like session_book: the roster is the episode alone
                    "kind": a.kind,
                    "title": APPOINTMENT_TITLES[a.kind],
                    "date": a.date,
                    "series_date": None,
                    "starts_at": starts_at,
                    "ends_at": starts_at + dt.timedelta(minutes=a.duration_minutes),
                    "facilitator_id": self.primary_clinician[i],
                    "room_id": self.rooms_by_site[track.site_id][-1].pk,
                    "status": "scheduled",
                    "episode_id": self.stay_ids[i][0],
                }
                for session_id, i, track, a, starts_at in self._appointments()
            ),
            stream=self.stream,
        )

    def _appointments(
        self,
    ) -> Iterator[tuple[int, int, Track, synth_plan.Appointment, dt.datetime]]:
        """(session id, stay index, track, appointment, start) for every individual and family
        session, in the same order and with the same ids each time it is called."""
        for session_id, i, track, a, starts_at in self._appointments_once():
            if a.date < self.today and session_id not in self.session_info:
                self.session_info[session_id] = (
                    starts_at,
                    starts_at + dt.timedelta(minutes=a.duration_minutes),
                    self.primary_clinician[i],
                    APPOINTMENT_TITLES[a.kind],
                    a.kind,
                    track.site_id,
                )
            yield session_id, i, track, a, starts_at

    def _appointments_once(
        self,
    ) -> Iterator[tuple[int, int, Track, synth_plan.Appointment, dt.datetime]]:
        session_id = self.first_appointment
        network = self.network
        for i, stay in enumerate(network.stays):
            track = self.tracks[stay.track_index]
            template = network.tracks[stay.track_index][1]
            tz = self.site_tz[track.site_id]
            for a in synth_plan.appointments(
                stay, template, i, network.window_start, network.window_end
            ):
                starts_at = dt.datetime.combine(a.date, a.start, tzinfo=tz)
                yield session_id, i, track, a, starts_at
                session_id += 1

    def attendance(self) -> None:
        first = next_id(Attendance)
        stays_by_track: dict[int, list[int]] = defaultdict(list)
        for i, stay in enumerate(self.network.stays):
            stays_by_track[self.tracks[stay.track_index].pk].append(i)
        expected = synth_plan.expected_attendance_rows(self.network, self.today)
        recorder = {
            t.pk: self.staff_by_site[site][Role.CLINICIAN.value][0].pk
            for t, (site, _) in zip(self.tracks, self.network.tracks, strict=True)
        }

        def rows() -> Iterator[dict[str, Any]]:
            for track in self.tracks:
                sessions = self.track_sessions[track.pk]
                for i in stays_by_track[track.pk]:
                    stay = self.network.stays[i]
                    episode_id, patient_id = self.stay_ids[i]
                    last = stay.discharge or self.today - dt.timedelta(days=1)
                    for session_id, day, minutes in sessions:
                        if day < stay.admission or day > last or day >= self.today:
                            continue
                        status = synth_plan.weighted(self.rng, synth_plan.ATTENDANCE_MIX)
                        yield {
                            "session_id": session_id,
                            "episode_id": episode_id,
                            "patient_id": patient_id,
                            "status": status,
                            "minutes_attended": synth_plan.minutes_for(status, minutes, self.rng),
                            "recorded_by_id": recorder[track.pk],
                            "_stay": i,
                            "_block": track.pk,
                        }

        def appointment_rows() -> Iterator[dict[str, Any]]:
            for session_id, i, _track, a, _starts_at in self._appointments():
                if a.date >= self.today:
                    continue
                status = synth_plan.weighted(self.rng, synth_plan.ATTENDANCE_MIX)
                yield {
                    "session_id": session_id,
                    "episode_id": self.stay_ids[i][0],
                    "patient_id": self.stay_ids[i][1],
                    "status": status,
                    "minutes_attended": synth_plan.minutes_for(
                        status, a.duration_minutes, self.rng
                    ),
                    "recorded_by_id": self.primary_clinician[i],
                    "_stay": i,
                    "_block": 0,
                }

        self.attended = AttendedRows()

        def numbered() -> Iterator[dict[str, Any]]:
            next_row = first
            for row in itertools.chain(rows(), appointment_rows()):
                row["id"] = next_row
                next_row += 1
                self.attended.add(row)
                yield row

        self.counts["attendance"] = write_rows(
            Attendance, numbered(), expected=expected, stream=self.stream
        )

    # --- clinical records: questionnaires, safety alerts, admissions pipeline -----------------
    def clinical_records(self) -> None:
        """The records the clinical apps add: measurement schedules per track, questionnaire
        responses (about 1.4 million at the benchmark's size) with the safety alerts their
        answers open, admissions inquiries across the pipeline at every site, then treatment
        plans per stay and progress notes per attended session (see synth.documentation)."""
        self.measurement()
        self.admissions()
        documentation = Documentation(self)
        documentation.plans()
        documentation.notes()

    def measurement(self) -> None:
        rng = random.Random(self.rng.random())
        schedules = [
            MeasurementSchedule(
                track=track,
                instrument=spec.instrument,
                at_admission=spec.at_admission,
                every_days=spec.every_days,
                at_discharge=spec.at_discharge,
            )
            for track, (_site, template) in zip(self.tracks, self.network.tracks, strict=True)
            for spec in synth_clinical.schedules_for(template.age_band)
        ]
        self.counts["measurement_schedules"] = len(
            MeasurementSchedule.objects.bulk_create(schedules)
        )
        director = User.objects.get(username=f"o{self.org.pk}-director")
        configs = SiteSafetySettings.objects.bulk_create(
            SiteSafetySettings(
                site=site,
                on_call=self.staff_by_site[i][Role.CLINICIAN.value][1],  # a second clinician
                director=director,
            )
            for i, site in enumerate(self.sites)
        )
        hours = {c.site_id: clinic_hours(self.sites_by_id[c.site_id], c) for c in configs}
        on_call = {c.site_id: c.on_call_id for c in configs}
        answers = synth_clinical.Answers(rng)
        first_response = next_id(Response)
        yesterday = self.today - dt.timedelta(days=1)
        # (response id, stay index, when, reason, level, label): a few thousand at most.
        raised: list[tuple[int, int, dt.datetime, str, str, str]] = []

        def rows() -> Iterator[dict[str, Any]]:
            response_id = first_response
            for i, stay in enumerate(self.network.stays):
                if stay.admission >= self.today:
                    continue
                site_index, template = self.network.tracks[stay.track_index]
                episode_id, patient_id = self.stay_ids[i]
                tz = self.site_tz[self.sites[site_index].pk]
                trajectory = synth_clinical.trajectory_for(rng, self.focus[i])
                discharged = stay.discharge is not None and stay.discharge <= yesterday
                last = min(stay.discharge or yesterday, yesterday)
                hour = template.appointment_start.hour
                for due in synth_clinical.due_dates(
                    admission=stay.admission,
                    last=last,
                    discharged=discharged,
                    weekdays=template.weekdays,
                    specs=synth_clinical.schedules_for(template.age_band),
                    rng=rng,
                ):
                    level = synth_clinical.level_for(due.instrument, trajectory, due.days, rng)
                    variant = synth_clinical.variant_for(due.instrument, level, rng)
                    scored = answers.draw(due.instrument, level, variant)
                    at = dt.datetime.combine(due.day, dt.time(hour, rng.randrange(60)), tzinfo=tz)
                    for reason, risk in scored.alerts:
                        raised.append((response_id, i, at, reason, risk, scored.instrument))
                    yield {
                        "id": response_id,
                        "created_at": at,
                        "updated_at": at,
                        "patient_id": patient_id,
                        "episode_id": episode_id,
                        "instrument": scored.instrument,
                        "instrument_version": scored.version,
                        "answers": scored.answers,
                        "mode": "staff",
                        "timeframe": scored.timeframe,
                        "administered_at": at,
                        "total": scored.total,
                        "band": scored.band,
                        "flags": scored.flags,
                        "subscales": scored.subscales,
                        "entered_by_id": self.primary_clinician[i],
                    }
                    response_id += 1

        self.counts["responses"] = write_rows(
            Response,
            rows(),
            expected=synth_clinical.EXPECTED_PER_STAY * len(self.network.stays),
            stream=self.stream,
        )
        first_alert = next_id(SafetyAlert)
        open_after = self.today - dt.timedelta(days=synth_clinical.OPEN_ALERT_DAYS)

        def alerts() -> Iterator[dict[str, Any]]:
            for n, (response_id, i, at, reason, risk, instrument) in enumerate(raised):
                stay = self.network.stays[i]
                site_id = self.sites[self.network.tracks[stay.track_index][0]].pk
                owner_id, basis = alert_owner(
                    at=at,
                    hours=hours[site_id],
                    primary_clinician_id=self.primary_clinician[i],
                    on_call_id=on_call[site_id],
                )
                still_open = stay.discharge is None and at.date() >= open_after
                acknowledged = at + dt.timedelta(minutes=rng.randint(10, 240))
                yield {
                    "id": first_alert + n,
                    "created_at": at,
                    "updated_at": at if still_open else acknowledged,
                    "patient_id": self.stay_ids[i][1],
                    "episode_id": self.stay_ids[i][0],
                    "reason": reason,
                    "risk_level": risk,
                    "message": _alert_message(reason, risk, REGISTRY[instrument].label)[:500],
                    "response_id": response_id,
                    "owner_id": owner_id,
                    "owner_basis": basis,
                    "raised_by_id": self.primary_clinician[i],
                    "status": "open" if still_open else "acknowledged",
                    "acknowledged_by_id": None if still_open else owner_id,
                    "acknowledged_at": None if still_open else acknowledged,
                    "action_taken": "" if still_open else synth_clinical.ACTION_FOR[reason],
                    "action_note": "" if still_open else "Seen the same day (synthetic).",
                }

        self.counts["safety_alerts"] = write_rows(SafetyAlert, alerts(), stream=self.stream)

    def admissions(self) -> None:
        rng = random.Random(self.rng.random())
        first_inquiry = next_id(Inquiry)
        changes: list[tuple[int, str, dt.date, int]] = []  # (inquiry id, to stage, on, by)
        self.admitted_inquiry: dict[int, int] = {}  # stay index -> its admitted inquiry's id
        window_start = self.network.window_start
        age_band = {i: t.age_band for i, (_s, t) in enumerate(self.network.tracks)}

        def inquiry(
            inquiry_id: int, site_index: int, stage: str, received: dt.date, entered: dt.date
        ) -> dict[str, Any]:
            intake = self.staff_by_site[site_index][Role.INTAKE.value][0].pk
            first = rng.choice(FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            is_open = stage in OPEN_STAGES
            changes.append((inquiry_id, "inquiry", received, intake))
            if stage != "inquiry":
                changes.append((inquiry_id, stage, entered, intake))
            at = dt.datetime.combine(
                received,
                dt.time(rng.randint(8, 18), rng.randrange(60)),
                tzinfo=self.site_tz[self.sites[site_index].pk],
            )
            return {
                "id": inquiry_id,
                "created_at": at,
                "updated_at": at,
                "organization_id": self.org.pk,
                "site_id": self.sites[site_index].pk,
                "received_at": at,
                "channel": synth_plan.weighted(rng, synth_clinical.CHANNEL_MIX),
                "referral_source": synth_plan.weighted(rng, REFERRAL_MIX),
                "first_name": first,
                "last_name": last,
                "phone": f"555-01{rng.randrange(100):02d}",
                "concerns": synth_plan.weighted(rng, FOCUS_MIX),
                "urgency": synth_plan.weighted(rng, synth_clinical.URGENCY_MIX),
                "stage": stage,
                "stage_entered_on": entered,
                "owner_id": intake,
                "next_action": synth_clinical.NEXT_ACTION.get(stage, "") if is_open else "",
                "next_action_date": (
                    entered + dt.timedelta(days=rng.randint(1, 5)) if is_open else None
                ),
                "assessment_date": (
                    self.today + dt.timedelta(days=rng.randint(0, 6))
                    if stage == "assessment_scheduled"
                    else None
                ),
            }

        def rows() -> Iterator[dict[str, Any]]:
            inquiry_id = first_inquiry
            # Every stay admitted in the window came through the pipeline.
            for i, stay in enumerate(self.network.stays):
                if not window_start <= stay.admission < self.today:
                    continue
                site_index = self.network.tracks[stay.track_index][0]
                received = stay.admission - dt.timedelta(days=rng.randint(3, 21))
                row = inquiry(inquiry_id, site_index, "admitted", received, stay.admission)
                self.admitted_inquiry[i] = inquiry_id
                first_name, last_name = self.names[self.stay_ids[i][1]]
                row.update(
                    patient_id=self.stay_ids[i][1],
                    episode_id=self.stay_ids[i][0],
                    first_name=first_name,
                    last_name=last_name,
                    age_group="adult" if age_band[stay.track_index] == "adult" else "adolescent",
                )
                yield row
                inquiry_id += 1
            days = (self.today - window_start).days
            for site_index in range(len(self.sites)):
                # Calls that did not lead to an admission, over the window.
                for stage, per_site in synth_clinical.CLOSED_PER_SITE:
                    for _ in range(round(per_site * days / 182)):
                        received = window_start + dt.timedelta(days=rng.randrange(days))
                        entered = min(received + dt.timedelta(days=rng.randint(0, 14)), self.today)
                        yield inquiry(inquiry_id, site_index, stage, received, entered)
                        inquiry_id += 1
                # The open pipeline the board shows.
                for stage, per_site in synth_clinical.OPEN_PER_SITE:
                    for _ in range(per_site):
                        entered = self.today - dt.timedelta(days=rng.randint(0, 10))
                        received = entered - dt.timedelta(days=rng.randint(0, 10))
                        yield inquiry(inquiry_id, site_index, stage, received, entered)
                        inquiry_id += 1

        self.counts["inquiries"] = write_rows(Inquiry, rows(), stream=self.stream)
        first_change = next_id(StageChange)
        previous: dict[int, str] = {}

        def stage_rows() -> Iterator[dict[str, Any]]:
            for n, (inquiry_id, stage, on, by) in enumerate(changes):
                at = aware(on, 12)
                yield {
                    "id": first_change + n,
                    "created_at": at,
                    "updated_at": at,
                    "inquiry_id": inquiry_id,
                    "from_stage": previous.get(inquiry_id, ""),
                    "to_stage": stage,
                    "on": on,
                    "changed_by_id": by,
                }
                previous[inquiry_id] = stage

        self.counts["stage_changes"] = write_rows(StageChange, stage_rows(), stream=self.stream)

    # --- the audit trail: one entry per roster saved, and chart views ------------------------
    def _rosters(self) -> Iterator[tuple[int, int, dt.date, list[int]]]:
        """(track id, session id, date, patient ids) for every past session with attendance."""
        stays_by_track: dict[int, list[int]] = defaultdict(list)
        for i, stay in enumerate(self.network.stays):
            stays_by_track[self.tracks[stay.track_index].pk].append(i)
        for track in self.tracks:
            for session_id, day, _minutes in self.track_sessions[track.pk]:
                if day >= self.today:
                    continue
                patients = [
                    self.stay_ids[i][1]
                    for i in stays_by_track[track.pk]
                    if self.network.stays[i].admission <= day
                    and day <= (self.network.stays[i].discharge or self.today)
                ]
                if patients:
                    yield track.pk, session_id, day, patients

    def audit_trail(self, chart_views_per_patient: int) -> None:
        first_entry = next_id(AuditEntry)
        recorder = {
            t.pk: self.staff_by_site[site][Role.CLINICIAN.value][0]
            for t, (site, _) in zip(self.tracks, self.network.tracks, strict=True)
        }
        stays = self.network.stays
        clinicians = {
            site: staff[Role.CLINICIAN.value] for site, staff in self.staff_by_site.items()
        }
        roster_count = 0

        def entries() -> Iterator[dict[str, Any]]:
            nonlocal roster_count
            entry_id = first_entry
            for track_id, session_id, day, _patients in self._rosters():
                user = recorder[track_id]
                yield {
                    "id": entry_id,
                    "at": aware(day, 17),
                    "user_id": user.pk,
                    "username": user.username,
                    "role": user.role,
                    "action": "update",
                    "object_type": "attendance",
                    "object_id": str(session_id),
                    "path": f"/attendance/sessions/{session_id}/",
                    "client_addr": "10.0.0.1",
                    "detail": "{}",
                }
                entry_id += 1
            roster_count = entry_id - first_entry
            for i, stay in enumerate(stays):
                site_index = self.network.tracks[stay.track_index][0]
                patient_id = self.stay_ids[i][1]
                last = stay.discharge or self.today
                span = max(1, (last - max(stay.admission, self.network.window_start)).days)
                for _ in range(chart_views_per_patient):
                    user = self.rng.choice(clinicians[site_index])
                    day = last - dt.timedelta(days=self.rng.randrange(span))
                    yield {
                        "id": entry_id,
                        "at": aware(day, self.rng.randint(8, 20)),
                        "user_id": user.pk,
                        "username": user.username,
                        "role": user.role,
                        "patient_id": patient_id,
                        "action": "view",
                        "object_type": "patient_chart",
                        "object_id": str(patient_id),
                        "path": f"/patients/{patient_id}/",
                        "client_addr": "10.0.0.2",
                        "detail": "{}",
                    }
                    entry_id += 1

        self.counts["audit_entries"] = write_rows(AuditEntry, entries(), stream=self.stream)
        first_link = next_id(AuditEntryPatient)

        def links() -> Iterator[dict[str, Any]]:
            link_id = first_link
            entry_id = first_entry
            for _track_id, _session_id, day, patients in self._rosters():
                at = aware(day, 17)  # the roster entry's own time (audit_trail above)
                for patient_id in patients:
                    yield {
                        "id": link_id,
                        "entry_id": entry_id,
                        "patient_id": patient_id,
                        "at": at,
                        "on_entry": False,  # roster entries name no single patient
                    }
                    link_id += 1
                entry_id += 1
            assert entry_id - first_entry == roster_count

        self.counts["audit_entry_patients"] = write_rows(
            AuditEntryPatient, links(), stream=self.stream
        )
