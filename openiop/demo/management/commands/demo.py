"""`openiop demo`: load the fictional demo clinic (once; running it again keeps the data).

One organization, 2 sites, 3 tracks, 12 staff across the roles, about 45 patients at every stage
(waitlisted, active in various weeks, on hold, discharged for each TEDS reason), and 6 weeks of past
sessions with realistic attendance, some weeks below the minimum. The same --seed and --today give
the same clinic. Everything is written through the same services the pages use.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction

from openiop.accounts.models import User
from openiop.accounts.services import staff_create
from openiop.attendance import services as attendance_services
from openiop.attendance.choices import AttendanceStatus
from openiop.core.actor import Actor
from openiop.core.cli import SEED_MAX, ProjectCommand, date_argument, whole_number
from openiop.core.clock import local_today, now
from openiop.core.dates import DateKind
from openiop.core.errors import DomainError
from openiop.demo.cast import (
    CURRICULUM_ADULT,
    CURRICULUM_TEEN,
    DEMO_PASSWORD,
    FIRST_NAMES,
    LAST_NAMES,
    STAFF,
)
from openiop.episodes import services as episode_services
from openiop.episodes.choices import (
    DischargeReason,
    EpisodeStatus,
    LevelOfCare,
    ReferralSource,
    TreatmentFocus,
)
from openiop.patients import services as patient_services
from openiop.programs import services as program_services
from openiop.programs.models import (
    CurriculumTopic,
    GroupSession,
    Organization,
    Room,
    Site,
    Track,
    TrackBlock,
)

ORG_NAME = "Lantern Hill Behavioral Health (fictional)"
PAST_WEEKS = 6
FUTURE_WEEKS = 2


class Command(ProjectCommand):
    help = "Load the fictional demo clinic (skips if it is already loaded)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--seed",
            type=whole_number(0, SEED_MAX),
            default=2026,
            help="Random seed (same seed, same clinic)",
        )
        parser.add_argument(
            "--today",
            type=date_argument(DateKind.SEARCH),
            default=None,
            help="Pretend today is YYYY-MM-DD",
        )
        parser.add_argument(
            "--keep-existing", action="store_true", help="(default) keep an already loaded clinic"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Organization.objects.filter(name=ORG_NAME).exists():
            self.stdout.write("Demo clinic already loaded; keeping its data.")
            return
        rng = random.Random(options["seed"])
        try:
            with transaction.atomic():
                builder = DemoBuilder(rng=rng, today=options["today"], out=self.stdout.write)
                builder.build()
        except DomainError as exc:
            raise CommandError(
                f"Demo clinic could not be loaded: {exc.message}", returncode=2
            ) from exc
        self.stdout.write(self.style.SUCCESS("Demo clinic loaded."))


class DemoBuilder:
    def __init__(self, *, rng: random.Random, today: dt.date | None, out: Any) -> None:
        self.rng = rng
        self.today_override = today
        self.out = out

    # --- structure -------------------------------------------------------------------------
    def build(self) -> None:
        self.org = Organization.objects.create(
            name=ORG_NAME, mrn_prefix="LH", crisis_line="555-0142"
        )
        self.riverbend = Site.objects.create(
            organization=self.org,
            name="Riverbend Clinic",
            timezone="America/Chicago",
            address="100 Imaginary Way",
        )
        self.cedar = Site.objects.create(
            organization=self.org,
            name="Cedar Hollow Clinic",
            timezone="America/Denver",
            address="7 Pretend Lane",
        )
        self.today = self.today_override or local_today(self.riverbend.tz)
        self.staff = self._staff()
        director = self.staff["director"]
        self.actor = Actor.cli(director, "demo")
        rooms = {
            "R1": Room.objects.create(site=self.riverbend, name="Willow Room", capacity=16),
            "R2": Room.objects.create(site=self.riverbend, name="Aspen Room", capacity=16),
            "R3": Room.objects.create(site=self.riverbend, name="Studio", capacity=16),
            "C1": Room.objects.create(site=self.cedar, name="Juniper Room", capacity=12),
            "C2": Room.objects.create(site=self.cedar, name="Family Room", capacity=20),
        }
        monday = self.today - dt.timedelta(days=self.today.weekday())
        self.start = monday - dt.timedelta(weeks=PAST_WEEKS)
        self.end = monday + dt.timedelta(weeks=FUTURE_WEEKS, days=-1)

        self.tracks = [
            self._track(
                self.riverbend,
                "Adult Day IOP",
                "adult",
                16,
                540,
                "Mon-Thu 9:00-12:00",
                CURRICULUM_ADULT,
                days=[0, 1, 2, 3],
                blocks=[
                    (dt.time(9, 0), 90, "group_therapy", "Process group", "clinician", rooms["R1"]),
                    (
                        dt.time(10, 30),
                        45,
                        "psychoeducation",
                        "Skill of the week",
                        "clinician2",
                        rooms["R2"],
                    ),
                    (
                        dt.time(11, 15),
                        45,
                        "holistic",
                        "Mindfulness and movement",
                        "clinician2",
                        rooms["R3"],
                    ),
                ],
            ),
            self._track(
                self.riverbend,
                "Adult Evening IOP",
                "adult",
                16,
                540,
                "Mon/Tue/Thu 18:00-21:00",
                CURRICULUM_ADULT,
                days=[0, 1, 3],
                blocks=[
                    (
                        dt.time(18, 0),
                        90,
                        "group_therapy",
                        "Evening process group",
                        "clinician2",
                        rooms["R1"],
                    ),
                    (dt.time(19, 30), 90, "skills", "Skills workshop", "clinician", rooms["R2"]),
                ],
            ),
            self._track(
                self.cedar,
                "Adolescent Evening IOP",
                "adolescent",
                10,
                360,
                "Mon-Thu 16:00-19:00",
                CURRICULUM_TEEN,
                days=[0, 1, 2, 3],
                blocks=[
                    (dt.time(16, 0), 90, "group_therapy", "Teen group", "clinician3", rooms["C1"]),
                    (dt.time(17, 30), 90, "skills", "DBT skills", "clinician3", rooms["C1"]),
                ],
                family_group=(2, dt.time(17, 30), 90, "clinician3", rooms["C2"]),
            ),
        ]
        # A closure inside the past weeks, so the schedule shows a cancelled day.
        closure_day = self.start + dt.timedelta(weeks=2, days=2)
        for track in self.tracks:
            program_services.sessions_generate(
                track=track, start=self.start, end=self.end, by=self.actor
            )
        program_services.closure_add(
            organization=self.org,
            site=None,
            date=closure_day,
            name="Staff training day (clinic closed)",
            by=self.actor,
        )
        self.out(
            f"  {len(self.tracks)} tracks, {GroupSession.objects.count()} sessions from {self.start} to {self.end}"
        )
        self._patients()
        self._clinical_documentation()
        from openiop.measures.demo import load_demo_measures

        load_demo_measures(
            tracks=self.tracks,
            staff=self.staff,
            actor=self.actor,
            rng=random.Random(self.rng.getrandbits(32)),
            today=self.today,
            out=self.out,
        )

        from openiop.admissions.demo import build_admissions_demo
        from openiop.billing.demo import build_billing_demo
        from openiop.consents.demo import build_consents_demo

        build_consents_demo(self)
        build_billing_demo(self, build_admissions_demo(self))
        # Medications, MAT and drug testing (issue 18).
        from openiop.drugtests.demo import build_medications_demo

        build_medications_demo(self)
        self._prescriber_visits()
        from openiop.casemgmt.demo import build_casemgmt_demo

        build_casemgmt_demo(self)

    def _staff(self) -> dict[str, User]:
        sites = {"R": self.riverbend, "C": self.cedar}
        staff: dict[str, User] = {}
        for username, first, last, role, creds, site_codes in STAFF:
            user = staff_create(
                username=username,
                role=role,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                credentials=creds,
                organization=self.org,
                sites=[sites[c] for c in site_codes],
                by=Actor.cli(None, "demo"),
            )
            staff[username] = user
        return staff

    def _track(
        self,
        site: Site,
        name: str,
        band: str,
        capacity: int,
        minimum: int,
        description: str,
        curriculum: list[tuple[str, str]],
        *,
        days: list[int],
        blocks: list[tuple[dt.time, int, str, str, str, Room]],
        family_group: tuple[int, dt.time, int, str, Room] | None = None,
    ) -> Track:
        track = Track.objects.create(
            site=site,
            name=name,
            age_band=band,
            capacity=capacity,
            weekly_minimum_minutes=minimum,
            description=description,
        )
        for day in days:
            for start, minutes, kind, title, facilitator, room in blocks:
                if family_group and day == family_group[0] and start == family_group[1]:
                    continue
                TrackBlock.objects.create(
                    track=track,
                    weekday=day,
                    start_time=start,
                    duration_minutes=minutes,
                    kind=kind,
                    title=title,
                    facilitator=self.staff[facilitator],
                    room=room,
                    valid_from=self.start,
                )
        if family_group:
            day, start, minutes, facilitator, room = family_group
            TrackBlock.objects.create(
                track=track,
                weekday=day,
                start_time=start,
                duration_minutes=minutes,
                kind="family_group",
                title="Multi-family group",
                facilitator=self.staff[facilitator],
                room=room,
                valid_from=self.start,
            )
        for n, (topic, modality) in enumerate(curriculum, start=1):
            CurriculumTopic.objects.create(
                track=track, week_number=n, topic=topic, modality=modality
            )
        return track

    # --- patients ---------------------------------------------------------------------------
    def _patients(self) -> None:
        rng = self.rng
        names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
        rng.shuffle(names)
        none: str | None = None
        plan: list[tuple[str, str | None]] = (
            [("waitlisted", none)] * 5
            + [("active", none)] * 25
            + [("on_hold", none)] * 2
            + [("discharged", r.value) for r in DischargeReason for _ in range(2)]
            + [("discharged", DischargeReason.COMPLETED.value)] * 3
        )
        clinicians = {self.riverbend.pk: ["clinician", "clinician2"], self.cedar.pk: ["clinician3"]}
        case_managers = {self.riverbend.pk: "casemanager", self.cedar.pk: "casemanager2"}
        pending_attendance: list[Any] = []
        for i, (stage, reason) in enumerate(plan):
            # Two fifths in each adult track, one fifth in the adolescent track.
            track = self.tracks[(0, 1, 0, 1, 2)[i % 5]]
            site = track.site
            first, last = names[i]
            adolescent = track.age_band == "adolescent"
            age = rng.randint(13, 17) if adolescent else rng.randint(19, 66)
            dob = self.today - dt.timedelta(days=age * 365 + rng.randint(0, 360))
            patient = patient_services.patient_create(
                organization=self.org,
                site=site,
                by=self.actor,
                legal_first_name=first,
                legal_last_name=last,
                preferred_name=rng.choice(["", "", first[:3]]),
                date_of_birth=dob,
                sex=rng.choice(["female", "male"]),
                pronouns=rng.choice(["she/her", "he/him", "they/them"]),
                phone=f"555-01{i:02d}",
                email=f"{first.lower()}.{last.lower()}@example.invalid",
                address_line=f"{10 + i} Makebelieve Road",
                city="Faketown",
                state="ZZ",
                postal_code="00000",
                language=rng.choice(["English", "English", "English", "Spanish"]),
            )
            guardian = "Guardian" if adolescent else "Emergency contact"
            patient_services.contact_add(
                patient=patient,
                by=self.actor,
                name=f"{rng.choice(FIRST_NAMES)} {last}",
                relationship="parent"
                if adolescent
                else rng.choice(["spouse", "sibling", "friend"]),
                phone=f"555-02{i:02d}",
                is_emergency_contact=True,
                is_legal_guardian=adolescent,
                notes=f"{guardian} (fictional)",
            )
            weeks_in = rng.randint(1, PAST_WEEKS)
            admission = self.start + dt.timedelta(
                weeks=PAST_WEEKS - weeks_in, days=rng.randint(0, 3)
            )
            if stage == "waitlisted":
                admission = self.today + dt.timedelta(days=rng.randint(3, 10))
            focus = rng.choice(
                [
                    TreatmentFocus.MENTAL_HEALTH,
                    TreatmentFocus.SUBSTANCE_USE,
                    TreatmentFocus.CO_OCCURRING,
                ]
            )
            episode = episode_services.episode_open(
                patient=patient,
                site=site,
                focus=focus,
                referral_source=rng.choice(list(ReferralSource)),
                admission_date=admission,
                level_of_care=LevelOfCare.L2_1,
                status=EpisodeStatus.WAITLISTED if stage == "waitlisted" else EpisodeStatus.ACTIVE,
                primary_clinician=self.staff[rng.choice(clinicians[site.pk])],
                case_manager=self.staff[case_managers[site.pk]],
                by=self.actor,
            )
            if stage == "waitlisted":
                continue
            track = self._enroll(episode, track, admission)
            discharge_on = None
            if stage == "discharged":
                discharge_on = min(
                    self.today - dt.timedelta(days=1),
                    admission + dt.timedelta(days=rng.randint(10, 35)),
                )
                discharge_on = max(discharge_on, admission)
            reliability = rng.choice([0.95, 0.9, 0.85, 0.7, 0.55])
            pending_attendance.append((episode, track, admission, discharge_on, reliability))
            if stage == "on_hold":
                episode_services.episode_set_status(
                    episode=episode,
                    status=EpisodeStatus.ON_HOLD,
                    expected_version=episode.version,
                    by=self.actor,
                )
            step_down_on = admission + dt.timedelta(days=28)
            if i % 7 == 3 and stage == "active" and step_down_on <= self.today:
                episode_services.episode_change_level(
                    episode=episode,
                    to_level=LevelOfCare.L1,
                    effective_date=step_down_on,
                    reason="Step-down: goals met; continues below 9 h for up to two weeks before outpatient",
                    expected_version=episode.version,
                    by=self.actor,
                )
            if discharge_on is not None:
                self._attend(episode, track, admission, discharge_on, reliability)
                episode_services.episode_discharge(
                    episode=episode,
                    discharge_date=discharge_on,
                    reason=reason or "completed",
                    note="Demo discharge (fictional)",
                    expected_version=episode.version,
                    by=self.actor,
                )
        for episode, track, admission, discharge_on, reliability in pending_attendance:
            if discharge_on is None and episode.status != EpisodeStatus.ON_HOLD:
                self._attend(
                    episode, track, admission, self.today - dt.timedelta(days=1), reliability
                )
        self.out(f"  {len(plan)} patients")

    def _enroll(self, episode: Any, track: Track, start: dt.date) -> Track:
        """Enroll in the planned track, or in another track of the same site and age band when full."""
        options = [track] + [
            t
            for t in self.tracks
            if t != track and t.site_id == track.site_id and t.age_band == track.age_band
        ]
        for i, option in enumerate(options):
            try:
                program_services.enrollment_start(
                    episode=episode, track=option, start_date=start, by=self.actor
                )
                return option
            except DomainError:
                if i == len(options) - 1:
                    raise
        return track

    def _attend(
        self, episode: Any, track: Track, start: dt.date, end: dt.date, reliability: float
    ) -> None:
        """Record attendance for past sessions, as the facilitator would."""
        rng = self.rng
        sessions = (
            GroupSession.objects.filter(
                track=track, date__gte=start, date__lte=end, status="scheduled"
            )
            .select_related("facilitator")
            .order_by("starts_at")
        )
        absent_day: dt.date | None = None
        for session in sessions:
            by = Actor.cli(session.facilitator, "demo")
            if absent_day == session.date or rng.random() > reliability:
                absent_day = session.date
                status = (
                    AttendanceStatus.ABSENT_UNEXCUSED
                    if rng.random() < 0.6
                    else AttendanceStatus.ABSENT_EXCUSED
                )
                minutes = 0
            else:
                roll = rng.random()
                length = session.duration_minutes
                if roll < 0.08:
                    status, minutes = AttendanceStatus.LATE, length - rng.choice([10, 15, 20])
                elif roll < 0.12:
                    status, minutes = AttendanceStatus.LEFT_EARLY, length - rng.choice([15, 30])
                else:
                    status, minutes = AttendanceStatus.PRESENT, length
            attendance_services.attendance_record(
                session=session, episode=episode, status=status, minutes_attended=minutes, by=by
            )

    # --- clinical documentation (issue 5) ---------------------------------------------------
    def _clinical_documentation(self) -> None:
        """Treatment plans (signed, draft, due), a signed group note with individual sections, a
        supervised clinician's note awaiting co-signature, a late note, a discharge summary."""
        from openiop.accounts.services import staff_set_supervisor
        from openiop.episodes.models import Episode
        from openiop.notes import services as note_services
        from openiop.notes.models import ProgressNote
        from openiop.treatment import services as plan_services
        from openiop.treatment.selectors import current_objectives

        staff_set_supervisor(
            user=self.staff["clinician2"], supervisor=self.staff["clinician"], by=self.actor
        )
        active = list(
            Episode.objects.filter(site=self.riverbend, status=EpisodeStatus.ACTIVE)
            .select_related("patient", "site")
            .order_by("admission_date", "id")
        )
        for n, episode in enumerate(active[:4]):
            by = Actor.cli(episode.primary_clinician or self.staff["clinician"], "demo")
            plan = plan_services.plan_start(episode=episode, by=by)
            if n == 3:
                continue  # left as a draft: the due list shows it
            problem = plan_services.plan_add_problem(
                plan=plan,
                description=DEMO_PROBLEMS[n][0],
                icd10_code=DEMO_PROBLEMS[n][1],
                patient_words=DEMO_PROBLEMS[n][2],
                by=by,
            )
            goal = plan_services.plan_add_goal(problem=problem, text=DEMO_PROBLEMS[n][3], by=by)
            plan_services.plan_add_objective(
                goal=goal,
                text=DEMO_PROBLEMS[n][4],
                target_date=episode.admission_date + dt.timedelta(days=42),
                by=by,
            )
            plan_services.plan_add_intervention(
                goal=goal,
                modality=DEMO_PROBLEMS[n][5],
                frequency="3 groups a week and a weekly individual session",
                responsible=by.user,
                by=by,
            )
            plan_services.plan_sign(plan=plan, role="clinician", by=by)
            plan_services.plan_sign(
                plan=plan, role="patient", signer_name=episode.patient.legal_name, by=by
            )

        # The latest process group of the day track stays without a note (the late list shows it
        # once a day has passed); the one before gets a signed note; the latest skill group gets a
        # note by a supervised clinician, waiting for the co-signature.
        def attended(kind: str) -> list[GroupSession]:
            return list(
                GroupSession.objects.filter(
                    track=self.tracks[0], kind=kind, date__lt=self.today, status="scheduled"
                )
                .filter(attendances__status__in=["present", "late", "left_early"])
                .distinct()
                .select_related("facilitator")
                .order_by("-starts_at")[:2]
            )

        sessions = attended("group_therapy")[1:2] + attended("psychoeducation")[:1]
        for n, session in enumerate(sessions):
            by = Actor.cli(session.facilitator, "demo")
            members = note_services.attendees(session)
            serves = current_objectives([a.episode_id for a in members])
            note = note_services.group_note_save(
                session=session,
                note_format="dap",
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                topic="Riding out cravings" if n == 0 else "Building a sober weekend",
                curriculum_module="Relapse prevention: urge surfing",
                modality="CBT",
                interventions="Psychoeducation on the craving curve; urge surfing practice; "
                "feedback round.",
                sections={
                    a.episode_id: note_services.SectionInput(
                        body={
                            "participation": DEMO_SECTIONS[(i + n) % len(DEMO_SECTIONS)],
                            "response": DEMO_RESPONSES[(i + 2 * n) % len(DEMO_RESPONSES)],
                            "risk": "",
                            "plan": DEMO_PLANS[(i + 3 * n) % len(DEMO_PLANS)],
                        },
                        objective_ids=[o.pk for o in serves.get(a.episode_id, [])[:1]],
                    )
                    for i, a in enumerate(members)
                },
                by=by,
            )
            note_services.note_sign(
                note=note,
                by=by,
                reasons={s.pk: "Demo text (fictional)" for s in note.sections.all()},
            )
        # The latest group stays without a note: the late list shows it once a day has passed.
        discharged = (
            Episode.objects.filter(
                site=self.riverbend, status=EpisodeStatus.DISCHARGED, discharge_reason="completed"
            )
            .select_related("patient", "site__organization")
            .order_by("discharge_date", "id")
            .first()
        )
        if discharged is not None:
            by = Actor.cli(discharged.primary_clinician or self.staff["clinician"], "demo")
            summary = plan_services.discharge_summary_start(episode=discharged, by=by)
            plan_services.discharge_summary_update(
                summary=summary,
                narrative="Completed the program (fictional demo narrative).",
                next_level_of_care="Level 1 outpatient",
                relapse_prevention="Triggers: payday and family events. Call the sponsor first.",
                crisis_resources=summary.crisis_resources,
                medication_continuity="No medications.",
                expected_version=summary.version,
                by=by,
            )
            for kind, name in (
                ("therapist", "Imaginary Counseling Associates (fictional)"),
                ("support_group", "Tuesday Night 12-step Group (fictional)"),
                ("alumni", "Lantern Hill Alumni Group (fictional)"),
            ):
                plan_services.discharge_summary_add_referral(
                    summary=summary,
                    kind=kind,
                    name=name,
                    phone="555-0199",
                    address="1 Example Way, Faketown",
                    hours="Tue 19:00-20:30",
                    by=by,
                )
            plan_services.discharge_summary_sign(summary=summary, by=by)
        self.out(
            f"  {len(active[:4])} treatment plans, {ProgressNote.objects.count()} group notes, "
            f"{1 if discharged else 0} discharge summary"
        )

    def _prescriber_visits(self) -> None:
        """Issue 18.2: last week's medication-management visit of a patient on MAT, attended, with
        its signed note (the medications reviewed copied from the list), and next week's visit
        booked through the booking service."""
        from openiop.episodes.models import Episode
        from openiop.notes import services as note_services
        from openiop.treatment.selectors import current_objectives

        prescriber = self.staff["prescriber"]
        by = Actor.cli(prescriber, "demo")
        episode = (
            Episode.objects.filter(
                site=self.riverbend,
                status=EpisodeStatus.ACTIVE,
                part2_protected=True,
                patient__mat_episodes__ended_on__isnull=True,
            )
            .select_related("patient", "site")
            .order_by("admission_date", "id")
            .first()
        )
        if episode is None:
            return
        tz = self.riverbend.tz
        day = self.today - dt.timedelta(days=7)
        day -= dt.timedelta(days=max(0, day.weekday() - 4))  # a weekday: Friday for a weekend
        # A visit in the past cannot be booked (the booking service takes today or later): the
        # demo writes last week's as it would have been booked then.
        visit = self._visit(episode, day)
        attendance_services.attendance_record(
            session=visit, episode=episode, status="present", by=self.actor
        )
        serves = current_objectives([episode.pk]).get(episode.pk, [])
        note = note_services.individual_note_save(
            episode=episode,
            kind="medication",
            note_format="medication",
            starts_at=visit.starts_at,
            ends_at=visit.ends_at,
            topic="Buprenorphine follow-up",
            body={
                "response": "Cravings down to once or twice a week; mild constipation, no "
                "sedation (fictional demo text).",
                "adherence": "Takes both daily doses; one missed evening dose after a late shift.",
                "assessment": "Stable on buprenorphine-naloxone; side effects tolerable.",
                "plan": "Continue 8 mg/2 mg twice a day; fiber and fluids; review in two weeks.",
            },
            objective_ids=[o.pk for o in serves[:1]],
            session=visit,
            by=by,
        )
        if visit.ends_at <= now():  # a note is signed once the visit is over
            note_services.note_sign(note=note, by=by)
        upcoming = self.today + dt.timedelta(days=7)
        if upcoming.weekday() >= 5:  # a weekday: the Monday after a weekend
            upcoming += dt.timedelta(days=7 - upcoming.weekday())
        if upcoming > local_today(tz):
            program_services.appointment_book(
                episode=episode,
                facilitator=prescriber,
                kind="medication_mgmt",
                date=upcoming,
                start_time=dt.time(13, 0),
                duration_minutes=30,
                room=None,
                title="",
                by=by,
            )
        else:  # a demo dated in the past (--today): booked as it would have been then
            self._visit(episode, upcoming)
        self.out(
            f"  2 prescriber visits for {episode.patient.display_name}: last week's with a signed "
            "medication-management note, next week's booked"
        )

    def _visit(self, episode: Any, day: dt.date) -> GroupSession:
        """A 30-minute medication-management visit with the prescriber at 13:00 on `day`."""
        starts = dt.datetime.combine(day, dt.time(13, 0), tzinfo=self.riverbend.tz)
        return GroupSession.objects.create(
            site=self.riverbend,
            kind="medication_mgmt",
            title="Medication management (prescriber visit)",
            date=day,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30),
            facilitator=self.staff["prescriber"],
            episode=episode,
        )


