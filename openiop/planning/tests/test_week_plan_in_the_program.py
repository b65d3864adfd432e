"""The week's plan in the program: the instance built from the database, the background solve,
edits refused by the hard rules, accept (only adds, refuses when rosters changed), the make-up
page, and who may do what. SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.attendance.models import RosterSeat
from openiop.attendance.selectors import roster_episode_ids, today_board, weekly_lines
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.core.dates import IsoWeek
from openiop.core.errors import Conflict, RuleViolation
from openiop.core.jobs import run_queued
from openiop.episodes.models import Episode
from openiop.planning import services
from openiop.planning.builder import build_week, episode_key, session_key
from openiop.planning.domain.check import check_solution
from openiop.planning.domain.edit import Edit
from openiop.planning.domain.jsonio import instance_from_dict, solution_from_dict
from openiop.planning.models import PlanProposal, ProposalStatus
from openiop.programs.models import Enrollment, GroupSession, Site, Track
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_session,
    make_site,
    make_track,
    make_user,
    page_query_count,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_planner(settings: Any, mfa_passed: None) -> None:
    settings.OPENIOP_PLANNING_SECONDS = 1  # a week this small is planned long before


@dataclass
class Week:
    site: Site
    day: Track
    evening: Track
    director: Any
    clinician: Any
    monday: dt.date
    mon: GroupSession
    wed: GroupSession
    tue_eve: GroupSession
    thu_eve: GroupSession
    sat: GroupSession
    quintessa: Episode
    orlando: Episode
    marisol: Episode


def enroll(site: Site, track: Track, first: str, last: str, start: dt.date) -> Episode:
    patient = make_patient(site, legal_first_name=first, legal_last_name=last)
    episode = make_episode(patient, admission_date=start)
    Enrollment.objects.create(episode=episode, track=track, start_date=start)
    return episode


@pytest.fixture
def week() -> Week:
    """Next week at a fictional clinic: the day track meets twice (6 h of its 9 h minimum), the
    evening track twice in a small room and a large one, and once on Saturday."""
    org = make_org()
    site = make_site(org, name="Riverbend Clinic (fictional)", timezone="America/Chicago")
    big = make_room(site, name="Willow Room", capacity=12)
    small = make_room(site, name="Fern Nook", capacity=2)
    director = make_user(Role.DIRECTOR, sites=[site], org=org, username="director-wren")
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org, username="juniper")
    cover = make_user(Role.CLINICIAN, sites=[site], org=org, username="basil")
    day = make_track(site, name="Adult Day IOP", weekly_minimum_minutes=540)
    evening = make_track(site, name="Adult Evening IOP", weekly_minimum_minutes=540)
    monday = IsoWeek.of(local_today(site.tz)).next().monday
    start = monday - dt.timedelta(days=14)
    mon = make_session(site, clinician, monday, track=day, room=big, title="Morning process")
    wed = make_session(
        site, clinician, monday + dt.timedelta(days=2), track=day, room=big, title="Skills group"
    )
    tue_eve = make_session(
        site, cover, monday + dt.timedelta(days=1), track=evening, room=small,
        at=dt.time(17, 0), title="Evening process",
    )  # fmt: skip
    thu_eve = make_session(
        site, cover, monday + dt.timedelta(days=3), track=evening, room=big,
        at=dt.time(17, 0), title="Evening skills",
    )  # fmt: skip
    sat = make_session(
        site, cover, monday + dt.timedelta(days=5), track=evening, room=big,
        at=dt.time(10, 0), title="Saturday relapse prevention",
    )  # fmt: skip
    quintessa = enroll(site, day, "Quintessa", "Bramblethorn", start)
    orlando = enroll(site, day, "Orlando", "Fenwick-Tumble", start)
    marisol = enroll(site, evening, "Marisol", "Quillfeather", start)
    return Week(
        site, day, evening, director, clinician, monday, mon, wed, tue_eve, thu_eve, sat,
        quintessa, orlando, marisol,
    )  # fmt: skip


def actor(user: Any) -> Actor:
    return Actor(user=user, channel="test", client_addr="local", path="test")


def planned(w: Week) -> PlanProposal:
    proposal = services.proposal_start(site=w.site, week=IsoWeek.of(w.monday), by=actor(w.director))
    run_queued()
    proposal.refresh_from_db()
    return proposal


# --- the instance from the database ---------------------------------------------------------------
def test_the_instance_holds_the_weeks_sessions_patients_minimums_and_rosters(week: Week) -> None:
    w = week
    built = build_week(site=w.site, week=IsoWeek.of(w.monday), today=local_today(w.site.tz))
    inst = built.instance
    assert {p.id for p in inst.patients} == {
        episode_key(e.pk) for e in (w.quintessa, w.orlando, w.marisol)
    }
    assert {p.required_minutes for p in inst.patients} == {540}
    sessions = {s.id: s for s in inst.sessions}
    mon = sessions[session_key(w.mon.pk)]
    assert (mon.start_minute, mon.end_minute) == (9 * 60, 12 * 60)  # clinic-local minutes
    tue = sessions[session_key(w.tue_eve.pk)]
    assert tue.start_minute == 1440 + 17 * 60 and tue.capacity == 2
    # adults may join any adult track's group
    assert set(mon.tracks) == {f"t{w.day.pk}", f"t{w.evening.pk}"}
    fixed = set(inst.fixed.patient_sessions)
    assert (episode_key(w.quintessa.pk), session_key(w.mon.pk)) in fixed
    assert (episode_key(w.marisol.pk), session_key(w.tue_eve.pk)) in fixed
    assert (episode_key(w.quintessa.pk), session_key(w.tue_eve.pk)) not in fixed
    # Saturday lies outside every patient's weekdays
    quintessa = next(p for p in inst.patients if p.id == episode_key(w.quintessa.pk))
    sat = sessions[session_key(w.sat.pk)]
    assert not any(win.covers(sat.start_minute, sat.end_minute) for win in quintessa.availability)


def test_a_discharged_or_other_site_patient_is_not_planned(week: Week) -> None:
    w = week
    w.orlando.status = "discharged"
    w.orlando.save()
    built = build_week(site=w.site, week=IsoWeek.of(w.monday), today=local_today(w.site.tz))
    assert episode_key(w.orlando.pk) not in {p.id for p in built.instance.patients}


# --- plan, edit, accept ----------------------------------------------------------------------------
def test_the_background_job_plans_the_week_within_the_hard_rules(week: Week) -> None:
    proposal = planned(week)
    assert proposal.status == ProposalStatus.DRAFT
    assert proposal.job is not None
    proposal.job.refresh_from_db()
    assert proposal.job.status == "succeeded"
    inst = instance_from_dict(proposal.instance)
    sol = solution_from_dict(proposal.solution)
    assert check_solution(inst, sol) == []
    added = set(sol.patient_sessions) - set(inst.fixed.patient_sessions)
    # both day patients reach 9 h by joining an evening group; the evening patient has 9 h
    assert {p for p, _ in added} == {episode_key(e.pk) for e in (week.quintessa, week.orlando)}
    assert sol.shortfalls == ()
    assert AuditEntry.objects.filter(object_type="plan_proposal", action="create").count() == 1


def _added_session(proposal: PlanProposal, episode: Episode) -> str:
    inst = instance_from_dict(proposal.instance)
    sol = solution_from_dict(proposal.solution)
    added = set(sol.patient_sessions) - set(inst.fixed.patient_sessions)
    return next(s for p, s in sorted(added) if p == episode_key(episode.pk))


def test_an_edit_that_breaks_availability_is_refused_and_the_plan_kept(week: Week) -> None:
    w = week
    proposal = planned(w)
    before = proposal.solution
    source = _added_session(proposal, w.quintessa)
    with pytest.raises(RuleViolation) as refused:
        services.proposal_edit(
            proposal=proposal,
            edit=Edit("move", episode_key(w.quintessa.pk), source, session_key(w.sat.pk)),
            expected_version=proposal.version,
            by=actor(w.director),
        )
    assert "Quintessa Bramblethorn unavailable for Saturday relapse prevention" in str(
        refused.value.message
    )
    proposal.refresh_from_db()
    assert proposal.solution == before


def test_an_edit_beyond_a_rooms_seats_is_refused(week: Week) -> None:
    w = week
    proposal = planned(w)
    tue = session_key(w.tue_eve.pk)
    inst = instance_from_dict(proposal.instance)
    sol = solution_from_dict(proposal.solution)
    on_tue = {p for p, s in sol.patient_sessions if s == tue}
    by = actor(w.director)
    for e in (w.quintessa, w.orlando):
        key = episode_key(e.pk)
        if key in on_tue:
            continue
        if len(on_tue) >= 2:
            with pytest.raises(RuleViolation, match="capacity 2"):
                services.proposal_edit(
                    proposal=proposal, edit=Edit("add", key, "", tue),
                    expected_version=proposal.version, by=by,
                )  # fmt: skip
            break
        services.proposal_edit(
            proposal=proposal, edit=Edit("add", key, "", tue),
            expected_version=proposal.version, by=by,
        )  # fmt: skip
        proposal.refresh_from_db()
        on_tue.add(key)
    else:
        pytest.fail("the two-seat room never filled")
    assert inst  # the instance is unchanged by edits


def test_a_roster_kept_by_the_plan_cannot_be_removed(week: Week) -> None:
    w = week
    proposal = planned(w)
    with pytest.raises(RuleViolation, match="was fixed"):
        services.proposal_edit(
            proposal=proposal,
            edit=Edit("remove", episode_key(w.quintessa.pk), session_key(w.mon.pk)),
            expected_version=proposal.version,
            by=actor(w.director),
        )


def test_a_stale_edit_is_a_conflict(week: Week) -> None:
    w = week
    proposal = planned(w)
    source = _added_session(proposal, w.quintessa)
    with pytest.raises(Conflict):
        services.proposal_edit(
            proposal=proposal,
            edit=Edit("remove", episode_key(w.quintessa.pk), source),
            expected_version=proposal.version - 1 if proposal.version > 1 else 99,
            by=actor(w.director),
        )


def test_accept_adds_the_plans_seats_to_the_rosters_in_one_audited_step(week: Week) -> None:
    w = week
    proposal = planned(w)
    target = _added_session(proposal, w.quintessa)
    session = GroupSession.objects.get(pk=int(target[1:]))
    assert w.quintessa.pk not in roster_episode_ids(session)
    done = services.proposal_accept(
        proposal=proposal, expected_version=proposal.version, by=actor(w.director)
    )
    assert done.status == ProposalStatus.ACCEPTED and done.seats_added == 2
    assert w.quintessa.pk in roster_episode_ids(session)
    assert RosterSeat.objects.filter(source=f"plan {proposal.pk}").count() == 2
    # nobody left a roster
    assert {w.quintessa.pk, w.orlando.pk} <= roster_episode_ids(w.mon)
    # the hours ledger counts the seat: 9 h scheduled
    line = weekly_lines([w.quintessa], [IsoWeek.of(w.monday)], local_today(w.site.tz))
    assert line[w.quintessa.pk][0].scheduled_minutes == 540
    assert AuditEntry.objects.filter(object_type="roster_seat", action="create").count() == 1
    assert (
        AuditEntry.objects.filter(
            object_type="plan_proposal", action="update", detail__status="accepted"
        ).count()
        == 1
    )
    with pytest.raises(RuleViolation):  # an accepted plan cannot be accepted again
        services.proposal_accept(proposal=done, expected_version=done.version, by=actor(w.director))


def test_accept_refuses_when_a_roster_changed_and_changes_nothing(week: Week) -> None:
    w = week
    proposal = planned(w)
    newcomer = enroll(w.site, w.day, "Percival", "Thistlewood", w.monday - dt.timedelta(days=3))
    with pytest.raises(Conflict) as refused:
        services.proposal_accept(
            proposal=proposal, expected_version=proposal.version, by=actor(w.director)
        )
    message = refused.value.message
    assert "Percival Thistlewood joined Morning process" in message
    assert RosterSeat.objects.count() == 0
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT
    assert newcomer.pk


def test_a_week_under_way_is_not_planned(week: Week) -> None:
    w = week
    with pytest.raises(RuleViolation, match="has begun"):
        services.proposal_start(
            site=w.site, week=IsoWeek.of(local_today(w.site.tz)), by=actor(w.director)
        )


def test_a_clinician_may_not_plan(week: Week) -> None:
    from openiop.core.errors import NotPermitted

    with pytest.raises(NotPermitted):
        services.proposal_start(
            site=week.site, week=IsoWeek.of(week.monday), by=actor(week.clinician)
        )


# --- pages ---------------------------------------------------------------------------------------
def test_the_director_plans_edits_and_accepts_from_the_pages(week: Week, client: Any) -> None:
    w = week
    client.force_login(w.director)
    schedule = client.get(reverse("programs:schedule"), {"site": w.site.pk})
    assert reverse("planning:plans") in schedule.content.decode()
    response = client.post(reverse("planning:plans"), {"site": w.site.pk, "week": "", "track": ""})
    assert response.status_code == 302
    proposal = PlanProposal.objects.get()
    fragment = client.get(
        reverse("planning:plan", kwargs={"proposal_id": proposal.pk}),
        headers={"HX-Request": "true"},
    )
    assert 'hx-trigger="every 2s"' in fragment.content.decode()
    run_queued()
    page = client.get(reverse("planning:plan", kwargs={"proposal_id": proposal.pk}))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Quintessa Bramblethorn" in body and "joins" in body
    assert "Everyone reaches their weekly minimum" in body
    proposal.refresh_from_db()
    source = _added_session(proposal, w.quintessa)
    refused = client.post(
        reverse("planning:plan_edit", kwargs={"proposal_id": proposal.pk}),
        {
            "version": proposal.version,
            "op": "move",
            "patient": episode_key(w.quintessa.pk),
            "from_session": source,
            "to_session": session_key(w.sat.pk),
        },
    )
    assert refused.status_code == 422
    assert "unavailable for Saturday relapse prevention" in refused.content.decode()
    accepted = client.post(
        reverse("planning:plan_decide", kwargs={"proposal_id": proposal.pk}),
        {"version": proposal.version, "action": "accept"},
        follow=True,
    )
    assert "Plan accepted: 2 added" in accepted.content.decode()
    target = GroupSession.objects.get(pk=int(source[1:]))
    roster = client.get(reverse("attendance:session", kwargs={"session_id": target.pk}))
    assert "Quintessa Bramblethorn" in roster.content.decode()


@pytest.mark.parametrize("role", [Role.BILLING, Role.INTAKE, Role.CLINICIAN])
def test_other_roles_cannot_open_or_accept_plans(week: Week, client: Any, role: Role) -> None:
    proposal = planned(week)
    user = make_user(role, sites=[week.site], org=week.site.organization)
    client.force_login(user)
    assert client.get(reverse("planning:plans")).status_code == 403
    assert (
        client.get(reverse("planning:plan", kwargs={"proposal_id": proposal.pk})).status_code == 403
    )
    response = client.post(
        reverse("planning:plan_decide", kwargs={"proposal_id": proposal.pk}),
        {"version": proposal.version, "action": "accept"},
    )
    assert response.status_code == 403
    assert RosterSeat.objects.count() == 0


def test_a_director_of_another_organization_cannot_open_or_accept_the_plan(
    week: Week, client: Any
) -> None:
    proposal = planned(week)
    org2 = make_org(name="Elsewhere Health (fictional)", mrn_prefix="EH")
    outsider = make_user(Role.DIRECTOR, sites=[make_site(org2)], org=org2)
    client.force_login(outsider)
    response = client.get(reverse("planning:plan", kwargs={"proposal_id": proposal.pk}))
    assert response.status_code == 403
    response = client.post(
        reverse("planning:plan_decide", kwargs={"proposal_id": proposal.pk}),
        {"version": proposal.version, "action": "accept"},
    )
    assert response.status_code == 403
    assert RosterSeat.objects.count() == 0


def test_the_plan_list_query_count_does_not_grow_with_plans(week: Week, client: Any) -> None:
    client.force_login(week.director)
    url = f"{reverse('planning:plans')}?site={week.site.pk}"
    services.proposal_start(site=week.site, week=IsoWeek.of(week.monday), by=actor(week.director))
    few = page_query_count(client, url)
    for _ in range(4):
        services.proposal_start(
            site=week.site, week=IsoWeek.of(week.monday), by=actor(week.director)
        )
    many = page_query_count(client, url)
    assert many == few
    assert few <= 14, few


# --- make-up -------------------------------------------------------------------------------------
@pytest.fixture
def this_week(week: Week) -> Week:
    """The same clinic with sessions later this week instead: the make-up planner's week."""
    w = week
    shift = IsoWeek.of(local_today(w.site.tz)).monday - w.monday
    for s in GroupSession.objects.all():
        s.date += shift
        s.starts_at += shift
        s.ends_at += shift
        s.save()
    for s in (w.mon, w.wed, w.tue_eve, w.thu_eve, w.sat):
        s.refresh_from_db()
    w.monday = w.monday + shift
    return w


