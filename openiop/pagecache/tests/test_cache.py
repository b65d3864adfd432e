"""Cached staff pages: served again only while their sites' data is unchanged, to the same person,
and audited on every request as if rendered."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry, AuditEntryPatient
from openiop.episodes.models import Alert
from openiop.pagecache.cache import HEADER
from openiop.programs.models import GroupSession
from openiop.testing import (
    make_episode,
    make_org,
    make_patient,
    make_room,
    make_session,
    make_site,
    make_user,
    postgresql_only,
)

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache
    from django.http import HttpRequest
    from django.test import Client, RequestFactory
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
    from pytest_django import Settings

pytestmark = [pytest.mark.django_db, postgresql_only("pages are cached on PostgreSQL only")]


@pytest.fixture
def clinic() -> dict[str, Any]:
    org = make_org()
    site = make_site(org, name="Larkspur Hollow (fictional)")
    other = make_site(org, name="Quillmoor (fictional)")
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org, last_name="Thistlewood")
    episode = make_episode(
        make_patient(site, legal_first_name="Marigold", legal_last_name="Puddifoot")
    )
    make_session(
        site,
        clinician,
        timezone.localdate(timezone=site.tz),
        episode=episode,
        kind="individual",
        title="Individual therapy",
        at=dt.time(0, 0),  # already started whatever the hour: attendance is refused before
        minutes=50,
    )
    alert = Alert.objects.create(
        patient=episode.patient,
        episode=episode,
        kind="consecutive_absences",
        message="Missed two sessions in a row",
        dedupe_key="cache-test",
    )
    return {
        "org": org,
        "site": site,
        "other": other,
        "clinician": clinician,
        "episode": episode,
        "alert": alert,
    }


def _get(client: Client, url: str) -> Response:
    response = client.get(url)
    assert response.status_code == 200
    return response


def test_today_is_served_from_the_cache_and_audited_on_every_request(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    client.force_login(clinic["clinician"])
    url = reverse("web:today")
    first = _get(client, url)  # sets the CSRF cookie the page's forms use
    second = _get(client, url)
    third = _get(client, url)
    assert first.get(HEADER) is None and second[HEADER] == "miss" and third[HEADER] == "hit"
    assert third.content == second.content
    assert "Missed two sessions in a row" in third.text
    entries = list(AuditEntry.objects.filter(object_type="today").order_by("id"))
    assert len(entries) == 3  # one for each request, the cached one included
    patient = clinic["episode"].patient_id
    for entry in entries:
        assert entry.user_id == clinic["clinician"].pk and entry.path == url
        linked = AuditEntryPatient.objects.filter(entry=entry).values_list("patient_id", flat=True)
        assert list(linked) == [patient]


def test_a_hit_pays_the_session_the_user_the_generation_and_the_audit_entry(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    client.force_login(clinic["clinician"])
    url = reverse("web:today")
    _get(client, url)
    _get(client, url)
    with CaptureQueriesContext(connection) as ctx:
        assert _get(client, url)[HEADER] == "hit"
    sql = [q["sql"] for q in ctx.captured_queries]
    # session with user and sites, generation, the audit entry with its patient links (one INSERT)
    assert len(sql) == 3, sql
    assert "pagecache_datageneration" in sql[1]


def test_a_change_at_the_site_shows_on_the_next_request(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    client.force_login(clinic["clinician"])
    url = reverse("web:today")
    _get(client, url)
    assert "Missed two sessions" in _get(client, url).text
    Alert.objects.filter(pk=clinic["alert"].pk).update(status="acknowledged")
    fresh = _get(client, url)
    assert fresh[HEADER] == "miss"
    assert "Missed two sessions" not in fresh.text


def test_a_change_at_another_site_leaves_the_page_cached(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    client.force_login(clinic["clinician"])
    url = reverse("web:today")
    _get(client, url)
    assert _get(client, url)[HEADER] == "miss"
    make_patient(clinic["other"])  # a patient's details count at every site (site 0)
    assert _get(client, url)[HEADER] == "miss"
    make_room(clinic["other"])  # a room counts only at its own site
    assert _get(client, url)[HEADER] == "hit"


def test_another_person_never_gets_someone_elses_cached_page(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    url = reverse("web:today")
    client.force_login(clinic["clinician"])
    _get(client, url)
    _get(client, url)
    colleague = make_user(
        Role.CLINICIAN, sites=[clinic["site"]], org=clinic["org"], last_name="Bramblecote"
    )
    client.force_login(colleague)  # the same browser: its CSRF cookie is kept
    first = _get(client, url)
    assert first[HEADER] == "miss"
    assert "Bramblecote" in first.text and "Thistlewood" not in first.text.split("<main")[0]
    assert _get(client, url)[HEADER] == "hit"


def test_someone_taken_off_the_site_is_refused_not_served_the_cached_chart(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    url = reverse("patients:chart", kwargs={"patient_id": clinic["episode"].patient_id})
    client.force_login(clinic["clinician"])
    _get(client, url)
    assert _get(client, url)[HEADER] == "miss"
    assert _get(client, url)[HEADER] == "hit"
    clinic["clinician"].sites.set([clinic["other"]])
    assert client.get(url).status_code == 403


def test_a_waiting_message_and_htmx_requests_are_never_cached(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    client.force_login(clinic["clinician"])
    url = reverse("web:today")
    _get(client, url)
    session = client.session
    session["_messages"] = "[]"
    session.save()
    assert _get(client, url).get(HEADER) is None
    assert client.get(url, headers={"HX-Request": "true"}).get(HEADER) is None


def test_nothing_is_cached_with_the_cache_turned_off(
    client: Client, page_cache: BaseCache, settings: Settings, clinic: dict[str, Any]
) -> None:
    settings.OPENIOP_PAGE_CACHE = False
    client.force_login(clinic["clinician"])
    url = reverse("web:today")
    for _ in range(3):
        assert _get(client, url).get(HEADER) is None


def test_attendance_taken_on_the_roster_shows_on_the_cached_today_page(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    """Through the web, as a clinician works: Today cached, the roster's 'All present', Today again."""
    client.force_login(clinic["clinician"])
    today_url = reverse("web:today")
    _get(client, today_url)
    assert "0 of 1 recorded" in _get(client, today_url).text
    assert _get(client, today_url)[HEADER] == "hit"
    session = GroupSession.objects.get(site=clinic["site"], title="Individual therapy")
    roster = reverse("attendance:session", kwargs={"session_id": session.pk})
    assert client.post(roster, {"action": "all_present"}).status_code == 302
    _get(client, roster)  # shows (and consumes) the "Marked 1 present" message
    after = _get(client, today_url)
    assert after[HEADER] == "miss" and "1 of 1 recorded" in after.text


