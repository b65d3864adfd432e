"""Treatment plans and signed progress notes for the synthetic network (part of `openiop synth`).

Every stay that started gets a signed treatment plan within a week of admission and a signed review
(a new version; the one before is superseded) every 30 days while it lasts, each with problems in
the patient's words, goals, measurable objectives and interventions. Every past group session that
someone attended gets one signed group note: the shared part once and a section per attendee
(attendance, minutes, and a short individualized text); every attended individual or family session
gets a signed note with one section. Sections point at an objective of the plan in force that day.
Many of the last two days' notes are still drafts (being written), and a few older ones (late).

The text is drawn from the phrase banks below: fictional, varied per member so the app's
copy-guard would rarely flag it. The guard's score is not computed here (left empty).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from array import array
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from openiop.demo.cast import FIRST_NAMES
from openiop.demo.synth.attended import AttendedRows
from openiop.demo.synth.plan import NetworkPlan
from openiop.demo.synth.writer import next_id, write_rows
from openiop.notes.models import NoteSection, ProgressNote
from openiop.treatment.domain import signatures_required
from openiop.treatment.models import (
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanSignature,
    TreatmentPlan,
)

if TYPE_CHECKING:
    from openiop.programs.models import Site


class BuiltNetwork(Protocol):
    """What documentation reads from the network build has written (build._Builder is one): the
    stays, sessions and attendance, by id. A protocol, so that build imports documentation and
    documentation imports nothing of build."""

    network: NetworkPlan
    rng: random.Random
    today: dt.date
    stream: TextIO | None
    counts: dict[str, int]
    sites: list[Site]
    site_tz: dict[int, ZoneInfo]
    staff_names: dict[int, str]
    stay_ids: list[tuple[int, int]]
    names: dict[int, tuple[str, str]]
    dob: dict[int, dt.date]
    primary_clinician: list[int]
    focus: list[str]
    session_info: dict[int, tuple[dt.datetime, dt.datetime, int, str, str, int]]
    attended: AttendedRows


PLAN_SIGNED_WITHIN_DAYS = (2, 6)  # inside the 7-day default (treatment.domain, KS R03-606)
REVIEW_EVERY_DAYS = 30  # the app's TREATMENT_PLAN_REVIEW_DAYS default (PA 709.123)
NOTE_SIGNED_AFTER_HOURS = (1, 20)  # most notes signed the same day (assumption)
# Notes still in draft (assumptions): many of the last 2 days' (being written: what the group note
# editor shows), and a few older ones (the late-notes list).
RECENT_DRAFT_DAYS, RECENT_DRAFT_SHARE, OLD_DRAFT_SHARE = 2, 0.4, 0.003

# (description, ICD-10-CM, the patient's words, goal, objectives, modality, frequency)
PROBLEMS: dict[str, tuple[tuple[str, str, str, str, tuple[str, str], str, str], ...]] = {
    "substance": (
        (
            "Alcohol dependence, uncomplicated",
            "F10.20",
            "I drink every night and can't stop once I start.",
            "Stay sober and build a recovery routine",
            (
                "Report no drinking days on the weekly BAM for 4 weeks running",
                "Attend 2 mutual-help meetings a week",
            ),
            "tsf",
            "3 groups a week",
        ),
        (
            "Cannabis dependence, uncomplicated",
            "F12.20",
            "Smoking is how I get through every day.",
            "Stop using cannabis and cope with stress without it",
            (
                "Name 3 coping skills used instead of using, reviewed weekly",
                "Report no use on the BAM for 3 weeks running",
            ),
            "mi",
            "weekly individual",
        ),
        (
            "Opioid dependence, uncomplicated",
            "F11.20",
            "I need to stay off pills for my kids.",
            "Stay in recovery from opioids",
            (
                "Keep every prescriber appointment this month",
                "Write and share a relapse-prevention plan",
            ),
            "mat",
            "weekly prescriber visit",
        ),
    ),
    "mood": (
        (
            "Major depressive disorder, recurrent, moderate",
            "F33.1",
            "I feel empty and can't get out of bed.",
            "Feel less depressed and get back to daily activities",
            (
                "Lower the PHQ-9 by 5 points from admission",
                "Schedule and do 3 pleasant activities a week",
            ),
            "cbt",
            "3 groups a week",
        ),
        (
            "Generalized anxiety disorder",
            "F41.1",
            "My mind races and I worry about everything.",
            "Manage worry so it does not run my day",
            (
                "Lower the GAD-7 below 10",
                "Practice a grounding skill daily and log it",
            ),
            "dbt",
            "2 skills groups a week",
        ),
    ),
}

PARTICIPATION = (
    "Client arrived engaged and shared about the week's triggers.",
    "Client listened actively and offered support to peers when invited.",
    "Client was quiet at first, then described a recent craving and how it passed.",
    "Client participated in the role-play and practiced refusal skills.",
    "Client shared progress on the weekly goal and asked for feedback.",
    "Client described a conflict at home and linked it to the topic.",
    "Client completed the worksheet and read one answer aloud.",
    "Client appeared tired but stayed for the whole group and contributed twice.",
    "Client spoke about sleep problems and what helped this week.",
    "Client reflected on a high-risk situation and the plan used to leave it.",
)
RESPONSE = (
    "Able to name two coping skills and when to use them.",
    "Identified a new support person to call when urges rise.",
    "Demonstrated the breathing skill correctly; reports it helps at work.",
    "Receptive to feedback; agreed to try the skill before next session.",
    "Insight is growing: connected mood and use patterns.",
    "Struggled with the exercise; needs more practice with reframing thoughts.",
    "Reported fewer arguments at home after using the communication skill.",
    "Motivation appears higher than last week; set a concrete step.",
)
RISK = (
    "Denied thoughts of self-harm; no safety concerns observed.",
    "No risk indicators observed today.",
    "Denied suicidal ideation; reports safety plan is at hand.",
    "No signs of intoxication; denied thoughts of harm to self or others.",
)
PLAN = (
    "Continue groups as scheduled; practice the skill daily.",
    "Review the relapse-prevention plan at the next individual session.",
    "Bring the completed log to the next group.",
    "Follow up on the mutual-help meeting attendance next week.",
    "Continue current plan; revisit goal progress in individual therapy.",
)
INDIVIDUAL_DATA = (
    "Reviewed the week: attendance, cravings and mood since last session.",
    "Client reported a difficult weekend and how the safety plan was used.",
    "Discussed progress toward the treatment plan objectives.",
    "Explored family stressors and their effect on recovery.",
)
INDIVIDUAL_ASSESSMENT = (
    "Mood improving per self-report and PHQ-9; engaged and goal-directed.",
    "Ambivalence about change persists; motivational work continues.",
    "Symptoms stable; uses coping skills with prompting.",
    "Making steady progress on objectives; no safety concerns.",
)
MODALITY_BY_KIND = {
    "group_therapy": "Process group",
    "psychoeducation": "Psychoeducation",
    "skills": "CBT skills",
    "holistic": "Mindfulness",
    "family_group": "Family systems",
}


def _problems_for(focus: str, rng: random.Random) -> list[tuple[str, ...]]:
    substance = rng.choice(PROBLEMS["substance"])
    mood = rng.choice(PROBLEMS["mood"])
    if focus == "substance_use":
        return [substance]  # type: ignore[list-item]
    if focus == "mental_health":
        return [mood]  # type: ignore[list-item]
    return [substance, mood]  # type: ignore[list-item]


class Documentation:
    """Writes plans, then notes, for a builder that has written stays, sessions and attendance."""

    def __init__(self, builder: BuiltNetwork) -> None:
        self.b = builder
        self.rng = random.Random(builder.rng.random())
        # Per stay: [(signed on, first objective id)] in date order, for the notes' objectives.
        self.plan_objectives: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
        self._order: array[int] | None = None

    # --- treatment plans ------------------------------------------------------------------------
    def plans(self) -> None:
        """Plans and their parts: one generator, run once per table with the same seed, so every
        table streams through COPY and the rows agree without holding them in memory."""
        b = self.b
        seed = self.rng.random()
        models: tuple[tuple[type[Any], str], ...] = (
            (TreatmentPlan, "treatment_plans"),
            (PlanProblem, "plan_problems"),
            (PlanGoal, "plan_goals"),
            (PlanObjective, "plan_objectives"),
            (PlanIntervention, "plan_interventions"),
            (PlanSignature, "plan_signatures"),
        )
        first = {m: next_id(m) for m, _ in models}
        for model, key in models:
            self.plan_objectives.clear()
            rows = (row for m, row in self._plan_records(random.Random(seed), first) if m is model)
            b.counts[key] = write_rows(model, rows, stream=b.stream)

    def _plan_records(
        self, rng: random.Random, first: dict[type[Any], int]
    ) -> Iterator[tuple[type[Any], dict[str, Any]]]:
        b = self.b
        yesterday = b.today - dt.timedelta(days=1)
        nxt = dict(first)
        staff = b.staff_names

        def take(model: type[Any]) -> int:
            value = nxt[model]
            nxt[model] += 1
            return value

        for i, stay in enumerate(b.network.stays):
            if stay.admission > yesterday:
                continue
            episode_id, patient_id = b.stay_ids[i]
            tz = b.site_tz[b.sites[b.network.tracks[stay.track_index][0]].pk]
            clinician = b.primary_clinician[i]
            last = min(stay.discharge or yesterday, yesterday)
            chosen = _problems_for(b.focus[i], rng)
            given, family = b.names[patient_id]
            signed_on = stay.admission + dt.timedelta(days=rng.randint(*PLAN_SIGNED_WITHIN_DAYS))
            number, previous = 1, None
            while signed_on <= last:
                plan_id = take(TreatmentPlan)
                next_on = signed_on + dt.timedelta(days=REVIEW_EVERY_DAYS + rng.randint(-3, 2))
                final = next_on > last
                at = dt.datetime.combine(signed_on, dt.time(rng.randint(9, 17)), tzinfo=tz)
                created = at - dt.timedelta(days=1)
                stamps = {"created_at": created, "updated_at": created}
                yield (
                    TreatmentPlan,
                    {
                        "id": plan_id,
                        "created_at": created,
                        "updated_at": at,
                        "episode_id": episode_id,
                        "patient_id": patient_id,
                        "number": number,
                        "previous_id": previous,
                        "status": "signed" if final else "superseded",
                        "strengths": "Motivated for change; supportive family; steady work history.",
                        "discharge_criteria": (
                            "Objectives met, a relapse-prevention plan in place and aftercare "
                            "scheduled."
                        ),
                        "review_summary": "" if number == 1 else "Reviewed progress on each goal.",
                        "created_by_id": clinician,
                        "signed_at": at,
                    },
                )
                for position, p in enumerate(chosen, start=1):
                    description, code, words, goal, objs, modality, frequency = p
                    problem_id, goal_id = take(PlanProblem), take(PlanGoal)
                    yield (
                        PlanProblem,
                        {
                            "id": problem_id,
                            **stamps,
                            "plan_id": plan_id,
                            "position": position,
                            "description": description,
                            "icd10_code": code,
                            "patient_words": words,
                        },
                    )
                    met = final and stay.reason == "completed"
                    yield (
                        PlanGoal,
                        {
                            "id": goal_id,
                            **stamps,
                            "problem_id": problem_id,
                            "text": goal,
                            "status": "met" if met else "in_progress",
                        },
                    )
                    for k, text in enumerate(objs):
                        objective_id = take(PlanObjective)
                        if position == 1 and k == 0:
                            self.plan_objectives[i].append((signed_on, objective_id))
                        yield (
                            PlanObjective,
                            {
                                "id": objective_id,
                                **stamps,
                                "goal_id": goal_id,
                                "text": text,
                                "target_date": signed_on + dt.timedelta(days=28 + 14 * k),
                            },
                        )
                    yield (
                        PlanIntervention,
                        {
                            "id": take(PlanIntervention),
                            **stamps,
                            "goal_id": goal_id,
                            "modality": modality,
                            "frequency": frequency,
                            "responsible_id": clinician,
                        },
                    )
                for role in signatures_required(date_of_birth=b.dob[patient_id], on=signed_on):
                    signer = {
                        "clinician": staff[clinician],
                        "patient": f"{given} {family}",
                        "guardian": f"{rng.choice(FIRST_NAMES)} {family}",
                    }[role]
                    yield (
                        PlanSignature,
                        {
                            "id": take(PlanSignature),
                            "created_at": at,
                            "updated_at": at,
                            "plan_id": plan_id,
                            "role": role,
                            "signer_name": signer,
                            "signed_at": at,
                            "recorded_by_id": clinician,
                        },
                    )
                number, previous, signed_on = number + 1, plan_id, next_on

    def objective_on(self, stay: int, day: dt.date) -> int | None:
        """The first objective of the plan in force for `stay` on `day` (None before the first)."""
        found = None
        for signed_on, objective_id in self.plan_objectives.get(stay, ()):
            if signed_on > day:
                break
            found = objective_id
        return found

    # --- progress notes -------------------------------------------------------------------------
    def notes(self) -> None:
        """Group notes (one per attended past session, a section per attendee) and individual or
        family notes (one per attended appointment). Four passes over the kept attendance with the
        same seed (notes, sections, facilitators, the sections' objectives); each pass builds only
        its own table's rows but draws the same random numbers, so the ids agree."""
        b = self.b
        seed = self.rng.random()
        through_f = ProgressNote.facilitators.through
        through_o = NoteSection.objectives.through
        first = {
            "note": next_id(ProgressNote),
            "section": next_id(NoteSection),
            "facilitator": next_id(through_f),
            "objective_link": next_id(through_o),
        }
        passes: tuple[tuple[type[Any], str], ...] = (
            (ProgressNote, "progress_notes"),
            (NoteSection, "note_sections"),
            (through_f, "note_facilitators"),
            (through_o, "note_section_objectives"),
        )
        for model, key in passes:
            rows = self._note_records(random.Random(seed), dict(first), model)
            expected = len(b.attended) if model in (NoteSection, through_o) else None
            b.counts[key] = write_rows(model, rows, expected=expected, stream=b.stream)

    def _note_records(
        self, rng: random.Random, ids: dict[str, int], want: type[Any]
    ) -> Iterator[dict[str, Any]]:
        """Every note's rows. The kept attendance comes in blocks (one per track, then the
        appointments); inside a block the rows are sorted by session to make one note each."""
        a = self.b.attended
        order = self._session_order()
        i, n = 0, len(order)
        while i < n:
            session_id = a.sessions[order[i]]
            j = i
            while j < n and a.sessions[order[j]] == session_id:
                j += 1
            yield from self._one_note(rng, session_id, order[i:j], ids, want)
            i = j

    def _session_order(self) -> array[int]:
        """The kept attendance rows' positions, grouped by session (computed once: the rows come
        in blocks, one per track then the appointments, and are sorted by session inside each)."""
        if self._order is None:
            a = self.b.attended
            self._order = array("q")
            bounds = [*a.block_starts, len(a)]
            for start, end in itertools.pairwise(bounds):
                self._order.extend(sorted(range(start, end), key=a.sessions.__getitem__))
        return self._order

    def _one_note(
        self,
        rng: random.Random,
        session_id: int,
        rows: array[int],
        ids: dict[str, int],
        want: type[Any],
    ) -> Iterator[dict[str, Any]]:
        b = self.b
        a = b.attended
        through_f = ProgressNote.facilitators.through
        through_o = NoteSection.objectives.through
        starts_at, ends_at, author, title, kind, site_id = b.session_info[session_id]
        group = kind not in ("individual", "family")
        recent = (b.today - starts_at.date()).days <= RECENT_DRAFT_DAYS
        draft = rng.random() < (RECENT_DRAFT_SHARE if recent else OLD_DRAFT_SHARE)
        signed = ends_at + dt.timedelta(hours=rng.randint(*NOTE_SIGNED_AFTER_HOURS))
        if draft:
            signed = ends_at + dt.timedelta(minutes=rng.randint(5, 60))  # last saved
        note_id = ids["note"]
        ids["note"] += 1
        if want is ProgressNote:
            yield {
                "id": note_id,
                "created_at": ends_at,
                "updated_at": signed,
                "kind": "group" if group else kind,
                "note_format": "dap",
                "site_id": site_id,
                "session_id": session_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "topic": title,
                "modality": MODALITY_BY_KIND.get(kind, "") if group else "",
                "interventions": (
                    "Facilitated discussion and skill practice on the topic." if group else ""
                ),
                "author_id": author,
                "status": "draft" if draft else "signed",
                "signed_at": None if draft else signed,
            }
        if want is through_f:
            yield {"id": ids["facilitator"], "progressnote_id": note_id, "user_id": author}
        ids["facilitator"] += 1
        for k in rows:
            stay = a.stays[k]
            episode_id, patient_id = b.stay_ids[stay]
            status = a.STATUSES[a.statuses[k]]
            if group:
                body = {
                    "participation": rng.choice(PARTICIPATION),
                    "response": rng.choice(RESPONSE),
                    "risk": rng.choice(RISK),
                    "plan": rng.choice(PLAN),
                }
            else:
                body = {
                    "data": rng.choice(INDIVIDUAL_DATA),
                    "assessment": rng.choice(INDIVIDUAL_ASSESSMENT),
                    "plan": rng.choice(PLAN),
                }
            section_id = ids["section"]
            ids["section"] += 1
            if want is NoteSection:
                yield {
                    "id": section_id,
                    "created_at": ends_at,
                    "updated_at": signed,
                    "note_id": note_id,
                    "episode_id": episode_id,
                    "patient_id": patient_id,
                    "attendance_id": a.ids[k],
                    "minutes_attended": a.minutes[k],
                    "arrived_late": status == "late",
                    "left_early": status == "left_early",
                    "body": json.dumps(body),
                    "similarity_flagged": False,
                }
            if want is through_o:
                objective = self.objective_on(stay, starts_at.date())
                if objective is not None:
                    yield {
                        "id": ids["objective_link"],
                        "notesection_id": section_id,
                        "planobjective_id": objective,
                    }
                    ids["objective_link"] += 1
