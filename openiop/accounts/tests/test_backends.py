"""The per-request user lookup reads the user's sites in the same query, and sees changes at once."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.accounts.backends import StaffBackend
from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.testing import make_org, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


def test_get_user_reads_the_sites_in_one_query_and_the_checks_need_none() -> None:
    org = make_org()
    east, west = make_site(org, name="East (fictional)"), make_site(org, name="West (fictional)")
    user = make_user(Role.CLINICIAN, sites=[east, west], org=org)
    with CaptureQueriesContext(connection) as ctx:
        loaded = StaffBackend().get_user(user.pk)
        assert loaded is not None
        assert loaded.site_ids() == {east.pk, west.pk}
    assert len(ctx.captured_queries) == 1


def test_a_user_without_sites_has_none_and_a_change_shows_on_the_next_lookup() -> None:
    org = make_org()
    site = make_site(org)
    user = make_user(Role.CLINICIAN, org=org)
    loaded = StaffBackend().get_user(user.pk)
    assert loaded is not None and loaded.site_ids() == set()
    user.sites.add(site)
    again = StaffBackend().get_user(user.pk)
    assert again is not None and again.site_ids() == {site.pk}


def test_an_inactive_or_unknown_user_is_not_loaded() -> None:
    user = make_user(Role.CLINICIAN)
    user.is_active = False
    user.save()
    assert StaffBackend().get_user(user.pk) is None
    assert StaffBackend().get_user(999_999) is None


def test_a_session_loads_in_one_query_and_an_unknown_or_expired_key_loads_nothing() -> None:
    from openiop.accounts.backends import SessionStore

    store = SessionStore()
    store["colour"] = "teal"
    store.save()
    with CaptureQueriesContext(connection) as ctx:
        assert SessionStore(store.session_key).load() == {"colour": "teal"}
    assert len(ctx.captured_queries) == 1
    assert SessionStore("nosuchkey12345678").load() == {}
    store.set_expiry(timezone.now() - dt.timedelta(seconds=1))
    store.save()
    assert SessionStore(store.session_key).load() == {}


def _session_queries(client: Client, path: str = "/patients/") -> tuple[Response, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response, [q["sql"] for q in ctx.captured_queries]


def test_the_session_names_its_user_and_one_query_reads_both(client: Client) -> None:
    from openiop.accounts.models import StaffSession

    org = make_org()
    site = make_site(org)
    user = make_user(Role.CLINICIAN, sites=[site], org=org)
    client.force_login(user)
    row = StaffSession.objects.get(session_key=client.session.session_key)
    assert row.user_id == user.pk
    client.get("/patients/")  # renews the session
    response, sql = _session_queries(client)
    assert response.status_code == 200
    assert sum("accounts_staffsession" in q for q in sql) == 1
    assert sum("FROM accounts_user u" in q or 'FROM "accounts_user"' in q for q in sql) == 0
    assert cast(User, response.wsgi_request.user).site_ids() == {site.pk}


def test_a_user_read_with_the_session_is_still_refused_when_inactive_or_their_password_changed(
    client: Client,
) -> None:
    org = make_org()
    site = make_site(org)
    user = make_user(Role.CLINICIAN, sites=[site], org=org)
    client.force_login(user)
    assert client.get("/patients/").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/patients/").status_code == 302  # to the login page
    user.is_active = True
    user.save(update_fields=["is_active"])
    client.force_login(user)
    assert client.get("/patients/").status_code == 200
    user.set_password("a-new-long-passphrase-for-tests")
    user.save(update_fields=["password"])
    assert client.get("/patients/").status_code == 302  # the session hash no longer matches


def test_a_change_of_sites_shows_on_the_next_request(client: Client) -> None:
    org = make_org()
    east, west = make_site(org, name="East (fictional)"), make_site(org, name="West (fictional)")
    user = make_user(Role.CLINICIAN, sites=[east], org=org)
    client.force_login(user)
    assert cast(User, client.get("/patients/").wsgi_request.user).site_ids() == {east.pk}
    user.sites.add(west)
    assert cast(User, client.get("/patients/").wsgi_request.user).site_ids() == {east.pk, west.pk}