def test_a_form_on_a_page_served_from_the_cache_posts_with_its_csrf_token(
    clinic: dict[str, Any],
) -> None:
    """The cached page carries the CSRF token of the browser it was rendered for, and that
    browser's POST from it passes Django's CSRF check."""
    import re

    from django.core.cache import caches
    from django.test import Client, override_settings

    from openiop.pagecache.cache import CACHE_ALIAS

    caches[CACHE_ALIAS].clear()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clinic["clinician"])
    url = reverse("web:today")
    with override_settings(OPENIOP_PAGE_CACHE=True):
        browser.get(url)
        browser.get(url)
        page = browser.get(url)
    assert page[HEADER] == "hit"
    ack = reverse("attendance:alert_ack", kwargs={"alert_id": clinic["alert"].pk})
    form = page.text[page.text.index(f'action="{ack}"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    answer = browser.post(ack, {"csrfmiddlewaretoken": token.group(1), "next": url})
    assert answer.status_code == 302
    clinic["alert"].refresh_from_db()
    assert clinic["alert"].status != "open"
    assert browser.post(ack, {"csrfmiddlewaretoken": "x" * 64}).status_code == 403


def test_the_audit_log_keeps_its_shell_per_user_and_path_and_shows_fresh_results(
    client: Client, page_cache: BaseCache
) -> None:
    org = make_org()
    site = make_site(org)
    patient = make_patient(site, legal_last_name="Fernsby")
    auditor = make_user(Role.AUDITOR, sites=[site], org=org, last_name="Quillfeather")
    other = make_user(Role.AUDITOR, sites=[site], org=org, last_name="Bramblewick")
    url = reverse("audit:log") + f"?patient={patient.mrn}"
    client.force_login(auditor)
    _get(client, reverse("audit:log"))  # the CSRF cookie a shell is keyed by
    first = _get(client, url).text
    assert "No audit entries match these filters." in first
    assert f'value="{patient.mrn}"' in first and "Quillfeather" in first
    shells = len(page_cache._cache)  # type: ignore[attr-defined]  # LocMemCache's store
    assert shells == 1  # the warm-up had no CSRF cookie yet, so kept no shell
    second = _get(client, url).text  # the first search is now in the patient's log
    assert len(page_cache._cache) == shells  # type: ignore[attr-defined]  # the same shell, not a new one
    assert "No audit entries match" not in second and "Searched" in second
    assert f'value="{patient.mrn}"' in second
    client.force_login(other)
    theirs = _get(client, url).text
    assert "Bramblewick" in theirs and "Quillfeather ·" not in theirs


def test_a_page_served_from_the_cache_carries_fresh_form_tokens(
    rf: RequestFactory, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    """A form's token is single-use per render (openiop.core.submissions): two people's tabs, or
    two visits, served the same cached page must not share one."""
    from django.http import HttpResponse

    from openiop.core.submissions import FIELD, submission_input
    from openiop.pagecache.cache import cached_page

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"<form>{submission_input()}</form><form>{submission_input()}</form>")

    page = cached_page(view)

    def visit() -> HttpResponse:
        request = rf.get("/fake/")
        request.COOKIES["csrftoken"] = "fixed-csrf-secret"
        request.user = clinic["clinician"]
        request.session = {}  # type: ignore[assignment]  # a plain dict stands in for the session
        return page(request)

    first, second = visit(), visit()
    assert (first[HEADER], second[HEADER]) == ("miss", "hit")
    tokens = re.findall(
        rf'name="{FIELD}" value="([^"]+)"', (first.content + second.content).decode()
    )
    assert len(tokens) == 4 and len(set(tokens)) == 4


def test_an_alert_waiting_for_the_user_at_another_of_their_sites_shows_on_the_cached_today(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    """Today lists the user's own open safety alerts at every site they work at, so a change at
    any of those sites makes the cached page stale (the key sums all their sites)."""
    from openiop.measures.models import SafetyAlert

    both = make_user(Role.CLINICIAN, sites=[clinic["site"], clinic["other"]], org=clinic["org"])
    client.force_login(both)
    url = reverse("web:today") + f"?site={clinic['site'].pk}"
    _get(client, url)
    assert _get(client, url)[HEADER] == "miss"
    assert _get(client, url)[HEADER] == "hit"
    far = make_episode(
        make_patient(clinic["other"], legal_first_name="Tamsin", legal_last_name="Larkrise")
    )
    fresh = _get(client, url)  # a patient counts at every site: rendered again, nothing waiting
    assert "Larkrise" not in fresh.text
    SafetyAlert.objects.create(
        patient=far.patient,
        episode=far,
        reason="clinician_flag",
        risk_level="high",
        message="Plan disclosed on the phone.",
        owner=both,
    )
    shown = _get(client, url)
    assert shown[HEADER] == "miss"
    assert "Tamsin Larkrise" in shown.text and "Quillmoor (fictional)" in shown.text


def test_a_drug_test_ordered_shows_on_the_cached_today_page(
    client: Client, page_cache: BaseCache, clinic: dict[str, Any]
) -> None:
    """Today counts the drug tests due at the user's sites (issue 18.5): an order written after the
    page was cached makes it stale (the drugtests tables are counted by the triggers)."""
    from openiop.drugtests.models import DrugTestOrder

    client.force_login(clinic["clinician"])
    today_url = reverse("web:today")
    _get(client, today_url)
    assert "No tests due" in _get(client, today_url).text
    assert _get(client, today_url)[HEADER] == "hit"
    episode = clinic["episode"]
    DrugTestOrder.objects.create(
        patient=episode.patient,
        episode=episode,
        kind="poc_cup",
        reason="random",
        ordered_by=clinic["clinician"],
        ordered_at=timezone.now(),
        part2=episode.part2_protected,
    )
    after = _get(client, today_url)
    assert after[HEADER] == "miss" and "1 from the random draw" in after.text
