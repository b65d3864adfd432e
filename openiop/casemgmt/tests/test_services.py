"""Every write of case management: its rules, its permission check and its audit entry."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.casemgmt import services
from openiop.casemgmt.models import Referral, SupportRequest
from openiop.casemgmt.tests.conftest import Casework
from openiop.core.errors import Conflict, NotPermitted, RuleViolation
from openiop.core.part2 import unmarked_part2_rows
from openiop.episodes.choices import TreatmentFocus
from openiop.testing import make_session, make_user

pytestmark = pytest.mark.django_db


# --- the directory ---------------------------------------------------------------------------
def test_a_case_manager_adds_and_edits_a_resource_audited(cw: Casework) -> None:
    r = services.resource_create(
        site=cw.site, kind="food", name="  Acorn Pantry (fictional) ", phone="555-0101", by=cw.cm
    )
    assert r.name == "Acorn Pantry (fictional)" and r.active
    services.resource_update(
        resource=r,
        expected_version=1,
        kind="food",
        name=r.name,
        hours="Sat 9-12",
        active=False,
        by=cw.cm,
    )
    r.refresh_from_db()
    assert (r.hours, r.active, r.version) == ("Sat 9-12", False, 2)
    entries = AuditEntry.objects.filter(
        object_type="community_resource", user_id=cw.case_manager.pk
    )
    assert list(entries.order_by("id").values_list("action", flat=True)) == ["create", "update"]
    with pytest.raises(Conflict):
        services.resource_update(resource=r, expected_version=1, kind="food", name="x", by=cw.cm)


def test_a_resource_needs_a_name_and_a_kind(cw: Casework) -> None:
    with pytest.raises(RuleViolation) as e:
        services.resource_create(site=cw.site, kind="food", name="   ", by=cw.cm)
    assert e.value.field == "name"
    with pytest.raises(RuleViolation) as e:
        services.resource_create(site=cw.site, kind="spaceship", name="x", by=cw.cm)
    assert e.value.field == "kind"


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.INTAKE, Role.BILLING, Role.PRESCRIBER])
def test_roles_without_case_management_are_refused_and_audited(cw: Casework, role: Role) -> None:
    user = make_user(role, sites=[cw.site], org=cw.org)
    episode = cw.patient()
    with pytest.raises(NotPermitted):
        services.resource_create(site=cw.site, kind="food", name="x", by=cw.actor(user))
    with pytest.raises(NotPermitted):
        services.referral_create(episode=episode, resource=cw.resource(), by=cw.actor(user))
    assert AuditEntry.objects.filter(user_id=user.pk, outcome="denied").count() == 2
    assert not Referral.objects.exists()


def test_a_case_manager_of_another_site_is_refused(cw: Casework) -> None:
    elsewhere = make_user(Role.CASE_MANAGER, sites=[cw.other_site], org=cw.org)
    episode = cw.patient()
    with pytest.raises(NotPermitted):
        services.referral_create(episode=episode, resource=cw.resource(), by=cw.actor(elsewhere))
    with pytest.raises(NotPermitted):
        services.resource_create(site=cw.site, kind="food", name="x", by=cw.actor(elsewhere))
    assert AuditEntry.objects.filter(
        user_id=elsewhere.pk, outcome="denied", patient_id=episode.patient_id
    ).exists()


# --- referrals -------------------------------------------------------------------------------
def test_a_referral_of_a_substance_use_episode_is_part2(cw: Casework) -> None:
    sud = cw.patient("Marigold", focus=TreatmentFocus.SUBSTANCE_USE)
    mh = cw.patient("Tobias", focus=TreatmentFocus.MENTAL_HEALTH)
    resource = cw.resource()
    a = services.referral_create(episode=sud, resource=resource, by=cw.cm)
    b = services.referral_create(episode=mh, resource=resource, by=cw.cm)
    assert (a.part2, b.part2) == (True, False)
    assert a.status == "proposed"
    assert not unmarked_part2_rows(Referral).exists()
    entry = AuditEntry.objects.get(object_type="referral", object_id=str(a.pk), action="create")
    assert entry.patient_id == sud.patient_id


def test_a_referral_moves_by_the_rules_and_keeps_its_outcome(cw: Casework) -> None:
    referral = services.referral_create(episode=cw.patient(), resource=cw.resource(), by=cw.cm)
    follow = cw.today + dt.timedelta(days=14)
    services.referral_update(
        referral=referral,
        status="sent",
        follow_up_on=follow,
        outcome="",
        expected_version=1,
        by=cw.cm,
    )
    with pytest.raises(RuleViolation) as e:
        services.referral_update(
            referral=referral,
            status="completed",
            follow_up_on=follow,
            outcome="",
            expected_version=2,
            by=cw.cm,
        )
    assert e.value.field == "status"
    for status, version in (("accepted", 2), ("completed", 3)):
        services.referral_update(
            referral=referral,
            status=status,
            follow_up_on=follow,
            outcome="Moved in on Friday.",
            expected_version=version,
            by=cw.cm,
        )
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.follow_up_on) == (
        "completed",
        "Moved in on Friday.",
        follow,
    )
    updates = AuditEntry.objects.filter(object_type="referral", action="update")
    assert [u.detail["status"] for u in updates.order_by("id")] == [
        ["proposed", "sent"],
        ["sent", "accepted"],
        ["accepted", "completed"],
    ]
    assert not any("Moved in" in str(u.detail) for u in updates)  # no patient text in the log


def test_a_referral_needs_an_active_resource_of_the_patients_site(cw: Casework) -> None:
    episode = cw.patient()
    for resource in (cw.resource(active=False), cw.resource(site=cw.other_site)):
        with pytest.raises(RuleViolation) as e:
            services.referral_create(episode=episode, resource=resource, by=cw.cm)
        assert e.value.field == "resource"


# --- tasks -----------------------------------------------------------------------------------
def test_a_task_goes_on_a_case_managers_list_and_is_done_once(cw: Casework) -> None:
    episode = cw.patient()
    task = services.task_create(
        site=cw.site,
        owner=cw.case_manager,
        title="Call Juniper House about a bed",
        due_on=cw.today,
        episode=episode,
        by=cw.actor(cw.director),
    )
    assert task.part2 and task.patient_id == episode.patient_id
    services.task_set_done(task=task, done=True, by=cw.cm)
    services.task_set_done(task=task, done=True, by=cw.cm)  # a second click changes nothing
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == cw.case_manager
    assert AuditEntry.objects.filter(object_type="case_task", action="update").count() == 1


def test_a_task_owner_must_do_case_management_at_the_site(cw: Casework) -> None:
    elsewhere = make_user(Role.CASE_MANAGER, sites=[cw.other_site], org=cw.org)
    for owner in (cw.clinician, elsewhere):
        with pytest.raises(RuleViolation) as e:
            services.task_create(site=cw.site, owner=owner, title="t", due_on=cw.today, by=cw.cm)
        assert e.value.field == "owner"


# --- rides and childcare ---------------------------------------------------------------------
def _ride(cw: Casework, episode: object, session: object, **kw: object) -> SupportRequest:
    values: dict[str, object] = {
        "kind": "transportation",
        "pickup_address": "7 Hollyhock Row",
        "pickup_time": dt.time(22, 15),
    }
    values.update(kw)
    return services.support_request_create(
        episode=episode,  # type: ignore[arg-type]
        session=session,  # type: ignore[arg-type]
        by=cw.cm,
        **values,  # type: ignore[arg-type]
    )


def test_a_ride_is_booked_for_one_session_at_clinic_time(cw: Casework) -> None:
    episode = cw.patient()
    session = cw.sessions[1]
    ride = _ride(cw, episode, session)
    assert ride.part2 and ride.status == "requested"
    local = ride.pickup_at.astimezone(cw.site.tz)  # type: ignore[union-attr]
    assert (local.date(), local.time()) == (session.date, dt.time(22, 15))
    services.support_request_set_status(request=ride, status="booked", expected_version=1, by=cw.cm)
    ride.refresh_from_db()
    assert ride.status == "booked"
    assert (
        AuditEntry.objects.filter(
            object_type="support_request", patient_id=episode.patient_id
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("not_on_roster", "session"),
        ("cancelled_session", "session"),
        ("past_session", "session"),
        ("no_address", "pickup_address"),
        ("pickup_after_start", "pickup_time"),
    ],
)
def test_a_ride_is_refused_when_it_cannot_serve_the_session(
    cw: Casework, change: str, field: str
) -> None:
    episode = cw.patient()
    session = cw.sessions[1]
    kw: dict[str, object] = {}
    if change == "not_on_roster":
        session = make_session(cw.site, cw.clinician, cw.today + dt.timedelta(days=1))
    elif change == "cancelled_session":
        session.status = "cancelled"
        session.save()
    elif change == "past_session":
        session = make_session(
            cw.site, cw.clinician, cw.today - dt.timedelta(days=1), track=cw.track
        )
    elif change == "no_address":
        kw["pickup_address"] = " "
    else:
        kw["pickup_time"] = dt.time(23, 30)
    with pytest.raises(RuleViolation) as e:
        _ride(cw, episode, session, **kw)
    assert e.value.field == field
    assert not SupportRequest.objects.exists()


def test_one_live_request_per_session_patient_and_kind(cw: Casework) -> None:
    episode = cw.patient()
    first = _ride(cw, episode, cw.sessions[1])
    with pytest.raises(RuleViolation) as e:
        _ride(cw, episode, cw.sessions[1])
    assert e.value.code == "request_exists"
    _ride(cw, episode, cw.sessions[1], kind="childcare", pickup_address="")  # another kind: fine
    services.support_request_set_status(
        request=first, status="cancelled", expected_version=1, by=cw.cm
    )
    _ride(cw, episode, cw.sessions[1])  # once cancelled, a new one may be asked for
    with pytest.raises(RuleViolation):
        services.support_request_set_status(
            request=first, status="booked", expected_version=2, by=cw.cm
        )


def test_a_clinician_cannot_book_a_ride(cw: Casework) -> None:
    with pytest.raises(NotPermitted):
        services.support_request_create(
            episode=cw.patient(),
            session=cw.sessions[1],
            kind="childcare",
            by=cw.actor(cw.clinician),
        )
    assert AuditEntry.objects.filter(user_id=cw.clinician.pk, outcome="denied").exists()
