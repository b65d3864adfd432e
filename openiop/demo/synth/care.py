"""Care around the groups for a synthetic network (issue 18, point 6): each site's community
resources, referrals, the case managers' tasks, rides and childcare for sessions, medication
lists, allergies, MAT episodes with the doses given in the clinic, and weekly drug tests with
their results and the reconciliation flags the app's own rule (drugtests.domain.reconcile) raises.

`write_care` reads an existing network (episodes, enrollments, sessions, staff) and adds these
rows through `writer.write_rows` (COPY on PostgreSQL), so it runs both at the end of a full
`openiop synth` and alone on a network built before it existed (`openiop synth --add care`).
Every row of a substance-use episode carries `part2` from its episode, as the services set it.

The proportions below are the benchmark's assumptions about a plausible clinic, not clinical
rules: a share of substance-use episodes on MAT, a weekly point-of-care test (a lab panel every
fourth week, a breath test some weeks) for patients in substance-use care, use that fades over
the stay. Every name is invented. Deterministic for a seed and a database.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.db.models import Min

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.casemgmt.demo import RESOURCES
from openiop.casemgmt.models import CaseTask, CommunityResource, Referral, SupportRequest
from openiop.demo.cast import FIRST_NAMES, LAST_NAMES
from openiop.demo.synth.plan import weighted
from openiop.demo.synth.writer import next_id, write_rows
from openiop.drugtests import domain as tests_domain
from openiop.drugtests.models import DrugTestOrder, DrugTestResult, ReconciliationFlag
from openiop.episodes.models import Episode
from openiop.medications.domain import BY_KEY, MatKind
from openiop.medications.models import (
    AdherenceNote,
    Allergy,
    DoseAdministration,
    MatEpisode,
    Medication,
)
from openiop.programs.models import Enrollment, GroupSession, Site

A = tests_domain.Analyte
POSITIVE, NEGATIVE = tests_domain.Outcome.POSITIVE, tests_domain.Outcome.NEGATIVE

# The tables this step fills, in the order it writes them (bench/run.py checks they are filled).
CARE_TABLES = (
    CommunityResource,
    Referral,
    CaseTask,
    SupportRequest,
    Medication,
    Allergy,
    MatEpisode,
    DoseAdministration,
    AdherenceNote,
    DrugTestOrder,
    DrugTestResult,
    ReconciliationFlag,
)

# --- proportions (assumptions of the synthetic clinic) -----------------------------------------
MAT_SHARE = 0.35  # of substance-use episodes
MAT_MIX = (
    (MatKind.BUPRENORPHINE, 0.55),
    (MatKind.NALTREXONE_XR, 0.2),
    (MatKind.NALTREXONE_ORAL, 0.1),
    (MatKind.METHADONE_ELSEWHERE, 0.15),
)
OTP_NAME = "Harborlight Opioid Treatment Program (fictional)"
# MAT kind -> (catalog key, dose, route, frequency, source)
MAT_MEDICATION: dict[MatKind, tuple[str, str, str, str, str]] = {
    MatKind.BUPRENORPHINE: ("buprenorphine_naloxone", "8 mg/2 mg", "sublingual", "once a day", "here"),
    MatKind.NALTREXONE_XR: ("naltrexone_xr", "380 mg", "im", "every 4 weeks", "here"),
    MatKind.NALTREXONE_ORAL: ("naltrexone", "50 mg", "oral", "once a day", "here"),
    MatKind.METHADONE_ELSEWHERE: ("methadone", "60 mg", "oral", "once a day", "elsewhere"),
}  # fmt: skip
# (catalog key, dose, route, frequency) of the other medications on people's lists.
OTHER_MEDICATIONS = (
    ("sertraline", "50 mg", "oral", "once a day"),
    ("fluoxetine", "20 mg", "oral", "once a day"),
    ("escitalopram", "10 mg", "oral", "once a day"),
    ("bupropion", "150 mg", "oral", "once a day"),
    ("trazodone", "50 mg", "oral", "at bedtime"),
    ("hydroxyzine", "25 mg", "oral", "as needed for anxiety"),
    ("gabapentin", "300 mg", "oral", "three times a day"),
    ("prazosin", "1 mg", "oral", "at bedtime"),
    ("mirtazapine", "15 mg", "oral", "at bedtime"),
    ("aripiprazole", "5 mg", "oral", "once a day"),
    ("lamotrigine", "100 mg", "oral", "once a day"),
)
OTHER_SOURCE_MIX = (("here", 0.3), ("elsewhere", 0.5), ("patient_reported", 0.2))
ALLERGY_SHARE = 0.12
ALLERGIES = (
    ("Penicillin", "Hives", "moderate"),
    ("Sulfa drugs", "Rash", "mild"),
    ("Codeine", "Nausea and vomiting", "moderate"),
    ("Latex", "Itching", "mild"),
    ("Peanuts", "Throat swelling", "severe"),
    ("Ibuprofen", "Stomach upset", "unknown"),
)
REFERRAL_KIND_MIX = (
    ("support_group", 0.35),
    ("food", 0.12),
    ("housing", 0.12),
    ("employment", 0.12),
    ("sober_living", 0.1),
    ("legal", 0.08),
    ("transportation", 0.06),
    ("childcare", 0.03),
    ("other", 0.02),
)
TASK_TITLES = (
    "Call about an open bed",
    "Check the pantry referral went through",
    "Help with the bus pass application",
    "Send the legal aid intake form",
    "Follow up on the job fair",
    "Confirm the meeting schedule with the patient",
    "Ask the pharmacy about the prior authorization",
    "Book the van for next week",
)
RIDE_SHARE, CHILDCARE_SHARE = 0.10, 0.04  # of episodes with program days in the window
SUPPORT_PAST_DAYS, SUPPORT_AHEAD_DAYS = 28, 14
# Weekly tests: a cup; a lab panel every fourth week; a breath test in some weeks.
CUP_PANEL = (A.BUPRENORPHINE, A.COCAINE, A.FENTANYL, A.METHAMPHETAMINE, A.OPIATES, A.CANNABINOIDS)
LAB_PANEL = (
    A.AMPHETAMINES,
    A.BENZODIAZEPINES,
    A.BUPRENORPHINE,
    A.CANNABINOIDS,
    A.COCAINE,
    A.ETG,
    A.FENTANYL,
    A.METHADONE,
    A.METHAMPHETAMINE,
    A.OPIATES,
    A.OXYCODONE,
)
BREATH_SHARE = 0.2
VALIDITY_MIX = (("valid", 0.94), ("dilute", 0.04), ("invalid", 0.01), ("substituted", 0.01))
# Chance of use at admission, per episode; it fades over the stay (use_chance).
USE_MIX = ((0.02, 0.5), (0.08, 0.35), (0.2, 0.15))
SUBSTANCE_MIX = (
    (A.FENTANYL, 0.3),
    (A.OPIATES, 0.1),
    (A.COCAINE, 0.15),
    (A.METHAMPHETAMINE, 0.15),
    (A.CANNABINOIDS, 0.15),
    (A.ALCOHOL, 0.15),
)
MEDICATION_FOUND = 0.93  # a prescribed medication with an analyte shows in a readable test
OPEN_FLAG_DAYS = 10  # flags of the last days of an active episode are still open
RESPONSE_MIX = (
    ("discussion", 0.6),
    ("plan_change", 0.15),
    ("repeat_test", 0.15),
    ("no_action", 0.1),
)
RESPONSE_TEXT = {
    "discussion": "Talked it through with the patient at the next visit (synthetic).",
    "plan_change": "Adjusted the medication plan with the patient (synthetic).",
    "repeat_test": "Asked for a repeat test next week (synthetic).",
    "no_action": "Explained by a medication from elsewhere; nothing to change (synthetic).",
}


@dataclass
class _Stay:
    episode_id: int
    patient_id: int
    site_id: int
    part2: bool
    admission: dt.date
    last: dt.date  # the last day of care in the data: discharge, else yesterday
    active: bool
    case_manager_id: int | None
    tz: ZoneInfo
    track_id: int | None = None
    meds: list[tuple[str, A, dt.date, dt.date | None]] = field(default_factory=list)


def use_chance(base: float, week: int) -> float:
    """The chance of a positive for the patient's substance in test `week` (0 = first week):
    `base` at admission, fading by a twelfth a week to a third of it."""
    return base * max(1 / 3, 1 - week / 12)


def _weekday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def write_care(
    *, organization_id: int, today: dt.date, seed: int, stream: TextIO | None = None
) -> dict[str, int]:
    """Add the care rows for every episode of the organization that has begun (active or
    discharged). Returns the rows written per kind. Meant for a network with none yet."""
    return _Care(organization_id, today=today, seed=seed, stream=stream).run()


class _Care:
    def __init__(
        self, organization_id: int, *, today: dt.date, seed: int, stream: TextIO | None
    ) -> None:
        self.org_id = organization_id
        self.today = today
        self.rng = random.Random(seed * 1_000_003 + 18)
        self.stream = stream
        self.counts: dict[str, int] = {}

    # --- reading the network ----------------------------------------------------------------
    def _load(self) -> None:
        self.sites = list(Site.objects.filter(organization_id=self.org_id).order_by("id"))
        tz = {s.pk: ZoneInfo(s.timezone) for s in self.sites}
        self.case_managers: dict[int, list[int]] = defaultdict(list)
        self.prescriber: dict[int, tuple[int, str]] = {}
        through = User.sites.through
        site_of = dict(
            through.objects.filter(site__organization_id=self.org_id)
            .order_by("user_id", "site_id")
            .values_list("user_id", "site_id")
        )
        for user in User.objects.filter(
            organization_id=self.org_id, role__in=(Role.CASE_MANAGER, Role.PRESCRIBER)
        ).order_by("id"):
            site_id = site_of.get(user.pk)
            if site_id is None:
                continue
            if user.role == Role.CASE_MANAGER:
                self.case_managers[site_id].append(user.pk)
            else:
                self.prescriber.setdefault(site_id, (user.pk, user.get_full_name()))
        track_of = dict(
            Enrollment.objects.filter(episode__site__organization_id=self.org_id)
            .order_by("episode_id", "start_date", "id")
            .values_list("episode_id", "track_id")
        )
        yesterday = self.today - dt.timedelta(days=1)
        self.stays: list[_Stay] = []
        for row in (
            Episode.objects.filter(
                site__organization_id=self.org_id,
                status__in=("active", "discharged"),
                admission_date__lt=self.today,
            )
            .order_by("id")
            .values_list(
                "id",
                "patient_id",
                "site_id",
                "part2_protected",
                "admission_date",
                "discharge_date",
                "status",
                "case_manager_id",
            )
        ):
            episode_id, patient_id, site_id, part2, admission, discharge, status, cm = row
            if site_id not in self.prescriber:
                continue
            active = status == "active"
            last = yesterday if active or discharge is None else min(discharge, yesterday)
            if last < admission:
                continue
            self.stays.append(
                _Stay(
                    episode_id=episode_id,
                    patient_id=patient_id,
                    site_id=site_id,
                    part2=part2,
                    admission=admission,
                    last=last,
                    active=active,
                    case_manager_id=cm or next(iter(self.case_managers[site_id]), None),
                    tz=tz[site_id],
                    track_id=track_of.get(episode_id),
                )
            )
        first_day = GroupSession.objects.filter(site__organization_id=self.org_id).aggregate(
            d=Min("date")
        )["d"]
        self.window_start: dt.date = first_day or self.today - dt.timedelta(weeks=26)

    def run(self) -> dict[str, int]:
        self._load()
        self.resources()
        self.referrals_and_tasks()
        self.support_requests()
        self.medications()
        self.drug_tests()
        return self.counts

    def _at(self, stay: _Stay, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=stay.tz)

    def _day_in(self, stay: _Stay, start_offset: int = 0, end: dt.date | None = None) -> dt.date:
        first = min(stay.admission + dt.timedelta(days=start_offset), stay.last)
        last = max(first, min(end or stay.last, stay.last))
        return first + dt.timedelta(days=self.rng.randrange((last - first).days + 1))

    # --- case management --------------------------------------------------------------------
    def resources(self) -> None:
        first = next_id(CommunityResource)
        self.resources_by_site: dict[int, dict[str, list[int]]] = {}
        rows: list[dict[str, Any]] = []
        for site in self.sites:
            by_kind: dict[str, list[int]] = defaultdict(list)
            for kind, name, address, phone, hours, notes in RESOURCES:
                rid = first + len(rows)
                by_kind[kind].append(rid)
                rows.append(
                    {
                        "id": rid,
                        "site_id": site.pk,
                        "kind": kind,
                        "name": name,
                        "address": address,
                        "phone": phone,
                        "hours": hours,
                        "notes": notes,
                    }
                )
            self.resources_by_site[site.pk] = by_kind
        self.counts["community_resources"] = write_rows(CommunityResource, rows, stream=self.stream)

    def referrals_and_tasks(self) -> None:
        rng = self.rng
        first_referral = next_id(Referral)
        first_task = next_id(CaseTask)
        tasks: list[dict[str, Any]] = []

        def referrals() -> Iterator[dict[str, Any]]:
            rid = first_referral
            for stay in self.stays:
                if stay.case_manager_id is None:
                    continue
                roll = rng.random()
                for _ in range(2 if roll < 0.15 else 1 if roll < 0.55 else 0):
                    kind = weighted(rng, REFERRAL_KIND_MIX)
                    if kind == "sober_living" and not stay.part2:
                        kind = "support_group"
                    options = self.resources_by_site[stay.site_id].get(kind) or [
                        r for rs in self.resources_by_site[stay.site_id].values() for r in rs
                    ]
                    made = self._day_in(stay, 0, stay.admission + dt.timedelta(days=21))
                    age = (self.today - made).days
                    if not stay.active:
                        status = weighted(
                            rng,
                            (("completed", 0.5), ("accepted", 0.25), ("declined", 0.15),
                             ("cancelled", 0.1)),
                        )  # fmt: skip
                    elif age > 14:
                        status = weighted(
                            rng,
                            (("accepted", 0.4), ("completed", 0.3), ("sent", 0.2),
                             ("declined", 0.1)),
                        )  # fmt: skip
                    else:
                        status = weighted(rng, (("proposed", 0.4), ("sent", 0.6)))
                    follow = status in ("proposed", "sent", "accepted")
                    at = self._at(stay, made, rng.randint(9, 16), rng.randrange(60))
                    yield {
                        "id": rid,
                        "created_at": at,
                        "updated_at": at,
                        "version": 1 + ["proposed", "sent", "accepted"].index(status)
                        if follow
                        else 2,
                        "episode_id": stay.episode_id,
                        "patient_id": stay.patient_id,
                        "resource_id": rng.choice(options),
                        "status": status,
                        "follow_up_on": made + dt.timedelta(days=rng.randint(7, 14))
                        if follow
                        else None,
                        "outcome": "Went, and plans to keep going (synthetic)."
                        if status == "completed"
                        else "",
                        "created_by_id": stay.case_manager_id,
                        "part2": stay.part2,
                    }
                    rid += 1
                # The case manager's own list: due dates over the stay, most of the past ones done.
                for _ in range(rng.randint(1, 3)):
                    if stay.active and rng.random() < 0.4:
                        due = self.today + dt.timedelta(days=rng.randint(-5, 14))
                    else:
                        due = self._day_in(stay)
                    done = not stay.active or (due < self.today and rng.random() < 0.85)
                    created = min(due, self.today) - dt.timedelta(days=rng.randint(1, 7))
                    done_at = self._at(stay, min(due, self.today - dt.timedelta(days=1)), 16)
                    tasks.append(
                        {
                            "id": first_task + len(tasks),
                            "created_at": self._at(stay, created, 10),
                            "updated_at": done_at if done else self._at(stay, created, 10),
                            "site_id": stay.site_id,
                            "owner_id": stay.case_manager_id,
                            "episode_id": stay.episode_id,
                            "patient_id": stay.patient_id,
                            "title": rng.choice(TASK_TITLES),
                            "due_on": due,
                            "done_at": done_at if done else None,
                            "done_by_id": stay.case_manager_id if done else None,
                            "created_by_id": stay.case_manager_id,
                            "part2": stay.part2,
                        }
                    )

        self.counts["referrals"] = write_rows(Referral, referrals(), stream=self.stream)
        self.counts["case_tasks"] = write_rows(CaseTask, tasks, stream=self.stream)

    def support_requests(self) -> None:
        """Rides and childcare for a few patients: every program day of their track from four
        weeks back to two weeks ahead (the first session of the day), booked when past."""
        rng = self.rng
        start = self.today - dt.timedelta(days=SUPPORT_PAST_DAYS)
        end = self.today + dt.timedelta(days=SUPPORT_AHEAD_DAYS)
        days: dict[int, list[tuple[int, dt.date, dt.datetime]]] = defaultdict(list)
        seen: set[tuple[int, dt.date]] = set()
        for session_id, track_id, day, starts_at in (
            GroupSession.objects.filter(
                site__organization_id=self.org_id,
                track__isnull=False,
                date__gte=start,
                date__lte=end,
            )
            .exclude(status="cancelled")
            .order_by("track_id", "date", "starts_at", "id")
            .values_list("id", "track_id", "date", "starts_at")
        ):
            if (track_id, day) not in seen:
                seen.add((track_id, day))
                days[track_id].append((session_id, day, starts_at))
        first = next_id(SupportRequest)

        def rows() -> Iterator[dict[str, Any]]:
            rid = first
            for stay in self.stays:
                if stay.track_id is None or stay.case_manager_id is None:
                    continue
                until = end if stay.active else stay.last
                roll = rng.random()
                kind = (
                    "transportation"
                    if roll < RIDE_SHARE
                    else "childcare"
                    if roll < RIDE_SHARE + CHILDCARE_SHARE
                    else None
                )
                if kind is None:
                    continue
                address = f"{rng.randint(1, 999)} Pretend Street, Faketown"
                for session_id, day, starts_at in days[stay.track_id]:
                    if not stay.admission <= day <= until:
                        continue
                    past = day < self.today
                    if past:
                        status = "cancelled" if rng.random() < 0.05 else "booked"
                    else:
                        status = "booked" if (day - self.today).days <= 3 else "requested"
                    made = self._at(stay, max(stay.admission, day - dt.timedelta(days=3)), 9)
                    ride = kind == "transportation"
                    yield {
                        "id": rid,
                        "created_at": made,
                        "updated_at": made,
                        "version": 1 if status == "requested" else 2,
                        "episode_id": stay.episode_id,
                        "patient_id": stay.patient_id,
                        "session_id": session_id,
                        "kind": kind,
                        "status": status,
                        "pickup_address": address if ride else "",
                        "pickup_at": starts_at - dt.timedelta(minutes=45) if ride else None,
                        "created_by_id": stay.case_manager_id,
                        "part2": stay.part2,
                    }
                    rid += 1

        self.counts["support_requests"] = write_rows(SupportRequest, rows(), stream=self.stream)

    # --- medications, allergies, MAT, doses ------------------------------------------------
    def medications(self) -> None:
        rng = self.rng
        first_med = next_id(Medication)
        first_mat = next_id(MatEpisode)
        first_allergy = next_id(Allergy)
        meds: list[dict[str, Any]] = []
        mats: list[dict[str, Any]] = []
        allergies: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        doses: list[tuple[dict[str, Any], _Stay]] = []
        allergic_seen: set[int] = set()

        def med(
            stay: _Stay, key: str, dose: str, route: str, freq: str, source: str, start: dt.date
        ) -> dict[str, Any]:
            entry = BY_KEY[key]
            prescriber_id, prescriber_name = self.prescriber[stay.site_id]
            if source == "here":
                prescriber = prescriber_name
            elif key == "methadone":
                prescriber = OTP_NAME
            elif source == "elsewhere":
                prescriber = f"Dr. {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} (fictional)"
            else:
                prescriber = ""
            at = self._at(stay, max(start, stay.admission), 10)
            row = {
                "id": first_med + len(meds),
                "created_at": at,
                "updated_at": at,
                "patient_id": stay.patient_id,
                "episode_id": stay.episode_id,
                "catalog_key": key,
                "name": entry.name,
                "rxnorm_code": entry.rxnorm,
                "analyte": entry.analyte,
                "dose": dose,
                "route": route,
                "frequency": freq,
                "prescriber": prescriber,
                "source": source,
                "start_date": start,
                "recorded_by_id": prescriber_id,
                "part2": stay.part2,
            }
            meds.append(row)
            return row

        for stay in self.stays:
            prescriber_id = self.prescriber[stay.site_id][0]
            if stay.part2 and rng.random() < MAT_SHARE:
                kind = MatKind(weighted(rng, MAT_MIX))
                key, dose, route, freq, source = MAT_MEDICATION[kind]
                started = self._day_in(stay, 0, stay.admission + dt.timedelta(days=10))
                ended: dt.date | None = None
                reason = ""
                if not stay.active:
                    ended = stay.last
                    reason = "Discharged from the program; continues with the prescriber named"
                elif rng.random() < 0.1 and (stay.last - started).days > 21:
                    ended = started + dt.timedelta(days=rng.randint(14, (stay.last - started).days))
                    reason = "Stopped at the patient's choice after a conversation (synthetic)"
                row = med(stay, key, dose, route, freq, source, started)
                row["stop_date"] = ended
                row["stop_reason"] = reason
                if row["analyte"]:
                    stay.meds.append((row["name"], A(row["analyte"]), started, ended))
                mat_id = first_mat + len(mats)
                mats.append(
                    {
                        "id": mat_id,
                        "created_at": row["created_at"],
                        "updated_at": row["created_at"],
                        "patient_id": stay.patient_id,
                        "episode_id": stay.episode_id,
                        "kind": kind.value,
                        "medication_id": row["id"],
                        "started_on": started,
                        "ended_on": ended,
                        "end_reason": reason,
                        "dispensing_program": OTP_NAME
                        if kind == MatKind.METHADONE_ELSEWHERE
                        else "",
                        "started_by_id": prescriber_id,
                        "part2": stay.part2,
                    }
                )
                for day, dose_text, site in self._dose_days(kind, started, ended or stay.last):
                    doses.append(
                        (
                            {
                                "mat_id": mat_id,
                                "given_at": self._at(stay, day, 9, rng.randrange(60)),
                                "dose": dose_text,
                                "lot": f"{'XR' if site else 'BN'}{rng.randint(1000, 9999)}",
                                "injection_site": site,
                                "given_by_id": prescriber_id,
                                "part2": stay.part2,
                            },
                            stay,
                        )
                    )
                if kind != MatKind.METHADONE_ELSEWHERE and rng.random() < 0.5:
                    med(stay, "naloxone", "4 mg", "nasal", "as needed", "here", started)
                if rng.random() < 0.3:
                    at = self._at(stay, self._day_in(stay, 7), 11)
                    notes.append(
                        {
                            "id": 0,
                            "created_at": at,
                            "updated_at": at,
                            "patient_id": stay.patient_id,
                            "episode_id": stay.episode_id,
                            "medication_id": row["id"],
                            "text": rng.choice(
                                (
                                    "Takes it every day; no missed doses this week (synthetic).",
                                    "Missed two doses while travelling; back on track (synthetic).",
                                    "Asks about side effects; discussed (synthetic).",
                                )
                            ),
                            "recorded_by_id": prescriber_id,
                            "part2": stay.part2,
                        }
                    )
            roll = rng.random()
            for _ in range(2 if roll < 0.15 else 1 if roll < 0.45 else 0):
                key, dose, route, freq = rng.choice(OTHER_MEDICATIONS)
                source = weighted(rng, OTHER_SOURCE_MIX)
                start = (
                    self._day_in(stay)
                    if source == "here"
                    else stay.admission - dt.timedelta(days=rng.randint(30, 400))
                )
                med(stay, key, dose, route, freq, source, start)
            if stay.patient_id not in allergic_seen and rng.random() < ALLERGY_SHARE:
                allergic_seen.add(stay.patient_id)
                substance, reaction, severity = rng.choice(ALLERGIES)
                at = self._at(stay, stay.admission, 10)
                allergies.append(
                    {
                        "id": first_allergy + len(allergies),
                        "created_at": at,
                        "updated_at": at,
                        "patient_id": stay.patient_id,
                        "episode_id": stay.episode_id,
                        "substance": substance,
                        "reaction": reaction,
                        "severity": severity,
                        "recorded_by_id": self.prescriber[stay.site_id][0],
                        "part2": stay.part2,
                    }
                )
        self.counts["medications"] = write_rows(Medication, meds, stream=self.stream)
        self.counts["allergies"] = write_rows(Allergy, allergies, stream=self.stream)
        self.counts["mat_episodes"] = write_rows(MatEpisode, mats, stream=self.stream)
        first_dose = next_id(DoseAdministration)
        for n, (row, _stay) in enumerate(doses):
            row["id"] = first_dose + n
            row["created_at"] = row["updated_at"] = row["given_at"]
        self.counts["doses"] = write_rows(
            DoseAdministration, (r for r, _ in doses), stream=self.stream
        )
        first_note = next_id(AdherenceNote)
        for n, row in enumerate(notes):
            row["id"] = first_note + n
        self.counts["adherence_notes"] = write_rows(AdherenceNote, notes, stream=self.stream)

    def _dose_days(
        self, kind: MatKind, started: dt.date, until: dt.date
    ) -> Iterator[tuple[dt.date, str, str]]:
        """(day, dose, injection site) of the doses given in the clinic: buprenorphine's first
        dose and some observed ones; extended-release naltrexone every four weeks, sides in turn;
        oral naltrexone's first dose; none for methadone (dispensed by its program)."""
        until = min(until, self.today - dt.timedelta(days=1))
        if started > until or kind == MatKind.METHADONE_ELSEWHERE:
            return
        if kind == MatKind.NALTREXONE_XR:
            day, n = started, 0
            while day <= until:
                yield day, "380 mg", ("left_gluteal", "right_gluteal")[n % 2]
                day += dt.timedelta(days=28)
                n += 1
            return
        if kind == MatKind.NALTREXONE_ORAL:
            yield started, "50 mg", ""
            return
        yield started, "8 mg/2 mg", ""
        day = started + dt.timedelta(days=7)
        while day <= until:
            if self.rng.random() < 0.25:
                yield day, "8 mg/2 mg", ""
            day += dt.timedelta(days=7)

    # --- drug and alcohol tests -------------------------------------------------------------
    def drug_tests(self) -> None:
        rng = self.rng
        first_order = next_id(DrugTestOrder)
        results: list[tuple[int, A, str, bool]] = []  # order id, analyte, outcome, part2
        flags: list[dict[str, Any]] = []

        def orders() -> Iterator[dict[str, Any]]:
            oid = first_order
            for stay in self.stays:
                if not stay.part2:
                    continue
                prescriber_id = self.prescriber[stay.site_id][0]
                base = rng.choices([b for b, _ in USE_MIX], [w for _, w in USE_MIX])[0]
                substance = A(weighted(rng, SUBSTANCE_MIX))
                start = max(stay.admission, self.window_start)
                last = self.today if stay.active else stay.last
                week = 0
                day = _weekday_on_or_after(start + dt.timedelta(days=rng.randint(1, 4)))
                while day <= last:
                    kinds = ["lab_panel" if week % 4 == 3 else "poc_cup"]
                    if rng.random() < BREATH_SHARE:
                        kinds.append("breathalyzer")
                    for kind in kinds:
                        yield self._order(
                            oid, stay, kind, day, week, base, substance, prescriber_id,
                            results, flags,
                        )  # fmt: skip
                        oid += 1
                    week += 1
                    day = _weekday_on_or_after(day + dt.timedelta(days=7))

        self.counts["drug_test_orders"] = write_rows(DrugTestOrder, orders(), stream=self.stream)
        first_result = next_id(DrugTestResult)
        self.counts["drug_test_results"] = write_rows(
            DrugTestResult,
            (
                {
                    "id": first_result + n,
                    "order_id": order_id,
                    "analyte": analyte.value,
                    "outcome": outcome,
                    "part2": part2,
                }
                for n, (order_id, analyte, outcome, part2) in enumerate(results)
            ),
            stream=self.stream,
        )
        first_flag = next_id(ReconciliationFlag)
        for n, row in enumerate(flags):
            row["id"] = first_flag + n
        self.counts["reconciliation_flags"] = write_rows(
            ReconciliationFlag, flags, stream=self.stream
        )

    def _order(
        self,
        oid: int,
        stay: _Stay,
        kind: str,
        day: dt.date,
        week: int,
        base: float,
        substance: A,
        prescriber_id: int,
        results: list[tuple[int, A, str, bool]],
        flags: list[dict[str, Any]],
    ) -> dict[str, Any]:
        rng = self.rng
        collected = self._at(stay, day, 11, rng.randrange(60))
        lab = kind == "lab_panel"
        # A cup or breath test of today is still to be taken; a lab panel's result comes the next
        # day, so yesterday's is still out.
        pending = day >= self.today or (lab and day >= self.today - dt.timedelta(days=1))
        ordered_at = (
            self._at(stay, day - dt.timedelta(days=1), 16)
            if pending
            else collected - dt.timedelta(minutes=30)
        )
        row: dict[str, Any] = {
            "id": oid,
            "created_at": ordered_at,
            "updated_at": ordered_at,
            "patient_id": stay.patient_id,
            "episode_id": stay.episode_id,
            "kind": kind,
            "reason": "clinical" if rng.random() < 0.05 else "scheduled",
            "status": "ordered",
            "ordered_by_id": prescriber_id,
            "ordered_at": ordered_at,
            "accession": f"SYN{oid:08d}" if lab else "",
            "part2": stay.part2,
        }
        if pending:
            return row
        validity = tests_domain.Validity(
            "valid" if kind == "breathalyzer" else weighted(rng, VALIDITY_MIX)
        )
        panel: Sequence[A] = (
            (A.ALCOHOL,) if kind == "breathalyzer" else LAB_PANEL if lab else CUP_PANEL
        )
        expected = [
            tests_domain.Expected(medication=name, analyte=analyte)
            for name, analyte, start, stop in stay.meds
            if start <= day and (stop is None or stop >= day)
        ]
        expected_analytes = {e.analyte for e in expected}
        used = rng.random() < use_chance(base, week)
        analytes: list[tests_domain.AnalyteResult] = []
        if validity not in tests_domain.NO_CONCLUSION:
            for analyte in panel:
                if analyte in expected_analytes:
                    positive = rng.random() < MEDICATION_FOUND
                else:
                    positive = used and (
                        analyte == substance
                        or (substance == A.ALCOHOL and analyte == A.ETG)
                        or (substance == A.FENTANYL and analyte == A.OPIATES and lab)
                    )
                analytes.append(
                    tests_domain.AnalyteResult(analyte, POSITIVE if positive else NEGATIVE)
                )
        resulted = collected + (dt.timedelta(days=1) if lab else dt.timedelta(minutes=15))
        row.update(
            status="resulted",
            collected_at=collected,
            observed=rng.random() < 0.3,
            validity=validity.value,
            resulted_at=resulted,
            resulted_by_id=prescriber_id,
            from_lab_file="synthetic-lab-export.csv" if lab else "",
        )
        for r in analytes:
            results.append((oid, r.analyte, r.outcome.value, stay.part2))
        open_ = stay.active and day >= self.today - dt.timedelta(days=OPEN_FLAG_DAYS)
        for finding in tests_domain.reconcile(analytes, validity, expected):
            if not finding.needs_review:
                continue
            response = "" if open_ else weighted(rng, RESPONSE_MIX)
            responded = min(
                resulted + dt.timedelta(days=rng.randint(1, 3)),
                self._at(stay, self.today - dt.timedelta(days=1), 17),
            )
            flags.append(
                {
                    "created_at": resulted,
                    "updated_at": resulted if open_ else responded,
                    "order_id": oid,
                    "kind": finding.kind.value,
                    "analyte": finding.analyte.value if finding.analyte else "",
                    "message": finding.message[:500],
                    "status": "open" if open_ else "responded",
                    "response_kind": response,
                    "response_text": RESPONSE_TEXT.get(response, ""),
                    "responded_by_id": None if open_ else prescriber_id,
                    "responded_at": None if open_ else responded,
                    "part2": stay.part2,
                }
            )
        return row