DEMO_PROBLEMS = [
    ("Alcohol use disorder, moderate", "F10.20", "I drink every night to fall asleep.",
     "Sleep without alcohol", "Wind-down routine on 5 nights a week for 3 weeks", "cbt"),
    ("Major depressive disorder, recurrent, moderate", "F33.1", "I can't get out of bed.",
     "Get back to a daily rhythm", "Out of bed by 8:00 on 5 days a week", "dbt"),
    ("Opioid use disorder, moderate", "F11.20", "I want to stop before I lose my kids.",
     "Stay on medication and in treatment", "Take buprenorphine daily, 28 of 28 days", "mat"),
]  # fmt: skip
DEMO_SECTIONS = [
    "Described cravings after payday and practiced urge surfing with the breathing count.",
    "Quiet at first; later named weekend loneliness as a trigger and listed two calls to make.",
    "Reported six days abstinent, proud of refusing a drink at a cousin's party.",
    "Challenged a catastrophic thought about work using the evidence column.",
    "Arrived tense after a court date; grounding helped and mood lifted by the end.",
    "Shared a lapse on Saturday honestly and rebuilt the evening routine with peer feedback.",
    "Practiced assertive refusal in a role play about a roommate offering pills.",
    "Identified poor sleep feeding irritability and agreed to a wind-down plan.",
    "Discussed a custody hearing, tearful, used the distress tolerance skill with coaching.",
    "Set a goal of two evening meetings and asked how to find a sponsor near the bus line.",
    "Explored ambivalence about cannabis with a decisional balance on the whiteboard.",
    "Planned how to handle the Friday happy hour invitation at a new job.",
]
DEMO_RESPONSES = [
    "Receptive; could name the peak of the craving curve.",
    "Needed prompting, then engaged with the worksheet.",
    "Took the lead in the feedback round.",
    "Skeptical at first, then tried the reframe on a real example.",
    "Calmer after grounding; asked for the handout.",
    "Accepted peer suggestions without defensiveness.",
    "Rehearsed twice, voice steadier the second time.",
]
DEMO_PLANS = [
    "Log cravings daily until next group.",
    "Make the two calls before Saturday.",
    "Plan a sober activity for the next family event.",
    "Use the evidence column twice this week.",
    "Share the new routine with the sponsor.",
    "Track sleep hours in the diary.",
]