def test_makeup_page_offers_later_sessions_and_adds_to_the_roster(
    this_week: Week, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = this_week
    # the clinic's clock: Monday 13:00, after the morning group
    monday_1pm = dt.datetime.combine(w.monday, dt.time(13, 0), tzinfo=w.site.tz)
    monkeypatch.setattr("openiop.core.clock.now", lambda: monday_1pm)
    monkeypatch.setattr("openiop.planning.selectors.now", lambda: monday_1pm)
    monkeypatch.setattr("openiop.attendance.services.now", lambda: monday_1pm)
    client.force_login(w.clinician)
    page = client.get(reverse("planning:makeup"), {"site": w.site.pk})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Quintessa Bramblethorn" in body and "short 3 h" in body
    assert "Evening skills" in body and "Suggested" in body
    assert (
        "Morning process" not in body.split("Quintessa Bramblethorn", 1)[1].split("</section>")[0]
    )
    response = client.post(
        reverse("planning:makeup"),
        {"site": w.site.pk, "session_id": w.thu_eve.pk, "episode_id": w.quintessa.pk},
    )
    assert response.status_code == 302
    assert w.quintessa.pk in roster_episode_ids(w.thu_eve)
    board = today_board(actor=actor(w.clinician), site=w.site, date=w.thu_eve.date)
    sizes = {t.session.pk: t.roster_size for t in board.sessions}
    assert sizes[w.thu_eve.pk] == 2  # Marisol by enrollment, Quintessa by her seat
    after = client.get(reverse("planning:makeup"), {"site": w.site.pk}).content.decode()
    assert "was added to Evening skills" in after
    assert f'id="p-{w.quintessa.pk}"' not in after  # 9 h now scheduled: nothing to make up


@pytest.mark.parametrize("role", [Role.BILLING, Role.INTAKE])
def test_billing_and_intake_cannot_see_makeup(this_week: Week, client: Any, role: Role) -> None:
    user = make_user(role, sites=[this_week.site], org=this_week.site.organization)
    client.force_login(user)
    assert client.get(reverse("planning:makeup")).status_code == 403
    response = client.post(
        reverse("planning:makeup"),
        {"site": this_week.site.pk, "session_id": this_week.thu_eve.pk,
         "episode_id": this_week.quintessa.pk},
    )  # fmt: skip
    assert response.status_code == 403
    assert RosterSeat.objects.count() == 0
