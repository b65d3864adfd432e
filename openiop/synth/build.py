"""Fill a database with a synthetic clinic network from `plan.plan_network` (for `openiop synth`).

Structure (organization, sites, rooms, staff, tracks, weekly blocks) goes through the ORM in bulk;
the large tables (patients, episodes, level history, enrollments, sessions, attendance) stream
through `writer.write_rows`, which uses COPY on PostgreSQL, so memory stays flat however large the
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
from django.db import transaction

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.attendance.models import Attendance
from openiop.audit.models import AuditEntry, AuditEntryPatient
from openiop.episodes.domain import is_part2_protected
from openiop.episodes.models import Episode, LevelOfCareChange
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
from openiop.synth import plan as synth_plan
from openiop.synth.plan import Stay
from openiop.synth.writer import aware, next_id, write_rows
from openiop.web.demo_cast import FIRST_NAMES, LAST_NAMES

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
        builder = _Builder(network, rng=rng, today=today, org_name=org_name, stream=stream)
        builder.structure(sites)
        builder.people(patients)
        builder.sessions()
        builder.attendance()
        builder.audit_trail(chart_views_per_patient)
        builder.clinical_records()
    return SynthResult(organization_id=builder.org.pk, counts=builder.counts)


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

        def patients() -> Iterator[dict[str, Any]]:
            for i in range(patient_count):
                if i < network.people:
                    site_index, template = network.tracks[first_stay_of[i].track_index]
                    adolescent = template.age_band != "adult"
                else:
                    site_index, adolescent = i % len(self.sites), self.rng.random() < 0.2
                first = self.rng.choice(FIRST_NAMES)
                last = self.rng.choice(LAST_NAMES)
                age = self.rng.randint(13, 17) if adolescent else self.rng.randint(18, 70)
                dob = self.today - dt.timedelta(days=age * 365 + self.rng.randrange(365))
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
                }

        self.counts["patients"] = write_rows(
            Patient, patients(), expected=patient_count, stream=self.stream
        )
        Organization.objects.filter(pk=self.org.pk).update(next_mrn=patient_count + 1)

        episodes: list[dict[str, Any]] = []
        self.primary_clinician: list[int] = []
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
                }

        def numbered() -> Iterator[dict[str, Any]]:
            next_row = first
            for row in itertools.chain(rows(), appointment_rows()):
                row["id"] = next_row
                next_row += 1
                yield row

        self.counts["attendance"] = write_rows(
            Attendance, numbered(), expected=expected, stream=self.stream
        )

    # --- clinical records of the apps still to come --------------------------------------------
    def clinical_records(self) -> None:
        """Hook for the records other apps add: questionnaire responses (about 1.5 million at the
        benchmark's size), treatment plans and signed notes (group notes per roster row,
        individual notes per appointment).

        Each belongs here as one `write_rows(Model, rows(), expected=..., stream=self.stream)` per
        table, with ids from `next_id`, driven by what is already planned: `self.network.stays`
        and `self.stay_ids` (episode and patient of each stay), `self.track_sessions` (the group
        sessions per track), `self._appointments()` (individual and family sessions), and
        `self.primary_clinician` (the author per stay). Add the table's count to `self.counts`.
        """

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
            for _track_id, _session_id, _day, patients in self._rosters():
                for patient_id in patients:
                    yield {"id": link_id, "entry_id": entry_id, "patient_id": patient_id}
                    link_id += 1
                entry_id += 1
            assert entry_id - first_entry == roster_count

        self.counts["audit_entry_patients"] = write_rows(
            AuditEntryPatient, links(), stream=self.stream
        )
