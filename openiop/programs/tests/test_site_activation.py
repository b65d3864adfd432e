"""Sites and organizations are deactivated, never deleted (issue 13): an inactive one takes no new
work, its records stay readable, and deactivating it waits until nothing is left open there."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from openiop.accounts.domain import Role
from openiop.accounts.services import staff_change_access, staff_create
from openiop.admissions import services as admissions
from openiop.admissions.models import Inquiry
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.episodes.choices import EpisodeStatus
from openiop.episodes.models import Episode
from openiop.episodes.services import episode_open
from openiop.patients.models import Patient
from openiop.patients.services import patient_create
from openiop.programs import services
from openiop.programs.models import Enrollment, GroupSession, Organization, Site, Track
from openiop.testing import make_episode, make_patient, make_session, make_user

TOMORROW = dt.date(2026, 3, 3)  # the clinic's clock is Monday, March 2, 2026, 8:00 in Chicago


def _inactive(site: Site) -> Site:
    """Mark a site inactive directly (as if deactivated earlier), for refusals of new work there."""
    Site.objects.filter(pk=site.pk).update(is_active=False)
    site.refresh_from_db()
    return site


def _inquiry(clinic: Any, site: Site) -> Inquiry:
    return admissions.inquiry_create(
        site=site,
        by=clinic.by,
        channel="call",
        referral_source="self",
        first_name="Quenby",
        last_name="Thistlewaite",
        phone="5550100000",
        concerns="mental_health",
    )


def _register(clinic: Any, site: Site) -> Patient:
    return patient_create(
        organization=clinic.org,
        site=site,
        by=clinic.by,
        legal_first_name="Orrin",
        legal_last_name="Puddingstone",
        date_of_birth=dt.date(1985, 4, 4),
        sex="male",
    )


# --- the migration ------------------------------------------------------------------------------


def test_migration_keeps_existing_sites_and_organizations_active(transactional_db: Any) -> None:
    before = [("programs", "0002_series_date_and_one_open_enrollment")]
    after = [("programs", "0003_site_and_organization_is_active")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    org = old.get_model("programs", "Organization").objects.create(
        name="Old Mill Clinic (fictional)", mrn_prefix="OM"
    )
    old.get_model("programs", "Site").objects.create(organization=org, name="Old Mill (fictional)")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    site = Site.objects.select_related("organization").get(name="Old Mill (fictional)")
    assert site.is_active and site.organization.is_active and site.takes_new_work
    assert list(Site.objects.active()) == [site]
    # Going back to programs 0002 also unapplied every later migration that depends on programs
    # (billing's, for one): apply them all again, or the tests after this one find tables gone.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# --- no new work at an inactive site (the services, for every interface) -------------------------


def test_registering_a_patient_at_an_inactive_site_is_refused(clinic: Any) -> None:
    site = _inactive(clinic.site)
    with pytest.raises(RuleViolation) as exc:
        _register(clinic, site)
    assert exc.value.code == "site_inactive" and exc.value.field == "site"
    assert "Riverbend (fictional) is inactive" in exc.value.message
    assert not Patient.objects.exists()


def test_inquiries_at_an_inactive_site_are_refused_staff_and_public(clinic: Any) -> None:
    site = _inactive(clinic.site)
    with pytest.raises(RuleViolation, match="Riverbend \\(fictional\\) is inactive"):
        _inquiry(clinic, site)
    with pytest.raises(RuleViolation, match="Riverbend \\(fictional\\) is inactive"):
        admissions.inquiry_submit_public(
            site=site,
            by=Actor(user=None, channel="web"),
            for_whom="self",
            first_name="Odalys",
            last_name="Fernwhistle",
            phone="555-010-4545",
            concerns="mental_health",
            age_group="adult",
        )
    assert not Inquiry.objects.exists()


def test_tracks_blocks_and_sessions_at_an_inactive_site_are_refused(clinic: Any) -> None:
    site = _inactive(clinic.site)
    clinic.track.refresh_from_db()
    with pytest.raises(RuleViolation, match="Riverbend \\(fictional\\) is inactive"):
        services.track_create(
            site=site, name="Evening IOP (test)", age_band="adult", capacity=8, by=clinic.by
        )
    with pytest.raises(RuleViolation, match="is inactive"):
        services.sessions_generate(
            track=clinic.track, start=TOMORROW, end=TOMORROW + dt.timedelta(days=13), by=clinic.by
        )
    with pytest.raises(RuleViolation, match="is inactive"):
        services.block_add(
            track=clinic.track,
            weekday=4,
            start_time=dt.time(9, 0),
            duration_minutes=120,
            kind="skills",
            title="Friday skills",
            facilitator=clinic.clinician,
            room=clinic.room,
            valid_from=TOMORROW,
            by=clinic.by,
        )
    assert list(Track.objects.values_list("name", flat=True)) == ["Adult Day IOP (test)"]
    assert not GroupSession.objects.exists()


def test_appointments_enrollments_and_episodes_at_an_inactive_site_are_refused(
    clinic: Any,
) -> None:
    episode = clinic.episode()
    patient = episode.patient
    _inactive(clinic.site)
    episode = Episode.objects.select_related("site", "patient").get(pk=episode.pk)
    with pytest.raises(RuleViolation, match="Riverbend \\(fictional\\) is inactive"):
        services.appointment_book(
            episode=episode,
            facilitator=clinic.clinician,
            kind="individual",
            date=TOMORROW,
            start_time=dt.time(14, 0),
            duration_minutes=50,
            room=None,
            title="",
            by=clinic.by,
        )
    with pytest.raises(RuleViolation, match="is inactive") as exc:
        services.enrollment_start(
            episode=episode, track=clinic.track, start_date=TOMORROW, by=clinic.by
        )
    assert exc.value.field == "track"
    Episode.objects.filter(pk=episode.pk).update(
        status=EpisodeStatus.DISCHARGED, discharge_date=dt.date(2026, 2, 27)
    )
    site = Site.objects.get(pk=clinic.site.pk)
    with pytest.raises(RuleViolation, match="is inactive"):
        episode_open(
            patient=patient,
            site=site,
            focus="mental_health",
            referral_source="self",
            admission_date=TOMORROW,
            level_of_care="2.1",
            by=clinic.by,
        )
    assert not GroupSession.objects.exists() and not Enrollment.objects.exists()
    assert Episode.objects.filter(patient=patient).count() == 1


def test_an_inactive_organization_makes_its_sites_refuse_new_work(clinic: Any) -> None:
    Organization.objects.filter(pk=clinic.org.pk).update(is_active=False)
    site = Site.objects.get(pk=clinic.site.pk)
    assert site.is_active and not site.takes_new_work
    assert not Site.objects.active().exists()
    with pytest.raises(RuleViolation) as exc:
        _register(clinic, site)
    assert exc.value.message.startswith("Lantern Hill Recovery (fictional) is inactive")
    assert "Riverbend (fictional)" in exc.value.message


def test_staff_are_not_added_to_an_inactive_site_but_keep_the_one_they_have(
    clinic: Any,
) -> None:
    other = _inactive(clinic.other_site)
    with pytest.raises(RuleViolation, match="Cedar Hollow \\(fictional\\) is inactive") as exc:
        staff_create(
            username="newcomer",
            role="clinician",
            first_name="Newt",
            last_name="Fernbrook",
            password="a long fictional passphrase 42",
            organization=clinic.org,
            sites=[other],
            by=clinic.by,
        )
    assert exc.value.field == "sites"
    with pytest.raises(RuleViolation, match="Cedar Hollow \\(fictional\\) is inactive"):
        staff_change_access(
            user=clinic.clinician,
            role="clinician",
            sites=[clinic.site, other],
            activate=False,
            reason="cover",
            by=clinic.by,
        )
    veteran = make_user(Role.CLINICIAN, sites=[clinic.site, other], org=clinic.org)
    staff_change_access(
        user=veteran,
        role="case_manager",
        sites=[clinic.site, other],
        activate=False,
        reason="new duties",
        by=clinic.by,
    )
    assert set(veteran.sites.all()) == {clinic.site, other}


# --- deactivating --------------------------------------------------------------------------------


def test_deactivating_a_site_with_open_work_is_refused_with_the_counts(clinic: Any) -> None:
    clinic.episode()
    make_episode(make_patient(clinic.site), status=EpisodeStatus.WAITLISTED)
    make_episode(
        make_patient(clinic.site),
        status=EpisodeStatus.DISCHARGED,
        discharge_date=dt.date(2026, 2, 20),
    )
    make_session(clinic.site, clinic.clinician, TOMORROW)
    make_session(clinic.site, clinic.clinician, dt.date(2026, 2, 27))  # over: not open
    _inquiry(clinic, clinic.site)
    with pytest.raises(RuleViolation) as exc:
        services.site_set_active(site=clinic.site, active=False, by=clinic.by)
    assert exc.value.message == (
        "Riverbend (fictional) still has 2 open episodes, 1 scheduled session to come and 1 open "
        "inquiry: discharge the episodes, cancel the sessions and close the inquiries before "
        "deactivating it."
    )
    assert Site.objects.get(pk=clinic.site.pk).is_active
    assert not AuditEntry.objects.filter(object_type="site").exists()


def test_deactivating_a_site_with_nothing_open_is_audited_and_stops_new_work(
    clinic: Any,
) -> None:
    site = services.site_set_active(site=clinic.other_site, active=False, by=clinic.by)
    assert not site.is_active and not Site.objects.get(pk=site.pk).is_active
    entry = AuditEntry.objects.get(object_type="site")
    assert entry.action == "update" and entry.object_id == str(site.pk)
    assert entry.username == clinic.director.username
    assert entry.detail == {"event": "deactivate", "active": False}
    with pytest.raises(RuleViolation, match="Cedar Hollow \\(fictional\\) is inactive"):
        _register(clinic, site)
    services.site_set_active(site=site, active=True, by=clinic.by)
    assert AuditEntry.objects.filter(object_type="site", detail__event="reactivate").exists()
    assert _register(clinic, Site.objects.get(pk=site.pk)).site_id == site.pk


def test_only_staff_managers_deactivate_a_site(clinic: Any) -> None:
    with pytest.raises(NotPermitted):
        services.site_set_active(
            site=clinic.other_site, active=False, by=Actor(user=clinic.clinician, path="/t")
        )
    assert Site.objects.get(pk=clinic.other_site.pk).is_active


def test_deactivating_an_organization_counts_open_work_at_all_its_sites(clinic: Any) -> None:
    make_episode(make_patient(clinic.other_site))
    make_session(clinic.site, clinic.clinician, TOMORROW)
    with pytest.raises(RuleViolation) as exc:
        services.organization_set_active(organization=clinic.org, active=False, by=clinic.by)
    assert exc.value.message.startswith(
        "Lantern Hill Recovery (fictional) still has 1 open episode and 1 scheduled session to "
        "come: discharge the episodes and cancel the sessions"
    )
    assert Organization.objects.get(pk=clinic.org.pk).is_active


# --- pages: not offered for new work, still readable ---------------------------------------------


def _body(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return str(response.content.decode())


NEW_WORK_PAGES = [
    "patients:create",
    "admissions:inquiry_new",
    "programs:track_create",
    "web:today",
]


@pytest.mark.parametrize("page", NEW_WORK_PAGES)
def test_an_inactive_site_is_not_offered_for_new_work(
    client: Any, clinic: Any, mfa_passed: Any, page: str
) -> None:
    client.force_login(clinic.director)
    url = reverse(page)
    assert "Cedar Hollow (fictional)" in _body(client, url)
    services.site_set_active(site=clinic.other_site, active=False, by=clinic.by)
    assert "Cedar Hollow (fictional)" not in _body(client, url)
    assert "Riverbend (fictional)" in _body(client, url)


def test_the_episode_form_offers_only_active_sites(
    client: Any, clinic: Any, mfa_passed: Any
) -> None:
    patient = make_patient(clinic.site)
    client.force_login(clinic.director)
    url = reverse("episodes:open", kwargs={"patient_id": patient.pk})
    assert "Cedar Hollow (fictional)" in _body(client, url)
    services.site_set_active(site=clinic.other_site, active=False, by=clinic.by)
    assert "Cedar Hollow (fictional)" not in _body(client, url)


def test_enroll_and_booking_pages_offer_nothing_at_an_inactive_site(
    client: Any, clinic: Any, mfa_passed: Any
) -> None:
    episode = clinic.episode()
    client.force_login(clinic.director)
    enroll = reverse("programs:enroll", kwargs={"episode_id": episode.pk})
    assert "Adult Day IOP (test)" in _body(client, enroll)
    _inactive(clinic.site)
    assert "Adult Day IOP (test)" not in _body(client, enroll)
    response = client.post(
        reverse("programs:appointment_book", kwargs={"episode_id": episode.pk}),
        {
            "kind": "individual",
            "facilitator": clinic.clinician.pk,
            "date": TOMORROW.isoformat(),
            "start_time": "14:00",
            "duration_minutes": "50",
            "title": "",
        },
    )
    assert response.status_code == 422
    assert "Riverbend (fictional) is inactive" in response.content.decode()
    assert not GroupSession.objects.exists()


def test_the_public_form_of_an_inactive_site_takes_nothing_but_keeps_the_crisis_lines(
    client: Any, clinic: Any
) -> None:
    _inactive(clinic.site)
    url = reverse("admissions:public_inquiry", kwargs={"site_id": clinic.site.pk})
    body = _body(client, url)
    assert "no longer takes inquiries" in body and "988" in body and "555-0100" in body
    assert "<form" not in body
    client.post(url, {"for_whom": "self", "first_name": "Odalys", "last_name": "Fernwhistle"})
    assert not Inquiry.objects.exists()


def test_the_chart_of_a_patient_at_an_inactive_site_stays_readable(
    client: Any, clinic: Any, mfa_passed: Any
) -> None:
    patient = make_patient(clinic.other_site, legal_first_name="Marigold")
    make_episode(patient, status=EpisodeStatus.DISCHARGED, discharge_date=dt.date(2026, 2, 20))
    services.site_set_active(site=clinic.other_site, active=False, by=clinic.by)
    chart = reverse("patients:chart", kwargs={"patient_id": patient.pk})
    for reader in (clinic.director, make_user(Role.CLINICIAN, sites=[clinic.other_site])):
        client.force_login(reader)
        assert "Marigold" in _body(client, chart)


# --- the set-up pages ----------------------------------------------------------------------------


def _site_form(site: Site, **data: Any) -> dict[str, Any]:
    return {
        "organization": site.organization_id,
        "name": site.name,
        "timezone": site.timezone,
        "address": "",
        "rooms-TOTAL_FORMS": "0",
        "rooms-INITIAL_FORMS": "0",
        **data,
    }


@pytest.fixture
def administrator(clinic: Any) -> Any:
    return make_user(Role.ADMIN, org=clinic.org)


def test_administrator_deactivates_a_site_in_the_set_up_pages(
    client: Any, clinic: Any, administrator: Any, mfa_passed: Any
) -> None:
    client.force_login(administrator)
    url = reverse("admin:programs_site_change", args=[clinic.other_site.pk])
    assert 'name="is_active"' in _body(client, url)
    response = client.post(url, _site_form(clinic.other_site))  # 'Active' unticked
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Site.objects.get(pk=clinic.other_site.pk).is_active
    entry = AuditEntry.objects.get(object_type="site")
    assert entry.username == administrator.username and entry.detail["event"] == "deactivate"
    setup = AuditEntry.objects.get(object_type="setup.site", action="update")
    assert setup.detail["before"] == {"is_active": True}
    assert setup.detail["after"] == {"is_active": False}
    response = client.post(url, _site_form(clinic.other_site, is_active="on"))
    assert response.status_code == 302 and Site.objects.get(pk=clinic.other_site.pk).is_active


def test_set_up_page_refuses_to_deactivate_a_site_with_open_work(
    client: Any, clinic: Any, administrator: Any, mfa_passed: Any
) -> None:
    clinic.episode()
    client.force_login(administrator)
    url = reverse("admin:programs_site_change", args=[clinic.site.pk])
    response = client.post(url, _site_form(clinic.site, name="Riverbend Renamed (fictional)"))
    assert response.status_code == 200
    assert "still has 1 open episode: discharge the episodes" in response.content.decode()
    site = Site.objects.get(pk=clinic.site.pk)
    assert site.is_active and site.name == "Riverbend (fictional)"
    assert not AuditEntry.objects.filter(object_type__in=["site", "setup.site"]).exists()


def test_administrator_deactivates_an_organization_in_the_set_up_pages(
    client: Any, clinic: Any, administrator: Any, mfa_passed: Any
) -> None:
    client.force_login(administrator)
    url = reverse("admin:programs_organization_change", args=[clinic.org.pk])
    form = {"name": clinic.org.name, "mrn_prefix": "LH", "crisis_line": "555-0100"}
    clinic.episode()
    response = client.post(url, form)
    assert response.status_code == 200 and "still has 1 open episode" in response.content.decode()
    assert Organization.objects.get(pk=clinic.org.pk).is_active
    Episode.objects.update(status=EpisodeStatus.DISCHARGED, discharge_date=dt.date(2026, 2, 27))
    response = client.post(url, form)
    assert response.status_code == 302
    assert not Organization.objects.get(pk=clinic.org.pk).is_active
    assert AuditEntry.objects.get(object_type="organization").detail["event"] == "deactivate"
    assert not Site.objects.active().exists()


def test_deleting_a_site_with_history_says_how_to_deactivate_it(
    client: Any, clinic: Any, administrator: Any, mfa_passed: Any
) -> None:
    make_patient(clinic.site)
    client.force_login(administrator)
    response = client.post(
        reverse("admin:programs_site_delete", args=[clinic.site.pk]), {"post": "yes"}, follow=True
    )
    assert "deactivate it instead of deleting it (untick Active and save)" in (
        response.content.decode()
    )
    assert Site.objects.filter(pk=clinic.site.pk).exists()


def test_staff_pages_offer_an_inactive_site_only_to_those_who_already_work_there(
    client: Any, clinic: Any, administrator: Any, mfa_passed: Any
) -> None:
    veteran = make_user(Role.CLINICIAN, sites=[clinic.other_site], org=clinic.org)
    services.site_set_active(site=clinic.other_site, active=False, by=clinic.by)
    client.force_login(administrator)
    assert "Cedar Hollow (fictional)" not in _body(client, reverse("admin:accounts_user_add"))
    newcomer_access = reverse("admin:accounts_user_access", args=[clinic.clinician.pk])
    assert "Cedar Hollow (fictional)" not in _body(client, newcomer_access)
    veteran_access = reverse("admin:accounts_user_access", args=[veteran.pk])
    assert "Cedar Hollow (fictional)" in _body(client, veteran_access)
